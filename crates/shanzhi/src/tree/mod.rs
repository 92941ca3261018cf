//! The tree in and out of files: the export (shared by `shanzhi tree export` and
//! `GET /api/v1/tree/export`), the template (`shanzhi tree template`) and spreadsheets turned
//! into the same FeatureCollection the GeoJSON import takes. The format is written down in
//! docs/import.md.

pub mod export;
pub mod sheet;
pub mod template;
