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

/// The Chinese web font: Noto Sans SC from @fontsource, the weights the styles use (400; 500
/// falls back to it, 600 and 700 to 700), as woff2 subsets by unicode range, so a browser loads
/// only the subsets of the characters on the page. About 3.7 MB a weight in the binary; a wall
/// screen on a bare Linux PC shows characters, not boxes, without any font installed.
const FONT_DIR: &str = "@fontsource/noto-sans-sc";
const FONT_WEIGHTS: &[&str] = &["400", "700"];

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
    for from in watched() {
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
    fonts(&web, &mut files);
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
                for from in watched() {
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

/// The files under node_modules this script reads (and cargo watches): the vendor files and
/// the font's style sheets.
fn watched() -> Vec<String> {
    VENDOR
        .iter()
        .map(|(from, _)| (*from).to_owned())
        .chain(FONT_WEIGHTS.iter().map(|w| format!("{FONT_DIR}/{w}.css")))
        .collect()
}

/// The font's woff2 subsets under vendor/noto-sans-sc/files/, and one style sheet of their
/// @font-face rules (vendor/noto-sans-sc/font.css) without the woff fallbacks we do not ship.
fn fonts(web: &Path, files: &mut Vec<(String, PathBuf)>) {
    let dir = web.join("node_modules").join(FONT_DIR);
    let mut css = String::from(
        "/* Noto Sans SC (SIL Open Font License 1.1), from @fontsource/noto-sans-sc. */\n",
    );
    for w in FONT_WEIGHTS {
        let sheet = dir.join(format!("{w}.css"));
        let text = std::fs::read_to_string(&sheet).unwrap_or_else(|e| {
            panic!("{} is missing ({e}): run `npm ci` in web/", sheet.display())
        });
        for line in text.lines() {
            // src: url(./files/X.woff2) format('woff2'), url(./files/X.woff) format('woff');
            let line = match line.find(", url(") {
                Some(i) if line.trim_start().starts_with("src:") => format!("{};", &line[..i]),
                _ => line.to_owned(),
            };
            if let Some(start) = line.find("url(./files/") {
                let rest = &line[start + "url(./files/".len()..];
                let name = &rest[..rest.find(')').expect("url(...)")];
                assert!(name.ends_with(".woff2"), "unexpected font file {name}");
                files.push((
                    format!("vendor/noto-sans-sc/files/{name}"),
                    dir.join("files").join(name),
                ));
            }
            css.push_str(&line);
            css.push('\n');
        }
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("noto-sans-sc.css");
    if std::fs::read_to_string(&out).ok().as_deref() != Some(css.as_str()) {
        std::fs::write(&out, css).expect("write noto-sans-sc.css");
    }
    files.push(("vendor/noto-sans-sc/font.css".to_owned(), out));
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
