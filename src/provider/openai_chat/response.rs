//! A `chat.completion` body into an assistant turn.

use serde::Deserialize;
use serde_json::Value;

use crate::provider::ResponseError;
use crate::provider::json::path_error;
use crate::transcript::{AssistantTurn, Block, StopReason, ToolCall};

/// A `chat.completion` body; only the fields the transcript needs.
#[derive(Debug, Deserialize)]
pub(super) struct Completion {
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    choices: Option<Vec<Choice>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Choice {
    message: ResponseMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ResponseMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ResponseToolCall>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ResponseToolCall {
    id: String,
    #[serde(rename = "type")]
    kind: CallKind,
    function: FunctionCall,
}

/// The call types this codec models; `custom` tool calls (free-form input) are refused by name.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum CallKind {
    Function,
}

#[derive(Debug, Deserialize)]
pub(super) struct FunctionCall {
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
            item_id: None,
        }));
    }
    Ok(AssistantTurn {
        blocks,
        stop: stop_reason(finish_reason.as_deref()),
    })
}

pub(super) fn stop_reason(finish_reason: Option<&str>) -> StopReason {
    match finish_reason {
        Some("tool_calls") => StopReason::ToolUse,
        Some("stop") => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        _ => StopReason::Other,
    }
}

/// The `message` of an API error object, or the whole value as JSON.
pub(super) fn error_text(error: &Value) -> String {
    match error.get("message").and_then(Value::as_str) {
        Some(message) => format!("`{message}`"),
        None => format!("`{error}`"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::openai_chat::test_support::*;
    use crate::transcript::{Block, StopReason};

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
}
