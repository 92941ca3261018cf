//! The closed loop as the application runs it: load, ask the domain, compute the clocks, save
//! in one transaction. Used by the HTTP handlers, the deadline sweep and the demo.

use std::collections::HashMap;

use serde_json::{json, Value};
use shanzhi_domain::calendar::{Light, WorkCalendar};
use shanzhi_domain::event::figures::Counters;
use shanzhi_domain::event::state::{
    centre_level, first_stage, GridStage, Summoned, DEFAULT_BOUNCE_LIMIT,
};
use shanzhi_domain::event::{transition, Action, EventState, Refusal, State, Transition};
use shanzhi_domain::grid::LonLat;
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::{Actor, Role, Scope};
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::category::Category;
use shanzhi_store::event::{
    Attached, EventRow, LogEntry, MoveWrites, NewEvent, NewNotification, ReportWrite, StatDelta,
    StatRows,
};
use shanzhi_store::StoreError;

use crate::calendar::{calendar, day_of, YELLOW_SHARE};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::reference::Snapshot;

/// The domain's view of a stored event.
pub fn state_of(row: &EventRow, category: &Category) -> Result<EventState, ApiError> {
    let bad = |what: &str| ApiError::internal(anyhow::anyhow!("event {} has a bad {what}", row.id));
    Ok(EventState {
        id: row.id,
        state: State::parse(&row.state).ok_or_else(|| bad("state"))?,
        grid: NodeCode::parse(&row.grid_code).map_err(|_| bad("grid"))?,
        centre: NodeCode::parse(&row.centre_code).map_err(|_| bad("centre"))?,
        reporter_id: row.reporter_id,
        department_id: row.department_id,
        summoned: serde_json::from_str::<Vec<Summoned>>(&row.summoned)
            .map_err(|_| bad("summoned list"))?,
        on_spot_allowed: category.on_spot,
        returns: row.returns,
        decision_required: row.decision_required,
        pending_extension: row.pending_extension,
        rated: row.rating.is_some(),
        grid_stage: GridStage::from_parts(row.grid_stage.as_deref(), row.taken_by)
            .map_err(|_| bad("grid stage"))?,
    })
}

/// Maps a domain refusal to the API's answer.
pub fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::Forbidden(why) => ApiError::forbidden(why),
        Refusal::WrongState(why) => ApiError::conflict(Some("state"), why),
        Refusal::Invalid { field, reason } => ApiError::invalid(field, reason),
    }
}

/// When the light of a stage running from `start` to `due` turns yellow.
fn yellow_at(cal: &WorkCalendar, start: i64, due: i64) -> i64 {
    cal.yellow_at(start, due, YELLOW_SHARE)
}

/// Starts a stage clock of `minutes` working minutes at `now` on the row.
fn start_clock(row: &mut EventRow, cal: &WorkCalendar, now: i64, minutes: i64) {
    let due = cal.add_working_minutes(now, minutes);
    row.stage_started_at = now;
    row.due_at = Some(due);
    row.light = "green".into();
    row.red_since = None;
    row.supervision = "none".into();
    row.next_check_at = Some(yellow_at(cal, now, due));
}

fn stop_clock(row: &mut EventRow) {
    row.due_at = None;
    row.next_check_at = None;
}

/// Who reports, by role.
fn source_of(role: Role) -> &'static str {
    match role {
        Role::GridWorker => "patrol",
        Role::Citizen => "citizen",
        Role::Handler => "department",
        _ => "hotline",
    }
}

/// A report as the API received it.
#[derive(Debug, Clone)]
pub struct Report {
    pub category_id: i64,
    pub description: String,
    pub lon: f64,
    pub lat: f64,
    pub address: Option<String>,
    pub photos: Vec<String>,
    pub idempotency_key: String,
    /// Overrides the source the reporter's role implies (Open311 clients, imports).
    pub source: Option<String>,
    /// The position is unknown (an Open311 request that named only an address): the event is
    /// filed under this region and held by its centre, `lon`/`lat` are ignored, and a
    /// dispatcher sets the position later with [`locate`].
    pub unknown_position_in: Option<NodeCode>,
    /// Written in the report's own transaction when the report is new: the visit it was
    /// found on, the hotline caller.
    pub attached: Attached,
}

/// Longest description, in characters: GeoReport v2's limit, so that every Open311 request
/// fits, and the same for every other way in.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;

/// Checks a description and returns the complaint, one sentence for every way in. It is
/// stored as sent (not trimmed), so a client reads back exactly what it wrote.
pub fn check_description(d: &str) -> Result<(), ApiError> {
    if d.trim().is_empty() {
        return Err(ApiError::invalid("description", "must not be empty"));
    }
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    if d.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::invalid(
            "description",
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Files a report: locates it, starts its accept clock, counts it. A retry with the same
/// idempotency key returns the first event and creates nothing (`created` is false); the same
/// key with a different report is refused (422), since the client has mixed up its keys and
/// answering with the first event would silently lose the second report.
pub async fn report(
    app: &AppState,
    actor: &Actor,
    r: &Report,
) -> Result<(EventRow, bool), ApiError> {
    let (row, created) = file_report(app, actor, r).await?;
    if !created && !same_report(&row, r) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "this Idempotency-Key was already used for a different report; use a new key for a new report",
        ));
    }
    if created {
        // The risk rules watching reports. The report stands whatever they do; a burst they
        // miss here is found by the sweep from the counters.
        if let Err(e) = crate::risk::rule::after_report(app, &row).await {
            tracing::warn!(error = %e.message, event = row.id, "risk rules after a report failed");
        }
    }
    Ok((row, created))
}

/// Is `row` (made earlier under the same key) the report `r`? Category, text (byte for byte),
/// address and position as sent (the position to the metre: clients may round differently on
/// a retry), or the region a report without a position was filed under.
fn same_report(row: &EventRow, r: &Report) -> bool {
    let near = |a: f64, b: f64| (a - b).abs() < 1e-5;
    let address = r
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let same_place = match &r.unknown_position_in {
        // Filed by address only: the region it went to stands for the position.
        Some(region) => row.grid_code == region.as_str(),
        None => near(row.lon, r.lon) && near(row.lat, r.lat),
    };
    row.category_id == r.category_id
        && row.description == r.description
        && row.address.as_deref() == address
        && same_place
}

async fn file_report(
    app: &AppState,
    actor: &Actor,
    r: &Report,
) -> Result<(EventRow, bool), ApiError> {
    if actor.role == Role::Leader || actor.role == Role::Analyst {
        return Err(ApiError::forbidden(
            "leaders and analysts read; they do not file reports",
        ));
    }
    let key = r.idempotency_key.trim();
    if key.is_empty() || key.len() > 128 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            Some("Idempotency-Key".into()),
            "an Idempotency-Key header of 1 to 128 visible ASCII characters is required",
        ));
    }
    let description = r.description.as_str();
    check_description(description)?;
    let control = |t: &str| {
        t.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    };
    if r.address.as_deref().is_some_and(control) {
        return Err(ApiError::invalid(
            "address",
            "must not contain control characters",
        ));
    }
    let address = r
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    if address.as_ref().is_some_and(|a| a.chars().count() > 200) {
        return Err(ApiError::invalid(
            "address",
            "must be at most 200 characters",
        ));
    }
    if r.photos.len() > shanzhi_domain::event::photo::MAX_PHOTOS {
        return Err(ApiError::invalid("photos", "at most 9 photos"));
    }
    let at = match &r.unknown_position_in {
        Some(_) => None,
        None => Some(LonLat::parse(r.lon, r.lat)?),
    };
    let reference = app.reference.with_category(&app.db, r.category_id).await?;
    let checked = check_report(app, actor, &reference, r, at).await;
    // A retry must not fail on checks that passed the first time (the grid or the actor's
    // scope may have changed since): on a refusal, look the key up before refusing. On the
    // happy path the group commit finds repeated keys itself, so this costs no read.
    let (category, grid, village) = match checked {
        Ok(x) => x,
        Err(e) => match replay(app, actor.user_id, key).await? {
            Some(existing) => return Ok((existing, false)),
            None => return Err(e),
        },
    };
    let now = app.clock.now_ms();
    let (accept, _, _) = reference.clocks(category, centre_level(&village).as_str());
    // 网格接单: the jurisdiction's setting is read only for categories that go to the grid.
    let jurisdiction = if category.grid_first {
        shanzhi_store::grid_first::nearest(&app.db, &grid).await?
    } else {
        None
    };
    let stage = first_stage(
        category.grid_first,
        jurisdiction,
        grid.is_grid(),
        actor.role,
    );
    let source = match &r.source {
        Some(s) => s.clone(),
        None => source_of(actor.role).to_owned(),
    };
    let mut row = EventRow {
        id: 0,
        category_id: category.id,
        grid_code: grid.as_str().to_owned(),
        centre_code: village.as_str().to_owned(),
        centre_path: village.path().to_owned(),
        state: State::Reported.as_str().to_owned(),
        source,
        description: description.to_owned(),
        address,
        lon: at.map_or(0.0, |p| p.lon()),
        lat: at.map_or(0.0, |p| p.lat()),
        position_known: at.is_some(),
        reporter_id: Some(actor.user_id),
        department_id: None,
        priority: category.priority,
        summoned: "[]".into(),
        returns: 0,
        reopened: 0,
        reminders: 0,
        escalations: 0,
        decision_required: false,
        pending_extension: None,
        rating: None,
        rating_comment: None,
        rated_at: None,
        merged_into: None,
        stage_started_at: now,
        due_at: None,
        light: "green".into(),
        supervision: "none".into(),
        overdue_ever: false,
        red_since: None,
        next_check_at: None,
        created_at: now,
        updated_at: now,
        closed_at: None,
        version: 1,
        grid_stage: stage.map(|s| s.as_str().to_owned()),
        taken_by: None,
    };
    start_clock(&mut row, &reference.calendar, now, accept);
    let log = LogEntry {
        actor_id: Some(actor.user_id),
        action: "report".into(),
        from_state: None,
        to_state: row.state.clone(),
        note: None,
        data: json!({"source": row.source, "grid": row.grid_code}),
    };
    let delta = StatDelta {
        grid: grid.clone(),
        day: day_of(now),
        category_id: category.id,
        department_id: None,
        counters: Counters {
            reported: 1,
            ..Default::default()
        },
        close_minutes: None,
    };
    let audit = AuditEntry::new(Some(actor.user_id), "event.report", "event", "")
        .after(json!({"category_id": category.id, "grid": row.grid_code, "source": row.source}));
    let write = ReportWrite {
        new: NewEvent {
            row,
            photos: r.photos.clone(),
            idempotency: Some((actor.user_id, key.to_owned())),
        },
        log,
        delta,
        audit,
        attached: r.attached.clone(),
    };
    let mut row = write.new.row.clone();
    match app.reports.submit(write).await {
        // Created: the row as written, with its id (no read back).
        Ok((id, true)) => {
            row.id = id;
            Ok((row, true))
        }
        Ok((id, false)) => Ok((shanzhi_store::event::get(&app.db, id).await?, false)),
        // Two retries racing: the loser finds the winner's event.
        Err(StoreError::Conflict { .. }) => match replay(app, actor.user_id, key).await? {
            Some(e) => Ok((e, false)),
            None => Err(ApiError::conflict(
                None,
                "the report collided with another; retry",
            )),
        },
        Err(e) => Err(e.into()),
    }
}

/// The checks of a report that depend on stored data: an active category, a position inside a
/// grid (and inside the actor's area, for staff), photos the actor uploaded (attaching a photo
/// shows it to the event's readers, so a hash alone must not do). Returns the category, the
/// grid and its village; for a report without a position (`at` is None), its region twice:
/// the event is filed under that region and held by that region's centre.
async fn check_report<'s>(
    app: &AppState,
    actor: &Actor,
    reference: &'s Snapshot,
    r: &Report,
    at: Option<LonLat>,
) -> Result<(&'s Category, NodeCode, NodeCode), ApiError> {
    let category = match reference.category(r.category_id) {
        Some(c) if c.active => c,
        _ => return Err(ApiError::invalid("category_id", "no such category")),
    };
    let (Some(at), None) = (at, &r.unknown_position_in) else {
        let Some(region) = r.unknown_position_in.clone().filter(|c| !c.is_grid()) else {
            return Err(ApiError::invalid(
                "lon",
                "a position or a region is required",
            ));
        };
        if actor.role != Role::Citizen && !actor.reaches(&region) {
            return Err(ApiError::invalid("lon", "the region is outside your area"));
        }
        check_photos(app, actor, r).await?;
        return Ok((category, region.clone(), region));
    };
    let grid = node_at(app, at)?;
    if actor.role != Role::Citizen && !actor.reaches(&grid) {
        return Err(ApiError::invalid(
            "lon",
            "the position is outside your area",
        ));
    }
    check_photos(app, actor, r).await?;
    // A grid's village centre holds it; in a region with no grids yet, the region's own centre.
    let holder = if grid.is_grid() {
        NodeCode::parse(&grid.as_str()[..12])
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?
    } else {
        grid.clone()
    };
    Ok((category, grid, holder))
}

/// The deepest node (a grid, else the deepest region) whose shape holds a point, or a 422
/// naming `lon` when none does.
fn node_at(app: &AppState, at: LonLat) -> Result<NodeCode, ApiError> {
    let Some(found) = app.locator.current().locate(at) else {
        return Err(ApiError::invalid(
            "lon",
            "the position is outside the jurisdiction: no region or grid contains it",
        ));
    };
    NodeCode::from_path(&found.code).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))
}

async fn check_photos(app: &AppState, actor: &Actor, r: &Report) -> Result<(), ApiError> {
    check_uploaded(app, actor, &r.photos).await
}

/// Refuses photos (422 on `photos`) unless `actor` uploaded each one: having sent the bytes
/// proves they had them (events and visits alike).
pub async fn check_uploaded(
    app: &AppState,
    actor: &Actor,
    photos: &[String],
) -> Result<(), ApiError> {
    if !photos.is_empty()
        && shanzhi_store::event::photos_uploaded_by(&app.db, photos, actor.user_id).await?
            != photos.len()
    {
        return Err(ApiError::invalid(
            "photos",
            "upload each photo yourself first (POST /api/v1/photos) and send its hash",
        ));
    }
    Ok(())
}

async fn replay(app: &AppState, user_id: i64, key: &str) -> Result<Option<EventRow>, ApiError> {
    let id: Option<i64> = shanzhi_store::event::idempotent(&app.db, user_id, key).await?;
    match id {
        Some(id) => Ok(Some(shanzhi_store::event::get(&app.db, id).await?)),
        None => Ok(None),
    }
}

/// May the actor see this event? Citizens: reporters, including of merged duplicates.
pub async fn can_view(
    app: &AppState,
    actor: &Actor,
    row: &EventRow,
    ev: &EventState,
) -> Result<bool, ApiError> {
    if shanzhi_domain::event::state::can_view(actor, ev) {
        return Ok(true);
    }
    // Citizens follow their own reports and the orders their reports were merged into.
    if actor.role == Role::Citizen {
        return Ok(shanzhi_store::event::followers(&app.db, row.id)
            .await?
            .contains(&actor.user_id));
    }
    Ok(false)
}

/// Loads an event the actor may see, or 404.
pub async fn visible(
    app: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(EventRow, Category, EventState), ApiError> {
    let row = match shanzhi_store::event::get(&app.db, id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("event")),
        Err(e) => return Err(e.into()),
    };
    let category = shanzhi_store::category::get(&app.db, row.category_id).await?;
    let ev = state_of(&row, &category)?;
    if !can_view(app, actor, &row, &ev).await? {
        return Err(ApiError::not_found("event"));
    }
    Ok((row, category, ev))
}

/// Makes a move on an event for `actor` and returns the event as it is afterwards.
/// `expected_version`, when given, must match (else 409 without touching anything).
pub async fn act(
    app: &AppState,
    actor: &Actor,
    id: i64,
    action: &Action,
    expected_version: Option<i64>,
    due_minutes: Option<i64>,
    photos: &[String],
) -> Result<EventRow, ApiError> {
    let (row, category, ev) = visible(app, actor, id).await?;
    if expected_version.is_some_and(|v| v != row.version) {
        return Err(ApiError::conflict(
            Some("version"),
            "the event was changed by someone else; reload and try again",
        ));
    }
    if photos.len() > shanzhi_domain::event::photo::MAX_PHOTOS {
        return Err(ApiError::invalid("photos", "at most 9 photos"));
    }
    if !photos.is_empty()
        && shanzhi_store::event::photos_uploaded_by(&app.db, photos, actor.user_id).await?
            != photos.len()
    {
        return Err(ApiError::invalid(
            "photos",
            "upload each photo yourself first (POST /api/v1/photos) and send its hash",
        ));
    }
    let t = transition(&ev, action, actor, DEFAULT_BOUNCE_LIMIT).map_err(refusal)?;
    let now = app.clock.now_ms();
    let cal = calendar(app).await?;
    let (after, writes) = apply(
        app,
        &row,
        &category,
        &ev,
        action,
        &t,
        Some(actor.user_id),
        now,
        &cal,
        due_minutes,
    )
    .await?;
    let writes = MoveWrites {
        photos: photos.to_vec(),
        ..writes
    };
    match shanzhi_store::event::save_move(&app.db, &after, &writes, now).await {
        Ok(()) => app.notices.announce(&writes.notifications),
        Err(StoreError::Stale) => {
            return Err(ApiError::conflict(
                Some("version"),
                "the event was changed by someone else at the same moment; reload and try again",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(shanzhi_store::event::get(&app.db, id).await?)
}

/// What happens to an order another module handles (a dispute case, 矛盾纠纷).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elsewhere {
    /// Taken over: the order stays where it is and its clock stops.
    Handled,
    /// Given back (the other module declined it): the clock of its state starts again.
    Back,
    /// Done there: the order closes with the loop's own counters (closed, on time or not).
    Closed,
}

/// A move of the loop for a matter another module handles (see [`Elsewhere`]). The timeline
/// line is named `line`, with `note` and `data`.
pub async fn handled_elsewhere(
    app: &AppState,
    row: &EventRow,
    what: Elsewhere,
    line: &str,
    note: String,
    data: Value,
    actor_id: Option<i64>,
) -> Result<(), ApiError> {
    let category = shanzhi_store::category::get(&app.db, row.category_id).await?;
    let ev = state_of(row, &category)?;
    let now = app.clock.now_ms();
    let cal = calendar(app).await?;
    let to = (what == Elsewhere::Closed).then_some(State::Closed);
    let t = Transition {
        to,
        note: Some(note.clone()),
        ..Transition::default()
    };
    // The nearest move of the loop: closed without a department, by the level that holds it.
    let action = Action::ResolveOnSpot { note };
    let (mut after, mut writes) = apply(
        app, row, &category, &ev, &action, &t, actor_id, now, &cal, None,
    )
    .await?;
    match what {
        Elsewhere::Handled => stop_clock(&mut after),
        Elsewhere::Back => {
            let level = centre_level(&ev.centre);
            let (accept, _, _) =
                shanzhi_store::category::clocks(&app.db, &category, level.as_str()).await?;
            start_clock(&mut after, &cal, now, accept);
        }
        Elsewhere::Closed => {}
    }
    if let Some(log) = writes.log.as_mut() {
        log.action = line.to_owned();
        if let (Value::Object(m), Value::Object(extra)) = (&mut log.data, data) {
            m.extend(extra);
        }
    }
    if let Some(a) = writes.audit.as_mut() {
        a.action = format!("event.{line}");
    }
    match shanzhi_store::event::save_move(&app.db, &after, &writes, now).await {
        Ok(()) => {
            app.notices.announce(&writes.notifications);
            Ok(())
        }
        Err(StoreError::Stale) => Err(ApiError::conflict(
            Some("version"),
            "the event was changed by someone else at the same moment; reload and try again",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Sets the position of an event filed without one (an Open311 request that named only an
/// address): the grid is found by the in-memory locator and must lie in the region the event
/// was filed under. The counters the event has made so far move down with it to the nodes
/// between that region and the grid (as a recount from its timeline would place them). Not a
/// move of the loop: the state and the clocks stay as they are.
pub async fn locate(
    app: &AppState,
    actor: &Actor,
    id: i64,
    lon: f64,
    lat: f64,
    expected_version: Option<i64>,
) -> Result<EventRow, ApiError> {
    let (row, _, ev) = visible(app, actor, id).await?;
    if !shanzhi_domain::event::state::can_set_position(actor, &ev) {
        return Err(ApiError::forbidden(
            "only a dispatcher of the holding centre may set the position",
        ));
    }
    if expected_version.is_some_and(|v| v != row.version) {
        return Err(ApiError::conflict(
            Some("version"),
            "the event was changed by someone else; reload and try again",
        ));
    }
    if row.position_known {
        return Err(ApiError::conflict(
            Some("position"),
            "the position of this event is known already",
        ));
    }
    let at = LonLat::parse(lon, lat)?;
    let grid = node_at(app, at)?;
    if !ev.grid.contains(&grid) {
        return Err(ApiError::invalid(
            "lon",
            format!(
                "the position is outside {}, where the event was filed",
                ev.grid
            ),
        ));
    }
    let now = app.clock.now_ms();
    let mut a = row.clone();
    a.grid_code = grid.as_str().to_owned();
    a.lon = at.lon();
    a.lat = at.lat();
    a.position_known = true;
    a.version = row.version + 1;
    a.updated_at = now;
    // What the timeline counted so far, as it counts under the grid, less the rows of the
    // region and above (counted already).
    let counted_above: std::collections::HashSet<String> =
        ev.grid.ancestor_paths().into_iter().collect();
    let mut recount = Recount::default();
    for line in shanzhi_store::event::timeline(&app.db, id).await? {
        recount.add(&line, &a)?;
    }
    let mut moved_stats = StatRows::default();
    for (path, day, dim, dim_id, c) in recount.stat_rows() {
        if !counted_above.contains(path) {
            moved_stats.add_row(path, day, dim, dim_id, c);
        }
    }
    for (path, day, bucket, n) in recount.hist_rows() {
        if !counted_above.contains(path) {
            moved_stats.add_hist(path, day, bucket, n);
        }
    }
    let log = LogEntry {
        actor_id: Some(actor.user_id),
        action: "locate".into(),
        from_state: Some(row.state.clone()),
        to_state: row.state.clone(),
        note: None,
        data: json!({"from": row.grid_code, "to": a.grid_code, "lon": a.lon, "lat": a.lat}),
    };
    let audit = AuditEntry::new(Some(actor.user_id), "event.locate", "event", id.to_string())
        .before(json!({"grid": row.grid_code, "position_known": false, "version": row.version}))
        .after(json!({"grid": a.grid_code, "lon": a.lon, "lat": a.lat, "version": a.version}));
    let writes = MoveWrites {
        log: Some(log),
        audit: Some(audit),
        moved_stats,
        ..MoveWrites::default()
    };
    match shanzhi_store::event::save_move(&app.db, &a, &writes, now).await {
        Ok(()) => Ok(shanzhi_store::event::get(&app.db, id).await?),
        Err(StoreError::Stale) => Err(ApiError::conflict(
            Some("version"),
            "the event was changed by someone else at the same moment; reload and try again",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Turns a domain transition into the new row and everything written with it.
#[allow(clippy::too_many_arguments)]
async fn apply(
    app: &AppState,
    row: &EventRow,
    category: &Category,
    ev: &EventState,
    action: &Action,
    t: &Transition,
    actor_id: Option<i64>,
    now: i64,
    cal: &WorkCalendar,
    due_minutes: Option<i64>,
) -> Result<(EventRow, MoveWrites), ApiError> {
    let mut a = row.clone();
    a.version = row.version + 1;
    a.updated_at = now;
    let from = ev.state;
    let to = t.to.unwrap_or(from);
    a.state = to.as_str().to_owned();
    if let Some(d) = t.department_id {
        a.department_id = d;
    }
    if let Some(s) = &t.summoned {
        a.summoned = serde_json::to_string(s).map_err(|e| ApiError::internal(e.into()))?;
    }
    if let Some(c) = &t.centre {
        a.centre_code = c.as_str().to_owned();
        a.centre_path = c.path().to_owned();
        a.escalations += 1;
    }
    if t.returned {
        a.returns += 1;
    }
    if let Some(d) = t.decision_required {
        a.decision_required = d;
    }
    if t.reopened {
        a.reopened += 1;
        a.closed_at = None;
    }
    if let Some((score, comment)) = &t.rating {
        a.rating = Some(i64::from(*score));
        a.rating_comment = Some(comment.clone()).filter(|c| !c.is_empty());
        a.rated_at = Some(now);
    }
    if let Some(p) = t.pending_extension {
        a.pending_extension = p;
    }
    if t.reminded {
        a.reminders += 1;
    }
    if let Some(m) = t.merged_into {
        a.merged_into = Some(m);
    }
    set_grid_stage(&mut a, t.grid_stage);
    let centre =
        NodeCode::parse(&a.centre_code).map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let level = centre_level(&centre);
    let (accept, handle, verify) =
        shanzhi_store::category::clocks(&app.db, category, level.as_str()).await?;

    // Clocks: each stage has its own.
    if let Some(extra) = t.extend_by {
        if let Some(due) = a.due_at {
            let new_due = cal.add_working_minutes(due, extra);
            a.due_at = Some(new_due);
            a.light = "green".into();
            a.red_since = None;
            a.next_check_at = Some(yellow_at(cal, a.stage_started_at, new_due).max(now));
        }
    }
    // Passed on by the grid (网格转办): the centre's accept clock starts now.
    let passed_on = to == from && t.grid_stage == Some(None);
    let stage_changed = to != from || t.centre.is_some() || passed_on;
    if stage_changed {
        match to {
            State::Reported | State::Accepted => start_clock(&mut a, cal, now, accept),
            State::Dispatched if from == State::Accepted => {
                let minutes = due_minutes.unwrap_or(handle);
                if !(1..=60 * 24 * 365).contains(&minutes) {
                    return Err(ApiError::invalid(
                        "due_minutes",
                        "must be between 1 and 525600 working minutes",
                    ));
                }
                start_clock(&mut a, cal, now, minutes);
            }
            State::Dispatched | State::InProgress => {
                if from == State::Resolved {
                    start_clock(&mut a, cal, now, handle);
                }
            }
            State::Resolved => start_clock(&mut a, cal, now, verify),
            State::Closed => {
                a.closed_at = Some(now);
                stop_clock(&mut a);
            }
            State::Rejected | State::Merged => stop_clock(&mut a),
        }
    }

    // Counters.
    let grid = ev.grid.clone();
    let mut c = Counters::default();
    let mut close_minutes = None;
    match action {
        Action::Accept => c.accepted = 1,
        Action::Dispatch { .. } | Action::Summon { .. } => c.dispatched = 1,
        Action::Return { .. } => c.returned = 1,
        _ => {}
    }
    let mut data = json!({});
    if to == State::Closed && from != State::Closed {
        c.closed = 1;
        let on_time = !row.overdue_ever && row.due_at.is_none_or(|d| now <= d);
        if on_time {
            c.closed_on_time = 1;
        }
        c.close_at(level);
        let minutes = (now - row.created_at).max(0) / 60_000;
        c.close_minutes_sum = minutes;
        close_minutes = Some(minutes);
        data = json!({"on_time": on_time, "level": level, "minutes": minutes, "department_id": row.department_id});
    }
    if let Some((score, _)) = &t.rating {
        c.rated = 1;
        c.rating_sum = i64::from(*score);
        if *score >= 4 {
            c.satisfied = 1;
        }
        data = json!({"score": score, "reopened": t.reopened, "department_id": row.department_id});
    }
    if t.reopened {
        c.reopened = 1;
    }
    if let Action::Dispatch { department_id, .. } = action {
        data = json!({"department_id": department_id, "due_at": a.due_at});
    }
    if let Action::Summon {
        departments,
        lead,
        report_by,
        place,
        ..
    } = action
    {
        data = json!({"departments": departments.iter().map(|(d, _)| d).collect::<Vec<_>>(), "lead": lead,
            "report_by": report_by, "place": (!place.trim().is_empty()).then(|| place.trim())});
    }
    if let Some(m) = t.merged_into {
        data = json!({"into": m});
    }
    if t.returned {
        data = json!({"department_id": row.department_id, "returns": a.returns, "decision_required": a.decision_required});
    }
    if t.centre.is_some() {
        data = json!({"from": row.centre_code, "to": a.centre_code});
    }
    if let Some(e) = t.extend_by {
        data = json!({"minutes": e, "due_at": a.due_at});
    }
    // Counted for the department that held the order at the time of the move.
    let department_for_stats = match action {
        Action::Dispatch { department_id, .. } => Some(*department_id),
        Action::Summon { lead, .. } => Some(*lead),
        _ => row.department_id,
    };
    // Every timeline line says which department it counts for, so figures can be recounted.
    if let Value::Object(m) = &mut data {
        m.insert("department_id".into(), json!(department_for_stats));
    }
    let mut deltas = Vec::new();
    if !c.is_zero() {
        deltas.push(StatDelta {
            grid,
            day: day_of(now),
            category_id: category.id,
            department_id: department_for_stats,
            counters: c,
            close_minutes,
        });
    }

    let notifications = crate::notification::for_move(app, row, &a, action, from, t).await?;
    let link_reporters = match t.merged_into {
        Some(target) => {
            let mut users = shanzhi_store::event::linked_reporters(&app.db, row.id).await?;
            users.extend(row.reporter_id);
            Some((target, users))
        }
        None => None,
    };
    let log = LogEntry {
        actor_id,
        action: action.name().to_owned(),
        from_state: Some(from.as_str().to_owned()),
        to_state: to.as_str().to_owned(),
        note: t.note.clone().filter(|n| !n.is_empty()),
        data,
    };
    let audit = AuditEntry::new(actor_id, &format!("event.{}", action.name()), "event", row.id.to_string())
        .before(json!({"state": row.state, "department_id": row.department_id, "centre": row.centre_code, "version": row.version}))
        .after(json!({"state": a.state, "department_id": a.department_id, "centre": a.centre_code, "version": a.version}));
    Ok((
        a,
        MoveWrites {
            log: Some(log),
            deltas,
            photos: Vec::new(),
            notifications,
            link_reporters,
            audit: Some(audit),
            moved_stats: StatRows::default(),
        },
    ))
}

/// Writes a new grid stage (网格接单) on the row: the worker who takes an order stays on it
/// after it leaves the grid, for their 我的接单 list.
fn set_grid_stage(a: &mut EventRow, stage: Option<Option<GridStage>>) {
    match stage {
        None => {}
        Some(None) => a.grid_stage = None,
        Some(Some(s)) => {
            a.grid_stage = Some(s.as_str().to_owned());
            if let GridStage::Taken { by } = s {
                a.taken_by = Some(by);
            }
        }
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sweep {
    pub checked: usize,
    pub yellow: usize,
    pub red: usize,
    pub escalated: usize,
    /// Reports the grid did not take or act on within the accept window, passed to the centre.
    pub passed_on: usize,
}

/// The deadline sweep at `now`: turns lights yellow and red, raises supervision (普通 / 黄牌 /
/// 红牌督办) with a reminder, and escalates orders red past their category's limit.
pub async fn sweep(app: &AppState, now: i64) -> Result<Sweep, ApiError> {
    crate::calendar::sweep(app, now).await
}

impl crate::calendar::Sweeper for Sweep {
    type Row = EventRow;

    async fn due(app: &AppState, now: i64) -> Result<Vec<EventRow>, ApiError> {
        Ok(shanzhi_store::event::due_for_check(&app.db, now, 500).await?)
    }

    async fn check(
        &mut self,
        app: &AppState,
        cal: &WorkCalendar,
        now: i64,
        row: EventRow,
    ) -> Result<(), ApiError> {
        let category = shanzhi_store::category::get(&app.db, row.category_id).await?;
        sweep_one(app, cal, &row, &category, now, self).await
    }

    fn checked(&mut self) -> &mut usize {
        &mut self.checked
    }
}

async fn sweep_one(
    app: &AppState,
    cal: &WorkCalendar,
    row: &EventRow,
    category: &Category,
    now: i64,
    out: &mut Sweep,
) -> Result<(), ApiError> {
    let Some(due) = row.due_at else {
        let mut a = row.clone();
        a.version += 1;
        a.next_check_at = None;
        return save_sweep(app, &a, MoveWrites::default(), now).await;
    };
    if row.grid_stage.is_some() && now >= due {
        return pass_to_centre(app, cal, row, category, now, out).await;
    }
    let light = cal.light(row.stage_started_at, due, now, YELLOW_SHARE);
    let mut a = row.clone();
    a.version += 1;
    let mut notes: Vec<NewNotification> = Vec::new();
    let mut log: Option<LogEntry> = None;
    let state = row.state.clone();
    let notify = |level: &str, message: String| {
        NewNotification::to_department(
            row.department_id.unwrap_or_default(),
            "supervise",
            json!({"level": level}),
            message,
        )
    };
    match light {
        Light::Green => {
            a.next_check_at = Some(yellow_at(cal, row.stage_started_at, due).max(now + 60_000));
        }
        Light::Yellow => {
            a.light = "yellow".into();
            a.next_check_at = Some(due);
            if row.light == "green" {
                out.yellow += 1;
                a.supervision = "normal".into();
                notes.push(notify(
                    "normal",
                    format!("普通督办：工单 #{} 即将超时", row.id),
                ));
                log = Some(system_log(
                    "supervise",
                    &state,
                    "yellow light: normal supervision (普通督办)",
                    json!({"supervision": "normal"}),
                ));
            }
        }
        Light::Red => {
            a.light = "red".into();
            a.overdue_ever = true;
            let red_since = row.red_since.unwrap_or(now);
            a.red_since = Some(red_since);
            if row.light != "red" {
                out.red += 1;
                a.supervision = "yellow".into();
                notes.push(notify(
                    "yellow",
                    format!("黄牌督办：工单 #{} 已超时", row.id),
                ));
                log = Some(system_log(
                    "supervise",
                    &state,
                    "overdue: yellow-card supervision (黄牌督办)",
                    json!({"supervision": "yellow"}),
                ));
            }
            a.next_check_at = None;
            if let Some(limit) = category.escalate_after_minutes {
                let escalate_at = cal.add_working_minutes(red_since, limit);
                if now >= escalate_at && row.supervision != "red" {
                    let centre = NodeCode::parse(&row.centre_code)
                        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
                    a.supervision = "red".into();
                    if let Some(parent) = centre.natural_parent() {
                        a.centre_code = parent.as_str().to_owned();
                        a.centre_path = parent.path().to_owned();
                        a.escalations += 1;
                        out.escalated += 1;
                        log = Some(system_log(
                            "escalate",
                            &state,
                            "red past the category's limit: red-card supervision (红牌督办) and escalation (提级)",
                            json!({"supervision": "red", "from": row.centre_code, "to": a.centre_code}),
                        ));
                    } else {
                        log = Some(system_log(
                            "supervise",
                            &state,
                            "red-card supervision (红牌督办)",
                            json!({"supervision": "red"}),
                        ));
                    }
                    notes.push(notify(
                        "red",
                        format!("红牌督办：工单 #{} 严重超时，已提级办理", row.id),
                    ));
                } else if row.supervision != "red" {
                    a.next_check_at = Some(escalate_at.max(now + 60_000));
                }
            }
        }
    }
    let audit = log.as_ref().map(|l| {
        AuditEntry::new(
            None,
            &format!("event.{}", l.action),
            "event",
            row.id.to_string(),
        )
        .before(
            json!({"light": row.light, "supervision": row.supervision, "centre": row.centre_code}),
        )
        .after(json!({"light": a.light, "supervision": a.supervision, "centre": a.centre_code}))
    });
    // Orders not yet at a department have nobody to notify but their centre, whose inbox and
    // the light already show it.
    if row.department_id.is_none() {
        notes.clear();
    }
    if a.centre_code != row.centre_code {
        notes.push(NewNotification::to_centre(
            &a.centre_code,
            "escalated",
            json!({"from": row.centre_code}),
            format!("提级办理：工单 #{} 已提交至本中心", row.id),
        ));
        let st = State::parse(&row.state).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("event {} has a bad state", row.id))
        })?;
        notes.extend(
            crate::notification::to_followers(app, row, "escalate", st, st, false, json!({}))
                .await?,
        );
    }
    save_sweep(
        app,
        &a,
        MoveWrites {
            log,
            notifications: notes,
            audit,
            ..MoveWrites::default()
        },
        now,
    )
    .await
}

/// 网格超时转办: a report the grid held past its accept window goes to the centre, whose own
/// accept clock starts now, so that no order stalls with the grid. Said on the timeline.
async fn pass_to_centre(
    app: &AppState,
    cal: &WorkCalendar,
    row: &EventRow,
    category: &Category,
    now: i64,
    out: &mut Sweep,
) -> Result<(), ApiError> {
    let centre = NodeCode::parse(&row.centre_code)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
    let (accept, _, _) =
        shanzhi_store::category::clocks(&app.db, category, centre_level(&centre).as_str()).await?;
    let mut a = row.clone();
    a.version += 1;
    set_grid_stage(&mut a, Some(None));
    start_clock(&mut a, cal, now, accept);
    let note = if row.grid_stage.as_deref() == Some("taken") {
        "the grid worker who took it did not act within the accept window: passed to the centre (网格超时转办)"
    } else {
        "no grid worker took it within the accept window: passed to the centre (网格超时转办)"
    };
    let log = system_log(
        "pass_on",
        &row.state,
        note,
        json!({"grid_stage": row.grid_stage, "taken_by": row.taken_by, "department_id": null}),
    );
    let audit = AuditEntry::new(None, "event.pass_on", "event", row.id.to_string())
        .before(json!({"grid_stage": row.grid_stage}))
        .after(json!({"grid_stage": null}));
    out.passed_on += 1;
    save_sweep(
        app,
        &a,
        MoveWrites {
            log: Some(log),
            audit: Some(audit),
            ..MoveWrites::default()
        },
        now,
    )
    .await
}

fn system_log(action: &str, state: &str, note: &str, data: Value) -> LogEntry {
    LogEntry {
        actor_id: None,
        action: action.to_owned(),
        from_state: Some(state.to_owned()),
        to_state: state.to_owned(),
        note: Some(note.to_owned()),
        data,
    }
}

async fn save_sweep(
    app: &AppState,
    a: &EventRow,
    writes: MoveWrites,
    now: i64,
) -> Result<(), ApiError> {
    match shanzhi_store::event::save_move(&app.db, a, &writes, now).await {
        Ok(()) => {
            app.notices.announce(&writes.notifications);
            Ok(())
        }
        Err(StoreError::Stale) => Err(ApiError::conflict(None, "changed meanwhile")),
        Err(e) => Err(e.into()),
    }
}

/// The actions this actor could take on the event now (for clients to show the right buttons).
pub fn allowed_actions(ev: &EventState, actor: &Actor) -> Vec<&'static str> {
    let region = match &actor.scope {
        Scope::Department { region, .. } => region.clone(),
        _ => ev.grid.clone(),
    };
    let probes = [
        Action::Take,
        Action::PassOn { note: "x".into() },
        Action::Accept,
        Action::Reject { reason: "x".into() },
        Action::ResolveOnSpot { note: "x".into() },
        Action::Dispatch {
            department_id: 0,
            department_region: ev.grid.clone(),
        },
        Action::Sign,
        Action::Return { reason: "x".into() },
        Action::RequestExtension {
            minutes: 60,
            reason: "x".into(),
        },
        Action::DecideExtension { approve: true },
        Action::ReportResult { note: "x".into() },
        Action::Verify {
            ok: true,
            note: String::new(),
        },
        Action::Rate {
            score: 5,
            comment: String::new(),
            fixed: true,
        },
        Action::Escalate { reason: "x".into() },
        Action::Summon {
            departments: vec![(1, region.clone()), (2, region)],
            lead: 1,
            report_by: None,
            place: String::new(),
            reason: String::new(),
        },
        Action::CheckIn,
        Action::Merge {
            target_id: -1,
            target_state: State::Accepted,
        },
        Action::Remind {
            note: String::new(),
        },
        Action::Reinspect {
            ok: true,
            note: String::new(),
        },
    ];
    probes
        .iter()
        .filter(|a| {
            !matches!(
                transition(ev, a, actor, DEFAULT_BOUNCE_LIMIT),
                Err(Refusal::Forbidden(_)) | Err(Refusal::WrongState(_))
            )
        })
        .map(Action::name)
        .collect()
}

/// Counters rebuilt from timelines alone: the brute-force recount that the maintained counters
/// must equal, and the way bulk-loaded history (the demo's year) gets its figures.
///
/// Kept per node path, so that counting a line allocates nothing for a node seen before (the
/// demo recounts millions of lines).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Recount {
    /// node path → (day, dim, dim id) → counters.
    stats: HashMap<String, HashMap<(i64, &'static str, i64), Counters>>,
    /// node path → (day, bucket) → count.
    hist: HashMap<String, HashMap<(i64, i64), i64>>,
}

impl Recount {
    /// Counts one timeline line of `event` (category and grid come from the event).
    pub fn add(
        &mut self,
        log: &shanzhi_store::event::LogRow,
        event: &EventRow,
    ) -> Result<(), ApiError> {
        let data: Value = serde_json::from_str(&log.data).unwrap_or(Value::Null);
        let mut c = Counters::default();
        let mut close_minutes = None;
        match log.action.as_str() {
            "report" => c.reported = 1,
            "accept" => c.accepted = 1,
            "dispatch" | "summon" => c.dispatched = 1,
            "return" => c.returned = 1,
            "verify" if log.to_state == "closed" => {
                c.closed = 1;
                if data["on_time"].as_bool() == Some(true) {
                    c.closed_on_time = 1;
                }
                let level = data["level"]
                    .as_str()
                    .and_then(|l| shanzhi_domain::tree::Level::parse(l).ok());
                c.close_at(level.unwrap_or(shanzhi_domain::tree::Level::Village));
                let m = data["minutes"].as_i64().unwrap_or(0);
                c.close_minutes_sum = m;
                close_minutes = Some(m);
            }
            "rate" => {
                let score = data["score"].as_i64().unwrap_or(0);
                c.rated = 1;
                c.rating_sum = score;
                c.satisfied = i64::from(score >= 4);
                c.reopened = i64::from(data["reopened"].as_bool() == Some(true));
            }
            "reinspect" if log.to_state == "accepted" => c.reopened = 1,
            _ => {}
        }
        if c.is_zero() {
            return Ok(());
        }
        let grid = NodeCode::parse(&event.grid_code)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))?;
        let day = day_of(log.at);
        let department = data["department_id"].as_i64();
        let dims = [
            ("all", Some(0)),
            ("category", Some(event.category_id)),
            ("department", department),
        ];
        for path in grid.ancestor_paths() {
            if let Some(m) = close_minutes {
                let bucket = shanzhi_domain::event::figures::close_bucket(m);
                *node_entry(&mut self.hist, &path)
                    .entry((day, bucket))
                    .or_default() += 1;
            }
            let node = node_entry(&mut self.stats, &path);
            for (dim, id) in dims {
                if let Some(id) = id {
                    node.entry((day, dim, id)).or_default().add(&c);
                }
            }
        }
        Ok(())
    }

    /// Summed counters of a node over `[from, to]` days for one dimension value.
    pub fn counters(&self, path: &str, from: i64, to: i64, dim: &str, dim_id: i64) -> Counters {
        let mut sum = Counters::default();
        for ((day, d, id), c) in self.stats.get(path).into_iter().flatten() {
            if *d == dim && *id == dim_id && (from..=to).contains(day) {
                sum.add(c);
            }
        }
        sum
    }

    /// The counter rows: `(node path, day, dim, dim id, counters)`, in no particular order.
    pub fn stat_rows(&self) -> impl Iterator<Item = (&str, i64, &str, i64, &Counters)> {
        self.stats.iter().flat_map(|(path, rows)| {
            rows.iter()
                .map(move |((day, dim, id), c)| (path.as_str(), *day, *dim, *id, c))
        })
    }

    /// The close-time histogram's rows: `(node path, day, bucket, count)`, in no particular
    /// order.
    pub fn hist_rows(&self) -> impl Iterator<Item = (&str, i64, i64, i64)> {
        self.hist.iter().flat_map(|(path, rows)| {
            rows.iter()
                .map(move |((day, bucket), n)| (path.as_str(), *day, *bucket, *n))
        })
    }
}

/// The rows of node `path` in a [`Recount`]'s map (the path copied only the first time).
fn node_entry<'m, V: Default>(map: &'m mut HashMap<String, V>, path: &str) -> &'m mut V {
    if !map.contains_key(path) {
        map.insert(path.to_owned(), V::default());
    }
    map.get_mut(path).expect("inserted above")
}
