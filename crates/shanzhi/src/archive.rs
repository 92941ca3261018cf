//! `shanzhi archive --before YYYY-MM FILE` (issue 18): months of events that are done with
//! leave the database for a file.
//!
//! On PostgreSQL the event and timeline tables hold one partition per month. Every month that
//! ends before the given one and holds no open order goes, with every row that refers to its
//! events, first into the schema `shanzhi_archive` (one transaction, see
//! `shanzhi_store::partition::archive_months`), then into FILE (a `pg_dump` archive of that
//! schema, checked before anything is dropped), then the schema's tables are dropped. Months
//! whose file could not be written wait in the schema and go into the next run's file; a file
//! written but not recorded is recorded by the same command run again. One run at a time. The
//! counters stay: the figures of archived months read as before. FILE is read back with
//! `pg_restore` into a database of its own.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, ensure, Context};
use sha2::{Digest, Sha256};
use shanzhi_store::partition::{self, MonthArchive};
use shanzhi_store::{Db, Engine};

use crate::backup::{create_private, durable_rename, pg_tool};
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
    let db = Db::connect(url, 3).await?;
    let result = match checked(&db, url).await {
        Ok(()) => match partition::ArchiveLock::take(&db).await? {
            Some(lock) => {
                let r = run(&db, url, month, to).await;
                lock.release().await;
                r
            }
            None => Err(anyhow::anyhow!(
                "another `shanzhi archive` is running on this database; try again once it is done"
            )),
        },
        Err(e) => Err(e),
    };
    db.close().await;
    result
}

async fn checked(db: &Db, url: &str) -> anyhow::Result<()> {
    ensure!(
        shanzhi_store::backup::is_shanzhi(db).await?,
        "{} is not a Shanzhi database",
        shanzhi_store::db::redact_url(url)
    );
    ensure!(
        partition::archive_ready(db).await?,
        "the database is not up to date (the archive needs migration 0035): run `shanzhi migrate` \
         first"
    );
    Ok(())
}

async fn run(db: &Db, url: &str, month: i64, to: &Path) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp_millis();
    let (tables, months) = partition::waiting(db).await?;
    let mut out = String::new();
    if to.exists() {
        // A run that wrote its file but could not record it: finished by the same command.
        ensure!(
            !tables.is_empty() && write_checked(to, &tables).is_ok(),
            "{} exists: an archive is written to a new file",
            to.display()
        );
        out.push_str(&format!(
            "{} holds the months {} waiting since an earlier run: recording it\n",
            to.display(),
            months.join(", ")
        ));
        return finish(db, to, &tables, &months, now, out).await;
    }
    // Made first, so that a place that cannot be written to stops the run before anything
    // moves: it will hold the months' reports as the database did.
    let part = create_private(to)?;
    let moved = if tables.is_empty() {
        move_months(db, month, now, &mut out).await
    } else {
        // Months of an earlier run whose file was not written: this run writes them, and
        // moves no others.
        out.push_str(&format!(
            "the months {} wait in the schema {} since an earlier run could not write its file: \
             writing them now; run the command again for the months before {}-{:02}\n",
            months.join(", "),
            partition::ARCHIVE_SCHEMA,
            month / 100,
            month % 100
        ));
        Ok(())
    };
    let (tables, months) = match moved {
        Ok(()) => partition::waiting(db).await?,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    if tables.is_empty() {
        let _ = std::fs::remove_file(&part);
        out.push_str("nothing to write: no file made\n");
        return Ok(out);
    }
    if let Err(e) = write(url, &part, &tables) {
        let _ = std::fs::remove_file(&part);
        return Err(e.context(format!(
            "the months {} wait in the schema {} for the next run",
            months.join(", "),
            partition::ARCHIVE_SCHEMA
        )));
    }
    durable_rename(&part, to)?;
    finish(db, to, &tables, &months, now, out).await
}

/// Looks at the months before `month` and moves those that may go into the archive schema.
async fn move_months(db: &Db, month: i64, now: i64, out: &mut String) -> anyhow::Result<()> {
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
    let phones = partition::plain_phones(db).await?;
    ensure!(
        phones == 0,
        "{phones} phones are still kept in plain text, as a release before personal-data sealing \
         wrote them: start the server once (it seals them at its start), then archive"
    );
    let found = partition::archive_months(db, before, now).await?;
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
    Ok(())
}

/// Records the written file `to` and drops the tables it holds.
async fn finish(
    db: &Db,
    to: &Path,
    tables: &[String],
    months: &[String],
    now: i64,
    mut out: String,
) -> anyhow::Result<String> {
    let recorded = async {
        let sha256 = file_sha256(to)?;
        let file = std::fs::canonicalize(to)?.display().to_string();
        partition::written(db, tables, months, &file, &sha256, now).await?;
        Ok::<_, anyhow::Error>(sha256)
    };
    let sha256 = recorded.await.with_context(|| {
        format!(
            "{} holds the months {}, but the database could not record it and still keeps them: \
             run the same command again to finish",
            to.display(),
            months.join(", ")
        )
    })?;
    out.push_str(&format!(
        "wrote {} ({:.1} MB, sha256 {sha256}): months {}; read it back with \
         `createdb NAME && pg_restore --no-owner --dbname NAME {}`\n",
        to.display(),
        std::fs::metadata(to)?.len() as f64 / 1e6,
        months.join(", "),
        to.display()
    ));
    Ok(out)
}

/// Dumps the archive schema into `part` and checks it.
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
    write_checked(part, tables)
}

/// Checks that `file` is a whole pg_dump archive (every block read back) holding the data of
/// every one of `tables`.
fn write_checked(file: &Path, tables: &[String]) -> anyhow::Result<()> {
    let tool = crate::backup::find_pg_tool("pg_restore")?;
    let listed = std::process::Command::new(&tool)
        .arg("--list")
        .arg(file)
        .output()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    ensure!(
        listed.status.success(),
        "pg_restore --list cannot read {}: {}",
        file.display(),
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed = String::from_utf8_lossy(&listed.stdout);
    for t in tables {
        let entry = format!("TABLE DATA {} {t} ", partition::ARCHIVE_SCHEMA);
        ensure!(
            listed.contains(&entry),
            "the archive {} lacks the rows of {t}",
            file.display()
        );
    }
    let read = std::process::Command::new(&tool)
        .args(["--file", "/dev/null"])
        .arg(file)
        .output()
        .with_context(|| format!("cannot run {}", tool.display()))?;
    ensure!(
        read.status.success(),
        "pg_restore cannot read all of {}: {}",
        file.display(),
        String::from_utf8_lossy(&read.stderr)
    );
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
