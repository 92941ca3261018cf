//! Places of the base data in from spreadsheets: the columns and the import (with its
//! template).

pub mod column;
pub mod import;
