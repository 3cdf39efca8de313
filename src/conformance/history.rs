//! Rules on the conversation as a whole: the echoed assistant turns, the request's shape, the
//! recorded history, and where the loop stops (TT006, TT011–TT014).

use super::context::{RequestContext, SessionContext};
use super::finding::{Finding, Severity};
use super::rule::{Rule, RuleInfo};
use crate::provider::Rejection;
use crate::transcript::Role;

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
