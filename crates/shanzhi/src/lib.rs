//! Shanzhi: grid-based grassroots governance in one binary.

pub mod briefing;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod commit;
pub mod config;
pub mod demo;
pub mod dispute;
pub mod event;
pub mod house;
pub mod http;
pub mod import;
pub mod metrics;
pub mod notification;
pub mod organisation;
pub mod password;
pub mod person;
pub mod place;
pub mod reference;
pub mod resident;
pub mod risk;
pub mod startup;
pub mod telemetry;
pub mod tree;
pub mod warning;
pub mod workbook;
