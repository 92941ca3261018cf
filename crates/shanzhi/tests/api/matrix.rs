//! The authorization matrix: every operation of the OpenAPI document × every role × a record in
//! the caller's scope and one outside it, with the answer the permission rules expect. The table
//! below must name exactly the operations the document lists: a new route without a row fails
//! `every_operation_answers_every_role_as_the_rules_say`. List endpoints are also read with
//! several filters, and every row they return must be a record the caller may open.
//!
//! The world: the seeded town (county 城区 441502, villages 001 and 002) plus a second county
//! (海丰县 441521) with one grid. Each role acts from village 441502001001 (the grid worker from
//! its grid 001, the handler for 城管 of county 441502, the citizen as a reporter). In scope: grid
//! 441502001001001, the order reported there and dispatched to 城管, its photo, the grid worker.
//! Out of scope: grid 441521001001001, a citizen's report in village 002 that went nowhere, its
//! photo, the dispatcher of village 002.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shanzhi_domain::user::Role;

use crate::helpers::{Cast, Session, TestApp, IN_GRID, PASSWORD};

/// Two tiny valid PNGs (1×1 grey pixels), different bytes so different hashes.
const PNG_IN: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xe0, 0x02, 0x00, 0x00,
    0x0c, 0x00, 0x0b, 0x67, 0x3a, 0x2b, 0x9c, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];
const PNG_OUT: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x38, 0x01, 0x00, 0x00,
    0xca, 0x00, 0xc9, 0x99, 0xca, 0x5d, 0x7e, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A point in village 441502001002's first grid, and one in the second county's grid.
const IN_VILLAGE_2: (f64, f64) = (115.325, 22.785);
const IN_OTHER_COUNTY: (f64, f64) = (115.405, 22.785);

/// A body each move accepts, so that the permission rules, not the body, decide the answer.
fn move_body(w: &World, action: &str) -> Value {
    let (cg, zj) = (w.cast.cg_id, w.cast.zj_id);
    match action {
        "reject" | "return" | "escalate" => json!({"reason": "矩阵"}),
        "resolve_on_spot" | "report_result" | "remind" | "pass_on" => json!({"note": "矩阵"}),
        "dispatch" => json!({"department_id": cg}),
        "request_extension" => json!({"minutes": 60, "reason": "矩阵"}),
        "decide_extension" => json!({"approve": true}),
        "verify" | "reinspect" => json!({"ok": true}),
        "rate" => json!({"score": 5, "fixed": true}),
        "summon" => json!({"departments": [cg, zj], "lead": cg}),
        "merge" => json!({"into": w.in_event}),
        _ => json!({}),
    }
}

/// Every move of the closed loop, as the API names them.
const ACTIONS: [&str; 19] = [
    "take",
    "pass_on",
    "accept",
    "reject",
    "resolve_on_spot",
    "dispatch",
    "sign",
    "return",
    "request_extension",
    "decide_extension",
    "report_result",
    "verify",
    "rate",
    "escalate",
    "summon",
    "check_in",
    "merge",
    "remind",
    "reinspect",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    In,
    Out,
}

/// What the rules expect of one call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Want {
    /// 2xx.
    Ok,
    /// Past the permission check: anything but 401, 403 and 404 (a 409 or 422 about the body is fine).
    Allowed,
    /// 403 or 404.
    Refused,
    /// 404: the record does not exist for the caller.
    Hidden,
    /// 403.
    Forbidden,
    /// 422: a value the caller may not use (a position outside their area).
    Invalid,
    /// 403, 404 or 422: refused one way or another (an import names a parent outside the
    /// caller's area as unknown, row by row), never a success.
    NotDone,
}

impl Want {
    fn accepts(self, s: StatusCode) -> bool {
        let refused = matches!(
            s,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        );
        match self {
            Want::Ok => s.is_success(),
            Want::Allowed => !refused && !s.is_server_error(),
            Want::Refused => s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
            Want::Hidden => s == StatusCode::NOT_FOUND,
            Want::Forbidden => s == StatusCode::FORBIDDEN,
            Want::Invalid => s == StatusCode::UNPROCESSABLE_ENTITY,
            Want::NotDone => {
                s == StatusCode::FORBIDDEN
                    || s == StatusCode::NOT_FOUND
                    || s == StatusCode::UNPROCESSABLE_ENTITY
            }
        }
    }
}

/// Everything the rows refer to.
struct World {
    cast: Cast,
    actors: Vec<(Role, Session, String)>,
    in_event: i64,
    out_event: i64,
    in_photo: String,
    out_photo: String,
    in_user: i64,
    out_user: i64,
    /// A notice to the citizen about the in-scope order.
    citizen_notice: i64,
    /// Base data on each side: [in, out].
    base: Base,
    /// Residents in the in-scope grid and the out-of-scope one, each visited once.
    in_resident: i64,
    out_resident: i64,
    in_visit: i64,
    out_visit: i64,
    /// Buildings, houses, places, organisations, rosters in and out of scope.
    places: crate::house::BaseWorld,
    /// Dispute cases, sessions, mediators and panels in and out of scope.
    disputes: crate::dispute::DisputeWorld,
    /// Risks and risk rules in and out of scope.
    risks: crate::risk::RiskWorld,
    /// Warnings to grid 441502001001001 and to the other county's grid.
    warnings: [i64; 2],
    /// Briefings of village 441502001001 and of the other county's village.
    briefings: [i64; 2],
    /// Draft ledger entries of village 441502001001 and of the other county's village.
    ledger: [i64; 2],
    /// Published notices (四务公开) and questions on them, in the same two villages.
    notices: [i64; 2],
    questions: [i64; 2],
    /// Points rules and shop items of the same two villages.
    points: crate::points::PointsWorld,
    /// Contracts of village 441502001001 and of the other county's village, each with an open
    /// no_meeting_approval flag.
    contracts: [i64; 2],
    /// Open consultation topics of the same two villages.
    consultations: [i64; 2],
    /// Open legislative drafts put out at the same two villages, and an opinion on each.
    drafts: [i64; 2],
    opinions: [i64; 2],
}

/// Residents, households and corrections: in grid 441502001001001 (the citizen's own record,
/// head of the household, with a spouse) and in the other county's grid (citizen2's).
struct Base {
    resident: [i64; 2],
    household: [i64; 2],
    spouse: [i64; 2],
    correction: [i64; 2],
}

impl Base {
    fn of(a: &[i64; 2], s: Side) -> i64 {
        match s {
            Side::In => a[0],
            Side::Out => a[1],
        }
    }
}

/// One request a row makes.
struct Call {
    method: Method,
    path: String,
    body: Option<Value>,
    /// Logs in afresh and uses that session (for logout).
    fresh: bool,
    /// Extra header (the report's Idempotency-Key).
    key: Option<String>,
}

fn call(method: Method, path: impl Into<String>) -> Call {
    Call {
        method,
        path: path.into(),
        body: None,
        fresh: false,
        key: None,
    }
}

impl Call {
    fn json(mut self, v: Value) -> Call {
        self.body = Some(v);
        self
    }
}

type Build = fn(&World, Role, Side, usize) -> Call;
type Rule = fn(Role, Side) -> Want;

/// A row: the operation, how to call it, what the rules expect.
struct Row {
    method: &'static str,
    path: &'static str,
    build: Build,
    want: Rule,
}

fn staff(r: Role) -> bool {
    r != Role::Citizen
}

fn node(side: Side) -> &'static str {
    match side {
        Side::In => "441502001001001",
        Side::Out => "441521001001001",
    }
}

/// Reads of a node or its subtree: staff in scope; nothing outside; citizens have no tree.
fn node_read(r: Role, s: Side) -> Want {
    match (staff(r), s) {
        (false, _) => Want::Refused,
        (true, Side::In) => Want::Ok,
        (true, Side::Out) => Want::Hidden,
    }
}

/// Writes only administrators make, inside their subtree.
fn admin_write(r: Role, s: Side) -> Want {
    match (r, s) {
        (Role::Admin, Side::In) => Want::Allowed,
        _ => Want::Refused,
    }
}

/// New regions and grids: administrators inside their subtree; a parent outside it is unknown.
fn admin_import(r: Role, s: Side) -> Want {
    match (r, s) {
        (Role::Admin, Side::In) => Want::Allowed,
        (Role::Admin, Side::Out) => Want::NotDone,
        _ => Want::Refused,
    }
}

/// Writes to settings the whole tree shares: the matrix's administrator is scoped to a village.
fn shared_setting(_: Role, _: Side) -> Want {
    Want::Forbidden
}

fn anyone(_: Role, _: Side) -> Want {
    Want::Ok
}

fn staff_only(r: Role, _: Side) -> Want {
    if staff(r) {
        Want::Ok
    } else {
        Want::Forbidden
    }
}

fn admin_only(r: Role, _: Side) -> Want {
    if r == Role::Admin {
        Want::Ok
    } else {
        Want::Forbidden
    }
}

/// A record the caller may see in scope, and none outside.
fn record_read(_: Role, s: Side) -> Want {
    match s {
        Side::In => Want::Ok,
        Side::Out => Want::Hidden,
    }
}

/// Roles that read the register (base data).
fn base_reader(r: Role) -> bool {
    matches!(
        r,
        Role::GridWorker | Role::Dispatcher | Role::Admin | Role::Leader | Role::Analyst
    )
}

/// Roles that change the register.
fn base_writer(r: Role) -> bool {
    matches!(r, Role::GridWorker | Role::Dispatcher | Role::Admin)
}

/// Register lists of a node: readers in scope; nothing outside; no register for the others.
fn base_list(r: Role, s: Side) -> Want {
    match (base_reader(r), s) {
        (true, Side::In) => Want::Ok,
        (true, Side::Out) => Want::Hidden,
        (false, _) => Want::Refused,
    }
}

/// A register record: readers in scope, and the citizen their own household's.
fn base_read(r: Role, s: Side) -> Want {
    match (base_reader(r) || r == Role::Citizen, s) {
        (true, Side::In) => Want::Ok,
        (true, Side::Out) => Want::Hidden,
        (false, _) => Want::Refused,
    }
}

/// Changes to the register (and reveals): writers in scope only.
fn base_write(r: Role, s: Side) -> Want {
    match (base_writer(r), s) {
        (true, Side::In) => Want::Allowed,
        _ => Want::Refused,
    }
}

/// Base data (registers, rosters): read by staff of the area but departments and mediators.
fn place_read(r: Role, s: Side) -> Want {
    match (crate::house::reads(r), s) {
        (false, _) => Want::Refused,
        (true, Side::In) => Want::Ok,
        (true, Side::Out) => Want::Hidden,
    }
}

/// Base data changed by administrators, dispatchers and grid workers; leaders and analysts
/// are refused what they may read.
fn place_write(r: Role, s: Side) -> Want {
    match (crate::house::writes(r), crate::house::reads(r), s) {
        (true, _, Side::In) => Want::Allowed,
        (false, true, Side::In) => Want::Forbidden,
        _ => Want::Refused,
    }
}

/// Base data (registers, tags, visits) of a record: read by grid staff and leaders in scope,
/// nothing to anyone else.
fn care_read(r: Role, s: Side) -> Want {
    match (r, s) {
        (
            Role::GridWorker | Role::Dispatcher | Role::Admin | Role::Leader | Role::Analyst,
            Side::In,
        ) => Want::Ok,
        _ => Want::Hidden,
    }
}

/// Changes to base data: grid staff in scope; leaders read only; nothing to anyone else.
fn care_write(r: Role, s: Side) -> Want {
    match (r, s) {
        (Role::GridWorker | Role::Dispatcher | Role::Admin, Side::In) => Want::Allowed,
        (Role::Leader | Role::Analyst, Side::In) => Want::Forbidden,
        _ => Want::Hidden,
    }
}

/// Lists and figures of base data under a node: grid staff and leaders in scope; the node
/// does not exist outside; roles without base data are refused.
fn care_list(r: Role, s: Side) -> Want {
    match (r, s) {
        (
            Role::GridWorker | Role::Dispatcher | Role::Admin | Role::Leader | Role::Analyst,
            Side::In,
        ) => Want::Ok,
        (
            Role::GridWorker | Role::Dispatcher | Role::Admin | Role::Leader | Role::Analyst,
            Side::Out,
        ) => Want::Hidden,
        _ => Want::Refused,
    }
}

/// The citizen's own household: citizens only (staff are refused).
fn own_household(r: Role, s: Side) -> Want {
    match (r, s) {
        (Role::Citizen, Side::In) => Want::Allowed,
        (Role::Citizen, Side::Out) => Want::Hidden,
        _ => Want::Forbidden,
    }
}

fn resident_of(w: &World, s: Side) -> i64 {
    match s {
        Side::In => w.in_resident,
        Side::Out => w.out_resident,
    }
}

fn visit_of(w: &World, s: Side) -> i64 {
    match s {
        Side::In => w.in_visit,
        Side::Out => w.out_visit,
    }
}

/// Building or opening a roster (it shows addresses): those who may reveal personal data there,
/// and the area's leaders, who command the switch to emergency.
fn place_reveal(r: Role, s: Side) -> Want {
    match (r, s) {
        (Role::Leader, Side::In) => Want::Ok,
        _ => match place_write(r, s) {
            Want::Allowed => Want::Ok,
            other => other,
        },
    }
}

/// Building a roster: as opening one, past the permission check.
fn roster_build(r: Role, s: Side) -> Want {
    match place_reveal(r, s) {
        Want::Ok => Want::Allowed,
        other => other,
    }
}

/// 0 for the record in scope, 1 for the one outside.
fn ix(s: Side) -> usize {
    match s {
        Side::In => 0,
        Side::Out => 1,
    }
}

/// The session's user of a role.
fn user_of(w: &World, r: Role) -> i64 {
    w.actors
        .iter()
        .find(|a| a.0 == r)
        .map(|a| a.1.user_id)
        .unwrap_or(0)
}

/// The rows of the base-data registers and the emergency roster.
fn base_rows() -> Vec<Row> {
    vec![
        Row {
            method: "get",
            path: "/api/v1/buildings",
            want: place_read,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/buildings?node={}", node(s))),
        },
        Row {
            method: "post",
            path: "/api/v1/buildings",
            want: place_write,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/buildings")
                    .json(json!({"node_code": node(s), "name": "矩阵楼"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/buildings/{id}",
            want: place_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/buildings/{}", w.places.building[ix(s)]),
                )
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/buildings/{id}",
            want: place_write,
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!("/api/v1/buildings/{}", w.places.building[ix(s)]),
                )
                .json(json!({"floors": 7}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/houses",
            want: place_write,
            build: |_, _, s, n| {
                call(Method::POST, "/api/v1/houses")
                    .json(json!({"node_code": node(s), "room": format!("{n}号"), "use": "vacant"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/houses/{id}",
            want: place_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/houses/{}", w.places.house[ix(s)]),
                )
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/houses/{id}",
            want: place_write,
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!("/api/v1/houses/{}", w.places.house[ix(s)]),
                )
                .json(json!({"use": "rented"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/places",
            want: place_read,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/places?node={}&overdue=false", node(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/places",
            want: place_write,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/places")
                    .json(json!({"node_code": node(s), "kind": "small_clinic", "name": "矩阵诊所"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/places/{id}",
            want: place_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/places/{}", w.places.place[ix(s)]),
                )
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/places/{id}",
            want: place_write,
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!("/api/v1/places/{}", w.places.place[ix(s)]),
                )
                .json(json!({"licence_no": "JY1"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/places/{id}/checks",
            want: place_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/places/{}/checks", w.places.place[ix(s)]),
                )
                .json(json!({"result": "passed"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/organisations",
            want: place_read,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/organisations?node={}", node(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/organisations",
            want: place_write,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/organisations")
                    .json(json!({"node_code": node(s), "kind": "enterprise", "name": "矩阵企业"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/organisations/{id}",
            want: place_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/organisations/{}", w.places.organisation[ix(s)]),
                )
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/organisations/{id}",
            want: place_write,
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!("/api/v1/organisations/{}", w.places.organisation[ix(s)]),
                )
                .json(json!({"name": "矩阵支部"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/organisations/{id}/members",
            want: place_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!(
                        "/api/v1/organisations/{}/members",
                        w.places.organisation[ix(s)]
                    ),
                )
                .json(json!({"role": "member", "name": "新党员"}))
            },
        },
        Row {
            method: "delete",
            path: "/api/v1/organisations/{id}/members/{member_id}",
            want: place_write,
            build: |w, r, s, _| {
                let member = w
                    .places
                    .members
                    .iter()
                    .find(|m| m.0 == r)
                    .map(|m| m.1[ix(s)])
                    .unwrap_or(0);
                call(
                    Method::DELETE,
                    format!(
                        "/api/v1/organisations/{}/members/{member}",
                        w.places.organisation[ix(s)]
                    ),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/organisations/grid/{code}",
            want: place_read,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/organisations/grid/{}", node(s)),
                )
            },
        },
        Row {
            method: "put",
            path: "/api/v1/organisations/grid/{code}/officials/{user_id}",
            want: place_write,
            build: |w, r, s, _| {
                call(
                    Method::PUT,
                    format!(
                        "/api/v1/organisations/grid/{}/officials/{}",
                        node(s),
                        user_of(w, r)
                    ),
                )
                .json(json!({"duty": "包联干部"}))
            },
        },
        Row {
            method: "delete",
            path: "/api/v1/organisations/grid/{code}/officials/{user_id}",
            want: place_write,
            build: |w, r, s, _| {
                call(
                    Method::DELETE,
                    format!(
                        "/api/v1/organisations/grid/{}/officials/{}",
                        node(s),
                        user_of(w, r)
                    ),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/emergency/rosters",
            want: place_read,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/emergency/rosters?node={}", node(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/emergency/rosters",
            want: roster_build,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/emergency/rosters")
                    .json(json!({"name": "矩阵演练", "grids": [node(s)]}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/emergency/rosters/{id}",
            want: place_reveal,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/emergency/rosters/{}", w.places.roster[ix(s)]),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/emergency/rosters/{id}/entries/{resident_id}",
            want: place_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!(
                        "/api/v1/emergency/rosters/{}/entries/{}",
                        w.places.roster[ix(s)],
                        w.places.resident[ix(s)]
                    ),
                )
                .json(json!({"state": "contacted"}))
            },
        },
    ]
}

fn event_of(w: &World, s: Side) -> i64 {
    match s {
        Side::In => w.in_event,
        Side::Out => w.out_event,
    }
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            method: "post",
            path: "/api/v1/auth/login",
            want: anyone,
            build: |w, r, _, _| {
                let name = &w
                    .actors
                    .iter()
                    .find(|a| a.0 == r)
                    .map(|a| a.2.clone())
                    .unwrap_or_default();
                call(Method::POST, "/api/v1/auth/login")
                    .json(json!({"username": name, "password": PASSWORD}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/auth/logout",
            want: anyone,
            build: |_, _, _, _| Call {
                fresh: true,
                ..call(Method::POST, "/api/v1/auth/logout")
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/me"),
        },
        Row {
            method: "get",
            path: "/api/v1/nodes",
            want: staff_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/nodes"),
        },
        Row {
            method: "post",
            path: "/api/v1/nodes",
            want: admin_import,
            build: |_, _, s, n| {
                let parent = &node(s)[..12];
                call(Method::POST, "/api/v1/nodes").json(json!({"code": format!("{parent}{:03}", 900 + n), "name": "新网格", "parent": parent, "level": "small"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/nodes/{code}",
            want: node_read,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/nodes/{}", node(s))),
        },
        Row {
            method: "patch",
            path: "/api/v1/nodes/{code}",
            want: admin_write,
            build: |_, _, s, _| {
                call(Method::PATCH, format!("/api/v1/nodes/{}", node(s)))
                    .json(json!({"name": "改名"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/nodes/{code}/children",
            want: node_read,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/nodes/{}/children", node(s))),
        },
        Row {
            method: "get",
            path: "/api/v1/nodes/{code}/subtree",
            want: node_read,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/nodes/{}/subtree", node(s))),
        },
        Row {
            method: "post",
            path: "/api/v1/tree/import",
            want: admin_import,
            build: |_, _, s, n| {
                let village = &node(s)[..12];
                call(Method::POST, "/api/v1/tree/import").json(json!({"type": "FeatureCollection", "features": [
                    {"type": "Feature", "properties": {"code": format!("{village}{:03}", 800 + n), "name": "导入", "level": "small", "parent": village}, "geometry": null}]}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/tree/export",
            want: node_read,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/tree/export?root={}", node(s))),
        },
        Row {
            method: "get",
            path: "/api/v1/locate",
            want: anyone,
            build: |_, _, _, _| {
                call(
                    Method::GET,
                    format!("/api/v1/locate?lon={}&lat={}", IN_GRID.0, IN_GRID.1),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/users",
            want: admin_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/users?limit=1000"),
        },
        Row {
            method: "post",
            path: "/api/v1/users",
            want: |r, s| {
                if r == Role::Admin && s == Side::In {
                    Want::Ok
                } else {
                    Want::Refused
                }
            },
            build: |_, r, s, n| {
                call(Method::POST, "/api/v1/users").json(json!({
                "username": format!("made-{}-{n}", r.as_str().replace('_', "-")), "display_name": "新用户",
                "password": "a strong pass phrase", "role": "grid_worker", "scope": node(s)}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/users/{id}",
            want: |r, s| {
                if r == Role::Admin && s == Side::In {
                    Want::Ok
                } else {
                    Want::Hidden
                }
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!(
                        "/api/v1/users/{}",
                        if s == Side::In { w.in_user } else { w.out_user }
                    ),
                )
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/users/{id}",
            want: |r, s| {
                if r == Role::Admin && s == Side::In {
                    Want::Ok
                } else {
                    Want::Hidden
                }
            },
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!(
                        "/api/v1/users/{}",
                        if s == Side::In { w.in_user } else { w.out_user }
                    ),
                )
                .json(json!({"display_name": "改过的名字"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/departments",
            want: staff_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/departments"),
        },
        Row {
            method: "post",
            path: "/api/v1/departments",
            want: admin_write,
            build: |_, r, s, n| {
                call(Method::POST, "/api/v1/departments").json(json!({
                "code": format!("x{}-{n}", r.as_str()), "name": "新部门", "region": &node(s)[..12]}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/audit",
            want: admin_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/audit?limit=1000"),
        },
        Row {
            method: "get",
            path: "/api/v1/audit/verify",
            want: shared_setting,
            build: |_, _, _, _| call(Method::GET, "/api/v1/audit/verify"),
        },
        Row {
            method: "get",
            path: "/api/v1/categories",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/categories"),
        },
        Row {
            method: "post",
            path: "/api/v1/categories",
            want: shared_setting,
            build: |_, _, _, n| {
                call(Method::POST, "/api/v1/categories").json(json!({"code": format!("c{n}"), "name": "新类别",
                "accept_minutes": 60, "handle_minutes": 60, "verify_minutes": 60, "priority": 3, "on_spot": false}))
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/categories/{id}",
            want: shared_setting,
            build: |w, _, _, _| {
                call(Method::PATCH, format!("/api/v1/categories/{}", w.cast.gas)).json(json!({"code": "gas", "name": "燃气",
                "department_kind": "zj", "accept_minutes": 1, "handle_minutes": 1, "verify_minutes": 1, "priority": 1, "on_spot": false}))
            },
        },
        Row {
            method: "put",
            path: "/api/v1/categories/{id}/levels/{level}",
            want: shared_setting,
            build: |w, _, _, _| {
                call(
                    Method::PUT,
                    format!("/api/v1/categories/{}/levels/village", w.cast.gas),
                )
                .json(json!({"accept_minutes": 1, "handle_minutes": 1, "verify_minutes": 1}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/calendar",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/calendar"),
        },
        Row {
            method: "put",
            path: "/api/v1/calendar",
            want: shared_setting,
            build: |_, _, _, _| {
                call(Method::PUT, "/api/v1/calendar")
                    .json(json!({"holidays": [], "workdays": [], "periods": [["08:30", "12:00"]]}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/events",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/events?limit=500"),
        },
        Row {
            method: "post",
            path: "/api/v1/events",
            want: |r, s| match (r, s) {
                (Role::Leader | Role::Analyst, _) => Want::Forbidden,
                (_, Side::In) | (Role::Citizen, _) => Want::Ok,
                (_, Side::Out) => Want::Invalid,
            },
            build: |w, r, s, n| {
                let (lon, lat) = if s == Side::In {
                    IN_GRID
                } else {
                    IN_OTHER_COUNTY
                };
                Call { key: Some(format!("matrix-{}-{n}", r.as_str())),
                    ..call(Method::POST, "/api/v1/events").json(json!({"category_id": w.cast.garbage, "description": "矩阵测试", "lon": lon, "lat": lat})) }
            },
        },
        Row {
            method: "get",
            path: "/api/v1/events/sample",
            want: |r, _| {
                if r == Role::Dispatcher {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/events/sample?n=5"),
        },
        Row {
            method: "get",
            path: "/api/v1/events/{id}",
            want: record_read,
            build: |w, _, s, _| call(Method::GET, format!("/api/v1/events/{}", event_of(w, s))),
        },
        // Each move has its own path in the document; `moves_follow_the_rules_in_scope_and_are_hidden_outside`
        // calls every one as every role, in scope and out.
        Row {
            method: "post",
            path: "/api/v1/events/{id}/locate",
            want: |r, s| match (r, s) {
                (_, Side::Out) => Want::Hidden,
                // The order has a position already: past the permission check, refused (409).
                (Role::Dispatcher, Side::In) => Want::Allowed,
                _ => Want::Forbidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/events/{}/locate", event_of(w, s)),
                )
                .json(json!({"lon": IN_GRID.0, "lat": IN_GRID.1}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/events/{id}/duplicates",
            want: |r, s| match (r, s) {
                (_, Side::Out) => Want::Hidden,
                (Role::Dispatcher, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/events/{}/duplicates", event_of(w, s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/nodes/{code}/grid_first",
            want: node_read,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/nodes/{}/grid_first", node(s))),
        },
        Row {
            method: "put",
            path: "/api/v1/nodes/{code}/grid_first",
            want: admin_write,
            build: |_, _, s, _| {
                call(Method::PUT, format!("/api/v1/nodes/{}/grid_first", node(s)))
                    .json(json!({"enabled": false}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/inbox",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/inbox"),
        },
        Row {
            method: "get",
            path: "/api/v1/notifications",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/notifications"),
        },
        Row {
            method: "get",
            path: "/api/v1/notifications/stream",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/notifications/stream"),
        },
        Row {
            method: "post",
            path: "/api/v1/notifications/read_all",
            want: anyone,
            build: |_, _, _, _| call(Method::POST, "/api/v1/notifications/read_all"),
        },
        // In: a notice to the citizen (of their report's acceptance); nobody else's to read.
        Row {
            method: "post",
            path: "/api/v1/notifications/{id}/read",
            want: |r, s| match (r, s) {
                (Role::Citizen, Side::In) => Want::Ok,
                _ => Want::Hidden,
            },
            build: |w, _, s, _| {
                let id = if s == Side::In {
                    w.citizen_notice
                } else {
                    i64::MAX
                };
                call(Method::POST, format!("/api/v1/notifications/{id}/read"))
            },
        },
        // Names: staff only; who is listed is the domain's rule (tests/api/person.rs).
        Row {
            method: "get",
            path: "/api/v1/people",
            want: staff_only,
            build: |w, _, _, _| {
                call(
                    Method::GET,
                    format!("/api/v1/people?ids={},{}", w.in_user, w.out_user),
                )
            },
        },
        Row {
            method: "put",
            path: "/api/v1/users/{id}/phone",
            want: |r, s| {
                if r == Role::Admin && s == Side::In {
                    Want::Ok
                } else {
                    Want::Hidden
                }
            },
            build: |w, _, s, _| {
                call(
                    Method::PUT,
                    format!(
                        "/api/v1/users/{}/phone",
                        if s == Side::In { w.in_user } else { w.out_user }
                    ),
                )
                .json(json!({"phone": "13800001111"}))
            },
        },
        // The e-mail address warnings go to: as the phone (the user themselves is tested in
        // tests/api/person.rs).
        Row {
            method: "put",
            path: "/api/v1/users/{id}/email",
            want: |r, s| {
                if r == Role::Admin && s == Side::In {
                    Want::Ok
                } else {
                    Want::Hidden
                }
            },
            build: |w, _, s, _| {
                call(
                    Method::PUT,
                    format!(
                        "/api/v1/users/{}/email",
                        if s == Side::In { w.in_user } else { w.out_user }
                    ),
                )
                .json(json!({"email": "someone@example.org"}))
            },
        },
        // The reporter's phone: dispatchers of the holding centre only; hidden outside.
        Row {
            method: "post",
            path: "/api/v1/events/{id}/reporter_contact",
            want: |r, s| match (r, s) {
                (_, Side::Out) => Want::Hidden,
                (Role::Dispatcher, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/events/{}/reporter_contact", event_of(w, s)),
                )
                .json(json!({"purpose": "回访满意度"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/photos",
            want: anyone,
            build: |_, _, _, _| call(Method::POST, "/api/v1/photos"),
        },
        Row {
            method: "get",
            path: "/api/v1/photos/{hash}",
            want: record_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!(
                        "/api/v1/photos/{}",
                        if s == Side::In {
                            &w.in_photo
                        } else {
                            &w.out_photo
                        }
                    ),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/figures",
            want: |r, s| match (staff(r), s) {
                (false, _) => Want::Refused,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/figures?node={}", node(s))),
        },
        Row {
            method: "get",
            path: "/api/v1/tags",
            want: staff_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/tags"),
        },
        Row {
            method: "post",
            path: "/api/v1/tags",
            want: shared_setting,
            build: |_, _, _, n| {
                call(Method::POST, "/api/v1/tags").json(json!({"code": format!("m_{n}"), "name_zh": "矩阵", "name_en": "Matrix", "kind": "care"}))
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/tags/{code}",
            want: shared_setting,
            build: |_, _, _, _| {
                call(Method::PATCH, "/api/v1/tags/elderly_alone").json(json!({"visit_days": 20}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/residents/{id}/tags",
            want: care_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/residents/{}/tags", resident_of(w, s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/residents/{id}/tags",
            want: care_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/residents/{}/tags", resident_of(w, s)),
                )
                .json(json!({"tag": "disabled"}))
            },
        },
        Row {
            method: "delete",
            path: "/api/v1/residents/{id}/tags/{tag}",
            want: care_write,
            build: |w, _, s, _| {
                call(
                    Method::DELETE,
                    format!("/api/v1/residents/{}/tags/disabled", resident_of(w, s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/visits",
            want: care_write,
            build: |w, _, s, _| {
                call(Method::POST, "/api/v1/visits")
                    .json(json!({"resident_id": resident_of(w, s), "found": "nothing"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/visits",
            want: care_list,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/visits?node={}", node(s))),
        },
        Row {
            method: "get",
            path: "/api/v1/visits/due",
            want: care_list,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/visits/due?node={}", node(s))),
        },
        Row {
            method: "get",
            path: "/api/v1/visits/{id}",
            want: care_read,
            build: |w, _, s, _| call(Method::GET, format!("/api/v1/visits/{}", visit_of(w, s))),
        },
        Row {
            method: "get",
            path: "/api/v1/figures/base",
            want: care_list,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/figures/base?node={}", node(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/figures/export.xlsx",
            want: |r, s| match (staff(r), s) {
                (false, _) => Want::Refused,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/figures/export.xlsx?node={}", node(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/residents/import",
            want: base_write,
            // A body that is no resident sheet: a writer is refused by row or header (422),
            // never by scope; outside the scope the node is not found.
            build: |_, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/residents/import?node={}", node(s)),
                )
                .json(json!("姓名"))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/residents/import/template",
            want: |r, _| {
                if base_writer(r) {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/residents/import/template"),
        },
        Row {
            method: "post",
            path: "/api/v1/places/import",
            want: base_write,
            // A body that is no place sheet: a writer is refused by its header (422), never by
            // scope; outside the scope the node is not found.
            build: |_, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/places/import?node={}", node(s)),
                )
                .json(json!("场所名称"))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/places/import/template",
            want: |r, _| {
                if base_writer(r) {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/places/import/template"),
        },
        Row {
            method: "post",
            path: "/api/v1/organisations/import",
            want: base_write,
            build: |_, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/organisations/import?node={}", node(s)),
                )
                .json(json!("组织名称"))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/organisations/import/template",
            want: |r, _| {
                if base_writer(r) {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/organisations/import/template"),
        },
        Row {
            method: "post",
            path: "/api/v1/buildings/import",
            want: base_write,
            // A body that is no building sheet: a writer is refused by its header (422), never
            // by scope; outside the scope the node is not found.
            build: |_, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/buildings/import?node={}", node(s)),
                )
                .json(json!("楼栋名称"))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/buildings/import/template",
            want: |r, _| {
                if base_writer(r) {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/buildings/import/template"),
        },
        Row {
            method: "get",
            path: "/api/v1/residents/export",
            want: |r, s| match (r, s) {
                (Role::Leader | Role::Analyst, Side::In) => Want::Ok,
                (r, Side::In) if base_writer(r) => Want::Ok,
                _ => Want::Refused,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/residents/export?node={}", node(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/events/export.xlsx",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/events/export.xlsx"),
        },
        Row {
            method: "get",
            path: "/api/v1/inbox/export.xlsx",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/inbox/export.xlsx"),
        },
        Row {
            method: "get",
            path: "/api/v1/nodes/search",
            want: staff_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/nodes/search?q=%E7%BD%91%E6%A0%BC"),
        },
        Row {
            method: "post",
            path: "/api/v1/hotline",
            // Centre dispatchers take the calls, in their own area.
            want: |r, s| match (r, s) {
                (Role::Dispatcher, Side::In) => Want::Ok,
                (Role::Dispatcher, Side::Out) => Want::Invalid,
                _ => Want::Forbidden,
            },
            build: |w, r, s, n| {
                let (lon, lat) = if s == Side::In {
                    IN_GRID
                } else {
                    IN_OTHER_COUNTY
                };
                Call { key: Some(format!("matrix-hotline-{}-{n}", r.as_str())),
                    ..call(Method::POST, "/api/v1/hotline").json(json!({"category_id": w.cast.garbage, "description": "热线矩阵测试", "lon": lon, "lat": lat,
                        "caller_name": "张先生", "caller_phone": "13812345678", "callback": true})) }
            },
        },
        Row {
            method: "get",
            path: "/api/v1/events/{id}/caller",
            want: record_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/events/{}/caller", event_of(w, s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/map/nodes",
            want: staff_only,
            build: |_, _, _, _| {
                call(
                    Method::GET,
                    "/api/v1/map/nodes?level=grid&bbox=115.2,22.7,115.5,22.9&zoom=14",
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/map/events",
            want: staff_only,
            build: |_, _, _, _| {
                call(
                    Method::GET,
                    "/api/v1/map/events?bbox=115.2,22.7,115.5,22.9&open=false",
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/map/card",
            want: node_read,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/map/card?code={}", node(s))),
        },
        Row {
            method: "get",
            path: "/api/v1/residents",
            want: base_list,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/residents?node={}", node(s))),
        },
        Row {
            method: "post",
            path: "/api/v1/residents/search",
            want: base_list,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/residents/search")
                    .json(json!({"node": node(s), "phone": "13800138000"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/residents",
            want: |r, s| match (base_writer(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |_, _, s, n| {
                let id = shanzhi_domain::resident::id_number::complete(&format!(
                    "44150219900101{:03}",
                    n % 1000
                ));
                call(Method::POST, "/api/v1/residents").json(
                    json!({"node": node(s), "name": "矩阵", "id_kind": "resident_id",
                    "id_number": id, "residence": "floating"}),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/residents/{id}",
            want: base_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/residents/{}", Base::of(&w.base.resident, s)),
                )
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/residents/{id}",
            want: base_write,
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!("/api/v1/residents/{}", Base::of(&w.base.resident, s)),
                )
                .json(json!({"workplace": "矩阵"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/residents/{id}/reveal",
            want: base_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/residents/{}/reveal", Base::of(&w.base.resident, s)),
                )
                .json(json!({"field": "phone", "purpose": "矩阵核对"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/residents/{id}/move_out",
            want: base_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/residents/{}/move_out", Base::of(&w.base.spouse, s)),
                )
                .json(json!({"status": "moved_out"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/households",
            want: base_list,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/households?node={}", node(s))),
        },
        Row {
            method: "post",
            path: "/api/v1/households",
            want: |r, s| match (base_writer(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/households").json(json!({"node": node(s)}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/households/{id}",
            want: base_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/households/{}", Base::of(&w.base.household, s)),
                )
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/households/{id}",
            want: base_write,
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!("/api/v1/households/{}", Base::of(&w.base.household, s)),
                )
                .json(json!({"number": "M1"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/households/{id}/members",
            want: base_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!(
                        "/api/v1/households/{}/members",
                        Base::of(&w.base.household, s)
                    ),
                )
                .json(json!({"resident_id": Base::of(&w.base.spouse, s), "relation": "spouse"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me/household",
            want: |r, _| {
                if r == Role::Citizen {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/household"),
        },
        Row {
            method: "post",
            path: "/api/v1/me/household/corrections",
            want: own_household,
            build: |w, _, s, _| {
                call(Method::POST, "/api/v1/me/household/corrections").json(json!({
                    "resident_id": Base::of(&w.base.resident, s), "field": "workplace", "value": "矩阵", "note": "矩阵"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/corrections",
            want: base_list,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/corrections?node={}", node(s))),
        },
        Row {
            method: "post",
            path: "/api/v1/corrections/{id}/decide",
            want: base_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!(
                        "/api/v1/corrections/{}/decide",
                        Base::of(&w.base.correction, s)
                    ),
                )
                .json(json!({"accept": false, "note": "矩阵"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/households/{id}/members/{resident_id}/remove",
            want: base_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!(
                        "/api/v1/households/{}/members/{}/remove",
                        Base::of(&w.base.household, s),
                        Base::of(&w.base.spouse, s)
                    ),
                )
            },
        },
    ]
}

/// The record of a side: [in, out].
fn side_of(a: &[i64; 2], s: Side) -> i64 {
    Base::of(a, s)
}

/// The risk centre: analysts, dispatchers and administrators.
fn risk_centre(r: Role) -> bool {
    matches!(r, Role::Analyst | Role::Dispatcher | Role::Admin)
}

/// Who reads risks: the centre, leaders, and handlers (of the departments working on them).
fn risk_reader(r: Role) -> bool {
    risk_centre(r) || matches!(r, Role::Leader | Role::Handler)
}

/// The centres: dispatchers and administrators.
fn centre(r: Role) -> bool {
    matches!(r, Role::Admin | Role::Dispatcher)
}

/// Staff who read cases of their area: the centres, leaders, analysts.
fn case_reader(r: Role) -> bool {
    matches!(
        r,
        Role::Admin | Role::Dispatcher | Role::Leader | Role::Analyst
    )
}

/// Staff who read the mediator pool.
fn pool_reader(r: Role) -> bool {
    case_reader(r) || r == Role::Mediator
}

/// A village centre code of a side (mediators and panels serve centres).
fn village(s: Side) -> &'static str {
    match s {
        Side::In => "441502001001",
        Side::Out => "441521001001",
    }
}

/// Disputes and the mediator pool. The in-scope case was taken in by the grid worker and is
/// assigned to the matrix's mediator; the citizen and the handler have no part in it.
fn dispute_rows() -> Vec<Row> {
    vec![
        Row {
            method: "post",
            path: "/api/v1/events/{id}/dispute",
            // The in-scope order is not of the dispute category: past the check, a 409.
            want: |r, s| match (centre(r), s) {
                (true, Side::In) => Want::Allowed,
                _ => Want::Refused,
            },
            build: |w, _, s, _| {
                let id = match s {
                    Side::In => w.in_event,
                    Side::Out => w.out_event,
                };
                call(Method::POST, format!("/api/v1/events/{id}/dispute")).json(json!({}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/dispute-types",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/dispute-types"),
        },
        Row {
            method: "post",
            path: "/api/v1/dispute-types",
            want: |r, _| {
                if r == Role::Admin {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, n| {
                call(Method::POST, "/api/v1/dispute-types")
                    .json(json!({"code": format!("m{n}"), "name_zh": "矩阵", "name_en": "Matrix", "parent": "family"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/disputes",
            want: |r, s| match (r, s) {
                (Role::Handler, _) => Want::Forbidden,
                (r, Side::Out) if case_reader(r) => Want::Hidden,
                _ => Want::Ok,
            },
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/disputes?node={}", node(s))),
        },
        Row {
            method: "post",
            path: "/api/v1/disputes",
            want: |r, s| match (
                matches!(r, Role::Admin | Role::Dispatcher | Role::GridWorker),
                s,
            ) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/disputes").json(
                    json!({"node": node(s), "type": "family", "source": "walk_in",
                    "summary": "矩阵", "parties": [{"role": "applicant", "name": "矩阵"}]}),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/disputes/{id}",
            want: |r, s| match (r, s) {
                (Role::Handler | Role::Citizen, _) | (_, Side::Out) => Want::Hidden,
                _ => Want::Ok,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/disputes/{}", side_of(&w.disputes.case, s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/disputes/{id}/actions",
            want: |r, s| match (centre(r) || r == Role::Mediator, s) {
                (true, Side::In) => Want::Allowed,
                _ => Want::Refused,
            },
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/disputes/{}/actions", side_of(&w.disputes.case, s)),
                )
                .json(json!({"action": "invite_panel", "panel_id": side_of(&w.disputes.panel, s)}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/disputes/{id}/sessions",
            want: |r, s| match (centre(r) || r == Role::Mediator, s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/disputes/{}/sessions", side_of(&w.disputes.case, s)),
                )
                .json(json!({"at": 1_800_000_000_000_i64, "place": "矩阵", "attendees": ["矩阵"]}))
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/disputes/{id}/sessions/{sid}",
            want: |r, s| match (centre(r) || r == Role::Mediator, s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!(
                        "/api/v1/disputes/{}/sessions/{}",
                        side_of(&w.disputes.case, s),
                        side_of(&w.disputes.session, s)
                    ),
                )
                .json(json!({"record": "矩阵"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/disputes/{id}/suggestions",
            want: |r, s| match (centre(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!(
                        "/api/v1/disputes/{}/suggestions",
                        side_of(&w.disputes.case, s)
                    ),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me/disputes",
            want: |r, _| {
                if r == Role::Citizen {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/disputes"),
        },
        Row {
            method: "post",
            path: "/api/v1/me/disputes",
            want: |r, _| {
                if r == Role::Citizen {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/me/disputes")
                    .json(json!({"type": "family", "summary": "矩阵", "node": node(s)}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/map/disputes",
            want: |r, s| match (case_reader(r), s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/map/disputes?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/figures/disputes",
            want: |r, s| match (case_reader(r), s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/figures/disputes?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/risk-rules",
            want: |r, _| {
                if risk_centre(r) || r == Role::Leader {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/risk-rules"),
        },
        Row {
            method: "post",
            path: "/api/v1/risk-rules",
            want: |r, s| match (r, s) {
                (Role::Admin, Side::In) => Want::Ok,
                (Role::Admin, Side::Out) => Want::Hidden,
                _ => Want::Forbidden,
            },
            build: |_, _, s, n| {
                call(Method::POST, "/api/v1/risk-rules").json(json!({"name": format!("矩阵{n}"),
                    "kind": "dispute_flags", "params": {"violence": true}, "node": village(s), "risk_type": "dispute"}))
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/risk-rules/{id}",
            want: |r, s| match (r, s) {
                (Role::Admin, Side::In) => Want::Ok,
                (Role::Admin, Side::Out) => Want::Hidden,
                _ => Want::Forbidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!("/api/v1/risk-rules/{}", side_of(&w.risks.rule, s)),
                )
                .json(json!({"enabled": true}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/risk-levels",
            want: |r, _| {
                if risk_reader(r) {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/risk-levels"),
        },
        Row {
            method: "patch",
            path: "/api/v1/risk-levels/{level}",
            // Only the deployment's top administrators; the matrix's sit at a village.
            want: |_, _| Want::Forbidden,
            build: |_, _, _, _| {
                call(Method::PATCH, "/api/v1/risk-levels/red").json(json!({"deadline_hours": 24}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/risks",
            want: |r, s| match (risk_reader(r), s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/risks?node={}", node(s))),
        },
        Row {
            method: "post",
            path: "/api/v1/risks",
            want: |r, s| match (risk_centre(r) || r == Role::Handler, s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/risks")
                    .json(json!({"node": node(s), "type": "safety", "title": "矩阵"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/risks/board",
            want: |r, s| match (risk_centre(r) || r == Role::Leader, s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/risks/board?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/risks/{id}",
            want: |r, s| match (risk_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Hidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/risks/{}", side_of(&w.risks.risk, s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/risks/{id}/actions",
            want: |r, s| match (risk_centre(r) || r == Role::Handler, s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/risks/{}/actions", side_of(&w.risks.risk, s)),
                )
                .json(json!({"action": "report", "text": "矩阵"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/figures/risks",
            want: |r, s| match (risk_centre(r) || r == Role::Leader, s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/figures/risks?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/mediators",
            want: |r, s| match (pool_reader(r), s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/mediators?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/mediators",
            want: |r, s| match (centre(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/mediators").json(json!({"name": "矩阵", "kind": "lawyer", "specialties": ["family"], "node": village(s)}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/mediators/{id}",
            want: |r, s| match (pool_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Hidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/mediators/{}", side_of(&w.disputes.mediator, s)),
                )
            },
        },
        Row {
            method: "patch",
            path: "/api/v1/mediators/{id}",
            want: |r, s| match (centre(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |w, _, s, _| {
                call(
                    Method::PATCH,
                    format!("/api/v1/mediators/{}", side_of(&w.disputes.mediator, s)),
                )
                .json(json!({"rating": 4.0}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/panels",
            want: |r, _| {
                if pool_reader(r) {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/panels"),
        },
        Row {
            method: "post",
            path: "/api/v1/panels",
            want: |r, s| match (centre(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Refused,
            },
            build: |w, _, s, _| {
                call(Method::POST, "/api/v1/panels").json(
                    json!({"name": "矩阵", "node": village(s), "specialties": ["family"],
                    "member_ids": [side_of(&w.disputes.mediator, s)]}),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/panels/{id}",
            want: |r, s| match (pool_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Hidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/panels/{}", side_of(&w.disputes.panel, s)),
                )
            },
        },
        // The agreement (调解协议书): whoever reads the case reads it; the matrix's case has
        // none yet, so a reader is answered 409 past the permission check.
        Row {
            method: "get",
            path: "/api/v1/disputes/{id}/agreement",
            want: |r, s| match (r, s) {
                (Role::Handler | Role::Citizen, _) | (_, Side::Out) => Want::Hidden,
                _ => Want::Allowed,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!(
                        "/api/v1/disputes/{}/agreement",
                        side_of(&w.disputes.case, s)
                    ),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/disputes/{id}/agreement.docx",
            want: |r, s| match (r, s) {
                (Role::Handler | Role::Citizen, _) | (_, Side::Out) => Want::Hidden,
                _ => Want::Allowed,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!(
                        "/api/v1/disputes/{}/agreement.docx",
                        side_of(&w.disputes.case, s)
                    ),
                )
            },
        },
        // The map's disputes layer: for the staff who read cases of their area.
        Row {
            method: "get",
            path: "/api/v1/map/dispute-centres",
            want: |r, s| match (case_reader(r), s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/map/dispute-centres?node={}", village(s)),
                )
            },
        },
    ]
}

async fn send(app: &TestApp, who: &Session, c: &Call) -> (StatusCode, Value) {
    let token = if c.fresh {
        let name = app
            .get("/api/v1/me", Some(who))
            .await
            .json::<Value>()
            .await
            .unwrap()["username"]
            .as_str()
            .unwrap()
            .to_owned();
        app.login(&name).await.token
    } else {
        who.token.clone()
    };
    let mut req = app
        .client
        .request(c.method.clone(), format!("{}{}", app.url, c.path))
        .bearer_auth(token);
    if let Some(k) = &c.key {
        req = req.header("idempotency-key", k);
    }
    if c.path == "/api/v1/photos" {
        req = req
            .header("content-type", "image/png")
            .body(PNG_IN.to_vec());
    } else if let Some(b) = &c.body {
        req = req.json(b);
    }
    let r = req.send().await.expect("request");
    let status = r.status();
    // A live stream never ends: its status is the answer.
    if r.headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
    {
        return (status, Value::Null);
    }
    let text = r.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Uploads a photo that must be accepted; answers its hash.
pub async fn upload(app: &TestApp, who: &Session, bytes: &'static [u8]) -> String {
    let r = app
        .client
        .post(format!("{}/api/v1/photos", app.url))
        .bearer_auth(&who.token)
        .header("content-type", "image/png")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Reports with a photo at a point as `who`; returns the event id.
async fn report_at(
    app: &TestApp,
    who: &Session,
    category: i64,
    at: (f64, f64),
    photo: &str,
    key: &str,
) -> i64 {
    let r = app
        .client
        .post(format!("{}/api/v1/events", app.url))
        .bearer_auth(&who.token)
        .header("idempotency-key", key)
        .json(&json!({"category_id": category, "description": "矩阵", "lon": at.0, "lat": at.1, "photos": [photo]}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// An order in village 001 reported by the citizen and dispatched to 城管 (the in-scope record).
async fn dispatched_order(app: &TestApp, c: &Cast, photo: &str, key: &str) -> i64 {
    let id = report_at(app, &c.citizen, c.garbage, IN_GRID, photo, key).await;
    app.act_ok(&c.dispatcher, id, "accept", json!({})).await;
    app.act_ok(
        &c.dispatcher,
        id,
        "dispatch",
        json!({"department_id": c.cg_id}),
    )
    .await;
    id
}

async fn world(app: &TestApp) -> World {
    let cast = app.seed_loop().await;
    crate::house::seed_other_county(app).await;
    let in_photo = upload(app, &cast.citizen, PNG_IN).await;
    let out_photo = upload(app, &cast.citizen2, PNG_OUT).await;
    let in_event = dispatched_order(app, &cast, &in_photo, "world-in").await;
    let out_event = report_at(
        app,
        &cast.citizen2,
        cast.gas,
        IN_VILLAGE_2,
        &out_photo,
        "world-out",
    )
    .await;
    let mut actors = Vec::new();
    for role in Role::ALL {
        let (session, name) = match role {
            Role::GridWorker => (cast.worker.clone(), "worker".to_owned()),
            Role::Dispatcher => (cast.dispatcher.clone(), "vdisp".to_owned()),
            Role::Handler => (cast.cg.clone(), "cg-handler".to_owned()),
            Role::Citizen => (cast.citizen.clone(), "citizen".to_owned()),
            other => {
                let name = format!("m-{}", other.as_str().replace('_', "-"));
                (app.user(&name, other, Some("441502001001")).await, name)
            }
        };
        actors.push((role, session, name));
    }
    let in_user = app
        .create_user("inside", Role::GridWorker, Some("441502001001002"), None)
        .await;
    let out_user = cast.other_dispatcher.user_id;
    let notes = app.get_json("/api/v1/notifications", &cast.citizen).await;
    let citizen_notice = notes["items"][0]["id"]
        .as_i64()
        .expect("a notice to the citizen");
    // The reporter left a phone for call-backs.
    shanzhi_store::user::set_phone(
        &app.state.db,
        &app.state.pii,
        cast.citizen.user_id,
        Some("13812345678"),
        None,
        0,
    )
    .await
    .unwrap();
    let in_resident = crate::tag::insert_resident(app, "441502001001001", "矩阵甲").await;
    let out_resident = crate::tag::insert_resident(app, "441521001001001", "矩阵乙").await;
    let visit = |resident: i64, node: &str| shanzhi_store::visit::NewVisit {
        resident_id: resident,
        node_code: node.to_owned(),
        user_id: cast.worker.user_id,
        at: 0,
        lon: None,
        lat: None,
        notes: String::new(),
        found: "nothing".into(),
        event_id: None,
        photos: Vec::new(),
    };
    let in_visit =
        shanzhi_store::visit::insert(&app.state.db, &visit(in_resident, "441502001001001"))
            .await
            .unwrap();
    let out_visit =
        shanzhi_store::visit::insert(&app.state.db, &visit(out_resident, "441521001001001"))
            .await
            .unwrap();
    let base = base_world(app, &cast).await;
    let users: Vec<(Role, i64)> = actors.iter().map(|(r, s, _)| (*r, s.user_id)).collect();
    let places = crate::house::base_world(app, &users).await;
    let mediator = users
        .iter()
        .find(|(r, _)| *r == Role::Mediator)
        .map(|(_, id)| *id)
        .unwrap();
    let disputes = crate::dispute::dispute_world(app, &cast, mediator).await;
    let risks = crate::risk::risk_world(app, &cast).await;
    let warnings = warning_world(app, &cast.dispatcher).await;
    let briefings = crate::briefing::briefing_world(app).await;
    let ledger = crate::ledger::ledger_world(app, cast.worker.user_id).await;
    let (notices, questions) =
        crate::question::public_affairs_world(app, cast.worker.user_id).await;
    let contracts = crate::contract::contract_world(app, cast.worker.user_id).await;
    let points = crate::points::points_world(app, cast.worker.user_id).await;
    let consultations = crate::consultation::consultation_world(app, cast.worker.user_id).await;
    let (drafts, opinions) = crate::opinion::opinion_world(app, cast.worker.user_id).await;
    World {
        consultations,
        drafts,
        opinions,
        ledger,
        points,
        notices,
        questions,
        contracts,
        briefings,
        risks,
        warnings,
        disputes,
        places,
        base,
        in_resident,
        out_resident,
        in_visit,
        out_visit,
        citizen_notice,
        cast,
        actors,
        in_event,
        out_event,
        in_photo,
        out_photo,
        in_user,
        out_user,
    }
}

/// Registers a resident as `who` at `node`; its id.
async fn resident_at(app: &TestApp, who: &Session, node: &str, seq: u32, phone: &str) -> i64 {
    let id = shanzhi_domain::resident::id_number::complete(&format!("44150219800101{seq:03}"));
    let r = app
        .post_json(
            "/api/v1/residents",
            Some(who),
            json!({"node": node, "name": "矩阵居民", "id_kind": "resident_id",
            "id_number": id, "phone": phone, "residence": "registered"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// A household at `node` with `head` and `spouse`, the head linked to `citizen`, and a
/// correction the citizen asked for: (household, correction).
async fn household_at(
    app: &TestApp,
    who: &Session,
    node: &str,
    head: i64,
    spouse: i64,
    citizen: &Session,
) -> (i64, i64) {
    let r = app
        .post_json("/api/v1/households", Some(who), json!({"node": node}))
        .await;
    let hh = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for (rid, rel) in [(head, "head"), (spouse, "spouse")] {
        let r = app
            .post_json(
                &format!("/api/v1/households/{hh}/members"),
                Some(who),
                json!({"resident_id": rid, "relation": rel}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .patch_json(
            &format!("/api/v1/residents/{head}"),
            who,
            json!({"user_id": citizen.user_id}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post_json(
            "/api/v1/me/household/corrections",
            Some(citizen),
            json!({"resident_id": spouse, "field": "name", "value": "矩阵改"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    (hh, r.json::<Value>().await.unwrap()["id"].as_i64().unwrap())
}

async fn base_world(app: &TestApp, cast: &Cast) -> Base {
    let county = app
        .user("m-county-admin", Role::Admin, Some("441521000000"))
        .await;
    let (inside, outside) = (node(Side::In), node(Side::Out));
    let r_in = resident_at(app, &cast.worker, inside, 1, "13811112222").await;
    let s_in = resident_at(app, &cast.worker, inside, 2, "13811113333").await;
    let r_out = resident_at(app, &county, outside, 3, "13811114444").await;
    let s_out = resident_at(app, &county, outside, 4, "13811115555").await;
    let (h_in, c_in) = household_at(app, &cast.worker, inside, r_in, s_in, &cast.citizen).await;
    let (h_out, c_out) = household_at(app, &county, outside, r_out, s_out, &cast.citizen2).await;
    Base {
        resident: [r_in, r_out],
        household: [h_in, h_out],
        spouse: [s_in, s_out],
        correction: [c_in, c_out],
    }
}

/// A warning sent by the village's dispatcher to the in-scope grid, and one sent by the other
/// county's administrator to its grid.
async fn warning_world(app: &TestApp, dispatcher: &Session) -> [i64; 2] {
    let other = app
        .user("warn-admin-out", Role::Admin, Some("441521000000"))
        .await;
    let mut ids = [0; 2];
    for (i, (who, grid)) in [(dispatcher, node(Side::In)), (&other, node(Side::Out))]
        .into_iter()
        .enumerate()
    {
        let r = app
            .post_json(
                "/api/v1/warnings",
                Some(who),
                json!({"title": "矩阵预警", "message": "矩阵", "level": "blue", "grids": [grid]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        ids[i] = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    }
    ids
}

/// Reading warnings: staff of an area (handlers and citizens apart), hidden outside it.
fn warning_read(r: Role, s: Side) -> Want {
    match (r, s) {
        (Role::Citizen | Role::Handler, _) => Want::Forbidden,
        (_, Side::In) => Want::Ok,
        (_, Side::Out) => Want::Hidden,
    }
}

/// Sending a warning: administrators, dispatchers and analysts, for grids of their area.
fn warning_send(r: Role, s: Side) -> Want {
    match (r, s) {
        (Role::Admin | Role::Dispatcher | Role::Analyst, Side::In) => Want::Ok,
        (Role::Admin | Role::Dispatcher | Role::Analyst, Side::Out) => Want::Hidden,
        _ => Want::Forbidden,
    }
}

/// The rows of the warnings (预警发布).
fn warning_rows() -> Vec<Row> {
    vec![
        Row {
            method: "get",
            path: "/api/v1/warnings",
            want: warning_read,
            build: |_, _, s, _| call(Method::GET, format!("/api/v1/warnings?node={}", node(s))),
        },
        Row {
            method: "post",
            path: "/api/v1/warnings",
            want: warning_send,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/warnings").json(
                    json!({"title": "矩阵", "message": "矩阵", "level": "yellow", "grids": [node(s)]}),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/warnings/{id}",
            want: warning_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/warnings/{}", w.warnings[ix(s)]),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/warnings/{id}/cap",
            // Public broadcasts: anyone, with or without a session.
            want: anyone,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/warnings/{}/cap", w.warnings[ix(s)]),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/warnings/feed",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/warnings/feed"),
        },
        Row {
            method: "get",
            path: "/api/v1/me/warnings",
            want: |r, _| {
                if r == Role::Citizen {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/warnings"),
        },
        // The village books: read by staff whose area holds the village; every move needs a
        // duty no matrix actor holds (tests/api/ledger.rs walks the duties).
        Row {
            method: "get",
            path: "/api/v1/ledger/accounts",
            want: anyone,
            build: |_, _, _, _| call(Method::GET, "/api/v1/ledger/accounts"),
        },
        Row {
            method: "get",
            path: "/api/v1/ledger/entries",
            want: |r, s| match (ledger_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/ledger/entries?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/ledger/entries",
            want: |_, _| Want::Forbidden,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/ledger/entries").json(json!({"node": village(s), "kind": "income",
                    "date": "2026-09-08", "summary": "矩阵", "lines": [{"account": "101", "side": "debit", "amount": "1"},
                    {"account": "501", "side": "credit", "amount": "1"}]}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/ledger/entries/{id}",
            want: ledger_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/ledger/entries/{}", Base::of(&w.ledger, s)),
                )
            },
        },
        Row {
            method: "put",
            path: "/api/v1/ledger/entries/{id}",
            want: ledger_move,
            build: |w, _, s, _| {
                call(Method::PUT, format!("/api/v1/ledger/entries/{}", Base::of(&w.ledger, s))).json(json!({"kind": "income",
                    "date": "2026-09-08", "summary": "矩阵", "version": 1, "lines": [{"account": "101", "side": "debit", "amount": "1"},
                    {"account": "501", "side": "credit", "amount": "1"}]}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/ledger/entries/{id}/actions",
            want: ledger_move,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/ledger/entries/{}/actions", Base::of(&w.ledger, s)),
                )
                .json(json!({"action": "submit", "version": 1}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/ledger/balances",
            want: ledger_read,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/ledger/balances?node={}&month=2026-09", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/ledger/statements",
            want: ledger_read,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!(
                        "/api/v1/ledger/statements?node={}&month=2026-09",
                        village(s)
                    ),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/ledger/statements/export.xlsx",
            want: ledger_read,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!(
                        "/api/v1/ledger/statements/export.xlsx?node={}&month=2026-09",
                        village(s)
                    ),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/ledger/closes",
            want: |_, _| Want::Forbidden,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/ledger/closes")
                    .json(json!({"node": village(s), "month": "2026-09"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me/ledger",
            want: |r, _| {
                if r == Role::Citizen {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/ledger"),
        },
        // The contracts register: read like the books; registered and changed by duty holders
        // (none in the matrix; tests/api/contract.rs walks them) and by administrators whose
        // area holds the village.
        Row {
            method: "get",
            path: "/api/v1/contracts",
            want: |r, s| match (ledger_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/contracts?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/contracts",
            want: |r, s| match (r, s) {
                (Role::Admin, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/contracts").json(json!({"node": village(s), "number": "矩阵-2",
                    "kind": "land", "asset_name": "矩阵地块", "area": "3.5", "unit": "mu", "counterparty": "矩阵",
                    "start": "2024-01-01", "end": "2033-12-31", "yearly_price": "2100"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/contracts/summary",
            want: |r, s| match (ledger_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/contracts/summary?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/contracts/{id}",
            want: ledger_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/contracts/{}", Base::of(&w.contracts, s)),
                )
            },
        },
        Row {
            method: "put",
            path: "/api/v1/contracts/{id}",
            want: contract_write,
            build: |w, _, s, _| {
                call(Method::PUT, format!("/api/v1/contracts/{}", Base::of(&w.contracts, s))).json(json!({
                    "number": "矩阵-1", "kind": "pond", "asset_name": "矩阵鱼塘", "area": "10", "unit": "mu",
                    "counterparty": "矩阵", "start": "2022-01-01", "end": "2030-12-31", "yearly_price": "1000",
                    "version": 1}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/contracts/{id}/flags/{flag}",
            want: contract_write,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!(
                        "/api/v1/contracts/{}/flags/no_meeting_approval",
                        Base::of(&w.contracts, s)
                    ),
                )
                .json(json!({"status": "rectifying", "note": "矩阵"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me/contracts",
            want: |r, _| {
                if r == Role::Citizen {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/contracts"),
        },
        Row {
            method: "get",
            path: "/api/v1/users/{id}/duties",
            want: |r, s| {
                if r == Role::Admin && s == Side::In {
                    Want::Ok
                } else {
                    Want::Hidden
                }
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!(
                        "/api/v1/users/{}/duties",
                        if s == Side::In { w.in_user } else { w.out_user }
                    ),
                )
            },
        },
        Row {
            method: "put",
            path: "/api/v1/users/{id}/duties",
            want: |r, s| match (r, s) {
                (Role::Admin, Side::In) => Want::Ok,
                (Role::Admin, Side::Out) => Want::Hidden,
                _ => Want::Forbidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::PUT,
                    format!(
                        "/api/v1/users/{}/duties",
                        if s == Side::In { w.in_user } else { w.out_user }
                    ),
                )
                .json(json!({"duties": []}))
            },
        },
        // The points system: the village's staff manage (not leaders, who change nothing, nor
        // the grid worker, whose area is one grid); its residents (the citizen) read the rules,
        // the shop and the ranking, and redeem.
        Row {
            method: "get",
            path: "/api/v1/points/rules",
            want: points_public,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/points/rules?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/points/rules",
            want: points_write,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/points/rules").json(
                    json!({"node": village(s), "name": "矩阵", "points": 3, "kind": "manual"}),
                )
            },
        },
        Row {
            method: "put",
            path: "/api/v1/points/rules/{id}",
            want: points_change,
            build: |w, _, s, _| {
                call(
                    Method::PUT,
                    format!("/api/v1/points/rules/{}", Base::of(&w.points.rule, s)),
                )
                .json(json!({"name": "矩阵", "points": 5, "active": true}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/points/awards",
            want: points_write,
            build: |w, _, s, _| {
                call(Method::POST, "/api/v1/points/awards").json(json!({"node": village(s),
                    "user_id": w.cast.citizen.user_id, "rule_id": Base::of(&w.points.rule, s), "note": "矩阵"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/points/awards",
            want: points_staff,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/points/awards?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/points/residents",
            want: points_staff,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/points/residents?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/points/ranking",
            want: points_public,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/points/ranking?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/points/items",
            want: points_public,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/points/items?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/points/items",
            want: points_write,
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/points/items")
                    .json(json!({"node": village(s), "name": "矩阵", "price": 5, "stock": 1}))
            },
        },
        Row {
            method: "put",
            path: "/api/v1/points/items/{id}",
            want: points_change,
            build: |w, _, s, _| {
                call(
                    Method::PUT,
                    format!("/api/v1/points/items/{}", Base::of(&w.points.item, s)),
                )
                .json(json!({"name": "矩阵", "price": 5, "restock": 1, "active": true}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/points/redemptions",
            want: |r, s| match (r, s) {
                (Role::Citizen, Side::In) => Want::Allowed,
                (Role::Citizen, Side::Out) => Want::Hidden,
                _ => Want::Forbidden,
            },
            build: |w, _, s, _| {
                call(Method::POST, "/api/v1/points/redemptions")
                    .json(json!({"item_id": Base::of(&w.points.item, s), "quantity": 1}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/points/redemptions",
            want: points_staff,
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/points/redemptions?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me/points",
            want: |r, _| {
                if r == Role::Citizen {
                    Want::Ok
                } else {
                    Want::Forbidden
                }
            },
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/points"),
        },
        // Public affairs: read by the books' readers; written and answered by whoever speaks
        // for the village (dispatchers and administrators over it, or a duty); the matrix's
        // citizen lives in village 441502001001: they read its published notices and its
        // questions, and ask about them.
        Row {
            method: "get",
            path: "/api/v1/disclosures",
            want: |r, s| match (ledger_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/disclosures?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/disclosures",
            want: |r, s| match (r, s) {
                (Role::Dispatcher | Role::Admin, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/disclosures").json(
                    json!({"node": village(s), "kind": "village", "title": "矩阵", "body": "正文"}),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/disclosures/{id}",
            want: public_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/disclosures/{}", Base::of(&w.notices, s)),
                )
            },
        },
        Row {
            method: "put",
            path: "/api/v1/disclosures/{id}",
            want: speaker_move,
            build: |w, _, s, _| {
                call(
                    Method::PUT,
                    format!("/api/v1/disclosures/{}", Base::of(&w.notices, s)),
                )
                .json(json!({"kind": "village", "title": "矩阵", "body": "正文", "version": 0}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/disclosures/{id}/actions",
            want: speaker_move,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/disclosures/{}/actions", Base::of(&w.notices, s)),
                )
                .json(json!({"action": "pin", "version": 0}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me/disclosures",
            want: citizen_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/disclosures"),
        },
        Row {
            method: "get",
            path: "/api/v1/questions",
            want: |r, s| match (ledger_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/questions?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/questions",
            want: |r, s| match (r, s) {
                (Role::Citizen, Side::In) => Want::Ok,
                (Role::Citizen, Side::Out) => Want::Hidden,
                _ => Want::Forbidden,
            },
            build: |w, _, s, _| {
                call(Method::POST, "/api/v1/questions")
                    .json(json!({"subject": "disclosure", "subject_id": Base::of(&w.notices, s), "text": "矩阵？"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/questions/{id}",
            want: public_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/questions/{}", Base::of(&w.questions, s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/questions/{id}/answer",
            want: speaker_move,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/questions/{}/answer", Base::of(&w.questions, s)),
                )
                .json(json!({"text": "矩阵", "version": 0}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/figures/village-affairs",
            want: |r, s| match (ledger_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/figures/village-affairs?node={}", village(s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me/questions",
            want: citizen_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/questions"),
        },
        // Consultations (协商议事): read like the notices; topics put and moved by whoever speaks
        // for the village; comments by its residents and by those who speak for it.
        Row {
            method: "get",
            path: "/api/v1/consultations",
            want: |r, s| match (ledger_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/consultations?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/consultations",
            want: |r, s| match (r, s) {
                (Role::Dispatcher | Role::Admin, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/consultations")
                    .json(json!({"node": village(s), "title": "矩阵", "body": "正文"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/consultations/{id}",
            want: public_read,
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/consultations/{}", Base::of(&w.consultations, s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/consultations/{id}/comments",
            want: |r, s| match (r, ledger_reader(r), s) {
                (Role::Citizen | Role::Dispatcher | Role::Admin, _, Side::In) => Want::Ok,
                (_, true, Side::In) => Want::Forbidden,
                _ => Want::Hidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!(
                        "/api/v1/consultations/{}/comments",
                        Base::of(&w.consultations, s)
                    ),
                )
                .json(json!({"text": "矩阵意见"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/consultations/{id}/hold",
            want: speaker_move,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/consultations/{}/hold", Base::of(&w.consultations, s)),
                )
                .json(json!({"held_at": 0, "place": "矩阵", "attendees": 1, "record": "记录", "version": 0}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/consultations/{id}/conclude",
            want: speaker_move,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!(
                        "/api/v1/consultations/{}/conclude",
                        Base::of(&w.consultations, s)
                    ),
                )
                .json(json!({"decision": "agreed", "text": "矩阵", "version": 0}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/consultations/{id}/withdraw",
            want: speaker_move,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!(
                        "/api/v1/consultations/{}/withdraw",
                        Base::of(&w.consultations, s)
                    ),
                )
                .json(json!({"reason": "矩阵", "version": 0}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me/consultations",
            want: citizen_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/consultations"),
        },
        // Legislative-opinion collection (立法意见征集): drafts put out and moved by the
        // dispatchers and administrators over the area; read by everyone in it (a handler
        // reads none); opinions given by its residents; every opinion read by staff over it.
        Row {
            method: "get",
            path: "/api/v1/draft-laws",
            want: |r, s| match (ledger_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/draft-laws?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/draft-laws",
            // Past the permission check the closing date is checked against the server's day.
            want: |r, s| match (r, s) {
                (Role::Dispatcher | Role::Admin, Side::In) => Want::Allowed,
                _ => Want::Forbidden,
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/draft-laws").json(json!({"node": village(s),
                    "title": "矩阵", "issuer": "矩阵", "articles": ["第一条"], "closes_on": "2026-12-31"}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/draft-laws/{id}",
            want: |r, s| match (r, s) {
                (Role::Handler, _) | (_, Side::Out) => Want::Hidden,
                _ => Want::Ok,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/draft-laws/{}", Base::of(&w.drafts, s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/draft-laws/{id}/opinions",
            want: |r, s| match (r, s) {
                (Role::Handler, _) | (_, Side::Out) => Want::Hidden,
                (Role::Citizen, _) => Want::Ok,
                _ => Want::Forbidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/draft-laws/{}/opinions", Base::of(&w.drafts, s)),
                )
                .json(json!({"article": 1, "text": "矩阵意见"}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/draft-laws/{id}/close",
            want: draft_move,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/draft-laws/{}/close", Base::of(&w.drafts, s)),
                )
                .json(json!({"version": 0}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/draft-laws/{id}/finish",
            want: draft_move,
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/draft-laws/{}/finish", Base::of(&w.drafts, s)),
                )
                .json(json!({"version": 0}))
            },
        },
        Row {
            method: "post",
            path: "/api/v1/opinions/{id}/mark",
            want: |r, s| match (r, s) {
                (Role::Dispatcher | Role::Admin, Side::In) => Want::Allowed,
                (Role::Leader | Role::Analyst | Role::Mediator, Side::In) => Want::Forbidden,
                _ => Want::Hidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::POST,
                    format!("/api/v1/opinions/{}/mark", Base::of(&w.opinions, s)),
                )
                .json(json!({"adopted": true, "reason": "矩阵", "version": 0}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/me/draft-laws",
            want: citizen_only,
            build: |_, _, _, _| call(Method::GET, "/api/v1/me/draft-laws"),
        },
    ]
}

fn citizen_only(r: Role, _: Side) -> Want {
    if r == Role::Citizen {
        Want::Ok
    } else {
        Want::Forbidden
    }
}

/// A move on a draft (with a stale version): its collectors get past the permission check
/// (409); the rest of its area is refused; a handler and those outside do not see it.
fn draft_move(r: Role, s: Side) -> Want {
    match (r, s) {
        (Role::Handler, _) | (_, Side::Out) => Want::Hidden,
        (Role::Dispatcher | Role::Admin, _) => Want::Allowed,
        _ => Want::Forbidden,
    }
}

/// A change for the village to make (with a stale version): those who speak for it get past
/// the permission check (409); other readers are refused; the rest do not see the record.
fn speaker_move(r: Role, s: Side) -> Want {
    match (r, ledger_reader(r) || r == Role::Citizen, s) {
        (Role::Dispatcher | Role::Admin, _, Side::In) => Want::Allowed,
        (_, true, Side::In) => Want::Forbidden,
        _ => Want::Hidden,
    }
}

/// What the village makes public: its staff and its residents read it.
fn public_read(r: Role, s: Side) -> Want {
    match (ledger_reader(r) || r == Role::Citizen, s) {
        (true, Side::In) => Want::Ok,
        _ => Want::Hidden,
    }
}

/// Who manages a village's points in the matrix: staff whose area holds the village, but not
/// leaders (they change nothing).
fn points_manager(r: Role) -> bool {
    ledger_reader(r) && r != Role::Leader
}

/// The rules, the shop, the ranking: the village's staff and residents.
fn points_public(r: Role, s: Side) -> Want {
    match (ledger_reader(r) || r == Role::Citizen, s) {
        (true, Side::In) => Want::Ok,
        _ => Want::Forbidden,
    }
}

/// The awards and redemptions of a village: its staff.
fn points_staff(r: Role, s: Side) -> Want {
    match (ledger_reader(r), s) {
        (true, Side::In) => Want::Ok,
        _ => Want::Forbidden,
    }
}

/// A new rule, item or award: the village's managers.
fn points_write(r: Role, s: Side) -> Want {
    match (points_manager(r), s) {
        (true, Side::In) => Want::Ok,
        _ => Want::Forbidden,
    }
}

/// A change to a rule or an item: managers; the leader is told it is not theirs; others do not
/// see it.
fn points_change(r: Role, s: Side) -> Want {
    match (r, s) {
        (r, Side::In) if points_manager(r) => Want::Ok,
        (Role::Leader, Side::In) => Want::Forbidden,
        _ => Want::Hidden,
    }
}

/// Staff who read a village's books when their area holds it: not citizens nor departments,
/// and not the matrix's grid worker, whose area is one grid of the village.
fn ledger_reader(r: Role) -> bool {
    !matches!(r, Role::Citizen | Role::Handler | Role::GridWorker)
}

fn ledger_read(r: Role, s: Side) -> Want {
    match (ledger_reader(r), s) {
        (true, Side::In) => Want::Ok,
        _ => Want::Hidden,
    }
}

/// A move on an entry: readers are told it is not their move; others do not see the entry.
fn ledger_move(r: Role, s: Side) -> Want {
    match (ledger_reader(r), s) {
        (true, Side::In) => Want::Forbidden,
        _ => Want::Hidden,
    }
}

/// A change to a contract: administrators whose area holds it make it; other readers are told
/// it is not theirs to make; others do not see the contract.
fn contract_write(r: Role, s: Side) -> Want {
    match (r, ledger_reader(r), s) {
        (Role::Admin, _, Side::In) => Want::Ok,
        (_, true, Side::In) => Want::Forbidden,
        _ => Want::Hidden,
    }
}

/// The operations the OpenAPI document lists, as `method path`.
async fn documented(app: &TestApp) -> BTreeSet<String> {
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert(format!("{method} {path}"));
        }
    }
    ops
}

db_test!(every_operation_answers_every_role_as_the_rules_say, |app| {
    let w = world(&app).await;
    let mut table = rows();
    table.extend(base_rows());
    table.extend(dispute_rows());
    table.extend(warning_rows());
    table.extend(briefing_rows());
    let named: BTreeSet<String> = table
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .chain(
            ACTIONS
                .iter()
                .map(|a| format!("post /api/v1/events/{{id}}/{a}")),
        )
        .collect();
    let listed = documented(&app).await;
    assert_eq!(
        listed.difference(&named).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "operations with no row in the authorization matrix: add one"
    );
    assert_eq!(
        named.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "rows for operations the document does not list"
    );
    let mut wrong = Vec::new();
    let mut n = 0;
    for row in &table {
        for (role, session, _) in &w.actors {
            for side in [Side::In, Side::Out] {
                n += 1;
                let c = (row.build)(&w, *role, side, n);
                let want = (row.want)(*role, side);
                let (status, body) = send(&app, session, &c).await;
                if !want.accepts(status) {
                    wrong.push(format!(
                        "{} {} as {} ({side:?}): {status}, wanted {want:?}: {body}",
                        row.method,
                        c.path,
                        role.as_str()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} answers break the rules:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
});

db_test!(
    moves_follow_the_rules_in_scope_and_are_hidden_outside,
    |app| {
        let w = world(&app).await;
        let mut wrong = Vec::new();
        for (role, session, _) in &w.actors {
            let allowed: Vec<String> = app.event(session, w.in_event).await["allowed_actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect();
            for action in ACTIONS {
                // Outside the scope the order does not exist, whatever the move.
                let (status, _) = send(
                    &app,
                    session,
                    &call(
                        Method::POST,
                        format!("/api/v1/events/{}/{action}", w.out_event),
                    )
                    .json(move_body(&w, action)),
                )
                .await;
                if status != StatusCode::NOT_FOUND {
                    wrong.push(format!(
                        "{action} on the out-of-scope order as {}: {status}",
                        role.as_str()
                    ));
                }
                // In scope: a move the rules refuse changes nothing and is not a success; a move
                // they allow gets past the permission check (on a fresh copy of the order).
                if allowed.iter().any(|a| a == action) {
                    let fresh = dispatched_order(
                        &app,
                        &w.cast,
                        &w.in_photo,
                        &format!("fresh-{}-{action}", role.as_str()),
                    )
                    .await;
                    let (status, body) = send(
                        &app,
                        session,
                        &call(Method::POST, format!("/api/v1/events/{fresh}/{action}"))
                            .json(move_body(&w, action)),
                    )
                    .await;
                    if matches!(
                        status,
                        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED
                    ) {
                        wrong.push(format!(
                            "{action} (listed) as {}: {status} {body}",
                            role.as_str()
                        ));
                    }
                } else {
                    let before = app.event(&w.cast.dispatcher, w.in_event).await["version"].clone();
                    let (status, body) = send(
                        &app,
                        session,
                        &call(
                            Method::POST,
                            format!("/api/v1/events/{}/{action}", w.in_event),
                        )
                        .json(move_body(&w, action)),
                    )
                    .await;
                    let after = app.event(&w.cast.dispatcher, w.in_event).await["version"].clone();
                    if status.is_success() || status == StatusCode::NOT_FOUND || before != after {
                        wrong.push(format!(
                            "{action} (not listed) as {}: {status} {body}",
                            role.as_str()
                        ));
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} moves break the rules:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
);

/// Notes in `wrong` (with `what` said) when `who` cannot open the record at `path`.
async fn expect_open(
    app: &TestApp,
    who: &Session,
    path: &str,
    what: impl FnOnce() -> String,
    wrong: &mut Vec<String>,
) {
    let open = app.get(path, Some(who)).await.status();
    if open != StatusCode::OK {
        wrong.push(format!("{}: cannot open it ({open})", what()));
    }
}

db_test!(
    lists_hold_no_row_outside_the_callers_scope_for_any_filter,
    |app| {
        let w = world(&app).await;
        let filters = [
            "",
            "?state=reported",
            "?state=dispatched,accepted",
            "?under=441502001002",
            "?under=441521",
            "?under=44",
            "?q=%E7%9F%A9%E9%98%B5",
            "?overdue=false",
        ];
        let dep = format!("?department={}", w.cast.zj_id);
        let mut wrong = Vec::new();
        for (role, session, _) in &w.actors {
            for list in ["/api/v1/events", "/api/v1/inbox"] {
                for f in filters.iter().copied().chain([dep.as_str()]) {
                    let r = app.get(&format!("{list}{f}"), Some(session)).await;
                    let status = r.status();
                    if !status.is_success() {
                        // A filter outside the scope may be refused, never answered with rows.
                        assert!(
                            status.is_client_error(),
                            "{list}{f} as {}: {status}",
                            role.as_str()
                        );
                        continue;
                    }
                    let v: Value = r.json().await.unwrap();
                    for item in v["items"].as_array().cloned().unwrap_or_default() {
                        let id = item["id"].as_i64().or(item["event_id"].as_i64()).unwrap();
                        expect_open(
                            &app,
                            session,
                            &format!("/api/v1/events/{id}"),
                            || {
                                format!(
                                    "{list}{f} as {} lists order {id}, which it cannot open",
                                    role.as_str()
                                )
                            },
                            &mut wrong,
                        )
                        .await;
                    }
                }
            }
            // The register: every resident and household listed opens.
            for (list, open) in [
                ("/api/v1/residents", "/api/v1/residents"),
                ("/api/v1/households", "/api/v1/households"),
            ] {
                for f in [
                    "",
                    "?node=441521001001001",
                    "?node=440000000000",
                    "?limit=200",
                ] {
                    let r = app.get(&format!("{list}{f}"), Some(session)).await;
                    if !r.status().is_success() {
                        continue;
                    }
                    let v: Value = r.json().await.unwrap();
                    for item in v["items"].as_array().cloned().unwrap_or_default() {
                        let id = item["id"].as_i64().unwrap();
                        expect_open(
                            &app,
                            session,
                            &format!("{open}/{id}"),
                            || {
                                format!(
                                    "{list}{f} as {} lists {id}, which it cannot open",
                                    role.as_str()
                                )
                            },
                            &mut wrong,
                        )
                        .await;
                    }
                }
            }
            // Map points: only orders the caller can open.
            let r = app
                .get(
                    "/api/v1/map/events?bbox=115.2,22.7,115.5,22.9&open=false&days=3650",
                    Some(session),
                )
                .await;
            if r.status().is_success() {
                let v: Value = r.json().await.unwrap();
                for f in v["features"].as_array().unwrap() {
                    let id = f["properties"]["id"].as_i64().unwrap();
                    expect_open(
                        &app,
                        session,
                        &format!("/api/v1/events/{id}"),
                        || format!("map/events as {} shows order {id}", role.as_str()),
                        &mut wrong,
                    )
                    .await;
                }
            }
            // Map shapes: only nodes the caller can open.
            let r = app
                .get(
                    "/api/v1/map/nodes?level=grid&bbox=115.2,22.7,115.5,22.9&zoom=14",
                    Some(session),
                )
                .await;
            if r.status().is_success() {
                let v: Value = r.json().await.unwrap();
                for f in v["features"].as_array().unwrap() {
                    let code = f["properties"]["code"].as_str().unwrap();
                    expect_open(
                        &app,
                        session,
                        &format!("/api/v1/nodes/{code}"),
                        || format!("map/nodes as {} shows {code}", role.as_str()),
                        &mut wrong,
                    )
                    .await;
                }
            }
            // Users and the audit log (administrators): nothing about the other village or county.
            if *role == Role::Admin {
                let users: Value = app.get_json("/api/v1/users?limit=1000", session).await;
                for u in users["items"].as_array().unwrap() {
                    let id = u["id"].as_i64().unwrap();
                    expect_open(
                        &app,
                        session,
                        &format!("/api/v1/users/{id}"),
                        || format!("users lists {id}, which the admin cannot open"),
                        &mut wrong,
                    )
                    .await;
                }
                for q in [
                    "",
                    "?entity=event",
                    "?entity=user",
                    "?entity=node",
                    &format!("?entity=event&entity_id={}", w.out_event),
                ] {
                    let audit: Value = app.get_json(&format!("/api/v1/audit{q}"), session).await;
                    for row in audit["items"].as_array().unwrap() {
                        let (entity, id) = (
                            row["entity"].as_str().unwrap(),
                            row["entity_id"].as_str().unwrap(),
                        );
                        let path = match entity {
                            "event" => format!("/api/v1/events/{id}"),
                            "user" => format!("/api/v1/users/{id}"),
                            "node" => format!("/api/v1/nodes/{id}"),
                            "resident" => format!("/api/v1/residents/{id}"),
                            "household" => format!("/api/v1/households/{id}"),
                            "dispute" => format!("/api/v1/disputes/{id}"),
                            "mediator" => format!("/api/v1/mediators/{id}"),
                            "place" => format!("/api/v1/places/{id}"),
                            "organisation" => format!("/api/v1/organisations/{id}"),
                            "building" => format!("/api/v1/buildings/{id}"),
                            "house" => format!("/api/v1/houses/{id}"),
                            "visit" => format!("/api/v1/visits/{id}"),
                            "roster" => format!("/api/v1/emergency/rosters/{id}"),
                            // Corrections are opened through their list only.
                            "correction" => continue,
                            // Departments at or under the admin's node (no read of one by id).
                            "department" => continue,
                            other => {
                                wrong.push(format!("audit{q} shows a row about {other} {id}"));
                                continue;
                            }
                        };
                        expect_open(
                            &app,
                            session,
                            &path,
                            || format!("audit{q} shows {entity} {id}, which the admin cannot open"),
                            &mut wrong,
                        )
                        .await;
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} rows outside the scope:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }
);

/// Who reads briefings: the centre (analysts, dispatchers, administrators) and leaders.
fn briefing_reader(r: Role) -> bool {
    risk_centre(r) || r == Role::Leader
}

/// The rows of the briefings (早晚报): the centre and leaders read their area's, the centre
/// generates them; hidden outside the area.
fn briefing_rows() -> Vec<Row> {
    vec![
        Row {
            method: "get",
            path: "/api/v1/briefings",
            want: |r, s| match (briefing_reader(r), s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/briefings?node={}", village(s)),
                )
            },
        },
        Row {
            method: "post",
            path: "/api/v1/briefings",
            want: |r, s| match (risk_centre(r), s) {
                (false, _) => Want::Forbidden,
                (true, Side::In) => Want::Ok,
                (true, Side::Out) => Want::Hidden,
            },
            build: |_, _, s, _| {
                call(Method::POST, "/api/v1/briefings").json(json!({"node": village(s)}))
            },
        },
        Row {
            method: "get",
            path: "/api/v1/briefings/{id}",
            want: |r, s| match (briefing_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Hidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/briefings/{}", side_of(&w.briefings, s)),
                )
            },
        },
        Row {
            method: "get",
            path: "/api/v1/briefings/{id}/docx",
            want: |r, s| match (briefing_reader(r), s) {
                (true, Side::In) => Want::Ok,
                _ => Want::Hidden,
            },
            build: |w, _, s, _| {
                call(
                    Method::GET,
                    format!("/api/v1/briefings/{}/docx", side_of(&w.briefings, s)),
                )
            },
        },
    ]
}
