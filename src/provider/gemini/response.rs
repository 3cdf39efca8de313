//! A `GenerateContentResponse` body into an assistant turn.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::signature::canonical;
use super::wire::*;
use crate::provider::ResponseError;
use crate::provider::json::read;
use crate::transcript::{AssistantTurn, Block, StopReason, Thinking, ToolCall};

/// Decodes a JSON response body: the parts of its first candidate, in order.
///
/// Calls get no id here (the API gives none, and one it gives is not what pairs results):
/// [`AssistantTurn::number_calls`] gives them their positions.
///
/// # Errors
/// The body is not a response, or a part has a field of the wrong type; the error names the
/// JSON path (`candidates[0].content.parts[1].functionCall.args`).
pub fn decode_response_json(body: &str) -> Result<AssistantTurn, ResponseError> {
    let WireResponse { candidates } = read(body, "")?;
    let Some(candidate) = candidates.into_iter().next() else {
        return Ok(AssistantTurn {
            blocks: Vec::new(),
            stop: StopReason::Other,
        });
    };
    let WireCandidate {
        content,
        finish_reason,
    } = candidate;
    let parts = content.map(|c| c.parts).unwrap_or_default();
    let mut blocks = Vec::new();
    for (i, raw) in parts.iter().enumerate() {
        part_blocks(
            raw,
            &format!("candidates[0].content.parts[{i}]"),
            &mut blocks,
        )?;
    }
    let stop = stop_reason_of(finish_reason.as_deref(), &blocks);
    Ok(AssistantTurn { blocks, stop })
}

/// The blocks of one response part: its signature (a [`Thinking`] block right before what it
/// signs), then a call, a text, a thought (kept by kind: the API does not need thought text
/// back) or another kind of data.
pub(super) fn part_blocks(
    raw: &RawValue,
    at: &str,
    blocks: &mut Vec<Block>,
) -> Result<(), ResponseError> {
    let WirePart {
        text,
        thought,
        thought_signature,
        function_call,
    } = read(raw.get(), at)?;
    if let Some(signature) = thought_signature {
        blocks.push(signature_block(&signature));
    }
    if let Some(call) = function_call {
        let WireFunctionCall { name, args, .. } = call;
        let name = name.ok_or_else(|| {
            ResponseError::new(format!("{at}.functionCall"), "missing field `name`")
        })?;
        blocks.push(Block::ToolCall(ToolCall {
            id: String::new(),
            name,
            arguments: Value::Object(args.unwrap_or_default()).to_string(),
            item_id: None,
        }));
    } else if let Some(text) = text {
        blocks.push(if thought == Some(true) {
            Block::Other {
                kind: "thought".to_owned(),
            }
        } else {
            Block::Text { text }
        });
    } else {
        let fields: Map<String, Value> = read(raw.get(), at)?;
        blocks.push(Block::Other {
            kind: part_kind(&fields),
        });
    }
    Ok(())
}

/// The transcript block of a `thoughtSignature`, in its canonical form.
pub(super) fn signature_block(signature: &str) -> Block {
    Block::Thinking(Thinking {
        kind: THOUGHT_SIGNATURE.to_owned(),
        text: String::new(),
        signature: Some(canonical(signature)),
        id: None,
    })
}

/// `STOP` is the finish reason of a turn with calls too (protocol notes §D): the calls say it.
pub(super) fn stop_reason_of(wire: Option<&str>, blocks: &[Block]) -> StopReason {
    let calls = blocks.iter().any(|b| matches!(b, Block::ToolCall(_)));
    match wire {
        Some("STOP") if calls => StopReason::ToolUse,
        Some("STOP") => StopReason::EndTurn,
        Some("MAX_TOKENS") => StopReason::MaxTokens,
        _ => StopReason::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::gemini::test_support::*;

    #[test]
    fn a_recorded_parallel_response_decodes_with_its_signature_before_the_first_call() {
        let turn = decode_response_json(FANTASY_RESPONSE).unwrap();
        assert_eq!(turn.stop, StopReason::ToolUse);
        assert_eq!(turn.blocks.len(), 3);
        assert!(
            matches!(&turn.blocks[0], Block::Thinking(t) if t.kind == "thought_signature" && t.signature.as_deref().is_some_and(|s| s.starts_with("CuwBAb4")))
        );
        assert_eq!(turn.blocks[1], call("", "add", r#"{"a":2,"b":3}"#));
        assert_eq!(turn.blocks[2], call("", "multiply", r#"{"a":2,"b":3}"#));
    }

    #[test]
    fn calls_are_numbered_by_their_turn() {
        let mut turn = decode_response_json(FANTASY_RESPONSE).unwrap();
        turn.number_calls(2);
        let ids: Vec<&str> = turn.tool_calls().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["turn2-call1", "turn2-call2"]);
    }

    #[test]
    fn text_thoughts_other_parts_and_finish_reasons() {
        let body = r#"{"candidates":[{"content":{"role":"model","parts":[
            {"text":"thinking…","thought":true},
            {"text":"Here."},
            {"executableCode":{"language":"PYTHON","code":"1"}},
            {"functionCall":{"name":"now"}}]},"finishReason":"MAX_TOKENS"}]}"#;
        let turn = decode_response_json(body).unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                Block::Other {
                    kind: "thought".into()
                },
                text("Here."),
                Block::Other {
                    kind: "executableCode".into()
                },
                call("", "now", "{}"),
            ]
        );
        assert_eq!(turn.stop, StopReason::MaxTokens);
        let end = r#"{"candidates":[{"content":{"parts":[{"text":"5"}]},"finishReason":"STOP"}]}"#;
        assert_eq!(decode_response_json(end).unwrap().stop, StopReason::EndTurn);
        assert!(
            decode_response_json(r#"{"candidates":[]}"#)
                .unwrap()
                .blocks
                .is_empty()
        );
    }

    #[test]
    fn a_bad_part_is_reported_at_its_path() {
        let body = r#"{"candidates":[{"content":{"parts":[{"text":"a"},{"functionCall":{"name":"f","args":"{}"}}]}}]}"#;
        let err = decode_response_json(body).unwrap_err();
        assert_eq!(err.at, "candidates[0].content.parts[1].functionCall.args");
        let nameless = r#"{"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]}}]}"#;
        assert_eq!(
            decode_response_json(nameless).unwrap_err().at,
            "candidates[0].content.parts[0].functionCall"
        );
    }
}
