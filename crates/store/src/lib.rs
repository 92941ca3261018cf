//! Shanzhi's storage: the only crate that knows SQL.
//!
//! One repository layer over two engines. SQL is written once with `$N` placeholders (both
//! engines accept them) and compiled once per engine by [`with_pool!`] / [`with_tx!`]; where the
//! dialects differ, both arms sit side by side in the same function.

#[macro_use]
pub mod db;
#[macro_use]
pub mod audit;
pub mod backup;
pub mod briefing;
#[macro_use]
pub mod notification;
#[macro_use]
pub mod tally;

pub mod caller;
pub mod category;
pub mod change;
pub mod consultation;
pub mod contract;
pub mod correction;
pub mod department;
pub mod disclosure;
pub mod dispute;
pub mod emergency;
pub mod error;
pub mod event;
pub mod grid_first;
pub mod history;
pub mod house;
pub mod household;
pub mod lease;
pub mod ledger;
pub mod mediator;
pub mod node;
pub mod open311;
pub mod opinion;
pub mod organisation;
pub mod partition;
pub mod pii;
pub mod place;
pub mod points;
pub mod question;
pub mod resident;
pub mod risk;
pub mod session;
pub mod sqlite_load;
pub mod sqlite_read;
pub mod tag;
pub mod throttle;
pub mod user;
pub mod visit;
pub mod warning;

pub use db::{Db, Engine};
pub use error::StoreError;
