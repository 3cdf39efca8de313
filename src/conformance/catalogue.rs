//! The rule catalogue. Ids and names are a contract (DESIGN §3).

use crate::provider::Rejection;

use super::answers::{CrashedOnBadCall, FabricatedToolResult};
use super::context::{RequestContext, SessionContext};
use super::endpoint::UnsupportedEndpoint;
use super::faults::{
    ExecutedTruncatedCalls, GaveUpOnRetryableError, RetriedBeforeRetryAfter, RetryStorm,
    ToolsExecutedTwice,
};
use super::finding::Finding;
use super::history::{
    AbandonedToolCalls, AlteredAssistantTurn, DivergedConversation, MalformedRequest, RunawayLoop,
};
use super::parallel::ParallelCallsDisabled;
use super::results::{
    DuplicateToolResult, MisplacedToolResult, MissingToolResult, ResultMismatch, ResultsOutOfOrder,
    SplitToolResults, ToolFailureDropped, UnknownToolResult,
};
use super::rule::Rule;
use super::timing::{SequentialExecution, UnorderedSideEffects};

/// Every rule, in id order. The same list drives `tooltape rules`, the docs and the tests.
pub const RULES: &[&dyn Rule] = &[
    &MissingToolResult,
    &UnknownToolResult,
    &DuplicateToolResult,
    &MisplacedToolResult,
    &SplitToolResults,
    &AlteredAssistantTurn,
    &ResultsOutOfOrder,
    &SequentialExecution,
    &ResultMismatch,
    &ToolFailureDropped,
    &MalformedRequest,
    &DivergedConversation,
    &AbandonedToolCalls,
    &RunawayLoop,
    &UnorderedSideEffects,
    &UnsupportedEndpoint,
    &ParallelCallsDisabled,
    &GaveUpOnRetryableError,
    &RetriedBeforeRetryAfter,
    &RetryStorm,
    &ToolsExecutedTwice,
    &ExecutedTruncatedCalls,
    &CrashedOnBadCall,
    &FabricatedToolResult,
];

/// Looks a rule up by id.
#[must_use]
pub fn rule(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.info().id == id)
}

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
        .min_by_key(|r| r.position_in(cx.facts().placement))
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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_rule_is_found_by_its_own_id_and_no_other() {
        let mut ids = HashSet::new();
        for r in RULES {
            let id = r.info().id;
            assert!(ids.insert(id), "{id} is catalogued twice");
            let found = rule(id).map(|f| f.info().id);
            assert_eq!(found, Some(id));
        }
        assert!(rule("TT000").is_none());
        assert!(rule("").is_none());
        assert!(rule("tt001").is_none(), "ids are matched exactly");
    }
}
