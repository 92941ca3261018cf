//! Buildings (楼栋) and houses (房屋) of the base data in from spreadsheets: the columns and the
//! import (with its template).

pub mod column;
pub mod import;
