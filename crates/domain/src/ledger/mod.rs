//! The village ledger (三资: funds, assets, resources): amounts, double-entry journal entries and
//! their approval. An entry's lines are posted to accounts of the chart (a level-one code of the
//! accounting rules for village collective economic organisations, or a sub-account under one);
//! the debits equal the credits. The life of an entry — entered by the village's treasurer,
//! approved by the village committee, reviewed by the town's agency (三资代理中心) — is
//! [`state`]: an expense is never approved without an invoice image (不上图不给报销).

pub mod chart;
pub mod state;
pub mod statement;

use crate::DomainError;

pub use state::{transition, Action, Duty, EntryState, State, Transition};

/// The largest amount of one line: 10^12 yuan in fen, far beyond any village's books.
pub const MAX_FEN: i64 = 100_000_000_000_000;
/// Most lines in one entry.
pub const MAX_LINES: usize = 50;

/// Which side of an account a line posts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// 借
    Debit,
    /// 贷
    Credit,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Debit => "debit",
            Side::Credit => "credit",
        }
    }

    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "debit" => Some(Side::Debit),
            "credit" => Some(Side::Credit),
            _ => None,
        }
    }
}

/// What an entry records, for the approval rules and the public ledger: an expense needs an
/// invoice before it can be approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 收入
    Income,
    /// 支出
    Expense,
    /// 转账 (neither: a transfer between accounts, a depreciation, a closing entry)
    Transfer,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Income, Kind::Expense, Kind::Transfer];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Income => "income",
            Kind::Expense => "expense",
            Kind::Transfer => "transfer",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Parses an amount in yuan as written ("1234.5", "0.01") into fen. Positive, at
/// most two decimals, at most [`MAX_FEN`].
pub fn parse_yuan(field: &str, s: &str) -> Result<i64, DomainError> {
    let bad = |why: &str| DomainError::invalid(field, why);
    // Digits only (no thousands separators: "1,2,3" is not 123), a point only before decimals.
    let t = s.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, "0"));
    if whole.is_empty()
        || whole.len() > 13
        || frac.is_empty()
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad(
            "must be an amount in yuan with at most two decimals, e.g. 1234.50",
        ));
    }
    let whole: i64 = whole.parse().map_err(|_| bad("too large"))?;
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    let fen = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| bad("too large"))?;
    if fen <= 0 {
        return Err(bad("must be more than zero"));
    }
    if fen > MAX_FEN {
        return Err(bad("too large"));
    }
    Ok(fen)
}

/// Fen written as yuan with two decimals ("1234.50", "-0.01").
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// One line of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub account: String,
    pub side: Side,
    pub fen: i64,
}

/// Checks an entry's lines: two to [`MAX_LINES`], each a positive amount on a known account
/// (`known` says whether a code is an account of the village's chart that takes postings),
/// both sides present, debits equal to credits. Answers the total.
pub fn check_lines(lines: &[Line], known: impl Fn(&str) -> bool) -> Result<i64, DomainError> {
    if lines.len() < 2 || lines.len() > MAX_LINES {
        return Err(DomainError::invalid(
            "lines",
            format!("an entry has 2 to {MAX_LINES} lines"),
        ));
    }
    let (mut debit, mut credit) = (0i64, 0i64);
    for (i, l) in lines.iter().enumerate() {
        if !known(&l.account) {
            return Err(DomainError::invalid(
                format!("lines[{i}].account"),
                format!("{} is not an account of this village's chart", l.account),
            ));
        }
        if l.fen <= 0 || l.fen > MAX_FEN {
            return Err(DomainError::invalid(
                format!("lines[{i}].amount"),
                "must be more than zero",
            ));
        }
        match l.side {
            Side::Debit => debit += l.fen,
            Side::Credit => credit += l.fen,
        }
    }
    if debit == 0 || credit == 0 {
        return Err(DomainError::invalid(
            "lines",
            "an entry has at least one debit and one credit line",
        ));
    }
    if debit != credit {
        return Err(DomainError::invalid(
            "lines",
            format!(
                "debits ({}) must equal credits ({}) (借贷必须相等)",
                yuan(debit),
                yuan(credit)
            ),
        ));
    }
    Ok(debit)
}

/// An account's balance on its normal side from the sums of its debits and credits: a debit
/// account (assets, costs, expenses) holds debits less credits, a credit account the reverse.
pub fn balance(normal: Side, debits: i64, credits: i64) -> i64 {
    match normal {
        Side::Debit => debits - credits,
        Side::Credit => credits - debits,
    }
}

/// A month of the books, "YYYY-MM", as a number of months since year 0 (for ordering).
pub fn month_index(year: i32, month: u32) -> i64 {
    i64::from(year) * 12 + i64::from(month) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(account: &str, side: Side, fen: i64) -> Line {
        Line {
            account: account.into(),
            side,
            fen,
        }
    }

    #[test]
    fn amounts_parse_in_yuan_to_fen() {
        for (s, fen) in [
            ("1", 100),
            ("0.01", 1),
            ("1234.5", 123_450),
            (" 1234.50 ", 123_450),
            ("1000000000000", MAX_FEN),
        ] {
            assert_eq!(parse_yuan("amount", s).unwrap(), fen, "{s}");
        }
        for s in [
            "",
            "0",
            "0.00",
            "-1",
            "1.234",
            "1e3",
            "abc",
            "1.2.3",
            ".5",
            "1.",
            "1,234.50",
            "1,2,3",
            "10000000000000",
        ] {
            assert!(parse_yuan("amount", s).is_err(), "{s}");
        }
        assert_eq!(yuan(123_450), "1234.50");
        assert_eq!(yuan(-1), "-0.01");
        assert_eq!(yuan(0), "0.00");
    }

    #[test]
    fn an_entry_balances_its_debits_and_credits() {
        let known = |c: &str| matches!(c, "101" | "102" | "541" | "10201");
        let good = [
            line("541", Side::Debit, 30_000),
            line("101", Side::Credit, 10_000),
            line("10201", Side::Credit, 20_000),
        ];
        assert_eq!(check_lines(&good, known).unwrap(), 30_000);
        let cases: Vec<(Vec<Line>, &str)> = vec![
            (vec![line("541", Side::Debit, 100)], "lines"),
            (
                vec![line("541", Side::Debit, 100), line("101", Side::Credit, 99)],
                "lines",
            ),
            (
                vec![line("541", Side::Debit, 100), line("101", Side::Debit, 100)],
                "lines",
            ),
            (
                vec![
                    line("999", Side::Debit, 100),
                    line("101", Side::Credit, 100),
                ],
                "lines[0].account",
            ),
            (
                vec![line("541", Side::Debit, 0), line("101", Side::Credit, 0)],
                "lines[0].amount",
            ),
        ];
        for (lines, field) in cases {
            match check_lines(&lines, known) {
                Err(DomainError::Invalid { field: f, .. }) => assert_eq!(f, field, "{lines:?}"),
                other => panic!("{lines:?}: {other:?}"),
            }
        }
        let many: Vec<Line> = (0..=MAX_LINES)
            .map(|i| line("101", if i == 0 { Side::Debit } else { Side::Credit }, 1))
            .collect();
        assert!(check_lines(&many, known).is_err());
    }

    #[test]
    fn balances_are_on_the_accounts_normal_side() {
        assert_eq!(balance(Side::Debit, 500, 200), 300);
        assert_eq!(balance(Side::Credit, 500, 200), -300);
        assert_eq!(balance(Side::Credit, 200, 500), 300);
    }
}
