//! The photo check on any bytes: it answers (a type or a refusal) and never panics, and what it
//! accepts starts with the magic bytes of the type it names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shanzhi_domain::event::photo::sniff;

fuzz_target!(|data: &[u8]| {
    if let Ok(content_type) = sniff(data) {
        let magic: &[u8] = match content_type {
            "image/jpeg" => &[0xFF, 0xD8, 0xFF],
            "image/png" => b"\x89PNG\r\n\x1a\n",
            "image/webp" => b"RIFF",
            other => panic!("unexpected type {other}"),
        };
        assert!(data.starts_with(magic));
    }
});
