//! The spreadsheet readers of the tree import on any bytes: an .xlsx workbook (a zip of XML) or
//! CSV text (UTF-8 or GBK) becomes a FeatureCollection or a refusal, never a panic. The first
//! byte picks the reader (even: .xlsx, odd: CSV).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shanzhi::tree::sheet::{collection, Format};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let format = if pick % 2 == 0 { Format::Xlsx } else { Format::Csv };
    if let Ok((fc, Some(sheet))) = collection(format, body) {
        let features = fc["features"].as_array().map_or(0, Vec::len);
        assert_eq!(features, sheet.rows.len(), "one row number per feature");
    }
});
