//! Structured logs: text for people, JSON for collectors; `RUST_LOG` picks the detail.
//!
//! Logs go to standard error for every command, so that standard output carries only what a
//! command prints (`shanzhi tree export CODE > tree.geojson` must be the file and nothing else).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once (later calls are ignored).
pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colours only for a person at a terminal, not in log files and collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
