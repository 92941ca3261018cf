//! Bulk rows into SQLite through its own C API: one single-row `INSERT` prepared once and
//! stepped for each row, values bound without copies (`SQLITE_STATIC`), on the writer's
//! connection locked out of sqlx's worker thread ([`sqlx::SqliteConnection::lock_handle`], the
//! driver's documented way to call SQLite directly, inside the open transaction).
//!
//! Why: through sqlx every bound value is copied twice on its way in (an owned copy for the
//! worker thread, SQLite's own transient copy) and crosses a channel; for a load of a million
//! residents of 22 columns that costs the single writer more than SQLite's inserts do
//! (measured in `bench/run`, BENCHMARKS.md). Everything else in the store stays on sqlx.
//!
//! The unsafe code is confined here: the handle is valid while the lock guard lives (borrowed
//! for the loader's lifetime), the statement is finalized on drop, and each row's values are
//! borrowed for the one call that binds, steps and resets them.

use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;

use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;

use crate::StoreError;

/// One value of a row.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}

impl<'a> From<Option<&'a [u8]>> for Value<'a> {
    fn from(v: Option<&'a [u8]>) -> Self {
        v.map_or(Value::Null, Value::Blob)
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}

/// A prepared single-row `INSERT INTO table (columns) VALUES (?, …)` on a locked handle.
pub struct Loader<'h> {
    db: NonNull<ffi::sqlite3>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    columns: usize,
    /// The handle's lock guard outlives the loader.
    _handle: PhantomData<&'h mut ()>,
}

fn error(db: NonNull<ffi::sqlite3>, what: &str) -> StoreError {
    // SAFETY: `db` is the open connection of a live lock guard; the message is copied at once.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: as above.
    let code = unsafe { ffi::sqlite3_extended_errcode(db.as_ptr()) };
    if code & 0xff == ffi::SQLITE_CONSTRAINT {
        return StoreError::Conflict {
            constraint: message,
        };
    }
    StoreError::Other(anyhow::anyhow!("{what}: {message}"))
}

impl<'h> Loader<'h> {
    /// Prepares the insert of `columns` into `table` (both constants of the caller).
    pub fn new(
        handle: &'h mut LockedSqliteHandle<'_>,
        table: &str,
        columns: &[&str],
    ) -> Result<Loader<'h>, StoreError> {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            vec!["?"; columns.len()].join(", ")
        );
        Loader::prepare(handle, &sql, columns.len())
    }

    /// Prepares any one statement of `params` positional parameters (`?`) that returns no
    /// rows — an `UPDATE` stepped once per row, say; [`Loader::insert`] runs it.
    pub fn prepare(
        handle: &'h mut LockedSqliteHandle<'_>,
        sql: &str,
        params: usize,
    ) -> Result<Loader<'h>, StoreError> {
        let db = handle.as_raw_handle();
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `db` is valid while `handle` is borrowed; the SQL text outlives the call and
        // its length is given.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                db.as_ptr(),
                sql.as_ptr().cast(),
                sql.len() as c_int,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        let stmt = match (rc, NonNull::new(stmt)) {
            (ffi::SQLITE_OK, Some(stmt)) => stmt,
            _ => return Err(error(db, "preparing a bulk insert")),
        };
        Ok(Loader {
            db,
            stmt,
            columns: params,
            _handle: PhantomData,
        })
    }

    /// Inserts one row (its values in the order of the columns).
    pub fn insert(&mut self, row: &[Value<'_>]) -> Result<(), StoreError> {
        assert_eq!(row.len(), self.columns, "a row has a value per column");
        let stmt = self.stmt.as_ptr();
        let mut failed = false;
        for (i, v) in row.iter().enumerate() {
            let i = i as c_int + 1;
            // SAFETY: `stmt` is a live prepared statement; text and blobs are bound as static:
            // SQLite reads them in place until the reset below, and they are borrowed for this
            // whole call.
            let rc = unsafe {
                match *v {
                    Value::Null => ffi::sqlite3_bind_null(stmt, i),
                    Value::Int(n) => ffi::sqlite3_bind_int64(stmt, i, n),
                    Value::Real(x) => ffi::sqlite3_bind_double(stmt, i, x),
                    Value::Text(t) => ffi::sqlite3_bind_text64(
                        stmt,
                        i,
                        t.as_ptr().cast(),
                        t.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Value::Blob(b) => ffi::sqlite3_bind_blob64(
                        stmt,
                        i,
                        b.as_ptr().cast(),
                        b.len() as u64,
                        ffi::SQLITE_STATIC(),
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                failed = true;
                break;
            }
        }
        // SAFETY: as above; after the step the statement is reset and its bindings cleared, so
        // nothing keeps a pointer into `row` past this call.
        let rc = if failed {
            ffi::SQLITE_MISUSE
        } else {
            unsafe { ffi::sqlite3_step(stmt) }
        };
        let result = if rc == ffi::SQLITE_DONE {
            Ok(())
        } else {
            Err(error(self.db, "a bulk insert"))
        };
        // SAFETY: `stmt` is live; reset and clear return the step's error again, read above.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        result
    }
}

impl Drop for Loader<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on this handle and is finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// The SQLite connection behind a transaction of either engine (`None` on PostgreSQL): lets
/// code written once for both (inside [`crate::with_tx!`]) take the SQLite path.
pub trait MaybeSqlite {
    fn sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection>;
}

impl MaybeSqlite for sqlx::SqliteConnection {
    fn sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        Some(self)
    }
}

impl MaybeSqlite for sqlx::PgConnection {
    fn sqlite(&mut self) -> Option<&mut sqlx::SqliteConnection> {
        None
    }
}
