//! Answers a handler keeps gzipped itself (the map's): whether the client takes gzip. The
//! server's compression layer leaves an answer that says its own `Content-Encoding` alone.

use axum::http::{header, HeaderMap};

/// Whether the request's `Accept-Encoding` takes gzip (RFC 9110 §12.5.3): the `gzip` (or
/// `x-gzip`) item decides when there is one, else `*`; a weight of 0 refuses. No header: no.
pub fn accepted(headers: &HeaderMap) -> bool {
    let mut named: Option<bool> = None;
    let mut any: Option<bool> = None;
    let items = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for item in items {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let refused = parts.any(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            k.trim().eq_ignore_ascii_case("q") && v.trim().parse::<f64>().is_ok_and(|q| q <= 0.0)
        });
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            named = Some(named.unwrap_or(false) || !refused);
        } else if name == "*" {
            any = Some(any.unwrap_or(false) || !refused);
        }
    }
    named.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use axum::http::{header, HeaderMap, HeaderValue};

    use super::accepted;

    #[test]
    fn gzip_is_sent_when_the_client_takes_it() {
        let cases: [(&[&str], bool); 13] = [
            (&[], false),
            (&["gzip"], true),
            (&["GZIP"], true),
            (&["x-gzip"], true),
            (&["gzip, deflate, br"], true),
            (&["br;q=1.0, gzip;q=0.8"], true),
            (&["*"], true),
            (&["gzip;q=0"], false),
            (&["gzip;Q=0"], false),
            (&["gzip;q=0, *"], false),
            (&["br, *;q=0"], false),
            (&["br", "gzip ; q=0.5"], true),
            (&["identity"], false),
        ];
        for (values, want) in cases {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            }
            assert_eq!(accepted(&h), want, "{values:?}");
        }
    }
}
