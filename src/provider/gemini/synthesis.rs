//! Turns `tooltape import` writes to complete a recording: a final text answer in the
//! envelope of a recorded response, and a first request for a recording that has only its
//! response.

use serde_json::{Map, Value, json};

use crate::transcript::ToolDefinition;

/// A response with one text part, `finishReason: "STOP"` and zero usage, with the recorded
/// body's `modelVersion`; its `responseId` is the recorded one with `-final`.
pub fn final_answer(like: &str, text: &str) -> Option<String> {
    let recorded: Value = serde_json::from_str(like).ok()?;
    let id = recorded
        .get("responseId")
        .and_then(Value::as_str)
        .unwrap_or("tooltape");
    let model = recorded.get("modelVersion").cloned().unwrap_or(json!(""));
    let body = json!({
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 0, "candidatesTokenCount": 0, "totalTokenCount": 0},
        "modelVersion": model,
        "responseId": format!("{id}-final"),
    });
    Some(body.to_string())
}

/// `{"contents": [user], "tools"?: [{"functionDeclarations": …}]}`; the model and the mode
/// are the path's, not the body's.
pub fn opening_request(
    _like: &str,
    prompt: &str,
    tools: &[ToolDefinition],
    _stream: bool,
) -> Option<Value> {
    let mut body = Map::new();
    body.insert(
        "contents".into(),
        json!([{"role": "user", "parts": [{"text": prompt}]}]),
    );
    if !tools.is_empty() {
        let declarations: Vec<Value> = tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "parameters": t.parameters}))
            .collect();
        body.insert(
            "tools".into(),
            json!([{ "functionDeclarations": declarations }]),
        );
    }
    Some(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Route;
    use crate::provider::gemini::test_support::FANTASY_RESPONSE;

    #[test]
    fn the_final_answer_decodes_as_text_in_the_recorded_envelope() {
        let body = final_answer(FANTASY_RESPONSE, "done").unwrap();
        let turn = super::super::decode_response_json(&body).unwrap();
        assert_eq!(turn.text(), "done");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["responseId"], "WwCzadOqH-mtz7IP8_Se8Ak-final");
        assert_eq!(v["modelVersion"], "gemini-2.5-flash");
    }

    #[test]
    fn the_opening_request_declares_the_tools_and_decodes() {
        let tools = [ToolDefinition {
            name: "add".into(),
            description: String::new(),
            parameters: json!({"type": "object"}),
        }];
        let body = opening_request(FANTASY_RESPONSE, "hi", &tools, true).unwrap();
        let decoded = super::super::decode_request(&Route::default(), &body).unwrap();
        assert_eq!(decoded.tool_names, ["add"]);
        assert_eq!(
            decoded.conversation.first_user_text().as_deref(),
            Some("hi")
        );
    }
}
