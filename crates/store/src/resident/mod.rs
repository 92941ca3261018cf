//! Residents, households, buildings and houses of the base data.
pub mod bulk;
