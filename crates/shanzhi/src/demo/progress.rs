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

/// A step of the build whose length is unknown: a spinner while it runs, and a log line with
/// its time when it is done (`demo step`, which tells where a large build spends its time).
pub struct Step {
    bar: ProgressBar,
    what: &'static str,
    started: std::time::Instant,
}

impl Step {
    /// Clears the spinner and logs how long the step took.
    pub fn finish_and_clear(self) {
        self.bar.finish_and_clear();
        tracing::info!(
            step = self.what,
            seconds = self.started.elapsed().as_secs_f64(),
            "demo step"
        );
    }
}

/// A spinner for a step whose length is unknown.
pub fn spinner(what: &'static str) -> Step {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg:>14} [{elapsed_precise}] {spinner}") {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Step {
        bar,
        what,
        started: std::time::Instant::now(),
    }
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
