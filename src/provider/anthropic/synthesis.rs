//! Turns `tooltape import` writes to complete a recording: a final text answer in the
//! envelope of a recorded `message`, and a first request for a recording that has only its
//! response.

use serde_json::{Map, Value, json};

use crate::transcript::ToolDefinition;

/// A `message` with one text block, `stop_reason: "end_turn"` and zero usage, with the
/// recorded body's model; its id is the recorded id with `-final`.
pub fn final_answer(like: &str, text: &str) -> Option<String> {
    let recorded: Value = serde_json::from_str(like).ok()?;
    let id = recorded
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("msg_tooltape");
    let model = recorded.get("model").cloned().unwrap_or(json!(""));
    let body = json!({
        "id": format!("{id}-final"), "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    });
    Some(body.to_string())
}

/// `{"model", "max_tokens": 1024, "messages": [user], "tools"?, "stream"?}` for the model of
/// `like`.
pub fn opening_request(
    like: &str,
    prompt: &str,
    tools: &[ToolDefinition],
    stream: bool,
) -> Option<Value> {
    let recorded: Value = serde_json::from_str(like).ok()?;
    let model = recorded.get("model")?.clone();
    let tools: Vec<Value> = tools
        .iter()
        .map(
            |t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}),
        )
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), model);
    body.insert("max_tokens".into(), json!(1024));
    body.insert(
        "messages".into(),
        json!([{"role": "user", "content": prompt}]),
    );
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    Some(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIKE: &str = r#"{"id":"msg_01A","type":"message","role":"assistant","model":"claude-sonnet-4","content":[{"type":"tool_use","id":"toolu_1","name":"add","input":{}}],"stop_reason":"tool_use"}"#;

    #[test]
    fn the_final_answer_decodes_as_text_in_the_recorded_envelope() {
        let body = final_answer(LIKE, "done").unwrap();
        let turn = super::super::decode_response_json(&body).unwrap();
        assert_eq!(turn.text(), "done");
        assert_eq!(turn.tool_calls().count(), 0);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["id"], "msg_01A-final");
        assert_eq!(v["model"], "claude-sonnet-4");
    }

    #[test]
    fn the_opening_request_declares_the_tools_and_decodes() {
        let tools = [ToolDefinition {
            name: "add".into(),
            description: String::new(),
            parameters: json!({"type": "object"}),
        }];
        let body = opening_request(LIKE, "hi", &tools, false).unwrap();
        let decoded = super::super::decode_request(&body).unwrap();
        assert!(!decoded.stream);
        assert_eq!(decoded.tool_names, ["add"]);
        assert_eq!(
            decoded.conversation.first_user_text().as_deref(),
            Some("hi")
        );
    }
}
