//! Point location in process: a synthetic two-level Voronoi tiling (about 15,000 grids, built in
//! a fraction of a second with `grid::tiling`, no database), the raster [`Locator`] against the
//! R-tree [`ReferenceLocator`] it replaced.
//!
//!   cargo bench -p shanzhi-domain --bench locate
//!
//! With `SHANZHI_LOCATE_EXPORT=dir` it reads `dir/grids.tsv` and `dir/points.csv` instead (as
//! `SHANZHI_BENCH_EXPORT` of `crates/shanzhi/benches/locate.rs` writes them, e.g.
//! `bench/cache/province-points`), first checks every answer against the exported expected code,
//! then benches on the first 100,000 of those points. The whole-system figure on the province
//! demo stays `crates/shanzhi/benches/locate.rs`.

use std::hint::black_box;
use std::sync::LazyLock;

use divan::counter::ItemsCount;
use divan::Bencher;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use shanzhi_domain::grid::locate::ReferenceLocator;
use shanzhi_domain::grid::{tiling, Locator, LonLat, Shape};

/// Points located per benchmark iteration (synthetic tiling).
const POINTS: usize = 10_000;
/// Points located per benchmark iteration (exported grids).
const EXPORT_POINTS: usize = 100_000;

/// Grids by code.
type Grids = Vec<(String, Shape)>;
/// Points with the code the exporting run found there.
type Expected = Vec<(LonLat, Option<String>)>;

/// The exported grids and points, when `SHANZHI_LOCATE_EXPORT` names a directory.
static EXPORT: LazyLock<Option<(Grids, Expected)>> = LazyLock::new(|| {
    let dir = std::env::var("SHANZHI_LOCATE_EXPORT").ok()?;
    let read = |name: &str| {
        std::fs::read_to_string(format!("{dir}/{name}"))
            .unwrap_or_else(|e| panic!("{dir}/{name}: {e}"))
    };
    let grids = read("grids.tsv")
        .lines()
        .map(|line| {
            let (code, json) = line.split_once('\t').expect("code TAB GeoJSON");
            let value = serde_json::from_str(json).expect("GeoJSON");
            (
                code.to_owned(),
                Shape::from_geojson(&value).expect("valid shape"),
            )
        })
        .collect();
    let points = read("points.csv")
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let at = LonLat::parse(f[1].parse().unwrap(), f[2].parse().unwrap()).unwrap();
            (at, Some(f[3]).filter(|c| !c.is_empty()).map(str::to_owned))
        })
        .collect();
    Some((grids, points))
});

/// The grids: exported ones, or 120 villages of 125 grids each over a county-sized pentagon
/// (as the demo builds them).
static GRIDS: LazyLock<Grids> = LazyLock::new(|| {
    if let Some((grids, _)) = &*EXPORT {
        return grids.clone();
    }
    let county = [
        (113.0, 22.0),
        (114.2, 21.8),
        (114.6, 22.8),
        (113.6, 23.4),
        (112.8, 22.8),
    ];
    let mut rng = SmallRng::seed_from_u64(7);
    let mut grids = Vec::new();
    for (v, village) in tiling::split(&county, 120, &mut rng).iter().enumerate() {
        for (g, cell) in tiling::split(village, 125, &mut rng).iter().enumerate() {
            if let Ok(shape) = Shape::from_ring(cell.clone()) {
                grids.push((format!("441502{v:06}{g:03}"), shape));
            }
        }
    }
    grids
});

/// Exported points, or a grid uniformly, then a point uniformly in its bounding box (as the
/// province bench samples).
static POINTS_IN_GRIDS: LazyLock<Vec<LonLat>> = LazyLock::new(|| {
    if let Some((_, points)) = &*EXPORT {
        return points.iter().take(EXPORT_POINTS).map(|p| p.0).collect();
    }
    let mut rng = SmallRng::seed_from_u64(6);
    (0..POINTS)
        .map(|_| {
            let b = GRIDS[rng.gen_range(0..GRIDS.len())].1.bbox();
            LonLat::parse(rng.gen_range(b[0]..=b[2]), rng.gen_range(b[1]..=b[3])).unwrap()
        })
        .collect()
});

static LOCATOR: LazyLock<Locator> = LazyLock::new(|| Locator::build(GRIDS.iter().cloned()));
static REFERENCE: LazyLock<ReferenceLocator> =
    LazyLock::new(|| ReferenceLocator::build(GRIDS.iter().cloned()));

fn main() {
    let t = std::time::Instant::now();
    let grids = GRIDS.len();
    let tiling_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = std::time::Instant::now();
    let bytes = LOCATOR.memory_bytes();
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{grids} grids (tiled in {tiling_ms:.0} ms); Locator built in {build_ms:.1} ms, \
         {:.1} MiB",
        bytes as f64 / (1 << 20) as f64
    );
    if let Some((_, points)) = &*EXPORT {
        let wrong = points
            .iter()
            .filter(|(at, want)| LOCATOR.locate(*at).map(|l| l.code) != *want)
            .count();
        println!(
            "{} exported points checked, {wrong} answers differ",
            points.len()
        );
        assert_eq!(wrong, 0, "the index must answer as the exported run did");
    }
    divan::main();
}

/// The raster index: lookups of `POINTS` points.
#[divan::bench(sample_count = 30)]
fn locate(bencher: Bencher) {
    let (loc, points) = (&*LOCATOR, &*POINTS_IN_GRIDS);
    bencher.counter(ItemsCount::new(points.len())).bench(|| {
        points
            .iter()
            .filter_map(|&p| black_box(loc.locate(p)))
            .count()
    });
}

/// The R-tree plus `geo::Intersects` on each candidate, for comparison.
#[divan::bench(sample_count = 10)]
fn locate_reference(bencher: Bencher) {
    let (loc, points) = (&*REFERENCE, &*POINTS_IN_GRIDS);
    bencher.counter(ItemsCount::new(points.len())).bench(|| {
        points
            .iter()
            .filter_map(|&p| black_box(loc.locate(p)))
            .count()
    });
}

/// Building the index from the grids (it is rebuilt whenever grids change).
#[divan::bench(sample_count = 10)]
fn build(bencher: Bencher) {
    bencher
        .with_inputs(|| GRIDS.clone())
        .bench_values(Locator::build);
}
