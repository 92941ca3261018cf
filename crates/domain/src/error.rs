//! The three ways the domain says no.

/// Why a domain rule refused an input or an action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input itself is malformed or out of range; `field` names where.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The input is well formed but the rules do not allow it now (a conflict with state).
    #[error("{why}")]
    Refused { why: String },
    /// The actor may not do this.
    #[error("forbidden")]
    Forbidden,
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`DomainError::Refused`].
    pub fn refused(why: impl Into<String>) -> Self {
        DomainError::Refused { why: why.into() }
    }
}
