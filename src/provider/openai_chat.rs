//! OpenAI Chat Completions (`POST /v1/chat/completions`): responses, streams, requests and
//! error bodies.
//!
//! - [`decode_response_json`] reads a `chat.completion` body, [`decode_response_sse`] accumulates
//!   `chat.completion.chunk` deltas the way a careful client must (keyed by `index`, id and name
//!   only in a call's first delta, a new id at a known index starting a new call).
//! - [`decode_request`] checks a request the way the API does before it looks at the
//!   conversation, and turns `messages` into a [`Conversation`], one message per wire message.
//! - [`encode_assistant`] and [`encode_results`] write the follow-up messages a correct loop
//!   sends; [`render_rejection`] writes OpenAI's own 400 (or 401) body.
//!
//! Responses are read with typed serde structs (unknown fields such as `refusal`,
//! `annotations`, `obfuscation`, `usage`, `logprobs` are ignored), with `serde_path_to_error`
//! naming the path of anything wrong. Requests are walked as [`Value`]s instead, because each
//! problem must come out as OpenAI's kind of error (missing, wrong type, too long) at OpenAI's
//! path, which serde's messages cannot give.
//!
//! # Error texts
//!
//! Every body is `{"error":{"message":…,"type":"invalid_request_error","param":…,"code":…}}`.
//! "Captured" texts were returned by api.openai.com and quoted in public issues (see
//! `reference/protocol-notes.md` §A5, §F1 and `reference/recordings/API_ERRORS.md`);
//! "best known" ones follow the API's pattern for the same family of errors but no capture of
//! that exact case was found.
//!
//! | Rejection | Text | `param` / `code` | Evidence |
//! |---|---|---|---|
//! | missing results | `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {ids}` | `messages.[i].role` / null | captured |
//! | orphan result | `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.` (sic) | `messages.[i].role` / null | captured |
//! | unknown result id | `Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' of previous message.` | `messages.[i].tool_call_id` / null | text captured, `param` best known |
//! | duplicate result | `Invalid parameter: Duplicate value for 'tool_call_id' of '{id}', in messages[{a}] and messages[{b}].` | `messages.[b].tool_call_id` / null | captured |
//! | not JSON | `We could not parse the JSON body of your request. (HINT: …)` | null / null | best known |
//! | `model` missing | `you must provide a model parameter` | null / null | captured |
//! | `messages` empty | `Invalid value for 'messages': empty array. …` | `messages` / null | ours: the real reply is `Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.` with code `empty_array` (captured), which [`MalformedKind`] cannot express yet |
//! | other field missing | `Missing required parameter: '{path}'.` | path / `missing_required_parameter` | best known |
//! | wrong type | `Invalid type for '{path}': expected {expected}, but got {found} instead.` | path / `invalid_type` | captured for `function.arguments` |
//! | string too long | `Invalid '{path}': string too long. Expected a string with maximum length {max}, but got a string with length {found} instead.` | path / `string_above_max_length` | captured for tool call ids |
//! | invalid value | `Invalid value for '{path}': {detail}` | path / null | captured for `parallel_tool_calls` |
//! | no `Authorization` | `You didn't provide an API key. …` (HTTP 401) | null / null | best known |
//! | harness | the message as given | null / `tooltape` | ours |

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::sse::Event;
use super::{DecodedRequest, ErrorReply, Malformed, MalformedKind, Rejection, ResponseError};
use crate::transcript::{
    AssistantTurn, Block, Conversation, Message, Role, StopReason, ToolCall, ToolResult,
};

/// The longest tool call id the API accepts when a loop replays it. Most 2024-25 reports say
/// 40; a few say 29 or 64, so the current limit is uncertain (protocol notes §A5, §G).
const MAX_TOOL_CALL_ID_LEN: usize = 40;

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

/// A `chat.completion` body; only the fields the transcript needs.
#[derive(Debug, Deserialize)]
struct Completion {
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    choices: Option<Vec<Choice>>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: ResponseMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ResponseMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ResponseToolCall>>,
}

#[derive(Debug, Deserialize)]
struct ResponseToolCall {
    id: String,
    #[serde(rename = "type")]
    kind: CallKind,
    function: FunctionCall,
}

/// The call types this codec models; `custom` tool calls (free-form input) are refused by name.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CallKind {
    Function,
}

#[derive(Debug, Deserialize)]
struct FunctionCall {
    name: String,
    arguments: String,
}

/// Decodes a `chat.completion` JSON body: `choices[0].message` becomes text and tool calls.
///
/// # Errors
/// The body is not JSON, is an error reply, or a field the transcript needs is missing or of the
/// wrong type; the error names the JSON path.
pub fn decode_response_json(body: &str) -> Result<AssistantTurn, ResponseError> {
    let mut de = serde_json::Deserializer::from_str(body);
    let completion: Completion =
        serde_path_to_error::deserialize(&mut de).map_err(|e| path_error(&e))?;
    let Completion {
        object,
        error,
        choices,
    } = completion;
    if let Some(error) = error {
        return Err(ResponseError::new(
            "error",
            format!("the body is an error reply: {}", error_text(&error)),
        ));
    }
    if let Some(object) = object.filter(|o| o != "chat.completion") {
        return Err(ResponseError::new(
            "object",
            format!("expected `chat.completion`, found `{object}`"),
        ));
    }
    let Some(choice) = choices.and_then(|c| c.into_iter().next()) else {
        return Err(ResponseError::new("choices", "the response has no choices"));
    };
    let Choice {
        message: ResponseMessage {
            content,
            tool_calls,
        },
        finish_reason,
    } = choice;
    let mut blocks = Vec::new();
    if let Some(text) = content.filter(|t| !t.is_empty()) {
        blocks.push(Block::Text { text });
    }
    for call in tool_calls.unwrap_or_default() {
        let ResponseToolCall {
            id,
            kind: CallKind::Function,
            function: FunctionCall { name, arguments },
        } = call;
        blocks.push(Block::ToolCall(ToolCall {
            id,
            name,
            arguments,
        }));
    }
    Ok(AssistantTurn {
        blocks,
        stop: stop_reason(finish_reason.as_deref()),
    })
}

/// One `chat.completion.chunk`, or an error object sent in its place.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    choices: Option<Vec<ChunkChoice>>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    index: u64,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    index: u64,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// Tool calls being accumulated from deltas, in order of first appearance.
#[derive(Debug, Default)]
struct Accumulator {
    text: String,
    calls: Vec<ToolCall>,
    /// For each `index`, the position in `calls` of the call it currently designates.
    open: HashMap<u64, usize>,
    finish: Option<String>,
}

impl Accumulator {
    fn apply(&mut self, frame: usize, delta: ToolCallDelta) -> Result<(), ResponseError> {
        let ToolCallDelta {
            index,
            id,
            function,
        } = delta;
        let (name, arguments) = function.map_or((None, None), |f| (f.name, f.arguments));
        let id = id.filter(|id| !id.is_empty());
        let current = self.open.get(&index).copied();
        let position = match (current, id) {
            (Some(pos), Some(id)) if self.calls[pos].id != id => self.start(index, id),
            (Some(pos), _) => pos,
            (None, Some(id)) => self.start(index, id),
            (None, None) => {
                return Err(ResponseError::new(
                    format!("frame {frame}"),
                    format!(
                        "a delta for tool call index {index}, which no earlier delta opened \
                         (the first delta of a call must carry its `id`)"
                    ),
                ));
            }
        };
        let call = &mut self.calls[position];
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            if call.name.is_empty() {
                call.name = name;
            } else if call.name != name {
                return Err(ResponseError::new(
                    format!("frame {frame}"),
                    format!(
                        "tool call `{}` is renamed from `{}` to `{name}`",
                        call.id, call.name
                    ),
                ));
            }
        }
        if let Some(fragment) = arguments {
            call.arguments.push_str(&fragment);
        }
        Ok(())
    }

    fn start(&mut self, index: u64, id: String) -> usize {
        self.calls.push(ToolCall {
            id,
            name: String::new(),
            arguments: String::new(),
        });
        let position = self.calls.len() - 1;
        self.open.insert(index, position);
        position
    }

    fn finish(self) -> Result<AssistantTurn, ResponseError> {
        let mut blocks = Vec::with_capacity(self.calls.len() + 1);
        if !self.text.is_empty() {
            blocks.push(Block::Text { text: self.text });
        }
        for call in self.calls {
            if call.name.is_empty() {
                return Err(ResponseError::new(
                    "end of stream",
                    format!("tool call `{}` never got a `function.name`", call.id),
                ));
            }
            blocks.push(Block::ToolCall(call));
        }
        Ok(AssistantTurn {
            blocks,
            stop: stop_reason(self.finish.as_deref()),
        })
    }
}

/// Decodes a streamed response from its `data:` events, accumulating tool calls by `index`.
///
/// Handles what real servers send: calls whose deltas interleave, every call at `index` 0 with
/// distinct ids (Ollama), the first call in the same chunk as the role, the last fragment in the
/// chunk that carries `finish_reason` (vLLM), a usage chunk with no choices, and empty deltas.
///
/// # Errors
/// A chunk is not JSON or not a chunk, the stream carries an error object, a delta continues a
/// call never opened, or the stream does not end with exactly one `data: [DONE]`. Positions are
/// `frame N`, the event's index.
pub fn decode_response_sse(events: &[Event]) -> Result<AssistantTurn, ResponseError> {
    let mut acc = Accumulator::default();
    let mut done = false;
    for (frame, event) in events.iter().enumerate() {
        let at = || format!("frame {frame}");
        if done {
            return Err(ResponseError::new(at(), "an event after `data: [DONE]`"));
        }
        if event.data.trim() == "[DONE]" {
            done = true;
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(&event.data);
        let chunk: Chunk = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let inner = path_error(&e);
            ResponseError::new(at(), format!("`{}`: {}", inner.at, inner.message))
        })?;
        let Chunk { error, choices } = chunk;
        if let Some(error) = error {
            return Err(ResponseError::new(
                at(),
                format!("the stream carries an error: {}", error_text(&error)),
            ));
        }
        let Some(choices) = choices else {
            return Err(ResponseError::new(at(), "the chunk has no `choices`"));
        };
        for choice in choices.into_iter().filter(|c| c.index == 0) {
            let ChunkChoice {
                index: _,
                delta,
                finish_reason,
            } = choice;
            if let Some(Delta {
                content,
                tool_calls,
            }) = delta
            {
                if let Some(text) = content {
                    acc.text.push_str(&text);
                }
                for call in tool_calls.unwrap_or_default() {
                    acc.apply(frame, call)?;
                }
            }
            if finish_reason.is_some() {
                acc.finish = finish_reason;
            }
        }
    }
    if !done {
        return Err(ResponseError::new(
            format!("frame {}", events.len()),
            "stream ends without `data: [DONE]`: truncated?",
        ));
    }
    acc.finish()
}

fn stop_reason(finish_reason: Option<&str>) -> StopReason {
    match finish_reason {
        Some("tool_calls") => StopReason::ToolUse,
        Some("stop") => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        _ => StopReason::Other,
    }
}

fn path_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ResponseError {
    let path = e.path().to_string();
    let at = if path == "." { String::new() } else { path };
    ResponseError::new(at, e.inner().to_string())
}

/// The `message` of an API error object, or the whole value as JSON.
fn error_text(error: &Value) -> String {
    match error.get("message").and_then(Value::as_str) {
        Some(message) => format!("`{message}`"),
        None => format!("`{error}`"),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// Decodes a request body, refusing what the API refuses before it reads the conversation.
///
/// Every wire message becomes exactly one transcript message, so indices match `messages[i]`.
/// Pairing of calls and results is not judged here: that is the conformance rules' job.
///
/// # Errors
/// The body is not an object; `model` or `messages` is missing or of the wrong type; a message
/// has an unknown role, a required field missing, or a field of the wrong type (above all a
/// replayed `function.arguments` that is not a string); `parallel_tool_calls` without `tools`.
pub fn decode_request(body: &Value) -> Result<DecodedRequest, Malformed> {
    let Value::Object(body) = body else {
        return Err(Malformed::wrong_type("", "an object", body));
    };
    let model = match body.get("model") {
        None | Some(Value::Null) => return Err(Malformed::new("model", MalformedKind::Missing)),
        Some(Value::String(model)) => model.clone(),
        Some(other) => return Err(Malformed::wrong_type("model", "a string", other)),
    };
    let wire = match body.get("messages") {
        None | Some(Value::Null) => return Err(Malformed::new("messages", MalformedKind::Missing)),
        Some(Value::Array(wire)) => wire,
        Some(other) => return Err(Malformed::wrong_type("messages", "an array", other)),
    };
    if wire.is_empty() {
        return Err(Malformed::new(
            "messages",
            MalformedKind::Invalid {
                detail: "empty array. Expected an array with minimum length 1, but got an empty \
                         array instead."
                    .to_owned(),
            },
        ));
    }
    let messages = wire
        .iter()
        .enumerate()
        .map(|(i, m)| decode_message(m, &format!("messages[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => *stream,
        Some(other) => return Err(Malformed::wrong_type("stream", "a boolean", other)),
    };
    let (tools_given, tool_names) = decode_tools(body.get("tools"))?;
    if !tools_given
        && body
            .get("parallel_tool_calls")
            .is_some_and(|v| !v.is_null())
    {
        return Err(Malformed::new(
            "parallel_tool_calls",
            MalformedKind::Invalid {
                detail: "'parallel_tool_calls' is only allowed when 'tools' are specified."
                    .to_owned(),
            },
        ));
    }
    Ok(DecodedRequest {
        conversation: Conversation { messages },
        stream,
        model,
        tool_names,
    })
}

/// The declared tool names, and whether `tools` was a non-empty array.
fn decode_tools(tools: Option<&Value>) -> Result<(bool, Vec<String>), Malformed> {
    let tools = match tools {
        None | Some(Value::Null) => return Ok((false, Vec::new())),
        Some(Value::Array(tools)) => tools,
        Some(other) => return Err(Malformed::wrong_type("tools", "an array", other)),
    };
    let mut names = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        let tool = object(tool, &path)?;
        let kind = required_str(tool, "type", &path)?;
        if kind == "function" {
            let function_path = format!("{path}.function");
            let function = object(required(tool, "function", &path)?, &function_path)?;
            names.push(required_str(function, "name", &function_path)?.to_owned());
        } else if let Some(name) = tool
            .get(kind)
            .and_then(|inner| inner.get("name"))
            .and_then(Value::as_str)
        {
            names.push(name.to_owned());
        }
    }
    Ok((!tools.is_empty(), names))
}

/// The content part types each role accepts.
const SYSTEM_PARTS: &[&str] = &["text"];
const USER_PARTS: &[&str] = &["text", "image_url", "input_audio", "file"];
const ASSISTANT_PARTS: &[&str] = &["text", "refusal"];
const TOOL_PARTS: &[&str] = &["text"];

fn decode_message(value: &Value, path: &str) -> Result<Message, Malformed> {
    let message = object(value, path)?;
    let role = required_str(message, "role", path)?;
    match role {
        "system" | "developer" => Ok(Message::new(
            Role::System,
            decode_content(message.get("content"), path, SYSTEM_PARTS, true)?,
        )),
        "user" => Ok(Message::new(
            Role::User,
            decode_content(message.get("content"), path, USER_PARTS, true)?,
        )),
        "assistant" => decode_assistant(message, path),
        "tool" => {
            let call_id = required_str(message, "tool_call_id", path)?.to_owned();
            decode_content(message.get("content"), path, TOOL_PARTS, true)?;
            let content = message.get("content").cloned().unwrap_or(Value::Null);
            Ok(Message::new(
                Role::Tool,
                vec![Block::ToolResult(ToolResult {
                    call_id,
                    content,
                    is_error: false,
                })],
            ))
        }
        other => Err(Malformed::new(
            format!("{path}.role"),
            MalformedKind::Invalid {
                detail: format!(
                    "'{other}' is not a role tooltape accepts; supported values are 'system', \
                     'developer', 'user', 'assistant' and 'tool'."
                ),
            },
        )),
    }
}

fn decode_assistant(message: &Map<String, Value>, path: &str) -> Result<Message, Malformed> {
    let mut blocks = decode_content(message.get("content"), path, ASSISTANT_PARTS, false)?;
    let calls_path = format!("{path}.tool_calls");
    let calls = match message.get("tool_calls") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(calls)) => calls.as_slice(),
        Some(other) => return Err(Malformed::wrong_type(calls_path, "an array", other)),
    };
    for (k, call) in calls.iter().enumerate() {
        blocks.push(Block::ToolCall(decode_tool_call(
            call,
            &format!("{calls_path}[{k}]"),
        )?));
    }
    Ok(Message::new(Role::Assistant, blocks))
}

fn decode_tool_call(value: &Value, path: &str) -> Result<ToolCall, Malformed> {
    let call = object(value, path)?;
    let id = required_str(call, "id", path)?;
    let length = id.chars().count();
    if length > MAX_TOOL_CALL_ID_LEN {
        return Err(Malformed::new(
            format!("{path}.id"),
            MalformedKind::TooLong {
                max: MAX_TOOL_CALL_ID_LEN,
                found: length,
            },
        ));
    }
    let kind = required_str(call, "type", path)?;
    if kind != "function" {
        return Err(Malformed::new(
            format!("{path}.type"),
            MalformedKind::Invalid {
                detail: format!(
                    "'{kind}' is not a tool call type tooltape accepts; use 'function'."
                ),
            },
        ));
    }
    let function_path = format!("{path}.function");
    let function = object(required(call, "function", path)?, &function_path)?;
    Ok(ToolCall {
        id: id.to_owned(),
        name: required_str(function, "name", &function_path)?.to_owned(),
        arguments: required_str(function, "arguments", &function_path)?.to_owned(),
    })
}

/// The blocks of a `content` value: a string, null, or an array of typed parts.
fn decode_content(
    content: Option<&Value>,
    path: &str,
    allowed: &[&str],
    required: bool,
) -> Result<Vec<Block>, Malformed> {
    let path = format!("{path}.content");
    match content {
        None if required => Err(Malformed::new(path, MalformedKind::Missing)),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) if text.is_empty() => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![Block::Text { text: text.clone() }]),
        Some(Value::Array(parts)) => parts
            .iter()
            .enumerate()
            .map(|(i, part)| decode_part(part, &format!("{path}[{i}]"), allowed))
            .collect(),
        Some(other) => Err(Malformed::wrong_type(
            path,
            "one of a string or array of objects",
            other,
        )),
    }
}

fn decode_part(value: &Value, path: &str, allowed: &[&str]) -> Result<Block, Malformed> {
    let part = object(value, path)?;
    let kind = required_str(part, "type", path)?;
    if !allowed.contains(&kind) {
        let supported = allowed
            .iter()
            .map(|k| format!("'{k}'"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Malformed::new(
            format!("{path}.type"),
            MalformedKind::Invalid {
                detail: format!(
                    "'{kind}' is not a content part this message accepts; supported values are \
                     {supported}."
                ),
            },
        ));
    }
    if kind == "text" {
        let text = required_str(part, "text", path)?;
        return Ok(Block::Text {
            text: text.to_owned(),
        });
    }
    Ok(Block::Other {
        kind: kind.to_owned(),
    })
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Malformed> {
    value
        .as_object()
        .ok_or_else(|| Malformed::wrong_type(path, "an object", value))
}

fn required<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Value, Malformed> {
    object
        .get(key)
        .ok_or_else(|| Malformed::new(field_path(path, key), MalformedKind::Missing))
}

fn required_str<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, Malformed> {
    let value = required(object, key, path)?;
    value
        .as_str()
        .ok_or_else(|| Malformed::wrong_type(field_path(path, key), "a string", value))
}

fn field_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// The assistant message that echoes `turn` back: text (or `null`) and its tool calls.
#[must_use]
pub fn encode_assistant(turn: &AssistantTurn) -> Value {
    let text = turn.text();
    let mut message = Map::new();
    message.insert("role".to_owned(), json!("assistant"));
    message.insert(
        "content".to_owned(),
        if text.is_empty() {
            Value::Null
        } else {
            Value::String(text)
        },
    );
    let calls: Vec<Value> = turn
        .tool_calls()
        .map(|call| {
            json!({
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            })
        })
        .collect();
    if !calls.is_empty() {
        message.insert("tool_calls".to_owned(), Value::Array(calls));
    }
    Value::Object(message)
}

/// One `tool` message per result, in the order given, content as given. Chat Completions has
/// no error flag: a failure is told in the content.
#[must_use]
pub fn encode_results(results: &[ToolResult]) -> Vec<Value> {
    results
        .iter()
        .map(|result| {
            json!({
                "role": "tool",
                "tool_call_id": result.call_id,
                "content": result.content,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    message: String,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<String>,
    code: Option<&'a str>,
}

const NOT_JSON: &str = "We could not parse the JSON body of your request. (HINT: This likely \
    means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
    but what was sent was not valid JSON. If you have trouble figuring out how to fix this, \
    please contact us through our help center at help.openai.com.)";

const NO_API_KEY: &str = "You didn't provide an API key. You need to provide your API key in an \
    Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the \
    password field (with blank username) if you're accessing the API from your browser and are \
    prompted for a username. You can obtain an API key from \
    https://platform.openai.com/account/api-keys.";

/// OpenAI's error body for `rejection`, byte for byte where the real text is known (see the
/// module docs for which texts were captured).
#[must_use]
pub fn render_rejection(rejection: &Rejection) -> ErrorReply {
    let (status, message, param, code) = match rejection {
        Rejection::MissingResults { assistant, ids } => (
            400,
            format!(
                "An assistant message with 'tool_calls' must be followed by tool messages \
                 responding to each 'tool_call_id'. The following tool_call_ids did not have \
                 response messages: {}",
                ids.join(", ")
            ),
            Some(format!("messages.[{assistant}].role")),
            None,
        ),
        Rejection::OrphanResult { message, .. } => (
            400,
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding \
             message with 'tool_calls'."
                .to_owned(),
            Some(format!("messages.[{message}].role")),
            None,
        ),
        Rejection::UnknownResult { message, id, .. } => (
            400,
            format!(
                "Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' of \
                 previous message."
            ),
            Some(format!("messages.[{message}].tool_call_id")),
            None,
        ),
        Rejection::DuplicateResult {
            id,
            first_message,
            second_message,
            ..
        } => (
            400,
            format!(
                "Invalid parameter: Duplicate value for 'tool_call_id' of '{id}', in \
                 messages[{first_message}] and messages[{second_message}]."
            ),
            Some(format!("messages.[{second_message}].tool_call_id")),
            None,
        ),
        Rejection::Malformed(Malformed { path, problem }) => render_malformed(path, problem),
        Rejection::Harness { message } => (400, message.clone(), None, Some("tooltape")),
    };
    let body = ErrorBody {
        error: ErrorObject {
            message,
            kind: "invalid_request_error",
            param,
            code,
        },
    };
    ErrorReply {
        status,
        body: serde_json::to_string(&body).expect("an error body always serialises"),
    }
}

fn render_malformed(
    path: &str,
    problem: &MalformedKind,
) -> (u16, String, Option<String>, Option<&'static str>) {
    let param = Some(path.to_owned());
    match problem {
        MalformedKind::NotJson { .. } => (400, NOT_JSON.to_owned(), None, None),
        MalformedKind::Missing if path == "model" => (
            400,
            "you must provide a model parameter".to_owned(),
            None,
            None,
        ),
        MalformedKind::Missing => (
            400,
            format!("Missing required parameter: '{path}'."),
            param,
            Some("missing_required_parameter"),
        ),
        MalformedKind::WrongType { expected, found } => (
            400,
            format!("Invalid type for '{path}': expected {expected}, but got {found} instead."),
            param,
            Some("invalid_type"),
        ),
        MalformedKind::TooLong { max, found } => (
            400,
            format!(
                "Invalid '{path}': string too long. Expected a string with maximum length \
                 {max}, but got a string with length {found} instead."
            ),
            param,
            Some("string_above_max_length"),
        ),
        MalformedKind::MissingHeader { header } if header == "authorization" => {
            (401, NO_API_KEY.to_owned(), None, None)
        }
        MalformedKind::MissingHeader { header } => (
            400,
            format!("Missing required header: '{header}'."),
            None,
            None,
        ),
        MalformedKind::Invalid { detail } => (
            400,
            format!("Invalid value for '{path}': {detail}"),
            param,
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Provider, sse};

    fn call(id: &str, name: &str, arguments: &str) -> ToolCall {
        ToolCall {
            id: id.to_owned(),
            name: name.to_owned(),
            arguments: arguments.to_owned(),
        }
    }

    fn calls(turn: &AssistantTurn) -> Vec<ToolCall> {
        turn.tool_calls().cloned().collect()
    }

    fn events(body: &str) -> Vec<Event> {
        sse::parse_frames(&sse::split_frames(body))
    }

    /// A `chat.completion.chunk` whose first choice carries `delta` and `finish_reason`.
    fn chunk(delta: &Value, finish_reason: Option<&str>) -> String {
        json!({
            "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        })
        .to_string()
    }

    fn opens(index: u64, id: &str, name: &str, arguments: &str) -> Value {
        json!({"tool_calls": [{"index": index, "id": id, "type": "function",
            "function": {"name": name, "arguments": arguments}}]})
    }

    fn continues(index: u64, fragment: &str) -> Value {
        json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
    }

    /// Events with these data payloads, in order.
    fn stream(data: &[String]) -> Vec<Event> {
        data.iter()
            .map(|d| Event {
                event: None,
                data: d.clone(),
            })
            .collect()
    }

    fn done() -> String {
        "[DONE]".to_owned()
    }

    fn rejection_body(rejection: Rejection) -> (u16, String) {
        let reply = render_rejection(&rejection);
        (reply.status, reply.body)
    }

    fn malformed(path: &str, problem: MalformedKind) -> (u16, String) {
        rejection_body(Rejection::Malformed(Malformed::new(path, problem)))
    }

    // -- responses ----------------------------------------------------------------------------

    /// Source: reference/recordings/openai-chat/openai-python-parse-multiple-tools.response.json
    /// (openai/openai-python, Apache-2.0), verbatim.
    const RECORDED_RESPONSE: &str = r#"{"id": "chatcmpl-ABfvyvfNWKcl7Ohqos4UFrmMs1v4C", "object": "chat.completion", "created": 1727346166, "model": "gpt-4o-2024-08-06", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [{"id": "call_fdNz3vOBKYgOIpMdWotB9MjY", "type": "function", "function": {"name": "GetWeatherArgs", "arguments": "{\"city\": \"Edinburgh\", \"country\": \"GB\", \"units\": \"c\"}"}}, {"id": "call_h1DWI1POMJLb0KwIyQHWXD4p", "type": "function", "function": {"name": "get_stock_price", "arguments": "{\"ticker\": \"AAPL\", \"exchange\": \"NASDAQ\"}"}}], "refusal": null}, "logprobs": null, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 149, "completion_tokens": 60, "total_tokens": 209, "completion_tokens_details": {"reasoning_tokens": 0}}, "system_fingerprint": "fp_b40fb1c6fb"}"#;

    #[test]
    fn recorded_response_with_two_parallel_calls_decodes_both_calls_verbatim() {
        let turn = decode_response_json(RECORDED_RESPONSE).unwrap();
        assert_eq!(turn.stop, StopReason::ToolUse);
        assert_eq!(
            turn.blocks,
            vec![
                Block::ToolCall(call(
                    "call_fdNz3vOBKYgOIpMdWotB9MjY",
                    "GetWeatherArgs",
                    r#"{"city": "Edinburgh", "country": "GB", "units": "c"}"#,
                )),
                Block::ToolCall(call(
                    "call_h1DWI1POMJLb0KwIyQHWXD4p",
                    "get_stock_price",
                    r#"{"ticker": "AAPL", "exchange": "NASDAQ"}"#,
                )),
            ]
        );
    }

    #[test]
    fn finish_reason_stop_with_tool_calls_keeps_the_calls() {
        let body = json!({"object": "chat.completion", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": "Checking.", "refusal": null, "annotations": [],
                "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"}}]},
            "finish_reason": "stop"}]});
        let turn = decode_response_json(&body.to_string()).unwrap();
        assert_eq!(turn.stop, StopReason::EndTurn);
        assert_eq!(turn.text(), "Checking.");
        assert_eq!(calls(&turn), vec![call("call_1", "get_weather", "{}")]);
        assert!(matches!(turn.blocks[0], Block::Text { .. }));
    }

    #[test]
    fn finish_reasons_map_to_stop_reasons() {
        for (finish, stop) in [
            ("length", StopReason::MaxTokens),
            ("content_filter", StopReason::Other),
        ] {
            let body = json!({"choices": [{"message": {"content": "x"}, "finish_reason": finish}]});
            assert_eq!(decode_response_json(&body.to_string()).unwrap().stop, stop);
        }
    }

    #[test]
    fn arguments_of_the_wrong_type_in_a_response_name_their_path() {
        let body = json!({"choices": [{"message": {"tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "g", "arguments": {"x": 1}}}]},
            "finish_reason": "tool_calls"}]});
        let err = decode_response_json(&body.to_string()).unwrap_err();
        assert_eq!(
            err.at,
            "choices[0].message.tool_calls[1].function.arguments"
        );
        assert!(err.message.contains("expected a string"), "{err}");
    }

    #[test]
    fn a_response_that_is_an_error_reply_is_refused() {
        let body =
            r#"{"error":{"message":"Rate limited","type":"requests","param":null,"code":null}}"#;
        let err = decode_response_json(body).unwrap_err();
        assert_eq!(err.at, "error");
        assert!(err.message.contains("Rate limited"), "{err}");
    }

    #[test]
    fn a_custom_tool_call_in_a_response_is_refused_at_its_type() {
        let body = json!({"choices": [{"message": {"tool_calls": [
            {"id": "a", "type": "custom", "custom": {"name": "f", "input": "x"}}]}}]});
        let err = decode_response_json(&body.to_string()).unwrap_err();
        assert_eq!(err.at, "choices[0].message.tool_calls[0].type");
    }

    // -- streams ------------------------------------------------------------------------------

    /// Frames 0, 1, 2, 3, 13, 14, 24, 25 and [DONE] of
    /// reference/recordings/openai-chat/openai-python-parse-multiple-tools.stream.sse
    /// (openai/openai-python, Apache-2.0): the fragments between them are left out.
    const RECORDED_STREAM_EXCERPT: &str = concat!(
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"role":"assistant","content":null},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_JMW1whyEaYG438VE1OIflxA2","type":"function","function":{"name":"GetWeatherArgs","arguments":""}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\": "}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_DNYTawLBoN8fj3KN6qU9N1Ou","type":"function","function":{"name":"get_stock_price","arguments":""}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"ti"}}]},"logprobs":null,"finish_reason":null}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}"#,
        "\n\n",
        r#"data: {"id":"chatcmpl-ABfwAwrNePHUgBBezonVC6MX3zd63","object":"chat.completion.chunk","created":1727346178,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[],"usage":{"prompt_tokens":149,"completion_tokens":60,"total_tokens":209,"completion_tokens_details":{"reasoning_tokens":0}}}"#,
        "\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn recorded_stream_excerpt_accumulates_each_call_by_index() {
        let turn = decode_response_sse(&events(RECORDED_STREAM_EXCERPT)).unwrap();
        assert_eq!(turn.stop, StopReason::ToolUse);
        assert_eq!(
            turn.blocks,
            vec![
                Block::ToolCall(call(
                    "call_JMW1whyEaYG438VE1OIflxA2",
                    "GetWeatherArgs",
                    r#"{"city": "#
                )),
                Block::ToolCall(call(
                    "call_DNYTawLBoN8fj3KN6qU9N1Ou",
                    "get_stock_price",
                    r#"{"ti"#
                )),
            ]
        );
    }

    #[test]
    fn sequential_streamed_calls_with_id_only_in_the_first_delta_are_accumulated() {
        let turn = decode_response_sse(&stream(&[
            chunk(&json!({"role": "assistant", "content": null}), None),
            chunk(&opens(0, "call_a", "get_weather", ""), None),
            chunk(&continues(0, "{\"city\":"), None),
            chunk(&continues(0, "\"Paris\"}"), None),
            chunk(&opens(1, "call_b", "get_time", ""), None),
            chunk(&continues(1, "{\"tz\":\"CET\"}"), None),
            chunk(&json!({}), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            calls(&turn),
            vec![
                call("call_a", "get_weather", r#"{"city":"Paris"}"#),
                call("call_b", "get_time", r#"{"tz":"CET"}"#),
            ]
        );
        assert_eq!(turn.stop, StopReason::ToolUse);
    }

    #[test]
    fn interleaved_deltas_are_joined_per_index_in_order_of_first_appearance() {
        let turn = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "a", "{\"x\""), None),
            chunk(&opens(1, "call_b", "b", "{\"y\""), None),
            chunk(&continues(0, ":1"), None),
            chunk(&opens(2, "call_c", "c", "{}"), None),
            chunk(&continues(1, ":2}"), None),
            chunk(&continues(0, "}"), None),
            chunk(&json!({}), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            calls(&turn),
            vec![
                call("call_a", "a", r#"{"x":1}"#),
                call("call_b", "b", r#"{"y":2}"#),
                call("call_c", "c", "{}"),
            ]
        );
    }

    #[test]
    fn ollama_calls_all_at_index_zero_with_distinct_ids_stay_separate() {
        let turn = decode_response_sse(&stream(&[
            chunk(
                &opens(0, "call_k2f8x0qa", "get_weather", r#"{"city":"Paris"}"#),
                None,
            ),
            chunk(
                &opens(0, "call_9zq1m3bd", "get_weather", r#"{"city":"Rome"}"#),
                None,
            ),
            chunk(&json!({}), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            calls(&turn),
            vec![
                call("call_k2f8x0qa", "get_weather", r#"{"city":"Paris"}"#),
                call("call_9zq1m3bd", "get_weather", r#"{"city":"Rome"}"#),
            ]
        );
    }

    #[test]
    fn a_repeated_id_at_the_same_index_continues_the_call() {
        let turn = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{\"x\":"), None),
            chunk(&opens(0, "call_a", "f", "1}"), None),
            done(),
        ]))
        .unwrap();
        assert_eq!(calls(&turn), vec![call("call_a", "f", r#"{"x":1}"#)]);
    }

    #[test]
    fn the_last_fragment_may_arrive_with_finish_reason() {
        let turn = decode_response_sse(&stream(&[
            chunk(
                &opens(
                    0,
                    "chatcmpl-tool-0123456789abcdef0123456789abcdef",
                    "f",
                    "{\"x\":",
                ),
                None,
            ),
            chunk(&continues(0, "1}"), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            calls(&turn),
            vec![call(
                "chatcmpl-tool-0123456789abcdef0123456789abcdef",
                "f",
                r#"{"x":1}"#
            )]
        );
        assert_eq!(turn.stop, StopReason::ToolUse);
    }

    #[test]
    fn the_first_chunk_may_carry_role_and_the_first_call() {
        let mut first = opens(0, "call_a", "f", "");
        first["role"] = json!("assistant");
        first["content"] = Value::Null;
        let turn = decode_response_sse(&stream(&[
            chunk(&first, None),
            chunk(&continues(0, "{}"), None),
            chunk(&json!({}), Some("stop")),
            done(),
        ]))
        .unwrap();
        assert_eq!(calls(&turn), vec![call("call_a", "f", "{}")]);
        assert_eq!(turn.stop, StopReason::EndTurn);
    }

    #[test]
    fn text_deltas_become_one_text_block_before_the_calls() {
        let mut with_obfuscation: Value =
            serde_json::from_str(&chunk(&json!({"content": "Let me "}), None)).unwrap();
        with_obfuscation["obfuscation"] = json!("x7Qa");
        let turn = decode_response_sse(&stream(&[
            with_obfuscation.to_string(),
            chunk(&json!({}), None),
            chunk(&opens(0, "call_a", "f", "{}"), None),
            chunk(&json!({"content": "check."}), None),
            chunk(&json!({}), Some("tool_calls")),
            done(),
        ]))
        .unwrap();
        assert_eq!(
            turn.blocks,
            vec![
                Block::Text {
                    text: "Let me check.".to_owned()
                },
                Block::ToolCall(call("call_a", "f", "{}")),
            ]
        );
    }

    #[test]
    fn a_stream_without_done_is_reported_as_truncated() {
        let err = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{}"), None),
            chunk(&json!({}), Some("tool_calls")),
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 2");
        assert_eq!(
            err.message,
            "stream ends without `data: [DONE]`: truncated?"
        );
    }

    #[test]
    fn an_event_after_done_is_refused() {
        let err = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{}"), None),
            done(),
            chunk(&json!({}), Some("tool_calls")),
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 2");
    }

    #[test]
    fn an_error_chunk_in_the_stream_is_reported_with_its_message() {
        let err = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{"), None),
            r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#.to_owned(),
            done(),
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 1");
        assert!(err.message.contains("The server had an error"), "{err}");
    }

    #[test]
    fn a_fragment_for_an_index_never_opened_names_its_frame() {
        let err = decode_response_sse(&stream(&[
            chunk(&opens(0, "call_a", "f", "{}"), None),
            chunk(&continues(1, "{\"x\":1}"), None),
            done(),
        ]))
        .unwrap_err();
        assert_eq!(err.at, "frame 1");
        assert!(err.message.contains("index 1"), "{err}");
    }

    #[test]
    fn a_chunk_that_is_not_json_names_its_frame() {
        let err = decode_response_sse(&stream(&["{\"choices\":".to_owned(), done()])).unwrap_err();
        assert_eq!(err.at, "frame 0");
    }

    // -- requests -----------------------------------------------------------------------------

    fn request(messages: Value) -> Value {
        json!({"model": "gpt-4o", "messages": messages})
    }

    fn assistant_with(call: Value) -> Value {
        json!({"role": "assistant", "content": null, "tool_calls": [call]})
    }

    #[test]
    fn a_follow_up_decodes_one_message_per_wire_message() {
        let body = json!({"model": "gpt-4o", "stream": true,
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}},
                      {"type": "function", "function": {"name": "get_stock_price"}}],
            "parallel_tool_calls": true,
            "messages": [
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Weather?"}, {"type": "image_url", "image_url": {"url": "x"}}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Edinburgh\"}"}},
                    {"id": "call_b", "type": "function", "function": {"name": "get_stock_price", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_a", "content": "12C, rain"},
                {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "227.1"}]}]});
        let decoded = decode_request(&body).unwrap();
        assert!(decoded.stream);
        assert_eq!(decoded.model, "gpt-4o");
        assert_eq!(decoded.tool_names, vec!["get_weather", "get_stock_price"]);
        let m = &decoded.conversation.messages;
        assert_eq!(m.len(), 5);
        assert_eq!(
            m.iter().map(|m| m.role).collect::<Vec<_>>(),
            vec![
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::Tool
            ]
        );
        assert!(m.iter().all(|m| m.merged_from() == 1));
        assert_eq!(
            m[1].blocks,
            vec![
                Block::Text {
                    text: "Weather?".to_owned()
                },
                Block::Other {
                    kind: "image_url".to_owned()
                },
            ]
        );
        assert_eq!(
            m[2].tool_calls().cloned().collect::<Vec<_>>(),
            vec![
                call("call_a", "get_weather", r#"{"city":"Edinburgh"}"#),
                call("call_b", "get_stock_price", "{}"),
            ]
        );
        assert_eq!(
            m[4].blocks,
            vec![Block::ToolResult(ToolResult {
                call_id: "call_b".to_owned(),
                content: json!([{"type": "text", "text": "227.1"}]),
                is_error: false,
            })]
        );
    }

    #[test]
    fn arguments_replayed_as_an_object_are_a_wrong_type_at_their_exact_path() {
        let body = request(json!([
            {"role": "system", "content": "s"},
            {"role": "user", "content": "hi"},
            assistant_with(json!({"id": "call_a", "type": "function",
                "function": {"name": "f", "arguments": {"city": "Paris"}}})),
        ]));
        let err = decode_request(&body).unwrap_err();
        assert_eq!(
            err,
            Malformed::wrong_type(
                "messages[2].tool_calls[0].function.arguments",
                "a string",
                &json!({})
            )
        );
        assert_eq!(
            rejection_body(Rejection::Malformed(err)),
            (
                400,
                r#"{"error":{"message":"Invalid type for 'messages[2].tool_calls[0].function.arguments': expected a string, but got an object instead.","type":"invalid_request_error","param":"messages[2].tool_calls[0].function.arguments","code":"invalid_type"}}"#.to_owned()
            )
        );
    }

    #[test]
    fn a_missing_model_is_reported_at_model() {
        let err =
            decode_request(&json!({"messages": [{"role": "user", "content": "hi"}]})).unwrap_err();
        assert_eq!(err, Malformed::new("model", MalformedKind::Missing));
    }

    #[test]
    fn missing_messages_are_reported_at_messages() {
        let err = decode_request(&json!({"model": "gpt-4o"})).unwrap_err();
        assert_eq!(err, Malformed::new("messages", MalformedKind::Missing));
    }

    #[test]
    fn messages_that_are_not_an_array_are_a_wrong_type() {
        let err = decode_request(&request(json!({"role": "user", "content": "hi"}))).unwrap_err();
        assert_eq!(
            err,
            Malformed::wrong_type("messages", "an array", &json!({}))
        );
    }

    #[test]
    fn empty_messages_are_refused() {
        let err = decode_request(&request(json!([]))).unwrap_err();
        assert_eq!(err.path, "messages");
        assert!(matches!(err.problem, MalformedKind::Invalid { .. }));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_a_wrong_type() {
        let err = decode_request(&json!([1])).unwrap_err();
        assert_eq!(err, Malformed::wrong_type("", "an object", &json!([])));
    }

    #[test]
    fn parallel_tool_calls_without_tools_is_invalid() {
        for tools in [None, Some(json!([]))] {
            let mut body = request(json!([{"role": "user", "content": "hi"}]));
            body["parallel_tool_calls"] = json!(false);
            if let Some(tools) = tools {
                body["tools"] = tools;
            }
            let err = decode_request(&body).unwrap_err();
            assert_eq!(
                rejection_body(Rejection::Malformed(err)),
                (
                    400,
                    r#"{"error":{"message":"Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.","type":"invalid_request_error","param":"parallel_tool_calls","code":null}}"#.to_owned()
                )
            );
        }
    }

    #[test]
    fn a_call_id_longer_than_forty_characters_is_too_long() {
        let id = format!("chatcmpl-tool-{}", "0".repeat(32));
        let body = request(json!([
            {"role": "user", "content": "hi"},
            assistant_with(json!({"id": id, "type": "function", "function": {"name": "f", "arguments": "{}"}})),
        ]));
        let err = decode_request(&body).unwrap_err();
        assert_eq!(
            err,
            Malformed::new(
                "messages[1].tool_calls[0].id",
                MalformedKind::TooLong { max: 40, found: 46 }
            )
        );
    }

    #[test]
    fn a_call_id_of_exactly_forty_characters_is_accepted() {
        let body = request(json!([
            {"role": "user", "content": "hi"},
            assistant_with(json!({"id": "c".repeat(40), "type": "function", "function": {"name": "f", "arguments": "{}"}})),
        ]));
        assert!(decode_request(&body).is_ok());
    }

    #[test]
    fn a_tool_message_without_tool_call_id_is_missing_it() {
        let body =
            request(json!([{"role": "user", "content": "hi"}, {"role": "tool", "content": "x"}]));
        assert_eq!(
            decode_request(&body).unwrap_err(),
            Malformed::new("messages[1].tool_call_id", MalformedKind::Missing)
        );
    }

    #[test]
    fn a_tool_message_with_an_image_part_is_invalid() {
        let body = request(json!([{"role": "tool", "tool_call_id": "a",
            "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]));
        let err = decode_request(&body).unwrap_err();
        assert_eq!(err.path, "messages[0].content[0].type");
    }

    #[test]
    fn an_unknown_role_is_invalid() {
        let err = decode_request(&request(json!([{"role": "robot", "content": "x"}]))).unwrap_err();
        assert_eq!(err.path, "messages[0].role");
        assert!(matches!(err.problem, MalformedKind::Invalid { .. }));
    }

    #[test]
    fn a_call_without_type_is_missing_it() {
        let body = request(json!([assistant_with(
            json!({"id": "a", "function": {"name": "f", "arguments": "{}"}})
        )]));
        assert_eq!(
            decode_request(&body).unwrap_err(),
            Malformed::new("messages[0].tool_calls[0].type", MalformedKind::Missing)
        );
    }

    #[test]
    fn encoded_turn_and_results_decode_back_to_the_same_calls_and_results() {
        let turn = AssistantTurn {
            blocks: vec![
                Block::Text {
                    text: "Looking.".to_owned(),
                },
                Block::ToolCall(call("call_a", "get_weather", r#"{"city": "Edinburgh"}"#)),
                Block::ToolCall(call("call_b", "get_stock_price", "")),
            ],
            stop: StopReason::ToolUse,
        };
        let results = vec![
            ToolResult {
                call_id: "call_a".to_owned(),
                content: json!("12C, rain"),
                is_error: false,
            },
            ToolResult {
                call_id: "call_b".to_owned(),
                content: json!([{"type": "text", "text": "227.1"}]),
                is_error: false,
            },
        ];
        let mut wire = vec![encode_assistant(&turn)];
        wire.extend(encode_results(&results));
        let messages = Provider::OpenAiChat.decode_messages(&wire).unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0].role, Role::Assistant);
        assert_eq!(messages[0].blocks, turn.blocks);
        for (message, result) in messages[1..].iter().zip(&results) {
            assert_eq!(message.role, Role::Tool);
            assert_eq!(message.blocks, vec![Block::ToolResult(result.clone())]);
        }
    }

    #[test]
    fn an_assistant_turn_without_text_or_calls_encodes_null_content_and_no_tool_calls() {
        let wire = encode_assistant(&AssistantTurn {
            blocks: vec![Block::ToolCall(call("call_a", "f", "{}"))],
            stop: StopReason::ToolUse,
        });
        assert_eq!(
            wire.to_string(),
            r#"{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}}]}"#
        );
        let wire = encode_assistant(&AssistantTurn {
            blocks: vec![Block::Text {
                text: "Done.".to_owned(),
            }],
            stop: StopReason::EndTurn,
        });
        assert_eq!(
            wire.to_string(),
            r#"{"role":"assistant","content":"Done."}"#
        );
    }

    // -- rejections ---------------------------------------------------------------------------

    #[test]
    fn missing_results_body_lists_every_id() {
        assert_eq!(
            rejection_body(Rejection::MissingResults {
                assistant: 3,
                ids: vec!["call_W353ADYhbga77VOI65B7MIsL".to_owned(), "call_IFx8fBJ6Oiz1XKIztWbsf9QX".to_owned()],
            }),
            (
                400,
                r#"{"error":{"message":"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_W353ADYhbga77VOI65B7MIsL, call_IFx8fBJ6Oiz1XKIztWbsf9QX","type":"invalid_request_error","param":"messages.[3].role","code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn orphan_result_body_keeps_the_real_typo() {
        assert_eq!(
            rejection_body(Rejection::OrphanResult { message: 4, block: 0, id: "call_x".to_owned() }),
            (
                400,
                r#"{"error":{"message":"Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.","type":"invalid_request_error","param":"messages.[4].role","code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn unknown_result_body_names_the_id() {
        assert_eq!(
            rejection_body(Rejection::UnknownResult { message: 5, block: 0, id: "call_XXXXXXXXX".to_owned() }),
            (
                400,
                r#"{"error":{"message":"Invalid parameter: 'tool_call_id' of 'call_XXXXXXXXX' not found in 'tool_calls' of previous message.","type":"invalid_request_error","param":"messages.[5].tool_call_id","code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn duplicate_result_body_uses_both_index_styles() {
        assert_eq!(
            rejection_body(Rejection::DuplicateResult {
                id: "call_gmd4tanjXcwOxfPawOnDmq6R".to_owned(),
                first_message: 7,
                second_message: 8,
                second_block: 0,
            }),
            (
                400,
                r#"{"error":{"message":"Invalid parameter: Duplicate value for 'tool_call_id' of 'call_gmd4tanjXcwOxfPawOnDmq6R', in messages[7] and messages[8].","type":"invalid_request_error","param":"messages.[8].tool_call_id","code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn not_json_body_is_openais_hint() {
        assert_eq!(
            malformed("", MalformedKind::NotJson { detail: "EOF".to_owned() }),
            (
                400,
                r#"{"error":{"message":"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)","type":"invalid_request_error","param":null,"code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn missing_model_body_is_the_captured_text() {
        assert_eq!(
            malformed("model", MalformedKind::Missing),
            (
                400,
                r#"{"error":{"message":"you must provide a model parameter","type":"invalid_request_error","param":null,"code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn missing_parameter_body_names_the_path() {
        assert_eq!(
            malformed("messages[1].tool_call_id", MalformedKind::Missing),
            (
                400,
                r#"{"error":{"message":"Missing required parameter: 'messages[1].tool_call_id'.","type":"invalid_request_error","param":"messages[1].tool_call_id","code":"missing_required_parameter"}}"#.to_owned()
            )
        );
    }

    #[test]
    fn too_long_id_body_gives_limit_and_length() {
        assert_eq!(
            malformed("messages[2].tool_calls[0].id", MalformedKind::TooLong { max: 40, found: 41 }),
            (
                400,
                r#"{"error":{"message":"Invalid 'messages[2].tool_calls[0].id': string too long. Expected a string with maximum length 40, but got a string with length 41 instead.","type":"invalid_request_error","param":"messages[2].tool_calls[0].id","code":"string_above_max_length"}}"#.to_owned()
            )
        );
    }

    #[test]
    fn missing_authorization_is_a_401() {
        assert_eq!(
            malformed("", MalformedKind::MissingHeader { header: "authorization".to_owned() }),
            (
                401,
                r#"{"error":{"message":"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":null}}"#.to_owned()
            )
        );
    }

    #[test]
    fn harness_body_is_marked_with_the_tooltape_code() {
        assert_eq!(
            rejection_body(Rejection::Harness {
                message: "tooltape: the conversation left the cassette at message 3".to_owned()
            }),
            (
                400,
                r#"{"error":{"message":"tooltape: the conversation left the cassette at message 3","type":"invalid_request_error","param":null,"code":"tooltape"}}"#.to_owned()
            )
        );
    }
}
