//! A finding: one thing a rule found wrong, with where and how to fix it.

use std::fmt;

use serde::Serialize;

use crate::provider::Rejection;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The API accepts it, but it is wrong practice (a failure under `--profile strict`).
    Warning,
    /// The real provider would reject it, or data is lost.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule id, e.g. `TT001` (a contract).
    pub rule: &'static str,
    /// The rule name, e.g. `missing-tool-result`.
    pub name: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// The 1-based model turn concerned (the response whose calls are answered), if any.
    pub turn: Option<usize>,
    /// What is wrong, with ids and positions.
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// The error the real provider would answer with, when it would reject the request.
    #[serde(skip)]
    pub rejection: Option<Rejection>,
}

impl Finding {
    /// Whether this finding fails a run under the given strictness.
    #[must_use]
    pub fn fails(&self, strict: bool) -> bool {
        self.severity == Severity::Error || strict
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.rule, self.name, self.severity)?;
        if let Some(turn) = self.turn {
            write!(f, " (turn {turn})")?;
        }
        write!(f, ": {}", self.message)
    }
}
