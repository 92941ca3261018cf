//! One integration-test binary: every test drives a real server over HTTP, on SQLite and (with
//! SHANZHI_TEST_DATABASE_URL set) again on a fresh PostgreSQL database.

#[macro_use]
mod helpers;

mod assets;
mod audit;
mod auth;
mod browser;
mod dashboard;
mod errors;
mod event;
mod export;
mod grid_take;
mod hotline;
mod inbox;
mod jurisdiction;
mod locate;
mod map;
mod matrix;
mod merge;
mod node;
mod notification;
mod open311;
mod openapi;
mod ops;
mod person;
mod photo;
mod resident_import;
mod security;
mod tree;
mod tree_io;
mod user;
