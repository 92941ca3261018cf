//! One error type for the API, one JSON shape: `{code, message, field, reason, params}`
//! (`reason` and `params`: see [`super::reason`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use shanzhi_domain::DomainError;
use shanzhi_store::StoreError;

/// An error as the client sees it.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Extra JSON merged into the body (e.g. the row-by-row errors of an import).
    pub details: Option<serde_json::Value>,
    /// The cause of a 5xx, logged with the request id and never sent.
    pub cause: Option<anyhow::Error>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            details: None,
            cause: None,
        }
    }

    /// 400: the request could not be read (malformed JSON, wrong types).
    pub fn bad_request(field: Option<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            field,
            ..ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
        }
    }

    /// 422: the request was read but a value is not acceptable.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
        }
    }

    /// 404.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// The same error naming the body field it is about (a reference to a record that is not
    /// there: `ApiError::not_found("house").with_field("house_id")`).
    pub fn with_field(mut self, field: &str) -> ApiError {
        self.field = Some(field.to_owned());
        self
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 409.
    pub fn conflict(field: Option<&str>, message: impl Into<String>) -> ApiError {
        ApiError {
            field: field.map(str::to_owned),
            ..ApiError::new(StatusCode::CONFLICT, "conflict", message)
        }
    }

    /// 429: too many attempts; the caller should wait.
    pub fn throttled(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "throttled", message)
    }

    /// 500, with the cause kept for the log.
    pub fn internal(cause: anyhow::Error) -> ApiError {
        ApiError {
            cause: Some(cause),
            ..ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; it has been logged",
            )
        }
    }

    /// Adds details to the body.
    pub fn with_details(mut self, details: serde_json::Value) -> ApiError {
        self.details = Some(details);
        self
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { field, reason } => ApiError::invalid(field, reason),
            DomainError::Refused { why } => ApiError::conflict(None, why),
            DomainError::Forbidden => ApiError::forbidden("you may not do this"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("record"),
            StoreError::Conflict { constraint } => ApiError::conflict(
                None,
                format!("conflicts with an existing record ({constraint})"),
            ),
            StoreError::Stale => ApiError::conflict(
                Some("version"),
                "the record was changed by someone else; reload and try again",
            ),
            StoreError::Other(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let (reason, params) = super::reason::reason_of(self.code, &self.message);
        let mut body = json!({"code": self.code, "message": self.message, "field": self.field,
            "reason": reason, "params": params});
        if let Some(serde_json::Value::Object(extra)) = self.details {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
