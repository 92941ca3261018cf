//! The columns of a building sheet (a row a house, or a building without houses): the header
//! words each is known by (Chinese and English), and the words of a house's use.

use shanzhi_domain::house::HouseUse;

use crate::import::{header_key, SheetColumn};

/// A column the building import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    Node,
    Address,
    Lon,
    Lat,
    Floors,
    Room,
    Use,
    Area,
    Owner,
}

impl SheetColumn for Column {
    const ALL: &'static [Column] = &[
        Column::Name,
        Column::Node,
        Column::Address,
        Column::Lon,
        Column::Lat,
        Column::Floors,
        Column::Room,
        Column::Use,
        Column::Area,
        Column::Owner,
    ];

    fn header(self) -> &'static str {
        match self {
            Column::Name => "楼栋名称",
            Column::Node => "所属网格代码",
            Column::Address => "地址",
            Column::Lon => "经度",
            Column::Lat => "纬度",
            Column::Floors => "层数",
            Column::Room => "房号",
            Column::Use => "房屋用途",
            Column::Area => "面积",
            Column::Owner => "业主姓名",
        }
    }

    fn note(self) -> &'static str {
        match self {
            Column::Name => "必填；同一网格内同名的行属于同一楼栋，已登记的楼栋沿用 (required; rows of the same name in a grid are one building, a registered one is reused)",
            Column::Node => "网格代码；导入时指定了网格可不填 (grid code; may be left empty when the import names one)",
            Column::Address => "楼栋地址，选填 (the building's address, optional)",
            Column::Lon => "WGS-84 经度，与纬度同填 (longitude, with the latitude)",
            Column::Lat => "WGS-84 纬度 (latitude)",
            Column::Floors => "选填，1 至 200 的整数 (floors, optional: a whole number from 1 to 200)",
            Column::Room => "选填；不填则该行只登记楼栋，同一楼栋内房号不重复 (room, optional: empty for a building only; one room once per building)",
            Column::Use => "填写房号时必填：自住/出租/空置/商用 (the house's use, required with a room)",
            Column::Area => "选填，平方米，大于 0 (area in m², optional, above 0)",
            Column::Owner => "选填 (owner's name, optional)",
        }
    }

    fn of_header(h: &str) -> Option<Column> {
        Some(match header_key(h).as_str() {
            "楼栋名称" | "楼栋" | "楼栋名" | "楼名" | "name" | "building" | "buildingname" => {
                Column::Name
            }
            "所属网格" | "所属网格代码" | "网格代码" | "grid" | "node" | "nodecode"
            | "gridcode" => Column::Node,
            "地址" | "楼栋地址" | "address" => Column::Address,
            "经度" | "lon" | "longitude" => Column::Lon,
            "纬度" | "lat" | "latitude" => Column::Lat,
            "层数" | "楼层数" | "总层数" | "floors" => Column::Floors,
            "房号" | "房间号" | "门牌号" | "room" => Column::Room,
            "房屋用途" | "用途" | "use" | "houseuse" => Column::Use,
            "面积" | "建筑面积" | "area" => Column::Area,
            "业主姓名" | "业主" | "房主" | "owner" | "ownername" => Column::Owner,
            _ => return None,
        })
    }
}

/// The word a spreadsheet and the template's list use for a house's use (the domain's terms).
pub fn use_word(u: HouseUse) -> &'static str {
    match u {
        HouseUse::SelfOccupied => "自住",
        HouseUse::Rented => "出租",
        HouseUse::Vacant => "空置",
        HouseUse::Commercial => "商用",
    }
}

/// The use a cell names: its Chinese word, or the API word.
pub fn use_of_word(s: &str) -> Option<HouseUse> {
    let w = s.trim();
    HouseUse::ALL
        .into_iter()
        .find(|u| use_word(*u) == w || u.as_str() == w.to_lowercase())
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
            ("Building", Some(Column::Name)),
            ("owner_name", Some(Column::Owner)),
            ("Floors", Some(Column::Floors)),
            ("所属网格", Some(Column::Node)),
            ("备注", None),
        ] {
            assert_eq!(Column::of_header(h), want, "{h}");
        }
    }

    #[test]
    fn uses_are_read_in_chinese_and_as_api_words() {
        for u in HouseUse::ALL {
            assert_eq!(use_of_word(use_word(u)), Some(u));
            assert_eq!(use_of_word(u.as_str()), Some(u));
        }
        assert_eq!(use_of_word(" 出租 "), Some(HouseUse::Rented));
        assert_eq!(use_of_word("酒店"), None);
    }
}
