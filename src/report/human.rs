//! The human report: grouped by cassette, each finding with its rule, turn, message and fix.

use std::fmt::Write;

use super::{CassetteReport, Report, TurnTiming};
use crate::conformance::Severity;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn red(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    fn green(&self, s: &str) -> String {
        self.paint("1;32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint("1;33", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// Renders the report for a terminal; `color` adds ANSI colours.
#[must_use]
pub fn render_human(report: &Report, color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();
    for c in &report.cassettes {
        cassette(&mut out, c, &st, report.strict);
    }
    let total = report.cassettes.len();
    let passed = report.cassettes.iter().filter(|c| c.conformant).count();
    let errors: usize = report
        .cassettes
        .iter()
        .map(|c| c.count(Severity::Error))
        .sum();
    let warnings: usize = report
        .cassettes
        .iter()
        .map(|c| c.count(Severity::Warning))
        .sum();
    let verdict = if passed == total {
        st.green("conformant")
    } else {
        st.red("NOT conformant")
    };
    let _ = writeln!(
        out,
        "\n{verdict}: {passed} of {total} cassette{} conformant; {errors} error{}, {warnings} warning{}{}",
        plural(total),
        plural(errors),
        plural(warnings),
        if report.strict {
            " (strict profile: warnings fail)"
        } else {
            ""
        }
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn cassette(out: &mut String, c: &CassetteReport, st: &Style, strict: bool) {
    let tag = if c.conformant {
        st.green("PASS")
    } else {
        st.red("FAIL")
    };
    let kind = if c.streaming { "stream" } else { "json" };
    let _ = writeln!(
        out,
        "{tag}  {}  {}",
        c.name,
        st.dim(&format!("({}, {kind})", c.provider))
    );
    for t in &c.turns {
        timing(out, t, st);
    }
    if let Some(e) = &c.error {
        let _ = writeln!(out, "      {} {e}", st.red("error:"));
    }
    for f in &c.findings {
        let sev = match f.severity {
            Severity::Error => st.red("error"),
            Severity::Warning if strict => st.red("warning"),
            Severity::Warning => st.yellow("warning"),
        };
        let turn = f.turn.map(|t| format!(" (turn {t})")).unwrap_or_default();
        let _ = writeln!(
            out,
            "      {sev} {} {}{turn}: {}",
            f.rule, f.name, f.message
        );
        let _ = writeln!(out, "            {} {}", st.dim("fix:"), f.hint);
    }
}

fn timing(out: &mut String, t: &TurnTiming, st: &Style) {
    let speedup = t
        .speedup
        .map(|s| format!("  speed-up {s:.1}x"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "      {}",
        st.dim(&format!(
            "turn {}: {} call{}  tools {:.0} ms (ideal {:.0}, one-by-one {:.0}){speedup}",
            t.index,
            t.tool_calls,
            plural(t.tool_calls),
            t.tool_wall_ms,
            t.ideal_ms,
            t.sequential_ms
        ))
    );
}
