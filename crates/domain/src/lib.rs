//! Shanzhi's domain: the rules of grid governance as plain Rust, with no I/O.
//!
//! Every adapter (store, HTTP, CLI) parses raw input into the types here once and then
//! asks these functions what is allowed. Time comes in as an argument, never from a clock.

pub mod audit;
pub mod briefing;
pub mod calendar;
pub mod consultation;
pub mod contract;
pub mod disclosure;
pub mod dispute;
pub mod emergency;
pub mod error;
pub mod event;
pub mod grid;
pub mod house;
pub mod household;
pub mod ledger;
pub mod opinion;
pub mod organisation;
pub mod place;
pub mod points;
pub mod question;
pub mod resident;
pub mod risk;
pub mod tag;
pub mod text;
pub mod tree;
pub mod user;
pub mod warning;

pub use error::DomainError;
