//! The demo build's progress on standard error: a bar on a terminal, nothing otherwise (logs
//! and CI output stay plain lines; the build still logs each written part with tracing).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps labelled `what`, drawn on stderr only when it is a terminal
/// (indicatif hides a stderr target that is not).
pub fn bar(len: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>14} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} (eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}

/// A spinner for a step whose length is unknown.
pub fn spinner(what: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg:>14} [{elapsed_precise}] {spinner}") {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// A spinner counting rows read, for a file whose length in rows is unknown.
pub fn counter(what: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>14} [{elapsed_precise}] {spinner} {human_pos} rows")
    {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}
