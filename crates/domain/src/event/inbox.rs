//! 待办: what waits on a user. An order waits on them when the rules of [`super::transition`]
//! give them a move that is theirs to make now; this module only names those moves as kinds,
//! so the inbox and the order page can never disagree.

use super::state::EventState;

/// The kinds of waiting, in the order the inbox shows their chips.
pub const KINDS: [&str; 11] = [
    "take",
    "taken",
    "accept",
    "dispatch",
    "decide",
    "decide_extension",
    "sign",
    "check_in",
    "handle",
    "verify",
    "rate",
];

/// The kinds an order is in for a user, from the moves the rules allow them on it now
/// (`allowed`, as [`super::transition`] decides them). Moves that are open to a user but wait
/// on nobody (remind, escalate, merge, re-inspect, and resolving on the spot an order the grid
/// did not take) are not kinds.
pub fn waits_for(allowed: &[&str], ev: &EventState) -> Vec<&'static str> {
    let mut out = Vec::new();
    for a in allowed {
        let kind = match *a {
            // 网格接单 / 网格处置: a report waiting for the grid, or one this worker took.
            "take" => "take",
            "pass_on" => "taken",
            "accept" => "accept",
            // 兜底: bounced too often; the centre must decide who handles it.
            "dispatch" if ev.decision_required => "decide",
            "dispatch" => "dispatch",
            "decide_extension" => "decide_extension",
            "sign" => "sign",
            // 吹哨报到.
            "check_in" => "check_in",
            "report_result" => "handle",
            "verify" => "verify",
            "rate" => "rate",
            _ => continue,
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    out.sort_by_key(|k| KINDS.iter().position(|x| x == k));
    out
}

/// How urgent an order is for the inbox's order: red, then yellow, then the rest, each by due
/// time (orders without one last), then the oldest first. Sort ascending by this key.
pub fn urgency(light: &str, due_at: Option<i64>, id: i64) -> (u8, bool, i64, i64) {
    let rank = match light {
        "red" => 0,
        "yellow" => 1,
        _ => 2,
    };
    (rank, due_at.is_none(), due_at.unwrap_or(0), id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::state::State;
    use crate::tree::NodeCode;

    fn ev(decision_required: bool) -> EventState {
        EventState {
            id: 1,
            state: State::Accepted,
            grid: NodeCode::parse("441502001001001").unwrap(),
            centre: NodeCode::parse("441502001001").unwrap(),
            reporter_id: None,
            department_id: None,
            summoned: vec![],
            on_spot_allowed: true,
            returns: 0,
            decision_required,
            pending_extension: None,
            rated: false,
            grid_stage: None,
        }
    }

    #[test]
    fn each_move_that_waits_on_the_user_names_its_kind() {
        let table: [(&[&str], bool, &[&str]); 10] = [
            (&["take"], false, &["take"]),
            (&["pass_on", "resolve_on_spot"], false, &["taken"]),
            (
                &["accept", "reject", "escalate", "merge", "resolve_on_spot"],
                false,
                &["accept"],
            ),
            (
                &["dispatch", "summon", "escalate", "merge"],
                false,
                &["dispatch"],
            ),
            (&["dispatch", "summon"], true, &["decide"]),
            (
                &["decide_extension", "remind"],
                false,
                &["decide_extension"],
            ),
            (
                &["sign", "return", "check_in"],
                false,
                &["sign", "check_in"],
            ),
            (
                &["report_result", "request_extension", "return"],
                false,
                &["handle"],
            ),
            (&["verify"], false, &["verify"]),
            (
                &["remind", "reinspect", "resolve_on_spot", "rate"],
                false,
                &["rate"],
            ),
        ];
        for (allowed, decision, want) in table {
            assert_eq!(waits_for(allowed, &ev(decision)), want, "{allowed:?}");
        }
        assert!(waits_for(&["remind", "reinspect", "escalate"], &ev(false)).is_empty());
    }

    #[test]
    fn red_comes_first_then_yellow_then_by_due_time() {
        let mut rows = [
            ("green", Some(5), 1),
            ("green", None, 2),
            ("yellow", Some(9), 3),
            ("red", Some(20), 4),
            ("red", Some(10), 5),
            ("green", Some(3), 6),
        ];
        rows.sort_by_key(|(l, d, id)| urgency(l, *d, *id));
        let ids: Vec<i64> = rows.iter().map(|r| r.2).collect();
        assert_eq!(ids, [5, 4, 3, 6, 1, 2]);
    }
}
