//! Answers and errors of the GeoReport endpoints, in the format the path asked for.
//!
//! Errors follow the spec: a list of `{code, description}` with HTTP 404 for a resource that
//! does not exist, 403 for a missing or wrong api_key and 400 for anything else the request got
//! wrong. Two statuses go beyond that list: 429 (with Retry-After) when a client exceeds its
//! rate, because every HTTP client knows to back off on it, and 500 for our own failures, which
//! are logged with their cause while the client reads a plain sentence.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::xml::Node;
use crate::http::error::ApiError;

/// The output format, from the resource's extension (`services.xml`, `requests.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// Splits `name.ext` into the name and its format. No extension means XML, the format the
    /// spec requires every server to speak.
    pub fn split(file: &str) -> Result<(&str, Format), Open311Error> {
        match file.rsplit_once('.') {
            None => Ok((file, Format::Xml)),
            Some((name, ext)) => match ext.to_ascii_lowercase().as_str() {
                "xml" => Ok((name, Format::Xml)),
                "json" => Ok((name, Format::Json)),
                _ => Err(Open311Error::bad_request(
                    Format::Xml,
                    format!("unknown format '.{ext}': use .xml or .json"),
                )),
            },
        }
    }
}

/// A successful answer: the root element's name and the tree under it.
#[derive(Debug)]
pub struct Reply {
    pub format: Format,
    pub status: StatusCode,
    pub root: &'static str,
    pub body: Node,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A 200 answer.
    pub fn ok(format: Format, root: &'static str, body: Node) -> Reply {
        Reply {
            format,
            status: StatusCode::OK,
            root,
            body,
            headers: Vec::new(),
        }
    }

    /// With one more header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

fn render(format: Format, status: StatusCode, root: &str, body: &Node) -> Response {
    let (content_type, text) = match format {
        Format::Xml => ("text/xml; charset=utf-8", body.to_xml(root)),
        Format::Json => (
            "application/json; charset=utf-8",
            body.to_json().to_string(),
        ),
    };
    (status, [(header::CONTENT_TYPE, content_type)], text).into_response()
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut resp = render(self.format, self.status, self.root, &self.body);
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        resp
    }
}

/// An error in the spec's shape.
#[derive(Debug)]
pub struct Open311Error {
    pub format: Format,
    pub status: StatusCode,
    pub description: String,
    /// Seconds to wait, for 429.
    pub retry_after: Option<u64>,
    /// The cause of a 500, logged and never sent.
    pub cause: Option<anyhow::Error>,
}

impl Open311Error {
    fn new(format: Format, status: StatusCode, description: impl Into<String>) -> Open311Error {
        Open311Error {
            format,
            status,
            description: description.into(),
            retry_after: None,
            cause: None,
        }
    }

    /// 400: the request cannot be fulfilled as sent.
    pub fn bad_request(format: Format, description: impl Into<String>) -> Open311Error {
        Open311Error::new(format, StatusCode::BAD_REQUEST, description)
    }

    /// 404: the resource does not exist.
    pub fn not_found(format: Format, description: impl Into<String>) -> Open311Error {
        Open311Error::new(format, StatusCode::NOT_FOUND, description)
    }

    /// 403: a missing or wrong api_key.
    pub fn forbidden(format: Format, description: impl Into<String>) -> Open311Error {
        Open311Error::new(format, StatusCode::FORBIDDEN, description)
    }

    /// 429: over the client's rate.
    pub fn too_many(format: Format, retry_after: u64) -> Open311Error {
        Open311Error {
            retry_after: Some(retry_after),
            ..Open311Error::new(
                format,
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many requests for this api_key; retry in {retry_after} s"),
            )
        }
    }

    /// 500, with the cause kept for the log.
    pub fn internal(format: Format, cause: anyhow::Error) -> Open311Error {
        Open311Error {
            cause: Some(cause),
            ..Open311Error::new(
                format,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; it has been logged",
            )
        }
    }

    /// Maps an error of the application's services: 404 stays 404, a refusal of rights is 403,
    /// a failure of ours is 500, and every other complaint about the input is 400. Our field
    /// names become the spec's.
    pub fn from_api(format: Format, e: ApiError) -> Open311Error {
        let status = e.status;
        if status.is_server_error() {
            return Open311Error::internal(
                format,
                e.cause.unwrap_or_else(|| anyhow::anyhow!("{}", e.message)),
            );
        }
        let field = e.field.as_deref().map(|f| match f {
            "lon" | "lat" => "lat/long",
            "category_id" => "service_code",
            "address" => "address_string",
            "photos" | "photo" => "media",
            other => other,
        });
        let description = match field {
            Some(f) => format!("{f}: {}", e.message),
            None => e.message,
        };
        let status = match status {
            StatusCode::NOT_FOUND => StatusCode::NOT_FOUND,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        Open311Error::new(format, status, description)
    }

    /// Maps a storage error (only ever our failure, or a record gone).
    pub fn from_store(format: Format, e: shanzhi_store::StoreError) -> Open311Error {
        Open311Error::from_api(format, ApiError::from(e))
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(error = format!("{cause:#}"), "open311 request failed");
        }
        let body = Node::List(
            "error",
            vec![Node::Obj(vec![
                ("code", Node::Int(i64::from(self.status.as_u16()))),
                ("description", Node::Text(self.description)),
            ])],
        );
        let mut resp = render(self.format, self.status, "errors", &body);
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// Result of an Open311 handler.
pub type Open311Result<T> = Result<T, Open311Error>;
