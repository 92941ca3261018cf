//! Collective contracts (集体经济合同) and the clean-up of them (一清三规范): the register's
//! automatic flags, each a pure function of the contract, the day and the village's other
//! contracts of the same kind.
//!
//! Term limits by kind, the law's (configurable per deployment, in years): arable land 30
//! (《农村土地承包法》 art. 21), forest land 70 (ibid., the upper bound of 30–70), grassland 50
//! (ibid., 30–50), a lease of buildings 20 (《民法典》 art. 705); ponds and other resources
//! contracted by tender (其他方式承包) have no statutory term and default to 30.

use chrono::NaiveDate;

/// What a contract lets out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContractKind {
    /// 耕地
    Land,
    /// 林地
    Forest,
    /// 草地
    Grassland,
    /// 坑塘水面
    Pond,
    /// 房屋、厂房
    Building,
    /// 其他资源
    Other,
}

impl ContractKind {
    pub const ALL: [ContractKind; 6] = [
        ContractKind::Land,
        ContractKind::Forest,
        ContractKind::Grassland,
        ContractKind::Pond,
        ContractKind::Building,
        ContractKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContractKind::Land => "land",
            ContractKind::Forest => "forest",
            ContractKind::Grassland => "grassland",
            ContractKind::Pond => "pond",
            ContractKind::Building => "building",
            ContractKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ContractKind> {
        ContractKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The longest term the law allows, in years (the module's doc says whence).
    pub fn default_max_years(self) -> u32 {
        match self {
            ContractKind::Land | ContractKind::Pond | ContractKind::Other => 30,
            ContractKind::Forest => 70,
            ContractKind::Grassland => 50,
            ContractKind::Building => 20,
        }
    }
}

/// A flag the register raises on a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// 已到期: the term ended and the contract is still in force in the register.
    Expired,
    /// 期限超过法定上限.
    TermTooLong,
    /// 价格明显偏低: the yearly price per unit is below the village's median for the kind by
    /// more than the set share.
    PriceLow,
    /// 未经村民会议（代表会议）表决.
    NoMeetingApproval,
}

impl Flag {
    pub const ALL: [Flag; 4] = [
        Flag::Expired,
        Flag::TermTooLong,
        Flag::PriceLow,
        Flag::NoMeetingApproval,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Expired => "expired",
            Flag::TermTooLong => "term_too_long",
            Flag::PriceLow => "price_low",
            Flag::NoMeetingApproval => "no_meeting_approval",
        }
    }

    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// What the flags read of a contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Terms {
    pub kind: ContractKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Yearly price per unit (per mu, per square metre…), in fen.
    pub yearly_fen_per_unit: i64,
    /// The villagers' meeting (or representatives' meeting) approved it.
    pub meeting_approved: bool,
    /// Ended early or settled: no longer in force.
    pub terminated: bool,
}

/// The settings the flags use.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// The longest term per kind, in years, in the order of [`ContractKind::ALL`].
    pub max_years: [u32; 6],
    /// A price below the median by more than this share (0.3 = 30 %) is flagged.
    pub low_share: f64,
    /// The fewest other contracts of the kind for a median to mean anything.
    pub min_peers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_years: ContractKind::ALL.map(ContractKind::default_max_years),
            low_share: 0.3,
            min_peers: 3,
        }
    }
}

/// The median of the yearly unit prices given (the lower middle one of an even count, so
/// that a flag never rests on an average of two).
pub fn median(prices: &[i64]) -> Option<i64> {
    let mut p: Vec<i64> = prices.to_vec();
    p.sort_unstable();
    (!p.is_empty()).then(|| p[(p.len() - 1) / 2])
}

/// The flags of a contract on `today`, given the yearly unit prices of the village's other
/// contracts of the same kind.
pub fn flags(c: &Terms, today: NaiveDate, peers: &[i64], limits: &Limits) -> Vec<Flag> {
    let mut out = Vec::new();
    if !c.terminated && c.end < today {
        out.push(Flag::Expired);
    }
    let max = limits.max_years[c.kind as usize];
    let limit_end = c
        .start
        .checked_add_months(chrono::Months::new(max * 12))
        .unwrap_or(NaiveDate::MAX);
    if c.end > limit_end {
        out.push(Flag::TermTooLong);
    }
    if peers.len() >= limits.min_peers {
        if let Some(m) = median(peers) {
            if (c.yearly_fen_per_unit as f64) < (m as f64) * (1.0 - limits.low_share) {
                out.push(Flag::PriceLow);
            }
        }
    }
    if !c.meeting_approved {
        out.push(Flag::NoMeetingApproval);
    }
    out
}

/// What a contract's area is counted in; prices are compared per unit among contracts of the
/// same kind and unit only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    /// 亩
    Mu,
    /// 平方米
    SquareMetre,
    /// 处、间、个 (a whole pond, a shop)
    Piece,
}

impl Unit {
    pub const ALL: [Unit; 3] = [Unit::Mu, Unit::SquareMetre, Unit::Piece];

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Mu => "mu",
            Unit::SquareMetre => "m2",
            Unit::Piece => "piece",
        }
    }

    pub fn parse(s: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.as_str() == s)
    }
}

/// The yearly price per unit in fen of a contract of `yearly_fen` over `area_centi` hundredths
/// of a unit (rounded down); none for no area.
pub fn unit_price(yearly_fen: i64, area_centi: i64) -> Option<i64> {
    (area_centi > 0).then(|| (i128::from(yearly_fen) * 100 / i128::from(area_centi)) as i64)
}

/// Where the clean-up (整改) of a flag stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cleanup {
    /// 待整改
    Open,
    /// 整改中
    Rectifying,
    /// 已清理
    Cleaned,
}

impl Cleanup {
    pub const ALL: [Cleanup; 3] = [Cleanup::Open, Cleanup::Rectifying, Cleanup::Cleaned];

    pub fn as_str(self) -> &'static str {
        match self {
            Cleanup::Open => "open",
            Cleanup::Rectifying => "rectifying",
            Cleanup::Cleaned => "cleaned",
        }
    }

    pub fn parse(s: &str) -> Option<Cleanup> {
        Cleanup::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Why a clean-up move is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CleanupRefusal {
    /// The move does not go from where the flag stands.
    Conflict(String),
    /// A note is needed.
    NoteNeeded,
}

/// May a flag's clean-up go from `from` to `to` (with or without a note)? Forward only:
/// open → rectifying → cleaned, or open → cleaned at once; cleaning says how (a note), and a
/// cleaned flag goes back to rectifying only with a note saying why.
pub fn cleanup_move(from: Cleanup, to: Cleanup, has_note: bool) -> Result<(), CleanupRefusal> {
    use Cleanup::*;
    let ok = matches!(
        (from, to),
        (Open, Rectifying) | (Open, Cleaned) | (Rectifying, Cleaned) | (Cleaned, Rectifying)
    );
    if !ok {
        return Err(CleanupRefusal::Conflict(format!(
            "a flag that is {} cannot become {}",
            from.as_str(),
            to.as_str()
        )));
    }
    if !has_note && (to == Cleaned || from == Cleaned) {
        return Err(CleanupRefusal::NoteNeeded);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn terms(kind: ContractKind, start: NaiveDate, end: NaiveDate, price: i64) -> Terms {
        Terms {
            kind,
            start,
            end,
            yearly_fen_per_unit: price,
            meeting_approved: true,
            terminated: false,
        }
    }

    #[test]
    fn each_flag_is_raised_by_its_own_cause_only() {
        let today = day(2026, 12, 3);
        let peers = [50_000, 60_000, 55_000, 58_000];
        let l = Limits::default();
        let clean = terms(
            ContractKind::Pond,
            day(2020, 1, 1),
            day(2029, 12, 31),
            52_000,
        );
        assert!(flags(&clean, today, &peers, &l).is_empty());
        let cases: Vec<(Terms, Vec<Flag>)> = vec![
            (
                Terms {
                    end: day(2026, 12, 2),
                    ..clean.clone()
                },
                vec![Flag::Expired],
            ),
            // Ended the same day is still in force; a terminated one is never expired.
            (
                Terms {
                    end: today,
                    ..clean.clone()
                },
                vec![],
            ),
            (
                Terms {
                    end: day(2020, 1, 1),
                    terminated: true,
                    ..clean.clone()
                },
                vec![],
            ),
            (
                Terms {
                    end: day(2050, 1, 2),
                    ..clean.clone()
                },
                vec![Flag::TermTooLong],
            ),
            (
                Terms {
                    end: day(2050, 1, 1),
                    ..clean.clone()
                },
                vec![],
            ),
            (
                Terms {
                    kind: ContractKind::Building,
                    end: day(2040, 1, 2),
                    ..clean.clone()
                },
                vec![Flag::TermTooLong],
            ),
            (
                Terms {
                    kind: ContractKind::Forest,
                    end: day(2089, 12, 31),
                    ..clean.clone()
                },
                vec![],
            ),
            // The median of the peers is 55,000: below 38,500 is flagged.
            (
                Terms {
                    yearly_fen_per_unit: 38_499,
                    ..clean.clone()
                },
                vec![Flag::PriceLow],
            ),
            (
                Terms {
                    yearly_fen_per_unit: 38_500,
                    ..clean.clone()
                },
                vec![],
            ),
            (
                Terms {
                    meeting_approved: false,
                    ..clean.clone()
                },
                vec![Flag::NoMeetingApproval],
            ),
        ];
        for (c, want) in cases {
            assert_eq!(flags(&c, today, &peers, &l), want, "{c:?}");
        }
    }

    #[test]
    fn a_price_is_judged_only_against_enough_peers() {
        let c = terms(ContractKind::Land, day(2020, 1, 1), day(2030, 1, 1), 1);
        let l = Limits::default();
        assert!(flags(&c, day(2026, 1, 1), &[100, 100], &l).is_empty());
        assert_eq!(
            flags(&c, day(2026, 1, 1), &[100, 100, 100], &l),
            vec![Flag::PriceLow]
        );
        assert_eq!(median(&[4, 1, 3, 2]), Some(2));
        assert_eq!(median(&[]), None);
    }
    #[test]
    fn a_clean_up_goes_forward_and_says_how() {
        use Cleanup::*;
        let cases = [
            (Open, Rectifying, false, Ok(())),
            (Open, Cleaned, true, Ok(())),
            (Open, Cleaned, false, Err(CleanupRefusal::NoteNeeded)),
            (Rectifying, Cleaned, true, Ok(())),
            (Rectifying, Cleaned, false, Err(CleanupRefusal::NoteNeeded)),
            (Cleaned, Rectifying, true, Ok(())),
            (Cleaned, Rectifying, false, Err(CleanupRefusal::NoteNeeded)),
        ];
        for (from, to, note, want) in cases {
            assert_eq!(cleanup_move(from, to, note), want, "{from:?} -> {to:?}");
        }
        for (from, to) in [
            (Rectifying, Open),
            (Cleaned, Open),
            (Open, Open),
            (Cleaned, Cleaned),
        ] {
            assert!(matches!(
                cleanup_move(from, to, true),
                Err(CleanupRefusal::Conflict(_))
            ));
        }
        assert_eq!(unit_price(100_000, 250), Some(40_000));
        assert_eq!(unit_price(100_000, 0), None);
        assert_eq!(Unit::parse("m2"), Some(Unit::SquareMetre));
    }
}
