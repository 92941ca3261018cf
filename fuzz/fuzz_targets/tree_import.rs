//! The tree import's checks on any JSON: a GeoJSON FeatureCollection of regions and grids is
//! either accepted node by node or refused with errors, never a panic — in create mode and in
//! update mode, with the shapes converted from GCJ-02 on every other input.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use shanzhi_domain::grid::{Crs, Shape};
use shanzhi_domain::tree::{validate_import, Existing, ImportOptions, Level};

fuzz_target!(|data: &[u8]| {
    let Ok(collection) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    // A county with a shape that already exists, as an import into a running server would find
    // it (children are checked against it, siblings and updates too).
    let county = Shape::from_ring(vec![
        (115.0, 22.0),
        (116.0, 22.0),
        (116.0, 23.0),
        (115.0, 23.0),
        (115.0, 22.0),
    ])
    .ok();
    let existing = HashMap::from([(
        "441502000000".to_owned(),
        Existing {
            level: Level::County,
            name: "城区".to_owned(),
            shape: county,
            parent: Some("441500000000".to_owned()),
        },
    )]);
    let update = data.len() % 2 == 0;
    let opts = ImportOptions {
        update,
        crs: (data.len() % 3 == 0).then_some(Crs::Gcj02),
        ..ImportOptions::default()
    };
    match validate_import(&collection, &existing, &opts) {
        Ok(plan) => assert!(
            !plan.inserts.is_empty() || !plan.updates.is_empty() || !plan.unchanged.is_empty()
        ),
        Err(r) => assert!(!r.errors.is_empty() && r.errors.len() <= 200),
    }
});
