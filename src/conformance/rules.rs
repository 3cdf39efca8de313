//! The rule catalogue. Ids and names are a contract (DESIGN §3).

use super::context::{RequestContext, SessionContext};
use super::finding::{Finding, Severity};
use super::pairing::Issue;
use crate::provider::{Provider, Rejection};
use crate::transcript::Role;

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
];

/// Looks a rule up by id.
#[must_use]
pub fn rule(id: &str) -> Option<&'static dyn Rule> {
    RULES.iter().copied().find(|r| r.info().id == id)
}

fn result_hint(provider: Provider) -> &'static str {
    match provider {
        Provider::OpenAiChat => {
            "answer every call: one `role: \"tool\"` message per `tool_call_id`, right after the assistant message; a failing tool still needs a result (its error text)"
        }
        Provider::Anthropic => {
            "answer every call: one `tool_result` block per `tool_use` id, first in the next user message; a failing tool still needs a result with `is_error: true`"
        }
    }
}

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
                if cx.has_failing_call(*turn) {
                    continue;
                }
                let mut f = TT001.finding(
                    Some(*turn),
                    format!("call `{id}` ({name}) of turn {turn} has no result in the request"),
                    result_hint(cx.provider()),
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
                let mut f = TT002.finding(
                    (*turn > 0).then_some(*turn),
                    format!(
                        "the result in message {message} names `{id}`, which no call of the previous assistant turn has"
                    ),
                    "pair each result with the id of the call it answers (take the id from the call, never invent or reuse one), and keep the assistant message with the calls right before the results",
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
    summary: "results are not where the provider requires them (OpenAI chat: the run of `tool` messages right after the assistant message; Anthropic: the next user message, before any text)",
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
                orphan,
            } = issue
            {
                let (where_, hint) = match cx.provider() {
                    Provider::OpenAiChat => (
                        format!(
                            "message {message} is not in the run of `tool` messages right after the assistant message"
                        ),
                        "put every `tool` message directly after the assistant message with the calls, with no user, system or assistant message in between",
                    ),
                    Provider::Anthropic => (
                        format!(
                            "block {block} of message {message} is not among the `tool_result` blocks that open the next user message"
                        ),
                        "put all `tool_result` blocks first in the one user message that follows the assistant message; text goes after them",
                    ),
                };
                let mut f = TT004.finding(
                    Some(*turn),
                    format!("the result for `{id}` is misplaced: {where_}"),
                    hint,
                );
                let orphan = (*orphan && cx.provider() == Provider::OpenAiChat).then(|| {
                    Rejection::OrphanResult {
                        message: *message,
                        block: *block,
                        id: id.clone(),
                    }
                });
                f.rejection = cx.unanswered_rejection(*turn).or(orphan);
                out.push(f);
            }
        }
    }
}

/// TT006.
pub struct AlteredAssistantTurn;
static TT006: RuleInfo = RuleInfo {
    id: "TT006",
    name: "altered-assistant-turn",
    severity: Severity::Error,
    summary: "the assistant turn sent back differs from what was served (ids, names, arguments, dropped calls, dropped or edited thinking / reasoning items)",
};
impl Rule for AlteredAssistantTurn {
    fn info(&self) -> &'static RuleInfo {
        &TT006
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let Some(request) = cx.request() else { return };
        let hint = "send the assistant turn back exactly as it was served: every call with its id, name and arguments, and every thinking block with its signature";
        for (t, a) in request.conversation.assistant_indices().enumerate() {
            let Some(served) = cx.cassette.turns.get(t).and_then(|x| x.assistant.as_ref()) else {
                continue;
            };
            let echoed = &request.conversation.messages[a];
            let turn = Some(t + 1);
            for call in served.tool_calls() {
                match echoed.tool_calls().find(|c| c.id == call.id) {
                    None => out.push(TT006.finding(
                        turn,
                        format!("call `{}` ({}) was dropped from assistant message {a}", call.id, call.name),
                        hint,
                    )),
                    Some(c) if c.name != call.name => out.push(TT006.finding(
                        turn,
                        format!("call `{}` was served as `{}` but sent back as `{}`", call.id, call.name, c.name),
                        hint,
                    )),
                    Some(c) if !c.same_arguments(call) => out.push(TT006.finding(
                        turn,
                        format!(
                            "the arguments of call `{}` ({}) were changed: served `{}`, sent back `{}`",
                            call.id, call.name, call.arguments, c.arguments
                        ),
                        hint,
                    )),
                    Some(_) => {}
                }
            }
            for c in echoed.tool_calls() {
                if !served.tool_calls().any(|s| s.id == c.id) {
                    out.push(TT006.finding(
                        turn,
                        format!(
                            "assistant message {a} carries call `{}` ({}), which was never served",
                            c.id, c.name
                        ),
                        hint,
                    ));
                }
            }
            for thinking in served.thinking() {
                if !echoed.thinking().any(|e| e == thinking) {
                    out.push(TT006.finding(
                        turn,
                        format!("a `{}` block of turn {} was dropped or edited in assistant message {a}", thinking.kind, t + 1),
                        hint,
                    ));
                }
            }
        }
    }
}

/// TT011.
pub struct MalformedRequest;
static TT011: RuleInfo = RuleInfo {
    id: "TT011",
    name: "malformed-request",
    severity: Severity::Error,
    summary: "not JSON, required fields or headers missing, wrong types (e.g. chat `arguments` replayed as an object)",
};
impl Rule for MalformedRequest {
    fn info(&self) -> &'static RuleInfo {
        &TT011
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        if let Some(m) = cx.malformed() {
            let mut f = TT011.finding(
                None,
                format!("the request is malformed: {m}"),
                "send the body the provider's API reference describes; with OpenAI chat, `function.arguments` is replayed as the JSON string that was served",
            );
            f.rejection = Some(Rejection::Malformed(m.clone()));
            out.push(f);
        }
    }
}

/// TT012.
pub struct DivergedConversation;
static TT012: RuleInfo = RuleInfo {
    id: "TT012",
    name: "diverged-conversation",
    severity: Severity::Error,
    summary: "the history does not match the cassette: another user prompt, rewritten assistant turns (system prompt, model and sampling parameters are not compared)",
};
impl Rule for DivergedConversation {
    fn info(&self) -> &'static RuleInfo {
        &TT012
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let Some(request) = cx.request() else { return };
        let turn = request.conversation.assistant_turns();
        let Some(recorded) = cx.cassette.turns.get(turn) else {
            return;
        };
        let sent = user_texts(&request.conversation);
        let expected = user_texts(&recorded.request.conversation);
        let name = cx.cassette.name();
        if sent != expected {
            let (i, got, want) = first_difference(&sent, &expected);
            let message =
                format!("user message {i} differs from the cassette: expected {want}, got {got}");
            let mut f = TT012.finding(
                Some(turn + 1),
                message.clone(),
                "a cassette replays one recorded conversation: send the recorded prompt (TOOLTAPE_PROMPT) and nothing else from the user",
            );
            f.rejection = Some(Rejection::Harness {
                message: format!("tooltape: the conversation left cassette `{name}`: {message}"),
            });
            out.push(f);
        }
        for (t, a) in request.conversation.assistant_indices().enumerate() {
            let Some(served) = cx.cassette.turns.get(t).and_then(|x| x.assistant.as_ref()) else {
                continue;
            };
            let echoed = request.conversation.messages[a].text();
            let served_text = served.text();
            if !echoed.trim().is_empty() && echoed.trim() != served_text.trim() {
                out.push(TT012.finding(
                    Some(t + 1),
                    format!(
                        "the text of assistant turn {} was rewritten: served {:?}, sent back {:?}",
                        t + 1,
                        clip(&served_text),
                        clip(&echoed)
                    ),
                    "send assistant turns back as they were served",
                ));
            }
        }
        let recorded_stream = recorded.response.body.is_stream();
        if request.stream != recorded_stream {
            let (asked, has) = if request.stream {
                ("a stream", "a JSON body")
            } else {
                ("a JSON body", "a stream")
            };
            let message = format!(
                "the request asks for {asked}, but turn {} of the cassette was recorded as {has}",
                turn + 1
            );
            let mut f = TT012.finding(
                Some(turn + 1),
                message.clone(),
                "run the loop with the same `stream` setting the cassette was recorded with, or record a cassette with yours",
            );
            f.rejection = Some(Rejection::Harness {
                message: format!("tooltape: cassette `{name}`: {message}"),
            });
            out.push(f);
        }
    }
}

fn user_texts(conversation: &crate::transcript::Conversation) -> Vec<String> {
    conversation
        .messages
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.text().trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

fn first_difference(sent: &[String], expected: &[String]) -> (usize, String, String) {
    let show =
        |v: Option<&String>| v.map_or_else(|| "nothing".to_owned(), |s| format!("{:?}", clip(s)));
    let i = sent
        .iter()
        .zip(expected)
        .position(|(a, b)| a != b)
        .unwrap_or(sent.len().min(expected.len()));
    (i, show(sent.get(i)), show(expected.get(i)))
}

fn clip(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

/// TT013.
pub struct AbandonedToolCalls;
static TT013: RuleInfo = RuleInfo {
    id: "TT013",
    name: "abandoned-tool-calls",
    severity: Severity::Error,
    summary: "the loop ended without answering the last turn's calls",
};
impl Rule for AbandonedToolCalls {
    fn info(&self) -> &'static RuleInfo {
        &TT013
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        if let Some(last) = cx.abandoned_turn() {
            let calls = cx.cassette.calls(last);
            let ids: Vec<String> = calls
                .iter()
                .map(|c| format!("`{}` ({})", c.id, c.name))
                .collect();
            out.push(TT013.finding(
                Some(last + 1),
                format!("the loop stopped after turn {} without answering its calls {}", last + 1, ids.join(", ")),
                "keep looping while the model asks for tools: run every call, send the results, and stop only on a response without tool calls",
            ));
        }
    }
}

/// TT014.
pub struct RunawayLoop;
static TT014: RuleInfo = RuleInfo {
    id: "TT014",
    name: "runaway-loop",
    severity: Severity::Error,
    summary: "requests continue after the cassette's last response",
};
impl Rule for RunawayLoop {
    fn info(&self) -> &'static RuleInfo {
        &TT014
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let Some(request) = cx.request() else { return };
        let turn = request.conversation.assistant_turns();
        let len = cx.cassette.turns.len();
        if turn >= len {
            let message = format!(
                "the request asks for response {} but cassette `{}` ends after {len}, whose answer had no tool calls",
                turn + 1,
                cx.cassette.name()
            );
            let mut f = TT014.finding(
                Some(turn + 1),
                message.clone(),
                "stop the loop when a response has no tool calls (and keep a max-turns guard)",
            );
            f.rejection = Some(Rejection::Harness {
                message: format!("tooltape: {message}"),
            });
            out.push(f);
        }
    }
}

/// The provider's rejection for the unanswered calls of a turn, shared by TT001 and TT004.
pub(super) fn unanswered(issues: &[Issue], turn: usize) -> Option<Rejection> {
    issues.iter().find_map(|i| match i {
        Issue::Unanswered {
            assistant,
            turn: t,
            ids,
        } if *t == turn => Some(Rejection::MissingResults {
            assistant: *assistant,
            ids: ids.clone(),
        }),
        _ => None,
    })
}

/// The results that answer the calls of each assistant message: (assistant index, 1-based
/// turn, [(call index, message, block, result)] in request order).
type Answers<'a> = Vec<(
    usize,
    usize,
    Vec<(usize, usize, usize, &'a crate::transcript::ToolResult)>,
)>;

///
/// The call index is the call's position in the turn as served (the cassette), so that a call
/// dropped from the echoed message does not shift its siblings; results for ids the turn did
/// not serve are left to the pairing rules.
fn answers<'a>(
    cx: &RequestContext<'_>,
    conversation: &'a crate::transcript::Conversation,
) -> Answers<'a> {
    let messages = &conversation.messages;
    let mut out = Vec::new();
    for (t, a) in conversation.assistant_indices().enumerate() {
        let served = cx.cassette.calls(t);
        let calls: Vec<&str> = if served.is_empty() {
            messages[a].tool_calls().map(|c| c.id.as_str()).collect()
        } else {
            served.iter().map(|c| c.id.as_str()).collect()
        };
        if messages[a].tool_calls().next().is_none() {
            continue;
        }
        let mut found = Vec::new();
        for (m, message) in messages.iter().enumerate().skip(a + 1) {
            if message.role == Role::Assistant {
                break;
            }
            for (b, r) in message.tool_results() {
                if let Some(i) = calls.iter().position(|id| *id == r.call_id) {
                    found.push((i, m, b, r));
                }
            }
        }
        out.push((a, t + 1, found));
    }
    out
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
        if cx.provider() != Provider::Anthropic {
            return;
        }
        for (_, turn, found) in answers(cx, &request.conversation) {
            let mut parts: Vec<(usize, usize)> = found
                .iter()
                .map(|(_, m, b, _)| (*m, request.conversation.messages[*m].part_of(*b)))
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
    summary: "results are not in the order of the calls",
};
impl Rule for ResultsOutOfOrder {
    fn info(&self) -> &'static RuleInfo {
        &TT007
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let Some(request) = cx.request() else { return };
        for (_, turn, found) in answers(cx, &request.conversation) {
            let order: Vec<usize> = found.iter().map(|(i, ..)| *i).collect();
            if order.windows(2).any(|w| w[0] > w[1]) {
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
    summary: "the content sent for id X is what the tool endpoint returned for another call",
};
impl Rule for ResultMismatch {
    fn info(&self) -> &'static RuleInfo {
        &TT009
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let Some(request) = cx.request() else { return };
        for (_, turn, found) in answers(cx, &request.conversation) {
            let calls = cx.cassette.calls(turn - 1);
            let recorded: Vec<Option<String>> = calls
                .iter()
                .map(|c| {
                    cx.cassette
                        .recorded_result(turn - 1, &c.id)
                        .map(|r| r.text())
                })
                .collect();
            for (i, _, _, result) in &found {
                let sent = result.text();
                let Some(Some(own)) = recorded.get(*i) else {
                    continue;
                };
                if sent == *own {
                    continue;
                }
                let other = recorded
                    .iter()
                    .enumerate()
                    .find(|(j, r)| j != i && r.as_deref() == Some(sent.as_str()));
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
    summary: "a failing tool got no error result, or its failure dropped its siblings' results",
};
impl Rule for ToolFailureDropped {
    fn info(&self) -> &'static RuleInfo {
        &TT010
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let Some(request) = cx.request() else { return };
        let hint = "catch a tool's failure and send it as that call's result (Anthropic: `is_error: true`), and still send every sibling's result";
        for issue in cx.pairing() {
            let Issue::Missing { turn, id, name, .. } = issue else {
                continue;
            };
            if !cx.has_failing_call(*turn) {
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
        if cx.provider() == Provider::Anthropic {
            for (_, turn, found) in answers(cx, &request.conversation) {
                let calls = cx.cassette.calls(turn - 1);
                for (i, _, _, result) in found {
                    let Some(call) = calls.get(i) else { continue };
                    if cx.cassette.tool(&call.name).fails.is_some() && !result.is_error {
                        out.push(TT010.finding(
                            Some(turn),
                            format!("the result for the failing tool `{}` (`{}`) lacks `is_error: true`", call.name, call.id),
                            hint,
                        ));
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
        let failing: Vec<&str> = calls
            .iter()
            .filter(|c| cx.cassette.tool(&c.name).fails.is_some())
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

/// Renders a turn's spans as one line: `name@start-end` in call order.
#[must_use]
pub fn timeline(spans: &[&super::ToolSpan]) -> String {
    let base = spans
        .iter()
        .map(|s| s.start_ms)
        .fold(f64::INFINITY, f64::min);
    spans
        .iter()
        .map(|s| match s.end_ms {
            Some(end) => format!("{} {:.0}-{:.0}ms", s.name, s.start_ms - base, end - base),
            None => format!("{} {:.0}ms-(no reply)", s.name, s.start_ms - base),
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn turn_spans<'a>(cx: &'a SessionContext<'_>, turn: usize) -> Vec<&'a super::ToolSpan> {
    let mut spans: Vec<&super::ToolSpan> =
        cx.tool_spans.iter().filter(|s| s.turn == turn).collect();
    let calls = cx.cassette.calls(turn);
    spans.sort_by_key(|s| calls.iter().position(|c| c.id == s.call_id));
    spans
}

/// TT008.
pub struct SequentialExecution;
static TT008: RuleInfo = RuleInfo {
    id: "TT008",
    name: "sequential-execution",
    severity: Severity::Error,
    summary: "the independent tool calls of one turn did not overlap (or the barrier timed out); a warning unless the cassette sets `expect_concurrency`",
};
impl Rule for SequentialExecution {
    fn info(&self) -> &'static RuleInfo {
        &TT008
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        let mut turns: Vec<usize> = cx.tool_spans.iter().map(|s| s.turn).collect();
        turns.sort_unstable();
        turns.dedup();
        for turn in turns {
            let spans = turn_spans(cx, turn);
            let independent: Vec<&super::ToolSpan> = spans
                .iter()
                .copied()
                .filter(|s| !cx.cassette.tool(&s.name).sequential)
                .collect();
            if independent.len() < 2 {
                continue;
            }
            let timed_out = independent.iter().any(|s| s.barrier_timed_out);
            let overlap = independent
                .iter()
                .enumerate()
                .any(|(i, a)| independent[i + 1..].iter().any(|b| a.overlaps(b)));
            let sequential = if cx.barrier { timed_out } else { !overlap };
            if sequential {
                let why = if cx.barrier {
                    "the barrier timed out waiting for the other calls"
                } else {
                    "no two of them overlapped in time"
                };
                let mut f = TT008.finding(
                    Some(turn + 1),
                    format!(
                        "the {} independent calls of turn {} ran one after another ({why}): {}",
                        independent.len(),
                        turn + 1,
                        timeline(&independent)
                    ),
                    "start every independent call of a turn before awaiting any (asyncio.gather, join_all, a thread pool); an `async def` awaited in a for loop still runs one at a time",
                );
                if !cx.cassette.file.expect_concurrency {
                    f.severity = Severity::Warning;
                }
                out.push(f);
            }
        }
    }
}

/// TT015.
pub struct UnorderedSideEffects;
static TT015: RuleInfo = RuleInfo {
    id: "TT015",
    name: "unordered-side-effects",
    severity: Severity::Error,
    summary: "calls to tools the cassette marks `sequential` did not run one at a time, in call order",
};
impl Rule for UnorderedSideEffects {
    fn info(&self) -> &'static RuleInfo {
        &TT015
    }
    fn check_session(&self, cx: &SessionContext<'_>, out: &mut Vec<Finding>) {
        let mut turns: Vec<usize> = cx.tool_spans.iter().map(|s| s.turn).collect();
        turns.sort_unstable();
        turns.dedup();
        for turn in turns {
            let ordered: Vec<&super::ToolSpan> = turn_spans(cx, turn)
                .into_iter()
                .filter(|s| cx.cassette.tool(&s.name).sequential)
                .collect();
            let bad = ordered.windows(2).any(|w| {
                let prev_end = w[0].end_ms.unwrap_or(f64::INFINITY);
                w[1].start_ms < prev_end
            });
            if bad {
                out.push(TT015.finding(
                    Some(turn + 1),
                    format!(
                        "the calls of sequential tools in turn {} overlapped or ran out of call order: {}",
                        turn + 1,
                        timeline(&ordered)
                    ),
                    "run calls of tools with side effects one at a time, each after the previous one finished, in the order the model gave",
                ));
            }
        }
    }
}
