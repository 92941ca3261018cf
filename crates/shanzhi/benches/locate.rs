//! Locate benchmark: points → deepest grid, single-threaded, over the grids of a demo database.
//!
//! Not a criterion/divan bench: one process, one fixed point set, several timed passes, JSON out.
//!
//!   SHANZHI_BENCH_DB=bench/cache/province.db cargo bench --bench locate
//!
//! Environment:
//!   SHANZHI_BENCH_DB      SQLite file (or sqlite:// URL) built by `shanzhi demo` (required)
//!   SHANZHI_BENCH_POINTS  number of points (default 1000000)
//!   SHANZHI_BENCH_RUNS    timed passes over all points (default 5)
//!   SHANZHI_BENCH_SEED    RNG seed (default 6)
//!   SHANZHI_BENCH_SAMPLE  `grids` (default: pick a grid uniformly, then a point uniformly in its
//!                         bounding box) or `bbox` (uniform in the bounding box of all grids)
//!   SHANZHI_BENCH_EXPORT  directory: also write grids.tsv (code TAB GeoJSON) and points.csv
//!                         (id,lon,lat,expected code or empty) for the PostGIS peer
//!
//! Prints one JSON object on stdout; exits non-zero on any error.

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use geo::{Coord, Intersects, Point};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use shanzhi_domain::grid::{Locator, LonLat, Shape};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let db = std::env::var("SHANZHI_BENCH_DB")
        .map_err(|_| anyhow::anyhow!("set SHANZHI_BENCH_DB to a demo SQLite file"))?;
    let url = if db.starts_with("sqlite:") {
        db.clone()
    } else {
        format!("sqlite://{db}")
    };
    let n: usize = env_or("SHANZHI_BENCH_POINTS", 1_000_000);
    let runs: usize = env_or("SHANZHI_BENCH_RUNS", 5).max(1);
    let seed: u64 = env_or("SHANZHI_BENCH_SEED", 6);
    let sample = std::env::var("SHANZHI_BENCH_SAMPLE").unwrap_or_else(|_| "grids".into());
    let export = std::env::var("SHANZHI_BENCH_EXPORT").ok();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let rows = rt.block_on(async {
        let db = shanzhi_store::Db::connect(&url, 2).await?;
        // Grids only (paths longer than a village's): the PostGIS peer indexes the same shapes.
        let mut rows = shanzhi_store::node::located_shapes(&db).await?;
        rows.retain(|(path, _)| path.len() > 12);
        db.close().await;
        anyhow::Ok(rows)
    })?;
    anyhow::ensure!(!rows.is_empty(), "no grid shapes in {db}");

    let t = Instant::now();
    let mut grids = Vec::with_capacity(rows.len());
    for (code, text) in &rows {
        let v: serde_json::Value = serde_json::from_str(text)?;
        let shape = Shape::from_geojson(&v).map_err(|e| anyhow::anyhow!("grid {code}: {e:?}"))?;
        grids.push((code.clone(), shape));
    }
    let parse_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let locator = Locator::build(grids.iter().cloned());
    let build_ms = t.elapsed().as_secs_f64() * 1e3;

    // The points: fixed seed, so every run (and the PostGIS peer) sees the same ones.
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut all = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for (_, s) in &grids {
        let b = s.bbox();
        all = [
            all[0].min(b[0]),
            all[1].min(b[1]),
            all[2].max(b[2]),
            all[3].max(b[3]),
        ];
    }
    let mut points = Vec::with_capacity(n);
    for _ in 0..n {
        let (lon, lat) = if sample == "bbox" {
            (rng.gen_range(all[0]..all[2]), rng.gen_range(all[1]..all[3]))
        } else {
            // A grid uniformly, then a point uniformly in its bounding box, retried a few times
            // until it falls inside the shape (a point near a boundary may still land next door).
            let (_, s) = &grids[rng.gen_range(0..grids.len())];
            let b = s.bbox();
            let mut p = (b[0], b[1]);
            for _ in 0..8 {
                p = (rng.gen_range(b[0]..=b[2]), rng.gen_range(b[1]..=b[3]));
                if s.geometry().intersects(&Point(Coord { x: p.0, y: p.1 })) {
                    break;
                }
            }
            p
        };
        points.push(LonLat::parse(lon, lat).map_err(|e| anyhow::anyhow!("{e:?}"))?);
    }

    // Warm-up pass (also the expected answers for the export), then the timed passes.
    let t = Instant::now();
    let expected: Vec<Option<String>> = points
        .iter()
        .map(|p| locator.locate(*p).map(|l| l.code))
        .collect();
    let warm_s = t.elapsed().as_secs_f64();
    let hits = expected.iter().filter(|e| e.is_some()).count();
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let mut found = 0usize;
        for p in &points {
            if black_box(locator.locate(black_box(*p))).is_some() {
                found += 1;
            }
        }
        let secs = t.elapsed().as_secs_f64();
        anyhow::ensure!(
            found == hits,
            "locate is not deterministic: {found} vs {hits} hits"
        );
        rates.push(n as f64 / secs);
    }
    let mut sorted = rates.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = sorted[sorted.len() / 2];

    if let Some(dir) = &export {
        std::fs::create_dir_all(dir)?;
        let mut g = std::io::BufWriter::new(std::fs::File::create(format!("{dir}/grids.tsv"))?);
        for (code, text) in &rows {
            writeln!(g, "{code}\t{}", text.replace(['\t', '\n', '\r'], " "))?;
        }
        g.flush()?;
        let mut f = std::io::BufWriter::new(std::fs::File::create(format!("{dir}/points.csv"))?);
        for (i, (p, e)) in points.iter().zip(&expected).enumerate() {
            writeln!(
                f,
                "{},{},{},{}",
                i + 1,
                p.lon(),
                p.lat(),
                e.as_deref().unwrap_or("")
            )?;
        }
        f.flush()?;
    }

    let out = serde_json::json!({
        "bench": "locate",
        "db": db,
        "grids": locator.len(),
        "points": n,
        "sample": sample,
        "seed": seed,
        "runs": runs,
        "hits": hits,
        "parse_ms": parse_ms,
        "build_ms": build_ms,
        "index_bytes": locator.memory_bytes(),
        "warmup_lookups_per_s": n as f64 / warm_s,
        "lookups_per_s": rates,
        "median_lookups_per_s": median,
        "threads": 1,
    });
    println!("{out}");
    Ok(())
}
