//! People as others see them: names and units resolved in one query, then cut down by the
//! domain's rule ([`shanzhi_domain::user::person::shown`]) for the user who asks.

use std::collections::HashMap;

use serde_json::{json, Value};
use shanzhi_domain::tree::NodeCode;
use shanzhi_domain::user::person::{mask_name, shown, Person, Shown};
use shanzhi_domain::user::{Actor, Role};
use shanzhi_store::user::PersonRow;

use crate::http::error::ApiError;
use crate::http::state::AppState;

/// What a viewer is shown of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub id: i64,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub role: Option<String>,
    pub shown: Shown,
}

impl Seen {
    /// For the API.
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "unit": self.unit, "role": self.role})
    }
}

fn person_of(row: &PersonRow) -> Option<Person> {
    let role = Role::parse(&row.role).ok()?;
    let node = row
        .department_region
        .as_deref()
        .or(row.scope_code.as_deref())
        .and_then(|c| NodeCode::parse(c).ok());
    Some(Person {
        id: row.id,
        role,
        node,
        department_id: row.department_id,
    })
}

/// The people with these ids as `viewer` may see them (those the viewer may not see at all
/// are left out). `on_their_order`: the ids are of people who acted on an order the viewer
/// may see.
pub async fn seen(
    app: &AppState,
    viewer: &Actor,
    ids: &[i64],
    on_their_order: bool,
) -> Result<HashMap<i64, Seen>, ApiError> {
    let rows = shanzhi_store::user::people(&app.db, ids).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in &rows {
        let Some(person) = person_of(row) else {
            continue;
        };
        let unit = row.department_name.clone().or(row.scope_name.clone());
        let s = shown(viewer, &person, on_their_order);
        let (name, unit, role) = match s {
            Shown::Full => (Some(row.display_name.clone()), unit, Some(row.role.clone())),
            Shown::Masked => (
                Some(mask_name(&row.display_name)),
                None,
                Some(row.role.clone()),
            ),
            Shown::UnitOnly => (None, unit, Some(row.role.clone())),
            Shown::Hidden => continue,
        };
        out.insert(
            row.id,
            Seen {
                id: row.id,
                name,
                unit,
                role,
                shown: s,
            },
        );
    }
    Ok(out)
}
