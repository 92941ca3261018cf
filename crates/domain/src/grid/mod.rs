//! Grids as shapes: polygons in and out of GeoJSON, point location, and the demo tiling.

pub mod crs;
pub mod locate;
pub mod polygon;
pub mod tiling;

pub use crs::Crs;
pub use locate::{Located, Locator};
pub use polygon::{LonLat, Shape};
