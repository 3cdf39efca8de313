//! What a session's verdict is computed from, kept apart from the journal.
//!
//! The journal is a bounded record that drops its oldest entries under load; the ledger keeps,
//! per session, everything the rules need: each distinct finding once (up to a limit, the rest
//! counted by severity), the request count, the last request, the first call of each tool
//! (bounded by the cassette) and the turns served. A verdict read from it never loses a finding.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexSet;

use crate::conformance::{CallLog, FaultLog, Finding, NotKept, SessionRequest, UnsupportedRoute};
use crate::span::Span;

/// How many distinct harness notes a session keeps.
const NOTES: usize = 16;

/// One session's record.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// Model requests received.
    pub requests: u64,
    /// The last model request.
    pub last: Option<SessionRequest>,
    findings: IndexSet<Finding>,
    /// Findings over a limit, counted.
    pub not_kept: NotKept,
    /// The first call of each tool call id, in the order they finished (or hung).
    pub spans: Vec<Span>,
    /// Requests to routes no codec serves, each distinct route once (a few per session).
    pub unsupported: Vec<UnsupportedRoute>,
    /// The turns served with status 200.
    pub served: BTreeSet<usize>,
    /// Turns served in the mode they were not recorded in: (turn, served as a stream).
    pub reencoded: BTreeSet<(usize, bool)>,
    notes: IndexSet<String>,
    /// Requests for each response (0-based) that reached the point where a fault may be
    /// served: the position in the turn's fault plan.
    pub attempts: BTreeMap<usize, u32>,
    /// The faults served and what the loop did next.
    pub faults: FaultLog,
    /// Faults of the plan that could not be served, each once (a few per session).
    pub unserved: IndexSet<String>,
    /// Which calls ran at the tool endpoints and how each was answered.
    pub calls: CallLog,
}

impl Ledger {
    /// Records a model request and its findings: each new distinct one is kept while fewer
    /// than `cap` are, the others are counted in `not_kept`.
    pub fn request(&mut self, request: SessionRequest, findings: &[Finding], cap: usize) {
        self.requests += 1;
        self.last = Some(request);
        for f in findings {
            if self.findings.contains(f) {
                continue;
            }
            if self.findings.len() < cap {
                self.findings.insert(f.clone());
            } else {
                self.not_kept.add(f);
            }
        }
    }

    /// Records a request to a route no codec serves (each route once, a few per session).
    pub fn unsupported(&mut self, route: &UnsupportedRoute) {
        self.requests += 1;
        if self.unsupported.len() < NOTES && !self.unsupported.contains(route) {
            self.unsupported.push(route.clone());
        }
    }

    /// Records a note about a request (kept once, a few per session).
    pub fn note(&mut self, note: &str) {
        if self.notes.len() < NOTES && !self.notes.contains(note) {
            self.notes.insert(note.to_owned());
        }
    }

    /// The findings kept, in arrival order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter()
    }

    /// The notes kept, in arrival order.
    pub fn notes(&self) -> impl Iterator<Item = &String> {
        self.notes.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::Severity;

    fn finding(n: usize, severity: Severity) -> Finding {
        Finding {
            rule: "TT003",
            name: "duplicate-tool-result",
            severity,
            turn: Some(1),
            message: format!("finding {n}"),
            hint: String::new(),
            rejection: None,
        }
    }

    #[test]
    fn repeated_findings_are_kept_once_and_findings_over_the_cap_are_counted() {
        let mut ledger = Ledger::default();
        let first: Vec<Finding> = (0..3).map(|n| finding(n, Severity::Error)).collect();
        let request = SessionRequest {
            turn: Some(1),
            served: false,
        };
        for _ in 0..1000 {
            ledger.request(request, &first, 4);
        }
        assert_eq!(ledger.findings().count(), 3);
        assert!(ledger.not_kept.is_empty());
        ledger.request(
            request,
            &[
                finding(3, Severity::Warning),
                finding(4, Severity::Error),
                finding(5, Severity::Warning),
            ],
            4,
        );
        assert_eq!(ledger.findings().count(), 4);
        assert_eq!(
            ledger.not_kept,
            NotKept {
                errors: 1,
                warnings: 1
            }
        );
        assert_eq!(ledger.requests, 1001);
    }
}
