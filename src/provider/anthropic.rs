//! The Anthropic Messages codec (`POST /v1/messages`).
//!
//! Responses are read as typed structs. A content block (or stream event) is read in two steps:
//! its `type` tag first, then the struct for that tag. An internally tagged enum
//! (`#[serde(tag = "type")]`) would be the obvious shape, but serde buffers the block before it
//! picks the variant, and `serde_path_to_error` cannot see inside the buffer: a bad `input` would
//! be reported at `content[2]` instead of `content[2].input`. Unknown tags become
//! [`Block::Other`] (responses) or are skipped (stream events).
//!
//! Requests are walked as [`Value`]s rather than deserialised, because a rejection needs the kind
//! of problem (`Field required`, `Input should be a valid dictionary`) and not serde's prose.
//! Consecutive messages of the same role are merged, as the API does before it judges tool use,
//! so the rules see the indices the API reports (`messages.0.content.1` for a text prompt
//! followed by a separate `tool_result` message). Malformed-request paths keep the wire indices:
//! the shape check runs on the body as sent, before any merging (an inference; no capture shows
//! a shape error after a merge).
//!
//! # Error texts
//!
//! Every body is `{"type":"error","error":{"type":…,"message":…},"request_id":…}`. Where the texts
//! come from (see `reference/protocol-notes.md` §C and `reference/recordings/API_ERRORS.md`):
//!
//! | rejection | status, error type | message | evidence |
//! |---|---|---|---|
//! | `MissingResults` | 400 `invalid_request_error` | ``messages.N: `tool_use` ids were found without `tool_result` blocks immediately after: ID, ID. Each `tool_use` block must have a corresponding `tool_result` block in the next message.`` | captured (many issue reports) |
//! | `UnknownResult`, `OrphanResult` | 400 `invalid_request_error` | ``messages.N.content.M: unexpected `tool_use_id` found in `tool_result` blocks: ID. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.`` | captured, and recorded in `anthropic-sdk-error-tool_result-without-tool_use.json` |
//! | `DuplicateResult` | 400 `invalid_request_error` | ``messages.N.content.M: each tool_use must have a single result. Found multiple `tool_result` blocks with id: ID`` | captured (a test fixture quoting a real error) |
//! | `Malformed`, missing field | 400 `invalid_request_error` | `PATH: Field required` | best-known form (the API's validator wording) |
//! | `Malformed`, wrong type | 400 `invalid_request_error` | `PATH: Input should be a valid dictionary` (`list`, `string`, `integer`, `boolean`) | best-known form |
//! | `Malformed`, invalid value | 400 `invalid_request_error` | `PATH: DETAIL` | best-known form |
//! | `Malformed`, too long | 400 `invalid_request_error` | `PATH: String should have at most MAX characters` | best-known form |
//! | `Malformed`, not JSON | 400 `invalid_request_error` | `There was an error parsing the body of your request. Check that it is valid JSON.` | best-known form, not captured |
//! | `Malformed`, no `x-api-key` | 401 `authentication_error` | `x-api-key header is required` | captured |
//! | `Malformed`, no `anthropic-version` | 400 `invalid_request_error` | `anthropic-version: header is required` | captured |
//! | `Harness` | 400 `invalid_request_error` | the harness's own message, starting `tooltape:` | ours |
//!
//! The real API writes a validator path with the block's type in it
//! (`messages.3.content.0.tool_use.id`); our malformed paths are plain JSON paths
//! (`messages.3.content.0.id`), so those texts may differ from the real ones in that segment.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::sse::Event;
use super::{DecodedRequest, ErrorReply, Malformed, MalformedKind, Rejection, ResponseError};
use crate::transcript::{
    AssistantTurn, Block, Conversation, Message, Role, StopReason, Thinking, ToolCall, ToolResult,
};

/// The `request_id` of every error body we render. Real ones vary per request (`req_011C…`);
/// a fixed one keeps replies, snapshots and reports deterministic.
const REQUEST_ID: &str = "req_011tooltape0replay000000";

const THINKING: &str = "thinking";
const REDACTED_THINKING: &str = "redacted_thinking";

// ---------------------------------------------------------------------------------------------
// Wire types: responses

/// The only field every block and stream event shares.
#[derive(Deserialize)]
struct Tagged {
    #[serde(rename = "type")]
    kind: String,
}

/// A `message` response body. Other fields (`id`, `model`, `usage`, …) are not needed.
#[derive(Deserialize)]
struct WireResponse {
    content: Vec<Box<RawValue>>,
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct TextBlock {
    text: String,
}

#[derive(Deserialize)]
struct ThinkingBlock {
    thinking: String,
    signature: String,
}

#[derive(Deserialize)]
struct RedactedThinkingBlock {
    data: String,
}

#[derive(Deserialize)]
struct ToolUseBlock {
    id: String,
    name: String,
    input: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// Wire types: stream events

#[derive(Deserialize)]
struct MessageStart {
    message: StartedMessage,
}

#[derive(Deserialize)]
struct StartedMessage {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct ContentBlockStart {
    index: usize,
    content_block: Box<RawValue>,
}

/// A `thinking` block as a stream opens it: the text and signature come in deltas.
#[derive(Deserialize)]
struct StartedThinking {
    #[serde(default)]
    thinking: String,
    #[serde(default)]
    signature: String,
}

/// A `tool_use` block as a stream opens it: `input` is `{}` and the arguments come in deltas.
#[derive(Deserialize)]
struct StartedToolUse {
    id: String,
    name: String,
    #[serde(default)]
    input: Map<String, Value>,
}

#[derive(Deserialize)]
struct ContentBlockDelta {
    index: usize,
    delta: Box<RawValue>,
}

#[derive(Deserialize)]
struct TextDelta {
    text: String,
}

#[derive(Deserialize)]
struct InputJsonDelta {
    partial_json: String,
}

#[derive(Deserialize)]
struct ThinkingDelta {
    thinking: String,
}

#[derive(Deserialize)]
struct SignatureDelta {
    signature: String,
}

#[derive(Deserialize)]
struct ContentBlockStop {
    index: usize,
}

#[derive(Deserialize)]
struct MessageDelta {
    delta: MessageDeltaBody,
}

#[derive(Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct ErrorEvent {
    error: ErrorEventBody,
}

#[derive(Deserialize)]
struct ErrorEventBody {
    #[serde(rename = "type")]
    kind: String,
    message: String,
}

// ---------------------------------------------------------------------------------------------
// Responses

/// Decodes a JSON response body (a `message` object).
///
/// # Errors
/// The body is not a message, or a block lacks a field or has one of the wrong type; the error
/// names the JSON path (`content[2].input`).
pub fn decode_response_json(body: &str) -> Result<AssistantTurn, ResponseError> {
    let WireResponse {
        content,
        stop_reason,
    } = read(body, "")?;
    let blocks = content
        .iter()
        .enumerate()
        .map(|(i, raw)| response_block(raw, &format!("content[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(AssistantTurn {
        blocks,
        stop: stop_reason_of(stop_reason.as_deref()),
    })
}

fn response_block(raw: &RawValue, at: &str) -> Result<Block, ResponseError> {
    let Tagged { kind } = read(raw.get(), at)?;
    Ok(match kind.as_str() {
        "text" => {
            let TextBlock { text } = read(raw.get(), at)?;
            Block::Text { text }
        }
        THINKING => {
            let ThinkingBlock {
                thinking,
                signature,
            } = read(raw.get(), at)?;
            Block::Thinking(Thinking {
                kind,
                text: thinking,
                signature: Some(signature),
            })
        }
        REDACTED_THINKING => {
            let RedactedThinkingBlock { data } = read(raw.get(), at)?;
            Block::Thinking(Thinking {
                kind,
                text: data,
                signature: None,
            })
        }
        "tool_use" => {
            let ToolUseBlock { id, name, input } = read(raw.get(), at)?;
            Block::ToolCall(ToolCall {
                id,
                name,
                arguments: Value::Object(input).to_string(),
            })
        }
        _ => Block::Other { kind },
    })
}

/// Reads `text` as a `T`, naming the failing path below `at`.
fn read<T: DeserializeOwned>(text: &str, at: &str) -> Result<T, ResponseError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (at, inner.as_str()) {
            (_, ".") => at.to_owned(),
            ("", inner) => inner.to_owned(),
            (at, inner) if inner.starts_with('[') => format!("{at}{inner}"),
            (at, inner) => format!("{at}.{inner}"),
        };
        ResponseError::new(path, e.into_inner().to_string())
    })
}

fn stop_reason_of(wire: Option<&str>) -> StopReason {
    match wire {
        Some("tool_use") => StopReason::ToolUse,
        Some("end_turn" | "stop_sequence") => StopReason::EndTurn,
        Some("max_tokens") => StopReason::MaxTokens,
        _ => StopReason::Other,
    }
}

/// A content block being accumulated from a stream.
enum Partial {
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
            }),
            Partial::RedactedThinking(data) => Block::Thinking(Thinking {
                kind: REDACTED_THINKING.to_owned(),
                text: data,
                signature: None,
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
                })
            }
            Partial::Other(kind) => Block::Other { kind },
        }
    }
}

/// A block of the stream: what it holds so far, and whether `content_block_stop` closed it.
struct Slot {
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

fn is_known_event(kind: &str) -> bool {
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

fn open_slot(slots: &mut BTreeMap<usize, Slot>, index: usize) -> Result<&mut Slot, String> {
    match slots.get_mut(&index) {
        Some(slot) if slot.open => Ok(slot),
        Some(_) => Err(format!("block {index} was already stopped")),
        None => Err(format!("block {index} was never started")),
    }
}

fn started_block(raw: &RawValue, at: &str) -> Result<Partial, ResponseError> {
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

fn apply_delta(
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

// ---------------------------------------------------------------------------------------------
// Requests

/// Decodes a request body: validates what the API validates first and merges consecutive
/// messages of the same role.
///
/// # Errors
/// A required field is missing or has the wrong type (paths such as
/// `messages[2].content[0].input`, with wire indices).
pub fn decode_request(body: &Value) -> Result<DecodedRequest, Malformed> {
    let body = object(body, "")?;
    let model = string(required(body, "", "model")?, "model")?.to_owned();
    let max_tokens = required(body, "", "max_tokens")?;
    match max_tokens.as_i64() {
        Some(n) if n >= 1 => {}
        Some(_) => {
            return Err(Malformed::new(
                "max_tokens",
                MalformedKind::Invalid {
                    detail: "Input should be greater than or equal to 1".to_owned(),
                },
            ));
        }
        None => {
            return Err(Malformed::wrong_type(
                "max_tokens",
                "a valid integer",
                max_tokens,
            ));
        }
    }
    let wire_messages = array(required(body, "", "messages")?, "messages")?;
    if let Some(system) = optional(body, "system")
        && !(system.is_string() || system.is_array())
    {
        return Err(Malformed::wrong_type("system", "a valid list", system));
    }
    let stream = match optional(body, "stream") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| Malformed::wrong_type("stream", "a valid boolean", v))?,
    };
    let tool_names = match optional(body, "tools") {
        None => Vec::new(),
        Some(tools) => array(tools, "tools")?
            .iter()
            .enumerate()
            .map(|(i, tool)| {
                let path = format!("tools[{i}]");
                let tool = object(tool, &path)?;
                let name = required(tool, &path, "name")?;
                Ok(string(name, &format!("{path}.name"))?.to_owned())
            })
            .collect::<Result<_, Malformed>>()?,
    };

    let mut messages: Vec<Message> = Vec::new();
    for (i, wire) in wire_messages.iter().enumerate() {
        let (role, blocks) = request_message(wire, &format!("messages[{i}]"))?;
        match messages.last_mut() {
            Some(last) if last.role == role => {
                last.merge(blocks);
            }
            _ => messages.push(Message::new(role, blocks)),
        }
    }
    Ok(DecodedRequest {
        conversation: Conversation { messages },
        stream,
        model,
        tool_names,
    })
}

fn request_message(wire: &Value, path: &str) -> Result<(Role, Vec<Block>), Malformed> {
    let message = object(wire, path)?;
    let role_path = format!("{path}.role");
    let role = match string(required(message, path, "role")?, &role_path)? {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        _ => {
            return Err(Malformed::new(
                role_path,
                MalformedKind::Invalid {
                    detail: "Input should be 'user' or 'assistant'".to_owned(),
                },
            ));
        }
    };
    let content_path = format!("{path}.content");
    let blocks = match required(message, path, "content")? {
        Value::String(text) => vec![Block::Text { text: text.clone() }],
        content => array(content, &content_path)?
            .iter()
            .enumerate()
            .map(|(j, block)| request_block(block, &format!("{content_path}[{j}]")))
            .collect::<Result<_, _>>()?,
    };
    Ok((role, blocks))
}

fn request_block(block: &Value, path: &str) -> Result<Block, Malformed> {
    let fields = object(block, path)?;
    let text_of = |key: &str| -> Result<String, Malformed> {
        Ok(string(required(fields, path, key)?, &format!("{path}.{key}"))?.to_owned())
    };
    let kind = text_of("type")?;
    Ok(match kind.as_str() {
        "text" => Block::Text {
            text: text_of("text")?,
        },
        THINKING => Block::Thinking(Thinking {
            kind,
            text: text_of("thinking")?,
            signature: Some(text_of("signature")?),
        }),
        REDACTED_THINKING => Block::Thinking(Thinking {
            kind,
            text: text_of("data")?,
            signature: None,
        }),
        "tool_use" => {
            let id = text_of("id")?;
            let name = text_of("name")?;
            let input = required(fields, path, "input")?;
            if !input.is_object() {
                return Err(Malformed::wrong_type(
                    format!("{path}.input"),
                    "a valid dictionary",
                    input,
                ));
            }
            Block::ToolCall(ToolCall {
                id,
                name,
                arguments: input.to_string(),
            })
        }
        "tool_result" => {
            let call_id = text_of("tool_use_id")?;
            let content = match optional(fields, "content") {
                None => Value::Null,
                Some(c @ (Value::String(_) | Value::Array(_))) => c.clone(),
                Some(other) => {
                    return Err(Malformed::wrong_type(
                        format!("{path}.content"),
                        "a valid list",
                        other,
                    ));
                }
            };
            let is_error = match optional(fields, "is_error") {
                None => false,
                Some(v) => v.as_bool().ok_or_else(|| {
                    Malformed::wrong_type(format!("{path}.is_error"), "a valid boolean", v)
                })?,
            };
            Block::ToolResult(ToolResult {
                call_id,
                content,
                is_error,
            })
        }
        _ => Block::Other { kind },
    })
}

/// A present field; `null` counts as present (its type check then fails).
fn required<'v>(
    fields: &'v Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'v Value, Malformed> {
    fields.get(key).ok_or_else(|| {
        let at = if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        };
        Malformed::new(at, MalformedKind::Missing)
    })
}

/// An optional field; `null` is the same as absent.
fn optional<'v>(fields: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    fields.get(key).filter(|v| !v.is_null())
}

fn object<'v>(v: &'v Value, path: &str) -> Result<&'v Map<String, Value>, Malformed> {
    v.as_object()
        .ok_or_else(|| Malformed::wrong_type(path, "a valid dictionary", v))
}

fn array<'v>(v: &'v Value, path: &str) -> Result<&'v Vec<Value>, Malformed> {
    v.as_array()
        .ok_or_else(|| Malformed::wrong_type(path, "a valid list", v))
}

fn string<'v>(v: &'v Value, path: &str) -> Result<&'v str, Malformed> {
    v.as_str()
        .ok_or_else(|| Malformed::wrong_type(path, "a valid string", v))
}

// ---------------------------------------------------------------------------------------------
// Encoding

/// The assistant message that echoes a served turn: every block as served, in order.
#[must_use]
pub fn encode_assistant(turn: &AssistantTurn) -> Value {
    let content: Vec<Value> = turn.blocks.iter().map(encode_block).collect();
    json!({"role": "assistant", "content": content})
}

/// One `user` message carrying every result as a `tool_result` block, in the order given; no
/// message at all for no results.
#[must_use]
pub fn encode_results(results: &[ToolResult]) -> Vec<Value> {
    if results.is_empty() {
        return Vec::new();
    }
    let content: Vec<Value> = results.iter().map(encode_result).collect();
    vec![json!({"role": "user", "content": content})]
}

fn encode_block(block: &Block) -> Value {
    match block {
        Block::Text { text } => json!({"type": "text", "text": text}),
        Block::Thinking(Thinking {
            kind,
            text,
            signature,
        }) => {
            // A `thinking` block without a signature is sent without one: the API refuses
            // it, which is the truth about such a turn.
            if kind == REDACTED_THINKING {
                json!({"type": REDACTED_THINKING, "data": text})
            } else {
                let mut block = json!({"type": THINKING, "thinking": text});
                if let Some(signature) = signature {
                    block["signature"] = json!(signature);
                }
                block
            }
        }
        Block::ToolCall(call) => {
            // Arguments that are not JSON (cut off at `max_tokens`) cannot become an object;
            // sending the text makes the problem visible instead of inventing arguments.
            let input = call
                .arguments_value()
                .unwrap_or_else(|| Value::String(call.arguments.clone()));
            json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input})
        }
        Block::ToolResult(result) => encode_result(result),
        Block::Other { kind } => json!({ "type": kind }),
    }
}

fn encode_result(result: &ToolResult) -> Value {
    let ToolResult {
        call_id,
        content,
        is_error,
    } = result;
    let mut block = json!({"type": "tool_result", "tool_use_id": call_id});
    if !content.is_null() {
        block["content"] = content.clone();
    }
    if *is_error {
        block["is_error"] = json!(true);
    }
    block
}

// ---------------------------------------------------------------------------------------------
// Rejections

/// The API's error body for a rejection; see the module docs for where each text comes from.
#[must_use]
pub fn render_rejection(rejection: &Rejection) -> ErrorReply {
    let (status, kind, message) = match rejection {
        Rejection::MissingResults { assistant, ids } => (
            400,
            "invalid_request_error",
            format!(
                "messages.{assistant}: `tool_use` ids were found without `tool_result` blocks \
                 immediately after: {}. Each `tool_use` block must have a corresponding \
                 `tool_result` block in the next message.",
                ids.join(", ")
            ),
        ),
        Rejection::UnknownResult { message, block, id }
        | Rejection::OrphanResult { message, block, id } => (
            400,
            "invalid_request_error",
            format!(
                "messages.{message}.content.{block}: unexpected `tool_use_id` found in \
                 `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding \
                 `tool_use` block in the previous message."
            ),
        ),
        Rejection::DuplicateResult {
            id,
            second_message,
            second_block,
            ..
        } => (
            400,
            "invalid_request_error",
            format!(
                "messages.{second_message}.content.{second_block}: each tool_use must have a \
                 single result. Found multiple `tool_result` blocks with id: {id}"
            ),
        ),
        Rejection::Malformed(malformed) => malformed_text(malformed),
        Rejection::Harness { message } => (400, "invalid_request_error", message.clone()),
    };
    let body = json!({
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": REQUEST_ID,
    });
    ErrorReply {
        status,
        body: body.to_string(),
    }
}

fn malformed_text(malformed: &Malformed) -> (u16, &'static str, String) {
    let Malformed { path, problem } = malformed;
    let at = |text: String| {
        let path = dotted(path);
        if path.is_empty() {
            text
        } else {
            format!("{path}: {text}")
        }
    };
    let invalid = "invalid_request_error";
    match problem {
        MalformedKind::NotJson { .. } => (
            400,
            invalid,
            "There was an error parsing the body of your request. Check that it is valid JSON."
                .to_owned(),
        ),
        MalformedKind::Missing => (400, invalid, at("Field required".to_owned())),
        MalformedKind::WrongType { expected, .. } => {
            (400, invalid, at(format!("Input should be {expected}")))
        }
        MalformedKind::TooLong { max, .. } => (
            400,
            invalid,
            at(format!("String should have at most {max} characters")),
        ),
        MalformedKind::Invalid { detail } => (400, invalid, at(detail.clone())),
        MalformedKind::MissingHeader { header } if header == "x-api-key" => (
            401,
            "authentication_error",
            "x-api-key header is required".to_owned(),
        ),
        MalformedKind::MissingHeader { header } => {
            (400, invalid, format!("{header}: header is required"))
        }
    }
}

/// `messages[2].content[0].input` → `messages.2.content.0.input`, the API's path style.
fn dotted(path: &str) -> String {
    let dotted = path.replace(']', "").replace('[', ".");
    dotted.strip_prefix('.').unwrap_or(&dotted).to_owned()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::provider::sse::{parse_frames, split_frames};

    fn events(body: &str) -> Vec<Event> {
        parse_frames(&split_frames(body))
    }

    /// A stream from frames written as `(event, data)` pairs.
    fn stream(frames: &[(&str, &str)]) -> Vec<Event> {
        frames
            .iter()
            .map(|(event, data)| Event {
                event: Some((*event).to_owned()),
                data: (*data).to_owned(),
            })
            .collect()
    }

    fn call(id: &str, name: &str, arguments: &str) -> Block {
        Block::ToolCall(ToolCall {
            id: id.to_owned(),
            name: name.to_owned(),
            arguments: arguments.to_owned(),
        })
    }

    fn text(text: &str) -> Block {
        Block::Text {
            text: text.to_owned(),
        }
    }

    fn error_body(message: &str) -> String {
        json!({
            "type": "error",
            "error": {"type": "invalid_request_error", "message": message},
            "request_id": "req_011tooltape0replay000000",
        })
        .to_string()
    }

    // -- rejections ---------------------------------------------------------------------------

    #[test]
    fn missing_results_name_the_assistant_message_and_every_id() {
        let reply = render_rejection(&Rejection::MissingResults {
            assistant: 22,
            ids: vec![
                "toolu_01HqfLWiAKQLsniF2fBGF2KD".to_owned(),
                "toolu_01SJzDkeAZER935cpGFptTNk".to_owned(),
            ],
        });
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.22: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01HqfLWiAKQLsniF2fBGF2KD, toolu_01SJzDkeAZER935cpGFptTNk. Each `tool_use` block must have a corresponding `tool_result` block in the next message."},"request_id":"req_011tooltape0replay000000"}"#
        );
    }

    #[test]
    fn an_unknown_result_names_its_block() {
        let reply = render_rejection(&Rejection::UnknownResult {
            message: 48,
            block: 1,
            id: "toolu_019ETtGZEhTBXgWPVsdVnXMh".to_owned(),
        });
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.48.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_019ETtGZEhTBXgWPVsdVnXMh. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."},"request_id":"req_011tooltape0replay000000"}"#
        );
    }

    #[test]
    fn a_duplicate_result_names_the_second_answer() {
        let reply = render_rejection(&Rejection::DuplicateResult {
            id: "toolu_01TPsHXcmpuz5cAY97fM5vXv".to_owned(),
            first_message: 148,
            second_message: 148,
            second_block: 1,
        });
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"messages.148.content.1: each tool_use must have a single result. Found multiple `tool_result` blocks with id: toolu_01TPsHXcmpuz5cAY97fM5vXv"},"request_id":"req_011tooltape0replay000000"}"#
        );
    }

    /// The second request of `anthropic-sdk-error-tool_result-without-tool_use.json` (recorded
    /// from the real API by anthropics/anthropic-sdk-python, MIT, "Copyright 2023 Anthropic,
    /// PBC."): a text prompt and a `tool_result` sent as two user messages. The API merged them
    /// and answered 400 with the message below (its `request_id` was `req_011CYHyk9NPsBYeGbC9LuDNK`).
    #[test]
    fn the_recorded_orphan_result_error_is_reproduced_through_merging() {
        let request = json!({"max_tokens": 1024, "messages": [
            {"role": "user", "content": "What's the weather in SF in Celsius?"},
            {"role": "user", "content": [{"tool_use_id": "toolu_01GHndag5wQmbzNihYmV2UBj",
                "content": "The weather in San Francisco, CA is currently sunny with a temperature of 20\u{b0}C.",
                "type": "tool_result"}]}],
            "model": "claude-haiku-4-5",
            "tools": [{"name": "get_weather", "description": "Lookup the weather for a given city in either celsius or fahrenheit",
                "input_schema": {"type": "object"}}]});
        let decoded = decode_request(&request).unwrap();
        let messages = &decoded.conversation.messages;
        assert_eq!(messages.len(), 1);
        let (block, result) = messages[0].tool_results().next().unwrap();
        let reply = render_rejection(&Rejection::OrphanResult {
            message: 0,
            block,
            id: result.call_id.clone(),
        });
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body,
            error_body(
                "messages.0.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01GHndag5wQmbzNihYmV2UBj. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
            )
        );
    }

    #[test]
    fn malformed_requests_are_reported_with_dotted_paths() {
        let cases = [
            (
                Malformed::new("max_tokens", MalformedKind::Missing),
                "max_tokens: Field required",
            ),
            (
                Malformed::wrong_type(
                    "messages[2].content[0].input",
                    "a valid dictionary",
                    &json!("{}"),
                ),
                "messages.2.content.0.input: Input should be a valid dictionary",
            ),
            (
                Malformed::new(
                    "messages[1].role",
                    MalformedKind::Invalid {
                        detail: "Input should be 'user' or 'assistant'".to_owned(),
                    },
                ),
                "messages.1.role: Input should be 'user' or 'assistant'",
            ),
            (
                Malformed::new(
                    "tools[0].name",
                    MalformedKind::TooLong {
                        max: 128,
                        found: 300,
                    },
                ),
                "tools.0.name: String should have at most 128 characters",
            ),
            (
                Malformed::new(
                    "",
                    MalformedKind::NotJson {
                        detail: "expected value at line 1 column 1".to_owned(),
                    },
                ),
                "There was an error parsing the body of your request. Check that it is valid JSON.",
            ),
            (
                Malformed::new(
                    "",
                    MalformedKind::MissingHeader {
                        header: "anthropic-version".to_owned(),
                    },
                ),
                "anthropic-version: header is required",
            ),
        ];
        for (malformed, message) in cases {
            let reply = render_rejection(&Rejection::Malformed(malformed));
            assert_eq!((reply.status, reply.body), (400, error_body(message)));
        }
    }

    #[test]
    fn a_missing_api_key_is_an_authentication_error() {
        let reply = render_rejection(&Rejection::Malformed(Malformed::new(
            "",
            MalformedKind::MissingHeader {
                header: "x-api-key".to_owned(),
            },
        )));
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.body,
            r#"{"type":"error","error":{"type":"authentication_error","message":"x-api-key header is required"},"request_id":"req_011tooltape0replay000000"}"#
        );
    }

    #[test]
    fn a_harness_rejection_carries_its_message() {
        let message = "tooltape: the conversation left the cassette at message 3";
        let reply = render_rejection(&Rejection::Harness {
            message: message.to_owned(),
        });
        assert_eq!((reply.status, reply.body), (400, error_body(message)));
    }

    // -- JSON responses -----------------------------------------------------------------------

    /// Response #0 of `fantasy-sonnet-4-parallel2-followup.yaml` (charmbracelet/fantasy,
    /// Apache-2.0, "Copyright 2025-2026 Charmbracelet, Inc."), with `caller` and `inference_geo`.
    const FANTASY_RESPONSE: &str = r#"{"model":"claude-sonnet-4-20250514","id":"msg_01SKkVkB84yWcweNDwx31xBd","type":"message","role":"assistant","content":[{"type":"text","text":"I'll add and multiply the numbers 2 and 3 for you."},{"type":"tool_use","id":"toolu_01StBeRxDEwsqcc3arbDgpS9","name":"add","input":{"a":2,"b":3},"caller":{"type":"direct"}},{"type":"tool_use","id":"toolu_01AC6WQhj2iRkdYHgTAGMpVQ","name":"multiply","input":{"a":2,"b":3},"caller":{"type":"direct"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":507,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":137,"service_tier":"standard","inference_geo":"not_available"}}"#;

    #[test]
    fn a_recorded_parallel_response_decodes_in_block_order() {
        let turn = decode_response_json(FANTASY_RESPONSE).unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                text("I'll add and multiply the numbers 2 and 3 for you."),
                call("toolu_01StBeRxDEwsqcc3arbDgpS9", "add", r#"{"a":2,"b":3}"#),
                call(
                    "toolu_01AC6WQhj2iRkdYHgTAGMpVQ",
                    "multiply",
                    r#"{"a":2,"b":3}"#
                ),
            ]
        );
        assert_eq!(turn.stop, StopReason::ToolUse);
    }

    /// Response #0 of `pydantic-ai-haiku-4.5-parallel4-followup.yaml` (pydantic/pydantic-ai,
    /// MIT, "Copyright (c) Pydantic Services Inc. 2024 to present"), its `parsed_body` written
    /// as JSON in the recording's key order (`type` last), two of the four calls kept.
    #[test]
    fn blocks_with_their_type_last_decode_too() {
        let body = r#"{"content":[{"text":"I'll help you find out who is the youngest by retrieving information about each family member. I'll retrieve their entity information to compare their ages.","type":"text"},{"id":"toolu_0167cfEnoQaPviGdVXA95zcu","input":{"name":"Alice"},"name":"retrieve_entity_info","type":"tool_use"},{"id":"toolu_01EEe2V5HD1Ac4rKiUR4HD2T","input":{"name":"Bob"},"name":"retrieve_entity_info","type":"tool_use"}],"id":"msg_011S3wxtqL5CVescWqS3zeg2","model":"claude-haiku-4-5-20251001","role":"assistant","stop_reason":"tool_use","stop_sequence":null,"type":"message","usage":{"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":0},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"input_tokens":423,"output_tokens":202,"service_tier":"standard"}}"#;
        let turn = decode_response_json(body).unwrap();
        let calls: Vec<_> = turn.tool_calls().map(|c| c.arguments.as_str()).collect();
        assert_eq!(calls, [r#"{"name":"Alice"}"#, r#"{"name":"Bob"}"#]);
        assert!(turn.text().starts_with("I'll help you"));
    }

    #[test]
    fn thinking_redacted_thinking_and_server_tool_blocks_keep_their_place() {
        let body = r#"{"type":"message","content":[
            {"type":"thinking","thinking":"Two lookups.","signature":"EqQBCgIYAhIM"},
            {"type":"redacted_thinking","data":"EmwKAhgBEgy3"},
            {"type":"server_tool_use","id":"srvtoolu_01","name":"web_search","input":{"query":"x"}},
            {"type":"web_search_tool_result","tool_use_id":"srvtoolu_01","content":[]},
            {"type":"tool_use","id":"toolu_01","name":"lookup","input":{"z":1,"a":{"y":2,"b":3}}}],
            "stop_reason":"max_tokens","stop_details":null}"#;
        let turn = decode_response_json(body).unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                Block::Thinking(Thinking {
                    kind: "thinking".to_owned(),
                    text: "Two lookups.".to_owned(),
                    signature: Some("EqQBCgIYAhIM".to_owned()),
                }),
                Block::Thinking(Thinking {
                    kind: "redacted_thinking".to_owned(),
                    text: "EmwKAhgBEgy3".to_owned(),
                    signature: None,
                }),
                Block::Other {
                    kind: "server_tool_use".to_owned()
                },
                Block::Other {
                    kind: "web_search_tool_result".to_owned()
                },
                call("toolu_01", "lookup", r#"{"z":1,"a":{"y":2,"b":3}}"#),
            ]
        );
        assert_eq!(turn.stop, StopReason::MaxTokens);
    }

    #[test]
    fn stop_reasons_map_to_neutral_ones() {
        for (wire, stop) in [
            ("\"tool_use\"", StopReason::ToolUse),
            ("\"end_turn\"", StopReason::EndTurn),
            ("\"stop_sequence\"", StopReason::EndTurn),
            ("\"max_tokens\"", StopReason::MaxTokens),
            ("\"pause_turn\"", StopReason::Other),
            ("null", StopReason::Other),
        ] {
            let body = format!(r#"{{"content":[],"stop_reason":{wire}}}"#);
            assert_eq!(decode_response_json(&body).unwrap().stop, stop, "{wire}");
        }
    }

    #[test]
    fn a_tool_use_input_that_is_not_an_object_is_reported_at_its_path() {
        let body = r#"{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"},
            {"type":"tool_use","id":"toolu_01","name":"f","input":"{\"a\":1}"}],"stop_reason":"tool_use"}"#;
        let err = decode_response_json(body).unwrap_err();
        assert_eq!(err.at, "content[2].input");
        assert!(err.message.contains("expected a map"), "{}", err.message);
    }

    #[test]
    fn a_block_missing_a_field_is_reported_at_the_block() {
        let err =
            decode_response_json(r#"{"content":[{"type":"tool_use","name":"f","input":{}}]}"#)
                .unwrap_err();
        assert_eq!(err.at, "content[0]");
        assert!(
            err.message.contains("missing field `id`"),
            "{}",
            err.message
        );
    }

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

    /// Frames of response #0 of `fantasy-sonnet-4-parallel2-followup.stream.yaml`
    /// (charmbracelet/fantasy, Apache-2.0), text deltas shortened: the data lines are padded
    /// with spaces before their closing brace, and a ping sits between two blocks.
    const FANTASY_STREAM: &str = concat!(
        "event: message_start\n",
        r#"data: {"type":"message_start","message":{"model":"claude-sonnet-4-20250514","id":"msg_01PSvJdjd5keNSD63VHjYzex","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":502,"output_tokens":4,"service_tier":"standard","inference_geo":"not_available"}}}"#,
        "\n\nevent: content_block_start\n",
        r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}           }"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I'll add and"}               }"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" multiply."}           }"#,
        "\n\nevent: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":0            }"#,
        "\n\nevent: ping\n",
        r#"data: {"type": "ping"}"#,
        "\n\nevent: content_block_start\n",
        r#"data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01UYxUYC2zRPY8wiutnF48eP","name":"add","input":{},"caller":{"type":"direct"}}     }"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}               }"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\": 2"}}"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":", \"b\""}             }"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":": 3}"}}"#,
        "\n\nevent: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":1}"#,
        "\n\nevent: content_block_start\n",
        r#"data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01VaRx1jpWCvPhi7L4kywAcd","name":"multiply","input":{},"caller":{"type":"direct"}}               }"#,
        "\n\nevent: content_block_delta\n",
        r#"data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\": 2, \"b\": 3}"}          }"#,
        "\n\nevent: content_block_stop\n",
        r#"data: {"type":"content_block_stop","index":2         }"#,
        "\n\nevent: message_delta\n",
        r#"data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":502,"output_tokens":137}  }"#,
        "\n\nevent: message_stop\n",
        r#"data: {"type":"message_stop"             }"#,
        "\n\n",
    );

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

    // -- requests -----------------------------------------------------------------------------

    /// Request #1 of `fantasy-sonnet-4-parallel2-followup.yaml` (charmbracelet/fantasy,
    /// Apache-2.0), tool definitions shortened.
    const FANTASY_FOLLOWUP: &str = r#"{"max_tokens":4000,"messages":[{"content":[{"text":"Add and multiply the number 2 and 3","type":"text"}],"role":"user"},{"content":[{"text":"I'll add and multiply the numbers 2 and 3 for you.","type":"text"},{"id":"toolu_01StBeRxDEwsqcc3arbDgpS9","input":{"a":2,"b":3},"name":"add","type":"tool_use"},{"id":"toolu_01AC6WQhj2iRkdYHgTAGMpVQ","input":{"a":2,"b":3},"name":"multiply","type":"tool_use"}],"role":"assistant"},{"content":[{"tool_use_id":"toolu_01StBeRxDEwsqcc3arbDgpS9","content":[{"text":"5","type":"text"}],"type":"tool_result"},{"tool_use_id":"toolu_01AC6WQhj2iRkdYHgTAGMpVQ","content":[{"text":"6","type":"text"}],"type":"tool_result"}],"role":"user"}],"model":"claude-sonnet-4-20250514","system":[{"text":"You are a helpful assistant. CRITICAL: Always use both add and multiply at the same time ALWAYS.","type":"text"}],"tool_choice":{"disable_parallel_tool_use":false,"type":"auto"},"tools":[{"input_schema":{"type":"object"},"name":"add","description":"Add two numbers"},{"input_schema":{"type":"object"},"name":"multiply","description":"Multiply two numbers"}]}"#;

    #[test]
    fn a_recorded_follow_up_request_decodes() {
        let body: Value = serde_json::from_str(FANTASY_FOLLOWUP).unwrap();
        let decoded = decode_request(&body).unwrap();
        assert_eq!(decoded.model, "claude-sonnet-4-20250514");
        assert!(!decoded.stream);
        assert_eq!(decoded.tool_names, ["add", "multiply"]);
        let messages = &decoded.conversation.messages;
        assert_eq!(
            messages.iter().map(|m| m.role).collect::<Vec<_>>(),
            [Role::User, Role::Assistant, Role::User]
        );
        assert_eq!(
            messages[1].blocks,
            vec![
                text("I'll add and multiply the numbers 2 and 3 for you."),
                call("toolu_01StBeRxDEwsqcc3arbDgpS9", "add", r#"{"a":2,"b":3}"#),
                call(
                    "toolu_01AC6WQhj2iRkdYHgTAGMpVQ",
                    "multiply",
                    r#"{"a":2,"b":3}"#
                ),
            ]
        );
        let results: Vec<_> = messages[2].tool_results().collect();
        assert_eq!(results.len(), 2);
        assert_eq!(results[1].0, 1);
        assert_eq!(results[1].1.call_id, "toolu_01AC6WQhj2iRkdYHgTAGMpVQ");
        assert_eq!(results[1].1.content, json!([{"text": "6", "type": "text"}]));
        assert!(messages.iter().all(|m| m.merged_from() == 1));
    }

    #[test]
    fn consecutive_user_messages_are_merged() {
        let body = json!({"model": "m", "max_tokens": 10, "stream": true, "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a"}]},
            {"role": "user", "content": [
                {"type": "text", "text": "go on"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": ""}}]},
        ]});
        let decoded = decode_request(&body).unwrap();
        assert!(decoded.stream);
        let messages = &decoded.conversation.messages;
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[2].merged_from(), 2);
        assert_eq!(
            messages[2].blocks,
            vec![
                Block::ToolResult(ToolResult {
                    call_id: "toolu_1".to_owned(),
                    content: json!("a"),
                    is_error: false,
                }),
                text("go on"),
                Block::Other {
                    kind: "image".to_owned()
                },
            ]
        );
    }

    #[test]
    fn the_system_prompt_is_not_a_message() {
        let body = json!({"model": "m", "max_tokens": 10, "system": "be brief",
            "messages": [{"role": "user", "content": "hi"}]});
        let decoded = decode_request(&body).unwrap();
        assert_eq!(decoded.conversation.messages.len(), 1);
        assert_eq!(
            decoded.conversation.first_user_text().as_deref(),
            Some("hi")
        );
    }

    #[test]
    fn a_tool_use_input_sent_as_a_string_is_a_wrong_type_at_its_wire_path() {
        let body = json!({"model": "m", "max_tokens": 10, "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "calling"},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": "{\"a\":1}"}]},
        ]});
        assert_eq!(
            decode_request(&body).unwrap_err(),
            Malformed::new(
                "messages[1].content[1].input",
                MalformedKind::WrongType {
                    expected: "a valid dictionary".to_owned(),
                    found: "a string".to_owned(),
                }
            )
        );
    }

    #[test]
    fn a_request_without_max_tokens_is_missing_it() {
        let body = json!({"model": "m", "messages": []});
        let err = decode_request(&body).unwrap_err();
        assert_eq!(err, Malformed::new("max_tokens", MalformedKind::Missing));
        assert_eq!(
            render_rejection(&Rejection::Malformed(err)).body,
            error_body("max_tokens: Field required")
        );
    }

    #[test]
    fn other_malformed_requests_name_their_path() {
        let cases = [
            (json!([]), ""),
            (json!({"max_tokens": 1, "messages": []}), "model"),
            (json!({"model": "m", "max_tokens": 1}), "messages"),
            (
                json!({"model": "m", "max_tokens": 0, "messages": []}),
                "max_tokens",
            ),
            (
                json!({"model": "m", "max_tokens": "9", "messages": []}),
                "max_tokens",
            ),
            (
                json!({"model": "m", "max_tokens": 1, "messages": {}}),
                "messages",
            ),
            (
                json!({"model": "m", "max_tokens": 1, "messages": [{"role": "system", "content": "x"}]}),
                "messages[0].role",
            ),
            (
                json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user"}]}),
                "messages[0].content",
            ),
            (
                json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}]}),
                "messages[0].content[0].tool_use_id",
            ),
            (
                json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}]}]}),
                "messages[0].content[0].is_error",
            ),
            (
                json!({"model": "m", "max_tokens": 1, "messages": [], "tools": [{"input_schema": {}}]}),
                "tools[0].name",
            ),
            (
                json!({"model": "m", "max_tokens": 1, "messages": [], "stream": "true"}),
                "stream",
            ),
        ];
        for (body, path) in cases {
            assert_eq!(decode_request(&body).unwrap_err().path, path, "{body}");
        }
    }

    #[test]
    fn a_tool_result_without_content_has_null_content() {
        let body = json!({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": true}]}]});
        let decoded = decode_request(&body).unwrap();
        assert_eq!(
            decoded.conversation.messages[0].blocks,
            vec![Block::ToolResult(ToolResult {
                call_id: "toolu_1".to_owned(),
                content: Value::Null,
                is_error: true,
            })]
        );
    }

    // -- encoding -----------------------------------------------------------------------------

    #[test]
    fn an_assistant_turn_is_echoed_as_served() {
        let turn = AssistantTurn {
            blocks: vec![
                Block::Thinking(Thinking {
                    kind: "thinking".to_owned(),
                    text: "hmm".to_owned(),
                    signature: Some("sig".to_owned()),
                }),
                Block::Thinking(Thinking {
                    kind: "redacted_thinking".to_owned(),
                    text: "opaque".to_owned(),
                    signature: None,
                }),
                text("Checking."),
                call("toolu_1", "f", r#"{"z": 1, "a": 2}"#),
                call("toolu_2", "now", ""),
            ],
            stop: StopReason::ToolUse,
        };
        assert_eq!(
            encode_assistant(&turn).to_string(),
            r#"{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"redacted_thinking","data":"opaque"},{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"f","input":{"z":1,"a":2}},{"type":"tool_use","id":"toolu_2","name":"now","input":{}}]}"#
        );
    }

    #[test]
    fn results_travel_in_one_user_message_with_is_error_only_when_set() {
        let results = [
            ToolResult {
                call_id: "toolu_1".to_owned(),
                content: json!("12C"),
                is_error: false,
            },
            ToolResult {
                call_id: "toolu_2".to_owned(),
                content: json!([{"type": "text", "text": "boom"}]),
                is_error: true,
            },
        ];
        let wire = encode_results(&results);
        assert_eq!(wire.len(), 1);
        assert_eq!(
            wire[0].to_string(),
            r#"{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"12C"},{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"boom"}],"is_error":true}]}"#
        );
        assert!(encode_results(&[]).is_empty());
    }

    #[test]
    fn encoded_turns_and_results_decode_back() {
        let turn = decode_response_sse(&events(FANTASY_STREAM)).unwrap();
        let results = vec![
            ToolResult {
                call_id: "toolu_01UYxUYC2zRPY8wiutnF48eP".to_owned(),
                content: json!("5"),
                is_error: false,
            },
            ToolResult {
                call_id: "toolu_01VaRx1jpWCvPhi7L4kywAcd".to_owned(),
                content: Value::Null,
                is_error: true,
            },
        ];
        let mut messages = vec![json!({"role": "user", "content": "Add and multiply 2 and 3"})];
        messages.push(encode_assistant(&turn));
        messages.extend(encode_results(&results));
        let body = json!({"model": "m", "max_tokens": 1, "messages": messages});
        let decoded = decode_request(&body).unwrap().conversation.messages;
        assert_eq!(decoded.len(), 3);
        assert_eq!(decoded[1].role, Role::Assistant);
        assert_eq!(decoded[1].blocks.len(), turn.blocks.len());
        for (sent, served) in decoded[1].tool_calls().zip(turn.tool_calls()) {
            assert_eq!((&sent.id, &sent.name), (&served.id, &served.name));
            assert!(
                sent.same_arguments(served),
                "{} vs {}",
                sent.arguments,
                served.arguments
            );
        }
        assert_eq!(decoded[1].text(), turn.text());
        let back: Vec<ToolResult> = decoded[2].tool_results().map(|(_, r)| r.clone()).collect();
        assert_eq!(back, results);
    }

    fn arbitrary_call() -> impl Strategy<Value = ToolCall> {
        (
            "toolu_[A-Za-z0-9]{4,24}",
            "[a-z_]{1,12}",
            prop::collection::vec(("[a-z]{1,6}", any::<i32>()), 0..4),
        )
            .prop_map(|(id, name, fields)| {
                let input: Map<String, Value> =
                    fields.into_iter().map(|(k, v)| (k, json!(v))).collect();
                ToolCall {
                    id,
                    name,
                    arguments: Value::Object(input).to_string(),
                }
            })
    }

    proptest::proptest! {
        #[test]
        fn any_turn_and_its_results_survive_the_wire(
            prose in proptest::option::of(".{0,40}"),
            calls in prop::collection::vec(arbitrary_call(), 1..8),
            failing in prop::collection::vec(any::<bool>(), 8),
        ) {
            let mut blocks: Vec<Block> = prose.map(|text| Block::Text { text }).into_iter().collect();
            blocks.extend(calls.iter().cloned().map(Block::ToolCall));
            let turn = AssistantTurn { blocks, stop: StopReason::ToolUse };
            let results: Vec<ToolResult> = calls
                .iter()
                .zip(&failing)
                .map(|(c, &is_error)| ToolResult {
                    call_id: c.id.clone(),
                    content: json!(format!("result of {}", c.name)),
                    is_error,
                })
                .collect();
            let mut messages = vec![json!({"role": "user", "content": "go"}), encode_assistant(&turn)];
            messages.extend(encode_results(&results));
            let body = json!({"model": "m", "max_tokens": 1, "messages": messages});
            let decoded = decode_request(&body).unwrap().conversation.messages;
            prop_assert_eq!(decoded.len(), 3);
            prop_assert_eq!(&decoded[1].blocks, &turn.blocks);
            let back: Vec<ToolResult> = decoded[2].tool_results().map(|(_, r)| r.clone()).collect();
            prop_assert_eq!(back, results);
        }
    }
}
