//! Requests checked the way the API checks them, and `input` decoded into a conversation.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::provider::json::{self, field_path};
use crate::provider::{DecodedRequest, Malformed, MalformedKind};
use crate::transcript::{
    Block, Conversation, Message, Role, Thinking, ToolCall, ToolDefinition, ToolResult,
};

/// The longest `call_id` the API accepts (protocol notes §B5).
const MAX_CALL_ID_LEN: usize = 64;

/// `body` with every `item_reference` input item whose `id` `served` knows replaced by that
/// item (a stored item the API looks up: with `store` on, clients such as the Vercel AI SDK
/// send the model's earlier items by reference); `None` when no reference resolves. A
/// reference to an id no served turn has stays, and is judged as an item of its own.
pub fn resolve_references(body: &Value, served: &dyn Fn(&str) -> Option<Value>) -> Option<Value> {
    let items = body.get("input")?.as_array()?;
    let reference = |item: &Value| {
        (item.get("type").and_then(Value::as_str) == Some("item_reference"))
            .then(|| item.get("id").and_then(Value::as_str))
            .flatten()
            .and_then(served)
    };
    let first = items.iter().position(|item| reference(item).is_some())?;
    let items: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            (i >= first)
                .then(|| reference(item))
                .flatten()
                .unwrap_or_else(|| item.clone())
        })
        .collect();
    let mut body = body.clone();
    body.as_object_mut()?
        .insert("input".into(), Value::Array(items));
    Some(body)
}

/// Decodes a request body.
///
/// The model's consecutive items (reasoning, assistant messages, calls and other tool calls)
/// become one assistant message; each `function_call_output` a `tool` message; each user,
/// system or developer message one message. Pairing is not judged here.
///
/// # Errors
/// The body is not an object; `model` is missing; `input` is neither a string nor an array;
/// an item lacks a field or has one of the wrong type (above all `arguments` that is not a
/// string), has an empty or too long `call_id`, or repeats the `id` of an earlier item.
pub fn decode_request(body: &Value) -> Result<DecodedRequest, Malformed> {
    let Value::Object(body) = body else {
        return Err(Malformed::wrong_type("", "an object", body));
    };
    let model = match body.get("model") {
        None | Some(Value::Null) => return Err(Malformed::new("model", MalformedKind::Missing)),
        Some(Value::String(model)) => model.clone(),
        Some(other) => return Err(Malformed::wrong_type("model", "a string", other)),
    };
    let mut messages: Vec<Message> = Vec::new();
    match body.get("input") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => messages.push(Message::new(
            Role::User,
            vec![Block::Text { text: text.clone() }],
        )),
        Some(Value::Array(items)) => {
            let mut ids = HashSet::new();
            for (i, item) in items.iter().enumerate() {
                let path = format!("input[{i}]");
                let (role, block) = decode_item(item, &path)?;
                if let Some(id) = item.get("id").and_then(Value::as_str)
                    && !ids.insert(id)
                {
                    return Err(Malformed::new(
                        "input",
                        MalformedKind::DuplicateItem { id: id.to_owned() },
                    ));
                }
                match (role, messages.last_mut()) {
                    (Role::Assistant, Some(last)) if last.role == Role::Assistant => {
                        last.merge(block);
                    }
                    _ => messages.push(Message::new(role, block)),
                }
            }
        }
        Some(other) => {
            return Err(Malformed::wrong_type(
                "input",
                "one of a string or array of input items",
                other,
            ));
        }
    }
    let stream = match body.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(stream)) => *stream,
        Some(other) => return Err(Malformed::wrong_type("stream", "a boolean", other)),
    };
    let tool_names = decode_tools(body.get("tools"))?;
    let continues = match body.get("previous_response_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(other) => {
            return Err(Malformed::wrong_type(
                "previous_response_id",
                "a string",
                other,
            ));
        }
    };
    let parallel_tool_calls =
        body.get("parallel_tool_calls").and_then(Value::as_bool) != Some(false);
    Ok(DecodedRequest {
        conversation: Conversation { messages },
        stream,
        model,
        tool_names,
        continues,
        parallel_tool_calls,
        // Reasoning is the model's, not a request switch: the API wants a served reasoning
        // item back with the call it preceded whatever the request sets.
        thinking_required: true,
    })
}

/// The names of the declared tools: flat function tools, and hosted tools that carry a name.
fn decode_tools(tools: Option<&Value>) -> Result<Vec<String>, Malformed> {
    let tools = match tools {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(tools)) => tools,
        Some(other) => return Err(Malformed::wrong_type("tools", "an array", other)),
    };
    let mut names = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let path = format!("tools[{i}]");
        let tool = object(tool, &path)?;
        let kind = required_str(tool, "type", &path)?;
        if kind == "function" {
            names.push(required_str(tool, "name", &path)?.to_owned());
        } else if let Some(name) = tool.get("name").and_then(Value::as_str) {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// One input item: the role of the message it belongs to and its blocks.
fn decode_item(value: &Value, path: &str) -> Result<(Role, Vec<Block>), Malformed> {
    let item = object(value, path)?;
    let kind = match json::optional(item, "type") {
        Some(kind) => json::string(kind, &field_path(path, "type"), "a string")?,
        None => "message",
    };
    match kind {
        "message" => decode_message(item, path),
        "function_call" => {
            let id = call_id(item, path)?;
            let name = required_str(item, "name", path)?.to_owned();
            let arguments = required_str(item, "arguments", path)?.to_owned();
            let item_id = optional_str(item, "id", path)?;
            Ok((
                Role::Assistant,
                vec![Block::ToolCall(ToolCall {
                    id,
                    name,
                    arguments,
                    item_id,
                })],
            ))
        }
        "function_call_output" => {
            let id = call_id(item, path)?;
            let output = json::required(item, path, "output")?;
            if !matches!(output, Value::String(_) | Value::Array(_)) {
                return Err(Malformed::wrong_type(
                    field_path(path, "output"),
                    "one of a string or array of input content parts",
                    output,
                ));
            }
            Ok((
                Role::Tool,
                vec![Block::ToolResult(ToolResult {
                    call_id: id,
                    content: output.clone(),
                    is_error: false,
                })],
            ))
        }
        "reasoning" => {
            let summary = match json::optional(item, "summary") {
                None => String::new(),
                Some(v) => json::array(v, &field_path(path, "summary"), "an array")?
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n\n"),
            };
            Ok((
                Role::Assistant,
                vec![Block::Thinking(Thinking {
                    kind: "reasoning".to_owned(),
                    text: summary,
                    signature: optional_str(item, "encrypted_content", path)?,
                    id: optional_str(item, "id", path)?,
                })],
            ))
        }
        other => Ok((
            Role::Assistant,
            vec![Block::Other {
                kind: other.to_owned(),
            }],
        )),
    }
}

fn decode_message(item: &Map<String, Value>, path: &str) -> Result<(Role, Vec<Block>), Malformed> {
    let role = match required_str(item, "role", path)? {
        "user" => Role::User,
        "system" | "developer" => Role::System,
        "assistant" => Role::Assistant,
        other => {
            return Err(Malformed::new(
                field_path(path, "role"),
                MalformedKind::Invalid {
                    detail: format!(
                        "'{other}' is not a role tooltape accepts; supported values are \
                         'user', 'system', 'developer' and 'assistant'."
                    ),
                },
            ));
        }
    };
    let content_path = field_path(path, "content");
    let blocks = match json::required(item, path, "content")? {
        Value::String(text) if text.is_empty() => Vec::new(),
        Value::String(text) => vec![Block::Text { text: text.clone() }],
        Value::Array(parts) => parts
            .iter()
            .enumerate()
            .map(|(i, part)| decode_part(part, &format!("{content_path}[{i}]")))
            .collect::<Result<_, _>>()?,
        other => {
            return Err(Malformed::wrong_type(
                content_path,
                "one of a string or array of input content parts",
                other,
            ));
        }
    };
    Ok((role, blocks))
}

fn decode_part(value: &Value, path: &str) -> Result<Block, Malformed> {
    let part = object(value, path)?;
    let kind = required_str(part, "type", path)?;
    Ok(match kind {
        "input_text" | "output_text" | "text" => Block::Text {
            text: required_str(part, "text", path)?.to_owned(),
        },
        other => Block::Other {
            kind: other.to_owned(),
        },
    })
}

/// A `call_id`: a string of 1 to 64 characters.
fn call_id(item: &Map<String, Value>, path: &str) -> Result<String, Malformed> {
    let id = required_str(item, "call_id", path)?;
    let at = field_path(path, "call_id");
    let length = id.chars().count();
    if length == 0 {
        return Err(Malformed::new(
            at,
            MalformedKind::Empty {
                what: "string".to_owned(),
            },
        ));
    }
    if length > MAX_CALL_ID_LEN {
        return Err(Malformed::new(
            at,
            MalformedKind::TooLong {
                max: MAX_CALL_ID_LEN,
                found: length,
            },
        ));
    }
    Ok(id.to_owned())
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Malformed> {
    json::object(value, path, "an object")
}

fn required_str<'a>(
    item: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, Malformed> {
    json::string(
        json::required(item, path, key)?,
        &field_path(path, key),
        "a string",
    )
}

fn optional_str(
    item: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, Malformed> {
    json::optional(item, key)
        .map(|v| json::string(v, &field_path(path, key), "a string").map(str::to_owned))
        .transpose()
}

/// The flat function tools a request declares, in neutral terms; hosted tools are skipped.
pub(super) fn declared_tools(body: &Value) -> Vec<ToolDefinition> {
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .filter_map(|t| ToolDefinition::declared(t, "parameters"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::Rejection;
    use crate::provider::openai_responses::render_rejection;

    fn fc(call: &str, item: Option<&str>) -> Value {
        let mut v =
            json!({"type": "function_call", "call_id": call, "name": "add", "arguments": "{}"});
        if let Some(item) = item {
            v["id"] = json!(item);
        }
        v
    }

    #[test]
    fn a_stateless_follow_up_groups_the_model_items_into_one_assistant_message() {
        let body = json!({"model": "gpt-5", "input": [
            {"role": "user", "content": "go"},
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "enc"},
            fc("call_a", Some("fc_a")),
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "and"}]},
            fc("call_b", None),
            {"type": "function_call_output", "call_id": "call_a", "output": "5"},
            {"type": "function_call_output", "call_id": "call_b", "output": [{"type": "input_text", "text": "6"}]}],
            "tools": [{"type": "function", "name": "add", "parameters": {}}]});
        let decoded = decode_request(&body).unwrap();
        let m = &decoded.conversation.messages;
        assert_eq!(
            m.iter().map(|m| m.role).collect::<Vec<_>>(),
            vec![Role::User, Role::Assistant, Role::Tool, Role::Tool]
        );
        assert_eq!(m[1].merged_from(), 4);
        let calls: Vec<&ToolCall> = m[1].tool_calls().collect();
        assert_eq!(calls[0].id, "call_a");
        assert_eq!(calls[0].item_id.as_deref(), Some("fc_a"));
        assert_eq!(calls[1].item_id, None);
        let thinking: Vec<&Thinking> = m[1].thinking().collect();
        assert_eq!(thinking[0].id.as_deref(), Some("rs_1"));
        assert_eq!(thinking[0].signature.as_deref(), Some("enc"));
        assert_eq!(decoded.tool_names, ["add"]);
        assert_eq!(decoded.continues, None);
    }

    #[test]
    fn a_string_input_is_one_user_message_and_previous_response_id_continues() {
        let decoded =
            decode_request(&json!({"model": "m", "input": "hi", "previous_response_id": "resp_1"}))
                .unwrap();
        assert_eq!(
            decoded.conversation.first_user_text().as_deref(),
            Some("hi")
        );
        assert_eq!(decoded.continues.as_deref(), Some("resp_1"));
    }

    #[test]
    fn an_empty_call_id_gets_the_api_text() {
        let body = json!({"model": "m", "input": [
            {"role": "user", "content": "go"}, fc("call_a", None),
            {"type": "function_call_output", "call_id": "call_a", "output": "1"},
            {"role": "user", "content": "more"},
            {"type": "function_call_output", "call_id": "", "output": "2"}]});
        let err = decode_request(&body).unwrap_err();
        assert_eq!(
            render_rejection(&Rejection::Malformed(err)).body,
            r#"{"error":{"message":"Invalid 'input[4].call_id': empty string. Expected a string with minimum length 1, but got an empty string instead.","type":"invalid_request_error","param":"input[4].call_id","code":"empty_string"}}"#
        );
    }

    #[test]
    fn an_item_id_sent_twice_gets_the_api_text() {
        let body = json!({"model": "m", "input": [fc("call_a", Some("fc_1")), fc("call_a", Some("fc_1"))]});
        let err = decode_request(&body).unwrap_err();
        assert_eq!(
            render_rejection(&Rejection::Malformed(err)).body,
            r#"{"error":{"message":"Duplicate item found with id fc_1. Remove duplicate items from your input and try again.","type":"invalid_request_error","param":"input","code":null}}"#
        );
    }

    #[test]
    fn arguments_replayed_as_an_object_are_a_wrong_type() {
        let body = json!({"model": "m", "input": [
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": {"a": 1}}]});
        assert_eq!(
            decode_request(&body).unwrap_err(),
            Malformed::wrong_type("input[0].arguments", "a string", &json!({}))
        );
    }

    #[test]
    fn an_output_that_is_an_object_is_a_wrong_type() {
        let body = json!({"model": "m", "input": [
            {"type": "function_call_output", "call_id": "c", "output": {"a": 1}}]});
        assert_eq!(decode_request(&body).unwrap_err().path, "input[0].output");
    }
}
