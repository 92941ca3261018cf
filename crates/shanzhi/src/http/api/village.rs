//! Who may do what in a village's own affairs (the books, and what builds on them): the village
//! code of a request, the duties (岗位) administrators give, and the villages a citizen lives in.

use serde_json::{json, Value};
use shanzhi_domain::ledger::Duty;
use shanzhi_domain::tree::{Level, NaturalLevel, NodeCode};
use shanzhi_domain::user::Role;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::CurrentUser;
use crate::http::state::AppState;

pub(crate) fn village(raw: &str, field: &str) -> ApiResult<NodeCode> {
    let code = NodeCode::parse(raw).map_err(|_| ApiError::invalid(field, "not a region code"))?;
    match code.natural_level() {
        NaturalLevel::Region(Level::Village) => Ok(code),
        _ => Err(ApiError::invalid(
            field,
            "a village's affairs are kept at a village (村、社区): give a village's code",
        )),
    }
}

/// The user's duties: (node, duty).
pub(crate) async fn duties(
    app: &AppState,
    user: &CurrentUser,
) -> ApiResult<Vec<(NodeCode, String)>> {
    Ok(shanzhi_store::ledger::duties_of(&app.db, user.user.id)
        .await?
        .into_iter()
        .filter_map(|(n, d)| NodeCode::parse(&n).ok().map(|n| (n, d)))
        .collect())
}

/// The duty `needed` if the user holds it for `village`, else none.
pub(crate) fn holding(held: &[(NodeCode, String)], village: &NodeCode, needed: Duty) -> Duty {
    let has = |word: &str, fits: &dyn Fn(&NodeCode) -> bool| {
        held.iter().any(|(n, d)| d == word && fits(n))
    };
    let ok = match needed {
        Duty::Treasurer => has("treasurer", &|n| n == village),
        Duty::Committee => has("committee", &|n| n == village),
        Duty::TownAgency => has("town_agency", &|n| n.contains(village)),
        Duty::None => false,
    };
    if ok {
        needed
    } else {
        Duty::None
    }
}

/// May the user read the books of everything under `node`? Staff whose area holds it (not
/// departments or citizens), or anyone with a duty over it.
pub(crate) fn reads(user: &CurrentUser, held: &[(NodeCode, String)], node: &NodeCode) -> bool {
    (!matches!(user.actor.role, Role::Citizen | Role::Handler) && user.actor.reaches(node))
        || held.iter().any(|(n, _)| n.contains(node))
}

/// May the user read the invoice images of entries at these villages (for the photo route)?
pub(crate) async fn reads_invoices_of(
    app: &AppState,
    user: &CurrentUser,
    villages: &[String],
) -> ApiResult<bool> {
    if villages.is_empty() {
        return Ok(false);
    }
    let held = duties(app, user).await?;
    Ok(villages
        .iter()
        .filter_map(|v| NodeCode::parse(v).ok())
        .any(|v| reads(user, &held, &v)))
}

/// The villages a citizen is registered in (their homes' nodes and the villages above them).
pub(crate) async fn home_villages(app: &AppState, user_id: i64) -> ApiResult<Vec<String>> {
    let mut villages: Vec<String> = Vec::new();
    for n in shanzhi_store::warning::home_nodes(&app.db, user_id).await? {
        if let Ok(c) = NodeCode::parse(&n) {
            for a in c
                .ancestor_codes()
                .into_iter()
                .chain(std::iter::once(c.as_str().to_owned()))
            {
                if let Ok(v) = NodeCode::parse(&a) {
                    if v.natural_level() == NaturalLevel::Region(Level::Village)
                        && !villages.contains(&a)
                    {
                        villages.push(a);
                    }
                }
            }
        }
    }
    Ok(villages)
}

/// The area a list of village affairs reads: `node` if given, else the user's area (staff) or
/// their first duty's node; refused outside what the user reads (`citizens` says where a
/// citizen reads instead).
pub(crate) fn list_root(
    user: &CurrentUser,
    held: &[(NodeCode, String)],
    node: Option<&str>,
    citizens: &str,
) -> ApiResult<NodeCode> {
    let root = match node {
        Some(raw) => {
            NodeCode::parse(raw).map_err(|_| ApiError::invalid("node", "not a region code"))?
        }
        // The user's area, unless it lies inside the village of their duty (a grid worker who
        // keeps the village's books reads the village's).
        None => match (user.actor.scope.node(), held.first()) {
            (_, Some((d, _))) if user.actor.scope.node().is_none_or(|n| !n.contains(d)) => {
                d.clone()
            }
            (Some(n), _) if !matches!(user.actor.role, Role::Citizen | Role::Handler) => n.clone(),
            (_, Some((n, _))) => n.clone(),
            _ => return Err(ApiError::forbidden(citizens.to_owned())),
        },
    };
    if !reads(user, held, &root) {
        return Err(ApiError::forbidden("outside your area"));
    }
    Ok(root)
}

/// May the user speak for the village (publish its notices, answer its villagers' questions)?
/// Its treasurer or committee, the town's agency over it, and dispatchers or administrators
/// whose area holds it.
pub(crate) fn speaks_for(
    user: &CurrentUser,
    held: &[(NodeCode, String)],
    village: &NodeCode,
) -> bool {
    (matches!(user.actor.role, Role::Dispatcher | Role::Admin) && user.actor.reaches(village))
        || [Duty::Treasurer, Duty::Committee, Duty::TownAgency]
            .into_iter()
            .any(|d| holding(held, village, d) != Duty::None)
}

/// A page of a village list, newest first, read `limit + 1` rows deep: the first `limit` rows
/// as `to_json` writes them, and the cursor of the next page (`before`) when there is one.
pub(crate) fn newest_first<T>(
    mut rows: Vec<T>,
    limit: i64,
    id: impl Fn(&T) -> i64,
    to_json: impl Fn(&T) -> Value,
) -> Value {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    let next = if more { rows.last().map(&id) } else { None };
    json!({"items": rows.iter().map(to_json).collect::<Vec<_>>(), "next_cursor": next})
}
