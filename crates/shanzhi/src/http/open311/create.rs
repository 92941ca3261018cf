//! POST requests: an Open311 service request becomes an event of the closed loop.
//!
//! The body may be the spec's `application/x-www-form-urlencoded`, `multipart/form-data` with
//! photos in `media` parts, or a JSON object for convenience; parameters may also come in the
//! query string. The api_key names a registered client, whose citizen-role service account
//! files the report through [`crate::event::report`], so validation, location, clocks,
//! counters, audit and idempotency are the loop's own. The submitter's contact fields are
//! stored beside the event and never logged.
//!
//! Retries: the idempotency key is derived from the client, a hash of the normalized body and
//! a time bucket of [`REPLAY_WINDOW_MS`]. A retry in the same bucket meets the loop's own
//! (user, key) deduplication; a retry just past a bucket boundary finds the previous bucket's
//! event if it is younger than the window. So a client retrying the same body within the
//! window makes one event, and the same body sent again much later is a new report.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, StatusCode};
use sha2::{Digest, Sha256};
use shanzhi_domain::event::photo::{sniff, MAX_PHOTOS};
use shanzhi_domain::grid::LonLat;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Role;
use shanzhi_store::open311::{Contact, NewRequest};
use shanzhi_store::StoreError;

use super::reply::{Format, Open311Error, Open311Result, Reply};
use super::xml::Node;
use super::{date, form, jurisdiction, ratelimit, service, service_by_code, Lang};
use crate::event::{self as loop_service, Report};
use crate::http::extract::actor_of;
use crate::http::state::AppState;

/// How long a retry of the same body by the same client maps to the same event.
pub const REPLAY_WINDOW_MS: i64 = 10 * 60 * 1000;
/// Most fields in one request.
const MAX_FIELDS: usize = 200;

/// The parameters of a POST: repeated values kept in order, empty ones dropped.
#[derive(Default)]
struct Fields {
    map: BTreeMap<String, Vec<String>>,
    media: Vec<Bytes>,
}

impl Fields {
    fn push(&mut self, k: &str, v: &str, format: Format) -> Open311Result<()> {
        if v.trim().is_empty() {
            return Ok(());
        }
        // The description is kept byte for byte (a client reads back what it sent); other
        // fields are codes, numbers and one-line values whose surrounding spaces mean nothing.
        let v = if k == "description" { v } else { v.trim() };
        // No field needs control characters other than line breaks and tabs, and a NUL would
        // not even fit in a PostgreSQL text column.
        let control = |s: &str| {
            s.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        };
        if control(k) || control(v) {
            return Err(Open311Error::bad_request(
                format,
                format!("{}: control characters are not allowed", k.escape_debug()),
            ));
        }
        if self.map.values().map(Vec::len).sum::<usize>() >= MAX_FIELDS {
            return Err(Open311Error::bad_request(
                format,
                format!("too many fields (at most {MAX_FIELDS})"),
            ));
        }
        self.map.entry(k.to_owned()).or_default().push(v.to_owned());
        Ok(())
    }

    /// A field that takes one value (the same value twice counts once).
    fn one(&self, k: &str, format: Format) -> Open311Result<Option<&str>> {
        match self.map.get(k).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([v]) => Ok(Some(v)),
            Some([first, rest @ ..]) if rest.iter().all(|v| v == first) => Ok(Some(first)),
            Some(_) => Err(Open311Error::bad_request(
                format,
                format!("{k}: given more than once with different values"),
            )),
        }
    }

    /// `attribute[CODE]` and `attribute[CODE][]` values by code.
    fn attributes(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, vs) in &self.map {
            let Some(rest) = k.strip_prefix("attribute[") else {
                continue;
            };
            let Some((code, tail)) = rest.split_once(']') else {
                continue;
            };
            if tail.is_empty() || tail == "[]" {
                out.entry(code.to_owned())
                    .or_default()
                    .extend(vs.iter().cloned());
            }
        }
        out
    }

    /// SHA-256 of everything but the api_key, in a canonical order, photos included.
    fn digest(&self) -> String {
        let mut h = Sha256::new();
        let mut canonical: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (k, vs) in &self.map {
            if k != "api_key" {
                let mut vs: Vec<&str> = vs.iter().map(String::as_str).collect();
                if k.ends_with("[]") {
                    vs.sort_unstable();
                }
                canonical.insert(k, vs);
            }
        }
        h.update(
            serde_json::to_string(&canonical)
                .unwrap_or_default()
                .as_bytes(),
        );
        for m in &self.media {
            h.update(Sha256::digest(m));
        }
        hex::encode(h.finalize())
    }
}

async fn read_fields<S: Send + Sync>(
    app: &S,
    req: Request,
    format: Format,
) -> Open311Result<Fields> {
    let mut fields = Fields::default();
    let bad = |what: String| Open311Error::bad_request(format, what);
    if let Some(q) = req.uri().query() {
        for (k, v) in form::urlencoded(q.as_bytes()).map_err(|e| bad(e.0))? {
            fields.push(&k, &v, format)?;
        }
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let too_large = |status: StatusCode| status == StatusCode::PAYLOAD_TOO_LARGE;
    if content_type.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, app)
            .await
            .map_err(|e| bad(format!("cannot read the multipart body: {}", e.body_text())))?;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if too_large(e.status()) => {
                    return Err(bad(format!(
                        "the body is larger than {} MB",
                        super::POST_LIMIT / 1024 / 1024
                    )))
                }
                Err(e) => {
                    return Err(bad(format!(
                        "cannot read the multipart body: {}",
                        e.body_text()
                    )))
                }
            };
            let name = field.name().unwrap_or("").to_owned();
            if name == "media" || name == "media[]" {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| bad(format!("cannot read media: {}", e.body_text())))?;
                if !bytes.is_empty() {
                    if fields.media.len() >= MAX_PHOTOS {
                        return Err(bad(format!("media: at most {MAX_PHOTOS} files")));
                    }
                    fields.media.push(bytes);
                }
            } else if field.file_name().is_some() {
                return Err(bad(format!(
                    "{name}: files are accepted only in 'media' parts"
                )));
            } else {
                // Read as bytes: multer's text() would replace broken UTF-8 silently.
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| bad(format!("{name}: {}", e.body_text())))?;
                let text = form::text(&bytes, &name).map_err(|e| bad(e.0))?;
                fields.push(&name, &text, format)?;
            }
        }
        return Ok(fields);
    }
    let json = content_type.starts_with("application/json");
    if !(json
        || content_type.is_empty()
        || content_type.starts_with("application/x-www-form-urlencoded"))
    {
        return Err(bad(format!(
            "unsupported Content-Type '{content_type}': send application/x-www-form-urlencoded, multipart/form-data or application/json"
        )));
    }
    let body = Bytes::from_request(req, app).await.map_err(|e| {
        if too_large(e.status()) {
            bad(format!(
                "the body is larger than {} MB",
                super::POST_LIMIT / 1024 / 1024
            ))
        } else {
            bad(format!("cannot read the body: {}", e.body_text()))
        }
    })?;
    let pairs = if json {
        form::json_object(&body)
    } else {
        form::urlencoded(&body)
    };
    for (k, v) in pairs.map_err(|e| bad(e.0))? {
        fields.push(&k, &v, format)?;
    }
    Ok(fields)
}

/// A contact field: at most `max` characters on one line.
fn contact_field(
    fields: &Fields,
    name: &str,
    max: usize,
    format: Format,
) -> Open311Result<Option<String>> {
    let Some(v) = fields.one(name, format)? else {
        return Ok(None);
    };
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Open311Error::bad_request(
            format,
            format!("{name}: must be one line of at most {max} characters"),
        ));
    }
    Ok(Some(v.to_owned()))
}

fn contact(fields: &Fields, format: Format) -> Open311Result<Contact> {
    let email = contact_field(fields, "email", 254, format)?;
    if let Some(e) = &email {
        let ok = e.split('@').count() == 2
            && !e.starts_with('@')
            && !e.ends_with('@')
            && !e.chars().any(char::is_whitespace);
        if !ok {
            return Err(Open311Error::bad_request(
                format,
                "email: not an email address",
            ));
        }
    }
    let phone = contact_field(fields, "phone", 40, format)?;
    if phone
        .as_ref()
        .is_some_and(|p| !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)))
    {
        return Err(Open311Error::bad_request(
            format,
            "phone: digits, spaces and + - ( ) only",
        ));
    }
    Ok(Contact {
        email,
        first_name: contact_field(fields, "first_name", 100, format)?,
        last_name: contact_field(fields, "last_name", 100, format)?,
        phone,
        device_id: contact_field(fields, "device_id", 128, format)?,
        account_id: contact_field(fields, "account_id", 128, format)?,
    })
}

fn coordinate(v: &str, name: &str, format: Format) -> Open311Result<f64> {
    v.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| Open311Error::bad_request(format, format!("{name}: '{v}' is not a number")))
}

/// Files a service request; answers `[{service_request_id, service_notice, account_id}]`.
pub async fn create(app: &AppState, format: Format, req: Request) -> Open311Result<Reply> {
    let lang = Lang::of(req.headers());
    let fields = read_fields(app, req, format).await?;
    let store_err = |e: StoreError| Open311Error::from_store(format, e);

    // Who is asking: a registered client with an api_key, within its rate.
    let Some(api_key) = fields.one("api_key", format)? else {
        return Err(Open311Error::forbidden(
            format,
            "api_key was not provided: POST requests needs a registered client's api_key",
        ));
    };
    let key_hash = super::key_hash(api_key);
    let client = match shanzhi_store::open311::client_by_key_hash(&app.db, &key_hash)
        .await
        .map_err(store_err)?
    {
        Some(c) if !c.disabled => c,
        _ => {
            return Err(Open311Error::forbidden(
                format,
                "invalid api_key: no registered client has it",
            ))
        }
    };
    let now = app.clock.now_ms();
    ratelimit::take(&key_hash, client.rate_per_minute, now)
        .map_err(|wait| Open311Error::too_many(format, wait))?;
    let account = shanzhi_store::user::get(&app.db, client.user_id)
        .await
        .map_err(store_err)?;
    if account.disabled || account.role != Role::Citizen.as_str() {
        return Err(Open311Error::forbidden(
            format,
            "this api_key's service account is disabled; ask the administrator",
        ));
    }
    let actor = actor_of(app, &account)
        .await
        .map_err(|e| Open311Error::from_api(format, e))?;

    // What, where, and by whom.
    let within = jurisdiction(app, fields.one("jurisdiction_id", format)?, format).await?;
    let Some(code) = fields.one("service_code", format)? else {
        return Err(Open311Error::bad_request(
            format,
            "service_code was not provided",
        ));
    };
    let category = service_by_code(app, code, format).await?;
    let (lat, long) = (fields.one("lat", format)?, fields.one("long", format)?);
    let address_string = fields.one("address_string", format)?;
    let address_id = contact_field(&fields, "address_id", 128, format)?;
    let place = match (lat, long) {
        (Some(lat), Some(long)) => {
            let at = LonLat::parse(
                coordinate(long, "long", format)?,
                coordinate(lat, "lat", format)?,
            )
            .map_err(|e| Open311Error::bad_request(format, format!("lat/long: {e}")))?;
            check_position(app, at, within.as_ref(), format)?;
            Place::At(at)
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Open311Error::bad_request(
                format,
                "lat & long: both must be sent",
            ))
        }
        // An address alone: no geocoder offline, so the request goes to the jurisdiction's
        // centre, whose dispatcher sets the position.
        (None, None) if address_string.is_some() || address_id.is_some() => {
            Place::Unknown(region_of_address(app, within, format).await?)
        }
        (None, None) => {
            return Err(Open311Error::bad_request(
                format,
                "a location is required: send lat & long, or address_string or address_id",
            ))
        }
    };
    let applied = service::apply(&category, &fields.attributes(), format)?;
    let contact = contact(&fields, format)?;
    let media_url = fields.one("media_url", format)?.map(str::to_owned);
    if let Some(u) = &media_url {
        let ok = (u.starts_with("http://") || u.starts_with("https://"))
            && u.len() <= 2000
            && !u.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(Open311Error::bad_request(
                format,
                "media_url: must be an http or https URL",
            ));
        }
    }
    // The description as sent, byte for byte; attributes are stored apart from it.
    let description = match fields.one("description", format)? {
        Some(d) => d.to_owned(),
        None => category.name.clone(),
    };
    loop_service::check_description(&description).map_err(|e| Open311Error::from_api(format, e))?;
    let address = address_string.map(str::to_owned);

    // Photos are stored under their hash before the report that names them.
    let mut photos = Vec::with_capacity(fields.media.len());
    for m in &fields.media {
        let ct = sniff(m).map_err(|e| Open311Error::bad_request(format, format!("media: {e}")))?;
        let hash = hex::encode(Sha256::digest(m));
        shanzhi_store::event::insert_photo(&app.db, &hash, ct, m, account.id, now)
            .await
            .map_err(store_err)?;
        photos.push(hash);
    }

    let idempotency_key = replay_key(app, &client, account.id, &fields.digest(), now).await?;
    let (lon, lat, unknown_position_in) = match place {
        Place::At(at) => (at.lon(), at.lat(), None),
        Place::Unknown(region) => (0.0, 0.0, Some(region)),
    };
    let report = Report {
        category_id: category.id,
        description,
        lon,
        lat,
        address,
        photos,
        idempotency_key,
        source: Some("open311".into()),
        unknown_position_in,
        attached: Default::default(),
    };
    let (row, created) = loop_service::report(app, &actor, &report)
        .await
        .map_err(|e| Open311Error::from_api(format, e))?;
    let extra = NewRequest {
        event_id: row.id,
        client_id: client.id,
        contact: contact.clone(),
        address_id,
        media_url,
        attributes: applied.json,
    };
    // Written after the event (the loop commits its own transaction); a retry heals a gap.
    shanzhi_store::open311::record_request(&app.db, &app.pii, &extra, Some(account.id), now)
        .await
        .map_err(store_err)?;
    tracing::info!(
        event_id = row.id,
        client_id = client.id,
        created,
        "open311 request filed"
    );

    let notice = match (lang, row.due_at) {
        (Lang::Zh, Some(due)) => format!(
            "已收到，将于 {} 前受理。{}。",
            date::local_minutes(due),
            service::deadlines(&category, lang)
        ),
        (Lang::En, Some(due)) => format!(
            "Received; it will be accepted by {} (China time). {}.",
            date::local_minutes(due),
            service::deadlines(&category, lang)
        ),
        (_, None) => service::deadlines(&category, lang),
    };
    let item = Node::Obj(vec![
        ("service_request_id", Node::Text(row.id.to_string())),
        ("service_notice", Node::Text(notice)),
        ("account_id", Node::opt(contact.account_id)),
    ]);
    Ok(Reply::ok(
        format,
        "service_requests",
        Node::List("request", vec![item]),
    )
    .header("idempotent-replay", if created { "false" } else { "true" }))
}

/// Where a request is: a position, or only an address in a region.
enum Place {
    At(LonLat),
    Unknown(NodeCode),
}

/// The position must lie in a grid of this server, and in the jurisdiction when one is named.
fn check_position(
    app: &AppState,
    at: LonLat,
    within: Option<&NodeCode>,
    format: Format,
) -> Open311Result<()> {
    let Some(found) = app.locator.current().locate(at) else {
        return Err(Open311Error::bad_request(format, "lat/long: the position is outside the jurisdiction of this server: no grid contains it"));
    };
    if let (Some(j), Ok(grid)) = (within, NodeCode::parse(&found.code)) {
        if !j.contains(&grid) {
            return Err(Open311Error::bad_request(
                format,
                format!("lat/long: the position is outside jurisdiction {j}"),
            ));
        }
    }
    Ok(())
}

/// The region a request with only an address is filed under: its jurisdiction, or with none
/// named, the top region of this server when there is only one.
async fn region_of_address(
    app: &AppState,
    within: Option<NodeCode>,
    format: Format,
) -> Open311Result<NodeCode> {
    if let Some(j) = within {
        return Ok(j);
    }
    let roots = shanzhi_store::node::roots(&app.db)
        .await
        .map_err(|e| Open311Error::from_store(format, e))?;
    match roots.as_slice() {
        [one] => Ok(one.code.clone()),
        _ => Err(Open311Error::bad_request(
            format,
            "jurisdiction_id is required with an address alone: this server serves several regions and has no geocoder",
        )),
    }
}

/// The idempotency key for this body now: the previous bucket's, when it made an event less
/// than [`REPLAY_WINDOW_MS`] ago, else the current bucket's.
async fn replay_key(
    app: &AppState,
    client: &shanzhi_store::open311::Client,
    user_id: i64,
    digest: &str,
    now: i64,
) -> Open311Result<String> {
    let bucket = now.div_euclid(REPLAY_WINDOW_MS);
    let key = |b: i64| format!("open311:{}:{b}:{digest}", client.id);
    let previous = key(bucket - 1);
    let err = |e| Open311Error::from_store(Format::Xml, e);
    if let Some(id) = shanzhi_store::event::idempotent(&app.db, user_id, &previous)
        .await
        .map_err(err)?
    {
        let first = shanzhi_store::event::get(&app.db, id).await.map_err(err)?;
        if now - first.created_at < REPLAY_WINDOW_MS {
            return Ok(previous);
        }
    }
    Ok(key(bucket))
}

/// Reads a POST body as [`create`] does, with no server around it: the entry point of the
/// `open311_form` fuzz target. The number of fields and media read, or the 400's description.
pub async fn read_body(content_type: &str, body: Vec<u8>) -> Result<usize, String> {
    let req = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(body))
        .map_err(|e| e.to_string())?;
    let fields = read_fields(&(), req, Format::Json)
        .await
        .map_err(|e| e.description)?;
    Ok(fields.map.len() + fields.media.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        let mut f = Fields::default();
        for (k, v) in pairs {
            f.push(k, v, Format::Xml).unwrap();
        }
        f
    }

    #[test]
    fn the_digest_ignores_the_key_and_the_order_of_fields() {
        let a = fields(&[
            ("api_key", "one"),
            ("service_code", "gas"),
            ("lat", "22.785"),
            ("attribute[affected][]", "traffic"),
            ("attribute[affected][]", "children"),
        ]);
        let b = fields(&[
            ("attribute[affected][]", "children"),
            ("lat", "22.785"),
            ("attribute[affected][]", "traffic"),
            ("service_code", "gas"),
            ("api_key", "two"),
        ]);
        assert_eq!(a.digest(), b.digest());
        let c = fields(&[("service_code", "gas"), ("lat", "22.786")]);
        assert_ne!(a.digest(), c.digest());
    }

    #[test]
    fn attribute_fields_are_read_by_code_and_empty_values_are_absent() {
        let f = fields(&[
            ("attribute[severity]", "minor"),
            ("attribute[affected][]", "traffic"),
            ("attribute[affected][]", "elderly"),
            ("email", " "),
            ("attribute[bad", "x"),
        ]);
        let a = f.attributes();
        assert_eq!(a["severity"], vec!["minor"]);
        assert_eq!(a["affected"], vec!["traffic", "elderly"]);
        assert_eq!(a.len(), 2);
        assert_eq!(f.one("email", Format::Xml).unwrap(), None);
        let twice = fields(&[("lat", "1"), ("lat", "2")]);
        assert!(twice.one("lat", Format::Xml).is_err());
    }
}
