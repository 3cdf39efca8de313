//! A `response` object into an assistant turn.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::provider::ResponseError;
use crate::provider::json::read;
use crate::transcript::{AssistantTurn, Block, StopReason, Thinking, ToolCall};

/// A `response` object; only the fields the transcript needs.
#[derive(Debug, Deserialize)]
pub(super) struct WireResponse {
    #[serde(default)]
    pub(super) object: Option<String>,
    #[serde(default)]
    pub(super) status: Option<String>,
    #[serde(default)]
    pub(super) error: Option<Value>,
    #[serde(default)]
    pub(super) incomplete_details: Option<Value>,
    #[serde(default)]
    pub(super) output: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
struct Tagged {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Deserialize)]
struct FunctionCallItem {
    #[serde(default)]
    id: Option<String>,
    call_id: String,
    name: String,
    arguments: String,
}

#[derive(Debug, Deserialize)]
struct ReasoningItem {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    summary: Vec<SummaryPart>,
    #[serde(default)]
    encrypted_content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SummaryPart {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MessageItem {
    #[serde(default)]
    content: Vec<ContentPart>,
}

#[derive(Debug, Deserialize)]
struct ContentPart {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

/// Decodes a `response` JSON body: each output item in order becomes a block.
///
/// # Errors
/// The body is not JSON, is an error reply or a failed response, or an item lacks a field
/// the transcript needs; the error names the JSON path (`output[1].arguments`).
pub fn decode_response_json(body: &str) -> Result<AssistantTurn, ResponseError> {
    let response: WireResponse = read(body, "")?;
    turn_of(response, "")
}

/// The turn a decoded `response` object says; `at` prefixes paths (`frame 9: response`).
pub(super) fn turn_of(response: WireResponse, at: &str) -> Result<AssistantTurn, ResponseError> {
    let WireResponse {
        object,
        status,
        error,
        incomplete_details,
        output,
    } = response;
    let path = |p: &str| {
        if at.is_empty() {
            p.to_owned()
        } else {
            format!("{at}.{p}")
        }
    };
    if let Some(error) = error {
        let message = error.get("message").and_then(Value::as_str).unwrap_or("");
        return Err(ResponseError::new(
            path("error"),
            format!("the response failed: `{message}`"),
        ));
    }
    if let Some(object) = object.filter(|o| o != "response") {
        return Err(ResponseError::new(
            path("object"),
            format!("expected `response`, found `{object}`"),
        ));
    }
    let Some(output) = output else {
        return Err(ResponseError::new(
            path("output"),
            "the body has no `output`: not a `response` object",
        ));
    };
    let blocks = output
        .iter()
        .enumerate()
        .map(|(i, item)| item_block(item, &path(&format!("output[{i}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    let stop = stop_reason(status.as_deref(), incomplete_details.as_ref(), &blocks);
    Ok(AssistantTurn { blocks, stop })
}

/// No `finish_reason` in this API: a completed response with calls asks for tools.
pub(super) fn stop_reason(
    status: Option<&str>,
    incomplete: Option<&Value>,
    blocks: &[Block],
) -> StopReason {
    match status {
        Some("completed") if blocks.iter().any(|b| matches!(b, Block::ToolCall(_))) => {
            StopReason::ToolUse
        }
        Some("completed") => StopReason::EndTurn,
        Some("incomplete")
            if incomplete
                .and_then(|d| d.get("reason"))
                .and_then(Value::as_str)
                == Some("max_output_tokens") =>
        {
            StopReason::MaxTokens
        }
        _ => StopReason::Other,
    }
}

fn typed<T: DeserializeOwned>(item: &Value, at: &str) -> Result<T, ResponseError> {
    serde_path_to_error::deserialize(item).map_err(|e| {
        let inner = e.path().to_string();
        let path = if inner == "." {
            at.to_owned()
        } else {
            format!("{at}.{inner}")
        };
        ResponseError::new(path, e.into_inner().to_string())
    })
}

/// One output item as a block; unknown item types are kept by kind.
pub(super) fn item_block(item: &Value, at: &str) -> Result<Block, ResponseError> {
    let Tagged { kind } = typed(item, at)?;
    Ok(match kind.as_str() {
        "function_call" => {
            let FunctionCallItem {
                id,
                call_id,
                name,
                arguments,
            } = typed(item, at)?;
            Block::ToolCall(ToolCall {
                id: call_id,
                name,
                arguments,
                item_id: id,
            })
        }
        "reasoning" => {
            let ReasoningItem {
                id,
                summary,
                encrypted_content,
            } = typed(item, at)?;
            Block::Thinking(Thinking {
                kind: "reasoning".to_owned(),
                text: summary
                    .into_iter()
                    .filter_map(|p| p.text)
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                signature: encrypted_content,
                id,
            })
        }
        "message" => {
            let MessageItem { content } = typed(item, at)?;
            Block::Text {
                text: content
                    .into_iter()
                    .filter(|p| p.kind == "output_text")
                    .filter_map(|p| p.text)
                    .collect(),
            }
        }
        _ => Block::Other { kind },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn two_function_call_items_decode_with_call_ids_and_item_ids() {
        let body = json!({"id": "resp_1", "object": "response", "status": "completed",
            "output": [
                {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "think"}], "encrypted_content": "enc"},
                {"type": "function_call", "id": "fc_1", "call_id": "call_a", "name": "add", "arguments": "{\"a\":1}", "status": "completed"},
                {"type": "function_call", "id": "fc_2", "call_id": "call_b", "name": "mul", "arguments": "{}", "status": "completed"}]});
        let turn = decode_response_json(&body.to_string()).unwrap();
        assert_eq!(turn.stop, StopReason::ToolUse);
        let calls: Vec<&ToolCall> = turn.tool_calls().collect();
        assert_eq!(
            (calls[0].id.as_str(), calls[0].item_id.as_deref()),
            ("call_a", Some("fc_1"))
        );
        assert_eq!(calls[1].name, "mul");
        let thinking: Vec<&Thinking> = turn.thinking().collect();
        assert_eq!(thinking[0].text, "think");
        assert_eq!(thinking[0].signature.as_deref(), Some("enc"));
    }

    #[test]
    fn a_text_answer_ends_the_turn_and_truncation_is_max_tokens() {
        let body = json!({"object": "response", "status": "completed", "output": [
            {"type": "message", "id": "msg_1", "role": "assistant",
             "content": [{"type": "output_text", "text": "5", "annotations": []}]}]});
        let turn = decode_response_json(&body.to_string()).unwrap();
        assert_eq!(
            (turn.text().as_str(), turn.stop),
            ("5", StopReason::EndTurn)
        );
        let cut = json!({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": []});
        assert_eq!(
            decode_response_json(&cut.to_string()).unwrap().stop,
            StopReason::MaxTokens
        );
    }

    #[test]
    fn arguments_of_the_wrong_type_name_their_path() {
        let body = json!({"status": "completed", "output": [
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": {"a": 1}}]});
        let err = decode_response_json(&body.to_string()).unwrap_err();
        assert_eq!(err.at, "output[0].arguments");
    }

    #[test]
    fn an_error_reply_is_refused() {
        let err = decode_response_json(
            r#"{"error":{"message":"Rate limited","type":"tokens","param":null,"code":null}}"#,
        )
        .unwrap_err();
        assert_eq!(err.at, "error");
    }
}
