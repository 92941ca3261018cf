//! The JSON API under `/api/v1`, plus the operational endpoints.

pub mod audit;
pub mod auth;
pub mod base;
pub mod briefing;
pub mod category;
pub mod consultation;
pub mod contract;
pub mod correction;
pub mod department;
pub mod disclosure;
pub mod dispute;
pub mod dispute_agreement;
pub mod dispute_map;
pub mod doc;
pub mod duplicate;
pub mod emergency;
pub mod event;
pub mod export;
pub mod figures;
pub mod figures_base;
pub mod figures_village;
pub mod grid_first;
pub mod hotline;
pub mod house;
pub mod household;
pub mod inbox;
pub mod ledger;
pub mod locate;
pub mod map;
pub mod mediator;
pub mod names;
pub mod node;
pub mod notification;
pub mod opinion;
pub mod ops;
pub mod organisation;
pub mod person;
pub mod photo;
pub mod place;
pub mod points;
pub mod question;
pub mod register_import;
pub mod resident;
pub mod resident_import;
pub mod risk;
pub mod tag;
pub mod tree;
pub mod user;
pub mod village;
pub mod visit;
pub mod warning;

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
        .merge(resident::routes())
        .merge(household::routes())
        .merge(correction::routes())
        .merge(tag::routes())
        .merge(visit::routes())
        .merge(figures_base::routes())
        .merge(house::routes())
        .merge(place::routes())
        .merge(organisation::routes())
        .merge(emergency::routes())
        .merge(register_import::routes())
        .merge(resident_import::routes())
        .merge(dispute::routes())
        .merge(dispute_agreement::routes())
        .merge(dispute_map::routes())
        .merge(mediator::routes())
        .merge(ledger::routes())
        .merge(disclosure::routes())
        .merge(question::routes())
        .merge(consultation::routes())
        .merge(opinion::routes())
        .merge(figures_village::routes())
        .merge(contract::routes())
        .merge(points::routes())
        .merge(risk::routes())
        .merge(warning::routes())
        .merge(briefing::routes())
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
