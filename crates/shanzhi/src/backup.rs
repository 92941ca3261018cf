//! `shanzhi backup FILE` and `shanzhi restore FILE` (issue 18).
//!
//! A backup is one consistent copy taken while the server runs: on SQLite a SQLite file made by
//! `VACUUM INTO`, on PostgreSQL a `pg_dump` archive (custom format). Photos live in the database,
//! so the copy is whole — except the personal-data keys, which are kept apart from it on
//! purpose: a copy that leaks without its keys leaks no ID number or phone. `--with-keys` writes
//! the key file too, to a place of the operator's choosing.
//!
//! A restore goes only into a new, empty database, checks the copy before anyone can use it
//! (SQLite's integrity check, the migrations brought up to date, the audit chain verified, the
//! keys opening the sealed data) and says what it holds. On SQLite it is built beside the target
//! and renamed into place only once every check passed; on PostgreSQL `pg_restore` writes it in
//! one transaction.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context};
use shanzhi_store::backup::{self, Holdings};
use shanzhi_store::pii::Keyring;
use shanzhi_store::{Db, Engine};

use crate::config::Config;

/// Copies the configured database into `to` (which must not exist) and, with `keys_to`, the
/// personal-data key file beside it. Answers what to print.
pub async fn backup(config: &Config, to: &Path, keys_to: Option<&Path>) -> anyhow::Result<String> {
    ensure!(
        !to.exists(),
        "{} exists: a backup is written to a new file",
        to.display()
    );
    if let Some(k) = keys_to {
        ensure!(
            !k.exists(),
            "{} exists: the key file is written to a new file",
            k.display()
        );
        ensure!(
            config.pii_keys.is_none(),
            "the personal-data keys come from SHANZHI_PII_KEYS, not a key file: keep those settings \
             with your secrets; --with-keys copies a key file only"
        );
    }
    // The copy holds everything the database does. (`VACUUM INTO` accepts an empty file;
    // pg_dump truncates it; both keep its mode.)
    let part = create_private(to)?;
    let started = std::time::Instant::now();
    let url = &config.database_url;
    let made = match Engine::of_url(url)? {
        Engine::Sqlite => {
            let Some(file) = backup::sqlite_file(url)? else {
                bail!("an in-memory database has nothing to back up");
            };
            ensure!(file.exists(), "no database at {}", file.display());
            backup::sqlite_copy(&file, &part).await?;
            backup::sqlite_check(&part, false).await
        }
        Engine::Postgres => {
            let db = Db::connect(url, 2).await?;
            ensure!(
                backup::is_shanzhi(&db).await?,
                "{} is not a Shanzhi database",
                shanzhi_store::db::redact_url(url)
            );
            let held = backup::holdings(&db).await?;
            db.close().await;
            pg_tool("pg_dump", url, |c| {
                c.args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                    .arg(&part);
            })?;
            Ok(held)
        }
    };
    let held = match made {
        Ok(h) => h,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    durable_rename(&part, to)?;
    let bytes = std::fs::metadata(to)?.len();
    let mut out = format!(
        "backed up {} to {} ({:.1} MB in {:.1} s): {}\n",
        shanzhi_store::db::redact_url(url),
        to.display(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        describe(&held)
    );
    match (keys_to, &config.pii_keys) {
        (Some(k), _) => {
            let from = config.pii_key_path();
            ensure!(from.exists(), "no personal-data key file at {}", from.display());
            copy_secret(&from, k)?;
            out.push_str(&format!(
                "personal-data keys written to {} (keep them apart from the backup)\n",
                k.display()
            ));
        }
        (None, Some(_)) => out.push_str(
            "the personal-data keys are not in the backup: they are the SHANZHI_PII_KEYS and \
             SHANZHI_PII_INDEX_KEY settings; without them its ID numbers and phones cannot be read\n",
        ),
        (None, None) => out.push_str(&format!(
            "the personal-data keys are not in the backup: keep a copy of {} apart from it \
             (or run with --with-keys FILE); without them its ID numbers and phones cannot be read\n",
            config.pii_key_path().display()
        )),
    }
    Ok(out)
}

/// Restores the backup `from` into the configured database, which must be new and empty;
/// `keys_from` is the backup's key file, copied into place once the restore has passed its
/// checks. Answers what to print.
pub async fn restore(
    config: &Config,
    from: &Path,
    keys_from: Option<&Path>,
) -> anyhow::Result<String> {
    let kind = kind_of(from)?;
    let url = &config.database_url;
    let engine = Engine::of_url(url)?;
    match (kind, engine) {
        (Kind::Sqlite, Engine::Postgres) => bail!(
            "{} is a SQLite backup: restore it into a sqlite:// database",
            from.display()
        ),
        (Kind::PgDump, Engine::Sqlite) => bail!(
            "{} is a PostgreSQL backup (pg_dump): restore it into a postgres:// database",
            from.display()
        ),
        _ => {}
    }
    let (keys, keys_to) = restore_keys(config, keys_from)?;
    let started = std::time::Instant::now();
    let (held, migrated) = match engine {
        Engine::Sqlite => {
            let Some(target) = backup::sqlite_file(url)? else {
                bail!("a restore goes into a database file, not an in-memory database");
            };
            ensure!(
                std::fs::metadata(&target)
                    .map(|m| m.len() == 0)
                    .unwrap_or(true)
                    && !with_suffix(&target, "-wal").exists(),
                "{} exists: a restore goes into a new database; move the old one away first",
                target.display()
            );
            let building = with_suffix(&target, ".restoring");
            remove_sqlite(&building);
            let result = async {
                std::fs::copy(from, &building)
                    .with_context(|| format!("copying {}", from.display()))?;
                backup::sqlite_check(&building, true).await?;
                let done = check(&format!("sqlite://{}", building.display()), &keys).await?;
                backup::settle_wal(&building).await?;
                Ok(done)
            }
            .await;
            match result {
                Ok(done) => {
                    // Looked at again: something may have opened the target meanwhile.
                    let still_free = std::fs::metadata(&target)
                        .map(|m| m.len() == 0)
                        .unwrap_or(true)
                        && !with_suffix(&target, "-wal").exists();
                    // A write-ahead log left with frames in it would hold part of the copy.
                    let wal_held = std::fs::metadata(with_suffix(&building, "-wal"))
                        .map(|m| m.len() > 0)
                        .unwrap_or(false);
                    if wal_held || !still_free {
                        remove_sqlite(&building);
                        bail!(
                            "{} changed during the restore (or the copy kept a write-ahead log); \
                             nothing was put in place",
                            target.display()
                        );
                    }
                    remove_sqlite(&target);
                    durable_rename(&building, &target)?;
                    // An emptied log and its index, if a connection kept them.
                    remove_sqlite(&building);
                    done
                }
                Err(e) => {
                    remove_sqlite(&building);
                    return Err(e);
                }
            }
        }
        Engine::Postgres => {
            let db = Db::connect(url, 2).await?;
            let empty = backup::is_empty(&db).await?;
            db.close().await;
            ensure!(
                empty,
                "{} is not empty: a restore goes into a new, empty database (createdb NAME)",
                shanzhi_store::db::redact_url(url)
            );
            pg_tool("pg_restore", url, |c| {
                c.args([
                    "--exit-on-error",
                    "--single-transaction",
                    "--no-owner",
                    "--no-privileges",
                ])
                .arg(from);
            })?;
            check(url, &keys).await.with_context(|| {
                "the copy was restored but did not pass its checks: drop that database before trying again"
            })?
        }
    };
    if let Some((src, dst)) = keys_to {
        copy_secret(&src, &dst)?;
    }
    let mut out = format!(
        "restored {} into {} in {:.1} s: {}; audit chain intact; the personal-data keys open its data\n",
        from.display(),
        shanzhi_store::db::redact_url(url),
        started.elapsed().as_secs_f64(),
        describe(&held)
    );
    if !migrated.is_empty() {
        out.push_str(&format!("migrated: {}\n", migrated.join(", ")));
    }
    Ok(out)
}

/// The keys a restore checks the copy with, and the key file to put in place afterwards.
fn restore_keys(
    config: &Config,
    keys_from: Option<&Path>,
) -> anyhow::Result<(Keyring, Option<(PathBuf, PathBuf)>)> {
    if config.pii_keys.is_some() {
        ensure!(
            keys_from.is_none(),
            "the personal-data keys come from SHANZHI_PII_KEYS: --keys is for a key file"
        );
        return Ok((config.keyring()?, None));
    }
    let path = config.pii_key_path();
    match keys_from {
        Some(src) => {
            ensure!(src.exists(), "no key file at {}", src.display());
            if path.exists() {
                ensure!(
                    std::fs::read(&path)? == std::fs::read(src)?,
                    "a different key file is already at {}: move it away, or restore without --keys",
                    path.display()
                );
            }
            let keys = Keyring::from_file(src)
                .with_context(|| format!("the personal-data key file {}", src.display()))?;
            let place = (!path.exists()).then(|| (src.to_path_buf(), path));
            Ok((keys, place))
        }
        None => {
            // A fresh key here would make every ID number and phone of the copy unreadable.
            ensure!(
                path.exists(),
                "no personal-data key file at {}: give the backup's key file with --keys FILE",
                path.display()
            );
            Ok((config.keyring()?, None))
        }
    }
}

/// Migrates the restored database, checks its keys and its audit chain, and tells what it
/// holds and which migrations it took.
async fn check(url: &str, keys: &Keyring) -> anyhow::Result<(Holdings, Vec<String>)> {
    let db = Db::connect(url, 2).await?;
    let result = async {
        let migrated = db.migrate().await?;
        shanzhi_store::pii::check_keys(&db, keys).await?;
        match shanzhi_store::audit::verify(&db).await? {
            Ok(_) => {}
            Err(b) => bail!("the audit chain is broken at row {}: {}", b.seq, b.reason),
        }
        Ok((backup::holdings(&db).await?, migrated))
    }
    .await;
    db.close().await;
    result
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    PgDump,
}

/// What kind of backup `file` is, by its first bytes.
fn kind_of(file: &Path) -> anyhow::Result<Kind> {
    let mut head = [0u8; 16];
    let n = std::fs::File::open(file)
        .with_context(|| format!("cannot open {}", file.display()))?
        .read(&mut head)?;
    if head[..n].starts_with(b"SQLite format 3\0") {
        Ok(Kind::Sqlite)
    } else if head[..n].starts_with(b"PGDMP") {
        Ok(Kind::PgDump)
    } else {
        bail!(
            "{} is not a Shanzhi backup (neither a SQLite file nor a pg_dump archive)",
            file.display()
        )
    }
}

fn describe(h: &Holdings) -> String {
    format!(
        "schema version {}, {} events, {} audit rows",
        h.schema_version, h.events, h.audit_rows
    )
}

/// Runs a PostgreSQL client tool on the database at `url`; the password goes in the
/// environment (`PGPASSWORD`), not on the command line where `ps` shows it. Answers what it
/// printed.
pub(crate) fn pg_tool(
    name: &str,
    url: &str,
    args: impl FnOnce(&mut Command),
) -> anyhow::Result<String> {
    let tool = find_pg_tool(name)?;
    let (target, password) = split_password(url);
    let mut cmd = Command::new(&tool);
    cmd.arg("--dbname").arg(&target);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    args(&mut cmd);
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{name} failed ({}): {}", out.status, tail.join("\n"));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `name` on the PATH, else the newest one Debian's packages installed.
pub fn find_pg_tool(name: &str) -> anyhow::Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if let Some(p) = on_path.into_iter().find(|p| p.is_file()) {
        return Ok(p);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let p = e.path().join("bin").join(name);
            p.is_file().then_some((v, p))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p).with_context(|| {
        format!("{name} not found: install PostgreSQL's client tools (Debian: postgresql-client)")
    })
}

/// The URL without its password, and the password (percent-decoded).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let Some((creds, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    let Some((user, password)) = creds.split_once(':') else {
        return (url.to_owned(), None);
    };
    (
        format!("{scheme}://{user}@{host}{tail}"),
        Some(percent_decode(password)),
    )
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `to` + `.part`, made new, empty and readable by its owner only before anything is written
/// into it; answers its path.
pub(crate) fn create_private(to: &Path) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let part = with_suffix(to, ".part");
    let _ = std::fs::remove_file(&part);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&part)
        .with_context(|| format!("cannot create {}", part.display()))?;
    Ok(part)
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
}

/// Renames `from` to `to` once `from` is on disk, then makes the rename itself durable.
pub(crate) fn durable_rename(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::File::open(from)?.sync_all()?;
    std::fs::rename(from, to)
        .with_context(|| format!("renaming {} to {}", from.display(), to.display()))?;
    let dir = match to.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Copies a key file, readable by its owner only.
fn copy_secret(from: &Path, to: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .with_context(|| format!("writing {}", to.display()))?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_and_is_decoded() {
        for (url, rest, pass) in [
            (
                "postgres://shanzhi:s%40cret@db.example:5432/prod?sslmode=require",
                "postgres://shanzhi@db.example:5432/prod?sslmode=require",
                Some("s@cret"),
            ),
            (
                "postgres://postgres@127.0.0.1:55432/x",
                "postgres://postgres@127.0.0.1:55432/x",
                None,
            ),
            ("postgres://h/db", "postgres://h/db", None),
            ("postgresql://u:p:q@h/d", "postgresql://u@h/d", Some("p:q")),
        ] {
            let (r, p) = split_password(url);
            assert_eq!(r, rest, "{url}");
            assert_eq!(p.as_deref(), pass, "{url}");
        }
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%E5%96%84"), "善");
    }

    #[test]
    fn a_file_that_is_no_backup_is_refused_by_its_first_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, b"id,name\n1,2\n").unwrap();
        assert!(kind_of(&p)
            .unwrap_err()
            .to_string()
            .contains("not a Shanzhi backup"));
        std::fs::write(&p, b"PGDMP\x01\x0e").unwrap();
        assert_eq!(kind_of(&p).unwrap(), Kind::PgDump);
        std::fs::write(&p, b"").unwrap();
        assert!(kind_of(&p).is_err());
    }
}
