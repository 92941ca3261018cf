//! The village points system (积分制): a village publishes rules (joins a clean-up +5, breaks
//! the village rules −10), its staff award points to the residents by a rule, and the residents
//! redeem them at the village's points shop (积分超市). A rule is given by hand (`manual`) or
//! earned by itself when a resident's report is confirmed (`report_confirmed`: the matter was
//! accepted, handled and closed as real, not rejected). This module checks what is written and
//! says why a redemption is refused; the store keeps the balances.

use crate::text::{label, note};
use crate::DomainError;

/// The most points one rule gives or takes.
pub const MAX_POINTS: i64 = 1000;
/// Longest name of a rule or an item, and of a note.
pub const MAX_NAME: usize = 60;
pub const MAX_NOTE: usize = 500;
/// Most evidence photos on one award.
pub const MAX_EVIDENCE: usize = 9;
/// The largest price and stock of an item, and the most of one item in a redemption.
pub const MAX_PRICE: i64 = 1_000_000;
pub const MAX_STOCK: i64 = 1_000_000;
pub const MAX_QUANTITY: i64 = 100;

/// How a rule's points are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// Awarded by the village's staff, with a note.
    Manual,
    /// Awarded by itself, once, when a resident's report of the village is confirmed.
    ReportConfirmed,
}

impl RuleKind {
    pub const ALL: [RuleKind; 2] = [RuleKind::Manual, RuleKind::ReportConfirmed];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Manual => "manual",
            RuleKind::ReportConfirmed => "report_confirmed",
        }
    }

    pub fn parse(s: &str) -> Option<RuleKind> {
        RuleKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A rule as written: a name, its points (non-zero, −1000..=1000) and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub points: i64,
    pub kind: RuleKind,
}

/// Checks a rule's name, points and kind.
pub fn rule(name: &str, points: i64, kind: &str) -> Result<Rule, DomainError> {
    let name = label("name", name, MAX_NAME)?;
    if points == 0 || !(-MAX_POINTS..=MAX_POINTS).contains(&points) {
        return Err(DomainError::invalid(
            "points",
            format!("a rule gives or takes 1 to {MAX_POINTS} points (not 0)"),
        ));
    }
    let kind = RuleKind::parse(kind)
        .ok_or_else(|| DomainError::invalid("kind", "manual or report_confirmed"))?;
    if kind == RuleKind::ReportConfirmed && points < 0 {
        return Err(DomainError::invalid("points", REPORT_EARNS));
    }
    Ok(Rule { name, points, kind })
}

/// Why a rule for confirmed reports cannot take points.
const REPORT_EARNS: &str = "a confirmed report earns points: give a positive number";

/// Checks a change to a stored rule of kind `kind` (a rule keeps its kind): the input as any
/// rule's first (name, points in range: malformed otherwise), then against the kind — what the
/// kind forbids is a refusal by the rule as it stands (its field is `points`), not a malformed
/// request.
pub fn rule_change(name: &str, points: i64, kind: RuleKind) -> Result<Rule, DomainError> {
    let r = rule(name, points, RuleKind::Manual.as_str())?;
    if kind == RuleKind::ReportConfirmed && points < 0 {
        return Err(DomainError::refused(REPORT_EARNS));
    }
    Ok(Rule { kind, ..r })
}

/// Is `hash` a photo's hash (SHA-256, hex)?
pub fn is_photo_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|c| c.is_ascii_hexdigit())
}

/// An award as written: its note (required) and evidence photos (hashes, at most nine, once
/// each, lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    pub note: String,
    pub evidence: Vec<String>,
}

/// Checks an award's note and evidence.
pub fn award(raw_note: &str, evidence: &[String]) -> Result<Award, DomainError> {
    let note = note("note", raw_note, MAX_NOTE)?
        .ok_or_else(|| DomainError::invalid("note", "say what the resident did"))?;
    if evidence.len() > MAX_EVIDENCE {
        return Err(DomainError::invalid(
            "evidence",
            format!("at most {MAX_EVIDENCE} photos"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(evidence.len());
    for (i, h) in evidence.iter().enumerate() {
        let h = h.trim().to_ascii_lowercase();
        if !is_photo_hash(&h) {
            return Err(DomainError::invalid(
                format!("evidence[{i}]"),
                "a photo's hash",
            ));
        }
        if out.contains(&h) {
            return Err(DomainError::invalid(
                format!("evidence[{i}]"),
                "a photo is attached once",
            ));
        }
        out.push(h);
    }
    Ok(Award {
        note,
        evidence: out,
    })
}

/// A shop item as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    pub price: i64,
    pub stock: i64,
}

/// Checks an item's name, price in points (> 0) and stock (≥ 0).
pub fn item(name: &str, price: i64, stock: i64) -> Result<Item, DomainError> {
    let name = label("name", name, MAX_NAME)?;
    if !(1..=MAX_PRICE).contains(&price) {
        return Err(DomainError::invalid(
            "price",
            format!("must be between 1 and {MAX_PRICE}"),
        ));
    }
    if !(0..=MAX_STOCK).contains(&stock) {
        return Err(DomainError::invalid(
            "stock",
            format!("must be between 0 and {MAX_STOCK}"),
        ));
    }
    Ok(Item { name, price, stock })
}

/// Why a redemption is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The quantity is not 1..=MAX_QUANTITY.
    Quantity,
    /// The item is no longer offered.
    Withdrawn,
    /// Fewer points than the redemption costs.
    ShortBalance { balance: i64, cost: i64 },
    /// Fewer items in stock than asked for.
    ShortStock { stock: i64, quantity: i64 },
}

impl Refusal {
    /// The sentence a client reads (its reason key comes from it).
    pub fn message(&self) -> String {
        match self {
            Refusal::Quantity => format!("must be between 1 and {MAX_QUANTITY}"),
            Refusal::Withdrawn => "the item is no longer offered".to_owned(),
            Refusal::ShortBalance { balance, cost } => {
                format!("not enough points: the balance is {balance}, this costs {cost}")
            }
            Refusal::ShortStock { stock, quantity } => {
                format!("not enough in stock: {stock} left, {quantity} asked for")
            }
        }
    }

    /// The field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::Quantity => "quantity",
            Refusal::Withdrawn => "item_id",
            Refusal::ShortBalance { .. } => "balance",
            Refusal::ShortStock { .. } => "stock",
        }
    }
}

/// What a redemption of `quantity` items at `price` costs, if the balance and the stock allow
/// it. The store repeats the two checks as conditional updates, so that concurrent redemptions
/// can never overdraw either.
pub fn redeem(
    balance: i64,
    price: i64,
    stock: i64,
    active: bool,
    quantity: i64,
) -> Result<i64, Refusal> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(Refusal::Quantity);
    }
    if !active {
        return Err(Refusal::Withdrawn);
    }
    if stock < quantity {
        return Err(Refusal::ShortStock { stock, quantity });
    }
    let cost = price.saturating_mul(quantity);
    if balance < cost {
        return Err(Refusal::ShortBalance { balance, cost });
    }
    Ok(cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: DomainError) -> String {
        match e {
            DomainError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rules_give_or_take_a_bounded_non_zero_number_of_points() {
        let cases: [(&str, i64, &str, Result<(i64, RuleKind), &str>); 10] = [
            ("参加环境整治", 5, "manual", Ok((5, RuleKind::Manual))),
            ("违反村规民约", -10, "manual", Ok((-10, RuleKind::Manual))),
            (
                "上报隐患经核实",
                2,
                "report_confirmed",
                Ok((2, RuleKind::ReportConfirmed)),
            ),
            ("上限", 1000, "manual", Ok((1000, RuleKind::Manual))),
            ("下限", -1000, "manual", Ok((-1000, RuleKind::Manual))),
            ("零分", 0, "manual", Err("points")),
            ("过多", 1001, "manual", Err("points")),
            ("过少", -1001, "manual", Err("points")),
            ("扣分上报", -2, "report_confirmed", Err("points")),
            ("  ", 5, "manual", Err("name")),
        ];
        for (name, points, kind, want) in cases {
            let got = rule(name, points, kind)
                .map(|r| (r.points, r.kind))
                .map_err(field);
            assert_eq!(got, want.map_err(str::to_owned), "{name} {points} {kind}");
        }
        assert_eq!(field(rule("x", 1, "auto").unwrap_err()), "kind");
        assert_eq!(
            field(rule(&"长".repeat(MAX_NAME + 1), 1, "manual").unwrap_err()),
            "name"
        );
    }

    #[test]
    fn a_changed_rule_is_checked_as_input_then_against_its_kind() {
        use RuleKind::{Manual, ReportConfirmed};
        // Ok(points), or the error's kind ("invalid"/"refused") and field.
        let cases: [(&str, i64, RuleKind, Result<i64, (&str, &str)>); 7] = [
            ("违反村规民约", -10, Manual, Ok(-10)),
            ("上报隐患经核实", 3, ReportConfirmed, Ok(3)),
            ("上报隐患经核实", -2, ReportConfirmed, Err(("refused", ""))),
            (
                "上报隐患经核实",
                -1001,
                ReportConfirmed,
                Err(("invalid", "points")),
            ),
            (
                "上报隐患经核实",
                0,
                ReportConfirmed,
                Err(("invalid", "points")),
            ),
            ("", 2, ReportConfirmed, Err(("invalid", "name"))),
            ("过多", 1001, Manual, Err(("invalid", "points"))),
        ];
        for (name, points, kind, want) in cases {
            let got = rule_change(name, points, kind).map(|r| {
                assert_eq!(r.kind, kind, "a rule keeps its kind");
                r.points
            });
            let got = got.map_err(|e| match e {
                DomainError::Invalid { field, .. } => ("invalid", field),
                DomainError::Refused { .. } => ("refused", String::new()),
                other => panic!("{other:?}"),
            });
            let want = want.map_err(|(k, f)| (k, f.to_owned()));
            assert_eq!(got, want, "{name} {points} {kind:?}");
        }
    }

    #[test]
    fn awards_need_a_note_and_at_most_nine_distinct_photos() {
        let h = |c: char| c.to_string().repeat(64);
        let nine: Vec<String> = "0123456789".chars().take(9).map(h).collect::<Vec<_>>();
        let ten: Vec<String> = "0123456789".chars().map(h).collect();
        let cases: Vec<(&str, Vec<String>, Result<usize, &str>)> = vec![
            ("清理河道垃圾", vec![], Ok(0)),
            ("清理河道垃圾", nine.clone(), Ok(9)),
            ("清理河道垃圾", vec![h('A')], Ok(1)),
            ("", vec![], Err("note")),
            ("   ", vec![], Err("note")),
            ("清理", ten, Err("evidence")),
            ("清理", vec!["xyz".into()], Err("evidence[0]")),
            ("清理", vec![h('a'), h('A')], Err("evidence[1]")),
        ];
        for (n, ev, want) in cases {
            let got = award(n, &ev).map(|a| a.evidence.len()).map_err(field);
            assert_eq!(got, want.map_err(str::to_owned), "{n} {}", ev.len());
        }
        assert_eq!(award("x", &[h('B')]).unwrap().evidence, vec![h('b')]);
    }

    #[test]
    fn items_have_a_positive_price_and_no_negative_stock() {
        let cases: [(&str, i64, i64, Result<(), &str>); 7] = [
            ("洗衣粉", 20, 10, Ok(())),
            ("食用油", 50, 0, Ok(())),
            ("白送", 0, 10, Err("price")),
            ("倒贴", -5, 10, Err("price")),
            ("负库存", 10, -1, Err("stock")),
            ("太贵", MAX_PRICE + 1, 1, Err("price")),
            ("", 10, 1, Err("name")),
        ];
        for (name, price, stock, want) in cases {
            let got = item(name, price, stock).map(|_| ()).map_err(field);
            assert_eq!(got, want.map_err(str::to_owned), "{name}");
        }
    }

    #[test]
    fn a_redemption_is_refused_when_the_balance_or_the_stock_is_short() {
        use Refusal::*;
        // (balance, price, stock, active, quantity) → cost or refusal
        let cases = [
            ((100, 20, 5, true, 2), Ok(40)),
            ((40, 20, 2, true, 2), Ok(40)),
            (
                (39, 20, 2, true, 2),
                Err(ShortBalance {
                    balance: 39,
                    cost: 40,
                }),
            ),
            (
                (-10, 1, 2, true, 1),
                Err(ShortBalance {
                    balance: -10,
                    cost: 1,
                }),
            ),
            (
                (100, 20, 1, true, 2),
                Err(ShortStock {
                    stock: 1,
                    quantity: 2,
                }),
            ),
            (
                (100, 20, 0, true, 1),
                Err(ShortStock {
                    stock: 0,
                    quantity: 1,
                }),
            ),
            ((100, 20, 5, false, 1), Err(Withdrawn)),
            ((100, 20, 5, true, 0), Err(Quantity)),
            ((100, 20, 500, true, MAX_QUANTITY + 1), Err(Quantity)),
        ];
        for ((balance, price, stock, active, q), want) in cases {
            assert_eq!(
                redeem(balance, price, stock, active, q),
                want,
                "{balance} {price} {stock} {active} {q}"
            );
        }
        assert_eq!(
            ShortStock {
                stock: 0,
                quantity: 1
            }
            .field(),
            "stock"
        );
        assert_eq!(
            ShortBalance {
                balance: 3,
                cost: 5
            }
            .message(),
            "not enough points: the balance is 3, this costs 5"
        );
    }
}
