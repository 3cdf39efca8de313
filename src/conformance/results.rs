//! Rules on how results answer calls: missing, unknown, duplicate, misplaced, split, out of
//! order, mismatched, or dropped by a failure (TT001–TT005, TT007, TT009, TT010).

use super::context::{Answer, RequestContext, SessionContext, TurnAnswers};
use super::finding::{Finding, Severity};
use super::pairing::Issue;
use super::rule::{Rule, RuleInfo};
use crate::provider::{Pairing, Rejection, ResultPlacement};
use crate::transcript::{AssistantTurn, ToolResult};

/// TT001.
pub struct MissingToolResult;
static TT001: RuleInfo = RuleInfo {
    id: "TT001",
    name: "missing-tool-result",
    severity: Severity::Error,
    summary: "a call id of the previous assistant turn has no result",
};
impl Rule for MissingToolResult {
    fn info(&self) -> &'static RuleInfo {
        &TT001
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        for issue in cx.pairing() {
            if let Issue::Missing { turn, id, name, .. } = issue {
                if cx.failure_dropped(*turn, id) {
                    continue;
                }
                let mut f = TT001.finding(
                    Some(*turn),
                    format!("call `{id}` ({name}) of turn {turn} has no result in the request"),
                    cx.facts().texts.answer_every_call,
                );
                f.rejection = cx.unanswered_rejection(*turn);
                out.push(f);
            }
        }
    }
}

/// TT002.
pub struct UnknownToolResult;
static TT002: RuleInfo = RuleInfo {
    id: "TT002",
    name: "unknown-tool-result",
    severity: Severity::Error,
    summary: "a result names an id no call of the previous turn has",
};
impl Rule for UnknownToolResult {
    fn info(&self) -> &'static RuleInfo {
        &TT002
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        for issue in cx.pairing() {
            if let Issue::Unknown {
                message,
                block,
                turn,
                id,
                in_place,
            } = issue
            {
                let hint = match cx.facts().pairing {
                    Pairing::ById => {
                        "pair each result with the id of the call it answers (take the id from the call, never invent or reuse one), and keep the assistant message with the calls right before the results"
                    }
                    Pairing::ByOrderAndName => {
                        "answer each call with a result named after its tool, in call order (with the call's id where it has one), and keep the assistant message with the calls right before the results"
                    }
                };
                let mut f = TT002.finding(
                    (*turn > 0).then_some(*turn),
                    format!(
                        "the result in message {message} names `{id}`, which no call of the previous assistant turn has"
                    ),
                    hint,
                );
                f.rejection = Some(if *in_place {
                    Rejection::UnknownResult {
                        message: *message,
                        block: *block,
                        id: id.clone(),
                    }
                } else {
                    Rejection::OrphanResult {
                        message: *message,
                        block: *block,
                        id: id.clone(),
                    }
                });
                out.push(f);
            }
        }
    }
}

/// TT003.
pub struct DuplicateToolResult;
static TT003: RuleInfo = RuleInfo {
    id: "TT003",
    name: "duplicate-tool-result",
    severity: Severity::Error,
    summary: "an id is answered more than once",
};
impl Rule for DuplicateToolResult {
    fn info(&self) -> &'static RuleInfo {
        &TT003
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        for issue in cx.pairing() {
            if let Issue::Duplicate {
                turn,
                id,
                first_message,
                second_message,
                second_block,
            } = issue
            {
                let mut f = TT003.finding(
                    Some(*turn),
                    format!(
                        "call `{id}` is answered twice, in messages {first_message} and {second_message}"
                    ),
                    "send exactly one result per call id; when retrying a tool, replace its result instead of appending another",
                );
                f.rejection = Some(Rejection::DuplicateResult {
                    id: id.clone(),
                    first_message: *first_message,
                    second_message: *second_message,
                    second_block: *second_block,
                });
                out.push(f);
            }
        }
    }
}

/// TT004.
pub struct MisplacedToolResult;
static TT004: RuleInfo = RuleInfo {
    id: "TT004",
    name: "misplaced-tool-result",
    severity: Severity::Error,
    summary: "results are not where the provider requires them (OpenAI chat: the run of `tool` messages right after the assistant message; Anthropic: the next user message, before any text; Gemini: the one user content right after the model content)",
};
impl Rule for MisplacedToolResult {
    fn info(&self) -> &'static RuleInfo {
        &TT004
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        for issue in cx.pairing() {
            if let Issue::Misplaced {
                turn,
                message,
                block,
                id,
            } = issue
            {
                let texts = &cx.facts().texts;
                let (where_, hint) = ((texts.misplaced_at)(*message, *block), texts.place_results);
                let mut f = TT004.finding(
                    Some(*turn),
                    format!("the result for `{id}` is misplaced: {where_}"),
                    hint,
                );
                // A misplaced result leaves its call unanswered where the provider looks, so
                // the provider's error is that turn's missing results (pairing's property test
                // `a_misplaced_result_always_leaves_its_turn_unanswered` holds it).
                f.rejection = cx.unanswered_rejection(*turn);
                out.push(f);
            }
        }
    }
}

/// TT005.
pub struct SplitToolResults;
static TT005: RuleInfo = RuleInfo {
    id: "TT005",
    name: "split-tool-results",
    severity: Severity::Warning,
    summary: "one turn's results are spread over several messages (a failure under --profile strict)",
};
impl Rule for SplitToolResults {
    fn info(&self) -> &'static RuleInfo {
        &TT005
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let Some(request) = cx.request() else { return };
        if cx.facts().placement != ResultPlacement::LeadingBlocksOfNextUserMessage {
            return;
        }
        for TurnAnswers { turn, found } in cx.answers() {
            let turn = *turn;
            let mut parts: Vec<(usize, usize)> = found
                .iter()
                .map(|a| {
                    (
                        a.message,
                        request.conversation.messages[a.message].part_of(a.block),
                    )
                })
                .collect();
            parts.sort_unstable();
            parts.dedup();
            if parts.len() > 1 {
                out.push(TT005.finding(
                    Some(turn),
                    format!("the {} results of turn {turn} are spread over {} user messages", found.len(), parts.len()),
                    "send all results of a turn in one user message; split results are rejected by some Anthropic-compatible endpoints and teach the model to stop calling tools in parallel",
                ));
            }
        }
    }
}

/// TT007.
pub struct ResultsOutOfOrder;
static TT007: RuleInfo = RuleInfo {
    id: "TT007",
    name: "results-out-of-order",
    severity: Severity::Warning,
    summary: "results are not in the order of the calls (not judged for a turn that gives two calls one id)",
};
impl Rule for ResultsOutOfOrder {
    fn info(&self) -> &'static RuleInfo {
        &TT007
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        for TurnAnswers { turn, found } in cx.answers() {
            let turn = *turn;
            // A turn that gives two calls one id (a model fault) has no call order its
            // results can be held to: which of the two a result answers is a guess.
            let repeats = cx
                .cassette
                .turns
                .get(turn - 1)
                .and_then(|t| t.assistant.as_ref())
                .is_some_and(AssistantTurn::repeats_an_id);
            let order: Vec<usize> = found.iter().map(|a| a.call).collect();
            if !repeats && order.windows(2).any(|w| w[0] > w[1]) {
                let shown: Vec<String> = order.iter().map(|i| (i + 1).to_string()).collect();
                out.push(TT007.finding(
                    Some(turn),
                    format!("the results of turn {turn} answer the calls in the order {}", shown.join(", ")),
                    "send results in call order (an order-preserving join such as asyncio.gather or join_all, not completion order)",
                ));
            }
        }
    }
}

/// TT009.
pub struct ResultMismatch;
static TT009: RuleInfo = RuleInfo {
    id: "TT009",
    name: "result-mismatch",
    severity: Severity::Error,
    summary: "the content sent for id X is what the tool endpoint returned for another call (not one with the same tool and arguments)",
};
impl Rule for ResultMismatch {
    fn info(&self) -> &'static RuleInfo {
        &TT009
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        for TurnAnswers { turn, found } in cx.answers() {
            let turn = *turn;
            let calls = cx.cassette.calls(turn - 1);
            let recorded: Vec<Option<&ToolResult>> = calls
                .iter()
                .map(|c| cx.cassette.recorded_result(turn - 1, &c.id))
                .collect();
            // The recorded results as text, made only when a result differs from its own.
            let mut texts: Option<Vec<Option<String>>> = None;
            for Answer {
                call: i, result, ..
            } in found
            {
                let Some(Some(own)) = recorded.get(*i) else {
                    continue;
                };
                // The same content is the same text.
                if result.content == own.content {
                    continue;
                }
                let sent = result.text();
                let recorded_texts = texts.get_or_insert_with(|| {
                    recorded.iter().map(|r| r.map(ToolResult::text)).collect()
                });
                if recorded_texts[*i].as_deref() == Some(sent.as_str()) {
                    continue;
                }
                // A call with the same tool and the same arguments is one the loop cannot tell
                // apart from this one (without ids, neither can the tool endpoint): its output
                // answers this call as well.
                let other = recorded_texts.iter().enumerate().find(|(j, r)| {
                    j != i
                        && r.as_deref() == Some(sent.as_str())
                        && !(calls[*j].name == calls[*i].name
                            && calls[*j].same_arguments(&calls[*i]))
                });
                if let Some((j, _)) = other {
                    out.push(TT009.finding(
                        Some(turn),
                        format!(
                            "the result sent for `{}` ({}) is the output of `{}` ({})",
                            calls[*i].id, calls[*i].name, calls[j].id, calls[j].name
                        ),
                        "pair each output with the call that produced it (keep the call id with the task), never by completion order or position",
                    ));
                }
            }
        }
    }
}

/// TT010.
pub struct ToolFailureDropped;
static TT010: RuleInfo = RuleInfo {
    id: "TT010",
    name: "tool-failure-dropped",
    severity: Severity::Error,
    summary: "a failing tool got no result, or its failure dropped its siblings' results (a result without the error flag is a warning, a failure under --profile strict); a call whose arguments do not parse never runs, so never fails",
};
impl Rule for ToolFailureDropped {
    fn info(&self) -> &'static RuleInfo {
        &TT010
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let hint = "catch a tool's failure and send it as that call's result (Anthropic: `is_error: true`), and still send every sibling's result";
        for issue in cx.pairing() {
            let Issue::Missing { turn, id, name, .. } = issue else {
                continue;
            };
            if !cx.failure_dropped(*turn, id) {
                continue;
            }
            let message = if cx.cassette.tool(name).fails.is_some() {
                format!("the failing tool `{name}` (`{id}`) of turn {turn} got no error result")
            } else {
                let failing: Vec<String> = cx
                    .cassette
                    .calls(turn - 1)
                    .iter()
                    .filter(|c| cx.cassette.tool(&c.name).fails.is_some())
                    .map(|c| format!("`{}`", c.name))
                    .collect();
                format!(
                    "the failure of {} dropped the result of its sibling `{name}` (`{id}`) in turn {turn}",
                    failing.join(", ")
                )
            };
            let mut f = TT010.finding(Some(*turn), message, hint);
            f.rejection = cx.unanswered_rejection(*turn);
            out.push(f);
        }
        if cx.facts().error_flag {
            for TurnAnswers { turn, found } in cx.answers() {
                let turn = *turn;
                let calls = cx.cassette.calls(turn - 1);
                for Answer { call, result, .. } in found {
                    let Some(call) = calls.get(*call) else {
                        continue;
                    };
                    if cx.can_fail(call) && !result.is_error {
                        let mut f = TT010.finding(
                            Some(turn),
                            format!("the result for the failing tool `{}` (`{}`) carries its error text but lacks the error flag (`is_error: true`); the API accepts it, but the model is not told the tool failed", call.name, call.id),
                            hint,
                        );
                        f.severity = Severity::Warning;
                        out.push(f);
                    }
                }
            }
        }
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        let Some(last) = cx.abandoned_turn() else {
            return;
        };
        let calls = cx.cassette.calls(last);
        // Only a failure the loop met is evidence that the failure stopped it: a loop that
        // stops before running any tool of the turn stops the same way without one (TT013).
        let failing: Vec<&str> = calls
            .iter()
            .filter(|c| cx.cassette.tool(&c.name).fails.is_some())
            .filter(|c| {
                cx.tool_spans
                    .iter()
                    .any(|s| s.turn == last && s.call_id == c.id && s.end_ms.is_some())
            })
            .map(|c| c.name.as_str())
            .collect();
        if !failing.is_empty() {
            out.push(TT010.finding(
                Some(last + 1),
                format!("the loop stopped after `{}` failed in turn {}, leaving every result unsent", failing.join("`, `"), last + 1),
                "a failing tool must not end the loop: send its error as its result, with its siblings' results",
            ));
        }
    }
}
