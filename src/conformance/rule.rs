//! What a rule is, and the trait every rule implements.

use super::context::{RequestContext, SessionContext};
use super::finding::{Finding, Severity};

/// What a rule is: its id, name, severity and when it fires.
#[derive(Debug)]
pub struct RuleInfo {
    /// Stable id, e.g. `TT001`.
    pub id: &'static str,
    /// Stable name, e.g. `missing-tool-result`.
    pub name: &'static str,
    /// Severity of its findings.
    pub severity: Severity,
    /// When it fires, one sentence.
    pub summary: &'static str,
}

impl RuleInfo {
    /// A finding of this rule.
    #[must_use]
    pub fn finding(&'static self, turn: Option<usize>, message: String, hint: &str) -> Finding {
        Finding {
            rule: self.id,
            name: self.name,
            severity: self.severity,
            turn,
            message,
            hint: hint.to_owned(),
            rejection: None,
        }
    }
}

/// A conformance rule: a pure function from what the loop sent to findings.
pub trait Rule: Sync {
    /// The rule's identity.
    fn info(&self) -> &'static RuleInfo;

    /// Judges one request to the model endpoint.
    fn check_request(&self, _cx: &RequestContext<'_>, _out: &mut Vec<Finding>) {}

    /// Judges a whole session once the loop has finished.
    fn check_session(&self, _cx: &SessionContext<'_>, _out: &mut Vec<Finding>) {}
}
