//! Organisations of the base data in from spreadsheets: import and its template.

pub mod import;
