//! Turns `tooltape import` writes to complete a recording: a final text answer in the
//! envelope of a recorded `response`, and a first request for a recording that has only its
//! response.

use serde_json::{Map, Value, json};

use crate::transcript::ToolDefinition;

/// A completed `response` with one assistant message and zero usage, carrying the recorded
/// body's model and settings; its ids are the recorded id with `final`.
pub fn final_answer(like: &str, text: &str) -> Option<String> {
    let recorded: Value = serde_json::from_str(like).ok()?;
    let recorded = recorded.as_object()?;
    let id = recorded
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("resp_tooltape");
    let mut body = Map::new();
    body.insert("id".into(), json!(format!("{id}final")));
    body.insert("object".into(), json!("response"));
    let created = recorded
        .get("created_at")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    body.insert("created_at".into(), json!(created + 1));
    body.insert("status".into(), json!("completed"));
    body.insert(
        "model".into(),
        recorded.get("model").cloned().unwrap_or(json!("")),
    );
    let message_id = format!("msg_{}final", id.trim_start_matches("resp_"));
    body.insert(
        "output".into(),
        json!([{"type": "message", "id": message_id, "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}]}]),
    );
    for key in ["parallel_tool_calls", "store", "tool_choice", "tools"] {
        if let Some(v) = recorded.get(key) {
            body.insert(key.into(), v.clone());
        }
    }
    body.insert(
        "usage".into(),
        json!({"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}),
    );
    Some(Value::Object(body).to_string())
}

/// `{"model", "input": [user], "tools": [flat function tools], "stream"?}` for the model of
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
        .map(|t| {
            json!({"type": "function", "name": t.name, "description": t.description,
                   "parameters": t.parameters})
        })
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), model);
    body.insert("input".into(), json!([{"role": "user", "content": prompt}]));
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

    const LIKE: &str = r#"{"id":"resp_A","object":"response","created_at":10,"status":"completed","model":"gpt-5","output":[{"type":"function_call","id":"fc_1","call_id":"call_1","name":"add","arguments":"{}"}],"parallel_tool_calls":true}"#;

    #[test]
    fn the_final_answer_decodes_as_text_in_the_recorded_envelope() {
        let body = final_answer(LIKE, "done").unwrap();
        let turn = super::super::decode_response_json(&body).unwrap();
        assert_eq!(turn.text(), "done");
        assert_eq!(turn.tool_calls().count(), 0);
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["id"], "resp_Afinal");
        assert_eq!(v["model"], "gpt-5");
    }

    #[test]
    fn the_opening_request_declares_flat_tools_and_decodes() {
        let tools = [ToolDefinition {
            name: "add".into(),
            description: String::new(),
            parameters: json!({"type": "object"}),
        }];
        let body = opening_request(LIKE, "hi", &tools, true).unwrap();
        assert_eq!(body["tools"][0]["name"], "add");
        let decoded = super::super::decode_request(&body).unwrap();
        assert!(decoded.stream);
        assert_eq!(decoded.tool_names, ["add"]);
    }
}
