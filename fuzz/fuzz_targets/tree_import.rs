//! The tree import's checks on any JSON: a GeoJSON FeatureCollection of regions and grids is
//! either accepted node by node or refused with errors, never a panic.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use shanzhi_domain::tree::{validate_import, Existing, Level};

fuzz_target!(|data: &[u8]| {
    let Ok(collection) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    // A county that already exists, as an import into a running server would find it.
    let existing = HashMap::from([(
        "441502000000".to_owned(),
        Existing {
            level: Level::County,
            shape: None,
            parent: None,
        },
    )]);
    if let Ok(nodes) = validate_import(&collection, &existing, 0.01) {
        assert!(!nodes.is_empty());
    }
});
