//! Importing residents from a spreadsheet (.xlsx or CSV): each row checked (name, ID number by
//! its check digit, region and birth date, phone, grid known and inside the importer's scope,
//! ID numbers new to the file and to the register, tags in the catalogue…), a report naming
//! every bad row and column, and the good rows written by the bulk writer — all or nothing, or
//! the valid rows only. One audit row records the import (who, the file's name, the counts).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use shanzhi_domain::event::caller::Phone;
use shanzhi_domain::resident::IdNumber;
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::audit::AuditEntry;
use shanzhi_store::pii::{IndexKind, Keyring};
use shanzhi_store::resident::bulk::{self, Load, NewResident, SealedResident, Written};
use shanzhi_store::Db;

use super::column::{gender_word, relation_word, residence_word, tag_words, Column};
use crate::tree::sheet::Format;
use crate::workbook::Cell;

pub use crate::import::{china_today, Mode, Request, RowError, MAX_LISTED, MAX_ROWS};
use crate::import::{file_error, reason_of, Nodes, RowReport};

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: Mode,
    /// Data rows read (the header and blank rows not counted).
    pub rows: usize,
    pub residents: usize,
    pub households: usize,
    pub buildings: usize,
    pub houses: usize,
    pub tags: usize,
    /// Rows not written because they are bad.
    pub refused: usize,
    /// The bad rows' errors, at most [`MAX_LISTED`], in row order.
    pub errors: Vec<RowError>,
    pub errors_total: usize,
    /// Header cells of columns the import does not read.
    pub ignored_columns: Vec<String>,
}

impl RowReport for Report {
    fn refused(&self) -> usize {
        self.refused
    }
    fn errors(&self) -> &[RowError] {
        &self.errors
    }
}

/// Why an import of residents wrote nothing.
pub type Refusal = crate::import::Refusal<Report>;

/// What reading rows needs to know.
struct Reader {
    keys: Keyring,
    today: (u16, u8, u8),
    default_node: Option<NodeCode>,
    /// Tag code, Chinese or English name → code.
    tags: HashMap<String, String>,
    columns: Vec<(usize, Column, String)>,
    /// ID numbers' blind indexes seen so far → the row that had it first.
    seen: HashMap<Vec<u8>, usize>,
}

/// A row read and sealed, with its ID number's blind index.
struct Draft {
    row: usize,
    resident: SealedResident,
    id_index: Option<Vec<u8>>,
}

/// The header a file has for column `c` (the template's word when it has none).
fn header_of(columns: &[(usize, Column, String)], c: Column) -> String {
    columns
        .iter()
        .find(|(_, k, _)| *k == c)
        .map_or_else(|| c.header().to_owned(), |(_, _, h)| h.clone())
}

impl Reader {
    /// One data row: the resident, or what is wrong with it.
    fn read(&mut self, row: usize, cells: &[Cell]) -> Result<Draft, Vec<RowError>> {
        let mut errors = Vec::new();
        let mut text: HashMap<Column, String> = HashMap::new();
        let mut code: HashMap<Column, String> = HashMap::new();
        for (i, c, h) in &self.columns {
            let Some(cell) = cells.get(*i) else { continue };
            if matches!(c, Column::IdNumber | Column::Phone | Column::Node) {
                match cell.code() {
                    Ok(Some(v)) => {
                        code.insert(*c, v);
                    }
                    Ok(None) => {}
                    Err(reason) => errors.push(RowError {
                        row,
                        column: h.clone(),
                        reason,
                    }),
                }
            } else if let Some(t) = cell.text() {
                text.insert(*c, t);
            }
        }
        let columns = &self.columns;
        let mut bad = |c: Column, reason: String| {
            errors.push(RowError {
                row,
                column: header_of(columns, c),
                reason,
            })
        };
        let name = text.remove(&Column::Name).unwrap_or_default();
        if name.is_empty() {
            bad(Column::Name, "the name is missing".into());
        } else if name.chars().count() > 50 {
            bad(Column::Name, "a name has at most 50 characters".into());
        }
        let id = code.get(&Column::IdNumber).map(|raw| {
            IdNumber::parse(raw, self.today).map_err(|e| bad(Column::IdNumber, reason_of(e)))
        });
        let id = match id {
            Some(Ok(id)) => Some(id),
            _ => None,
        };
        let gender_cell = text.remove(&Column::Gender);
        let gender = match (&id, gender_cell.as_deref().map(|g| (g, gender_word(g)))) {
            (_, Some((g, None))) => {
                bad(Column::Gender, format!("{g} is not 男 or 女"));
                None
            }
            (Some(id), Some((_, Some(g)))) if g != id.sex().as_str() => {
                bad(
                    Column::Gender,
                    "the gender does not match the ID number's".into(),
                );
                None
            }
            (Some(id), _) => Some(id.sex().as_str()),
            (None, Some((_, Some(g)))) => Some(g),
            (None, None) => {
                if !code.contains_key(&Column::IdNumber) {
                    bad(
                        Column::Gender,
                        "the gender is needed when there is no ID number".into(),
                    );
                }
                None
            }
        };
        let phone = code.get(&Column::Phone).and_then(|p| {
            Phone::parse(p)
                .map_err(|e| bad(Column::Phone, reason_of(e)))
                .ok()
        });
        let residence = match text.remove(&Column::Residence) {
            None => Some("registered"),
            Some(r) => residence_word(&r).or_else(|| {
                bad(Column::Residence, format!("{r} is not 户籍, 流动 or 境外"));
                None
            }),
        };
        let relation = text.remove(&Column::Relation).and_then(|r| {
            relation_word(&r).or_else(|| {
                bad(
                    Column::Relation,
                    format!("{r} is not a relation to the head (户主, 配偶, 子女, 父母, 孙子女, 兄弟姐妹, 其他)"),
                );
                None
            })
        });
        let node = match code.get(&Column::Node) {
            Some(c) => NodeCode::parse(c)
                .map_err(|e| {
                    bad(
                        Column::Node,
                        format!("{c} is not a grid code: {}", reason_of(e)),
                    )
                })
                .ok(),
            None => match &self.default_node {
                Some(n) => Some(n.clone()),
                None => {
                    bad(
                        Column::Node,
                        "the grid is missing (or name one for the whole import)".into(),
                    );
                    None
                }
            },
        };
        let mut tags = Vec::new();
        if let Some(cell) = text.remove(&Column::Tags) {
            for word in tag_words(&cell) {
                match self
                    .tags
                    .get(word)
                    .or_else(|| self.tags.get(&word.to_lowercase()))
                {
                    Some(code) if !tags.contains(code) => tags.push(code.clone()),
                    Some(_) => {}
                    None => bad(
                        Column::Tags,
                        format!("{word} is not a tag of the catalogue"),
                    ),
                }
            }
        }
        let id_index = id
            .as_ref()
            .map(|n| self.keys.index(IndexKind::IdNumber, n.expose()));
        if let Some(ix) = &id_index {
            if let Some(first) = self.seen.get(ix) {
                bad(
                    Column::IdNumber,
                    format!("the same ID number is on row {first}"),
                );
            } else {
                self.seen.insert(ix.clone(), row);
            }
        }
        let (room, building) = (text.remove(&Column::Room), text.remove(&Column::Building));
        if room.is_some() && building.is_none() {
            bad(Column::Building, "a room needs its building".into());
        }
        for (c, max) in [
            (Column::Ethnicity, 20),
            (Column::Workplace, 100),
            (Column::Household, 40),
            (Column::Building, 50),
            (Column::Room, 50),
        ] {
            let long = match c {
                Column::Building => building.as_deref(),
                Column::Room => room.as_deref(),
                _ => text.get(&c).map(String::as_str),
            }
            .is_some_and(|v| v.chars().count() > max);
            if long {
                bad(c, format!("at most {max} characters"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(gender), Some(residence), Some(node_code)) = (gender, residence, node) else {
            return Err(errors);
        };
        Ok(Draft {
            row,
            id_index,
            resident: SealedResident::seal(
                &self.keys,
                NewResident {
                    node_code,
                    birth_year: id.as_ref().map(|n| i64::from(n.born().year)),
                    name,
                    gender: gender.to_owned(),
                    id_number: id,
                    phone,
                    ethnicity: text.remove(&Column::Ethnicity),
                    residence: residence.to_owned(),
                    workplace: text.remove(&Column::Workplace),
                    household: text
                        .remove(&Column::Household)
                        .or_else(|| code.remove(&Column::Household)),
                    relation: relation.map(str::to_owned),
                    building,
                    room,
                    house_use: None,
                    building_at: None,
                    tags,
                    user_id: None,
                },
            ),
        })
    }
}

/// Rows the reader hands on at a time.
const BATCH: usize = 4096;

/// What the reader thread found besides the rows.
struct Read {
    rows: usize,
    header_seen: bool,
    columns: Vec<(usize, Column, String)>,
    ignored: Vec<String>,
    errors: Vec<RowError>,
}

/// Reads the file on a thread of its own: each row checked and its personal data sealed, handed
/// on in batches; the first bad row raises `bad` (an all-or-nothing import stops writing).
fn read_file(
    mut reader: Reader,
    bytes: axum::body::Bytes,
    format: Format,
    out: tokio::sync::mpsc::Sender<Vec<Draft>>,
    bad: Arc<AtomicBool>,
    progress: impl Fn(u64),
) -> Result<Read, Refusal> {
    let mut read = Read {
        rows: 0,
        header_seen: false,
        columns: Vec::new(),
        ignored: Vec::new(),
        errors: Vec::new(),
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut on_row = |row: usize, cells: Vec<Cell>| -> Result<(), Refusal> {
        if cells.iter().all(Cell::is_empty) {
            return Ok(());
        }
        if !read.header_seen {
            read.header_seen = true;
            for (i, cell) in cells.iter().enumerate() {
                let Some(h) = cell.text() else { continue };
                match Column::of_header(&h) {
                    Some(c) if reader.columns.iter().any(|(_, k, _)| *k == c) => {
                        return Err(file_error(
                            "header",
                            format!("row {row}: two columns are {}", c.header()),
                        ))
                    }
                    Some(c) => reader.columns.push((i, c, h)),
                    None => read.ignored.push(h),
                }
            }
            if !reader.columns.iter().any(|(_, c, _)| *c == Column::Name) {
                return Err(file_error(
                    "header",
                    format!(
                        "the first row (row {row}) must name the columns: 姓名 (name) is needed, \
                         and 公民身份号码, 性别, 所属网格代码… may follow"
                    ),
                ));
            }
            return Ok(());
        }
        read.rows += 1;
        if read.rows.is_multiple_of(BATCH) {
            progress(BATCH as u64);
        }
        match reader.read(row, &cells) {
            Ok(d) => {
                batch.push(d);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    // The receiver is gone only when the import failed already.
                    let _ = out.blocking_send(full);
                }
            }
            Err(e) => {
                bad.store(true, Ordering::Relaxed);
                read.errors.extend(e);
            }
        }
        Ok(())
    };
    match format {
        Format::Xlsx => crate::workbook::read_rows(&bytes, MAX_ROWS, &mut on_row)?,
        Format::Csv => crate::workbook::read_csv_rows(&bytes, MAX_ROWS, &mut on_row)?,
        Format::Geojson => return Err(file_error("format", "must be xlsx or csv")),
    }
    if !batch.is_empty() {
        let _ = out.blocking_send(batch);
    }
    progress((read.rows % BATCH) as u64);
    read.columns = reader.columns;
    Ok(read)
}

/// What the checks against the database found wrong with a row (its column named at the end,
/// when the header is known).
struct Late {
    row: usize,
    column: Column,
    reason: String,
}

/// Reads, checks and (by the mode) writes an import; `progress` is told of each row read.
///
/// Three stages run at once: a thread reads the file, checks each row and seals its personal
/// data; this task checks each batch against the database (grids known and in the importer's
/// scope, ID numbers new to the register) and hands the good rows to the writer, which inserts
/// them in one transaction as they come. The transaction is committed at the end unless the
/// import is all or nothing and a row was bad; then nothing is written.
pub async fn import(
    db: &Db,
    keys: &Keyring,
    req: Request<'_>,
    progress: impl Fn(u64) + Send + 'static,
) -> Result<Report, Refusal> {
    let started = std::time::Instant::now();
    let mut tags = HashMap::new();
    for t in bulk::catalogue(db).await? {
        tags.insert(t.name_zh.clone(), t.code.clone());
        tags.insert(t.name_en.to_lowercase(), t.code.clone());
        tags.insert(t.code.clone(), t.code);
    }
    let reader = Reader {
        keys: keys.clone(),
        today: china_today(req.now_ms),
        default_node: req.node.clone(),
        tags,
        columns: Vec::new(),
        seen: HashMap::new(),
    };
    let bad = Arc::new(AtomicBool::new(false));
    let (drafts_tx, mut drafts) = tokio::sync::mpsc::channel::<Vec<Draft>>(4);
    let reading = {
        let (bytes, format, bad) = (req.bytes.clone(), req.format, bad.clone());
        tokio::task::spawn_blocking(move || {
            read_file(reader, bytes, format, drafts_tx, bad, progress)
        })
    };
    let (load_tx, load_rx) = tokio::sync::mpsc::channel::<Load>(2);
    let all_or_nothing = req.mode == Mode::AllOrNothing;
    let check = async {
        let mut load_tx = Some(load_tx);
        let mut late: Vec<Late> = Vec::new();
        let mut nodes = Nodes::default();
        let mut written_rows = 0usize;
        while let Some(batch) = drafts.recv().await {
            // The grids of the batch not seen before: known, and inside the importer's scope.
            nodes
                .check(db, req.actor, batch.iter().map(|d| &d.resident.r.node_code))
                .await?;
            let indexes: Vec<Vec<u8>> = batch.iter().filter_map(|d| d.id_index.clone()).collect();
            let stored = bulk::stored_ids(db, &indexes).await?;
            let mut good = Vec::with_capacity(batch.len());
            for d in batch {
                if let Some(reason) = nodes.refusal(&d.resident.r.node_code) {
                    late.push(Late {
                        row: d.row,
                        column: Column::Node,
                        reason: reason.to_owned(),
                    });
                } else if d.id_index.as_ref().is_some_and(|i| stored.contains(i)) {
                    late.push(Late {
                        row: d.row,
                        column: Column::IdNumber,
                        reason: "the ID number is in the register already".to_owned(),
                    });
                } else {
                    good.push(d.resident);
                }
            }
            if !late.is_empty() {
                bad.store(true, Ordering::Relaxed);
            }
            if all_or_nothing && bad.load(Ordering::Relaxed) {
                // Nothing will be kept: the writer rolls back, the rows are only checked.
                load_tx = None;
            }
            if let Some(tx) = &load_tx {
                written_rows += good.len();
                if !good.is_empty() && tx.send(Load::Rows(good)).await.is_err() {
                    // The writer failed: its error is the answer.
                    load_tx = None;
                }
            }
        }
        Ok::<_, Refusal>((late, load_tx, written_rows))
    };
    let (checked, written) = tokio::join!(
        async {
            let checked = check.await;
            // The reader is done (its channel closed): decide, then let the writer finish.
            let read = match reading.await {
                Ok(r) => r,
                Err(e) => Err(Refusal::Store(shanzhi_store::StoreError::Other(
                    anyhow::anyhow!("the import's reader stopped: {e}"),
                ))),
            };
            let outcome = match (checked, read) {
                (Ok((late, load_tx, written_rows)), Ok(read)) => {
                    let report = report_of(req.mode, read, late);
                    match load_tx {
                        Some(tx)
                            if written_rows > 0
                                && !(all_or_nothing && report.report.refused > 0) =>
                        {
                            let audit = AuditEntry::new(
                                req.actor.map(|a| a.user_id),
                                "resident.import",
                                "resident",
                                "*",
                            )
                            .after(json!({
                                "file": req.file_name,
                                "mode": req.mode,
                                "rows": report.report.rows,
                                "written": written_rows,
                                "refused": report.report.refused,
                            }));
                            let _ = tx.send(Load::Commit(audit)).await;
                            Ok(report)
                        }
                        _ => Ok(report),
                    }
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            outcome
        },
        bulk::write_stream(db, load_rx, req.now_ms)
    );
    tracing::debug!(ms = started.elapsed().as_millis() as u64, "import: done");
    let mut report = checked?;
    if !report.header_seen {
        return Err(file_error("header", "the spreadsheet is empty"));
    }
    let written: Option<Written> = written?;
    if report.report.refused > 0 && req.mode == Mode::AllOrNothing {
        return Err(Refusal::Rows(report.report));
    }
    let written = written.unwrap_or_default();
    report.report.residents = written.residents;
    report.report.households = written.households;
    report.report.buildings = written.buildings;
    report.report.houses = written.houses;
    report.report.tags = written.tags;
    Ok(report.report)
}

/// The report of what was read and refused (the counts written are filled in after).
struct Reported {
    report: Report,
    header_seen: bool,
}

fn report_of(mode: Mode, read: Read, late: Vec<Late>) -> Reported {
    let mut errors = read.errors;
    errors.extend(late.into_iter().map(|l| RowError {
        row: l.row,
        column: header_of(&read.columns, l.column),
        reason: l.reason,
    }));
    let (errors, errors_total, refused) = crate::import::listed(errors);
    Reported {
        header_seen: read.header_seen,
        report: Report {
            mode,
            rows: read.rows,
            residents: 0,
            households: 0,
            buildings: 0,
            houses: 0,
            tags: 0,
            refused,
            errors_total,
            errors,
            ignored_columns: read.ignored,
        },
    }
}
