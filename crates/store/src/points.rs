//! The village points system (积分制): rules, awards, the shop's items and their stock,
//! redemptions, and each resident's balance per village. Every award and redemption writes the
//! balance in its own transaction, a redemption by conditional updates of the stock and the
//! balance, so that concurrent redemptions never overdraw either; [`recount`] proves that a
//! balance equals its awards less its redemptions.

use serde_json::{json, Value};

use crate::audit::AuditEntry;
use crate::{Db, StoreError};

/// The constraint names a refused redemption reports.
pub const SHORT_STOCK: &str = "points_stock";
pub const SHORT_BALANCE: &str = "points_balance";

// ---- rules ----------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Rule {
    pub id: i64,
    pub node_code: String,
    pub name: String,
    pub points: i64,
    pub kind: String,
    pub active: bool,
    pub created_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const RULE_COLUMNS: &str =
    "id, node_code, name, points, kind, active, created_by, created_at, updated_at";

impl Rule {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "name": self.name, "points": self.points,
            "kind": self.kind, "active": self.active, "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// Creates a rule of village `node`, with an audit row.
pub async fn insert_rule(
    db: &Db,
    node: &str,
    name: &str,
    points: i64,
    kind: &str,
    actor_id: i64,
    now: i64,
) -> Result<Rule, StoreError> {
    let sql = format!(
        "INSERT INTO points_rule (node_code, name, points, kind, active, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6) RETURNING {RULE_COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let r: Rule = sqlx::query_as(&sql).bind(node).bind(name).bind(points).bind(kind).bind(actor_id).bind(now)
            .fetch_one(&mut *tx).await?;
        let audit = AuditEntry::new(Some(actor_id), "points.rule_create", "points_rule", r.id.to_string())
            .after(r.to_json());
        append_audit!(tx, &audit, now);
        r
    }))
}

/// Changes a rule's name, points and whether it is in force, with an audit row.
pub async fn update_rule(
    db: &Db,
    before: &Rule,
    name: &str,
    points: i64,
    active: bool,
    actor_id: i64,
    now: i64,
) -> Result<Rule, StoreError> {
    let sql = format!(
        "UPDATE points_rule SET name = $1, points = $2, active = $3, updated_at = $4 WHERE id = $5 RETURNING {RULE_COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let r: Rule = sqlx::query_as(&sql).bind(name).bind(points).bind(active).bind(now).bind(before.id)
            .fetch_one(&mut *tx).await?;
        let audit = AuditEntry::new(Some(actor_id), "points.rule_update", "points_rule", r.id.to_string())
            .before(before.to_json())
            .after(r.to_json());
        append_audit!(tx, &audit, now);
        r
    }))
}

pub async fn get_rule(db: &Db, id: i64) -> Result<Rule, StoreError> {
    let sql = format!("SELECT {RULE_COLUMNS} FROM points_rule WHERE id = $1");
    let row: Option<Rule> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

/// A village's rules, those in force first.
pub async fn rules(db: &Db, node: &str) -> Result<Vec<Rule>, StoreError> {
    let sql = format!(
        "SELECT {RULE_COLUMNS} FROM points_rule WHERE node_code = $1 ORDER BY active DESC, id LIMIT 500"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(node).fetch_all(pool).await?))
}

/// The village's rule in force for confirmed reports (the oldest if several).
pub async fn report_rule(db: &Db, node: &str) -> Result<Option<Rule>, StoreError> {
    let sql = format!(
        "SELECT {RULE_COLUMNS} FROM points_rule WHERE node_code = $1 AND kind = 'report_confirmed' AND active ORDER BY id LIMIT 1"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql).bind(node).fetch_optional(pool).await?))
}

// ---- awards ---------------------------------------------------------------------------------

/// An award to write.
#[derive(Debug, Clone)]
pub struct NewAward {
    pub node_code: String,
    pub user_id: i64,
    pub rule_id: i64,
    pub points: i64,
    pub note: String,
    pub evidence: Vec<String>,
    /// None: automatic.
    pub awarded_by: Option<i64>,
    /// The confirmed report an automatic award is for.
    pub source_event_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Award {
    pub id: i64,
    pub node_code: String,
    pub user_id: i64,
    pub rule_id: i64,
    pub points: i64,
    pub note: String,
    pub awarded_by: Option<i64>,
    pub awarded_at: i64,
    pub source_event_id: Option<i64>,
}

const AWARD_COLUMNS: &str =
    "id, node_code, user_id, rule_id, points, note, awarded_by, awarded_at, source_event_id";

impl Award {
    /// Everything but the evidence photos (added by the caller).
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "user_id": self.user_id, "rule_id": self.rule_id,
            "points": self.points, "note": self.note, "awarded_by": self.awarded_by,
            "automatic": self.awarded_by.is_none(), "awarded_at": self.awarded_at, "source_event_id": self.source_event_id})
    }
}

/// Writes an award and adds its points to the resident's balance in the same transaction, with
/// an audit row. An award for a report that has one already writes nothing: `None`.
pub async fn award(db: &Db, a: &NewAward, now: i64) -> Result<Option<Award>, StoreError> {
    let sql = format!(
        "INSERT INTO points_award (node_code, user_id, rule_id, points, note, awarded_by, awarded_at, source_event_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING {AWARD_COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let row: Option<Award> = sqlx::query_as(&sql)
            .bind(&a.node_code).bind(a.user_id).bind(a.rule_id).bind(a.points).bind(&a.note)
            .bind(a.awarded_by).bind(now).bind(a.source_event_id)
            .fetch_optional(&mut *tx).await?;
        if let Some(w) = &row {
            for (i, hash) in a.evidence.iter().enumerate() {
                sqlx::query("INSERT INTO points_evidence (award_id, hash, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(w.id).bind(hash).bind(i as i64).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO points_balance (node_code, user_id, balance, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (node_code, user_id) DO UPDATE SET balance = points_balance.balance + $3, updated_at = $4",
            )
            .bind(&a.node_code).bind(a.user_id).bind(a.points).bind(now)
            .execute(&mut *tx).await?;
            let audit = AuditEntry::new(a.awarded_by, "points.award", "points_award", w.id.to_string())
                .after(json!({"node": w.node_code, "user_id": w.user_id, "rule_id": w.rule_id,
                    "points": w.points, "source_event_id": w.source_event_id}));
            append_audit!(tx, &audit, now);
        }
        row
    }))
}

/// Awards newest first: of a village, of a user (in any village, or in one), `limit + 1` at
/// most (one more says more follow).
pub async fn awards(
    db: &Db,
    node: Option<&str>,
    user_id: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Award>, StoreError> {
    let sql = format!(
        "SELECT {AWARD_COLUMNS} FROM points_award WHERE ($1 IS NULL OR node_code = $1) AND ($2 IS NULL OR user_id = $2) \
         AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    );
    Ok(with_pool!(db, pool => sqlx::query_as(&sql)
        .bind(node).bind(user_id).bind(before).bind(limit + 1).fetch_all(pool).await?))
}

/// The evidence photos of these awards: (award, hash), in order.
pub async fn evidence_of(db: &Db, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
    crate::db::fetch_by_ids(db, ids, 500, |list| {
        format!("SELECT award_id, hash FROM points_evidence WHERE award_id IN ({list}) ORDER BY award_id, position")
    })
    .await
}

/// Who an evidence photo was attached for: (village, resident) of its awards.
pub async fn evidence_awards(db: &Db, hash: &str) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT DISTINCT a.node_code, a.user_id FROM points_evidence e JOIN points_award a ON a.id = e.award_id WHERE e.hash = $1 LIMIT 100",
    ).bind(hash).fetch_all(pool).await?))
}

// ---- the shop -------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub node_code: String,
    pub name: String,
    pub price: i64,
    pub stock: i64,
    pub active: bool,
    pub created_by: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const ITEM_COLUMNS: &str =
    "id, node_code, name, price, stock, active, created_by, created_at, updated_at";

impl Item {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "name": self.name, "price": self.price,
            "stock": self.stock, "active": self.active, "updated_at": self.updated_at})
    }
}

pub async fn insert_item(
    db: &Db,
    node: &str,
    name: &str,
    price: i64,
    stock: i64,
    actor_id: i64,
    now: i64,
) -> Result<Item, StoreError> {
    let sql = format!(
        "INSERT INTO points_item (node_code, name, price, stock, active, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6) RETURNING {ITEM_COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let i: Item = sqlx::query_as(&sql).bind(node).bind(name).bind(price).bind(stock).bind(actor_id).bind(now)
            .fetch_one(&mut *tx).await?;
        let audit = AuditEntry::new(Some(actor_id), "points.item_create", "points_item", i.id.to_string())
            .after(i.to_json());
        append_audit!(tx, &audit, now);
        i
    }))
}

/// Changes an item's name, price and whether it is offered, and its stock by `stock_change`
/// (restocking adds; a count correction may take away, never below zero: Conflict).
#[allow(clippy::too_many_arguments)]
pub async fn update_item(
    db: &Db,
    before: &Item,
    name: &str,
    price: i64,
    stock_change: i64,
    active: bool,
    actor_id: i64,
    now: i64,
) -> Result<Item, StoreError> {
    let sql = format!(
        "UPDATE points_item SET name = $1, price = $2, stock = stock + $3, active = $4, updated_at = $5 \
         WHERE id = $6 AND stock + $3 >= 0 RETURNING {ITEM_COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let i: Option<Item> = sqlx::query_as(&sql).bind(name).bind(price).bind(stock_change).bind(active).bind(now).bind(before.id)
            .fetch_optional(&mut *tx).await?;
        let Some(i) = i else {
            return Err(StoreError::Conflict { constraint: SHORT_STOCK.into() });
        };
        let audit = AuditEntry::new(Some(actor_id), "points.item_update", "points_item", i.id.to_string())
            .before(before.to_json())
            .after(i.to_json());
        append_audit!(tx, &audit, now);
        i
    }))
}

pub async fn get_item(db: &Db, id: i64) -> Result<Item, StoreError> {
    let sql = format!("SELECT {ITEM_COLUMNS} FROM points_item WHERE id = $1");
    let row: Option<Item> =
        with_pool!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
    row.ok_or(StoreError::NotFound)
}

/// A village's items, those offered first.
pub async fn items(db: &Db, node: &str, only_offered: bool) -> Result<Vec<Item>, StoreError> {
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM points_item WHERE node_code = $1 AND (active OR NOT $2) ORDER BY active DESC, price, id LIMIT 500"
    );
    Ok(
        with_pool!(db, pool => sqlx::query_as(&sql).bind(node).bind(only_offered).fetch_all(pool).await?),
    )
}

// ---- redemptions ----------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Redemption {
    pub id: i64,
    pub node_code: String,
    pub user_id: i64,
    pub item_id: i64,
    pub quantity: i64,
    pub points: i64,
    pub redeemed_at: i64,
}

const REDEMPTION_COLUMNS: &str = "id, node_code, user_id, item_id, quantity, points, redeemed_at";

impl Redemption {
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "node": self.node_code, "user_id": self.user_id, "item_id": self.item_id,
            "quantity": self.quantity, "points": self.points, "redeemed_at": self.redeemed_at})
    }
}

/// Redeems `quantity` of item `item_id` for user `user_id`: takes the stock and the points by
/// conditional updates in one transaction. Refused with `Conflict { constraint }` when the item
/// is not offered or short of stock ([`SHORT_STOCK`]) or the balance is short
/// ([`SHORT_BALANCE`]); nothing is written then.
pub async fn redeem(
    db: &Db,
    item_id: i64,
    user_id: i64,
    quantity: i64,
    now: i64,
) -> Result<Redemption, StoreError> {
    let sql = format!(
        "INSERT INTO points_redemption (node_code, user_id, item_id, quantity, points, redeemed_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {REDEMPTION_COLUMNS}"
    );
    Ok(with_tx!(db, tx => {
        let taken: Option<(String, i64)> = sqlx::query_as(
            "UPDATE points_item SET stock = stock - $1, updated_at = $2 WHERE id = $3 AND active AND stock >= $1 RETURNING node_code, price",
        ).bind(quantity).bind(now).bind(item_id).fetch_optional(&mut *tx).await?;
        let Some((node, price)) = taken else {
            return Err(StoreError::Conflict { constraint: SHORT_STOCK.into() });
        };
        let cost = price.saturating_mul(quantity);
        let paid = sqlx::query(
            "UPDATE points_balance SET balance = balance - $1, updated_at = $2 WHERE node_code = $3 AND user_id = $4 AND balance >= $1",
        ).bind(cost).bind(now).bind(&node).bind(user_id).execute(&mut *tx).await?;
        if paid.rows_affected() != 1 {
            return Err(StoreError::Conflict { constraint: SHORT_BALANCE.into() });
        }
        let r: Redemption = sqlx::query_as(&sql).bind(&node).bind(user_id).bind(item_id).bind(quantity).bind(cost).bind(now)
            .fetch_one(&mut *tx).await?;
        let audit = AuditEntry::new(Some(user_id), "points.redeem", "points_redemption", r.id.to_string())
            .after(r.to_json());
        append_audit!(tx, &audit, now);
        r
    }))
}

/// Redemptions newest first, of a village and/or a user, with the item's name.
pub async fn redemptions(
    db: &Db,
    node: Option<&str>,
    user_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(Redemption, String)>, StoreError> {
    let sql = "SELECT r.id, r.node_code, r.user_id, r.item_id, r.quantity, r.points, r.redeemed_at, i.name \
         FROM points_redemption r JOIN points_item i ON i.id = r.item_id \
         WHERE ($1 IS NULL OR r.node_code = $1) AND ($2 IS NULL OR r.user_id = $2) ORDER BY r.id DESC LIMIT $3";
    type Row = (i64, String, i64, i64, i64, i64, i64, String);
    let rows: Vec<Row> = with_pool!(db, pool => sqlx::query_as(sql)
        .bind(node).bind(user_id).bind(limit).fetch_all(pool).await?);
    Ok(rows
        .into_iter()
        .map(
            |(id, node_code, user_id, item_id, quantity, points, redeemed_at, name)| {
                (
                    Redemption {
                        id,
                        node_code,
                        user_id,
                        item_id,
                        quantity,
                        points,
                        redeemed_at,
                    },
                    name,
                )
            },
        )
        .collect())
}

// ---- balances -------------------------------------------------------------------------------

/// A user's balance in a village (0 without any award).
pub async fn balance(db: &Db, node: &str, user_id: i64) -> Result<i64, StoreError> {
    let b: Option<i64> = with_pool!(db, pool => sqlx::query_scalar(
        "SELECT balance FROM points_balance WHERE node_code = $1 AND user_id = $2",
    ).bind(node).bind(user_id).fetch_optional(pool).await?);
    Ok(b.unwrap_or(0))
}

/// The top `limit` of a village by balance: (user, display name, balance).
pub async fn ranking(
    db: &Db,
    node: &str,
    limit: i64,
) -> Result<Vec<(i64, String, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT b.user_id, u.display_name, b.balance FROM points_balance b JOIN app_user u ON u.id = b.user_id \
         WHERE b.node_code = $1 ORDER BY b.balance DESC, b.user_id LIMIT $2",
    ).bind(node).bind(limit).fetch_all(pool).await?))
}

/// Every balance of a village: (user, balance), by user.
pub async fn balances(db: &Db, node: &str) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT user_id, balance FROM points_balance WHERE node_code = $1 ORDER BY user_id",
    ).bind(node).fetch_all(pool).await?))
}

/// The same balances recounted from the awards and redemptions (tests and checks): (user,
/// Σ awards − Σ redemptions), by user.
pub async fn recount(db: &Db, node: &str) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT user_id, CAST(SUM(p) AS BIGINT) FROM ( \
            SELECT user_id, points AS p FROM points_award WHERE node_code = $1 \
            UNION ALL SELECT user_id, -points AS p FROM points_redemption WHERE node_code = $1 \
         ) t GROUP BY user_id ORDER BY user_id",
    ).bind(node).fetch_all(pool).await?))
}

// ---- the sweep of confirmed reports ---------------------------------------------------------

/// A citizen's report closed as real: (event, grid, reporter, closed at).
pub type Confirmed = (i64, String, i64, i64);

/// Reports by citizens closed (verified, 结案) after `after` (closed at, event id), without
/// an award yet, oldest first, at most `limit`.
pub async fn confirmed_reports(
    db: &Db,
    after: (i64, i64),
    limit: i64,
) -> Result<Vec<Confirmed>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT e.id, e.grid_code, e.reporter_id, e.closed_at FROM event e JOIN app_user u ON u.id = e.reporter_id \
         WHERE e.state = 'closed' AND e.reporter_id IS NOT NULL AND e.closed_at >= $1 AND (e.closed_at > $1 OR e.id > $2) \
         AND u.role = 'citizen' \
         AND NOT EXISTS (SELECT 1 FROM points_award a WHERE a.source_event_id = e.id) \
         ORDER BY e.closed_at, e.id LIMIT $3",
    ).bind(after.0).bind(after.1).bind(limit).fetch_all(pool).await?))
}

/// When the earliest rule for confirmed reports in force was published (None: no village has
/// one, and the sweep has nothing to give).
pub async fn first_report_rule_at(db: &Db) -> Result<Option<i64>, StoreError> {
    Ok(with_pool!(db, pool => sqlx::query_scalar(
        "SELECT MIN(created_at) FROM points_rule WHERE kind = 'report_confirmed' AND active",
    ).fetch_one(pool).await?))
}

/// How far the sweep named `name` has read (0 before its first run).
pub async fn watermark(db: &Db, name: &str) -> Result<i64, StoreError> {
    let at: Option<i64> = with_pool!(db, pool => sqlx::query_scalar(
        "SELECT at FROM points_watermark WHERE name = $1",
    ).bind(name).fetch_optional(pool).await?);
    Ok(at.unwrap_or(0))
}

/// Moves the watermark forward (never back).
pub async fn set_watermark(db: &Db, name: &str, at: i64) -> Result<(), StoreError> {
    with_pool!(db, pool => sqlx::query(
        "INSERT INTO points_watermark (name, at) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET at = CASE WHEN points_watermark.at > $2 THEN points_watermark.at ELSE $2 END",
    ).bind(name).bind(at).execute(pool).await.map(|_| ())?);
    Ok(())
}

/// The citizen accounts registered as residents of the village (under its path), with their
/// balance: (user, display name, balance), by name, at most `limit`.
pub async fn residents(
    db: &Db,
    village: &str,
    village_path: &str,
    limit: i64,
) -> Result<Vec<(i64, String, i64)>, StoreError> {
    let end = shanzhi_domain::tree::subtree_end(village_path);
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT u.id, u.display_name, COALESCE(MAX(b.balance), 0) FROM resident r JOIN app_user u ON u.id = r.user_id \
         LEFT JOIN points_balance b ON b.user_id = u.id AND b.node_code = $3 \
         WHERE r.node_code >= $1 AND r.node_code < $2 AND r.status = 'present' AND u.role = 'citizen' \
         GROUP BY u.id, u.display_name ORDER BY u.display_name, u.id LIMIT $4",
    ).bind(village_path).bind(&end).bind(village).bind(limit).fetch_all(pool).await?))
}

/// Per village under `under`: (village, points awarded, of them automatically for confirmed
/// reports, points redeemed).
pub async fn figures_by_village(
    db: &Db,
    under: &str,
) -> Result<Vec<(String, i64, i64, i64)>, StoreError> {
    let end = shanzhi_domain::tree::subtree_end(under);
    Ok(with_pool!(db, pool => sqlx::query_as(
        "SELECT node_code, CAST(SUM(awarded) AS BIGINT), CAST(SUM(automatic) AS BIGINT), CAST(SUM(redeemed) AS BIGINT) FROM ( \
           SELECT node_code, points AS awarded, CASE WHEN awarded_by IS NULL THEN points ELSE 0 END AS automatic, 0 AS redeemed \
             FROM points_award WHERE node_code >= $1 AND node_code < $2 \
           UNION ALL \
           SELECT node_code, 0, 0, points FROM points_redemption WHERE node_code >= $1 AND node_code < $2 \
         ) x GROUP BY node_code ORDER BY node_code",
    ).bind(under).bind(&end).fetch_all(pool).await?))
}
