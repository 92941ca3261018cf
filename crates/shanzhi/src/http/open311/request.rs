//! The read side of requests: GET requests (by ids, service codes, dates, status, page),
//! GET requests/{id}, and the servicerequestupdates feed. Our eight states map to the spec's
//! open and closed; notices and expected times come from the current stage's deadline.

use std::collections::HashMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;
use shanzhi_domain::event::State as EvState;
use shanzhi_store::open311::{RequestFilter, RequestRow};
use shanzhi_store::StoreError;

use super::reply::{Format, Open311Error, Open311Result, Reply};
use super::xml::Node;
use super::{
    base_url, date, file_of, jurisdiction, respond, Lang, Params, DAY_MS, MAX_PAGE_SIZE,
    MAX_SPAN_DAYS,
};
use crate::http::state::AppState;

/// The spec's two statuses: a request is closed once verified and closed, refused or merged
/// into another; everything before that is open ("closed" is not "fixed" in the loop either,
/// but a reopened order moves back to an open state).
pub fn status_of(state: &str) -> &'static str {
    match EvState::parse(state) {
        Some(EvState::Closed | EvState::Rejected | EvState::Merged) => "closed",
        _ => "open",
    }
}

fn states_with(status: &str) -> Vec<String> {
    EvState::ALL
        .iter()
        .map(|s| s.as_str())
        .filter(|s| status_of(s) == status)
        .map(str::to_owned)
        .collect()
}

fn stage_name(state: &str, lang: Lang) -> Option<&'static str> {
    let zh = lang == Lang::Zh;
    Some(match EvState::parse(state)? {
        EvState::Reported => {
            if zh {
                "受理"
            } else {
                "acceptance"
            }
        }
        EvState::Accepted => {
            if zh {
                "派单"
            } else {
                "dispatch"
            }
        }
        EvState::Dispatched => {
            if zh {
                "部门签收"
            } else {
                "signing for it"
            }
        }
        EvState::InProgress => {
            if zh {
                "办理"
            } else {
                "handling"
            }
        }
        EvState::Resolved => {
            if zh {
                "核查"
            } else {
                "verification"
            }
        }
        _ => return None,
    })
}

/// What the current stage's deadline says, while a request is open.
fn stage_notice(state: &str, due_at: Option<i64>, lang: Lang) -> Option<String> {
    let (stage, due) = (stage_name(state, lang)?, due_at?);
    Some(match lang {
        Lang::Zh => format!("当前环节：{stage}，时限 {}", date::local_minutes(due)),
        Lang::En => format!(
            "Now at {stage}, due {} (China time)",
            date::local_minutes(due)
        ),
    })
}

fn agency(r: &RequestRow, lang: Lang) -> Option<String> {
    r.department.clone().or_else(|| {
        r.centre_name.as_ref().map(|n| match lang {
            Lang::Zh => format!("{n}社会治理中心"),
            Lang::En => format!("{n} governance centre"),
        })
    })
}

/// The attributes of a request as `extended_attributes` (the GeoReport v2 extensions that
/// servers such as Chicago's answer with `extensions=true`): one `{code, value}` per value.
fn extended_attributes(r: &RequestRow) -> Node {
    let given: Value = serde_json::from_str(&r.attributes).unwrap_or(Value::Null);
    let mut items = Vec::new();
    if let Value::Object(m) = given {
        for (code, v) in m {
            let values = match v {
                Value::Array(list) => list,
                one => vec![one],
            };
            for v in values {
                let text = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                items.push(Node::Obj(vec![
                    ("code", Node::Text(code.clone())),
                    ("value", Node::Text(text)),
                ]));
            }
        }
    }
    Node::Obj(vec![("attributes", Node::List("attribute", items))])
}

/// A request as the spec lists it; with `extensions`, its attributes too.
fn request_node(r: &RequestRow, base: &str, lang: Lang, extensions: bool) -> Node {
    let status = status_of(&r.state);
    let open = status == "open";
    let updated = if open {
        r.updated_at
    } else {
        r.closed_at.unwrap_or(r.updated_at)
    };
    let media = match &r.photo {
        Some(hash) => Some(format!("{base}/media/{hash}")),
        None => r.media_url.clone(),
    };
    let mut node = Node::Obj(vec![
        ("service_request_id", Node::Text(r.id.to_string())),
        ("status", Node::text(status)),
        ("status_notes", Node::opt(r.status_note.clone())),
        ("service_name", Node::text(&r.service_name)),
        ("service_code", Node::text(&r.service_code)),
        ("description", Node::text(&r.description)),
        ("agency_responsible", Node::opt(agency(r, lang))),
        (
            "service_notice",
            Node::opt(if open {
                stage_notice(&r.state, r.due_at, lang)
            } else {
                None
            }),
        ),
        ("requested_datetime", Node::Text(date::format(r.created_at))),
        ("updated_datetime", Node::Text(date::format(updated))),
        (
            "expected_datetime",
            Node::opt(if open {
                r.due_at.map(date::format)
            } else {
                None
            }),
        ),
        ("address", Node::opt(r.address.clone())),
        ("address_id", Node::opt(r.address_id.clone())),
        ("zipcode", Node::Null),
        // A request filed by address only has no position until a dispatcher sets one.
        ("lat", position(r, r.lat)),
        ("long", position(r, r.lon)),
        ("media_url", Node::opt(media)),
    ]);
    if extensions {
        if let Node::Obj(fields) = &mut node {
            fields.push(("extended_attributes", extended_attributes(r)));
        }
    }
    node
}

fn position(r: &RequestRow, v: f64) -> Node {
    if r.position_known {
        Node::Float(v)
    } else {
        Node::Null
    }
}

/// `extensions=true` asks for the attributes (the extensions' flag; anything else is false).
fn extensions(params: &Params) -> bool {
    params.get("extensions") == Some("true")
}

fn int_param(
    params: &Params,
    name: &str,
    default: i64,
    max: i64,
    format: Format,
) -> Open311Result<i64> {
    match params.get(name) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Open311Error::bad_request(
                format,
                format!("{name}: must be a whole number from 1 to {max}"),
            )),
        },
    }
}

fn date_param(params: &Params, name: &str, format: Format) -> Open311Result<Option<i64>> {
    match params.get(name) {
        None => Ok(None),
        Some(v) => date::parse(v).map(Some).ok_or_else(|| {
            Open311Error::bad_request(
                format,
                format!("{name}: '{v}' is not a W3C datetime such as 2010-01-01T00:00:00Z"),
            )
        }),
    }
}

/// `[start, end]` of a query: the spec's most recent 90 days by default, at most 90 days.
fn date_range(app: &AppState, params: &Params, format: Format) -> Open311Result<(i64, i64)> {
    let span = MAX_SPAN_DAYS * DAY_MS;
    let (start, end) = match (
        date_param(params, "start_date", format)?,
        date_param(params, "end_date", format)?,
    ) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s + span),
        (None, Some(e)) => (e - span, e),
        (None, None) => {
            let now = app.clock.now_ms();
            (now - span, now)
        }
    };
    if start > end {
        return Err(Open311Error::bad_request(
            format,
            "start_date: must not be after end_date",
        ));
    }
    if end - start > span {
        return Err(Open311Error::bad_request(
            format,
            format!("start_date, end_date: may not span more than {MAX_SPAN_DAYS} days"),
        ));
    }
    Ok((start, end))
}

pub(super) async fn list_requests(
    app: &AppState,
    format: Format,
    params: &Params,
    headers: &HeaderMap,
) -> Open311Result<Reply> {
    let under = jurisdiction(app, params.get("jurisdiction_id"), format).await?;
    let page = int_param(params, "page", 1, 1_000_000, format)?;
    let page_size = int_param(params, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE, format)?;
    let mut f = RequestFilter {
        under: under.map(|c| c.path().to_owned()),
        limit: page_size,
        offset: (page - 1) * page_size,
        ..RequestFilter::default()
    };
    let ids = params.list("service_request_id");
    if !ids.is_empty() {
        // The ids override every other argument.
        if ids.len() > MAX_PAGE_SIZE as usize {
            return Err(Open311Error::bad_request(
                format,
                format!("service_request_id: at most {MAX_PAGE_SIZE} ids"),
            ));
        }
        for id in ids {
            let n = id.parse::<i64>().map_err(|_| {
                Open311Error::bad_request(
                    format,
                    format!("service_request_id: '{id}' is not a request id"),
                )
            })?;
            f.ids.push(n);
        }
    } else {
        f.service_codes = params
            .list("service_code")
            .into_iter()
            .map(str::to_owned)
            .collect();
        let statuses = params.list("status");
        let mut wanted: Vec<&str> = Vec::new();
        for s in statuses {
            let s = match s.to_ascii_lowercase().as_str() {
                "open" => "open",
                "closed" => "closed",
                _ => {
                    return Err(Open311Error::bad_request(
                        format,
                        format!("status: '{s}' is not open or closed"),
                    ))
                }
            };
            if !wanted.contains(&s) {
                wanted.push(s);
            }
        }
        if wanted.len() == 1 {
            f.states = states_with(wanted[0]);
        }
        let (start, end) = date_range(app, params, format)?;
        f.from_ms = Some(start);
        f.to_ms = Some(end);
    }
    let rows = shanzhi_store::open311::requests(&app.db, &f)
        .await
        .map_err(|e| Open311Error::from_store(format, e))?;
    let (base, lang) = (base_url(headers), Lang::of(headers));
    let ext = extensions(params);
    let items = rows
        .iter()
        .map(|r| request_node(r, &base, lang, ext))
        .collect();
    Ok(Reply::ok(
        format,
        "service_requests",
        Node::List("request", items),
    ))
}

pub(super) async fn one_request(
    State(app): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let (id, format) = file_of(path)?;
            let params = Params::parse(q.as_deref(), format)?;
            super::check_key(&app, &params, format).await?;
            let under = jurisdiction(&app, params.get("jurisdiction_id"), format).await?;
            let missing =
                || Open311Error::not_found(format, format!("service_request_id '{id}' not found"));
            let n = id.parse::<i64>().map_err(|_| missing())?;
            let f = RequestFilter {
                ids: vec![n],
                under: under.map(|c| c.path().to_owned()),
                limit: 1,
                ..RequestFilter::default()
            };
            let rows = shanzhi_store::open311::requests(&app.db, &f)
                .await
                .map_err(|e| Open311Error::from_store(format, e))?;
            let row = rows.first().ok_or_else(missing)?;
            // A list of one, as the spec shows and clients expect.
            let item = request_node(
                row,
                &base_url(&headers),
                Lang::of(&headers),
                extensions(&params),
            );
            Ok(Reply::ok(
                format,
                "service_requests",
                Node::List("request", vec![item]),
            ))
        }
        .await,
    )
}

/// What a change of state says in the updates feed.
fn update_text(
    action: &str,
    to_state: &str,
    department: Option<&str>,
    note: Option<&str>,
    lang: Lang,
) -> String {
    let zh = lang == Lang::Zh;
    let phrase = match (action, EvState::parse(to_state)) {
        ("report", _) => {
            if zh {
                "已收到".to_owned()
            } else {
                "Received".to_owned()
            }
        }
        (_, Some(EvState::Accepted)) if action == "accept" => {
            if zh {
                "已受理".into()
            } else {
                "Accepted".into()
            }
        }
        (_, Some(EvState::Accepted)) => {
            if zh {
                "重新办理".into()
            } else {
                "Reopened".into()
            }
        }
        (_, Some(EvState::Dispatched)) => match (department, zh) {
            (Some(d), true) => format!("已派单至{d}"),
            (Some(d), false) => format!("Dispatched to {d}"),
            (None, true) => "已派单".into(),
            (None, false) => "Dispatched".into(),
        },
        (_, Some(EvState::InProgress)) => {
            if zh {
                "正在办理".into()
            } else {
                "Being handled".into()
            }
        }
        (_, Some(EvState::Resolved)) => {
            if zh {
                "已办结，待核查".into()
            } else {
                "Handled, awaiting verification".into()
            }
        }
        (_, Some(EvState::Closed)) => {
            if zh {
                "已核查结案".into()
            } else {
                "Verified and closed".into()
            }
        }
        (_, Some(EvState::Rejected)) => {
            if zh {
                "不予受理".into()
            } else {
                "Not accepted".into()
            }
        }
        (_, Some(EvState::Merged)) => {
            if zh {
                "与重复上报合并办理".into()
            } else {
                "Merged with a duplicate report".into()
            }
        }
        _ => to_state.to_owned(),
    };
    match note {
        Some(n) if zh => format!("{phrase}：{n}"),
        Some(n) => format!("{phrase}: {n}"),
        None => phrase,
    }
}

pub(super) async fn updates(
    app: &AppState,
    format: Format,
    params: &Params,
    headers: &HeaderMap,
) -> Open311Result<Reply> {
    let under = jurisdiction(app, params.get("jurisdiction_id"), format).await?;
    let page = int_param(params, "page", 1, 1_000_000, format)?;
    let page_size = int_param(params, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE, format)?;
    let (start, end) = date_range(app, params, format)?;
    let err = |e| Open311Error::from_store(format, e);
    let rows = shanzhi_store::open311::updates(
        &app.db,
        start,
        end,
        under.as_ref().map(|c| c.path()),
        page_size,
        (page - 1) * page_size,
    )
    .await
    .map_err(err)?;
    let lang = Lang::of(headers);
    let mut departments: HashMap<i64, Option<String>> = HashMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for u in &rows {
        let department = match serde_json::from_str::<Value>(&u.data)
            .ok()
            .and_then(|d| d["department_id"].as_i64())
        {
            Some(id) if u.action == "dispatch" || u.action == "summon" => {
                match departments.get(&id) {
                    Some(known) => known.clone(),
                    None => {
                        let name = match shanzhi_store::department::get(&app.db, id).await {
                            Ok(d) => Some(d.name),
                            Err(StoreError::NotFound) => None,
                            Err(e) => return Err(err(e)),
                        };
                        departments.insert(id, name.clone());
                        name
                    }
                }
            }
            _ => None,
        };
        items.push(Node::Obj(vec![
            ("update_id", Node::Text(u.id.to_string())),
            ("service_request_id", Node::Text(u.event_id.to_string())),
            ("status", Node::text(status_of(&u.to_state))),
            ("updated_datetime", Node::Text(date::format(u.at))),
            (
                "description",
                Node::Text(update_text(
                    &u.action,
                    &u.to_state,
                    department.as_deref(),
                    u.note.as_deref(),
                    lang,
                )),
            ),
            ("media_url", Node::Null),
        ]));
    }
    Ok(Reply::ok(
        format,
        "service_request_updates",
        Node::List("request_update", items),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_to_the_two_statuses_of_the_spec() {
        for s in EvState::ALL {
            let expected = if matches!(s, EvState::Closed | EvState::Rejected | EvState::Merged) {
                "closed"
            } else {
                "open"
            };
            assert_eq!(status_of(s.as_str()), expected, "{s:?}");
        }
        assert_eq!(
            states_with("closed"),
            vec!["rejected".to_owned(), "closed".into(), "merged".into()]
        );
    }
}
