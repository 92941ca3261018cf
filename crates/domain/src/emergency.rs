//! Emergency mode (平急转换): a roster of the vulnerable people of chosen grids, each entry marked
//! by the workers as they reach the person. The progress is Σ marked / Σ entries per state.

use crate::text::{label, note};
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

#[cfg(test)]
mod tests {
    use super::*;

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
