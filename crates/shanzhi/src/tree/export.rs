//! One export for the command line and the API: the root's stored ancestors first, then the
//! subtree, in path order, each feature with the same keys in the same order and coordinates
//! rounded to 7 decimals — so an export loads into an empty database, and export → import →
//! export gives the same bytes.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;
use shanzhi_domain::tree::NodeCode;
use shanzhi_store::node::Node;
use shanzhi_store::{Db, StoreError};

use crate::http::error::ApiError;

/// Nodes read from the store at a time.
const PAGE: i64 = 5000;

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Store(e) => e.into(),
            ExportError::Write(e) => ApiError::internal(e.into()),
        }
    }
}

/// One feature of the export: keys in this order, always all of them.
#[derive(Serialize)]
struct Feature<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    properties: Properties<'a>,
    geometry: Option<Geometry>,
}

#[derive(Serialize)]
struct Properties<'a> {
    code: &'a str,
    name: &'a str,
    level: &'a str,
    parent: Option<&'a str>,
}

/// A GeoJSON geometry with `type` before `coordinates`, whatever order a JSON map keeps.
#[derive(Serialize)]
struct Geometry {
    #[serde(rename = "type")]
    kind: Value,
    coordinates: Value,
}

fn feature_json(n: &Node, with_shape: bool) -> Result<Vec<u8>, serde_json::Error> {
    let geometry = match (&n.shape, with_shape) {
        (Some(s), true) => {
            let mut g = s.to_geojson();
            Some(Geometry {
                kind: g["type"].take(),
                coordinates: g["coordinates"].take(),
            })
        }
        _ => None,
    };
    serde_json::to_vec(&Feature {
        kind: "Feature",
        properties: Properties {
            code: n.code.as_str(),
            name: &n.name,
            level: n.level.as_str(),
            parent: n.parent.as_ref().map(NodeCode::as_str),
        },
        geometry,
    })
}

/// Writes the subtree under `root` as a GeoJSON FeatureCollection to `out`, one feature a line,
/// after the root's stored ancestors (code, name, level, parent; their outline where
/// `ancestor_shape` allows: the API shows outlines only inside the caller's area). Returns the
/// number of features; `StoreError::NotFound` when `root` is not stored.
pub async fn write<W: Write + Send>(
    db: &Db,
    root: &NodeCode,
    ancestor_shape: impl Fn(&NodeCode) -> bool,
    out: &mut W,
) -> Result<usize, ExportError> {
    // The root first, so that a missing one writes nothing.
    let first = shanzhi_store::node::subtree(db, root, None, PAGE, true).await?;
    if first.first().map(|n| &n.code) != Some(root) {
        return Err(StoreError::NotFound.into());
    }
    let to_io = |e: serde_json::Error| ExportError::Write(e.into());
    let mut count = 0usize;
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    let mut put = |out: &mut W, bytes: Vec<u8>| -> Result<(), ExportError> {
        if count > 0 {
            out.write_all(b",\n")?;
        }
        out.write_all(&bytes)?;
        count += 1;
        Ok(())
    };
    for a in shanzhi_store::node::ancestors(db, root).await? {
        put(
            out,
            feature_json(&a, ancestor_shape(&a.code)).map_err(to_io)?,
        )?;
    }
    let mut page = first;
    loop {
        for n in &page {
            put(out, feature_json(n, true).map_err(to_io)?)?;
        }
        if page.len() < PAGE as usize {
            break;
        }
        let after = page.last().map(|n| n.code.path().to_owned());
        page = shanzhi_store::node::subtree(db, root, after.as_deref(), PAGE, true).await?;
    }
    out.write_all(b"\n]}\n")?;
    out.flush()?;
    Ok(count)
}
