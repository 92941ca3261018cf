//! The JSON API under `/api/v1`, plus the operational endpoints.

pub mod audit;
pub mod auth;
pub mod category;
pub mod department;
pub mod doc;
pub mod duplicate;
pub mod event;
pub mod export;
pub mod figures;
pub mod grid_first;
pub mod hotline;
pub mod inbox;
pub mod locate;
pub mod map;
pub mod names;
pub mod node;
pub mod notification;
pub mod ops;
pub mod person;
pub mod photo;
pub mod resident_import;
pub mod tree;
pub mod user;

use axum::Router;

use self::doc::Routes;
use super::state::AppState;

/// Every documented API route (everything under `/api/v1`).
pub fn routes() -> Routes {
    Routes::new()
        .merge(auth::routes())
        .merge(node::routes())
        .merge(tree::routes())
        .merge(locate::routes())
        .merge(user::routes())
        .merge(department::routes())
        .merge(audit::routes())
        .merge(category::routes())
        .merge(export::routes())
        .merge(hotline::routes())
        .merge(event::routes())
        .merge(notification::routes())
        .merge(person::routes())
        .merge(inbox::routes())
        .merge(duplicate::routes())
        .merge(grid_first::routes())
        .merge(photo::routes())
        .merge(figures::routes())
        .merge(map::routes())
        .merge(resident_import::routes())
}

/// Every route: the API, its OpenAPI document, and the operational endpoints.
pub fn router() -> Router<AppState> {
    let api = routes();
    let document = std::sync::Arc::new(api.openapi());
    api.router.merge(ops::router()).route(
        "/api/v1/openapi.json",
        axum::routing::get(move || {
            let d = document.clone();
            async move { axum::Json((*d).clone()) }
        }),
    )
}
