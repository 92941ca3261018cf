//! Residents of the base data in and out of spreadsheets: import, template and export.

pub mod column;
pub mod export;
pub mod import;
pub mod template;
