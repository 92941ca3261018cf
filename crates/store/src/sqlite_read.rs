//! Short SQLite reads on the caller's own thread, through SQLite's C API.
//!
//! Why: sqlx runs each SQLite connection on a worker thread of its own. A statement is a
//! command sent to that thread, each row a message back, and every connection returned to the
//! pool is pinged (one more round trip). On a busy server that is a dozen thread hand-overs
//! for a request of three short statements: `perf` on a grid's resident list at 64 clients
//! showed a fifth of the server's time in the kernel switching threads. Here a read is a few
//! calls into SQLite on the thread that asked, with the statement prepared once per
//! connection.
//!
//! Only for reads that are bounded — an index probe, one page of a list read in index order —
//! since the calling thread is one of the async runtime's workers and is not given back while
//! SQLite runs. Anything that may scan (a subtree's list, figures over long spans, exports)
//! stays on sqlx, or is read here on a blocking thread ([`crate::Db::direct_shared`] and
//! `spawn_blocking`: one hand-over for the whole read, as the map's open counts and the
//! counters of a few days per value are).
//!
//! The connections are the server's own file (in WAL mode, which the file keeps), opened
//! read-write with `query_only` (a read-only open of a WAL file fails when its shared-memory
//! file is missing), with the same busy timeout and page cache as sqlx's readers. The unsafe code is confined here: a connection is
//! used by one thread at a time (taken out of the idle list for the call), statements are
//! finalized before their connection is closed, and the text a row holds is copied out before
//! the next step.

use std::collections::HashMap;
use std::ffi::{c_int, CStr, CString};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use libsqlite3_sys as ffi;

use crate::event::Bind;
use crate::StoreError;

/// Statements kept prepared per connection; beyond this the cache starts again.
const STATEMENTS: usize = 64;
/// Idle connections kept; more are closed when given back (callers run on the runtime's few
/// threads, so more than this are seldom open at once).
const IDLE: usize = 8;

/// A column's value, owned.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// One row of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell, StoreError> {
        self.0
            .get(i)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("no column {i} in the row")))
    }

    fn mismatch(&self, i: usize, want: &str) -> StoreError {
        StoreError::Other(anyhow::anyhow!(
            "column {i} is {:?}, not {want}",
            self.0.get(i)
        ))
    }

    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.cell(i)? {
            Cell::Int(n) => Ok(*n),
            _ => Err(self.mismatch(i, "an integer")),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        Ok(self.int(i)? != 0)
    }

    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.cell(i)? {
            Cell::Text(s) => Ok(s.clone()),
            _ => Err(self.mismatch(i, "text")),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// A REAL column (SQLite may keep a whole number as an integer on disk).
    pub fn real(&self, i: usize) -> Result<f64, StoreError> {
        match self.cell(i)? {
            Cell::Real(x) => Ok(*x),
            Cell::Int(n) => Ok(*n as f64),
            _ => Err(self.mismatch(i, "a number")),
        }
    }

    pub fn opt_real(&self, i: usize) -> Result<Option<f64>, StoreError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            _ => self.real(i).map(Some),
        }
    }
}

/// A record read from a direct row, column by column in the order its SQL names them (what
/// `sqlx::FromRow` is for sqlx's rows).
pub trait FromDirect: Sized {
    fn from_direct(row: &Row) -> Result<Self, StoreError>;
}

/// A page of rows as a JSON array ([`Readers::json_page`]).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPage {
    pub json: String,
    /// The key (first column) of the page's last row.
    pub last: Option<i64>,
    /// Whether rows follow the page.
    pub more: bool,
}

/// The direct readers of one SQLite file.
pub struct Readers {
    path: CString,
    idle: Mutex<Vec<Conn>>,
    /// The one connection that asks for [`Readers::data_version`] (a connection's own count).
    version: Mutex<Option<Conn>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").field("path", &self.path).finish()
    }
}

impl Readers {
    /// Readers of the file at `path`; `None` for an in-memory database (which another
    /// connection cannot see) or a path SQLite cannot take. Opens one connection to check.
    pub fn open(path: &Path) -> Result<Option<Readers>, StoreError> {
        let Some(text) = path.to_str() else {
            return Ok(None);
        };
        if text.is_empty() || text == ":memory:" || text.starts_with("file::memory:") {
            return Ok(None);
        }
        let Ok(path) = CString::new(text) else {
            return Ok(None);
        };
        let readers = Readers {
            path,
            idle: Mutex::new(Vec::new()),
            version: Mutex::new(None),
            closed: AtomicBool::new(false),
        };
        let first = Conn::open(&readers.path)?;
        readers.put(first);
        Ok(Some(readers))
    }

    fn take(&self) -> Result<Conn, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(c) => Ok(c),
            None => Conn::open(&self.path),
        }
    }

    fn put(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE && !self.closed.load(Ordering::Relaxed) {
            idle.push(conn);
        }
    }

    /// Closes the idle connections; those in use close when given back.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
        *self.version.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// SQLite's `PRAGMA data_version` as one connection of these readers sees it: the same
    /// number from two calls means nothing was committed to the file in between, by any
    /// connection of any process; a different one, that something was (one commit or many:
    /// that connection never writes). One connection answers all calls (each connection
    /// counts on its own), so two numbers are comparable, and they only grow. Read it before
    /// the reads it stands for: what they saw is then at least as new as the number.
    ///
    /// `None` while another call holds that connection: the caller reads without keeping
    /// anything, and no runtime thread waits on another's read.
    pub fn data_version(&self) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "PRAGMA data_version";
        let mut g = match self.version.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Ok(None),
        };
        // A new connection would count afresh: its numbers are not comparable with the old.
        if self.closed.load(Ordering::Relaxed) {
            return Err(StoreError::Other(anyhow::anyhow!("the readers are closed")));
        }
        if g.is_none() {
            *g = Some(Conn::open(&self.path)?);
        }
        let conn = g.as_mut().expect("opened above");
        let mut v = None;
        conn.each(SQL, &[], 1, &mut |s| {
            v = Some(read_row(s).int(0)?);
            Ok(())
        })?;
        v.map(Some)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("no data_version")))
    }

    /// The rows `sql` answers for `binds` (`$N` is the N-th), at most `max` of them (a
    /// bounded read: more is an error, never a silent cut).
    pub fn rows(&self, sql: &str, binds: &[Bind], max: usize) -> Result<Vec<Row>, StoreError> {
        let mut rows = Vec::new();
        self.each(sql, binds, max, &mut |s| {
            rows.push(read_row(s));
            Ok(())
        })?;
        Ok(rows)
    }

    /// Up to `limit` rows of `sql` (which asks for one more) written as a JSON array of
    /// objects, the i-th column under `keys[i]`; the first column is the row's integer key.
    /// Writes what the database's own `json_object` would, without the database building,
    /// sorting and copying each object as a value of its own.
    pub fn json_page(
        &self,
        sql: &str,
        binds: &[Bind],
        keys: &[&str],
        limit: usize,
    ) -> Result<JsonPage, StoreError> {
        let mut out = Vec::with_capacity(512 * limit.min(200) + 2);
        out.push(b'[');
        let mut rows = 0usize;
        let mut last = None;
        let mut more = false;
        // The SQL's LIMIT is `limit + 1`: the extra row only says that more follow.
        self.each(sql, binds, limit + 1, &mut |s| {
            if rows == limit {
                more = true;
                return Ok(());
            }
            if rows > 0 {
                out.push(b',');
            }
            last = Some(write_object(&mut out, s, keys)?);
            rows += 1;
            Ok(())
        })?;
        out.push(b']');
        let json = String::from_utf8(out)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("a page is not UTF-8: {e}")))?;
        Ok(JsonPage { json, last, more })
    }

    fn each(
        &self,
        sql: &str,
        binds: &[Bind],
        max: usize,
        on_row: &mut dyn FnMut(*mut ffi::sqlite3_stmt) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut conn = self.take()?;
        let out = conn.each(sql, binds, max, on_row);
        // A connection whose statement failed is as good as any: SQLite resets it.
        self.put(conn);
        out
    }

    /// The records `sql` answers for `binds`, at most `max` of them (as [`Readers::rows`]).
    pub fn all<T: FromDirect>(
        &self,
        sql: &str,
        binds: &[Bind],
        max: usize,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.each(sql, binds, max, &mut |s| {
            out.push(T::from_direct(&read_row(s))?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The records `sql` answers for `keys`, which are bound as one JSON array in `$1` (the
    /// SQL reads them as `IN (SELECT value FROM json_each($1))`): one prepared statement for
    /// any number of keys, at most one record per key.
    pub fn by_keys<T: FromDirect, K: serde::Serialize>(
        &self,
        sql: &str,
        keys: &[K],
    ) -> Result<Vec<T>, StoreError> {
        let list = serde_json::to_string(keys).map_err(|e| StoreError::Other(e.into()))?;
        self.all(sql, &[Bind::Text(list)], keys.len())
    }

    /// The one record `sql` answers, or `None` (more than one is an error).
    pub fn one<T: FromDirect>(&self, sql: &str, binds: &[Bind]) -> Result<Option<T>, StoreError> {
        Ok(self.all(sql, binds, 1)?.pop())
    }

    /// The one row `sql` answers, or `None`.
    pub fn row(&self, sql: &str, binds: &[Bind]) -> Result<Option<Row>, StoreError> {
        Ok(self.rows(sql, binds, 1)?.pop())
    }
}

/// One connection and its prepared statements.
struct Conn {
    db: NonNull<ffi::sqlite3>,
    statements: HashMap<String, NonNull<ffi::sqlite3_stmt>>,
}

// SAFETY: SQLite connections opened with SQLITE_OPEN_NOMUTEX may move between threads as long
// as one thread uses them at a time; a `Conn` is owned by one caller for the span of a call.
unsafe impl Send for Conn {}

fn error(db: NonNull<ffi::sqlite3>, what: &str) -> StoreError {
    // SAFETY: `db` is an open connection; the message is copied at once.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned();
    StoreError::Other(anyhow::anyhow!("{what}: {message}"))
}

impl Conn {
    fn open(path: &CStr) -> Result<Conn, StoreError> {
        let mut db = std::ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_NOMUTEX | ffi::SQLITE_OPEN_URI;
        // SAFETY: `path` is a NUL-terminated string that outlives the call; `db` receives the
        // handle (set even on failure, and then closed below).
        let rc = unsafe { ffi::sqlite3_open_v2(path.as_ptr(), &mut db, flags, std::ptr::null()) };
        let Some(db) = NonNull::new(db) else {
            return Err(StoreError::Other(anyhow::anyhow!(
                "cannot open a reader of {path:?}: out of memory"
            )));
        };
        let conn = Conn {
            db,
            statements: HashMap::new(),
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, "opening a reader"));
        }
        // SAFETY: `db` is open and used by this thread only.
        unsafe { ffi::sqlite3_busy_timeout(db.as_ptr(), 10_000) };
        conn.exec(
            "PRAGMA query_only = 1; PRAGMA temp_store = memory; PRAGMA cache_size = -16384;",
        )?;
        Ok(conn)
    }

    fn exec(&self, sql: &str) -> Result<(), StoreError> {
        let sql = CString::new(sql).map_err(|e| StoreError::Other(e.into()))?;
        // SAFETY: `db` is open; the SQL is NUL-terminated and outlives the call; no callback.
        let rc = unsafe {
            ffi::sqlite3_exec(
                self.db.as_ptr(),
                sql.as_ptr(),
                None,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error(self.db, "setting up a reader"))
        }
    }

    fn statement(&mut self, sql: &str) -> Result<NonNull<ffi::sqlite3_stmt>, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(*s);
        }
        if self.statements.len() >= STATEMENTS {
            self.finalize_all();
        }
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `db` is open; the SQL text outlives the call and its length is given.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                self.db.as_ptr(),
                sql.as_ptr().cast(),
                sql.len() as c_int,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        let stmt = match (rc, NonNull::new(stmt)) {
            (ffi::SQLITE_OK, Some(stmt)) => stmt,
            _ => return Err(error(self.db, "preparing a read")),
        };
        self.statements.insert(sql.to_owned(), stmt);
        Ok(stmt)
    }

    fn each(
        &mut self,
        sql: &str,
        binds: &[Bind],
        max: usize,
        on_row: &mut dyn FnMut(*mut ffi::sqlite3_stmt) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let stmt = self.statement(sql)?;
        let s = stmt.as_ptr();
        let out = self.step_all(s, binds, max, on_row);
        // SAFETY: `s` is live; reset and clear drop the bindings, which borrow `binds` only for
        // the span of this call.
        unsafe {
            ffi::sqlite3_reset(s);
            ffi::sqlite3_clear_bindings(s);
        }
        out
    }

    fn step_all(
        &self,
        s: *mut ffi::sqlite3_stmt,
        binds: &[Bind],
        max: usize,
        on_row: &mut dyn FnMut(*mut ffi::sqlite3_stmt) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // `$N` is the N-th of `binds` wherever it stands (SQLite numbers named parameters by
        // first appearance, and a statement need not use every one); `?` takes the next.
        // SAFETY: `s` is a live statement of this connection.
        let count = unsafe { ffi::sqlite3_bind_parameter_count(s) };
        for i in 1..=count {
            // SAFETY: `i` is within the statement's parameters; the name lives as long as `s`.
            let name = unsafe { ffi::sqlite3_bind_parameter_name(s, i) };
            let n = if name.is_null() {
                i as usize
            } else {
                // SAFETY: a non-null name is a NUL-terminated string owned by `s`.
                let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
                match name.strip_prefix('$').and_then(|d| d.parse::<usize>().ok()) {
                    Some(n) => n,
                    None => {
                        return Err(StoreError::Other(anyhow::anyhow!(
                            "a read's parameter {name} is not $N"
                        )))
                    }
                }
            };
            let Some(b) = n.checked_sub(1).and_then(|k| binds.get(k)) else {
                return Err(StoreError::Other(anyhow::anyhow!(
                    "a read uses parameter {n} of {}",
                    binds.len()
                )));
            };
            // SAFETY: `s` is a live statement of this connection; text and blobs are bound as
            // static and borrowed from `binds` until the reset in `rows`.
            let rc = unsafe {
                match b {
                    Bind::Int(v) => ffi::sqlite3_bind_int64(s, i, *v),
                    Bind::Text(t) => ffi::sqlite3_bind_text64(
                        s,
                        i,
                        t.as_ptr().cast(),
                        t.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                    Bind::Bytes(v) => ffi::sqlite3_bind_blob64(
                        s,
                        i,
                        v.as_ptr().cast(),
                        v.len() as u64,
                        ffi::SQLITE_STATIC(),
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(error(self.db, "binding a read's parameter"));
            }
        }
        let mut rows = 0usize;
        loop {
            // SAFETY: `s` is live and bound.
            match unsafe { ffi::sqlite3_step(s) } {
                ffi::SQLITE_DONE => return Ok(()),
                ffi::SQLITE_ROW if rows < max => {
                    rows += 1;
                    on_row(s)?;
                }
                ffi::SQLITE_ROW => {
                    return Err(StoreError::Other(anyhow::anyhow!(
                        "a bounded read answered more than {max} rows"
                    )))
                }
                _ => return Err(error(self.db, "a read")),
            }
        }
    }

    fn finalize_all(&mut self) {
        for (_, s) in self.statements.drain() {
            // SAFETY: each statement was prepared on this connection and is finalized once.
            unsafe { ffi::sqlite3_finalize(s.as_ptr()) };
        }
    }
}

/// Writes the current row of `s` as a JSON object under `keys`; returns its first column.
fn write_object(
    out: &mut Vec<u8>,
    s: *mut ffi::sqlite3_stmt,
    keys: &[&str],
) -> Result<i64, StoreError> {
    use std::io::Write;
    let json = |e: serde_json::Error| StoreError::Other(e.into());
    // SAFETY: `s` has just returned SQLITE_ROW; each column is read once, by its own type,
    // and text is written out before the next step invalidates it.
    unsafe {
        let n = ffi::sqlite3_column_count(s);
        if n as usize != keys.len() || n == 0 {
            return Err(StoreError::Other(anyhow::anyhow!(
                "{n} columns for {} keys",
                keys.len()
            )));
        }
        if ffi::sqlite3_column_type(s, 0) != ffi::SQLITE_INTEGER {
            return Err(StoreError::Other(anyhow::anyhow!(
                "a page's first column is not its key"
            )));
        }
        out.push(b'{');
        for (i, key) in keys.iter().enumerate() {
            let c = i as c_int;
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, key).map_err(json)?;
            out.push(b':');
            match ffi::sqlite3_column_type(s, c) {
                ffi::SQLITE_INTEGER => {
                    write!(out, "{}", ffi::sqlite3_column_int64(s, c))
                        .map_err(|e| StoreError::Other(e.into()))?;
                }
                ffi::SQLITE_FLOAT => {
                    serde_json::to_writer(&mut *out, &ffi::sqlite3_column_double(s, c))
                        .map_err(json)?;
                }
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_column_text(s, c);
                    let len = ffi::sqlite3_column_bytes(s, c) as usize;
                    let bytes = if p.is_null() {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(p, len)
                    };
                    match std::str::from_utf8(bytes) {
                        Ok(t) => serde_json::to_writer(&mut *out, t).map_err(json)?,
                        Err(_) => serde_json::to_writer(&mut *out, &String::from_utf8_lossy(bytes))
                            .map_err(json)?,
                    }
                }
                ffi::SQLITE_NULL => out.extend_from_slice(b"null"),
                _ => {
                    return Err(StoreError::Other(anyhow::anyhow!(
                        "column {i} is a blob, not JSON"
                    )))
                }
            }
        }
        out.push(b'}');
        Ok(ffi::sqlite3_column_int64(s, 0))
    }
}

/// Copies the current row of `s` out.
fn read_row(s: *mut ffi::sqlite3_stmt) -> Row {
    // SAFETY: `s` has just returned SQLITE_ROW; each column is read once, by its own type, and
    // text and blobs are copied before the next step invalidates them.
    unsafe {
        let n = ffi::sqlite3_column_count(s);
        let mut cells = Vec::with_capacity(n as usize);
        for i in 0..n {
            cells.push(match ffi::sqlite3_column_type(s, i) {
                ffi::SQLITE_INTEGER => Cell::Int(ffi::sqlite3_column_int64(s, i)),
                ffi::SQLITE_FLOAT => Cell::Real(ffi::sqlite3_column_double(s, i)),
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_column_text(s, i);
                    let len = ffi::sqlite3_column_bytes(s, i) as usize;
                    let bytes = if p.is_null() {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts(p, len)
                    };
                    Cell::Text(match std::str::from_utf8(bytes) {
                        Ok(t) => t.to_owned(),
                        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
                    })
                }
                ffi::SQLITE_BLOB => {
                    let p = ffi::sqlite3_column_blob(s, i).cast::<u8>();
                    let len = ffi::sqlite3_column_bytes(s, i) as usize;
                    Cell::Blob(if p.is_null() {
                        Vec::new()
                    } else {
                        std::slice::from_raw_parts(p, len).to_vec()
                    })
                }
                _ => Cell::Null,
            });
        }
        Row(cells)
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.finalize_all();
        // SAFETY: every statement is finalized; the connection is closed once.
        unsafe { ffi::sqlite3_close(self.db.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> (tempfile::TempDir, Readers) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        // An empty file is an empty database (readers never create one).
        std::fs::File::create(&path).unwrap();
        {
            let c = Conn::open(&CString::new(path.to_str().unwrap()).unwrap()).unwrap();
            c.exec("PRAGMA query_only = 0; CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, b BLOB, x REAL); \
                    INSERT INTO t VALUES (1, '王五', x'0102', 1.5), (2, NULL, NULL, NULL);")
                .unwrap();
        }
        let r = Readers::open(&path).unwrap().expect("a file has readers");
        (dir, r)
    }

    #[test]
    fn reads_each_type_and_binds_positional_parameters() {
        let (_dir, r) = scratch();
        let row = r
            .row(
                "SELECT id, name, b, x FROM t WHERE id = $1",
                &[Bind::Int(1)],
            )
            .unwrap()
            .unwrap();
        assert_eq!(row.int(0).unwrap(), 1);
        assert_eq!(row.text(1).unwrap(), "王五");
        assert_eq!(row.0[2], Cell::Blob(vec![1, 2]));
        assert_eq!(row.0[3], Cell::Real(1.5));
        let row = r
            .row(
                "SELECT id, name FROM t WHERE name IS $1 OR id = $2",
                &[Bind::Text("无".into()), Bind::Int(2)],
            )
            .unwrap()
            .unwrap();
        assert_eq!(row.opt_text(1).unwrap(), None);
        assert!(row.text(1).is_err(), "NULL is not text");
        assert_eq!(
            r.row("SELECT id FROM t WHERE id = $1", &[Bind::Int(9)])
                .unwrap(),
            None
        );
        // $N is the N-th value wherever it first appears, and a value may go unused.
        let row = r
            .row(
                "SELECT $3, $1",
                &[Bind::Int(1), Bind::Int(2), Bind::Text("c".into())],
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.text(0).unwrap(), row.int(1).unwrap()),
            ("c".to_owned(), 1)
        );
        assert!(r.row("SELECT $4", &[Bind::Int(1)]).is_err());
    }

    /// A record of the scratch table, as a store module's `FromDirect` reads its rows.
    #[derive(Debug, PartialEq)]
    struct T(i64, Option<String>, Option<f64>);

    impl FromDirect for T {
        fn from_direct(r: &Row) -> Result<Self, StoreError> {
            Ok(T(r.int(0)?, r.opt_text(1)?, r.opt_real(2)?))
        }
    }

    #[test]
    fn reads_records_and_lists_of_keys() {
        let (_dir, r) = scratch();
        let all: Vec<T> = r
            .all("SELECT id, name, x FROM t ORDER BY id", &[], 2)
            .unwrap();
        assert_eq!(
            all,
            [T(1, Some("王五".into()), Some(1.5)), T(2, None, None)]
        );
        // A bounded read: a third row where two were allowed is an error, never a cut.
        assert!(r.all::<T>("SELECT id, name, x FROM t", &[], 1).is_err());
        // A whole number in a REAL column reads as a number.
        let row = r.row("SELECT 3, CAST(2 AS REAL)", &[]).unwrap().unwrap();
        assert_eq!((row.real(0).unwrap(), row.real(1).unwrap()), (3.0, 2.0));
        assert!(row.opt_real(0).unwrap().is_some());
        assert!(r.row("SELECT 'a'", &[]).unwrap().unwrap().real(0).is_err());
        // Keys as one JSON array: any number of them through one statement; unknown keys
        // answer nothing.
        let sql =
            "SELECT id, name, x FROM t WHERE id IN (SELECT value FROM json_each($1)) ORDER BY id";
        let got: Vec<T> = r.by_keys(sql, &[2, 9]).unwrap();
        assert_eq!(got, [T(2, None, None)]);
        let got: Vec<T> = r.by_keys(sql, &[1, 2]).unwrap();
        assert_eq!(got.len(), 2);
        let none: Vec<T> = r.by_keys(sql, &[] as &[i64]).unwrap();
        assert!(none.is_empty());
        let by_name: Vec<T> = r
            .by_keys(
                "SELECT id, name, x FROM t WHERE name IN (SELECT value FROM json_each($1))",
                &["王五", "无"],
            )
            .unwrap();
        assert_eq!(by_name, [T(1, Some("王五".into()), Some(1.5))]);
    }

    #[test]
    fn a_bounded_read_refuses_more_rows_and_the_connection_stays_usable() {
        let (_dir, r) = scratch();
        assert!(r.rows("SELECT id FROM t ORDER BY id", &[], 1).is_err());
        assert_eq!(
            r.rows("SELECT id FROM t ORDER BY id", &[], 2)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn readers_cannot_write_and_report_bad_sql() {
        let (_dir, r) = scratch();
        let e = r.rows("DELETE FROM t", &[], 1).unwrap_err();
        assert!(
            e.to_string().contains("readonly") || e.to_string().contains("read"),
            "{e}"
        );
        assert!(r.row("SELECT nope FROM t", &[]).is_err());
        assert_eq!(
            r.rows("SELECT COUNT(*) FROM t", &[], 1).unwrap()[0]
                .int(0)
                .unwrap(),
            2
        );
    }

    #[test]
    fn a_json_page_writes_each_row_as_an_object_and_says_whether_more_follow() {
        let (_dir, r) = scratch();
        let sql = "SELECT id, name, x FROM t WHERE id > $1 ORDER BY id LIMIT $2";
        let keys = ["id", "name", "x"];
        let page = r
            .json_page(sql, &[Bind::Int(0), Bind::Int(2)], &keys, 1)
            .unwrap();
        assert!(page.more);
        assert_eq!(page.last, Some(1));
        let v: serde_json::Value = serde_json::from_str(&page.json).unwrap();
        assert_eq!(v, serde_json::json!([{"id": 1, "name": "王五", "x": 1.5}]));
        let page = r
            .json_page(sql, &[Bind::Int(1), Bind::Int(2)], &keys, 1)
            .unwrap();
        assert!(!page.more);
        let v: serde_json::Value = serde_json::from_str(&page.json).unwrap();
        assert_eq!(v, serde_json::json!([{"id": 2, "name": null, "x": null}]));
        let empty = r
            .json_page(sql, &[Bind::Int(2), Bind::Int(2)], &keys, 1)
            .unwrap();
        assert_eq!(
            (empty.json.as_str(), empty.last, empty.more),
            ("[]", None, false)
        );
        // A blob has no JSON form: refused, not written as something else.
        assert!(r
            .json_page("SELECT id, b FROM t LIMIT 2", &[], &["id", "b"], 1)
            .is_err());
    }

    #[test]
    fn memory_databases_have_no_readers() {
        assert!(Readers::open(Path::new(":memory:")).unwrap().is_none());
    }

    #[test]
    fn the_data_version_moves_on_a_commit_only() {
        // A file in WAL mode, as the server's is, written by a connection of its own.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        std::fs::File::create(&path).unwrap();
        let writer = Conn::open(&CString::new(path.to_str().unwrap()).unwrap()).unwrap();
        writer
            .exec("PRAGMA query_only = 0; PRAGMA journal_mode = WAL; \
                   CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, '王五'), (2, NULL);")
            .unwrap();
        let r = Readers::open(&path).unwrap().expect("a file has readers");
        let mode = r.row("PRAGMA journal_mode", &[]).unwrap().unwrap();
        assert_eq!(mode.text(0).unwrap(), "wal");
        let v0 = r.data_version().unwrap().expect("no other caller");
        // Reads, by the readers or through the version's own connection, move nothing.
        r.row("SELECT name FROM t WHERE id = $1", &[Bind::Int(1)])
            .unwrap();
        assert_eq!(r.data_version().unwrap(), Some(v0));
        // A commit by another connection moves it, once.
        writer
            .exec("UPDATE t SET name = '赵六' WHERE id = 2;")
            .unwrap();
        let v1 = r.data_version().unwrap().expect("no other caller");
        assert!(v1 > v0, "{v1} after {v0}");
        assert_eq!(r.data_version().unwrap(), Some(v1));
        // A transaction that is rolled back commits nothing.
        writer
            .exec("BEGIN; UPDATE t SET name = '钱七' WHERE id = 2; ROLLBACK;")
            .unwrap();
        assert_eq!(r.data_version().unwrap(), Some(v1));
        // While another call holds the connection: no number, and no wait.
        {
            let _held = r.version.lock().unwrap();
            assert_eq!(r.data_version().unwrap(), None);
        }
        // Closed readers give no number (a new connection's would not be comparable).
        r.close();
        assert!(r.data_version().is_err());
    }
}
