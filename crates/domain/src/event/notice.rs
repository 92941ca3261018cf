//! Which notice a move sends to the people who reported an order (the reporter and every
//! reporter of a duplicate merged into it): one stable kind per step, which the clients word in
//! the reader's language. A new move that citizens should hear of needs one line in
//! [`reporter_notice`].

use super::State;

/// The kind of notice the reporters get for a move `action` (an [`super::Action::name`], or a
/// system move of the sweep such as `escalate`) that took the order from `from` to `to`;
/// `reopened` says the move reopened it (重办). None: the reporters are not told.
pub fn reporter_notice(
    action: &str,
    from: State,
    to: State,
    reopened: bool,
) -> Option<&'static str> {
    if reopened {
        return Some("report_reopened");
    }
    Some(match action {
        // 受理 / 不予受理
        "accept" => "report_accepted",
        "reject" => "report_rejected",
        // 派单 or 吹哨: which department has it.
        "dispatch" | "summon" => "report_dispatched",
        // 签收: being handled.
        "sign" => "report_in_progress",
        // 办结 (by a department, or on the spot by the grid worker).
        "report_result" | "resolve_on_spot" => "report_handled",
        // 结案: asked to rate. A failed check sends the order back quietly.
        "verify" if to == State::Closed && from != State::Closed => "report_closed",
        "merge" => "report_merged",
        "escalate" => "report_escalated",
        // 网格接单 (grid-first flow), when those moves exist.
        "take" => "report_taken",
        "pass_on" => "report_passed_on",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use State::*;

    #[test]
    fn each_step_of_a_report_has_its_notice() {
        let table: &[(&str, State, State, bool, Option<&str>)] = &[
            ("accept", Reported, Accepted, false, Some("report_accepted")),
            ("reject", Reported, Rejected, false, Some("report_rejected")),
            (
                "dispatch",
                Accepted,
                Dispatched,
                false,
                Some("report_dispatched"),
            ),
            (
                "summon",
                Accepted,
                Dispatched,
                false,
                Some("report_dispatched"),
            ),
            (
                "sign",
                Dispatched,
                InProgress,
                false,
                Some("report_in_progress"),
            ),
            (
                "report_result",
                InProgress,
                Resolved,
                false,
                Some("report_handled"),
            ),
            (
                "resolve_on_spot",
                Accepted,
                Resolved,
                false,
                Some("report_handled"),
            ),
            ("verify", Resolved, Closed, false, Some("report_closed")),
            ("verify", Resolved, InProgress, false, None),
            ("rate", Closed, Accepted, true, Some("report_reopened")),
            ("rate", Closed, Closed, false, None),
            ("reinspect", Closed, Accepted, true, Some("report_reopened")),
            ("reinspect", Closed, Closed, false, None),
            ("merge", Reported, Merged, false, Some("report_merged")),
            (
                "escalate",
                Accepted,
                Accepted,
                false,
                Some("report_escalated"),
            ),
            ("take", Reported, Reported, false, Some("report_taken")),
            (
                "pass_on",
                Reported,
                Reported,
                false,
                Some("report_passed_on"),
            ),
            ("remind", Dispatched, Dispatched, false, None),
            ("return", Dispatched, Accepted, false, None),
            ("request_extension", InProgress, InProgress, false, None),
            ("check_in", Dispatched, Dispatched, false, None),
        ];
        for (action, from, to, reopened, want) in table {
            assert_eq!(
                reporter_notice(action, *from, *to, *reopened),
                *want,
                "{action} {from:?}→{to:?}"
            );
        }
    }
}
