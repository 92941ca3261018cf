//! The columns of a resident sheet: the header words each is known by (Chinese and English),
//! and the words of its cells (性别, 人口类型, 与户主关系) as the register stores them.

/// A column the resident import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    Gender,
    IdNumber,
    Phone,
    Ethnicity,
    Residence,
    Workplace,
    Node,
    Household,
    Relation,
    Building,
    Room,
    Tags,
}

/// The headers the template and the export write, in [`Column::ALL`]'s order.
pub const HEADERS: [&str; 13] = [
    "姓名",
    "性别",
    "公民身份号码",
    "联系电话",
    "民族",
    "人口类型",
    "工作单位",
    "所属网格代码",
    "户号",
    "与户主关系",
    "楼栋",
    "房号",
    "标签",
];

impl Column {
    /// Every column, in the template's order.
    pub const ALL: [Column; 13] = [
        Column::Name,
        Column::Gender,
        Column::IdNumber,
        Column::Phone,
        Column::Ethnicity,
        Column::Residence,
        Column::Workplace,
        Column::Node,
        Column::Household,
        Column::Relation,
        Column::Building,
        Column::Room,
        Column::Tags,
    ];

    /// The header the template writes.
    pub fn header(self) -> &'static str {
        HEADERS[self as usize]
    }

    /// What the template's note says of the column.
    pub fn note(self) -> &'static str {
        match self {
            Column::Name => "必填 required",
            Column::Gender => "男/女；有身份号码时以号码为准 (from the ID number when given)",
            Column::IdNumber => "18位，末位校验码；请设为文本 (18 characters, as text)",
            Column::Phone => "手机或带区号的固定电话 (mobile, or landline with area code)",
            Column::Ethnicity => "如 汉族",
            Column::Residence => "户籍/流动/境外 (registered/floating/overseas)，默认户籍",
            Column::Workplace => "选填 optional",
            Column::Node => "网格代码；导入时指定了网格可不填 (grid code; may be left empty when the import names one)",
            Column::Household => "同一户号为一户 (same number, same household)",
            Column::Relation => "户主/配偶/子女/父母/孙子女/兄弟姐妹/其他",
            Column::Building => "楼栋名称，如 3栋 (building name)",
            Column::Room => "房号，如 2单元301 (room)",
            Column::Tags => "标签代码或名称，用、分隔 (tag codes or names, separated by 、,;)",
        }
    }

    /// The column a header names, if the import reads it.
    pub fn of_header(h: &str) -> Option<Column> {
        Some(match crate::import::header_key(h).as_str() {
            "姓名" | "name" => Column::Name,
            "性别" | "gender" | "sex" => Column::Gender,
            "公民身份号码" | "身份证号" | "身份证号码" | "身份号码" | "idnumber" | "id" => {
                Column::IdNumber
            }
            "联系电话" | "手机" | "手机号" | "电话" | "phone" => Column::Phone,
            "民族" | "ethnicity" => Column::Ethnicity,
            "人口类型" | "residence" => Column::Residence,
            "工作单位" | "workplace" => Column::Workplace,
            "所属网格"
            | "所属网格代码"
            | "所属网格(代码)"
            | "所属网格（代码）"
            | "网格代码"
            | "grid"
            | "node"
            | "gridcode" => Column::Node,
            "户号" | "household" => Column::Household,
            "与户主关系" | "relation" => Column::Relation,
            "楼栋" | "building" => Column::Building,
            "房号" | "room" => Column::Room,
            "标签" | "tags" | "tag" => Column::Tags,
            _ => return None,
        })
    }
}

/// 男/女 (or male/female, M/F) as the register stores it.
pub fn gender_word(s: &str) -> Option<&'static str> {
    Some(match s.trim().to_lowercase().as_str() {
        "男" | "male" | "m" => "male",
        "女" | "female" | "f" => "female",
        _ => return None,
    })
}

/// 户籍/流动/境外 (or the stored words).
pub fn residence_word(s: &str) -> Option<&'static str> {
    Some(match s.trim().to_lowercase().as_str() {
        "户籍" | "户籍人口" | "registered" => "registered",
        "流动" | "流动人口" | "floating" => "floating",
        "境外" | "境外人员" | "overseas" => "overseas",
        _ => return None,
    })
}

/// The words of 与户主关系 the template offers, in its order.
pub const RELATIONS_ZH: [&str; 7] = ["户主", "配偶", "子女", "父母", "孙子女", "兄弟姐妹", "其他"];

/// A relation to the head as the register stores it.
pub fn relation_word(s: &str) -> Option<&'static str> {
    Some(match s.trim().to_lowercase().as_str() {
        "户主" | "本人" | "head" => "head",
        "配偶" | "妻" | "妻子" | "夫" | "丈夫" | "spouse" => "spouse",
        "子女" | "子" | "女" | "儿子" | "女儿" | "长子" | "长女" | "次子" | "次女" | "child" => {
            "child"
        }
        "父母" | "父亲" | "母亲" | "父" | "母" | "parent" => "parent",
        "孙子女" | "孙子" | "孙女" | "外孙子" | "外孙女" | "grandchild" => {
            "grandchild"
        }
        "兄弟姐妹" | "兄" | "弟" | "姐" | "妹" | "哥哥" | "弟弟" | "姐姐" | "妹妹" | "sibling" => {
            "sibling"
        }
        "其他" | "other" => "other",
        _ => return None,
    })
}

/// A stored word as the spreadsheet shows it (性别, 人口类型, 与户主关系).
pub fn word_zh(stored: &str) -> &str {
    match stored {
        "male" => "男",
        "female" => "女",
        "registered" => "户籍",
        "floating" => "流动",
        "overseas" => "境外",
        "head" => "户主",
        "spouse" => "配偶",
        "child" => "子女",
        "parent" => "父母",
        "grandchild" => "孙子女",
        "sibling" => "兄弟姐妹",
        "other" => "其他",
        other => other,
    }
}

/// A cell of tags split into its words (、,;，； and spaces between).
pub fn tag_words(s: &str) -> impl Iterator<Item = &str> {
    s.split(['、', ',', ';', '，', '；', ' '])
        .map(str::trim)
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_cell_words_are_read_in_chinese_and_english() {
        let cases = [
            ("姓名", Some(Column::Name)),
            ("Name", Some(Column::Name)),
            ("身份证号", Some(Column::IdNumber)),
            ("id_number", Some(Column::IdNumber)),
            ("*公民身份号码", Some(Column::IdNumber)),
            ("手机", Some(Column::Phone)),
            ("所属网格(代码)", Some(Column::Node)),
            ("所属网格", Some(Column::Node)),
            ("备注", None),
        ];
        for (h, want) in cases {
            assert_eq!(Column::of_header(h), want, "{h}");
        }
        for (i, c) in Column::ALL.into_iter().enumerate() {
            assert_eq!(c as usize, i);
            assert_eq!(Column::of_header(c.header()), Some(c));
        }
        assert_eq!(gender_word("女"), Some("female"));
        assert_eq!(gender_word("?"), None);
        assert_eq!(residence_word("流动"), Some("floating"));
        assert_eq!(relation_word("女儿"), Some("child"));
        for r in RELATIONS_ZH {
            let stored = relation_word(r).unwrap();
            assert_eq!(word_zh(stored), r);
        }
        for w in ["男", "女"] {
            assert_eq!(word_zh(gender_word(w).unwrap()), w);
        }
        for w in ["户籍", "流动", "境外"] {
            assert_eq!(word_zh(residence_word(w).unwrap()), w);
        }
        assert_eq!(
            tag_words("独居老人、低保;disabled, ").collect::<Vec<_>>(),
            ["独居老人", "低保", "disabled"]
        );
    }
}
