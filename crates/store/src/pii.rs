//! Personal data at rest (PIPL): ID numbers and phones are sealed with AES-256-GCM under a key
//! with an id, found by exact value through a keyed blind index (HMAC-SHA256), and shown masked.
//!
//! A sealed value is `1 ‖ len(kid) ‖ kid ‖ nonce(12) ‖ ciphertext+tag`, so every row names the key
//! that opens it and keys can be rotated row by row ([`rotate`]) while servers run: a keyring
//! holds every key still in use and seals with the active one. The blind index has its own key,
//! which rotation leaves alone (it would change every index at once).
//!
//! Keys come from the settings (`SHANZHI_PII_KEYS`, `SHANZHI_PII_ACTIVE_KEY`,
//! `SHANZHI_PII_INDEX_KEY`) or from a key file, created with fresh keys on first start and
//! re-read when it changes, so that `shanzhi pii rotate-key` reaches running servers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{anyhow, bail, Context};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::{Db, StoreError};

const VERSION: u8 = 1;
const NONCE: usize = 12;
/// Bytes of the blind index kept (128 bits: no collisions among a province's people).
pub const INDEX_BYTES: usize = 16;
/// How often a server looks whether the key file changed.
const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// What a blind index is of: the same value under two kinds gives two unrelated indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    IdNumber,
    Phone,
}

impl IndexKind {
    fn tag(self) -> &'static [u8] {
        match self {
            IndexKind::IdNumber => b"id_number\0",
            IndexKind::Phone => b"phone\0",
        }
    }
}

/// A value sealed for storage: the ciphertext, its blind index and its mask.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub cipher: Vec<u8>,
    pub index: Vec<u8>,
    pub mask: String,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed({})", self.mask)
    }
}

struct Keys {
    active: String,
    data: BTreeMap<String, Aes256Gcm>,
    index: Vec<u8>,
}

impl Keys {
    fn parse(
        active: Option<&str>,
        data: &[(String, Vec<u8>)],
        index: Vec<u8>,
    ) -> anyhow::Result<Keys> {
        if data.is_empty() {
            bail!("no personal-data key");
        }
        let mut map = BTreeMap::new();
        for (id, key) in data {
            if id.is_empty()
                || id.len() > 32
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                bail!("the key id {id:?} must be 1-32 letters, digits, - or _");
            }
            if key.len() != 32 {
                bail!(
                    "the key {id} must be 32 bytes (64 hex digits), not {}",
                    key.len()
                );
            }
            map.insert(
                id.clone(),
                Aes256Gcm::new_from_slice(key).map_err(|e| anyhow!("{e}"))?,
            );
        }
        if index.len() < 32 {
            bail!("the index key must be at least 32 bytes (64 hex digits)");
        }
        let active = active.map_or_else(|| data[data.len() - 1].0.clone(), str::to_owned);
        if !map.contains_key(&active) {
            bail!("the active key {active} is not among the keys");
        }
        Ok(Keys {
            active,
            data: map,
            index,
        })
    }
}

/// The keys personal data is sealed with.
#[derive(Clone)]
pub struct Keyring {
    keys: Arc<RwLock<Arc<Keys>>>,
    file: Option<Arc<KeyFile>>,
}

struct KeyFile {
    path: PathBuf,
    seen: Mutex<(Instant, Option<Stamp>)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring(active {})", self.current().active)
    }
}

/// What tells a changed key file: its time, length and inode (the file is replaced whole).
type Stamp = (SystemTime, u64, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let ino = 0;
    Some((m.modified().ok()?, m.len(), ino))
}

fn unhex(what: &str, s: &str) -> anyhow::Result<Vec<u8>> {
    hex::decode(s.trim()).with_context(|| format!("{what} is not hex"))
}

impl Keyring {
    /// Keys from settings: `keys` is `ID:HEX[,ID:HEX…]` (64 hex digits each), `active` the id
    /// new values are sealed with (default the last listed), `index` the blind index key (hex).
    pub fn from_settings(keys: &str, active: Option<&str>, index: &str) -> anyhow::Result<Keyring> {
        let mut data = Vec::new();
        for part in keys.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, key) = part
                .split_once(':')
                .ok_or_else(|| anyhow!("a personal-data key is written ID:HEX"))?;
            data.push((id.trim().to_owned(), unhex(&format!("the key {id}"), key)?));
        }
        let keys = Keys::parse(active, &data, unhex("the index key", index)?)?;
        Ok(Keyring {
            keys: Arc::new(RwLock::new(Arc::new(keys))),
            file: None,
        })
    }

    /// Fixed keys derived from `seed`: for tests and benchmarks only.
    pub fn for_tests(seed: &str) -> Keyring {
        use sha2::Digest;
        let key = |what: &str| hex::encode(Sha256::digest(format!("{seed}/{what}")));
        Keyring::from_settings(&format!("t1:{}", key("t1")), None, &key("index"))
            .expect("test keys")
    }

    /// Keys from a key file, created with fresh random keys when it does not exist (mode 0600).
    pub fn from_file(path: &Path) -> anyhow::Result<Keyring> {
        if !path.exists() {
            write_key_file(
                path,
                &[("k1".to_owned(), random_key())],
                "k1",
                &random_key(),
            )?;
            tracing::warn!(
                path = %path.display(),
                "created personal-data keys: keep the file secret and back it up with the database; without it ID numbers and phones cannot be read"
            );
        }
        let keys = read_key_file(path)?;
        let modified = stamp(path);
        Ok(Keyring {
            keys: Arc::new(RwLock::new(Arc::new(keys))),
            file: Some(Arc::new(KeyFile {
                path: path.to_owned(),
                seen: Mutex::new((Instant::now(), modified)),
            })),
        })
    }

    fn current(&self) -> Arc<Keys> {
        self.keys.read().expect("keyring lock").clone()
    }

    /// Re-reads the key file if it changed (at most every two seconds unless `now`).
    fn refresh(&self, now: bool) {
        let Some(file) = &self.file else { return };
        let mut seen = file.seen.lock().expect("key file lock");
        if !now && seen.0.elapsed() < RELOAD_EVERY {
            return;
        }
        seen.0 = Instant::now();
        let modified = stamp(&file.path);
        if modified == seen.1 {
            return;
        }
        match read_key_file(&file.path) {
            Ok(keys) => {
                tracing::info!(active = %keys.active, "personal-data keys re-read");
                *self.keys.write().expect("keyring lock") = Arc::new(keys);
                seen.1 = modified;
            }
            Err(e) => {
                tracing::error!(error = %e, "the personal-data key file cannot be read; keeping the keys in use")
            }
        }
    }

    /// The id of the key new values are sealed with.
    pub fn active_id(&self) -> String {
        self.refresh(false);
        self.current().active.clone()
    }

    /// Seals `plain` under the active key.
    pub fn encrypt(&self, plain: &str) -> Vec<u8> {
        self.refresh(false);
        let keys = self.current();
        let cipher = &keys.data[&keys.active];
        let mut nonce = [0u8; NONCE];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("AES-GCM seals any length a row holds");
        let kid = keys.active.as_bytes();
        let mut out = Vec::with_capacity(2 + kid.len() + NONCE + sealed.len());
        out.push(VERSION);
        out.push(kid.len() as u8);
        out.extend_from_slice(kid);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a sealed value.
    pub fn decrypt(&self, blob: &[u8]) -> Result<String, StoreError> {
        let kid = key_id(blob)
            .ok_or_else(|| StoreError::Other(anyhow!("a sealed value is malformed")))?;
        let mut keys = self.current();
        if !keys.data.contains_key(kid) {
            self.refresh(true);
            keys = self.current();
        }
        let cipher = keys.data.get(kid).ok_or_else(|| {
            StoreError::Other(anyhow!("no personal-data key {kid} to open a value with"))
        })?;
        let rest = &blob[2 + kid.len()..];
        let plain = cipher
            .decrypt(Nonce::from_slice(&rest[..NONCE]), &rest[NONCE..])
            .map_err(|_| {
                StoreError::Other(anyhow!("a sealed value does not open under key {kid}"))
            })?;
        String::from_utf8(plain).map_err(|e| StoreError::Other(e.into()))
    }

    /// The blind index of `value` (already normalized: the parsed form).
    pub fn index(&self, kind: IndexKind, value: &str) -> Vec<u8> {
        let keys = self.current();
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&keys.index).expect("HMAC takes any key");
        mac.update(kind.tag());
        mac.update(value.as_bytes());
        mac.finalize().into_bytes()[..INDEX_BYTES].to_vec()
    }

    /// Seals a value with its index and mask.
    pub fn seal(&self, kind: IndexKind, value: &str, mask: String) -> Sealed {
        Sealed {
            cipher: self.encrypt(value),
            index: self.index(kind, value),
            mask,
        }
    }
}

/// The id of the key that sealed `blob`.
pub fn key_id(blob: &[u8]) -> Option<&str> {
    let (&version, rest) = blob.split_first()?;
    let (&len, rest) = rest.split_first()?;
    if version != VERSION || rest.len() < len as usize + NONCE + 16 {
        return None;
    }
    std::str::from_utf8(&rest[..len as usize]).ok()
}

fn random_key() -> Vec<u8> {
    let mut k = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut k);
    k
}

fn write_key_file(
    path: &Path,
    data: &[(String, Vec<u8>)],
    active: &str,
    index: &[u8],
) -> anyhow::Result<()> {
    let mut text = String::from(
        "# Shanzhi personal-data keys (AES-256-GCM, HMAC-SHA256 blind index).\n\
         # Keep this file secret and back it up with the database: without it the ID numbers and\n\
         # phones cannot be read. `shanzhi pii rotate-key` adds a key and re-seals every row.\n",
    );
    text.push_str(&format!("index = {}\n", hex::encode(index)));
    for (id, key) in data {
        text.push_str(&format!("key {id} = {}\n", hex::encode(key)));
    }
    text.push_str(&format!("active = {active}\n"));
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn read_key_file_parts(
    path: &Path,
) -> anyhow::Result<(Vec<(String, Vec<u8>)>, Option<String>, Vec<u8>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (mut data, mut active, mut index) = (Vec::new(), None, None);
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| anyhow!("{}: a line is NAME = VALUE", path.display()))?;
        let name = name.trim();
        match name.split_whitespace().collect::<Vec<_>>()[..] {
            ["index"] => index = Some(unhex("the index key", value)?),
            ["active"] => active = Some(value.trim().to_owned()),
            ["key", id] => data.push((id.to_owned(), unhex(&format!("the key {id}"), value)?)),
            _ => bail!("{}: unknown line {name}", path.display()),
        }
    }
    let index = index.ok_or_else(|| anyhow!("{}: no index key", path.display()))?;
    Ok((data, active, index))
}

fn read_key_file(path: &Path) -> anyhow::Result<Keys> {
    let (data, active, index) = read_key_file_parts(path)?;
    Keys::parse(active.as_deref(), &data, index).with_context(|| path.display().to_string())
}

/// Adds a fresh key to a key file and makes it the active one; returns its id.
pub fn add_key(path: &Path) -> anyhow::Result<String> {
    let (mut data, _, index) = read_key_file_parts(path)?;
    let next = (1..)
        .map(|n| format!("k{n}"))
        .find(|id| data.iter().all(|(d, _)| d != id))
        .expect("a free key id");
    data.push((next.clone(), random_key()));
    write_key_file(path, &data, &next, &index)?;
    Ok(next)
}

/// A table column that holds sealed values, for rotation. Every module that seals a column
/// lists it in [`SEALED_COLUMNS`].
#[derive(Debug, Clone, Copy)]
pub struct SealedColumn {
    pub table: &'static str,
    /// The table's integer key.
    pub key: &'static str,
    pub column: &'static str,
}

/// Every sealed column of the schema.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "app_user",
        key: "id",
        column: "phone_enc",
    },
    SealedColumn {
        table: "event_caller",
        key: "event_id",
        column: "phone_enc",
    },
    SealedColumn {
        table: "open311_request",
        key: "event_id",
        column: "phone_enc",
    },
    SealedColumn {
        table: "resident",
        key: "id",
        column: "id_enc",
    },
    SealedColumn {
        table: "resident",
        key: "id",
        column: "phone_enc",
    },
    SealedColumn {
        table: "correction",
        key: "id",
        column: "value_enc",
    },
    SealedColumn {
        table: "dispute_party",
        key: "id",
        column: "id_enc",
    },
    SealedColumn {
        table: "dispute_party",
        key: "id",
        column: "phone_enc",
    },
    SealedColumn {
        table: "dispute_party",
        key: "id",
        column: "address_enc",
    },
];

/// Seals the phones written in plain text before 0012 (app_user, event_caller, open311_request)
/// and empties the plain columns. Runs at start-up; a no-op once done. Returns how many.
pub async fn seal_legacy(db: &Db, keys: &Keyring) -> Result<u64, StoreError> {
    let mut n = 0;
    for (table, key, blank) in [
        ("app_user", "id", "NULL"),
        ("event_caller", "event_id", "''"),
        ("open311_request", "event_id", "NULL"),
    ] {
        let select = format!(
            "SELECT {key}, phone FROM {table} WHERE phone IS NOT NULL AND phone <> '' LIMIT 1000"
        );
        let update = format!(
            "UPDATE {table} SET phone_enc = $1, phone_idx = $2, phone_mask = $3, phone = {blank} WHERE {key} = $4"
        );
        loop {
            let rows: Vec<(i64, String)> = with_pool!(db, pool => {
                sqlx::query_as(&select).fetch_all(pool).await?
            });
            if rows.is_empty() {
                break;
            }
            with_tx!(db, tx => {
                for (id, phone) in &rows {
                    let s = keys.seal(IndexKind::Phone, phone, shanzhi_domain::user::person::mask_phone(phone));
                    sqlx::query(&update).bind(&s.cipher).bind(&s.index).bind(&s.mask).bind(id).execute(&mut *tx).await?;
                }
            });
            n += rows.len() as u64;
        }
    }
    Ok(n)
}

/// Checks that the keyring opens what the database holds: of every sealed column, the value of
/// its first and its last row is opened, and where the column has a blind index beside it
/// (`…_idx`), the index of the opened value must be the stored one. A server started with a lost
/// or wrong key file (or settings) would otherwise seal new values under keys that cannot read
/// the old ones, and exact searches would silently find nothing. Refuses with what is wrong.
pub async fn check_keys(db: &Db, keys: &Keyring) -> Result<(), StoreError> {
    for col in SEALED_COLUMNS {
        let (index_column, kind) = match col.column {
            "phone_enc" => (Some("phone_idx"), IndexKind::Phone),
            "id_enc" => (Some("id_idx"), IndexKind::IdNumber),
            _ => (None, IndexKind::Phone),
        };
        let idx = index_column.unwrap_or("NULL");
        for order in ["ASC", "DESC"] {
            // Constant table and column names from SEALED_COLUMNS.
            let sql = format!(
                "SELECT {c}, {idx} FROM {t} WHERE {c} IS NOT NULL ORDER BY {k} {order} LIMIT 1",
                c = col.column,
                t = col.table,
                k = col.key
            );
            let row: Option<(Vec<u8>, Option<Vec<u8>>)> = with_pool!(db, pool => {
                sqlx::query_as(&sql).fetch_optional(pool).await?
            });
            let Some((sealed, stored_index)) = row else {
                break;
            };
            let kid = key_id(&sealed).unwrap_or("(malformed)").to_owned();
            let plain = keys.decrypt(&sealed).map_err(|_| {
                StoreError::Other(anyhow!(
                    "the personal-data keys do not open {t}.{c} (sealed with key {kid}): the key file or \
                     the SHANZHI_PII_KEYS setting is missing or not this database's; restore it (from \
                     the backup kept with the database) before starting",
                    t = col.table,
                    c = col.column
                ))
            })?;
            if let Some(stored) = stored_index {
                if keys.index(kind, &plain) != stored {
                    return Err(StoreError::Other(anyhow!(
                        "the blind index key does not match {t}.{idx}: exact searches would find \
                         nothing; restore this database's index key before starting",
                        t = col.table
                    )));
                }
            }
        }
    }
    Ok(())
}

/// What a rotation did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Values re-sealed under the active key.
    pub resealed: u64,
}

/// Re-seals every value of every sealed column that is not under the active key, in small
/// transactions (a running server keeps reading and writing: a value that changed in between is
/// left to the next pass), until none is left. `progress` hears the running count.
pub async fn rotate(
    db: &Db,
    keys: &Keyring,
    mut progress: impl FnMut(u64),
) -> Result<Rotation, StoreError> {
    const BATCH: i64 = 500;
    let mut total = Rotation::default();
    loop {
        let active = keys.active_id();
        let mut this_pass = 0u64;
        for col in SEALED_COLUMNS {
            let mut after = i64::MIN;
            loop {
                let select = format!(
                    "SELECT {k}, {c} FROM {t} WHERE {k} > $1 AND {c} IS NOT NULL \
                     AND substr({c}, 1, $2) <> $3 ORDER BY {k} LIMIT {BATCH}",
                    k = col.key,
                    c = col.column,
                    t = col.table
                );
                let p = prefix(&active);
                let rows: Vec<(i64, Vec<u8>)> = with_pool!(db, pool => {
                    sqlx::query_as(&select).bind(after).bind(p.len() as i32).bind(&p).fetch_all(pool).await?
                });
                let Some(last) = rows.last() else { break };
                after = last.0;
                let stale: Vec<(i64, Vec<u8>, Vec<u8>)> = rows
                    .into_iter()
                    .map(|(id, blob)| {
                        keys.decrypt(&blob)
                            .map(|plain| (id, keys.encrypt(&plain), blob))
                    })
                    .collect::<Result<_, _>>()?;
                if stale.is_empty() {
                    continue;
                }
                let update = format!(
                    "UPDATE {t} SET {c} = $1 WHERE {k} = $2 AND {c} = $3",
                    k = col.key,
                    c = col.column,
                    t = col.table
                );
                let mut changed = 0u64;
                with_tx!(db, tx => {
                    for (id, new, old) in &stale {
                        changed += sqlx::query(&update).bind(new).bind(id).bind(old).execute(&mut *tx).await?.rows_affected();
                    }
                });
                this_pass += changed;
                total.resealed += changed;
                progress(total.resealed);
            }
        }
        if this_pass == 0 {
            // Nothing was left under an old key (or what was, changed under us: look again).
            let left = count_stale(db, &keys.active_id()).await?;
            if left == 0 {
                return Ok(total);
            }
        }
    }
}

/// The first bytes of every value sealed under `kid`.
fn prefix(kid: &str) -> Vec<u8> {
    let mut p = vec![VERSION, kid.len() as u8];
    p.extend_from_slice(kid.as_bytes());
    p
}

/// How many sealed values each key of the keyring holds over every sealed column, and how many
/// no key of it opens (under "(unknown)").
pub async fn key_counts(db: &Db, keys: &Keyring) -> Result<BTreeMap<String, u64>, StoreError> {
    let ids: Vec<String> = keys.current().data.keys().cloned().collect();
    let mut out = BTreeMap::new();
    for col in SEALED_COLUMNS {
        let all = format!(
            "SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL",
            c = col.column,
            t = col.table
        );
        let by_key = format!(
            "SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL AND substr({c}, 1, $1) = $2",
            c = col.column,
            t = col.table
        );
        let total: i64 = with_pool!(db, pool => sqlx::query_scalar(&all).fetch_one(pool).await?);
        let mut known = 0;
        for id in &ids {
            let p = prefix(id);
            let n: i64 = with_pool!(db, pool => {
                sqlx::query_scalar(&by_key).bind(p.len() as i32).bind(&p).fetch_one(pool).await?
            });
            *out.entry(id.clone()).or_default() += n as u64;
            known += n;
        }
        if total > known {
            *out.entry("(unknown)".to_owned()).or_default() += (total - known) as u64;
        }
    }
    Ok(out)
}

/// Values not under the active key.
pub async fn count_stale(db: &Db, active: &str) -> Result<u64, StoreError> {
    let p = prefix(active);
    let mut n = 0;
    for col in SEALED_COLUMNS {
        let select = format!(
            "SELECT COUNT(*) FROM {t} WHERE {c} IS NOT NULL AND substr({c}, 1, $1) <> $2",
            c = col.column,
            t = col.table
        );
        let c: i64 = with_pool!(db, pool => {
            sqlx::query_scalar(&select).bind(p.len() as i32).bind(&p).fetch_one(pool).await?
        });
        n += c as u64;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_seal_and_open_and_the_index_is_keyed() {
        let keys = Keyring::for_tests("a");
        let blob = keys.encrypt("13800138000");
        assert!(!blob.windows(11).any(|w| w == b"13800138000"));
        assert_eq!(key_id(&blob), Some("t1"));
        assert_eq!(keys.decrypt(&blob).unwrap(), "13800138000");
        // A fresh nonce each time; the same index each time, another under another key.
        assert_ne!(keys.encrypt("13800138000"), blob);
        let i = keys.index(IndexKind::Phone, "13800138000");
        assert_eq!(i, keys.index(IndexKind::Phone, "13800138000"));
        assert_ne!(i, keys.index(IndexKind::IdNumber, "13800138000"));
        assert_ne!(
            i,
            Keyring::for_tests("b").index(IndexKind::Phone, "13800138000")
        );
        assert!(Keyring::for_tests("b").decrypt(&blob).is_err());
    }

    #[test]
    fn a_key_file_is_created_rotated_and_read_again() {
        let dir = std::env::temp_dir().join(format!("shanzhi-pii-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys");
        let _ = std::fs::remove_file(&path);
        let keys = Keyring::from_file(&path).unwrap();
        let old = keys.encrypt("110105194912310021");
        assert_eq!(keys.active_id(), "k1");
        assert_eq!(add_key(&path).unwrap(), "k2");
        keys.refresh(true);
        assert_eq!(keys.active_id(), "k2");
        assert_eq!(keys.decrypt(&old).unwrap(), "110105194912310021");
        assert_eq!(key_id(&keys.encrypt("x")), Some("k2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_settings_are_refused() {
        let k = "00".repeat(32);
        assert!(Keyring::from_settings(&format!("a:{k}"), None, &k).is_ok());
        assert!(Keyring::from_settings(&format!("a:{}", "00".repeat(16)), None, &k).is_err());
        assert!(Keyring::from_settings(&format!("a:{k}"), Some("b"), &k).is_err());
        assert!(Keyring::from_settings("", None, &k).is_err());
        assert!(Keyring::from_settings(&format!("a:{k}"), None, "zz").is_err());
    }
}
