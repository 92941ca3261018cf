//! The mediation agreement of a case (调解协议书): as JSON for the console's printable A4 page
//! and as a Word document (.docx). Who may read the case reads its agreement; parties' names
//! are shown in full to the holding centre and the assigned mediator only, ID numbers always
//! masked, except in the copy the centre or the mediator prints for signature: `?purpose=…`
//! reveals them, and the reveal is written to the audit log with its purpose.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use shanzhi_domain::calendar::local_date;
use shanzhi_domain::dispute::sees_names;
use shanzhi_domain::user::person::mask_name;
use shanzhi_domain::user::Actor;

use super::doc::{schema as s, Doc, Routes};
use super::person::check_purpose;
use crate::dispute::agreement::{
    render_docx, terms_from_text, Agreement, AgreementParty, PartyRole,
};
use crate::dispute::{involvement, node_of, visible};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{CurrentUser, Query};
use crate::http::state::AppState;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
/// What the form says of performance when the terms carry their own dates.
const PERFORMANCE: &str = "按本协议所列各项约定的方式和期限履行；调解员将回访履行情况。";

/// `/api/v1/disputes/{id}/agreement` and `…/agreement.docx`.
pub fn routes() -> Routes {
    Routes::new()
        .get(
            "/api/v1/disputes/{id}/agreement",
            json_page,
            Doc::new("dispute", "The case's agreement for the printable A4 page: parties (ID numbers masked; with a purpose the centre or the assigned mediator reveals them for signature, audited), facts, numbered terms, mediators, centre, date")
                .path("id", s::int64())
                .query("purpose", s::note(200, true), "why the ID numbers are revealed (centre or assigned mediator; audited)"),
        )
        .get(
            "/api/v1/disputes/{id}/agreement.docx",
            docx,
            Doc::new("dispute", "The case's agreement as a Word document, under the same rule as the JSON page")
                .path("id", s::int64())
                .query("purpose", s::note(200, true), "why the ID numbers are revealed (centre or assigned mediator; audited)")
                .produces(DOCX),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgreementQuery {
    purpose: Option<String>,
}

/// The agreement as `actor` may see it, whether they may reveal, and whether it is revealed.
async fn agreement(
    app: &AppState,
    actor: &Actor,
    id: i64,
    purpose: Option<&str>,
) -> ApiResult<(Agreement, bool, bool)> {
    let (row, st) = visible(app, actor, id).await?;
    let terms = match (row.outcome.as_deref(), &row.outcome_text) {
        (Some("agreement"), Some(text)) => terms_from_text(text),
        _ => return Err(ApiError::conflict(None, "the case has no agreement")),
    };
    let node = node_of(&row)?;
    let entitled = sees_names(actor, &node, involvement(&row, &st, actor));
    let purpose = purpose.map(check_purpose).transpose()?;
    if purpose.is_some() && !entitled {
        return Err(ApiError::forbidden(
            "only the holding centre and the assigned mediator print the agreement for signature",
        ));
    }
    let parties = shanzhi_store::dispute::parties(&app.db, id).await?;
    let revealed = match purpose {
        Some(p) => Some(
            shanzhi_store::dispute::reveal_ids(
                &app.db,
                &app.pii,
                id,
                p,
                actor.user_id,
                app.clock.now_ms(),
            )
            .await?,
        ),
        None => None,
    };
    let parties = parties
        .into_iter()
        .map(|p| {
            let opened = revealed
                .as_ref()
                .and_then(|r| r.iter().find(|x| x.party_id == p.id));
            let plain = opened.and_then(|x| x.id_number.clone());
            let address = opened.and_then(|x| x.address.clone());
            AgreementParty {
                role: PartyRole::parse(&p.role).unwrap_or(PartyRole::Other),
                name: if entitled {
                    p.name.clone()
                } else {
                    mask_name(&p.name)
                },
                gender: match p.gender.as_deref() {
                    Some("male") => Some("男".to_owned()),
                    Some("female") => Some("女".to_owned()),
                    _ => None,
                },
                id_number: plain.or(p.id_mask),
                address: address.or(p.address.filter(|_| entitled)),
            }
        })
        .collect();
    let mediators = match row.mediator_id {
        Some(m) => vec![shanzhi_store::mediator::get(&app.db, m).await?.name],
        None => Vec::new(),
    };
    let centre = shanzhi_store::node::get(&app.db, &node).await?.name;
    let a = Agreement {
        number: row.number.clone(),
        centre: format!("{centre}矛盾纠纷调解中心"),
        parties,
        mediators,
        facts: row.summary.clone(),
        terms,
        performance: PERFORMANCE.to_owned(),
        date: local_date(row.outcome_at.unwrap_or(row.updated_at)),
    };
    Ok((a, entitled, revealed.is_some()))
}

async fn json_page(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<AgreementQuery>,
) -> ApiResult<impl IntoResponse> {
    let (a, can_reveal, revealed) = agreement(&app, &user.actor, id, q.purpose.as_deref()).await?;
    let mut v = serde_json::to_value(&a).map_err(|e| ApiError::internal(e.into()))?;
    v["can_reveal"] = json!(can_reveal);
    v["revealed"] = json!(revealed);
    // Never kept by a cache: a revealed copy holds ID numbers.
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(v)))
}

async fn docx(
    State(app): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<AgreementQuery>,
) -> ApiResult<Response> {
    let (a, _, _) = agreement(&app, &user.actor, id, q.purpose.as_deref()).await?;
    let number = a.number.clone();
    let bytes = tokio::task::spawn_blocking(move || render_docx(&a))
        .await
        .map_err(|e| ApiError::internal(e.into()))?
        .map_err(|e| ApiError::internal(e.into()))?;
    let ascii: String = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let zh: String =
        form_urlencoded::byte_serialize(format!("调解协议书-{number}.docx").as_bytes()).collect();
    let disposition = format!(
        "attachment; filename=\"agreement-{ascii}.docx\"; filename*=UTF-8''{}",
        zh.replace('+', "%20")
    );
    Ok((
        [
            (header::CONTENT_TYPE, DOCX.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
