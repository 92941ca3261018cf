//! Notices that reach people: who hears of a move (departments, centres' dispatchers, the
//! reporters of the order), and the in-process broadcast that wakes the live streams after a
//! move commits.
//!
//! Delivery across server instances: the broadcast only reaches streams held by the instance
//! that made the move. Every stream also looks in the database every [`STREAM_POLL`], so a
//! notice made on another instance arrives within that time.

use std::time::Duration;

use serde_json::json;
use shanzhi_domain::event::notice::reporter_notice;
use shanzhi_domain::event::{Action, State, Transition};
use shanzhi_domain::user::{Role, Scope};
use shanzhi_store::event::EventRow;
use shanzhi_store::notification::{NewNotification, Reader};
use tokio::sync::broadcast;

use crate::http::error::ApiError;
use crate::http::extract::CurrentUser;
use crate::http::state::AppState;

/// How often a live stream looks for notices made by another server instance.
pub const STREAM_POLL: Duration = Duration::from_secs(10);

/// Whom a committed notice is for (what a stream needs to decide whether to look).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub user_id: Option<i64>,
    pub department_id: Option<i64>,
    pub centre_code: Option<String>,
}

impl Address {
    /// Does a notice to this address reach the reader?
    pub fn reaches(&self, r: &Reader) -> bool {
        (self.user_id.is_some() && self.user_id == Some(r.user_id))
            || (self.department_id.is_some() && self.department_id == r.department_id)
            || (self.centre_code.is_some() && self.centre_code == r.centre_code)
    }
}

/// The in-process fan-out of committed notices to the live streams of this instance.
pub struct NoticeHub {
    tx: broadcast::Sender<Address>,
}

impl NoticeHub {
    /// A hub whose slow listeners drop (and then re-read from the database) past 1,024 notices.
    pub fn new() -> NoticeHub {
        NoticeHub {
            tx: broadcast::channel(1024).0,
        }
    }

    /// Wakes the streams of the notices' readers. Call only after the transaction that wrote
    /// them has committed, so a woken stream finds them.
    pub fn announce(&self, notes: &[NewNotification]) {
        for n in notes {
            // No stream listening is fine: nobody is connected.
            let _ = self.tx.send(Address {
                user_id: n.user_id,
                department_id: n.department_id,
                centre_code: n.centre_code.clone(),
            });
        }
    }

    /// A receiver of every notice committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Address> {
        self.tx.subscribe()
    }
}

impl Default for NoticeHub {
    fn default() -> Self {
        NoticeHub::new()
    }
}

/// The notices a user reads: their own, their department's, and (dispatchers and analysts, the
/// centre's staff) their centre's.
pub fn reader_of(user: &CurrentUser) -> Reader {
    Reader {
        user_id: user.user.id,
        department_id: match user.actor.scope {
            Scope::Department { id, .. } => Some(id),
            _ => None,
        },
        centre_code: match (&user.actor.role, &user.actor.scope) {
            (Role::Dispatcher | Role::Analyst, Scope::Node(c)) => Some(c.as_str().to_owned()),
            _ => None,
        },
    }
}

async fn department_name(app: &AppState, id: i64) -> Result<String, ApiError> {
    Ok(shanzhi_store::department::get(&app.db, id).await?.name)
}

/// Everyone who follows an order as a reporter: its reporter and the reporters of duplicates
/// merged into it.
pub async fn followers(app: &AppState, row: &EventRow) -> Result<Vec<i64>, ApiError> {
    let mut users: Vec<i64> = row.reporter_id.into_iter().collect();
    for u in shanzhi_store::event::linked_reporters(&app.db, row.id).await? {
        if !users.contains(&u) {
            users.push(u);
        }
    }
    Ok(users)
}

/// The notice every follower of `row` gets for a move named `action`, if any.
pub async fn to_followers(
    app: &AppState,
    row: &EventRow,
    action: &str,
    from: State,
    to: State,
    reopened: bool,
    params: serde_json::Value,
) -> Result<Vec<NewNotification>, ApiError> {
    let Some(kind) = reporter_notice(action, from, to, reopened) else {
        return Ok(Vec::new());
    };
    // The fallback text of clients that do not know the kind; they word it from kind and params.
    let message = format!("您反映的问题 #{} 有新进展", row.id);
    Ok(followers(app, row)
        .await?
        .into_iter()
        .map(|u| NewNotification::to_user(u, kind, params.clone(), message.clone()))
        .collect())
}

/// The notices of a move of the loop: to the departments and centres that must act, and to
/// the order's followers. Written in the move's transaction.
pub async fn for_move(
    app: &AppState,
    before: &EventRow,
    after: &EventRow,
    action: &Action,
    from: State,
    t: &Transition,
) -> Result<Vec<NewNotification>, ApiError> {
    let to = t.to.unwrap_or(from);
    let id = before.id;
    let mut out = Vec::new();
    let mut follower_params = json!({});
    match action {
        Action::Remind { note } => {
            if let Some(d) = before.department_id {
                out.push(NewNotification::to_department(
                    d,
                    "remind",
                    json!({"note": note}),
                    format!("催办：工单 #{id} 请尽快办理"),
                ));
            }
        }
        Action::Dispatch { department_id, .. } => {
            let name = department_name(app, *department_id).await?;
            out.push(NewNotification::to_department(
                *department_id,
                "dispatch",
                json!({}),
                format!("新派单：工单 #{id}"),
            ));
            follower_params = json!({"department_id": department_id, "department": name});
        }
        Action::Summon {
            departments,
            lead,
            report_by,
            place,
            reason,
        } => {
            let place = place.trim();
            let reason = reason.trim();
            for (d, _) in departments {
                out.push(NewNotification::to_department(
                    *d,
                    "summon",
                    json!({"lead": d == lead, "report_by": report_by,
                        "place": (!place.is_empty()).then_some(place), "reason": (!reason.is_empty()).then_some(reason)}),
                    format!("吹哨报到：工单 #{id} 请报到"),
                ));
            }
            let name = department_name(app, *lead).await?;
            follower_params = json!({"department_id": lead, "department": name});
        }
        Action::Return { reason } => {
            let department = match before.department_id {
                Some(d) => Some(department_name(app, d).await?),
                None => None,
            };
            out.push(NewNotification::to_centre(
                &after.centre_code,
                "return",
                json!({"reason": reason, "department": department, "decision_required": after.decision_required}),
                format!("退单：工单 #{id} 被退回"),
            ));
        }
        Action::RequestExtension { minutes, reason } => {
            out.push(NewNotification::to_centre(
                &after.centre_code,
                "extension_requested",
                json!({"minutes": minutes, "reason": reason}),
                format!("延期申请：工单 #{id}"),
            ));
        }
        Action::DecideExtension { approve } => {
            if let Some(d) = before.department_id {
                out.push(NewNotification::to_department(
                    d,
                    "extension_decided",
                    json!({"approve": approve}),
                    format!("延期审批：工单 #{id}"),
                ));
            }
        }
        Action::Reject { reason } => follower_params = json!({"reason": reason}),
        Action::Merge { target_id, .. } => follower_params = json!({"into": target_id}),
        _ => {}
    }
    if t.centre.is_some() {
        out.push(NewNotification::to_centre(
            &after.centre_code,
            "escalated",
            json!({"from": before.centre_code}),
            format!("提级办理：工单 #{id} 已提交至本中心"),
        ));
    }
    out.extend(
        to_followers(
            app,
            before,
            action.name(),
            from,
            to,
            t.reopened,
            follower_params,
        )
        .await?,
    );
    Ok(out)
}
