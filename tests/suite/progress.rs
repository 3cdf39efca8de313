//! The progress bar and the summary line of `run` and `check`: drawn on a terminal (a pseudo
//! terminal made by util-linux's `script`), never when `CI` is set or standard error is not a
//! terminal, so logs and the snapshots of standard error stay as they are.

use std::process::Command;

use crate::cli::tooltape;
use crate::support::{bin, root};

/// The terminal output of `tooltape ARGS` run in a pseudo terminal, with `CI` set or not.
fn on_a_terminal(args: &str, ci: bool) -> String {
    let mut cmd = Command::new("script");
    cmd.args([
        "-qec",
        &format!("'{}' {args}", bin().display()),
        "/dev/null",
    ])
    .current_dir(root())
    .env("NO_COLOR", "1")
    .env_remove("CI");
    if ci {
        cmd.env("CI", "true");
    }
    let out = cmd
        .output()
        .expect("util-linux `script` runs (Debian: apt-get install bsdutils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn run_on_a_terminal_draws_progress_and_ends_with_the_time_taken() {
    let screen = on_a_terminal(
        "run fixtures/anthropic --format json --output /dev/null",
        false,
    );
    assert!(screen.contains("/10 cassettes"), "{screen:?}");
    assert!(
        regex::Regex::new(r"tooltape: 10 cassettes judged in \d+\.\d s \(0 not conformant\)")
            .unwrap()
            .is_match(&screen),
        "{screen:?}"
    );
}

#[test]
fn check_on_a_terminal_counts_the_cassettes_it_runs_and_the_ones_it_skips() {
    let screen = on_a_terminal(
        "check fixtures/openai-chat/handmade-single-call.json fixtures/openai-chat/handmade-sequential-tools.json fixtures/anthropic/handmade-three-turns.json --format json --output /dev/null -- true",
        false,
    );
    assert!(screen.contains("/2 cassettes"), "{screen:?}");
    assert!(
        screen.contains("2 cassettes judged in")
            && screen.contains("(2 not conformant, 1 skipped)"),
        "a command that sends nothing conforms nowhere: {screen:?}"
    );
}

#[test]
fn nothing_is_drawn_in_ci_or_when_standard_error_is_not_a_terminal() {
    let screen = on_a_terminal(
        "run fixtures/anthropic --format json --output /dev/null",
        true,
    );
    assert!(!screen.contains("cassettes"), "CI=true: {screen:?}");
    let out = tooltape(&["run", "fixtures/anthropic", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr, "", "not a terminal: nothing on standard error");
}
