//! The chart of accounts (会计科目表) of the accounting rules for village collective economic
//! organisations (《农村集体经济组织会计制度》, 财会〔2023〕14号): 42 level-one accounts with
//! their side. What could be verified of it, and what not, is in
//! `docs/research/village-accounting-2023.md` (the codes follow one secondary source; check them
//! against the Ministry of Finance's text before a deployment). Villages add sub-accounts below
//! these (e.g. 10201 a bank account); postings go to an account without sub-accounts.

use super::Side;

/// What an account is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// 资产类
    Asset,
    /// 负债类
    Liability,
    /// 所有者权益类
    Equity,
    /// 成本类
    Cost,
    /// 损益类: income
    Income,
    /// 损益类: expenditure
    Expenditure,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Asset => "asset",
            Category::Liability => "liability",
            Category::Equity => "equity",
            Category::Cost => "cost",
            Category::Income => "income",
            Category::Expenditure => "expenditure",
        }
    }
}

/// A level-one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub code: &'static str,
    pub name: &'static str,
    pub category: Category,
    /// The side its balance is normally on (a contra account's is the other one).
    pub normal: Side,
}

const fn a(code: &'static str, name: &'static str, category: Category, normal: Side) -> Account {
    Account {
        code,
        name,
        category,
        normal,
    }
}

use Category::*;
use Side::{Credit as C, Debit as D};

/// The 42 level-one accounts, in the chart's order.
pub const CHART: [Account; 42] = [
    a("101", "库存现金", Asset, D),
    a("102", "银行存款", Asset, D),
    a("111", "短期投资", Asset, D),
    a("112", "应收款", Asset, D),
    a("113", "内部往来", Asset, D),
    a("121", "库存物资", Asset, D),
    a("131", "消耗性生物资产", Asset, D),
    a("132", "生产性生物资产", Asset, D),
    a("133", "生产性生物资产累计折旧", Asset, C),
    a("134", "公益性生物资产", Asset, D),
    a("141", "长期投资", Asset, D),
    a("151", "固定资产", Asset, D),
    a("152", "累计折旧", Asset, C),
    a("153", "在建工程", Asset, D),
    a("154", "固定资产清理", Asset, D),
    a("161", "无形资产", Asset, D),
    a("162", "累计摊销", Asset, C),
    a("171", "长期待摊费用", Asset, D),
    a("181", "待处理财产损溢", Asset, D),
    a("201", "短期借款", Liability, C),
    a("211", "应付款", Liability, C),
    a("212", "应付工资", Liability, C),
    a("213", "应付劳务费", Liability, C),
    a("214", "应交税费", Liability, C),
    a("221", "长期借款及应付款", Liability, C),
    a("231", "一事一议资金", Liability, C),
    a("241", "专项应付款", Liability, C),
    a("301", "资本", Equity, C),
    a("311", "公积公益金", Equity, C),
    a("321", "本年收益", Equity, C),
    a("322", "收益分配", Equity, C),
    a("401", "生产（劳务）成本", Cost, D),
    a("501", "经营收入", Income, C),
    a("502", "投资收益", Income, C),
    a("503", "补助收入", Income, C),
    a("504", "其他收入", Income, C),
    a("511", "经营支出", Expenditure, D),
    a("512", "税金及附加", Expenditure, D),
    a("513", "管理费用", Expenditure, D),
    a("514", "公益支出", Expenditure, D),
    a("515", "其他支出", Expenditure, D),
    a("521", "所得税费用", Expenditure, D),
];

/// The level-one account of a code or of a sub-account's code (its first three digits).
pub fn top(code: &str) -> Option<&'static Account> {
    let head = code.get(..3)?;
    CHART.iter().find(|a| a.code == head)
}

/// Is `code` a level-one code or a sub-account code below one: three digits, then pairs of
/// digits (at most three levels below).
pub fn is_code(code: &str) -> bool {
    code.len() >= 3
        && code.len() <= 9
        && (code.len() - 3) % 2 == 0
        && code.bytes().all(|b| b.is_ascii_digit())
        && top(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_42_distinct_accounts_in_order() {
        let codes: Vec<&str> = CHART.iter().map(|a| a.code).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, codes);
        // Contra accounts sit on the other side.
        for code in ["133", "152", "162"] {
            assert_eq!(top(code).unwrap().normal, Side::Credit);
        }
        assert_eq!(top("10201").unwrap().name, "银行存款");
        for (code, ok) in [
            ("101", true),
            ("10201", true),
            ("1020101", true),
            ("1020", false),
            ("999", false),
            ("10a", false),
            ("10201010101", false),
        ] {
            assert_eq!(is_code(code), ok, "{code}");
        }
    }
}
