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
    &AlteredAssistantTurn,
    &MalformedRequest,
    &DivergedConversation,
    &AbandonedToolCalls,
    &RunawayLoop,
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
        let Some(last) = cx.served_turns.iter().max() else {
            return;
        };
        let calls = cx.cassette.calls(*last);
        if !calls.is_empty() {
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
