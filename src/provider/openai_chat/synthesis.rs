//! Turns `tooltape import` writes to complete a recording: a final text answer in the
//! envelope of a recorded `chat.completion`, and a first request for a recording that has
//! only its response.

use serde_json::{Map, Value, json};

use crate::transcript::ToolDefinition;

/// A `chat.completion` with one text choice, `finish_reason: "stop"` and zero usage, carrying
/// the recorded body's model, fingerprint and tier; its id is the recorded id with `-final`.
pub fn final_answer(like: &str, text: &str) -> Option<String> {
    let recorded: Value = serde_json::from_str(like).ok()?;
    let recorded = recorded.as_object()?;
    let mut body = Map::new();
    let id = recorded
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("chatcmpl-tooltape");
    body.insert("id".into(), json!(format!("{id}-final")));
    body.insert("object".into(), json!("chat.completion"));
    let created = recorded.get("created").and_then(Value::as_u64).unwrap_or(0);
    body.insert("created".into(), json!(created + 1));
    body.insert(
        "model".into(),
        recorded.get("model").cloned().unwrap_or(json!("")),
    );
    body.insert(
        "choices".into(),
        json!([{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                "logprobs": null, "finish_reason": "stop"}]),
    );
    body.insert(
        "usage".into(),
        json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}),
    );
    for key in ["service_tier", "system_fingerprint"] {
        if let Some(v) = recorded.get(key) {
            body.insert(key.into(), v.clone());
        }
    }
    Some(Value::Object(body).to_string())
}

/// `{"model", "messages": [user], "tools": [function…], "stream"?}` for the model of `like`.
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
        .map(|t| {
            json!({"type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters}})
        })
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), model);
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

    const LIKE: &str = r#"{"id":"chatcmpl-A","object":"chat.completion","created":10,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"add","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"system_fingerprint":"fp_1"}"#;

    #[test]
    fn the_final_answer_decodes_as_text_in_the_recorded_envelope() {
        let body = final_answer(LIKE, "done").unwrap();
        let turn = super::super::decode_response_json(&body).unwrap();
        assert_eq!(turn.text(), "done");
        assert_eq!(turn.tool_calls().count(), 0);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["id"], "chatcmpl-A-final");
        assert_eq!(v["model"], "gpt-4o");
        assert_eq!(v["system_fingerprint"], "fp_1");
    }

    #[test]
    fn the_opening_request_declares_the_tools_and_decodes() {
        let tools = [ToolDefinition {
            name: "add".into(),
            description: String::new(),
            parameters: json!({"type": "object"}),
        }];
        let body = opening_request(LIKE, "hi", &tools, true).unwrap();
        let decoded = super::super::decode_request(&body).unwrap();
        assert!(decoded.stream);
        assert_eq!(decoded.model, "gpt-4o");
        assert_eq!(decoded.tool_names, ["add"]);
        assert_eq!(
            decoded.conversation.first_user_text().as_deref(),
            Some("hi")
        );
    }
}
