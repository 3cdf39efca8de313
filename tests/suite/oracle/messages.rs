//! What the wires whose request is a `messages` array of role-tagged messages (OpenAI Chat,
//! Anthropic) read and edit alike: the thinking blocks, the first user prompt, the `stream`
//! flag, the final answer echoed back; and a bundled follow-up with one edit to its messages,
//! for the reproducers. A wire shaped otherwise writes its own in its module.

use std::sync::Arc;

use serde_json::{Value, json};
use tooltape::Cassette;

use super::mutation::{Answer, Expected, FollowUp, RULES_NONE, set};
use crate::support::load;

/// The request's messages.
pub fn msgs(body: &mut Value) -> &mut Vec<Value> {
    body["messages"].as_array_mut().expect("messages")
}

/// Request 1 of a bundled cassette with one edit to its messages.
pub fn edited_follow_up(rel: &str, edit: impl FnOnce(&mut Vec<Value>)) -> (Arc<Cassette>, Vec<u8>) {
    let cassette = load(rel);
    let mut body = cassette.file.interactions[1].request.body.clone();
    edit(msgs(&mut body));
    (cassette, serde_json::to_vec(&body).unwrap())
}

/// Thinking blocks of every assistant message: (wire message, block).
pub fn thinking(messages: &[Value]) -> Vec<(usize, usize)> {
    let mut thinking = Vec::new();
    for (w, m) in messages.iter().enumerate() {
        if m["role"] != "assistant" {
            continue;
        }
        for (b, block) in m["content"].as_array().into_iter().flatten().enumerate() {
            if matches!(
                block["type"].as_str(),
                Some("thinking" | "redacted_thinking")
            ) {
                thinking.push((w, b));
            }
        }
    }
    thinking
}

/// `DropThinking`: one thinking block of an earlier or the last turn left out.
pub fn drop_thinking(f: &FollowUp, body: &mut Value, t: usize) -> Option<Expected> {
    if f.thinking.is_empty() {
        return None;
    }
    let (w, b) = f.thinking[t % f.thinking.len()];
    body["messages"][w]["content"].as_array_mut()?.remove(b);
    // With thinking enabled the API refuses a tool-use turn sent back without its
    // thinking block, but no reference captured that text.
    Some((set(["TT006"]), Answer::Unknown))
}

/// `ChangePrompt`: the first user message asks something else: the opening is the loop's own,
/// so the turn is served with a TT012 warning.
pub fn change_prompt(body: &mut Value) -> Option<Expected> {
    let first = msgs(body).iter().position(|m| m["role"] == "user")?;
    msgs(body)[first]["content"] = json!("A different question entirely.");
    Some((set(["TT012"]), Answer::Served))
}

/// `PromptAsParts`: the first user message as one text part, or a text part as a string (no
/// mistake).
pub fn prompt_as_parts(body: &mut Value) -> Option<Expected> {
    let first = msgs(body).iter().position(|m| m["role"] == "user")?;
    let content = &mut msgs(body)[first]["content"];
    match content.clone() {
        Value::String(s) => *content = json!([{"type": "text", "text": s}]),
        Value::Array(parts) if parts.len() == 1 && parts[0]["type"] == "text" => {
            *content = parts[0]["text"].clone();
        }
        _ => return None,
    }
    Some((set(RULES_NONE), Answer::Served))
}

/// `ParallelOff`: the request switches parallel calls off (`set` writes the provider's
/// switch): served as recorded, with a TT017 warning when the turn it asks for has several
/// calls (the real API would not produce it).
pub fn parallel_off(
    f: &FollowUp,
    body: &mut Value,
    cassette: &Cassette,
    set_switch: impl FnOnce(&mut Value),
) -> Option<Expected> {
    set_switch(body);
    let rules = if cassette.calls(f.k).len() > 1 {
        set(["TT017"])
    } else {
        set(RULES_NONE)
    };
    Some((rules, Answer::Served))
}

/// `FlipStream`: the other `stream` setting than the cassette's; the API serves either, so
/// the turn comes back re-encoded in the mode asked for.
pub fn flip_stream(f: &FollowUp, body: &mut Value) -> Option<Expected> {
    let stream = body["stream"].as_bool().unwrap_or(false);
    body["stream"] = json!(!stream);
    Some((
        set(RULES_NONE),
        Answer::Reencoded {
            provider: f.provider,
            stream: !stream,
        },
    ))
}

/// `AfterFinalAnswer`: the last request, sent again after the final answer with that answer
/// echoed (`echo` writes it in the wire's assistant message) and a new user message.
pub fn after_final_answer(
    f: &FollowUp,
    body: &mut Value,
    cassette: &Cassette,
    echo: impl FnOnce(String) -> Value,
) -> Option<Expected> {
    let last = cassette.turns.len() - 1;
    if f.k != last {
        return None;
    }
    let text = cassette.turns[last]
        .assistant
        .as_ref()
        .map(tooltape::transcript::AssistantTurn::text)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "Done.".to_owned());
    msgs(body).push(echo(text));
    msgs(body).push(json!({"role": "user", "content": "Thanks!"}));
    Some((set(["TT014"]), Answer::Harness))
}
