//! Embeds the web front end into the binary: our own files from `web/src/` and the library
//! files we use from `web/node_modules/` (installed with `npm ci` when missing or stale), so
//! the deployed server needs no internet and no CDN.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Library files taken from node_modules: (path under node_modules, path under /assets/vendor/).
const VENDOR: &[(&str, &str)] = &[
    ("leaflet/dist/leaflet.js", "leaflet.js"),
    ("leaflet/dist/leaflet.css", "leaflet.css"),
    (
        "leaflet/dist/images/marker-icon.png",
        "images/marker-icon.png",
    ),
    (
        "leaflet/dist/images/marker-icon-2x.png",
        "images/marker-icon-2x.png",
    ),
    (
        "leaflet/dist/images/marker-shadow.png",
        "images/marker-shadow.png",
    ),
    ("leaflet/dist/images/layers.png", "images/layers.png"),
    ("leaflet/dist/images/layers-2x.png", "images/layers-2x.png"),
    (
        "leaflet.markercluster/dist/leaflet.markercluster.js",
        "leaflet.markercluster.js",
    ),
    (
        "leaflet.markercluster/dist/MarkerCluster.css",
        "MarkerCluster.css",
    ),
    (
        "leaflet.markercluster/dist/MarkerCluster.Default.css",
        "MarkerCluster.Default.css",
    ),
    ("echarts/dist/echarts.min.js", "echarts.min.js"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let web = manifest
        .join("../../web")
        .canonicalize()
        .expect("the web/ folder next to crates/");
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package.json").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        web.join("package-lock.json").display()
    );
    println!("cargo:rerun-if-changed={}", web.join("src").display());
    // Not node_modules/.package-lock.json: `npm ci` below rewrites it while this script runs,
    // so cargo would see it newer than the run and build everything again next time. The
    // vendor files we embed are watched instead; after an install they get the lock file's
    // mtime (see `ensure_node_modules`), and a missing one makes cargo rerun this script,
    // which then installs it.
    for (from, _) in VENDOR {
        println!(
            "cargo:rerun-if-changed={}",
            web.join("node_modules").join(from).display()
        );
    }

    ensure_node_modules(&web);

    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (from, to) in VENDOR {
        let p = web.join("node_modules").join(from);
        assert!(
            p.exists(),
            "{} is missing: run `npm ci` in web/",
            p.display()
        );
        files.push((format!("vendor/{to}"), p));
    }
    collect(&web.join("src"), "", &mut files);
    files.sort();

    let mut out = String::from("/// Embedded web assets: (path under /assets/, bytes).\npub static ASSETS: &[(&str, &[u8])] = &[\n");
    for (name, path) in &files {
        let _ = writeln!(
            out,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("assets.rs");
    // Unchanged content keeps its mtime, so a rerun of this script alone recompiles nothing.
    if std::fs::read_to_string(&dest).ok().as_deref() != Some(out.as_str()) {
        std::fs::write(dest, out).expect("write assets.rs");
    }
}

/// Runs `npm ci` in `web/` when node_modules is missing or older than the lock file.
fn ensure_node_modules(web: &Path) {
    let marker = web.join("node_modules/.package-lock.json");
    let lock = web.join("package-lock.json");
    let stale = match (
        std::fs::metadata(&marker).and_then(|m| m.modified()),
        std::fs::metadata(&lock).and_then(|m| m.modified()),
    ) {
        (Ok(installed), Ok(locked)) => installed < locked,
        _ => true,
    };
    if !stale {
        return;
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let status = Command::new(npm)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(web)
        .status();
    match status {
        Ok(s) if s.success() => {
            // Files written during this run look newer than the run to cargo, which would run
            // this script (and rebuild the crate) once more on the next build. Date the files
            // we embed from the lock they were installed from: older than this run, and a
            // change of the lock reruns this script anyway.
            if let Ok(locked) = std::fs::metadata(&lock).and_then(|m| m.modified()) {
                for (from, _) in VENDOR {
                    let p = web.join("node_modules").join(from);
                    if let Ok(f) = std::fs::File::options().write(true).open(&p) {
                        let _ = f.set_modified(locked);
                    }
                }
            }
        }
        Ok(s) => panic!("`npm ci` in {} failed ({s}); the web assets cannot be built", web.display()),
        Err(e) => panic!(
            "cannot run npm ({e}): Shanzhi embeds its web assets from the npm registry at build time. \
             Install Node.js and npm (Debian: apt-get install nodejs npm) and build again."
        ),
    }
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if path.is_dir() {
            collect(&path, &rel, out);
        } else {
            out.push((rel, path));
        }
    }
}
