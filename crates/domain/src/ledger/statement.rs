//! The standard monthly statements of a village's books (村集体经济组织会计报表), from the posted
//! sums per account: the balance sheet (资产负债表) at the start of the year and at a month's end,
//! and the income and distribution statement (收益及收益分配表) for the month and the year to
//! date. Pure: sums in, figures out, in fen.
//!
//! Assets (and cost accounts, work in progress) count debits minus credits — a contra account
//! such as 累计折旧 lowers them by itself; liabilities and equity count credits minus debits.
//! Income and expenditure not yet carried to 本年收益 at the year's end stand on the equity
//! side as one line (未结转收益), so that the sheet balances whenever the entries do.

use super::chart::{top, Category, CHART};

/// Posted sums of an account: (code, debits, credits), as the store answers them.
pub type Sum = (String, i64, i64);

/// A line of a statement: account, name, and two figures (start and end of the sheet; month
/// and year to date of the income statement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub code: &'static str,
    pub name: &'static str,
    pub first: i64,
    pub second: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceSheet {
    pub assets: Vec<Line>,
    pub liabilities: Vec<Line>,
    pub equity: Vec<Line>,
    /// Income less expenditure not carried to equity yet: (start, end).
    pub unallocated: (i64, i64),
    pub total_assets: (i64, i64),
    /// Liabilities, equity and the unallocated income: equal to the assets when balanced.
    pub total_claims: (i64, i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeStatement {
    pub income: Vec<Line>,
    pub expenditure: Vec<Line>,
    /// 本年收益 (income less expenditure): (month, year to date).
    pub net: (i64, i64),
    /// Distributed this month and this year (debits to 收益分配).
    pub distributed: (i64, i64),
}

fn side_value(category: Category, d: i64, c: i64) -> i64 {
    match category {
        Category::Asset | Category::Cost | Category::Expenditure => d - c,
        Category::Liability | Category::Equity | Category::Income => c - d,
    }
}

/// The value of every chart account in `sums` by category rules, summed over sub-accounts.
fn values(sums: &[Sum]) -> Vec<(&'static str, i64, i64)> {
    let mut out: Vec<(&'static str, i64, i64)> = Vec::new();
    for (code, d, c) in sums {
        if let Some(a) = top(code) {
            match out.iter_mut().find(|(k, _, _)| *k == a.code) {
                Some(x) => {
                    x.1 += d;
                    x.2 += c;
                }
                None => out.push((a.code, *d, *c)),
            }
        }
    }
    out
}

fn value_of(v: &[(&'static str, i64, i64)], code: &str, category: Category) -> i64 {
    v.iter()
        .find(|(k, _, _)| *k == code)
        .map_or(0, |(_, d, c)| side_value(category, *d, *c))
}

/// The balance sheet from the sums up to the start of the year (`start`, i.e. to the end of
/// the year before) and up to the month's end (`end`).
pub fn balance_sheet(start: &[Sum], end: &[Sum]) -> BalanceSheet {
    let (vs, ve) = (values(start), values(end));
    let lines = |cats: &[Category]| -> Vec<Line> {
        CHART
            .iter()
            .filter(|a| cats.contains(&a.category))
            .map(|a| Line {
                code: a.code,
                name: a.name,
                first: value_of(&vs, a.code, a.category),
                second: value_of(&ve, a.code, a.category),
            })
            .filter(|l| l.first != 0 || l.second != 0)
            .collect()
    };
    let unallocated = |v: &[(&'static str, i64, i64)]| -> i64 {
        CHART
            .iter()
            .filter(|a| matches!(a.category, Category::Income | Category::Expenditure))
            .map(|a| {
                let x = value_of(v, a.code, a.category);
                if a.category == Category::Income {
                    x
                } else {
                    -x
                }
            })
            .sum()
    };
    let assets = lines(&[Category::Asset, Category::Cost]);
    let liabilities = lines(&[Category::Liability]);
    let equity = lines(&[Category::Equity]);
    let sum = |ls: &[Line]| -> (i64, i64) {
        ls.iter()
            .fold((0, 0), |(a, b), l| (a + l.first, b + l.second))
    };
    let un = (unallocated(&vs), unallocated(&ve));
    let (l, e) = (sum(&liabilities), sum(&equity));
    BalanceSheet {
        total_assets: sum(&assets),
        total_claims: (l.0 + e.0 + un.0, l.1 + e.1 + un.1),
        assets,
        liabilities,
        equity,
        unallocated: un,
    }
}

/// The income statement from the month's sums and the year-to-date sums.
pub fn income_statement(month: &[Sum], year: &[Sum]) -> IncomeStatement {
    let (vm, vy) = (values(month), values(year));
    let lines = |cat: Category| -> Vec<Line> {
        CHART
            .iter()
            .filter(|a| a.category == cat)
            .map(|a| Line {
                code: a.code,
                name: a.name,
                first: value_of(&vm, a.code, a.category),
                second: value_of(&vy, a.code, a.category),
            })
            .filter(|l| l.first != 0 || l.second != 0)
            .collect()
    };
    let income = lines(Category::Income);
    let expenditure = lines(Category::Expenditure);
    let sum = |ls: &[Line]| -> (i64, i64) {
        ls.iter()
            .fold((0, 0), |(a, b), l| (a + l.first, b + l.second))
    };
    let (i, x) = (sum(&income), sum(&expenditure));
    let debits_of = |v: &[(&'static str, i64, i64)], code: &str| {
        v.iter()
            .find(|(k, _, _)| *k == code)
            .map_or(0, |(_, d, _)| *d)
    };
    IncomeStatement {
        income,
        expenditure,
        net: (i.0 - x.0, i.1 - x.1),
        distributed: (debits_of(&vm, "322"), debits_of(&vy, "322")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(code: &str, d: i64, c: i64) -> Sum {
        (code.to_owned(), d, c)
    }

    #[test]
    fn the_sheet_balances_when_the_entries_do() {
        // Capital paid into the bank, a contracting fee received, an office expense paid, a
        // building bought on credit: every entry balanced.
        let end = vec![
            s("102", 100_000 + 8_000, 1_200),
            s("301", 0, 100_000),
            s("501", 0, 8_000),
            s("513", 1_200, 0),
            s("151", 50_000, 0),
            s("201", 0, 50_000),
        ];
        let start = vec![s("102", 100_000, 0), s("301", 0, 100_000)];
        let b = balance_sheet(&start, &end);
        assert_eq!(b.total_assets, (100_000, 156_800));
        assert_eq!(b.total_claims, b.total_assets);
        assert_eq!(b.unallocated, (0, 6_800));
        assert!(b
            .assets
            .iter()
            .any(|l| l.code == "151" && l.first == 0 && l.second == 50_000));
        let i = income_statement(&[s("501", 0, 8_000)], &end);
        assert_eq!(i.net, (8_000, 6_800));
        assert_eq!(i.expenditure.len(), 1);
        assert_eq!(i.distributed, (0, 0));
    }
}
