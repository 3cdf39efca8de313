//! Reports: what broke, where, and how to fix it, for people (human) and machines (JSON).
//!
//! The JSON shape is a contract: `{"conformant", "cassettes": [{"name", "provider",
//! "streaming", "conformant", "findings": [{"rule", "name", "severity", "turn", "message",
//! "hint"}], "turns": [{"index", "tool_calls", "tool_wall_ms", "ideal_ms", "sequential_ms"}]}]}`.

mod command;
pub mod exit;
mod human;
mod incomplete;
mod junit;
mod progress;
mod timing;

pub use command::{CommandRun, CommandStatus};
pub use human::{escape, render_human};
pub use incomplete::{Culprit, Incomplete};
pub use junit::render_junit;
pub use progress::Progress;
pub use timing::{Span, TurnTiming};

use serde::Serialize;

use crate::cassette::Cassette;
use crate::conformance::{Finding, NotKept, Severity};

/// The result of judging one cassette.
#[derive(Debug, Clone, Serialize)]
pub struct CassetteReport {
    /// The cassette's name.
    pub name: String,
    /// Its provider.
    pub provider: String,
    /// Whether its first response is streamed.
    pub streaming: bool,
    /// No finding fails it (errors; warnings too under the strict profile), and no error.
    pub conformant: bool,
    /// How many model requests the loop sent (reports made by a replay server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// What the rules found.
    pub findings: Vec<Finding>,
    /// Findings found but not kept, over a limit on kept findings: counted, and they fail
    /// the cassette like kept ones.
    #[serde(skip_serializing_if = "NotKept::is_empty")]
    pub not_kept: NotKept,
    /// Timing figures per model turn that had tool calls.
    pub turns: Vec<TurnTiming>,
    /// How the cassette was served, where that is worth knowing but judges nothing (e.g. a
    /// turn re-encoded in the mode the loop asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why the cassette could not be judged fully, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Incomplete>,
    /// What the command under test did (`check` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandRun>,
}

impl CassetteReport {
    /// A report for one cassette (not yet finalised: `conformant` is set by [`Report::finish`]).
    #[must_use]
    pub fn new(cassette: &Cassette, findings: Vec<Finding>, turns: Vec<TurnTiming>) -> Self {
        Self {
            name: cassette.name().to_owned(),
            provider: cassette.provider().name().to_owned(),
            streaming: cassette.streaming(),
            conformant: false,
            requests: None,
            findings,
            not_kept: NotKept::default(),
            turns,
            notes: Vec::new(),
            error: None,
            command: None,
        }
    }

    fn judge(&mut self, strict: bool) {
        self.findings.sort_by_key(|f| (f.turn.unwrap_or(0), f.rule));
        self.conformant = self.passes(strict);
    }

    /// Whether no finding, kept or not, fails it under the given strictness, and nothing kept
    /// it from being judged.
    #[must_use]
    pub fn passes(&self, strict: bool) -> bool {
        self.error.is_none()
            && !self.not_kept.fails(strict)
            && !self.findings.iter().any(|f| f.fails(strict))
    }

    /// Findings of the given severity, kept or not.
    pub fn count(&self, severity: Severity) -> usize {
        let not_kept = match severity {
            Severity::Error => self.not_kept.errors,
            Severity::Warning => self.not_kept.warnings,
        };
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
            + usize::try_from(not_kept).unwrap_or(usize::MAX)
    }
}

/// The result of a run over several cassettes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Every cassette conforms.
    pub conformant: bool,
    /// Whether warnings fail (`--profile strict`).
    pub strict: bool,
    /// One entry per cassette, in name order.
    pub cassettes: Vec<CassetteReport>,
    /// Cassettes not run, with the reason (a capability the loop was not said to have).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

/// A cassette that was not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The cassette's name.
    pub name: String,
    /// Why, and how to run it.
    pub reason: String,
}

impl Report {
    /// Sorts, and sets the `conformant` flags for the given profile.
    #[must_use]
    pub fn finish(mut self, strict: bool) -> Self {
        self.strict = strict;
        self.cassettes.sort_by(|a, b| a.name.cmp(&b.name));
        for c in &mut self.cassettes {
            c.judge(strict);
        }
        self.conformant = self.cassettes.iter().all(|c| c.conformant);
        self
    }

    /// Whether everything conforms.
    #[must_use]
    pub fn is_conformant(&self) -> bool {
        self.cassettes.iter().all(|c| c.passes(self.strict))
    }

    /// The JSON report.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render_human(self, false))
    }
}
