//! One integration-test binary: every test drives a real server over HTTP, on SQLite and (with
//! SHANZHI_TEST_DATABASE_URL set) again on a fresh PostgreSQL database.

#[macro_use]
mod helpers;

mod assets;
mod audit;
mod auth;
mod briefing;
mod browser;
mod building_import;
mod consultation;
mod contract;
mod dashboard;
mod dispute;
mod dispute_agreement;
mod dispute_map;
mod emergency;
mod errors;
mod event;
pub mod export;
mod figures_base;
mod grid_take;
mod hotline;
pub mod house;
mod household;
mod inbox;
mod jurisdiction;
pub mod ledger;
mod locate;
mod map;
mod matrix;
mod merge;
mod node;
mod notification;
mod open311;
mod openapi;
mod opinion;
mod ops;
mod organisation;
mod organisation_import;
mod person;
mod photo;
mod pii;
mod place;
mod place_import;
mod points;
mod question;
mod resident;
mod resident_import;
mod risk;
mod security;
mod tag;
mod tree;
mod tree_io;
mod user;
mod visit;
mod warning;
