//! `shanzhi archive --before YYYY-MM FILE` (issue 18): months of events that are done with
//! leave the database for a file.
//!
//! On PostgreSQL the event and timeline tables hold one partition per month. Every month that
//! ends before the given one and holds no open order goes, with every row that refers to its
//! events, first into the schema `shanzhi_archive` (one transaction, see
//! `shanzhi_store::partition::archive_months`), then into FILE (a `pg_dump` archive of that
//! schema, checked before anything is dropped), then the schema's tables are dropped. A month
//! whose file could not be written waits in the schema and goes into the next run's file. The
//! counters stay: the figures of archived months read as before. FILE is read back with
//! `pg_restore` into a database of its own.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, ensure, Context};
use sha2::{Digest, Sha256};
use shanzhi_store::partition::{self, MonthArchive};
use shanzhi_store::{Db, Engine};

use crate::backup::{durable_rename, pg_tool, with_suffix};
use crate::config::Config;

/// `YYYY-MM` as the number yyyymm.
pub fn parse_month(s: &str) -> anyhow::Result<i64> {
    let bad = || anyhow::anyhow!("--before {s:?}: give a month as YYYY-MM, e.g. 2026-01");
    let (y, m) = s.split_once('-').ok_or_else(bad)?;
    ensure!(y.len() == 4 && m.len() == 2, bad());
    let (y, m): (i64, i64) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    ensure!((2000..=9999).contains(&y) && (1..=12).contains(&m), bad());
    Ok(y * 100 + m)
}

/// Archives the months before `before` (`YYYY-MM`) into the new file `to`. Answers what to
/// print.
pub async fn archive(config: &Config, before: &str, to: &Path) -> anyhow::Result<String> {
    let month = parse_month(before)?;
    let url = &config.database_url;
    if Engine::of_url(url)? == Engine::Sqlite {
        bail!(
            "months of events are archived on PostgreSQL only: a SQLite database keeps one event \
             table (copy it whole with `shanzhi backup FILE`)"
        );
    }
    ensure!(
        !to.exists(),
        "{} exists: an archive is written to a new file",
        to.display()
    );
    let db = Db::connect(url, 2).await?;
    let result = run(&db, url, month, to).await;
    db.close().await;
    result
}

async fn run(db: &Db, url: &str, month: i64, to: &Path) -> anyhow::Result<String> {
    ensure!(
        shanzhi_store::backup::is_shanzhi(db).await?,
        "{} is not a Shanzhi database",
        shanzhi_store::db::redact_url(url)
    );
    let before = partition::month_base(month);
    let writing = partition::writing_month_base(db).await?;
    ensure!(
        before <= writing,
        "--before {}-{:02} is after {}-{:02}, the month new reports are numbered in: only months \
         that are over can be archived",
        month / 100,
        month % 100,
        writing / 10_000_000_000,
        writing / 100_000_000 % 100
    );
    let now = chrono::Utc::now().timestamp_millis();
    let found = partition::archive_months(db, before, now).await?;
    let mut out = String::new();
    if found.is_empty() {
        out.push_str(&format!(
            "no month of events ends before {}-{:02}\n",
            month / 100,
            month % 100
        ));
    }
    for f in &found {
        out.push_str(&describe(f));
    }
    let (tables, months) = partition::waiting(db).await?;
    if tables.is_empty() {
        out.push_str("nothing to write: no file made\n");
        return Ok(out);
    }
    let part = with_suffix(to, ".part");
    let _ = std::fs::remove_file(&part);
    {
        // Readable by its owner only before anything is written into it (pg_dump keeps the
        // mode): it holds the months' reports as the database did.
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&part)
            .with_context(|| format!("cannot create {}", part.display()))?;
    }
    let written = write(url, &part, &tables);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&part);
        return Err(e.context(format!(
            "the months {} wait in the schema {} for the next run",
            months.join(", "),
            partition::ARCHIVE_SCHEMA
        )));
    }
    durable_rename(&part, to)?;
    let sha256 = file_sha256(to)?;
    let file = std::fs::canonicalize(to)
        .unwrap_or_else(|_| to.to_owned())
        .display()
        .to_string();
    partition::written(db, &tables, &months, &file, &sha256, now).await?;
    out.push_str(&format!(
        "wrote {} ({:.1} MB, sha256 {sha256}): months {}; read it back with \
         `createdb NAME && pg_restore --dbname NAME {}`\n",
        to.display(),
        std::fs::metadata(to)?.len() as f64 / 1e6,
        months.join(", "),
        to.display()
    ));
    Ok(out)
}

/// Dumps the archive schema into `part` and checks that every table's data is in it.
fn write(url: &str, part: &Path, tables: &[String]) -> anyhow::Result<()> {
    pg_tool("pg_dump", url, |c| {
        c.args([
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--schema",
            partition::ARCHIVE_SCHEMA,
            "--file",
        ])
        .arg(part);
    })?;
    let tool = crate::backup::find_pg_tool("pg_restore")?;
    let listed = std::process::Command::new(&tool)
        .arg("--list")
        .arg(part)
        .output()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    ensure!(
        listed.status.success(),
        "pg_restore --list cannot read {}: {}",
        part.display(),
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed = String::from_utf8_lossy(&listed.stdout);
    for t in tables {
        let entry = format!("TABLE DATA {} {t} ", partition::ARCHIVE_SCHEMA);
        ensure!(
            listed.contains(&entry),
            "the archive {} lacks the rows of {t}",
            part.display()
        );
    }
    Ok(())
}

fn file_sha256(path: &Path) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    Ok(hex::encode(hash.finalize()))
}

/// "1 event", "2 events".
fn count(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn describe(f: &MonthArchive) -> String {
    let what = format!(
        "{}: {}, {}",
        f.month,
        count(f.events, "event", "events"),
        count(f.lines, "timeline line", "timeline lines")
    );
    if f.archived {
        let referring: Vec<String> = f
            .referring
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        let referring = if referring.is_empty() {
            String::new()
        } else {
            format!(" (with {})", referring.join(", "))
        };
        format!("{what}: archived{referring}\n")
    } else {
        let mut why = Vec::new();
        if f.open > 0 {
            why.push(format!(
                "{} still open",
                count(f.open, "order is", "orders are")
            ));
        }
        if f.merged_from_kept > 0 {
            why.push(format!(
                "{} of a month that stays merged into its orders",
                count(f.merged_from_kept, "report", "reports")
            ));
        }
        format!("{what}: kept, {}\n", why.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_given_as_year_and_month() {
        for (s, want) in [
            ("2026-11", Some(202611)),
            ("2026-01", Some(202601)),
            ("2026-1", None),
            ("2026-13", None),
            ("2026-00", None),
            ("26-11", None),
            ("2026/11", None),
            ("", None),
            ("2026-1a", None),
        ] {
            assert_eq!(parse_month(s).ok(), want, "{s}");
        }
    }
}
