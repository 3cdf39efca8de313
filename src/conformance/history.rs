//! Rules on the conversation as a whole: the echoed assistant turns, the request's shape, the
//! recorded history, and where the loop stops (TT006, TT011–TT014).

use std::borrow::Cow;

use super::context::{RequestContext, SessionContext};
use super::finding::{Finding, Severity};
use super::reasoning;
use super::rule::{Rule, RuleInfo};
use crate::provider::{Malformed, MalformedKind, Rejection, ResultPlacement};
use crate::transcript::{AssistantTurn, Block, Message, Role};

/// TT006.
pub struct AlteredAssistantTurn;
static TT006: RuleInfo = RuleInfo {
    id: "TT006",
    name: "altered-assistant-turn",
    severity: Severity::Error,
    summary: "the assistant turn sent back differs from what was served (ids, names, arguments, dropped calls, dropped or edited thinking / reasoning items; a dropped thinking block is a warning when the API does not require it back for the request: thinking off, or a model that does not validate signatures; changed arguments that were served as text that is not JSON, and a call of a turn that repeats an id sent back under a new id, are warnings: the API takes both)",
};
impl Rule for AlteredAssistantTurn {
    fn info(&self) -> &'static RuleInfo {
        &TT006
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        let Some(request) = cx.request() else { return };
        let hint = "send the assistant turn back exactly as it was served: every call with its id, name and arguments, and every thinking block with its signature";
        let echoes = cx.echoes();
        let messages = &request.conversation.messages;
        for t in echoes.turns() {
            let Some(served) = cx.cassette.turns.get(t).and_then(|x| x.assistant.as_ref()) else {
                continue;
            };
            let echoed: Vec<usize> = echoes.of_turn(t).collect();
            let turn = Some(t + 1);
            let at = |m: &[usize]| {
                m.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let interleaving_allowed = cx.facts().placement == ResultPlacement::AnyLaterItem;
            // A second message echoes a turn only through one of its served call ids (see
            // `echo`), so a turn echoed more than once has calls.
            if echoed.len() > 1 && !interleaving_allowed {
                out.push(TT006.finding(
                    turn,
                    format!(
                        "turn {} was served as one assistant message but sent back split over assistant messages {}",
                        t + 1,
                        at(&echoed)
                    ),
                    "send each served turn back as one assistant message with all its calls, followed by all their results",
                ));
            }
            let calls = || echoed.iter().flat_map(|&m| messages[m].tool_calls());
            for call in served.tool_calls() {
                match calls().find(|c| c.id == call.id) {
                    None => out.push(TT006.finding(
                        turn,
                        format!("call `{}` ({}) was dropped from assistant message {}", call.id, call.name, at(&echoed)),
                        hint,
                    )),
                    Some(c) if c.name != call.name => out.push(TT006.finding(
                        turn,
                        format!("call `{}` was served as `{}` but sent back as `{}`", call.id, call.name, c.name),
                        hint,
                    )),
                    Some(c) if !c.same_arguments(call) && call.arguments_value().is_none() => {
                        // Arguments that do not parse cannot be kept by a loop that keeps
                        // calls parsed; the API takes any text back, so the change is shown,
                        // not failed.
                        let mut f = TT006.finding(
                            turn,
                            format!(
                                "the arguments of call `{}` ({}) were served as text that is not JSON, `{}`, and sent back as `{}`: the API takes any text there, but the history now shows the model a call it did not make",
                                call.id, call.name, call.arguments, c.arguments
                            ),
                            "send arguments back as the text they were served, even when it does not parse, and answer the call with an error result that says so",
                        );
                        f.severity = Severity::Warning;
                        out.push(f);
                    }
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
            let repeats = served.repeats_an_id();
            for &m in &echoed {
                for c in messages[m].tool_calls() {
                    if served.tool_calls().any(|s| s.id == c.id) {
                        continue;
                    }
                    // A turn that gave two calls one id cannot be answered call by call; a
                    // loop that sends the second back under an id of its own (same tool, same
                    // arguments) makes it answerable.
                    let renamed = repeats
                        && served.tool_calls().any(|s| {
                            s.name == c.name
                                && s.same_arguments(c)
                                && served.tool_calls().filter(|o| o.id == s.id).count() > 1
                        });
                    if renamed {
                        let mut f = TT006.finding(
                            turn,
                            format!(
                                "assistant message {m} carries call `{}` ({}) under an id the loop made up: turn {} gave two calls of `{}` one id, and the loop renamed one; the API takes it, but the history no longer shows what the model sent",
                                c.id,
                                c.name,
                                t + 1,
                                c.name
                            ),
                            "keep the served ids; a turn that repeats an id can be answered once for that id",
                        );
                        f.severity = Severity::Warning;
                        out.push(f);
                    } else {
                        out.push(TT006.finding(
                            turn,
                            format!(
                                "assistant message {m} carries call `{}` ({}), which was never served",
                                c.id, c.name
                            ),
                            hint,
                        ));
                    }
                }
            }
            for (b, block) in served.blocks.iter().enumerate() {
                let Block::Thinking(thinking) = block else {
                    continue;
                };
                if !echoed
                    .iter()
                    .any(|&m| messages[m].thinking().any(|e| thinking.echoed_by(e)))
                {
                    let mut f = TT006.finding(
                        turn,
                        format!(
                            "a `{}` block of turn {} was dropped or edited in assistant message {}",
                            thinking.kind,
                            t + 1,
                            at(&echoed)
                        ),
                        hint,
                    );
                    if !request.thinking_required {
                        // The loop turned thinking off, or asks a model that does not validate
                        // signatures: the API takes this history, so the cassette is no
                        // evidence of a wrong loop.
                        f.message.push_str(
                            "; the API does not require it back for this request (it does not turn thinking on, its model does not validate signatures, or it opts out of the validation), so it accepts the history without it",
                        );
                        f.hint = "send the request as recorded (thinking on, the recorded model) to test that the loop keeps thinking blocks".to_owned();
                        f.severity = Severity::Warning;
                    } else if cx.facts().reasoning_travels_with_calls {
                        f.rejection = reasoning::missing(served, thinking, &echoed, messages);
                    } else if let Some(text) = cx.facts().texts.missing_signature
                        && let Some((name, m)) = signature_lost(served, b, &echoed, messages)
                    {
                        f.rejection = Some(Rejection::Malformed(Malformed::new(
                            "",
                            MalformedKind::Invalid {
                                detail: text(name, m),
                            },
                        )));
                    }
                    out.push(f);
                }
            }
            if cx.facts().reasoning_travels_with_calls {
                for (message, block, reasoning) in reasoning::unfollowed(served, &echoed, messages)
                {
                    let mut f = TT006.finding(
                        turn,
                        format!(
                            "reasoning item `{reasoning}` of turn {} is sent without the item that followed it when it was served (message {message})",
                            t + 1
                        ),
                        "send each reasoning item back directly followed by the item it preceded in the response (its call or message), as the response listed them",
                    );
                    f.rejection = Some(Rejection::ReasoningWithoutFollower {
                        message,
                        block,
                        reasoning,
                    });
                    out.push(f);
                }
            }
        }
    }
}

/// The call whose signature (served block `b`, right before the call) the echo lost, with the
/// assistant message that echoes the call without any signature before it: `None` when the
/// signature signs no call, or the echoed call still carries one (edited, not lost).
fn signature_lost<'m>(
    served: &AssistantTurn,
    b: usize,
    echoed: &[usize],
    messages: &'m [Message],
) -> Option<(&'m str, usize)> {
    let Some(Block::ToolCall(call)) = served.blocks.get(b + 1) else {
        return None;
    };
    echoed.iter().find_map(|&m| {
        let blocks = &messages[m].blocks;
        let (at, c) = blocks.iter().enumerate().find_map(|(i, x)| match x {
            Block::ToolCall(c) if c.id == call.id => Some((i, c)),
            _ => None,
        })?;
        let signed = at > 0 && matches!(blocks[at - 1], Block::Thinking(_));
        (!signed).then_some((c.name.as_str(), m))
    })
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
    summary: "the request continues no recorded turn (an error: the server cannot tell which turn it continues); another opening, user text added between turns or a rewritten assistant text is only a warning (system prompt, model and sampling parameters are not compared)",
};
impl Rule for DivergedConversation {
    fn info(&self) -> &'static RuleInfo {
        &TT012
    }
    fn check_request(&self, cx: &RequestContext<'_>, out: &mut Vec<Finding>) {
        if let Some(id) = cx.unknown_continuation() {
            let mut f = TT012.finding(
                None,
                format!(
                    "the request continues from `{id}`, a response cassette `{}` never served",
                    cx.cassette.name()
                ),
                "continue from the id of the last response the loop received (or send the whole history)",
            );
            f.rejection = Some(Rejection::UnknownContinuation { id: id.to_owned() });
            out.push(f);
            return;
        }
        let Some(request) = cx.request() else { return };
        let echoes = cx.echoes();
        let turn = echoes.next;
        let Some(recorded) = cx.cassette.turns.get(turn) else {
            return;
        };
        let name = cx.cassette.name();
        for &m in &echoes.unrecognised {
            let message = format!(
                "assistant message {m} carries no call that cassette `{name}` served, nor a call of a tool its turn {} called, so the request continues no recorded turn",
                turn
            );
            let mut f = TT012.finding(
                Some(turn + 1),
                message.clone(),
                "send the served assistant turns back with their call ids; a cassette replays one recorded conversation",
            );
            f.rejection = Some(Rejection::Harness {
                message: format!("tooltape: the conversation left cassette `{name}`: {message}"),
            });
            out.push(f);
        }
        let (sent_opening, sent_later) = user_texts(&request.conversation);
        let (recorded_opening, recorded_later) = user_texts(&recorded.request.conversation);
        // A loop that sends the cassette's prompt alone opens as the recording did.
        let prompt_only =
            || sent_opening.len() == 1 && sent_opening[0] == cx.cassette.prompt().trim();
        if sent_opening != recorded_opening && !prompt_only() {
            let (i, got, want) = first_difference(&sent_opening, &recorded_opening);
            let mut f = TT012.finding(
                Some(turn + 1),
                format!(
                    "the opening differs from the recording (user message {i}: recorded {want}, sent {got}); the recorded answers may not fit this prompt"
                ),
                "the opening is the loop's own, but the recorded answers fit the recorded prompt: send TOOLTAPE_PROMPT (or the messages of TOOLTAPE_MESSAGES_FILE) to judge the loop on the conversation it was recorded with",
            );
            f.severity = Severity::Warning;
            out.push(f);
        }
        if sent_later != recorded_later {
            let (i, got, want) = first_difference(&sent_later, &recorded_later);
            let mut f = TT012.finding(
                Some(turn + 1),
                format!(
                    "user text {i} after the opening differs from the recording (recorded {want}, sent {got}); the next recorded turn was served anyway"
                ),
                "a cassette replays one recorded conversation: user messages added between turns are accepted by the API, but the recorded answers do not know them",
            );
            f.severity = Severity::Warning;
            out.push(f);
        }
        for (a, t) in echoes.messages.iter().copied() {
            let Some(served) = cx.cassette.turns.get(t).and_then(|x| x.assistant.as_ref()) else {
                continue;
            };
            let echoed = request.conversation.messages[a].borrowed_text();
            let served_text = served.borrowed_text();
            if !echoed.trim().is_empty() && echoed.trim() != served_text.trim() {
                let mut f = TT012.finding(
                    Some(t + 1),
                    format!(
                        "the text of assistant turn {} was rewritten: served {:?}, sent back {:?}",
                        t + 1,
                        clip(&served_text),
                        clip(&echoed)
                    ),
                    "send assistant turns back as they were served",
                );
                f.severity = Severity::Warning;
                out.push(f);
            }
        }
    }
}

/// The non-empty user texts of a conversation: those of its opening (before the first
/// assistant message) and those after it.
fn user_texts<'a>(
    conversation: &'a crate::transcript::Conversation,
) -> (Vec<Cow<'a, str>>, Vec<Cow<'a, str>>) {
    let first_assistant = conversation
        .messages
        .iter()
        .position(|m| m.role == Role::Assistant)
        .unwrap_or(conversation.messages.len());
    let texts = |range: &'a [crate::transcript::Message]| -> Vec<Cow<'a, str>> {
        range
            .iter()
            .filter(|m| m.role == Role::User)
            .map(|m| trimmed(m.borrowed_text()))
            .filter(|t| !t.is_empty())
            .collect()
    };
    let (opening, later) = conversation.messages.split_at(first_assistant);
    (texts(opening), texts(later))
}

/// `text` without its leading and trailing whitespace, still borrowed if it was.
fn trimmed(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(t) => Cow::Borrowed(t.trim()),
        Cow::Owned(t) => Cow::Owned(t.trim().to_owned()),
    }
}

fn first_difference(sent: &[Cow<'_, str>], expected: &[Cow<'_, str>]) -> (usize, String, String) {
    let show = |v: Option<&Cow<'_, str>>| {
        v.map_or_else(|| "nothing".to_owned(), |s| format!("{:?}", clip(s)))
    };
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
    summary: "the loop ended without answering the last turn's calls; a warning when that turn gives two calls one id, which no answer tells apart",
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
            let repeats = cx
                .cassette
                .turns
                .get(last)
                .and_then(|t| t.assistant.as_ref())
                .is_some_and(AssistantTurn::repeats_an_id);
            let mut f = TT013.finding(
                Some(last + 1),
                format!("the loop stopped after turn {} without answering its calls {}", last + 1, ids.join(", ")),
                "keep looping while the model asks for tools: run every call, send the results, and stop only on a response without tool calls",
            );
            if repeats {
                // Two calls with one id have no answer the APIs take call by call: refusing
                // the turn is a choice, not a protocol error.
                f.message.push_str(
                    ", a turn that gives two calls one id: refusing it is defensible (no answer tells the two apart), answering the id once and going on keeps the run alive",
                );
                f.severity = Severity::Warning;
            }
            out.push(f);
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
        if cx.request().is_none() {
            return;
        }
        let turn = cx.echoes().next;
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::cassette::Cassette;

    /// A turn whose calls each carry their own signature, echoed with the signature of the
    /// second call dropped: the provider's error names the call that lost it, not the first
    /// call, which kept its own.
    #[test]
    fn a_lost_signature_is_the_one_of_the_call_it_signed() {
        let mut cassette = Cassette::load(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/gemini/pydantic-ai-3-flash-parallel3-multiturn.json"),
        )
        .unwrap();
        let served = cassette.turns[0].assistant.as_mut().unwrap();
        let Some(Block::Thinking(first)) = served.blocks.first().cloned() else {
            panic!("the first call is signed: {:?}", served.blocks)
        };
        assert!(
            matches!(served.blocks.get(2), Some(Block::ToolCall(_))),
            "{:?}",
            served.blocks
        );
        let mut second = first.clone();
        second.signature = Some("c2Vjb25kIGNhbGw=".to_owned());
        served.blocks.insert(2, Block::Thinking(second));
        let request = cassette.turns[1].request.clone();
        assert!(
            request.thinking_required,
            "a Gemini 3 model validates signatures"
        );
        let decoded = Ok(request);
        let cx = RequestContext::new(&cassette, &decoded);
        let mut out = Vec::new();
        AlteredAssistantTurn.check_request(&cx, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        let Some(Rejection::Malformed(m)) = &out[0].rejection else {
            panic!("the lost signature is rejected: {:?}", out[0])
        };
        let MalformedKind::Invalid { detail } = &m.problem else {
            panic!("{m:?}")
        };
        let text = cx.facts().texts.missing_signature.unwrap();
        assert_eq!(detail, &text("generate_topic", 1));
    }
}
