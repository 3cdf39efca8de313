//! The follow-up contents a correct loop sends.

use serde_json::{Map, Value, json};

use super::wire::THOUGHT_SIGNATURE;
use crate::transcript::{
    AssistantTurn, Block, Thinking, ToolCall, ToolResult, is_positional_call_id,
};

/// The `model` content that echoes a served turn: every part as served, each signature on the
/// part it came with. Calls carry no `id` unless the provider gave one; thoughts are not sent
/// back (their text is not kept, and the API does not need it).
#[must_use]
pub fn encode_assistant(turn: &AssistantTurn) -> Value {
    let mut parts = Vec::new();
    let mut signature: Option<String> = None;
    for block in &turn.blocks {
        let part = match block {
            Block::Thinking(Thinking {
                kind,
                signature: Some(s),
                ..
            }) if kind == THOUGHT_SIGNATURE => {
                signature = Some(s.clone());
                continue;
            }
            Block::Text { text } => json!({ "text": text }),
            Block::ToolCall(call) => function_call(call),
            Block::Thinking(_) | Block::ToolResult(_) | Block::Other { .. } => continue,
        };
        parts.push(signed(part, signature.take()));
    }
    if let Some(s) = signature {
        parts.push(signed(json!({"text": ""}), Some(s)));
    }
    json!({"role": "model", "parts": parts})
}

fn signed(mut part: Value, signature: Option<String>) -> Value {
    if let (Some(s), Some(fields)) = (signature, part.as_object_mut()) {
        fields.insert("thoughtSignature".into(), json!(s));
    }
    part
}

fn function_call(call: &ToolCall) -> Value {
    let args = call
        .arguments_value()
        .unwrap_or_else(|| Value::String(call.arguments.clone()));
    let mut fields = Map::new();
    if !call.id.is_empty() && !is_positional_call_id(&call.id) {
        fields.insert("id".into(), json!(call.id));
    }
    fields.insert("name".into(), json!(call.name));
    fields.insert("args".into(), args);
    json!({ "functionCall": fields })
}

/// One `user` content with one `functionResponse` part per result, in the order given, each
/// named after its call's tool (`calls` holds them); no content for no results. A result that
/// is not an object is wrapped as the API's reference suggests: `{"result": …}`, or
/// `{"error": …}` for a failure (a function response has no error flag).
#[must_use]
pub fn encode_answers(calls: &[ToolCall], results: &[ToolResult]) -> Vec<Value> {
    if results.is_empty() {
        return Vec::new();
    }
    let parts: Vec<Value> = results
        .iter()
        .map(|r| {
            let call = calls.iter().find(|c| c.id == r.call_id);
            let name = call.map_or(r.call_id.as_str(), |c| c.name.as_str());
            function_response(&r.call_id, name, r)
        })
        .collect();
    vec![json!({"role": "user", "parts": parts})]
}

/// As [`encode_answers`] without the calls: each result is named after its call id (right for
/// a result that names no call; a loop always has the calls).
#[must_use]
pub fn encode_results(results: &[ToolResult]) -> Vec<Value> {
    encode_answers(&[], results)
}

fn function_response(call_id: &str, name: &str, result: &ToolResult) -> Value {
    let response = match &result.content {
        Value::Object(_) => result.content.clone(),
        other if result.is_error => json!({ "error": crate::transcript::content_text(other) }),
        other => json!({ "result": other }),
    };
    let mut fields = Map::new();
    if !call_id.is_empty() && !is_positional_call_id(call_id) && call_id != name {
        fields.insert("id".into(), json!(call_id));
    }
    fields.insert("name".into(), json!(name));
    fields.insert("response".into(), response);
    json!({ "functionResponse": fields })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::Route;
    use crate::provider::gemini::{decode_request, decode_response_json, test_support::*};
    use crate::transcript::StopReason;

    #[test]
    fn a_served_turn_is_echoed_with_its_signature_on_its_part_and_no_ids() {
        let mut turn = decode_response_json(FANTASY_RESPONSE).unwrap();
        turn.number_calls(1);
        let echoed = encode_assistant(&turn);
        assert_eq!(echoed["role"], "model");
        let parts = echoed["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0]["functionCall"],
            json!({"name": "add", "args": {"a": 2, "b": 3}})
        );
        assert!(
            parts[0]["thoughtSignature"]
                .as_str()
                .unwrap()
                .starts_with("CuwBAb4")
        );
        assert!(parts[1].get("thoughtSignature").is_none());
    }

    #[test]
    fn answers_name_their_tools_and_wrap_what_is_not_an_object() {
        let calls = [
            ToolCall {
                id: "turn1-call1".into(),
                name: "add".into(),
                arguments: "{}".into(),
                item_id: None,
            },
            ToolCall {
                id: "turn1-call2".into(),
                name: "multiply".into(),
                arguments: "{}".into(),
                item_id: None,
            },
        ];
        let results = [
            ToolResult {
                call_id: "turn1-call1".into(),
                content: json!({"result": "5"}),
                is_error: false,
            },
            ToolResult {
                call_id: "turn1-call2".into(),
                content: json!("boom"),
                is_error: true,
            },
        ];
        let wire = encode_answers(&calls, &results);
        assert_eq!(
            wire,
            vec![json!({"role": "user", "parts": [
                {"functionResponse": {"name": "add", "response": {"result": "5"}}},
                {"functionResponse": {"name": "multiply", "response": {"error": "boom"}}}]})]
        );
        assert!(encode_answers(&calls, &[]).is_empty());
    }

    #[test]
    fn an_echoed_turn_and_its_answers_decode_back_to_the_same_calls_and_results() {
        let mut turn = decode_response_json(FANTASY_RESPONSE).unwrap();
        turn.number_calls(1);
        let calls: Vec<ToolCall> = turn.tool_calls().cloned().collect();
        let results: Vec<ToolResult> = calls
            .iter()
            .map(|c| ToolResult {
                call_id: c.id.clone(),
                content: json!({"result": c.name}),
                is_error: false,
            })
            .collect();
        let mut contents = vec![
            json!({"role": "user", "parts": [{"text": "go"}]}),
            encode_assistant(&turn),
        ];
        contents.extend(encode_answers(&calls, &results));
        let decoded = decode_request(&Route::default(), &json!({"contents": contents})).unwrap();
        let messages = decoded.conversation.messages;
        assert_eq!(messages[1].blocks, turn.blocks);
        let back: Vec<ToolResult> = messages[2].tool_results().map(|(_, r)| r.clone()).collect();
        assert_eq!(back, results);
        assert_eq!(turn.stop, StopReason::ToolUse);
    }
}
