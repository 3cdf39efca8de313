//! Requests checked the way the API checks them, and decoded into a conversation.

use serde_json::{Map, Value};

use super::wire::*;
use crate::provider::json::{self, optional, required};
use crate::provider::{DecodedRequest, Malformed, MalformedKind};
use crate::transcript::{
    Block, Conversation, Message, Role, Thinking, ToolCall, ToolDefinition, ToolResult,
};

/// The API's answer to a history with `tool_use` or `tool_result` blocks and no `tools`.
const TOOL_BLOCKS_WITHOUT_TOOLS: &str =
    "Requests which include `tool_use` or `tool_result` blocks must define tools.";

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
        push_merged(&mut messages, role, blocks);
    }
    let continues = match optional(body, "thread") {
        None => None,
        Some(thread) => {
            let thread = object(thread, "thread")?;
            match string(required(thread, "thread", "type")?, "thread.type")? {
                "continue" => Some(
                    string(
                        required(thread, "thread", "previous_message_id")?,
                        "thread.previous_message_id",
                    )?
                    .to_owned(),
                ),
                _ => None,
            }
        }
    };
    if has_tool_blocks(&messages) && tool_names.is_empty() && continues.is_none() {
        return Err(Malformed::new(
            "",
            MalformedKind::Invalid {
                detail: TOOL_BLOCKS_WITHOUT_TOOLS.to_owned(),
            },
        ));
    }
    Ok(DecodedRequest {
        conversation: Conversation { messages },
        stream,
        model,
        tool_names,
        continues,
        parallel_tool_calls: parallel_tool_calls(optional(body, "tool_choice")),
        thinking_required: thinking_required(optional(body, "thinking")),
    })
}

/// Adds a wire message, merged into the last one when it has the same role (as the API
/// merges consecutive messages before it validates).
pub(super) fn push_merged(messages: &mut Vec<Message>, role: Role, blocks: Vec<Block>) {
    match messages.last_mut() {
        Some(last) if last.role == role => last.merge(blocks),
        _ => messages.push(Message::new(role, blocks)),
    }
}

/// Whether the history has `tool_use` or `tool_result` blocks (then it must declare tools).
pub(super) fn has_tool_blocks(messages: &[Message]) -> bool {
    messages.iter().any(|m| {
        m.blocks
            .iter()
            .any(|b| matches!(b, Block::ToolCall(_) | Block::ToolResult(_)))
    })
}

/// Whether `tool_choice` (absent: `None`) leaves parallel calls on.
pub(super) fn parallel_tool_calls(tool_choice: Option<&Value>) -> bool {
    tool_choice
        .and_then(|c| c.get("disable_parallel_tool_use"))
        .and_then(Value::as_bool)
        != Some(true)
}

/// Whether `thinking` (absent: `None`) turns thinking on, so served thinking blocks must
/// come back.
pub(super) fn thinking_required(thinking: Option<&Value>) -> bool {
    thinking
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|kind| kind != "disabled")
}

pub(super) fn request_message(wire: &Value, path: &str) -> Result<(Role, Vec<Block>), Malformed> {
    let message = object(wire, path)?;
    let role = required(message, path, "role")?;
    let role = match role.as_str() {
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        None => {
            return Err(Malformed::wrong_type(
                format!("{path}.role"),
                "a valid string",
                role,
            ));
        }
        Some(_) => {
            return Err(Malformed::new(
                format!("{path}.role"),
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

pub(super) fn request_block(block: &Value, path: &str) -> Result<Block, Malformed> {
    let fields = object(block, path)?;
    let text_of = |key: &str| -> Result<String, Malformed> {
        let value = required(fields, path, key)?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Malformed::wrong_type(format!("{path}.{key}"), "a valid string", value))
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
            id: None,
        }),
        REDACTED_THINKING => Block::Thinking(Thinking {
            kind,
            text: text_of("data")?,
            signature: None,
            id: None,
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
                item_id: None,
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

/// Anthropic's validator names JSON types `a valid dictionary`, `a valid list`, `a valid string`.
pub(super) fn object<'v>(v: &'v Value, path: &str) -> Result<&'v Map<String, Value>, Malformed> {
    json::object(v, path, "a valid dictionary")
}

pub(super) fn array<'v>(v: &'v Value, path: &str) -> Result<&'v Vec<Value>, Malformed> {
    json::array(v, path, "a valid list")
}

pub(super) fn string<'v>(v: &'v Value, path: &str) -> Result<&'v str, Malformed> {
    json::string(v, path, "a valid string")
}

/// The client tools a request declares (`name`, `description`, `input_schema`), in neutral
/// terms; server tools, which have no `input_schema`, are skipped.
pub(super) fn declared_tools(body: &Value) -> Vec<ToolDefinition> {
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter(|t| t.get("input_schema").is_some())
        .filter_map(|t| ToolDefinition::declared(t, "input_schema"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::provider::anthropic::*;

    use crate::provider::{Malformed, MalformedKind, Rejection};
    use crate::transcript::{Block, Role, ToolResult};

    use super::*;
    use crate::provider::anthropic::test_support::*;

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
        let body = json!({"model": "m", "max_tokens": 10, "stream": true,
            "tools": [{"name": "f", "input_schema": {"type": "object"}}], "messages": [
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
    fn a_history_with_tool_blocks_but_no_tools_is_refused_with_the_apis_text() {
        let body = json!({"model": "m", "max_tokens": 10, "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a"}]},
        ]});
        let err = decode_request(&body).unwrap_err();
        assert_eq!(
            render_rejection(&Rejection::Malformed(err)).body,
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"Requests which include `tool_use` or `tool_result` blocks must define tools."},"request_id":"req_011tooltape0replay000000"}"#
        );
        let mut with_tools = body.clone();
        with_tools["tools"] = json!([{"name": "f", "input_schema": {"type": "object"}}]);
        assert!(decode_request(&with_tools).is_ok());
    }

    #[test]
    fn a_tool_result_without_content_has_null_content() {
        let body = json!({"model": "m", "max_tokens": 1, "tools": [{"name": "t", "input_schema": {"type": "object"}}], "messages": [{"role": "user", "content": [
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
}
