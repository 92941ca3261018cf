//! Store errors: sqlx errors are mapped here, in one place, to what callers can act on.

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or reference rule of the schema refused the write.
    #[error("conflict on {constraint}")]
    Conflict { constraint: String },
    /// Someone else changed the record first (optimistic version check failed).
    #[error("the record was changed by someone else")]
    Stale,
    /// Anything else: a bug or an outage, never the client's fault.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(ref db)
                if matches!(
                    db.kind(),
                    sqlx::error::ErrorKind::UniqueViolation
                        | sqlx::error::ErrorKind::ForeignKeyViolation
                ) =>
            {
                // PostgreSQL names the constraint; SQLite puts "table.column" in its message.
                let constraint = db.constraint().map(str::to_owned).unwrap_or_else(|| {
                    db.message()
                        .rsplit(": ")
                        .next()
                        .unwrap_or("constraint")
                        .to_owned()
                });
                StoreError::Conflict { constraint }
            }
            other => StoreError::Other(anyhow::Error::new(other)),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Other(anyhow::Error::new(e))
    }
}
