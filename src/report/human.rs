//! The human report: grouped by cassette, each finding with its rule, turn, message and fix.

use std::borrow::Cow;
use std::fmt::Write;

use super::{CassetteReport, CommandStatus, Report, TurnTiming};

/// How many lines of a failing command's output the report shows.
const OUTPUT_LINES: usize = 20;
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

/// `text` with its control characters (terminal escape codes, carriage returns, newlines…)
/// written as `\u{1b}`-style escapes, so that a name or message taken from a file or a request
/// cannot drive the terminal it is printed on.
#[must_use]
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Renders the report for a terminal; `color` adds ANSI colours.
#[must_use]
pub fn render_human(report: &Report, color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();
    for c in &report.cassettes {
        cassette(&mut out, c, &st, report.strict);
    }
    for s in &report.skipped {
        let _ = writeln!(
            out,
            "{}  {}  {}",
            st.dim("SKIP"),
            s.name,
            st.dim(&format!("({})", s.reason))
        );
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
        "\n{verdict}: {passed} of {total} cassette{} conformant; {errors} error{}, {warnings} warning{}{}{}",
        plural(total),
        plural(errors),
        plural(warnings),
        if report.skipped.is_empty() {
            String::new()
        } else {
            format!("; {} skipped", report.skipped.len())
        },
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
    let requests = c
        .requests
        .map(|n| format!(", {n} request{}", plural(usize::try_from(n).unwrap_or(2))))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{tag}  {}  {}",
        escape(&c.name),
        st.dim(&format!("({}, {kind}{requests})", c.provider))
    );
    for t in &c.turns {
        timing(out, t, st);
    }
    for note in &c.notes {
        let _ = writeln!(out, "      {} {}", st.dim("note:"), escape(note));
    }
    if let Some(e) = &c.error {
        let _ = writeln!(out, "      {} {e}", st.red("error:"));
    }
    if let Some(run) = c.command.as_ref().filter(|_| !c.conformant) {
        let status = match &run.status {
            CommandStatus::Exited { code } => format!("exited with {code}"),
            CommandStatus::Killed => "was killed by a signal".to_owned(),
            CommandStatus::TimedOut => "timed out".to_owned(),
            CommandStatus::Interrupted { signal } => format!("was stopped by {signal}"),
            CommandStatus::NotStarted { reason } => format!("did not start: {reason}"),
        };
        let _ = writeln!(
            out,
            "      {} the command {status} after {} ms",
            st.dim("command:"),
            run.duration_ms
        );
        for (label, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            let lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                continue;
            }
            let skip = lines.len().saturating_sub(OUTPUT_LINES);
            let _ = writeln!(
                out,
                "      {}",
                st.dim(&format!(
                    "{label} (last {} of {} lines):",
                    lines.len() - skip,
                    lines.len()
                ))
            );
            for line in &lines[skip..] {
                let _ = writeln!(out, "        | {}", escape(line));
            }
        }
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
            f.rule,
            f.name,
            escape(&f.message)
        );
        let _ = writeln!(out, "            {} {}", st.dim("fix:"), f.hint);
    }
    if !c.not_kept.is_empty() {
        let n = c.not_kept.errors + c.not_kept.warnings;
        let sev = if c.not_kept.fails(strict) {
            st.red("error")
        } else {
            st.yellow("warning")
        };
        let _ = writeln!(
            out,
            "      {sev} {n} more finding{} not kept ({} error{}, {} warning{}): over the limit on findings kept per request or session; they count in the verdict",
            plural(usize::try_from(n).unwrap_or(2)),
            c.not_kept.errors,
            plural(usize::try_from(c.not_kept.errors).unwrap_or(2)),
            c.not_kept.warnings,
            plural(usize::try_from(c.not_kept.warnings).unwrap_or(2)),
        );
    }
}

fn timing(out: &mut String, t: &TurnTiming, st: &Style) {
    if !t.observed {
        let _ = writeln!(
            out,
            "      {}",
            st.dim(&format!(
                "turn {}: {} call{}  timing not observed (the tools did not run through the tool endpoints)",
                t.index,
                t.tool_calls,
                plural(t.tool_calls)
            ))
        );
        return;
    }
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
    if t.spans.len() > 1 {
        let _ = writeln!(
            out,
            "        {}",
            st.dim(&format!("timeline: {}", t.timeline()))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn control_characters_are_escaped_and_other_text_is_kept() {
        assert_eq!(escape("plain-näme"), "plain-näme");
        assert_eq!(
            escape("evil\x1b[2J\x1b]0;title\x07\nname"),
            "evil\\u{1b}[2J\\u{1b}]0;title\\u{7}\\u{a}name"
        );
    }
}
