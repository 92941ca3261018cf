//! Which mediators suit a case: specialty match, the level they serve at, current load and
//! rating, scored so the centre sees the best first with the reasons why.

use serde::Serialize;

use super::CentreLevel;
use crate::tree::NodeCode;

/// Open cases at which a mediator counts as fully loaded (no load points left).
pub const FULL_LOAD: i64 = 10;

/// What ranking needs to know of the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The case's type code and its parent's (a `wages` case suits a `labour` specialist).
    pub type_code: String,
    pub type_parent: Option<String>,
    pub level: CentreLevel,
    pub node: NodeCode,
}

/// A mediator of the pool, as ranking sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: i64,
    pub specialties: Vec<String>,
    pub level: CentreLevel,
    /// The node they serve.
    pub node: NodeCode,
    /// Open cases they hold.
    pub load: i64,
    /// 0–5.
    pub rating: f64,
    pub active: bool,
}

/// Why a mediator ranks where they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Their specialties include the case's type (or its parent type).
    Specialty,
    /// They serve at the case's level, in the case's area.
    Level,
    /// They have room for another case.
    Load,
    /// Rated well (4 or more of 5).
    Rating,
}

/// One ranked mediator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub id: i64,
    pub score: i64,
    pub reasons: Vec<Reason>,
}

/// Scores: an exact specialty 40 (the parent type 25), same level in the area 20 (another
/// level in the area 10), load up to 20 (2 per free slot below [`FULL_LOAD`]), rating up to
/// 10. Inactive mediators and those from outside the case's area are left out. Best first;
/// ties by lower load, then id.
pub fn rank(need: &Need, candidates: &[Candidate]) -> Vec<Ranked> {
    let mut out: Vec<(Ranked, i64)> = candidates
        .iter()
        .filter(|c| c.active && (c.node.contains(&need.node) || need.node.contains(&c.node)))
        .map(|c| {
            let mut reasons = Vec::new();
            let mut score = 0;
            if c.specialties.contains(&need.type_code) {
                score += 40;
                reasons.push(Reason::Specialty);
            } else if need
                .type_parent
                .as_ref()
                .is_some_and(|p| c.specialties.contains(p))
            {
                score += 25;
                reasons.push(Reason::Specialty);
            }
            if c.level == need.level {
                score += 20;
                reasons.push(Reason::Level);
            } else {
                score += 10;
            }
            let free = (FULL_LOAD - c.load).clamp(0, FULL_LOAD);
            score += 2 * free;
            if free * 2 >= FULL_LOAD {
                reasons.push(Reason::Load);
            }
            let rating = c.rating.clamp(0.0, 5.0);
            score += (rating * 2.0).round() as i64;
            if rating >= 4.0 {
                reasons.push(Reason::Rating);
            }
            (
                Ranked {
                    id: c.id,
                    score,
                    reasons,
                },
                c.load,
            )
        })
        .collect();
    out.sort_by(|(a, la), (b, lb)| b.score.cmp(&a.score).then(la.cmp(lb)).then(a.id.cmp(&b.id)));
    out.into_iter().map(|(r, _)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> NodeCode {
        NodeCode::from_path(s).unwrap()
    }

    fn need() -> Need {
        Need {
            type_code: "wages".into(),
            type_parent: Some("labour".into()),
            level: CentreLevel::Town,
            node: code("441502001"),
        }
    }

    fn mediator(
        id: i64,
        specialties: &[&str],
        level: CentreLevel,
        node: &str,
        load: i64,
        rating: f64,
    ) -> Candidate {
        Candidate {
            id,
            specialties: specialties.iter().map(|s| s.to_string()).collect(),
            level,
            node: code(node),
            load,
            rating,
            active: true,
        }
    }

    #[test]
    fn specialty_then_level_then_load_then_rating() {
        let town = CentreLevel::Town;
        let all = vec![
            mediator(1, &["family"], town, "441502001", 0, 5.0),
            mediator(2, &["wages"], town, "441502001", 8, 3.0),
            mediator(3, &["labour"], town, "441502001", 0, 3.0),
            mediator(4, &["wages"], CentreLevel::County, "441502", 0, 3.0),
            mediator(5, &["wages"], town, "441502002", 0, 5.0),
        ];
        let ranked = rank(&need(), &all);
        let ids: Vec<i64> = ranked.iter().map(|r| r.id).collect();
        // 4: 40+10+20+6 = 76; 3: 25+20+20+6 = 71; 2: 40+20+4+6 = 70; 1: 0+20+20+10 = 50.
        // 5 serves another town: left out.
        assert_eq!(ids, [4, 3, 2, 1]);
        assert_eq!(ranked[0].score, 76);
        assert_eq!(ranked[0].reasons, [Reason::Specialty, Reason::Load]);
        assert_eq!(
            ranked[3].reasons,
            [Reason::Level, Reason::Load, Reason::Rating]
        );
    }

    #[test]
    fn inactive_mediators_are_left_out_and_ties_go_to_the_less_loaded() {
        let mut a = mediator(1, &["wages"], CentreLevel::Town, "441502001", 3, 4.0);
        let b = mediator(2, &["wages"], CentreLevel::Town, "441502001", 2, 3.0);
        let c = mediator(3, &["wages"], CentreLevel::Town, "441502001", 2, 3.0);
        // a: 40+20+14+8 = 82, b and c: 40+20+16+6 = 82.
        let ids: Vec<i64> = rank(&need(), &[a.clone(), c.clone(), b.clone()])
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, [2, 3, 1]);
        a.active = false;
        assert_eq!(rank(&need(), &[a]).len(), 0);
    }
}
