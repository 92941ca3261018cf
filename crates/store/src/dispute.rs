//! Dispute cases (矛盾纠纷): the type tree, cases with their sealed parties, sessions, panels
//! invited, and the timeline. Every change of a case is one transaction: the row (optimistic on
//! `version`), its timeline line, its counters (the tally moves by new − old measures, see
//! [`shanzhi_domain::dispute::measures`]), notifications and the audit row.

use serde_json::{json, Value};
use shanzhi_domain::dispute::{measures, Facts};
use shanzhi_domain::tree::{subtree_end, NodeCode};

use crate::audit::AuditEntry;
use crate::db::Insert;
use crate::event::{Bind, LogEntry};
use crate::notification::NewNotification;
use crate::pii::{IndexKind, Keyring, Sealed};
use crate::tally::Tally;
use crate::{Db, StoreError};

/// A dispute type of the tree.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DisputeType {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub parent: Option<String>,
}

impl DisputeType {
    /// For the API.
    pub fn to_json(&self) -> Value {
        json!({"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en, "parent": self.parent})
    }
}

/// The whole type tree, by code.
pub async fn types(db: &Db) -> Result<Vec<DisputeType>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT code, name_zh, name_en, parent FROM dispute_type ORDER BY code",
    ).fetch_all(pool).await?))
}

/// Adds a type (`Conflict` if the code exists).
pub async fn add_type(db: &Db, t: &DisputeType, actor: i64, now: i64) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        sqlx::query("INSERT INTO dispute_type (code, name_zh, name_en, parent, builtin, created_at) VALUES ($1, $2, $3, $4, FALSE, $5)")
            .bind(&t.code).bind(&t.name_zh).bind(&t.name_en).bind(&t.parent).bind(now)
            .execute(&mut *tx).await?;
        let entry = AuditEntry::new(Some(actor), "dispute_type.create", "dispute_type", t.code.clone()).after(t.to_json());
        append_audit!(tx, &entry, now);
    });
    Ok(())
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DisputeRow {
    pub id: i64,
    pub number: String,
    pub node_code: String,
    pub level: String,
    pub type_code: String,
    pub source: String,
    pub summary: String,
    pub amount_cents: Option<i64>,
    pub people_involved: Option<i64>,
    pub violence: bool,
    pub many_parties: bool,
    pub repeat_case: bool,
    pub state: String,
    pub mediator_id: Option<i64>,
    pub applicant_user_id: Option<i64>,
    pub intake_user_id: Option<i64>,
    pub event_id: Option<i64>,
    pub accepted_at: Option<i64>,
    pub started_at: Option<i64>,
    pub due_at: Option<i64>,
    pub light: String,
    pub supervision: String,
    pub next_check_at: Option<i64>,
    pub extension: String,
    pub outcome: Option<String>,
    pub outcome_text: Option<String>,
    pub referral: Option<String>,
    pub outcome_at: Option<i64>,
    pub on_time: Option<bool>,
    pub honoured: Option<bool>,
    pub follow_up_note: Option<String>,
    pub reopened: bool,
    pub judicial: Option<String>,
    pub closed_at: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, number, node_code, level, type_code, source, summary, amount_cents, people_involved, \
    violence, many_parties, repeat_case, state, mediator_id, applicant_user_id, intake_user_id, event_id, accepted_at, \
    started_at, due_at, light, supervision, next_check_at, extension, outcome, outcome_text, referral, outcome_at, \
    on_time, honoured, follow_up_note, reopened, judicial, closed_at, version, created_at, updated_at";

impl DisputeRow {
    fn facts(&self) -> Facts<'_> {
        Facts {
            accepted: self.accepted_at.is_some(),
            outcome: self.outcome.as_deref(),
            on_time: self.on_time,
            honoured: self.honoured,
        }
    }

    /// Adds `sign` × this case's measures to `t`, at its node, by type, level, source and
    /// mediator.
    pub fn count(&self, t: &mut Tally, sign: i64) -> Result<(), StoreError> {
        let node = NodeCode::parse(&self.node_code)
            .map_err(|e| StoreError::Other(anyhow::anyhow!("dispute {}: {e}", self.id)))?;
        for m in measures(&self.facts()) {
            t.add(&node, "dispute", m, sign);
            t.add(
                &node,
                "dispute_type",
                &format!("{}|{m}", self.type_code),
                sign,
            );
            t.add(&node, "dispute_level", &format!("{}|{m}", self.level), sign);
            t.add(
                &node,
                "dispute_source",
                &format!("{}|{m}", self.source),
                sign,
            );
            if let Some(id) = self.mediator_id {
                t.add(&node, "dispute_mediator", &format!("{id}|{m}"), sign);
            }
        }
        Ok(())
    }
}

/// A party to write: a person of the register or one named here, personal data sealed.
#[derive(Debug, Clone)]
pub struct NewParty {
    pub role: String,
    pub resident_id: Option<i64>,
    pub name: String,
    pub gender: Option<String>,
    pub id_number: Option<Sealed>,
    pub phone: Option<Sealed>,
    /// Sealed with an empty blind index (nobody searches by address).
    pub address: Option<Sealed>,
}

/// A party as stored (masked columns only; the sealed ones stay in the database).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PartyRow {
    pub id: i64,
    pub dispute_id: i64,
    pub role: String,
    pub resident_id: Option<i64>,
    pub name: String,
    pub gender: Option<String>,
    pub id_mask: Option<String>,
    pub phone_mask: Option<String>,
    /// Masked (the sealed address opens only through the audited reveal).
    pub address: Option<String>,
}

/// A case to take in: its row (id, number and version are set here), parties, first log line.
#[derive(Debug, Clone)]
pub struct NewDispute {
    pub row: DisputeRow,
    pub parties: Vec<NewParty>,
    pub log: LogEntry,
    pub notifications: Vec<NewNotification>,
}

/// Takes a case in, with its parties, timeline, counters, notifications and audit row, in one
/// transaction. Answers its id.
pub async fn insert(db: &Db, d: &NewDispute, now: i64) -> Result<i64, StoreError> {
    Ok(with_tx!(db, tx => {
        let r = &d.row;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO dispute (number, node_code, level, type_code, source, summary, amount_cents, people_involved, \
             violence, many_parties, repeat_case, state, applicant_user_id, intake_user_id, event_id, light, supervision, \
             extension, reopened, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'green', 'none', 'none', FALSE, 1, $16, $16) \
             RETURNING id",
        )
        .bind(format!("pending-{now}-{}", r.summary.len())).bind(&r.node_code).bind(&r.level).bind(&r.type_code)
        .bind(&r.source).bind(&r.summary).bind(r.amount_cents).bind(r.people_involved).bind(r.violence)
        .bind(r.many_parties).bind(r.repeat_case).bind(&r.state).bind(r.applicant_user_id).bind(r.intake_user_id)
        .bind(r.event_id).bind(now)
        .fetch_one(&mut *tx).await?;
        let number = number_of(id, now);
        sqlx::query("UPDATE dispute SET number = $1 WHERE id = $2").bind(&number).bind(id).execute(&mut *tx).await?;
        for (i, p) in d.parties.iter().enumerate() {
            sqlx::query(
                "INSERT INTO dispute_party (dispute_id, position, role, resident_id, name, gender, id_enc, id_idx, id_mask, \
                 phone_enc, phone_idx, phone_mask, address_enc, address_mask, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(id).bind(i as i64).bind(&p.role).bind(p.resident_id).bind(&p.name).bind(&p.gender)
            .bind(p.id_number.as_ref().map(|s| s.cipher.clone())).bind(p.id_number.as_ref().map(|s| s.index.clone()))
            .bind(p.id_number.as_ref().map(|s| s.mask.clone()))
            .bind(p.phone.as_ref().map(|s| s.cipher.clone())).bind(p.phone.as_ref().map(|s| s.index.clone()))
            .bind(p.phone.as_ref().map(|s| s.mask.clone()))
            .bind(p.address.as_ref().map(|s| s.cipher.clone())).bind(p.address.as_ref().map(|s| s.mask.clone())).bind(now)
            .execute(&mut *tx).await?;
        }
        crate::write_log!(tx, "dispute_log", "dispute_id", id, &d.log, now);
        let mut t = Tally::new();
        let stored = DisputeRow { id, number: number.clone(), ..r.clone() };
        stored.count(&mut t, 1)?;
        write_tally!(tx, &t);
        // The notices name the case they are about (known only now).
        let notifications: Vec<NewNotification> = d.notifications.iter().cloned().map(|mut n| {
            if let Value::Object(m) = &mut n.params {
                m.insert("dispute_id".into(), json!(id));
                m.insert("number".into(), json!(number));
            }
            n
        }).collect();
        write_notifications!(tx, r.event_id, &notifications, now);
        let parties: Vec<Value> = d.parties.iter().map(|p| json!({
            "role": p.role, "resident_id": p.resident_id, "name": p.name,
            "id_number": p.id_number.as_ref().map(|s| s.mask.clone()),
            "phone": p.phone.as_ref().map(|s| s.mask.clone()),
        })).collect();
        let entry = AuditEntry::new(d.log.actor_id, "dispute.create", "dispute", id.to_string()).after(json!({
            "number": number, "node": r.node_code, "type": r.type_code, "source": r.source,
            "summary": r.summary, "event_id": r.event_id, "parties": parties,
        }));
        append_audit!(tx, &entry, now);
        id
    }))
}

/// The case number: the year (UTC+8) and the id, `2026-000123`.
fn number_of(id: i64, now: i64) -> String {
    let year = shanzhi_domain::calendar::local_date(now).format("%Y");
    format!("{year}-{id:06}")
}

/// One case (`NotFound` if none).
pub async fn get(db: &Db, id: i64) -> Result<DisputeRow, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM dispute WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// The case converted from an event, if any.
pub async fn of_event(db: &Db, event_id: i64) -> Result<Option<DisputeRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM dispute WHERE event_id = $1 ORDER BY id LIMIT 1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(event_id).fetch_optional(pool).await?))
}

/// The parties of a case, in order.
pub async fn parties(db: &Db, id: i64) -> Result<Vec<PartyRow>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT id, dispute_id, role, resident_id, name, gender, id_mask, phone_mask, address_mask AS address FROM dispute_party \
         WHERE dispute_id = $1 ORDER BY position",
    ).bind(id).fetch_all(pool).await?))
}

/// A party's sealed fields opened.
pub struct Revealed {
    pub party_id: i64,
    pub id_number: Option<String>,
    pub address: Option<String>,
}

/// The parties' ID numbers and addresses in plain text, for the agreement printed for
/// signature: written to the audit log with the purpose. (party id, number, address) in order.
pub async fn reveal_ids(
    db: &Db,
    keys: &Keyring,
    id: i64,
    purpose: &str,
    actor: i64,
    now: i64,
) -> Result<Vec<Revealed>, StoreError> {
    let rows: Vec<(i64, Option<Vec<u8>>, Option<Vec<u8>>)> = with_pool!(db, pool => sqlx::query_as(
        "SELECT id, id_enc, address_enc FROM dispute_party WHERE dispute_id = $1 ORDER BY position",
    ).bind(id).fetch_all(pool).await?);
    let mut out = Vec::with_capacity(rows.len());
    for (party_id, id_enc, address_enc) in rows {
        out.push(Revealed {
            party_id,
            id_number: id_enc.map(|b| keys.decrypt(&b)).transpose()?,
            address: address_enc.map(|b| keys.decrypt(&b)).transpose()?,
        });
    }
    with_tx!(db, tx => {
        let entry = AuditEntry::new(Some(actor), "dispute.reveal", "dispute", id.to_string())
            .after(json!({"fields": ["id_number", "address"], "purpose": purpose, "parties": out.len()}));
        append_audit!(tx, &entry, now);
    });
    Ok(out)
}

/// Cases whose applicant (by the blind index of their ID number) had another case since
/// `since`: for the repeat flag.
pub async fn earlier_cases(
    db: &Db,
    keys: &Keyring,
    id_number: &str,
    since: i64,
) -> Result<i64, StoreError> {
    let idx = keys.index(IndexKind::IdNumber, id_number);
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(DISTINCT p.dispute_id) FROM dispute_party p JOIN dispute d ON d.id = p.dispute_id \
         WHERE p.id_idx = $1 AND p.role = 'applicant' AND d.created_at >= $2",
    ).bind(idx).bind(since).fetch_one(pool).await?))
}

/// Cases of a resident of the register (for the repeat flag of a party given by record).
pub async fn earlier_cases_of_resident(
    db: &Db,
    resident_id: i64,
    since: i64,
) -> Result<i64, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(DISTINCT p.dispute_id) FROM dispute_party p JOIN dispute d ON d.id = p.dispute_id \
         WHERE p.resident_id = $1 AND p.role = 'applicant' AND d.created_at >= $2",
    ).bind(resident_id).bind(since).fetch_one(pool).await?))
}

/// Everything a move writes besides the case row.
#[derive(Debug, Clone, Default)]
pub struct MoveWrites {
    pub log: Option<LogEntry>,
    pub notifications: Vec<NewNotification>,
    pub audit: Option<AuditEntry>,
    /// A panel invited.
    pub panel_id: Option<i64>,
}

/// Saves a move: `after` if nobody changed the case since `before` was read (else `Stale`),
/// with the timeline line, the counters moved by (after − before), notifications, a panel
/// invited, and the audit row.
pub async fn save_move(
    db: &Db,
    before: &DisputeRow,
    after: &DisputeRow,
    writes: &MoveWrites,
    now: i64,
) -> Result<(), StoreError> {
    let mut t = Tally::new();
    before.count(&mut t, -1)?;
    after.count(&mut t, 1)?;
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE dispute SET node_code = $1, level = $2, state = $3, mediator_id = $4, accepted_at = $5, started_at = $6, \
             due_at = $7, light = $8, supervision = $9, next_check_at = $10, extension = $11, outcome = $12, \
             outcome_text = $13, referral = $14, outcome_at = $15, on_time = $16, honoured = $17, follow_up_note = $18, \
             reopened = $19, judicial = $20, closed_at = $21, updated_at = $22, version = version + 1 \
             WHERE id = $23 AND version = $24",
        )
        .bind(&after.node_code).bind(&after.level).bind(&after.state).bind(after.mediator_id).bind(after.accepted_at)
        .bind(after.started_at).bind(after.due_at).bind(&after.light).bind(&after.supervision).bind(after.next_check_at)
        .bind(&after.extension).bind(&after.outcome).bind(&after.outcome_text).bind(&after.referral).bind(after.outcome_at)
        .bind(after.on_time).bind(after.honoured).bind(&after.follow_up_note).bind(after.reopened).bind(&after.judicial)
        .bind(after.closed_at).bind(now).bind(after.id).bind(before.version)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Stale);
        }
        if let Some(log) = &writes.log {
            crate::write_log!(tx, "dispute_log", "dispute_id", after.id, log, now);
        }
        write_tally!(tx, &t);
        write_notifications!(tx, after.event_id, &writes.notifications, now);
        if let Some(panel) = writes.panel_id {
            sqlx::query("INSERT INTO dispute_panel (dispute_id, panel_id, invited_at) VALUES ($1, $2, $3)")
                .bind(after.id).bind(panel).bind(now).execute(&mut *tx).await?;
        }
        if let Some(a) = &writes.audit {
            append_audit!(tx, a, now);
        }
    });
    Ok(())
}

/// A case of a generated history (the demo's year), walked in memory: its row as it stands at
/// the end (id and number are given here), its parties, its timeline lines with their instants,
/// its sessions (`dispute_id` is set here; no photos) with the instant each was written, and
/// the panels invited with their instants.
#[derive(Debug, Clone)]
pub struct HistoryCase {
    pub row: DisputeRow,
    pub parties: Vec<NewParty>,
    pub log: Vec<(LogEntry, i64)>,
    pub sessions: Vec<(NewSession, i64)>,
    pub panels: Vec<(i64, i64)>,
}

/// Cases written per transaction by [`insert_history`].
const HISTORY_CASES_PER_TRANSACTION: usize = 2_000;

/// Writes a generated history of cases in multi-row inserts, with the counters of their final
/// rows (the tally a case walked move by move through [`insert`] and [`save_move`] ends with)
/// and one audit row (`demo.history`, entity `dispute`) for the whole load. Ids follow the
/// largest one stored, in the order given; numbers are made from them as [`insert`] makes
/// them. Answers the ids.
///
/// Cases go in 2,000 to a transaction: a failure part-way leaves the earlier ones written (the
/// demo builds into a fresh database, and rebuilds it on the next run).
pub async fn insert_history(db: &Db, cases: &[HistoryCase]) -> Result<Vec<i64>, StoreError> {
    if cases
        .iter()
        .any(|c| c.sessions.iter().any(|(s, _)| !s.photos.is_empty()))
    {
        return Err(StoreError::Other(anyhow::anyhow!(
            "sessions of a generated history carry no photos"
        )));
    }
    let case_columns: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
    const PARTY: [&str; 15] = [
        "dispute_id",
        "position",
        "role",
        "resident_id",
        "name",
        "gender",
        "id_enc",
        "id_idx",
        "id_mask",
        "phone_enc",
        "phone_idx",
        "phone_mask",
        "address_enc",
        "address_mask",
        "created_at",
    ];
    const SESSION: [&str; 9] = [
        "dispute_id",
        "at",
        "place",
        "attendees",
        "record",
        "held",
        "created_by",
        "created_at",
        "updated_at",
    ];
    const PANEL: [&str; 3] = ["dispute_id", "panel_id", "invited_at"];
    let base = crate::history::largest_id(db, "dispute").await?;
    let rows: Vec<DisputeRow> = cases
        .iter()
        .zip(base + 1..)
        .map(|(c, id)| DisputeRow {
            id,
            number: number_of(id, c.row.created_at),
            ..c.row.clone()
        })
        .collect();
    let case_insert = Insert::new(db, "dispute", &case_columns, "");
    let party_insert = Insert::new(db, "dispute_party", &PARTY, "");
    let session_insert = Insert::new(db, "dispute_session", &SESSION, "");
    let panel_insert = Insert::new(db, "dispute_panel", &PANEL, "");
    for (batch, rows) in cases
        .chunks(HISTORY_CASES_PER_TRANSACTION)
        .zip(rows.chunks(HISTORY_CASES_PER_TRANSACTION))
    {
        let parties: Vec<(i64, usize, &NewParty, i64)> = batch
            .iter()
            .zip(rows)
            .flat_map(|(c, r)| {
                c.parties
                    .iter()
                    .enumerate()
                    .map(move |(i, p)| (r.id, i, p, r.created_at))
            })
            .collect();
        let lines: Vec<(i64, &LogEntry, i64)> = batch
            .iter()
            .zip(rows)
            .flat_map(|(c, r)| c.log.iter().map(move |(l, at)| (r.id, l, *at)))
            .collect();
        let sessions: Vec<(i64, &NewSession, i64)> = batch
            .iter()
            .zip(rows)
            .flat_map(|(c, r)| c.sessions.iter().map(move |(s, at)| (r.id, s, *at)))
            .collect();
        let panels: Vec<(i64, i64, i64)> = batch
            .iter()
            .zip(rows)
            .flat_map(|(c, r)| c.panels.iter().map(move |(p, at)| (r.id, *p, *at)))
            .collect();
        let mut t = Tally::new();
        for r in rows {
            r.count(&mut t, 1)?;
        }
        with_tx!(db, tx => {
            insert_rows!(tx, &case_insert, rows, |q, r| q
                .bind(r.id).bind(&r.number).bind(&r.node_code).bind(&r.level).bind(&r.type_code).bind(&r.source)
                .bind(&r.summary).bind(r.amount_cents).bind(r.people_involved).bind(r.violence).bind(r.many_parties)
                .bind(r.repeat_case).bind(&r.state).bind(r.mediator_id).bind(r.applicant_user_id).bind(r.intake_user_id)
                .bind(r.event_id).bind(r.accepted_at).bind(r.started_at).bind(r.due_at).bind(&r.light)
                .bind(&r.supervision).bind(r.next_check_at).bind(&r.extension).bind(&r.outcome).bind(&r.outcome_text)
                .bind(&r.referral).bind(r.outcome_at).bind(r.on_time).bind(r.honoured).bind(&r.follow_up_note)
                .bind(r.reopened).bind(&r.judicial).bind(r.closed_at).bind(r.version).bind(r.created_at)
                .bind(r.updated_at));
            insert_rows!(tx, &party_insert, parties, |q, (id, i, p, at)| q
                .bind(*id).bind(*i as i64).bind(&p.role).bind(p.resident_id).bind(&p.name).bind(&p.gender)
                .bind(p.id_number.as_ref().map(|s| s.cipher.clone())).bind(p.id_number.as_ref().map(|s| s.index.clone()))
                .bind(p.id_number.as_ref().map(|s| s.mask.clone()))
                .bind(p.phone.as_ref().map(|s| s.cipher.clone())).bind(p.phone.as_ref().map(|s| s.index.clone()))
                .bind(p.phone.as_ref().map(|s| s.mask.clone()))
                .bind(p.address.as_ref().map(|s| s.cipher.clone())).bind(p.address.as_ref().map(|s| s.mask.clone()))
                .bind(*at));
            crate::write_log_lines!(tx, db, "dispute_log", "dispute_id", &lines);
            insert_rows!(tx, &session_insert, sessions, |q, (id, s, at)| q
                .bind(*id).bind(s.at).bind(&s.place).bind(json!(s.attendees).to_string()).bind(&s.record)
                .bind(false).bind(s.created_by).bind(*at).bind(*at));
            insert_rows!(tx, &panel_insert, panels, |q, (id, p, at)| q.bind(*id).bind(*p).bind(*at));
            write_tally!(tx, &t);
        });
    }
    crate::history::follow_ids(db, "dispute").await?;
    let lines: usize = cases.iter().map(|c| c.log.len()).sum();
    let latest = cases
        .iter()
        .flat_map(|c| {
            c.log
                .iter()
                .map(|(_, at)| *at)
                .chain(c.sessions.iter().map(|(_, at)| *at))
        })
        .max()
        .unwrap_or(0);
    crate::history::audit_load(
        db,
        "dispute",
        json!({"cases": cases.len(), "lines": lines}),
        latest,
    )
    .await?;
    Ok(rows.iter().map(|r| r.id).collect())
}

/// A timeline line as stored (the shared shape).
pub use crate::event::TimelineRow as LogRow;

/// The timeline of a case, oldest first.
pub async fn timeline(db: &Db, id: i64) -> Result<Vec<LogRow>, StoreError> {
    crate::event::timeline_of(db, "dispute_log", "dispute_id", id).await
}

/// The panels invited to a case: (panel id, name, invited at).
pub async fn panels_of(db: &Db, id: i64) -> Result<Vec<(i64, String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT p.id, p.name, dp.invited_at FROM dispute_panel dp JOIN panel p ON p.id = dp.panel_id \
         WHERE dp.dispute_id = $1 ORDER BY dp.invited_at, p.id",
    ).bind(id).fetch_all(pool).await?))
}

/// Which cases to list. The scope part: `under` (a subtree) or one of the involvement ids.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Cases held under this node path.
    pub under: Option<String>,
    /// Or (a mediator, a grid worker, a citizen): only these.
    pub mediator_user_id: Option<i64>,
    pub intake_user_id: Option<i64>,
    pub applicant_user_id: Option<i64>,
    pub state: Option<String>,
    pub level: Option<String>,
    pub type_code: Option<String>,
    pub source: Option<String>,
    pub mediator_id: Option<i64>,
    pub light: Option<String>,
    pub after: Option<i64>,
    pub limit: i64,
}

/// Cases matching the filter, by id.
pub async fn list(db: &Db, f: &Filter) -> Result<Vec<DisputeRow>, StoreError> {
    let mut cond: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut p = |b: Bind| -> String {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(u) = &f.under {
        let (a, b) = (p(Bind::Text(u.clone())), p(Bind::Text(subtree_end(u))));
        cond.push(format!("node_code >= {a} AND node_code < {b}"));
    }
    if let Some(u) = f.mediator_user_id {
        let a = p(Bind::Int(u));
        cond.push(format!(
            "mediator_id IN (SELECT id FROM mediator WHERE user_id = {a})"
        ));
    }
    if let Some(u) = f.intake_user_id {
        let a = p(Bind::Int(u));
        cond.push(format!("intake_user_id = {a}"));
    }
    if let Some(u) = f.applicant_user_id {
        let a = p(Bind::Int(u));
        cond.push(format!("applicant_user_id = {a}"));
    }
    for (col, v) in [
        ("state", &f.state),
        ("level", &f.level),
        ("type_code", &f.type_code),
        ("source", &f.source),
        ("light", &f.light),
    ] {
        if let Some(v) = v {
            let a = p(Bind::Text(v.clone()));
            cond.push(format!("{col} = {a}"));
        }
    }
    if let Some(m) = f.mediator_id {
        let a = p(Bind::Int(m));
        cond.push(format!("mediator_id = {a}"));
    }
    if let Some(after) = f.after {
        let a = p(Bind::Int(after));
        cond.push(format!("id > {a}"));
    }
    let lim = p(Bind::Int(f.limit));
    let cond = if cond.is_empty() {
        "TRUE".to_owned()
    } else {
        cond.join(" AND ")
    };
    let sql = format!("SELECT {COLUMNS} FROM dispute WHERE {cond} ORDER BY id LIMIT {lim}");
    Ok(
        with_pool!(db, pool => bind_all!(sqlx::query_as::<_, DisputeRow>(&sql), &binds).fetch_all(pool).await?),
    )
}

/// The applicant's name of each case (the first applicant): (case id, name).
pub async fn applicants(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
    crate::db::fetch_by_ids(db, ids, 500, |list| {
        format!(
            "SELECT dispute_id, name FROM dispute_party WHERE dispute_id IN ({list}) AND role = 'applicant' \
             ORDER BY dispute_id, position"
        )
    })
    .await
}

/// Cases whose clock the sweep must look at by `now`.
pub async fn due_for_check(db: &Db, now: i64, limit: i64) -> Result<Vec<DisputeRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dispute WHERE next_check_at IS NOT NULL AND next_check_at <= $1 ORDER BY next_check_at LIMIT $2"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(pool).await?))
}

/// The counts of every case under `path` (a recount of the counters, for checks and tests):
/// measure → n, computed from the rows.
pub async fn recount(db: &Db, path: &str) -> Result<Tally, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM dispute WHERE node_code >= $1 AND node_code < $2");
    let rows: Vec<DisputeRow> = with_pool!(db, pool => sqlx::query_as(&sql)
        .bind(path).bind(subtree_end(path)).fetch_all(pool).await?);
    let mut t = Tally::new();
    for r in &rows {
        r.count(&mut t, 1)?;
    }
    Ok(t)
}

/// A session to hold.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub dispute_id: i64,
    pub at: i64,
    pub place: String,
    pub attendees: Vec<String>,
    pub record: Option<String>,
    pub created_by: i64,
    pub photos: Vec<String>,
}

/// A session as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub dispute_id: i64,
    pub at: i64,
    pub place: String,
    pub attendees: String,
    pub record: Option<String>,
    pub held: bool,
    pub created_by: i64,
}

impl SessionRow {
    /// For the API.
    pub fn to_json(&self, photos: &[String]) -> Value {
        let attendees: Value = serde_json::from_str(&self.attendees).unwrap_or_else(|_| json!([]));
        json!({"id": self.id, "dispute_id": self.dispute_id, "at": self.at, "place": self.place,
               "attendees": attendees, "record": self.record, "held": self.held,
               "created_by": self.created_by, "photos": photos})
    }
}

/// Adds a session with its photos and audit row. Answers its id.
pub async fn add_session(db: &Db, s: &NewSession, now: i64) -> Result<i64, StoreError> {
    Ok(with_tx!(db, tx => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO dispute_session (dispute_id, at, place, attendees, record, held, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7, $7) RETURNING id",
        )
        .bind(s.dispute_id).bind(s.at).bind(&s.place).bind(json!(s.attendees).to_string()).bind(&s.record)
        .bind(s.created_by).bind(now)
        .fetch_one(&mut *tx).await?;
        for (i, hash) in s.photos.iter().enumerate() {
            sqlx::query("INSERT INTO dispute_session_photo (session_id, hash, position) VALUES ($1, $2, $3)")
                .bind(id).bind(hash).bind(i as i64).execute(&mut *tx).await?;
        }
        let entry = AuditEntry::new(Some(s.created_by), "dispute.session", "dispute", s.dispute_id.to_string())
            .after(json!({"session": id, "at": s.at, "place": s.place, "attendees": s.attendees.len(), "photos": s.photos}));
        append_audit!(tx, &entry, now);
        id
    }))
}

/// A change to a session; `None` leaves a field.
#[derive(Debug, Clone, Default)]
pub struct SessionChange {
    pub record: Option<String>,
    pub attendees: Option<Vec<String>>,
    pub held: Option<bool>,
}

/// Changes a session of case `dispute_id` (`NotFound` if it is not one of its sessions).
pub async fn change_session(
    db: &Db,
    dispute_id: i64,
    id: i64,
    c: &SessionChange,
    actor: i64,
    now: i64,
) -> Result<(), StoreError> {
    with_tx!(db, tx => {
        let done = sqlx::query(
            "UPDATE dispute_session SET record = COALESCE($1, record), attendees = COALESCE($2, attendees), \
             held = COALESCE($3, held), updated_at = $4 WHERE id = $5 AND dispute_id = $6",
        )
        .bind(&c.record).bind(c.attendees.as_ref().map(|a| json!(a).to_string())).bind(c.held).bind(now)
        .bind(id).bind(dispute_id)
        .execute(&mut *tx).await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        let entry = AuditEntry::new(Some(actor), "dispute.session_change", "dispute", dispute_id.to_string())
            .after(json!({"session": id, "record": c.record.is_some(), "attendees": c.attendees.as_ref().map(Vec::len), "held": c.held}));
        append_audit!(tx, &entry, now);
    });
    Ok(())
}

/// The sessions of a case, by time.
pub async fn sessions(db: &Db, dispute_id: i64) -> Result<Vec<SessionRow>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT id, dispute_id, at, place, attendees, record, held, created_by FROM dispute_session \
         WHERE dispute_id = $1 ORDER BY at, id",
    ).bind(dispute_id).fetch_all(pool).await?))
}

/// The photo hashes of some sessions: (session id, hash), in order.
pub async fn session_photos(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
    crate::db::fetch_by_ids(db, ids, 500, |list| {
        format!("SELECT session_id, hash FROM dispute_session_photo WHERE session_id IN ({list}) ORDER BY session_id, position")
    })
    .await
}
