//! Decoding the fields of a POST body, apart from everything HTTP: pure functions from bytes to
//! `(name, value)` pairs, so that they can be tested and fuzzed on their own.
//!
//! Text must be valid UTF-8 after percent-decoding: the `form_urlencoded` crate (like browsers)
//! replaces broken sequences with U+FFFD, which would store a changed text without a word to
//! the client. Here a broken sequence is an error the client hears about (a 400).

use serde_json::Value;

/// Why a body could not be decoded (the sentence the client reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError(pub String);

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The bytes of one percent-encoded component: `+` is a space, `%XX` a byte, and a `%` not
/// followed by two hex digits stands for itself (as the URL standard decodes it).
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                input.get(i + 1).copied().and_then(hex),
                input.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// A decoded component as text, or the client's error naming the field.
fn utf8(bytes: Vec<u8>, name: &str) -> Result<String, FormError> {
    String::from_utf8(bytes).map_err(|_| {
        FormError(format!(
            "{}: not valid UTF-8 text; send UTF-8",
            if name.is_empty() {
                "a field name"
            } else {
                name
            }
        ))
    })
}

/// Checks that a text field (a multipart part, say) is UTF-8.
pub fn text(bytes: &[u8], name: &str) -> Result<String, FormError> {
    utf8(bytes.to_vec(), name)
}

/// The pairs of an `application/x-www-form-urlencoded` body or query string, in order.
pub fn urlencoded(input: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let mut out = Vec::new();
    for pair in input.split(|b| *b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|b| *b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &[][..]),
        };
        let name = utf8(percent_decode(k), "")?;
        let value = utf8(percent_decode(v), &name)?;
        out.push((name, value));
    }
    Ok(out)
}

/// The pairs of a JSON object body: scalars as text, `attribute` as an object of codes whose
/// values may be lists (`{"attribute": {"affected": ["traffic"]}}` gives
/// `attribute[affected]=traffic`), `null` as absent. (serde_json refuses text that is not UTF-8.)
pub fn json_object(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| FormError(format!("malformed JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(FormError("the JSON body must be an object".into()));
    };
    let scalar = |k: &str, v: &Value| -> Result<Option<String>, FormError> {
        match v {
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            Value::Null => Ok(None),
            _ => Err(FormError(format!("{k}: must be a string or a number"))),
        }
    };
    let mut out = Vec::new();
    for (k, v) in &obj {
        match (k.as_str(), v) {
            ("attribute", Value::Object(attrs)) => {
                for (code, val) in attrs {
                    let key = format!("attribute[{code}]");
                    let values = match val {
                        Value::Array(items) => items.iter().collect::<Vec<_>>(),
                        one => vec![one],
                    };
                    for item in values {
                        if let Some(s) = scalar(&key, item)? {
                            out.push((key.clone(), s));
                        }
                    }
                }
            }
            _ => {
                if let Some(s) = scalar(k, v)? {
                    out.push((k.clone(), s));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_decode_as_the_url_standard_says() {
        let pairs = urlencoded(b"a=1+2&b=%E5%9E%83%E5%9C%BE&&c&d=100%&e=%0D%0A").unwrap();
        let want: Vec<(String, String)> = [
            ("a", "1 2"),
            ("b", "垃圾"),
            ("c", ""),
            ("d", "100%"),
            ("e", "\r\n"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(pairs, want);
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_not_replaced() {
        let e = urlencoded(b"description=caf%E9").unwrap_err();
        assert!(e.0.starts_with("description: not valid UTF-8"), "{e}");
        assert!(urlencoded(b"descr%FFiption=x").is_err());
        assert!(urlencoded(b"description=\xff").is_err());
        assert!(text(b"\xc3\x28", "email").is_err());
        assert!(json_object(b"{\"description\": \"\xff\"}").is_err());
    }

    #[test]
    fn json_objects_flatten_attributes_and_drop_nulls() {
        let pairs = json_object(
            br#"{"lat": 22.5, "email": null, "attribute": {"affected": ["a", "b"], "severity": "minor"}}"#,
        )
        .unwrap();
        assert_eq!(pairs.len(), 4, "{pairs:?}");
        assert!(pairs.contains(&("attribute[affected]".into(), "b".into())));
        assert!(pairs.contains(&("lat".into(), "22.5".into())));
        assert!(json_object(b"[1]").is_err());
        assert!(json_object(br#"{"lat": [1]}"#).is_err());
    }
}
