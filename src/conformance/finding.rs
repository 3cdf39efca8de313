//! A finding: one thing a rule found wrong, with where and how to fix it.

use std::fmt;
use std::hash::{Hash, Hasher};

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

/// Hashes what a reader sees (rule, turn, message, hint): a subset of the fields `Eq`
/// compares, so equal findings hash alike and a set of findings de-duplicates in O(1).
impl Hash for Finding {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.rule, self.turn, &self.message, &self.hint).hash(state);
    }
}

/// The longest message a finding keeps, in bytes; the rest is clipped (a message can quote
/// what the loop sent, which may be megabytes).
pub const MAX_MESSAGE: usize = 2048;

impl Finding {
    /// Whether this finding fails a run under the given strictness.
    #[must_use]
    pub fn fails(&self, strict: bool) -> bool {
        self.severity == Severity::Error || strict
    }

    /// The finding with its message clipped to [`MAX_MESSAGE`] bytes (at a character
    /// boundary), saying how much was left out.
    #[must_use]
    pub fn clipped(mut self) -> Self {
        if self.message.len() > MAX_MESSAGE {
            let mut end = MAX_MESSAGE;
            while !self.message.is_char_boundary(end) {
                end -= 1;
            }
            let left_out = self.message.len() - end;
            self.message.truncate(end);
            self.message
                .push_str(&format!("… ({left_out} more bytes not shown)"));
        }
        self
    }
}

/// Findings that were found but not kept, because a limit on kept findings was reached;
/// counted by severity so that the verdict still fails on them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NotKept {
    /// Errors not kept.
    pub errors: u64,
    /// Warnings not kept.
    pub warnings: u64,
}

impl NotKept {
    /// Counts one finding.
    pub fn add(&mut self, finding: &Finding) {
        match finding.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
    }

    /// Adds another count.
    pub fn merge(&mut self, other: NotKept) {
        self.errors += other.errors;
        self.warnings += other.warnings;
    }

    /// Whether nothing was left out.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.errors == 0 && self.warnings == 0
    }

    /// Whether what was left out fails a run under the given strictness.
    #[must_use]
    pub fn fails(&self, strict: bool) -> bool {
        self.errors > 0 || (strict && self.warnings > 0)
    }
}

/// Keeps at most `cap` of `findings`, errors first, and counts the rest.
#[must_use]
pub fn keep_at_most(mut findings: Vec<Finding>, cap: usize) -> (Vec<Finding>, NotKept) {
    let mut not_kept = NotKept::default();
    if findings.len() > cap {
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in findings.drain(cap..) {
            not_kept.add(&f);
        }
    }
    (
        findings.into_iter().map(Finding::clipped).collect(),
        not_kept,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity, message: String) -> Finding {
        Finding {
            rule: "TT012",
            name: "diverged-conversation",
            severity,
            turn: None,
            message,
            hint: String::new(),
            rejection: None,
        }
    }

    #[test]
    fn a_finding_displays_its_rule_severity_turn_and_message() {
        let mut f = finding(Severity::Error, "the loop stopped".into());
        assert_eq!(
            f.to_string(),
            "TT012 diverged-conversation error: the loop stopped"
        );
        f.turn = Some(2);
        f.severity = Severity::Warning;
        assert_eq!(
            f.to_string(),
            "TT012 diverged-conversation warning (turn 2): the loop stopped"
        );
    }

    #[test]
    fn counts_not_kept_add_up() {
        let mut count = NotKept {
            errors: 1,
            warnings: 2,
        };
        count.merge(NotKept {
            errors: 3,
            warnings: 4,
        });
        assert_eq!(
            count,
            NotKept {
                errors: 4,
                warnings: 6
            }
        );
        assert!(!count.is_empty());
        assert!(NotKept::default().is_empty());
    }

    #[test]
    fn a_long_message_is_clipped_at_a_character_boundary() {
        let f = finding(Severity::Error, "é".repeat(MAX_MESSAGE)).clipped();
        assert!(f.message.len() < MAX_MESSAGE + 64, "{}", f.message.len());
        assert!(
            f.message
                .ends_with(&format!("({} more bytes not shown)", MAX_MESSAGE))
        );
    }

    #[test]
    fn a_message_exactly_at_the_limit_is_kept_whole() {
        let message = "x".repeat(MAX_MESSAGE);
        assert_eq!(
            finding(Severity::Error, message.clone()).clipped().message,
            message
        );
        let longer = finding(Severity::Error, format!("{message}y"))
            .clipped()
            .message;
        assert!(longer.ends_with("(1 more bytes not shown)"), "{longer}");
    }

    #[test]
    fn findings_that_read_alike_hash_alike_and_others_apart() {
        use std::hash::BuildHasher;
        let hasher = std::collections::hash_map::RandomState::new();
        let one = |f: &Finding| hasher.hash_one(f);
        let a = finding(Severity::Error, "a".into());
        let mut same = a.clone();
        same.rejection = None;
        assert_eq!(one(&a), one(&same));
        let other = finding(Severity::Error, "b".into());
        assert_ne!(one(&a), one(&other), "the message is hashed");
        let mut later = a.clone();
        later.turn = Some(2);
        assert_ne!(one(&a), one(&later), "the turn is hashed");
    }

    #[test]
    fn a_message_cut_inside_a_character_is_cut_before_it() {
        // One byte of ASCII first: the limit falls inside a two-byte character.
        let message = format!("a{}", "é".repeat(MAX_MESSAGE));
        let f = finding(Severity::Error, message.clone()).clipped();
        let kept = MAX_MESSAGE - 1;
        assert!(f.message.starts_with(&message[..kept]));
        assert!(f.message[kept..].starts_with('…'), "{}", &f.message[kept..]);
        assert!(
            f.message
                .ends_with(&format!("({} more bytes not shown)", message.len() - kept))
        );
    }

    #[test]
    fn what_was_not_kept_fails_a_run_when_it_holds_an_error_or_a_strict_warning() {
        let errors = NotKept {
            errors: 1,
            warnings: 0,
        };
        let warnings = NotKept {
            errors: 0,
            warnings: 1,
        };
        assert!(errors.fails(false) && errors.fails(true));
        assert!(!warnings.fails(false) && warnings.fails(true));
        assert!(!errors.is_empty() && !warnings.is_empty());
        assert!(!NotKept::default().fails(false) && !NotKept::default().fails(true));
    }

    #[test]
    fn each_finding_over_the_cap_is_counted_by_its_severity() {
        let findings = vec![
            finding(Severity::Error, "e1".into()),
            finding(Severity::Warning, "w1".into()),
            finding(Severity::Error, "e2".into()),
        ];
        let (kept, not_kept) = keep_at_most(findings, 1);
        assert_eq!(kept.len(), 1);
        assert_eq!(
            not_kept,
            NotKept {
                errors: 1,
                warnings: 1
            }
        );
    }

    #[test]
    fn at_the_cap_findings_keep_their_order_and_none_is_counted() {
        let findings = vec![
            finding(Severity::Warning, "w1".into()),
            finding(Severity::Error, "e1".into()),
        ];
        let (kept, not_kept) = keep_at_most(findings, 2);
        let kept: Vec<&str> = kept.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(kept, ["w1", "e1"]);
        assert!(not_kept.is_empty());
    }

    #[test]
    fn over_the_cap_errors_are_kept_before_warnings_and_the_rest_counted() {
        let findings = vec![
            finding(Severity::Warning, "w1".into()),
            finding(Severity::Error, "e1".into()),
            finding(Severity::Warning, "w2".into()),
            finding(Severity::Error, "e2".into()),
        ];
        let (kept, not_kept) = keep_at_most(findings, 2);
        let kept: Vec<&str> = kept.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(kept, ["e1", "e2"]);
        assert_eq!(
            not_kept,
            NotKept {
                errors: 0,
                warnings: 2
            }
        );
    }
}
