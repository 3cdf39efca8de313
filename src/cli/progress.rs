//! The progress bar of `run` and `check` over several cassettes, and the summary line with
//! the time taken: on a terminal only. Nothing is drawn when standard error is not a terminal
//! or `CI` is set, so logs, pipes and the tests' captured output stay as they were.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tooltape::report::{Progress, Report, escape};

/// The bar while cassettes are judged.
pub struct Bar {
    bar: Option<ProgressBar>,
    started: Instant,
}

/// Whether standard error is a person's terminal: a terminal, and not a CI job.
fn interactive() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    std::io::stderr().is_terminal() && !ci
}

impl Bar {
    /// A bar for `total` cassettes, drawn only on a terminal and for more than one cassette.
    #[must_use]
    pub fn start(total: usize) -> Self {
        let bar = (interactive() && total > 1).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} cassettes  {wide_msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            started: Instant::now(),
        }
    }

    /// The callback that moves the bar on as each cassette is judged, naming the last one (its
    /// verdict is only final once the report is finished, so none is shown).
    #[must_use]
    pub fn progress(&self) -> Progress {
        match self.bar.clone() {
            Some(bar) => Progress::new(move |cassette| {
                bar.set_message(escape(&cassette.name).into_owned());
                bar.inc(1);
            }),
            None => Progress::default(),
        }
    }

    /// Clears the bar (the report follows on standard output).
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// The summary line, on a terminal: how many cassettes were judged, in how long.
    pub fn summary(&self, report: &Report) {
        if !interactive() {
            return;
        }
        let judged = report.cassettes.len();
        let failed = report.cassettes.iter().filter(|c| !c.conformant).count();
        let skipped = if report.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", report.skipped.len())
        };
        eprintln!(
            "tooltape: {judged} cassette{} judged in {:.1} s ({failed} not conformant{skipped})",
            if judged == 1 { "" } else { "s" },
            self.started.elapsed().as_secs_f64()
        );
    }
}
