//! `shanzhi tree template`: a small tree that imports cleanly into an empty database, to copy
//! and fill in. docs/import.md explains every property.

/// The kinds of template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TemplateFormat {
    Geojson,
    Csv,
}

/// A province, a city, a county (district), a town (subdistrict), a village (community) with its
/// outline, and two grids tiling the village — in the layout `shanzhi tree export` writes.
pub const GEOJSON: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"440000000000","name":"广东省","level":"province","parent":null},"geometry":null},
{"type":"Feature","properties":{"code":"441500000000","name":"汕尾市","level":"city","parent":"440000000000"},"geometry":null},
{"type":"Feature","properties":{"code":"441502000000","name":"城区","level":"county","parent":"441500000000"},"geometry":null},
{"type":"Feature","properties":{"code":"441502001000","name":"新港街道","level":"town","parent":"441502000000"},"geometry":null},
{"type":"Feature","properties":{"code":"441502001001","name":"立新社区","level":"village","parent":"441502001000"},"geometry":{"type":"Polygon","coordinates":[[[115.3,22.78],[115.32,22.78],[115.32,22.79],[115.3,22.79],[115.3,22.78]]]}},
{"type":"Feature","properties":{"code":"441502001001001","name":"立新社区第一网格","level":"small","parent":"441502001001"},"geometry":{"type":"Polygon","coordinates":[[[115.3,22.78],[115.31,22.78],[115.31,22.79],[115.3,22.79],[115.3,22.78]]]}},
{"type":"Feature","properties":{"code":"441502001001002","name":"立新社区第二网格","level":"small","parent":"441502001001"},"geometry":{"type":"Polygon","coordinates":[[[115.31,22.78],[115.32,22.78],[115.32,22.79],[115.31,22.79],[115.31,22.78]]]}}
]}
"#;

/// The same tree as a spreadsheet (no outlines: they come later from GeoJSON with
/// `shanzhi tree import --update`). Chinese headers (代码, 名称, 层级, 上级) work as well.
pub const CSV: &str = "code,name,level,parent
440000000000,广东省,province,
441500000000,汕尾市,city,440000000000
441502000000,城区,county,441500000000
441502001000,新港街道,town,441502000000
441502001001,立新社区,village,441502001000
441502001001001,立新社区第一网格,small,441502001001
441502001001002,立新社区第二网格,small,441502001001
";

/// The template in `format`.
pub fn text(format: TemplateFormat) -> &'static str {
    match format {
        TemplateFormat::Geojson => GEOJSON,
        TemplateFormat::Csv => CSV,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_import_doc_shows_the_templates_as_they_are() {
        let doc = include_str!("../../../../docs/import.md");
        assert!(
            doc.contains(GEOJSON),
            "docs/import.md: the GeoJSON template"
        );
        assert!(doc.contains(CSV), "docs/import.md: the CSV template");
    }
}
