//! Dispute cases as the application runs them: load, ask the domain, run the clocks on the
//! shared working calendar, save in one transaction; and the deadline sweep (yellow / red,
//! supervision notices to the holding centre and the mediator).

/// The agreement document (调解协议书): the A4 page's JSON and the .docx.
pub mod agreement;

use serde_json::{json, Value};
use shanzhi_domain::calendar::{Light, WorkCalendar};
use shanzhi_domain::dispute::state::{centre_parent, Judicial, DEADLINE_DAYS};
use shanzhi_domain::dispute::{
    can_view, centre_level, risk, transition, Action, DisputeState, Extension, Involvement,
    Outcome, Source, State, Transition,
};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::Actor;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::dispute::{DisputeRow, MoveWrites};
use shanzhi_store::event::LogEntry;
use shanzhi_store::notification::NewNotification;
use shanzhi_store::StoreError;

use crate::calendar::{calendar, YELLOW_SHARE};
use crate::event::refusal;
use crate::http::error::ApiError;
use crate::http::state::AppState;

fn bad(row: &DisputeRow, what: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!("dispute {} has a bad {what}", row.id))
}

/// The holding node of a stored case.
pub fn node_of(row: &DisputeRow) -> Result<NodeCode, ApiError> {
    NodeCode::parse(&row.node_code).map_err(|_| bad(row, "node"))
}

/// The user account of the assigned mediator, if any.
async fn mediator_user(app: &AppState, row: &DisputeRow) -> Result<Option<i64>, ApiError> {
    Ok(match row.mediator_id {
        Some(m) => shanzhi_store::mediator::get(&app.db, m).await?.user_id,
        None => None,
    })
}

/// The domain's view of a stored case.
pub async fn state_of(app: &AppState, row: &DisputeRow) -> Result<DisputeState, ApiError> {
    let panels = shanzhi_store::dispute::panels_of(&app.db, row.id).await?;
    state_from(
        row,
        mediator_user(app, row).await?,
        panels.iter().map(|p| p.0).collect(),
    )
}

/// The domain's view of a stored case, given its mediator's account and invited panels.
pub fn state_from(
    row: &DisputeRow,
    mediator_user_id: Option<i64>,
    panels: Vec<i64>,
) -> Result<DisputeState, ApiError> {
    Ok(DisputeState {
        id: row.id,
        state: State::parse(&row.state).ok_or_else(|| bad(row, "state"))?,
        node: node_of(row)?,
        mediator_id: row.mediator_id,
        mediator_user_id,
        extension: Extension::parse(&row.extension).ok_or_else(|| bad(row, "extension"))?,
        agreement: row.outcome.as_deref() == Some("agreement"),
        judicial: row.judicial.is_some(),
        panels,
    })
}

/// What the actor is to the case.
pub fn involvement(row: &DisputeRow, st: &DisputeState, actor: &Actor) -> Involvement {
    Involvement {
        took_in: row.intake_user_id == Some(actor.user_id),
        applied: row.applicant_user_id == Some(actor.user_id),
        mediates: st.mediator_user_id == Some(actor.user_id),
    }
}

/// The case `id` if the actor may read it (404 otherwise, as for records out of scope).
pub async fn visible(
    app: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<(DisputeRow, DisputeState), ApiError> {
    let row = match shanzhi_store::dispute::get(&app.db, id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Err(ApiError::not_found("dispute")),
        Err(e) => return Err(e.into()),
    };
    let st = state_of(app, &row).await?;
    if !can_view(actor, &st.node, involvement(&row, &st, actor)) {
        return Err(ApiError::not_found("dispute"));
    }
    Ok((row, st))
}

/// A new case row held at `centre`.
#[allow(clippy::too_many_arguments)]
pub fn new_row(
    centre: &NodeCode,
    type_code: String,
    source: Source,
    summary: String,
    amount_cents: Option<i64>,
    people_involved: Option<i64>,
    violence: bool,
    parties: usize,
    earlier: i64,
    now: i64,
) -> Result<DisputeRow, ApiError> {
    let level = centre_level(centre).ok_or_else(|| {
        ApiError::invalid("node", "cases are held by a village, town or county centre")
    })?;
    let r = risk(parties, people_involved, violence, earlier);
    Ok(DisputeRow {
        id: 0,
        number: String::new(),
        node_code: centre.as_str().to_owned(),
        level: level.as_str().to_owned(),
        type_code,
        source: source.as_str().to_owned(),
        summary,
        amount_cents,
        people_involved,
        violence: r.violence,
        many_parties: r.many_parties,
        repeat_case: r.repeat,
        state: State::Intake.as_str().to_owned(),
        mediator_id: None,
        applicant_user_id: None,
        intake_user_id: None,
        event_id: None,
        accepted_at: None,
        started_at: None,
        due_at: None,
        light: "green".into(),
        supervision: "none".into(),
        next_check_at: None,
        extension: "none".into(),
        outcome: None,
        outcome_text: None,
        referral: None,
        outcome_at: None,
        on_time: None,
        honoured: None,
        follow_up_note: None,
        reopened: false,
        judicial: None,
        closed_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

pub fn intake_log(actor_id: i64, note: &str) -> LogEntry {
    LogEntry {
        actor_id: Some(actor_id),
        action: "intake".into(),
        from_state: None,
        to_state: State::Intake.as_str().to_owned(),
        note: Some(note.to_owned()),
        data: json!({}),
    }
}

/// Starts the mediation clock at `now`: [`DEADLINE_DAYS`] working days.
fn start_clock(a: &mut DisputeRow, cal: &WorkCalendar, now: i64) {
    let due = cal.add_working_days(now, DEADLINE_DAYS);
    a.started_at = Some(now);
    a.due_at = Some(due);
    a.light = "green".into();
    a.supervision = "none".into();
    a.next_check_at = Some(cal.yellow_at(now, due, YELLOW_SHARE));
}

/// Checks what the domain cannot: the mediator and panel exist and serve the case's area, the
/// centre transferred to exists.
async fn check_refs(app: &AppState, st: &DisputeState, action: &Action) -> Result<(), ApiError> {
    match action {
        Action::Assign { mediator_id } => {
            let m = match shanzhi_store::mediator::get(&app.db, *mediator_id).await {
                Ok(m) => m,
                Err(StoreError::NotFound) => {
                    return Err(ApiError::not_found("mediator").with_field("mediator_id"))
                }
                Err(e) => return Err(e.into()),
            };
            let serves = NodeCode::parse(&m.node_code)
                .map(|n| n.contains(&st.node) || st.node.contains(&n))
                .unwrap_or(false);
            if !m.active || !serves {
                return Err(ApiError::invalid(
                    "mediator_id",
                    "the mediator must be active and serve this case's area",
                ));
            }
        }
        Action::InvitePanel { panel_id } => {
            match shanzhi_store::mediator::panel(&app.db, *panel_id).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(ApiError::not_found("panel").with_field("panel_id"))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Action::TransferDown { to_node, .. } => {
            match shanzhi_store::node::get(&app.db, to_node).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(ApiError::not_found("node").with_field("to_node"))
                }
                Err(e) => return Err(e.into()),
            }
        }
        _ => {}
    }
    Ok(())
}

/// Makes a move on a case: the domain decides, the clocks run, everything is saved at once.
pub async fn act(
    app: &AppState,
    actor: &Actor,
    id: i64,
    action: &Action,
) -> Result<DisputeRow, ApiError> {
    let (row, st) = visible(app, actor, id).await?;
    let t = transition(&st, action, actor).map_err(refusal)?;
    check_refs(app, &st, action).await?;
    let now = app.clock.now_ms();
    let cal = calendar(app).await?;
    let (after, mut writes) = apply(&row, &st, action, &t, Some(actor.user_id), now, &cal)?;
    if let (Action::Assign { .. }, Some(user)) = (action, mediator_user(app, &after).await?) {
        writes.notifications.push(NewNotification::to_user(
            user,
            "dispute_assigned",
            json!({"dispute_id": row.id, "number": row.number}),
            format!("矛盾纠纷案件 {} 已指派给您调解", row.number),
        ));
    }
    // The citizen who applied online follows each step of their case (the portal's 消息).
    if let (Some(user), true) = (row.applicant_user_id, after.state != row.state) {
        writes.notifications.push(NewNotification::to_user(
            user,
            "dispute_step",
            json!({"dispute_id": row.id, "number": row.number, "state": after.state}),
            format!(
                "您申请调解的矛盾纠纷 {}：{}",
                row.number,
                state_word(&after.state)
            ),
        ));
    }
    save(app, &row, &after, &writes, now).await?;
    if to_closed(&row, &after) {
        close_event(app, &after, actor.user_id).await?;
    }
    if let (Action::Decline { .. }, Some(event_id)) = (action, after.event_id) {
        give_back_event(app, &after, event_id, actor.user_id).await?;
    }
    Ok(shanzhi_store::dispute::get(&app.db, id).await?)
}

/// A state's name in Chinese, for the stored text of a notice (clients word notices by their
/// kind and parameters, in the reader's language).
fn state_word(state: &str) -> &'static str {
    match state {
        "intake" => "已登记",
        "accepted" => "已受理",
        "declined" => "不予受理",
        "assigned" => "已指派调解员",
        "in_session" => "调解中",
        "agreed" => "已达成调解协议",
        "failed" => "调解不成",
        "withdrawn" => "已撤回",
        "closed" => "已结案",
        _ => "状态已更新",
    }
}

async fn save(
    app: &AppState,
    before: &DisputeRow,
    after: &DisputeRow,
    writes: &MoveWrites,
    now: i64,
) -> Result<(), ApiError> {
    match shanzhi_store::dispute::save_move(&app.db, before, after, writes, now).await {
        Ok(()) => {
            app.notices.announce(&writes.notifications);
            Ok(())
        }
        Err(StoreError::Stale) => Err(ApiError::conflict(
            Some("version"),
            "the case was changed by someone else at the same moment; reload and try again",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The new row and its writes for a transition.
pub(crate) fn apply(
    row: &DisputeRow,
    st: &DisputeState,
    action: &Action,
    t: &Transition,
    actor_id: Option<i64>,
    now: i64,
    cal: &WorkCalendar,
) -> Result<(DisputeRow, MoveWrites), ApiError> {
    let mut a = row.clone();
    let to = t.to.unwrap_or(st.state);
    a.state = to.as_str().to_owned();
    let mut data = json!({});
    let mut notes: Vec<NewNotification> = Vec::new();
    if let Some(node) = &t.node {
        a.node_code = node.as_str().to_owned();
        a.level = centre_level(node)
            .map(|l| l.as_str().to_owned())
            .ok_or_else(|| ApiError::invalid("to_node", "not a village, town or county"))?;
        data["from"] = json!(row.node_code);
        data["to"] = json!(a.node_code);
        notes.push(NewNotification::to_centre(
            &a.node_code,
            "dispute_transferred",
            json!({"dispute_id": row.id, "number": row.number}),
            format!("矛盾纠纷案件 {} 已转至本中心", row.number),
        ));
    }
    if let Some(m) = t.mediator_id {
        a.mediator_id = m;
        data["mediator_id"] = json!(m);
    }
    if t.start_clock {
        if to == State::Accepted {
            a.accepted_at = Some(now);
        }
        start_clock(&mut a, cal, now);
        if t.reopened {
            a.reopened = true;
            a.outcome = None;
            a.outcome_text = None;
            a.referral = None;
            a.outcome_at = None;
            a.on_time = None;
        }
    }
    if let Some(days) = t.extend_days {
        if let (Some(due), Some(start)) = (a.due_at, a.started_at) {
            let new_due = cal.add_working_days(due, days);
            a.due_at = Some(new_due);
            a.light = "green".into();
            a.next_check_at = Some(cal.yellow_at(start, new_due, YELLOW_SHARE).max(now));
        }
    }
    if let Some(x) = t.extension {
        a.extension = x.as_str().to_owned();
        if x == Extension::Pending {
            notes.push(NewNotification::to_centre(
                &a.node_code,
                "dispute_extension",
                json!({"dispute_id": row.id, "number": row.number}),
                format!("矛盾纠纷案件 {} 申请延期", row.number),
            ));
        }
    }
    if let Some(o) = &t.outcome {
        a.outcome = Some(o.kind().to_owned());
        let (text, referral) = match o {
            Outcome::Agreement { terms } => (terms.clone(), None),
            Outcome::Failure { referral, reason } => (reason.clone(), Some(referral.as_str())),
            Outcome::Withdrawal { reason } => (reason.clone(), None),
        };
        a.outcome_text = Some(text);
        a.referral = referral.map(str::to_owned);
        a.outcome_at = Some(now);
        a.on_time = Some(a.due_at.is_none_or(|due| now <= due));
        data["outcome"] = json!(o.kind());
        data["referral"] = json!(referral);
    }
    if t.stop_clock {
        a.next_check_at = None;
    }
    if let Some(h) = t.honoured {
        a.honoured = Some(h);
        a.follow_up_note = t.note.clone();
        data["honoured"] = json!(h);
    }
    if let Some(j) = &t.judicial {
        a.judicial = Some(json!(j).to_string());
        data["judicial"] = json!(j);
    }
    if let Some(p) = t.panel_id {
        data["panel_id"] = json!(p);
    }
    if let Action::Assign { mediator_id } = action {
        data["mediator_id"] = json!(mediator_id);
    }
    if to == State::Closed {
        a.closed_at = Some(now);
        a.next_check_at = None;
    }
    if matches!(to, State::Declined) {
        a.next_check_at = None;
    }
    a.version = row.version + 1;
    a.updated_at = now;
    let note = t
        .note
        .clone()
        .or_else(|| a.outcome_text.clone().filter(|_| t.outcome.is_some()));
    let log = LogEntry {
        actor_id,
        action: action.name().to_owned(),
        from_state: Some(st.state.as_str().to_owned()),
        to_state: to.as_str().to_owned(),
        note,
        data: data.clone(),
    };
    let audit = AuditEntry::new(
        actor_id,
        &format!("dispute.{}", action.name()),
        "dispute",
        row.id.to_string(),
    )
    .before(json!({"state": row.state, "node": row.node_code, "mediator_id": row.mediator_id}))
    .after(
        json!({"state": a.state, "node": a.node_code, "mediator_id": a.mediator_id, "data": data}),
    );
    Ok((
        a,
        MoveWrites {
            log: Some(log),
            notifications: notes,
            audit: Some(audit),
            panel_id: t.panel_id,
        },
    ))
}

fn to_closed(before: &DisputeRow, after: &DisputeRow) -> bool {
    before.state != "closed" && after.state == "closed"
}

/// The case converted from an event closes it, with the case's outcome on the event's
/// timeline (an event closed meanwhile by the loop stays as it is).
async fn close_event(app: &AppState, case: &DisputeRow, actor_id: i64) -> Result<(), ApiError> {
    let Some(event_id) = case.event_id else {
        return Ok(());
    };
    let ev = shanzhi_store::event::get(&app.db, event_id).await?;
    if matches!(ev.state.as_str(), "closed" | "rejected" | "merged") {
        return Ok(());
    }
    let outcome = case.outcome.as_deref().unwrap_or("closed");
    let word = match outcome {
        "agreement" => "调解成功，达成协议",
        "failure" => "调解不成，已引导至其他途径",
        "withdrawal" => "当事人撤回调解申请",
        _ => "结案",
    };
    let note = format!("矛盾纠纷案件 {} 结案：{word}", case.number);
    let data = json!({"dispute_id": case.id, "number": case.number, "outcome": outcome,
                      "referral": case.referral, "honoured": case.honoured});
    crate::event::handled_elsewhere(
        app,
        &ev,
        crate::event::Elsewhere::Closed,
        "dispute_closed",
        note,
        data,
        Some(actor_id),
    )
    .await
}

/// A declined case gives its event back to the loop, whose clock starts again.
async fn give_back_event(
    app: &AppState,
    case: &DisputeRow,
    event_id: i64,
    actor_id: i64,
) -> Result<(), ApiError> {
    let ev = shanzhi_store::event::get(&app.db, event_id).await?;
    if matches!(ev.state.as_str(), "closed" | "rejected" | "merged") {
        return Ok(());
    }
    crate::event::handled_elsewhere(
        app,
        &ev,
        crate::event::Elsewhere::Back,
        "dispute_declined",
        format!("矛盾纠纷案件 {} 不予受理，退回事件办理", case.number),
        json!({"dispute_id": case.id, "number": case.number}),
        Some(actor_id),
    )
    .await
}

/// What the deadline sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub checked: usize,
    pub yellow: usize,
    pub red: usize,
}

/// The disputes' deadline sweep at `now`: lights turn yellow (普通督办) and red (黄牌督办, then
/// 红牌督办 to the centre above), said on the timeline and to the holding centre.
pub async fn sweep(app: &AppState, now: i64) -> Result<Sweep, ApiError> {
    crate::calendar::sweep(app, now).await
}

impl crate::calendar::Sweeper for Sweep {
    type Row = DisputeRow;

    async fn due(app: &AppState, now: i64) -> Result<Vec<DisputeRow>, ApiError> {
        Ok(shanzhi_store::dispute::due_for_check(&app.db, now, 500).await?)
    }

    async fn check(
        &mut self,
        app: &AppState,
        cal: &WorkCalendar,
        now: i64,
        row: DisputeRow,
    ) -> Result<(), ApiError> {
        sweep_one(app, cal, &row, now, self).await
    }

    fn checked(&mut self) -> &mut usize {
        &mut self.checked
    }
}

/// Working days past its due time after which an overdue case gets a red card and the centre
/// one level up hears of it.
pub const RED_CARD_DAYS: i64 = 5;

/// The centre one level above a case's holder (none above a county's).
fn upper_centre(node_code: &str) -> Option<String> {
    let node = NodeCode::parse(node_code).ok()?;
    centre_parent(&node).map(|up| up.as_str().to_owned())
}

async fn sweep_one(
    app: &AppState,
    cal: &WorkCalendar,
    row: &DisputeRow,
    now: i64,
    out: &mut Sweep,
) -> Result<(), ApiError> {
    let mut a = row.clone();
    a.version += 1;
    let (Some(due), Some(start)) = (row.due_at, row.started_at) else {
        a.next_check_at = None;
        return save(app, row, &a, &MoveWrites::default(), now).await;
    };
    let mut writes = MoveWrites::default();
    let mut say = |level: &str, note: &str, message: String| {
        writes.log = Some(LogEntry {
            actor_id: None,
            action: "supervise".into(),
            from_state: Some(row.state.clone()),
            to_state: row.state.clone(),
            note: Some(note.to_owned()),
            data: json!({"supervision": level}),
        });
        writes.notifications.push(NewNotification::to_centre(
            &row.node_code,
            "dispute_supervise",
            json!({"level": level, "dispute_id": row.id, "number": row.number}),
            message,
        ));
        writes.audit = Some(
            AuditEntry::new(None, "dispute.supervise", "dispute", row.id.to_string())
                .before(json!({"light": row.light}))
                .after(json!({"supervision": level})),
        );
    };
    match cal.light(start, due, now, YELLOW_SHARE) {
        Light::Green => {
            a.next_check_at = Some(cal.yellow_at(start, due, YELLOW_SHARE).max(now + 60_000));
        }
        Light::Yellow => {
            a.light = "yellow".into();
            a.next_check_at = Some(due);
            if row.light == "green" {
                out.yellow += 1;
                a.supervision = "normal".into();
                say(
                    "normal",
                    "yellow light: normal supervision (普通督办)",
                    format!("普通督办：矛盾纠纷案件 {} 即将超期", row.number),
                );
            }
        }
        Light::Red => {
            a.light = "red".into();
            let red_card_at = cal.add_working_days(due, RED_CARD_DAYS);
            a.next_check_at = Some(red_card_at);
            if now >= red_card_at {
                // Long overdue: a red card, and the centre one level up is told (提级督办).
                a.next_check_at = None;
                if row.supervision != "red" {
                    if row.light != "red" {
                        out.red += 1;
                    }
                    a.supervision = "red".into();
                    say(
                        "red",
                        "long overdue: red-card supervision, the centre above told (红牌督办)",
                        format!("红牌督办：矛盾纠纷案件 {} 严重超期", row.number),
                    );
                    if let Some(up) = upper_centre(&row.node_code) {
                        let mut note = writes.notifications[0].clone();
                        note.centre_code = Some(up);
                        writes.notifications.push(note);
                    }
                }
            } else if row.light != "red" {
                out.red += 1;
                a.supervision = "yellow".into();
                say(
                    "yellow",
                    "overdue: yellow-card supervision (黄牌督办)",
                    format!("黄牌督办：矛盾纠纷案件 {} 已超期", row.number),
                );
            }
        }
    }
    // The assigned mediator hears of it too.
    if let (Some(note), Some(user)) = (
        writes.notifications.first().cloned(),
        mediator_user(app, row).await?,
    ) {
        writes.notifications.push(NewNotification {
            centre_code: None,
            user_id: Some(user),
            ..note
        });
    }
    save(app, row, &a, &writes, now).await
}

/// The actions this actor could take on the case now (for clients to show the buttons).
pub fn allowed_actions(st: &DisputeState, actor: &Actor) -> Vec<&'static str> {
    // A probe child one level down (its existence is the adapter's check, not the rule's).
    let child = NodeCode::from_path(&format!("{}001", st.node.path())).ok();
    let mut probes = vec![
        Action::Accept,
        Action::Decline { reason: "x".into() },
        Action::Assign { mediator_id: -1 },
        Action::ScheduleSession,
        Action::RecordOutcome(Outcome::Agreement { terms: "x".into() }),
        Action::FollowUp {
            honoured: true,
            note: None,
        },
        Action::Close,
        Action::TransferUp { reason: "x".into() },
        Action::RequestExtension { reason: "x".into() },
        Action::DecideExtension { approve: true },
        Action::JudicialConfirmation(Judicial {
            court: "x".into(),
            date: "2026-01-01".into(),
            number: "x".into(),
        }),
        Action::InvitePanel { panel_id: -1 },
    ];
    if let Some(c) = child {
        probes.push(Action::TransferDown {
            to_node: c,
            reason: "x".into(),
        });
    }
    probes
        .iter()
        .filter(|a| transition(st, a, actor).is_ok())
        .map(Action::name)
        .collect()
}

/// The clocks of a case for the API.
pub fn clocks_json(row: &DisputeRow) -> Value {
    json!({"started_at": row.started_at, "due_at": row.due_at, "light": row.light,
           "supervision": row.supervision, "extension": row.extension,
           "extended": row.extension == "approved"})
}
