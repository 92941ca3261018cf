//! Briefings (早晚报): the archive of written briefings, and the questions a briefing asks of
//! a subtree over its period (events, overdue orders, risks, disputes, lagging departments,
//! warnings). Every question is bounded by the period and the subtree's code range; none
//! returns a person's name, phone or ID number.

use shanzhi_domain::tree::subtree_end;

use crate::{Db, StoreError};

/// A briefing as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BriefingRow {
    pub id: i64,
    pub node_code: String,
    pub kind: String,
    pub day: i64,
    pub from_ms: i64,
    pub to_ms: i64,
    pub figures: String,
    pub created_at: i64,
    pub created_by: Option<i64>,
}

const COLUMNS: &str = "id, node_code, kind, day, from_ms, to_ms, figures, created_at, created_by";

/// A briefing to archive.
#[derive(Debug, Clone)]
pub struct NewBriefing {
    pub node_code: String,
    pub kind: String,
    pub day: i64,
    pub from_ms: i64,
    pub to_ms: i64,
    pub figures: serde_json::Value,
    pub created_by: Option<i64>,
}

/// Writes a briefing unless one of the same node, kind and day exists: `(row, true)` when this
/// call wrote it, `(the existing row, false)` otherwise (a racing sweep or an earlier request).
pub async fn insert(
    db: &Db,
    new: &NewBriefing,
    now_ms: i64,
) -> Result<(BriefingRow, bool), StoreError> {
    let figures = new.figures.to_string();
    let written: Option<i64> = with_tx!(db, tx => {
        sqlx::query_scalar(
            "INSERT INTO briefing (node_code, kind, day, from_ms, to_ms, figures, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (node_code, kind, day) DO NOTHING RETURNING id",
        )
        .bind(&new.node_code).bind(&new.kind).bind(new.day).bind(new.from_ms).bind(new.to_ms)
        .bind(&figures).bind(now_ms).bind(new.created_by)
        .fetch_optional(&mut *tx).await?
    });
    match written {
        Some(id) => Ok((get(db, id).await?, true)),
        None => Ok((find(db, &new.node_code, &new.kind, new.day).await?, false)),
    }
}

/// One briefing.
pub async fn get(db: &Db, id: i64) -> Result<BriefingRow, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM briefing WHERE id = $1");
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_one(pool).await?))
}

/// The briefing of a node, kind and day.
pub async fn find(db: &Db, node: &str, kind: &str, day: i64) -> Result<BriefingRow, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM briefing WHERE node_code = $1 AND kind = $2 AND day = $3");
    Ok(
        with_pool!(db, pool => sqlx::query_as(&sql).bind(node).bind(kind).bind(day).fetch_one(pool).await?),
    )
}

/// Whether the briefing of a node, kind and day is written.
pub async fn exists(db: &Db, node: &str, kind: &str, day: i64) -> Result<bool, StoreError> {
    let n: i64 = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM briefing WHERE node_code = $1 AND kind = $2 AND day = $3")
            .bind(node).bind(kind).bind(day).fetch_one(pool).await?
    });
    Ok(n > 0)
}

/// The last briefing of a node and kind before `day` (what a new one compares with).
pub async fn previous(
    db: &Db,
    node: &str,
    kind: &str,
    day: i64,
) -> Result<Option<BriefingRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM briefing WHERE node_code = $1 AND kind = $2 AND day < $3 ORDER BY day DESC LIMIT 1"
    );
    Ok(
        with_pool!(db, pool => sqlx::query_as(&sql).bind(node).bind(kind).bind(day).fetch_optional(pool).await?),
    )
}

/// Briefings of nodes in the subtree at `path` (or of exactly `node`), newest first, below
/// `before`.
pub async fn list(
    db: &Db,
    path: &str,
    exactly: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<BriefingRow>, StoreError> {
    let before = before.unwrap_or(i64::MAX);
    Ok(with_pool!(db, pool => match exactly {
        Some(code) => {
            let sql = format!("SELECT {COLUMNS} FROM briefing WHERE node_code = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
            sqlx::query_as(&sql).bind(code).bind(before).bind(limit).fetch_all(pool).await?
        }
        None => {
            // Node codes extend their parents' paths (12-digit region codes pad with zeros,
            // which sort after the path itself), so the subtree is the path's code range.
            let sql = format!("SELECT {COLUMNS} FROM briefing WHERE node_code >= $1 AND node_code < $2 AND id < $3 ORDER BY id DESC LIMIT $4");
            sqlx::query_as(&sql).bind(path).bind(subtree_end(path)).bind(before).bind(limit).fetch_all(pool).await?
        }
    }))
}

/// Region nodes of some levels (`county`, `town`…), in code order: the schedule's default.
pub async fn nodes_of_levels(db: &Db, levels: &[&str]) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for l in levels {
        let codes: Vec<String> = with_pool!(db, pool => {
            sqlx::query_scalar("SELECT code FROM node WHERE level = $1 ORDER BY code")
                .bind(*l).fetch_all(pool).await?
        });
        out.extend(codes);
    }
    out.sort();
    Ok(out)
}

/// Events reported under `path` in `[from, to)`, merged duplicates included (each report
/// counts where it was made): (category id, grid code, n).
pub async fn events_in(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT category_id, grid_code, COUNT(*) FROM event \
         WHERE created_at >= $1 AND created_at < $2 AND grid_code >= $3 AND grid_code < $4 \
         GROUP BY category_id, grid_code",
    ).bind(from).bind(to).bind(path).bind(subtree_end(path)).fetch_all(pool).await?))
}

/// Open orders under `path` whose deadline had passed at `at`: (category id, grid code, n).
pub async fn overdue(db: &Db, path: &str, at: i64) -> Result<Vec<(i64, String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT category_id, grid_code, COUNT(*) FROM event \
         WHERE grid_code >= $1 AND grid_code < $2 \
         AND state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved') \
         AND due_at IS NOT NULL AND due_at <= $3 GROUP BY category_id, grid_code",
    ).bind(path).bind(subtree_end(path)).bind(at).fetch_all(pool).await?))
}

/// A risk record as a briefing shows it: number, state, level, type — never its title or
/// detail, which may name people.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RiskLine {
    pub id: i64,
    pub number: String,
    pub node_code: String,
    pub state: String,
    pub level: Option<String>,
    pub type_code: String,
    pub source: String,
}

/// Clues and risks entered or raised under `path` in `[from, to)`.
pub async fn risks_created(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
) -> Result<Vec<RiskLine>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT id, number, node_code, state, level, type_code, source FROM risk \
         WHERE node_code >= $1 AND node_code < $2 AND created_at >= $3 AND created_at < $4 ORDER BY id",
    ).bind(path).bind(subtree_end(path)).bind(from).bind(to).fetch_all(pool).await?))
}

/// Gradings under `path` in `[from, to)`: (risk, action `assess`|`regrade`, the log's data
/// JSON with `level` and `from_level`), oldest first.
pub async fn risk_gradings(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(RiskLine, String, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        number: String,
        node_code: String,
        state: String,
        level: Option<String>,
        type_code: String,
        source: String,
        action: String,
        data: String,
    }
    let rows: Vec<Row> = with_pool!(db, pool => sqlx::query_as(
        "SELECT r.id, r.number, r.node_code, r.state, r.level, r.type_code, r.source, l.action, l.data \
         FROM risk_log l JOIN risk r ON r.id = l.risk_id \
         WHERE l.at >= $1 AND l.at < $2 AND l.action IN ('assess', 'regrade') \
         AND r.node_code >= $3 AND r.node_code < $4 ORDER BY l.id",
    ).bind(from).bind(to).bind(path).bind(subtree_end(path)).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                RiskLine {
                    id: r.id,
                    number: r.number,
                    node_code: r.node_code,
                    state: r.state,
                    level: r.level,
                    type_code: r.type_code,
                    source: r.source,
                },
                r.action,
                r.data,
            )
        })
        .collect())
}

/// Dispute cases taken in under `path` in `[from, to)`: (type code, its Chinese and English
/// names, n).
pub async fn disputes_in(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(String, String, String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT d.type_code, t.name_zh, t.name_en, COUNT(*) FROM dispute d JOIN dispute_type t ON t.code = d.type_code \
         WHERE d.node_code >= $1 AND d.node_code < $2 AND d.created_at >= $3 AND d.created_at < $4 \
         GROUP BY d.type_code, t.name_zh, t.name_en ORDER BY d.type_code",
    ).bind(path).bind(subtree_end(path)).bind(from).bind(to).fetch_all(pool).await?))
}

/// Departments found lagging (a missed daily report, 督办) on risks under `path` by the sweeps
/// run in `[from, to)`: (department id, name, missed days, risks), most missed first.
pub async fn lagging(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, String, i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT l.department_id, d.name, COUNT(*), COUNT(DISTINCT l.risk_id) FROM risk_lag l \
         JOIN risk r ON r.id = l.risk_id JOIN department d ON d.id = l.department_id \
         WHERE l.at >= $1 AND l.at < $2 AND r.node_code >= $3 AND r.node_code < $4 \
         GROUP BY l.department_id, d.name ORDER BY COUNT(*) DESC, COUNT(DISTINCT l.risk_id) DESC, l.department_id",
    ).bind(from).bind(to).bind(path).bind(subtree_end(path)).fetch_all(pool).await?))
}

/// Warnings sent from nodes under `path` in `[from, to)`: (level, n).
pub async fn warnings_in(
    db: &Db,
    path: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT level, COUNT(*) FROM warning \
         WHERE node_code >= $1 AND node_code < $2 AND created_at >= $3 AND created_at < $4 GROUP BY level ORDER BY level",
    ).bind(path).bind(subtree_end(path)).bind(from).bind(to).fetch_all(pool).await?))
}
