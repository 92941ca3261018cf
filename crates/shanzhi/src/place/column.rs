//! The columns of a place sheet: the header words each is known by (Chinese and English).

use crate::import::{header_key, SheetColumn};

/// A column the place import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    Kind,
    Node,
    Address,
    Lon,
    Lat,
    LicenceNo,
    LicenceExpires,
    LastCheck,
    LastResult,
}

impl SheetColumn for Column {
    const ALL: &'static [Column] = &[
        Column::Name,
        Column::Kind,
        Column::Node,
        Column::Address,
        Column::Lon,
        Column::Lat,
        Column::LicenceNo,
        Column::LicenceExpires,
        Column::LastCheck,
        Column::LastResult,
    ];

    fn header(self) -> &'static str {
        match self {
            Column::Name => "场所名称",
            Column::Kind => "场所类型",
            Column::Node => "所属网格代码",
            Column::Address => "地址",
            Column::Lon => "经度",
            Column::Lat => "纬度",
            Column::LicenceNo => "营业执照号",
            Column::LicenceExpires => "执照有效期至",
            Column::LastCheck => "上次安全检查日期",
            Column::LastResult => "检查结果",
        }
    }

    fn note(self) -> &'static str {
        match self {
            Column::Name => "必填，同一网格内不重名 (required; one name per grid)",
            Column::Kind => "必填：商铺/学校/医院/企业场所，或九小场所之一 (required: a kind of place)",
            Column::Node => "网格代码；导入时指定了网格可不填 (grid code; may be left empty when the import names one)",
            Column::Address => "选填 optional",
            Column::Lon => "WGS-84 经度，与纬度同填 (longitude, with the latitude)",
            Column::Lat => "WGS-84 纬度 (latitude)",
            Column::LicenceNo => "选填 optional",
            Column::LicenceExpires => "日期 YYYY-MM-DD，须同时填写执照号 (date, with the licence number)",
            Column::LastCheck => "日期 YYYY-MM-DD；不填则自登记起按类型安排首次检查 (date of the last safety check)",
            Column::LastResult => "合格/发现隐患/不合格，与检查日期同填 (the last check's result)",
        }
    }

    fn of_header(h: &str) -> Option<Column> {
        Some(match header_key(h).as_str() {
            "场所名称" | "名称" | "name" => Column::Name,
            "场所类型" | "类型" | "类别" | "kind" => Column::Kind,
            "所属网格" | "所属网格代码" | "网格代码" | "grid" | "node" | "nodecode"
            | "gridcode" => Column::Node,
            "地址" | "address" => Column::Address,
            "经度" | "lon" | "longitude" => Column::Lon,
            "纬度" | "lat" | "latitude" => Column::Lat,
            "营业执照号" | "执照号" | "许可证号" | "licence" | "licenceno" | "license"
            | "licenseno" => Column::LicenceNo,
            "执照有效期至" | "有效期至" | "licenceexpires" | "licenseexpires" => {
                Column::LicenceExpires
            }
            "上次安全检查日期" | "上次检查日期" | "检查日期" | "lastcheck" => {
                Column::LastCheck
            }
            "检查结果" | "上次检查结果" | "lastresult" | "result" => Column::LastResult,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_in_chinese_and_english() {
        for &c in Column::ALL {
            assert_eq!(Column::of_header(c.header()), Some(c));
            assert_eq!(Column::of_header(&format!("*{}", c.header())), Some(c));
        }
        for (h, want) in [
            ("Name", Some(Column::Name)),
            ("licence_no", Some(Column::LicenceNo)),
            ("所属网格", Some(Column::Node)),
            ("备注", None),
        ] {
            assert_eq!(Column::of_header(h), want, "{h}");
        }
    }
}
