//! Conformance: rules with stable ids that judge what a loop sent.
//!
//! Rules are pure functions over the transcript ([`RequestContext`], [`SessionContext`]); they
//! never see provider JSON. [`judge_request`] runs every rule on one request and picks the
//! error the real provider would answer with.

mod context;
mod finding;
pub mod pairing;
mod rules;

pub use context::{RequestContext, SessionContext, SessionRequest, ToolSpan};
pub use finding::{Finding, Severity};
pub use rules::{RULES, Rule, RuleInfo, rule};

use crate::provider::Rejection;

/// Runs every rule on one request. Returns the findings and, when the real provider would
/// refuse the request, the rejection it would answer with (the first in request order).
#[must_use]
pub fn judge_request(cx: &RequestContext<'_>) -> (Vec<Finding>, Option<Rejection>) {
    let mut findings = Vec::new();
    for rule in RULES {
        rule.check_request(cx, &mut findings);
    }
    let rejection = findings
        .iter()
        .filter_map(|f| f.rejection.as_ref())
        .min_by_key(|r| r.position())
        .cloned();
    (findings, rejection)
}

/// Runs every session rule once the loop has finished.
#[must_use]
pub fn judge_session(cx: &SessionContext<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in RULES {
        rule.check_session(cx, &mut findings);
    }
    findings
}
