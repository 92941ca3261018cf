//! Emergency mode (平急转换): a roster of the vulnerable people of chosen grids, each entry marked
//! by the workers as they reach the person. The progress is Σ marked / Σ entries per state.

use geo::{Contains, Point};

use crate::grid::Shape;
use crate::text::{label, note};
use crate::tree::NodeCode;
use crate::DomainError;

/// Longest roster name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest note on an entry, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Most grids one roster may name.
pub const MAX_GRIDS: usize = 200;

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntryState {
    /// 待联系: nobody has marked it yet.
    Pending,
    /// 已联系
    Contacted,
    /// 已转移
    Moved,
    /// 联系不上
    Unreachable,
}

impl EntryState {
    pub const ALL: [EntryState; 4] = [
        EntryState::Pending,
        EntryState::Contacted,
        EntryState::Moved,
        EntryState::Unreachable,
    ];
    /// The states a worker may mark.
    pub const MARKS: [EntryState; 3] = [
        EntryState::Contacted,
        EntryState::Moved,
        EntryState::Unreachable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Pending => "pending",
            EntryState::Contacted => "contacted",
            EntryState::Moved => "moved",
            EntryState::Unreachable => "unreachable",
        }
    }

    /// A mark a worker may set (never back to pending).
    pub fn parse_mark(s: &str) -> Result<EntryState, DomainError> {
        EntryState::MARKS
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| DomainError::invalid("state", "must be contacted, moved or unreachable"))
    }
}

/// Σ entries per state of a roster, and how many are marked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: i64,
    pub pending: i64,
    pub contacted: i64,
    pub moved: i64,
    pub unreachable: i64,
}

impl Progress {
    /// Counts entries by state.
    pub fn of(states: impl IntoIterator<Item = (EntryState, i64)>) -> Progress {
        let mut p = Progress::default();
        for (s, n) in states {
            p.total += n;
            *match s {
                EntryState::Pending => &mut p.pending,
                EntryState::Contacted => &mut p.contacted,
                EntryState::Moved => &mut p.moved,
                EntryState::Unreachable => &mut p.unreachable,
            } += n;
        }
        p
    }

    /// Entries marked one way or another.
    pub fn marked(&self) -> i64 {
        self.total - self.pending
    }
}

/// A roster's name (also the purpose its audit row states).
pub fn parse_roster_name(raw: &str) -> Result<String, DomainError> {
    label("name", raw, MAX_NAME_CHARS)
}

/// A note on an entry.
pub fn parse_entry_note(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    note("note", raw.unwrap_or(""), MAX_NOTE_CHARS)
}

/// The ids of the points (id, lon, lat) that lie inside a drawn area.
pub fn inside(area: &Shape, points: impl IntoIterator<Item = (i64, f64, f64)>) -> Vec<i64> {
    points
        .into_iter()
        .filter(|(_, lon, lat)| area.geometry().contains(&Point::new(*lon, *lat)))
        .map(|(id, _, _)| id)
        .collect()
}

/// The lowest node whose subtree holds all of `nodes` (None for an empty list or nodes under
/// different provinces).
pub fn common_node(nodes: &[NodeCode]) -> Option<NodeCode> {
    let (first, rest) = nodes.split_first()?;
    first
        .ancestor_paths()
        .into_iter()
        .rev()
        .filter_map(|p| NodeCode::from_path(&p).ok())
        .find(|anc| rest.iter().all(|n| anc.contains(n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_node_is_the_lowest_holding_all() {
        let c = |s: &str| NodeCode::parse(s).unwrap();
        let cases: [(&[&str], Option<&str>); 5] = [
            (&["441502001001001"], Some("441502001001001")),
            (
                &["441502001001001", "441502001001002"],
                Some("441502001001"),
            ),
            (
                &["441502001001001", "441502001002001"],
                Some("441502001000"),
            ),
            (
                &["441502001001001", "441521001001001"],
                Some("441500000000"),
            ),
            (&[], None),
        ];
        for (nodes, want) in cases {
            let nodes: Vec<NodeCode> = nodes.iter().map(|n| c(n)).collect();
            assert_eq!(
                common_node(&nodes).map(|n| n.as_str().to_owned()),
                want.map(str::to_owned),
                "{nodes:?}"
            );
        }
    }

    #[test]
    fn only_points_inside_the_area_are_chosen() {
        let area = Shape::from_ring(vec![
            (0.0, 0.0),
            (2.0, 0.0),
            (2.0, 2.0),
            (0.0, 2.0),
            (0.0, 0.0),
        ])
        .unwrap();
        assert_eq!(
            inside(&area, [(1, 1.0, 1.0), (2, 3.0, 1.0), (3, 1.5, 0.5)]),
            vec![1, 3]
        );
    }

    #[test]
    fn workers_mark_contacted_moved_or_unreachable_never_pending() {
        for m in EntryState::MARKS {
            assert_eq!(EntryState::parse_mark(m.as_str()).unwrap(), m);
        }
        assert!(EntryState::parse_mark("pending").is_err());
        assert!(EntryState::parse_mark("done").is_err());
    }

    #[test]
    fn progress_counts_each_state_and_the_marked() {
        let p = Progress::of([
            (EntryState::Pending, 3),
            (EntryState::Contacted, 2),
            (EntryState::Moved, 1),
            (EntryState::Unreachable, 1),
        ]);
        assert_eq!(
            (
                p.total,
                p.marked(),
                p.pending,
                p.contacted,
                p.moved,
                p.unreachable
            ),
            (7, 4, 3, 2, 1, 1)
        );
        assert_eq!(Progress::of([]).marked(), 0);
    }
}
