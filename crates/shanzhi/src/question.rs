//! The question clock (我要监督): a villager's question is due [`ANSWER_DAYS`] working days
//! after it is asked, on the shared calendar; the sweep raises supervision at the town for every
//! question still unanswered then, once.

use serde_json::json;
use shanzhi_domain::calendar::WorkCalendar;
use shanzhi_domain::question::{transition, Action, Facts, Outcome, State, ANSWER_DAYS};
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::notification::NewNotification;
use shanzhi_store::question::Question;

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// When a question asked at `asked_at` must be answered.
pub fn due_at(cal: &WorkCalendar, asked_at: i64) -> i64 {
    cal.add_working_days(asked_at, ANSWER_DAYS)
}

/// What the sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub checked: usize,
    pub supervised: usize,
}

/// The questions' sweep at `now`.
pub async fn sweep(app: &AppState, now: i64) -> Result<Sweep, ApiError> {
    crate::calendar::sweep(app, now).await
}

impl crate::calendar::Sweeper for Sweep {
    type Row = Question;

    async fn due(app: &AppState, now: i64) -> Result<Vec<Question>, ApiError> {
        Ok(shanzhi_store::question::due_for_check(&app.db, now, 500).await?)
    }

    async fn check(
        &mut self,
        app: &AppState,
        _cal: &WorkCalendar,
        now: i64,
        q: Question,
    ) -> Result<(), ApiError> {
        let facts = Facts {
            state: State::parse(&q.state).unwrap_or(State::Answered),
            supervised: q.supervised_at.is_some(),
            due_at: q.due_at,
        };
        if transition(&facts, &Action::Check { now }, now)? != Outcome::Supervise {
            return Ok(());
        }
        let params = json!({"question_id": q.id, "node": q.node_code});
        let mut notes = vec![NewNotification::to_centre(
            &q.node_code,
            "question_supervise",
            params.clone(),
            format!("督办：村民提问 #{} 已超过答复时限", q.id),
        )];
        if let Some(town) = NodeCode::parse(&q.node_code)
            .ok()
            .and_then(|v| v.natural_parent())
        {
            notes.push(NewNotification::to_centre(
                town.as_str(),
                "question_supervise",
                params,
                format!("督办：村民提问 #{} 已超过答复时限", q.id),
            ));
        }
        shanzhi_store::question::supervise(&app.db, &q, &notes, now).await?;
        self.supervised += 1;
        Ok(())
    }

    fn checked(&mut self) -> &mut usize {
        &mut self.checked
    }
}
