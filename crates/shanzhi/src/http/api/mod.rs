//! The JSON API under `/api/v1`, plus the operational endpoints.

pub mod audit;
pub mod auth;
pub mod category;
pub mod department;
pub mod event;
pub mod figures;
pub mod locate;
pub mod node;
pub mod ops;
pub mod photo;
pub mod tree;
pub mod user;

use axum::Router;

use super::state::AppState;

/// Every API route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(ops::router())
        .merge(auth::router())
        .merge(node::router())
        .merge(tree::router())
        .merge(locate::router())
        .merge(user::router())
        .merge(department::router())
        .merge(audit::router())
        .merge(category::router())
        .merge(event::router())
        .merge(photo::router())
        .merge(figures::router())
}
