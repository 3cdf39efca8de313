//! Requests checked the way the API checks them, and decoded into a conversation.

use serde_json::{Map, Value};

use crate::provider::json::{self, field_path};
use crate::provider::{DecodedRequest, Malformed, MalformedKind};
use crate::transcript::{Block, Conversation, Message, Role, ToolCall, ToolDefinition, ToolResult};

/// The longest tool call id the API accepts when a loop replays it. Most 2024-25 reports say
/// 40; a few say 29 or 64, so the current limit is uncertain (protocol notes §A5, §G).
pub(super) const MAX_TOOL_CALL_ID_LEN: usize = 40;

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
    let parallel_tool_calls =
        body.get("parallel_tool_calls").and_then(Value::as_bool) != Some(false);
    Ok(DecodedRequest {
        conversation: Conversation { messages },
        stream,
        model,
        tool_names,
        continues: None,
        parallel_tool_calls,
        // Chat Completions has no thinking blocks to send back.
        thinking_required: true,
    })
}

/// The declared tool names, and whether `tools` was a non-empty array.
pub(super) fn decode_tools(tools: Option<&Value>) -> Result<(bool, Vec<String>), Malformed> {
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
pub(super) const SYSTEM_PARTS: &[&str] = &["text"];
pub(super) const USER_PARTS: &[&str] = &["text", "image_url", "input_audio", "file"];
pub(super) const ASSISTANT_PARTS: &[&str] = &["text", "refusal"];
pub(super) const TOOL_PARTS: &[&str] = &["text"];

pub(super) fn decode_message(value: &Value, path: &str) -> Result<Message, Malformed> {
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

pub(super) fn decode_assistant(
    message: &Map<String, Value>,
    path: &str,
) -> Result<Message, Malformed> {
    let mut blocks = decode_content(message.get("content"), path, ASSISTANT_PARTS, false)?;
    let calls = match message.get("tool_calls") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(calls)) => calls.as_slice(),
        Some(other) => {
            return Err(Malformed::wrong_type(
                format!("{path}.tool_calls"),
                "an array",
                other,
            ));
        }
    };
    for (k, call) in calls.iter().enumerate() {
        blocks.push(Block::ToolCall(decode_tool_call(
            call,
            &format!("{path}.tool_calls[{k}]"),
        )?));
    }
    Ok(Message::new(Role::Assistant, blocks))
}

pub(super) fn decode_tool_call(value: &Value, path: &str) -> Result<ToolCall, Malformed> {
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
        item_id: None,
    })
}

/// The blocks of a `content` value: a string, null, or an array of typed parts.
pub(super) fn decode_content(
    content: Option<&Value>,
    path: &str,
    allowed: &[&str],
    required: bool,
) -> Result<Vec<Block>, Malformed> {
    // Built only where it is read: a string content (the usual case) needs no path.
    let path = || format!("{path}.content");
    match content {
        None if required => Err(Malformed::new(path(), MalformedKind::Missing)),
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) if text.is_empty() => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![Block::Text { text: text.clone() }]),
        Some(Value::Array(parts)) => {
            let path = path();
            parts
                .iter()
                .enumerate()
                .map(|(i, part)| decode_part(part, &format!("{path}[{i}]"), allowed))
                .collect()
        }
        Some(other) => Err(Malformed::wrong_type(
            path(),
            "one of a string or array of objects",
            other,
        )),
    }
}

pub(super) fn decode_part(value: &Value, path: &str, allowed: &[&str]) -> Result<Block, Malformed> {
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

/// OpenAI names JSON types `an object`, `a string`.
pub(super) fn object<'a>(
    value: &'a Value,
    path: &str,
) -> Result<&'a Map<String, Value>, Malformed> {
    json::object(value, path, "an object")
}

pub(super) fn required<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Value, Malformed> {
    json::required(object, path, key)
}

pub(super) fn required_str<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, Malformed> {
    // The field's path is built for the error only: this runs for every field of every
    // message a request carries.
    let value = required(object, key, path)?;
    value
        .as_str()
        .ok_or_else(|| Malformed::wrong_type(field_path(path, key), "a string", value))
}

/// The function tools a request declares (`tools[].function`), in neutral terms; anything else
/// in `tools` is skipped.
pub(super) fn declared_tools(body: &Value) -> Vec<ToolDefinition> {
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .filter_map(|t| t.get("function"))
        .filter_map(|f| ToolDefinition::declared(f, "parameters"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::provider::openai_chat::test_support::*;
    use crate::provider::{Malformed, MalformedKind, Rejection};
    use crate::transcript::{Block, Role, ToolResult};

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
    fn a_content_or_calls_of_the_wrong_shape_name_their_own_path() {
        let cases = [
            (
                json!({"role": "user"}),
                "messages[1].content",
                MalformedKind::Missing,
            ),
            (
                json!({"role": "user", "content": 7}),
                "messages[1].content",
                MalformedKind::WrongType {
                    expected: "one of a string or array of objects".into(),
                    found: "a number".into(),
                },
            ),
            (
                json!({"role": "assistant", "content": null, "tool_calls": {}}),
                "messages[1].tool_calls",
                MalformedKind::WrongType {
                    expected: "an array".into(),
                    found: "an object".into(),
                },
            ),
            (
                json!({"role": "tool", "tool_call_id": 3, "content": "x"}),
                "messages[1].tool_call_id",
                MalformedKind::WrongType {
                    expected: "a string".into(),
                    found: "a number".into(),
                },
            ),
        ];
        for (message, path, problem) in cases {
            let body = request(json!([{"role": "user", "content": "hi"}, message]));
            assert_eq!(
                decode_request(&body).unwrap_err(),
                Malformed::new(path, problem),
                "{message}"
            );
        }
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
}
