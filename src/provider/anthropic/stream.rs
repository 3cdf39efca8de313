//! Stream events accumulated by content block.

use super::response::stop_reason_of;
use crate::provider::json::read;
use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::wire::*;
use crate::provider::ResponseError;
use crate::provider::sse::Event;
use crate::transcript::{AssistantTurn, Block, Thinking, ToolCall};

/// A content block being accumulated from a stream.
pub(super) enum Partial {
    Text(String),
    Thinking {
        text: String,
        signature: String,
    },
    RedactedThinking(String),
    ToolUse {
        id: String,
        name: String,
        start_input: Map<String, Value>,
        json: String,
    },
    Other(String),
}

impl Partial {
    fn kind(&self) -> &str {
        match self {
            Partial::Text(_) => "text",
            Partial::Thinking { .. } => THINKING,
            Partial::RedactedThinking(_) => REDACTED_THINKING,
            Partial::ToolUse { .. } => "tool_use",
            Partial::Other(kind) => kind,
        }
    }

    fn finish(self) -> Block {
        match self {
            Partial::Text(text) => Block::Text { text },
            Partial::Thinking { text, signature } => Block::Thinking(Thinking {
                kind: THINKING.to_owned(),
                text,
                signature: Some(signature),
                id: None,
            }),
            Partial::RedactedThinking(data) => Block::Thinking(Thinking {
                kind: REDACTED_THINKING.to_owned(),
                text: data,
                signature: None,
                id: None,
            }),
            Partial::ToolUse {
                id,
                name,
                start_input,
                json,
            } => {
                // Kept as sent even when it does not parse: a call cut off at `max_tokens` is
                // what the model produced, and the rules must see it.
                let arguments = if json.trim().is_empty() {
                    Value::Object(start_input).to_string()
                } else {
                    json
                };
                Block::ToolCall(ToolCall {
                    id,
                    name,
                    arguments,
                    item_id: None,
                })
            }
            Partial::Other(kind) => Block::Other { kind },
        }
    }
}

/// A block of the stream: what it holds so far, and whether `content_block_stop` closed it.
pub(super) struct Slot {
    partial: Partial,
    open: bool,
}

/// Decodes a streamed response, accumulating each content block by its `index`.
///
/// # Errors
/// An event is not JSON, its `event:` name differs from its `type`, it touches a block that was
/// never started (or already stopped), the stream carries an `error` event, or it ends without
/// `message_stop`. The error is at `frame N`, N counting the events from 0.
pub fn decode_response_sse(events: &[Event]) -> Result<AssistantTurn, ResponseError> {
    let mut slots: BTreeMap<usize, Slot> = BTreeMap::new();
    let mut started = false;
    let mut stopped = false;
    let mut stop_reason = None;
    for (n, event) in events.iter().enumerate() {
        let at = format!("frame {n}");
        let fail = |message: String| ResponseError::new(at.clone(), message);
        let Tagged { kind } = read(&event.data, &at)?;
        match event.event.as_deref() {
            Some(name) if name == kind => {}
            Some(name) => {
                return Err(fail(format!(
                    "the `event: {name}` line does not match the data's type `{kind}`"
                )));
            }
            None => return Err(fail(format!("the `{kind}` event has no `event:` line"))),
        }
        if kind == "ping" {
            continue;
        }
        if kind == "error" {
            let ErrorEvent { error } = read(&event.data, &at)?;
            return Err(fail(format!(
                "the stream carries an error: {}: {}",
                error.kind, error.message
            )));
        }
        if !is_known_event(&kind) {
            continue;
        }
        if stopped {
            return Err(fail(format!("a `{kind}` event after `message_stop`")));
        }
        if !started && kind != "message_start" {
            return Err(fail(format!("a `{kind}` event before `message_start`")));
        }
        match kind.as_str() {
            "message_start" => {
                if started {
                    return Err(fail("a second `message_start`".to_owned()));
                }
                let MessageStart { message } = read(&event.data, &at)?;
                stop_reason = message.stop_reason;
                started = true;
            }
            "content_block_start" => {
                let ContentBlockStart {
                    index,
                    content_block,
                } = read(&event.data, &at)?;
                if slots.contains_key(&index) {
                    return Err(fail(format!("block {index} is started twice")));
                }
                let partial = started_block(&content_block, &format!("{at}: content_block"))?;
                slots.insert(
                    index,
                    Slot {
                        partial,
                        open: true,
                    },
                );
            }
            "content_block_delta" => {
                let ContentBlockDelta { index, delta } = read(&event.data, &at)?;
                let slot = open_slot(&mut slots, index).map_err(&fail)?;
                apply_delta(&mut slot.partial, &delta, index, &format!("{at}: delta"))?;
            }
            "content_block_stop" => {
                let ContentBlockStop { index } = read(&event.data, &at)?;
                open_slot(&mut slots, index).map_err(&fail)?.open = false;
            }
            "message_delta" => {
                let MessageDelta { delta } = read(&event.data, &at)?;
                if delta.stop_reason.is_some() {
                    stop_reason = delta.stop_reason;
                }
            }
            "message_stop" => {
                if let Some((index, _)) = slots.iter().find(|(_, s)| s.open) {
                    return Err(fail(format!(
                        "`message_stop` while block {index} was never stopped"
                    )));
                }
                stopped = true;
            }
            _ => {}
        }
    }
    if !stopped {
        return Err(ResponseError::new(
            format!("frame {}", events.len()),
            format!(
                "the stream ends after {} events without `message_stop` (truncated)",
                events.len()
            ),
        ));
    }
    Ok(AssistantTurn {
        blocks: slots.into_values().map(|s| s.partial.finish()).collect(),
        stop: stop_reason_of(stop_reason.as_deref()),
    })
}

pub(super) fn is_known_event(kind: &str) -> bool {
    matches!(
        kind,
        "message_start"
            | "content_block_start"
            | "content_block_delta"
            | "content_block_stop"
            | "message_delta"
            | "message_stop"
    )
}

pub(super) fn open_slot(
    slots: &mut BTreeMap<usize, Slot>,
    index: usize,
) -> Result<&mut Slot, String> {
    match slots.get_mut(&index) {
        Some(slot) if slot.open => Ok(slot),
        Some(_) => Err(format!("block {index} was already stopped")),
        None => Err(format!("block {index} was never started")),
    }
}

pub(super) fn started_block(raw: &RawValue, at: &str) -> Result<Partial, ResponseError> {
    let Tagged { kind } = read(raw.get(), at)?;
    Ok(match kind.as_str() {
        "text" => {
            let TextBlock { text } = read(raw.get(), at)?;
            Partial::Text(text)
        }
        THINKING => {
            let StartedThinking {
                thinking,
                signature,
            } = read(raw.get(), at)?;
            Partial::Thinking {
                text: thinking,
                signature,
            }
        }
        REDACTED_THINKING => {
            let RedactedThinkingBlock { data } = read(raw.get(), at)?;
            Partial::RedactedThinking(data)
        }
        "tool_use" => {
            let StartedToolUse { id, name, input } = read(raw.get(), at)?;
            Partial::ToolUse {
                id,
                name,
                start_input: input,
                json: String::new(),
            }
        }
        _ => Partial::Other(kind),
    })
}

pub(super) fn apply_delta(
    partial: &mut Partial,
    raw: &RawValue,
    index: usize,
    at: &str,
) -> Result<(), ResponseError> {
    let Tagged { kind } = read(raw.get(), at)?;
    match (kind.as_str(), &mut *partial) {
        ("text_delta", Partial::Text(text)) => {
            let TextDelta { text: more } = read(raw.get(), at)?;
            text.push_str(&more);
        }
        ("input_json_delta", Partial::ToolUse { json, .. }) => {
            let InputJsonDelta { partial_json } = read(raw.get(), at)?;
            json.push_str(&partial_json);
        }
        ("thinking_delta", Partial::Thinking { text, .. }) => {
            let ThinkingDelta { thinking } = read(raw.get(), at)?;
            text.push_str(&thinking);
        }
        ("signature_delta", Partial::Thinking { signature, .. }) => {
            let SignatureDelta { signature: more } = read(raw.get(), at)?;
            signature.push_str(&more);
        }
        (
            "text_delta" | "input_json_delta" | "thinking_delta" | "signature_delta",
            Partial::Text(_)
            | Partial::Thinking { .. }
            | Partial::RedactedThinking(_)
            | Partial::ToolUse { .. },
        ) => {
            let block = partial.kind();
            return Err(ResponseError::new(
                at,
                format!("a `{kind}` for block {index}, which is a `{block}` block"),
            ));
        }
        // Server-tool blocks take deltas we do not model; newer delta types (citations) carry
        // nothing the rules read.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    use crate::provider::sse::Event;

    use crate::transcript::{Block, StopReason, Thinking};

    use super::*;
    use crate::provider::anthropic::test_support::*;

    // -- streams ------------------------------------------------------------------------------

    /// `tests/lib/streaming/fixtures/tool_use_response.txt` of anthropics/anthropic-sdk-python
    /// (MIT, "Copyright 2023 Anthropic, PBC."), the whole file as recorded (2000 bytes, no
    /// newline at the end).
    const SDK_TOOL_USE_STREAM: &str = r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_019Q1hrJbZG26Fb9BQhrkHEr","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":377,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1,"service_tier":"standard"}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"'ll check the current weather in Paris for you."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01NRLabsLyVHZPKxbKvkfSMn","name":"get_weather","caller":{"type":"direct"},"input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"locati"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"on\": \"P"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ar"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"is\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":65}}

event: message_stop
data: {"type":"message_stop"}"#;

    #[test]
    fn the_recorded_sdk_stream_decodes() {
        assert_eq!(SDK_TOOL_USE_STREAM.len(), 2000);
        let turn = decode_response_sse(&events(SDK_TOOL_USE_STREAM)).unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                text("I'll check the current weather in Paris for you."),
                call(
                    "toolu_01NRLabsLyVHZPKxbKvkfSMn",
                    "get_weather",
                    r#"{"location": "Paris"}"#
                ),
            ]
        );
        assert_eq!(turn.stop, StopReason::ToolUse);
    }

    #[test]
    fn padded_data_lines_and_pings_between_blocks_are_tolerated() {
        let turn = decode_response_sse(&events(FANTASY_STREAM)).unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                text("I'll add and multiply."),
                call(
                    "toolu_01UYxUYC2zRPY8wiutnF48eP",
                    "add",
                    r#"{"a": 2, "b": 3}"#
                ),
                call(
                    "toolu_01VaRx1jpWCvPhi7L4kywAcd",
                    "multiply",
                    r#"{"a": 2, "b": 3}"#
                ),
            ]
        );
        assert_eq!(turn.stop, StopReason::ToolUse);
    }

    const START: (&str, &str) = (
        "message_start",
        r#"{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"stop_reason":null}}"#,
    );
    const STOP: (&str, &str) = ("message_stop", r#"{"type":"message_stop"}"#);

    #[test]
    fn a_no_argument_tool_streamed_as_empty_deltas_has_empty_object_arguments() {
        let turn = decode_response_sse(&stream(&[
            START,
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01","name":"now","input":{}}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            STOP,
        ]))
        .unwrap();
        assert_eq!(turn.blocks, vec![call("toolu_01", "now", "{}")]);
        assert_eq!(turn.stop, StopReason::Other);
    }

    #[test]
    fn interleaved_blocks_are_accumulated_by_index() {
        let turn = decode_response_sse(&stream(&[
            START,
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_a","name":"f","input":{}}}"#),
            ("content_block_start", r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_b","name":"g","input":{}}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"b\":"}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"1}"}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"2}"}}"#),
            ("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
            ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
            ("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"}}"#),
            STOP,
        ]))
        .unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                call("toolu_a", "f", r#"{"a":1}"#),
                call("toolu_b", "g", r#"{"b":2}"#)
            ]
        );
    }

    #[test]
    fn thinking_is_accumulated_with_its_signature() {
        let turn = decode_response_sse(&stream(&[
            START,
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Two "}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"calls."}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCg"}}"#),
            ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
            ("some_future_event", r#"{"type":"some_future_event","x":1}"#),
            ("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#),
            STOP,
        ]))
        .unwrap();
        assert_eq!(
            turn.blocks,
            vec![Block::Thinking(Thinking {
                kind: "thinking".to_owned(),
                text: "Two calls.".to_owned(),
                signature: Some("EqQBCg".to_owned()),
                id: None,
            })]
        );
        assert_eq!(turn.stop, StopReason::EndTurn);
    }

    #[test]
    fn arguments_cut_off_at_max_tokens_are_kept_as_sent() {
        let turn = decode_response_sse(&stream(&[
            START,
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01","name":"write","input":{}}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"text\": \"Once upon"}}"#),
            ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
            ("message_delta", r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"}}"#),
            STOP,
        ]))
        .unwrap();
        assert_eq!(
            turn.blocks,
            vec![call("toolu_01", "write", r#"{"text": "Once upon"#)]
        );
        assert_eq!(turn.stop, StopReason::MaxTokens);
    }

    #[test]
    fn a_truncated_stream_is_an_error() {
        let all = events(SDK_TOOL_USE_STREAM);
        let err = decode_response_sse(&all[..all.len() - 2]).unwrap_err();
        assert_eq!(err.at, format!("frame {}", all.len() - 2));
        assert!(
            err.message.contains("without `message_stop`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_error_event_is_an_error_with_its_message() {
        let mut all = events(SDK_TOOL_USE_STREAM);
        all.insert(
            4,
            Event {
                event: Some("error".to_owned()),
                data: r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#
                    .to_owned(),
            },
        );
        let err = decode_response_sse(&all).unwrap_err();
        assert_eq!(err.at, "frame 4");
        assert!(
            err.message.contains("overloaded_error: Overloaded"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_event_name_that_differs_from_its_type_is_an_error() {
        let mut all = events(SDK_TOOL_USE_STREAM);
        all[3].event = Some("content_block_stop".to_owned());
        let err = decode_response_sse(&all).unwrap_err();
        assert_eq!(err.at, "frame 3");
        assert!(
            err.message.contains("`event: content_block_stop`"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("`content_block_delta`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_delta_for_a_block_never_started_is_an_error() {
        let err = decode_response_sse(&stream(&[
            START,
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#),
            STOP,
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 2");
        assert!(
            err.message.contains("block 1 was never started"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_delta_after_its_block_stopped_is_an_error() {
        let err = decode_response_sse(&stream(&[
            START,
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            ("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}"#),
            STOP,
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 3");
        assert!(err.message.contains("already stopped"), "{}", err.message);
    }

    #[test]
    fn a_delta_of_the_wrong_kind_for_its_block_is_an_error() {
        let err = decode_response_sse(&stream(&[
            START,
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            ("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#),
            STOP,
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 2: delta");
        assert!(
            err.message
                .contains("`input_json_delta` for block 0, which is a `text` block"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_block_left_open_at_message_stop_is_an_error() {
        let err = decode_response_sse(&stream(&[
            START,
            ("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            STOP,
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 2");
        assert!(
            err.message.contains("block 0 was never stopped"),
            "{}",
            err.message
        );
    }
}
