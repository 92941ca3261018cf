//! The Open311 POST body reader on any content type and body: form-urlencoded, multipart (with
//! media parts) or JSON, read into fields or refused with a 400's message, never a panic.
//! The input is the Content-Type, a newline, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            &data[i + 1..],
        ),
        None => (String::new(), data),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let _ = rt.block_on(shanzhi::http::open311::create::read_body(
        &content_type,
        body.to_vec(),
    ));
});
