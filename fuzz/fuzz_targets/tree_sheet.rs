//! The spreadsheet readers of the tree import on any bytes: an .xlsx workbook (a zip of XML) or
//! CSV text (UTF-8 or GBK) becomes a FeatureCollection or a refusal, never a panic. The first
//! byte picks the reader (even: .xlsx, odd: CSV).
//!
//! calamine does its cell-reference arithmetic unchecked, and this build has overflow checks on:
//! a reference like A99999999999 panics inside calamine, which `workbook::read_rows` catches and
//! refuses. libFuzzer's hook aborts on every panic, caught or not, so panics raised inside
//! calamine are let through to that catch; any other panic still aborts.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use shanzhi::tree::sheet::{collection, Format};

static HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.location().is_some_and(|l| l.file().contains("/calamine-")) {
                abort(info);
            }
        }));
    });
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let format = if pick % 2 == 0 { Format::Xlsx } else { Format::Csv };
    if let Ok((fc, Some(sheet))) = collection(format, body) {
        let features = fc["features"].as_array().map_or(0, Vec::len);
        assert_eq!(features, sheet.rows.len(), "one row number per feature");
    }
});
