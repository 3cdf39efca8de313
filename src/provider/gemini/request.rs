//! Requests checked the way the API checks them, and decoded into a conversation whose calls
//! are known by their positions and whose results are paired with them.
//!
//! Each `contents[]` entry is one message (`user` and the legacy `function` role are the
//! user's, `model` the assistant's; the API merges nothing). The `k`-th `model` content's
//! `j`-th call is [`positional_call_id`]`(k, j)`, whatever id the loop wrote on it: the API
//! gives calls no id, and loops invent their own when they echo (the go SDK in the fantasy
//! recordings writes `1`, `2`; pydantic-ai writes `pyd_ai_…`), which the API accepts. A
//! `functionResponse` in the user content right after a `model` content with calls answers
//! one of those calls: the one whose id it names, where both carry an id, else the first
//! unanswered call of its name in call order. A response elsewhere answers an unanswered call
//! of its name in the last turn with calls (a misplaced result), or no call: its id is then
//! its name, which no call has.

use serde_json::{Map, Value};

use super::response::signature_block;
use crate::provider::codec::Route;
use crate::provider::json::{self, optional, required};
use crate::provider::{DecodedRequest, Malformed, MalformedKind};
use crate::transcript::{
    Block, Conversation, Message, Role, ToolCall, ToolDefinition, ToolResult, positional_call_id,
};

/// F4.2: the API's answer to a function call turn that follows neither a user turn nor a
/// function response turn.
pub(super) const CALL_TURN_ORDER: &str = "Please ensure that function call turn comes immediately after a user turn or after a function response turn.";

/// Best known: the API's answer to a role other than `user` and `model`.
pub(super) const BAD_ROLE: &str = "Please use a valid role: user, model.";

/// One call of a `model` content, as results pair with it.
struct Slot {
    wire_id: Option<String>,
    name: String,
    id: String,
    /// When it was answered: the number of responses paired before it.
    answered: Option<usize>,
}

/// Decodes a request body; the route gives the model and the mode.
///
/// # Errors
/// A required field is missing or has the wrong type (paths such as
/// `contents[2].parts[0].functionCall.args`), a role is not `user` or `model`, or a function
/// call turn does not follow a user turn (F4.2).
pub fn decode_request(route: &Route, body: &Value) -> Result<DecodedRequest, Malformed> {
    let body = object(body, "")?;
    let contents = array(required(body, "", "contents")?, "contents")?;
    let model = match (&route.model, optional(body, "model")) {
        (Some(m), _) => m.clone(),
        (None, Some(m)) => {
            let m = string(m, "model")?;
            m.strip_prefix("models/").unwrap_or(m).to_owned()
        }
        (None, None) => String::new(),
    };
    let mut tool_names = Vec::new();
    if let Some(tools) = optional(body, "tools") {
        for (i, tool) in array(tools, "tools")?.iter().enumerate() {
            let path = format!("tools[{i}]");
            let tool = object(tool, &path)?;
            let Some(declarations) = optional(tool, "functionDeclarations") else {
                continue;
            };
            let path = format!("{path}.functionDeclarations");
            for (j, d) in array(declarations, &path)?.iter().enumerate() {
                let path = format!("{path}[{j}]");
                let d = object(d, &path)?;
                let name = required(d, &path, "name")?;
                tool_names.push(string(name, &format!("{path}.name"))?.to_owned());
            }
        }
    }
    if let Some(system) = optional(body, "systemInstruction") {
        object(system, "systemInstruction")?;
    }

    let mut messages: Vec<Message> = Vec::new();
    let mut turns: Vec<Vec<Slot>> = Vec::new();
    let mut after_calls = false;
    let mut bypassed = false;
    for (i, content) in contents.iter().enumerate() {
        let path = format!("contents[{i}]");
        let content = object(content, &path)?;
        let role = match optional(content, "role") {
            None => Role::User,
            Some(role) => match string(role, &format!("{path}.role"))? {
                "user" | "function" => Role::User,
                "model" => Role::Assistant,
                _ => {
                    return Err(Malformed::new(
                        format!("{path}.role"),
                        MalformedKind::Invalid {
                            detail: BAD_ROLE.to_owned(),
                        },
                    ));
                }
            },
        };
        let parts_path = format!("{path}.parts");
        let parts = array(required(content, &path, "parts")?, &parts_path)?;
        let mut blocks = Vec::with_capacity(parts.len());
        if role == Role::Assistant {
            let k = turns.len() + 1;
            let mut slots = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                let at = format!("{parts_path}[{j}]");
                let part = object(part, &at)?;
                if let Some(signature) = optional(part, "thoughtSignature") {
                    let signature = string(signature, &format!("{at}.thoughtSignature"))?;
                    bypassed |= signature == SIGNATURE_BYPASS;
                    blocks.push(signature_block(signature));
                }
                if let Some(call) = optional(part, "functionCall") {
                    let at = format!("{at}.functionCall");
                    let call = object(call, &at)?;
                    let name = string(required(call, &at, "name")?, &format!("{at}.name"))?;
                    let args = match optional(call, "args") {
                        None => Value::Object(Map::new()),
                        Some(args) => Value::Object(object(args, &format!("{at}.args"))?.clone()),
                    };
                    let wire_id = match optional(call, "id") {
                        None => None,
                        Some(id) => Some(string(id, &format!("{at}.id"))?.to_owned()),
                    };
                    let id = positional_call_id(k, slots.len());
                    blocks.push(Block::ToolCall(ToolCall {
                        id: id.clone(),
                        name: name.to_owned(),
                        arguments: args.to_string(),
                        item_id: None,
                    }));
                    slots.push(Slot {
                        wire_id,
                        name: name.to_owned(),
                        id,
                        answered: None,
                    });
                } else {
                    blocks.push(other_part(part, &at)?);
                }
            }
            let follows_user = messages.last().is_some_and(|m| m.role == Role::User);
            if !slots.is_empty() && !follows_user {
                return Err(Malformed::new(
                    path,
                    MalformedKind::Invalid {
                        detail: CALL_TURN_ORDER.to_owned(),
                    },
                ));
            }
            after_calls = !slots.is_empty();
            turns.push(slots);
        } else {
            for (j, part) in parts.iter().enumerate() {
                let at = format!("{parts_path}[{j}]");
                let part = object(part, &at)?;
                if let Some(response) = optional(part, "functionResponse") {
                    let at = format!("{at}.functionResponse");
                    let response = object(response, &at)?;
                    let name = string(required(response, &at, "name")?, &format!("{at}.name"))?;
                    let content = match optional(response, "response") {
                        None => Value::Object(Map::new()),
                        Some(r) => Value::Object(object(r, &format!("{at}.response"))?.clone()),
                    };
                    let wire_id = match optional(response, "id") {
                        None => None,
                        Some(id) => Some(string(id, &format!("{at}.id"))?),
                    };
                    let call_id = pair(&mut turns, after_calls, wire_id, name);
                    blocks.push(Block::ToolResult(ToolResult {
                        call_id,
                        content,
                        is_error: false,
                    }));
                } else {
                    blocks.push(other_part(part, &at)?);
                }
            }
            after_calls = false;
        }
        messages.push(Message::new(role, blocks));
    }
    Ok(DecodedRequest {
        conversation: Conversation { messages },
        stream: route.stream.unwrap_or(false),
        tool_names,
        continues: None,
        parallel_tool_calls: true,
        thinking_required: signatures_validated(&model) && !bypassed,
        model,
    })
}

/// The value the API documents for a `thoughtSignature` it is not to validate (protocol
/// notes §D): a loop that sends it has opted out, and the API takes the history.
const SIGNATURE_BYPASS: &str = "skip_thought_signature_validator";

/// Whether the API refuses a replayed call without its `thoughtSignature` for this model:
/// Gemini 3 models validate signatures (protocol notes §D, F4.4, and the reports quoted
/// there are all Gemini 3); earlier models take a history without them. A model the notes
/// do not cover counts as not validating: a lost signature is then a warning, never a FAIL.
fn signatures_validated(model: &str) -> bool {
    model.starts_with("gemini-3")
}

/// The id of the call a `functionResponse` answers (see the module docs); `adjacent`: the
/// content before is the last turn's `model` content with calls. A response too many of a
/// called tool repeats the id of the call of that name answered last (the one it most likely
/// repeats), so that it reads as the duplicate it is.
fn pair(turns: &mut [Vec<Slot>], adjacent: bool, wire_id: Option<&str>, name: &str) -> String {
    let Some(slots) = turns.iter_mut().rev().find(|t| !t.is_empty()) else {
        return name.to_owned();
    };
    let seq = slots.iter().filter(|s| s.answered.is_some()).count();
    let take = |slot: &mut Slot| {
        slot.answered.get_or_insert(seq);
        slot.id.clone()
    };
    if adjacent {
        if let Some(id) = wire_id
            && let Some(slot) = slots.iter_mut().find(|s| s.wire_id.as_deref() == Some(id))
        {
            return take(slot);
        }
        if let Some(slot) = slots
            .iter_mut()
            .find(|s| s.answered.is_none() && s.name == name)
        {
            return take(slot);
        }
        if let Some(slot) = slots
            .iter()
            .filter(|s| s.name == name)
            .max_by_key(|s| s.answered)
        {
            return slot.id.clone();
        }
        return name.to_owned();
    }
    match slots
        .iter_mut()
        .find(|s| s.answered.is_none() && s.name == name)
    {
        Some(slot) => take(slot),
        None => name.to_owned(),
    }
}

/// A part that is no call and no result: text, a thought (kept by kind), or other data.
fn other_part(part: &Map<String, Value>, at: &str) -> Result<Block, Malformed> {
    if let Some(text) = optional(part, "text") {
        let text = string(text, &format!("{at}.text"))?;
        if optional(part, "thought").and_then(Value::as_bool) == Some(true) {
            return Ok(Block::Other {
                kind: "thought".to_owned(),
            });
        }
        return Ok(Block::Text {
            text: text.to_owned(),
        });
    }
    Ok(Block::Other {
        kind: super::wire::part_kind(part),
    })
}

pub(super) fn object<'v>(v: &'v Value, path: &str) -> Result<&'v Map<String, Value>, Malformed> {
    json::object(v, path, "an object")
}

pub(super) fn array<'v>(v: &'v Value, path: &str) -> Result<&'v Vec<Value>, Malformed> {
    json::array(v, path, "an array")
}

pub(super) fn string<'v>(v: &'v Value, path: &str) -> Result<&'v str, Malformed> {
    json::string(v, path, "a string")
}

/// The function declarations of a request (`tools[].functionDeclarations[]`), in neutral terms.
/// A declaration's `parametersJsonSchema` is JSON Schema as it stands; its `parameters` are the
/// API's OpenAPI subset, whose type names (`OBJECT`, `STRING`, …) become JSON Schema's
/// lower-case ones.
pub(super) fn declared_tools(body: &Value) -> Vec<ToolDefinition> {
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return Vec::new();
    };
    tools
        .iter()
        .filter_map(|t| t.get("functionDeclarations").and_then(Value::as_array))
        .flatten()
        .filter_map(|d| {
            if d.get("parametersJsonSchema").is_some() {
                return ToolDefinition::declared(d, "parametersJsonSchema");
            }
            let mut tool = ToolDefinition::declared(d, "parameters")?;
            lower_case_types(&mut tool.parameters);
            Some(tool)
        })
        .collect()
}

/// OpenAPI's upper-case `type` names, as Gemini's `Schema` spells them, in JSON Schema's case.
fn lower_case_types(schema: &mut Value) {
    match schema {
        Value::Object(fields) => {
            for (key, value) in fields.iter_mut() {
                match value {
                    Value::String(name) if key == "type" => *name = name.to_ascii_lowercase(),
                    other => lower_case_types(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(lower_case_types),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::gemini::test_support::*;

    fn ids(decoded: &DecodedRequest) -> (Vec<String>, Vec<String>) {
        let messages = &decoded.conversation.messages;
        (
            messages
                .iter()
                .flat_map(|m| m.tool_calls().map(|c| c.id.clone()))
                .collect(),
            messages
                .iter()
                .flat_map(|m| m.tool_results().map(|(_, r)| r.call_id.clone()))
                .collect(),
        )
    }

    #[test]
    fn the_recorded_follow_up_pairs_by_the_ids_the_loop_invented() {
        let body: Value = serde_json::from_str(FANTASY_FOLLOWUP).unwrap();
        let route = Route {
            model: Some("gemini-2.5-flash".into()),
            stream: Some(false),
        };
        let decoded = decode_request(&route, &body).unwrap();
        assert_eq!(decoded.model, "gemini-2.5-flash");
        assert_eq!(decoded.tool_names, ["add", "multiply"]);
        let (calls, results) = ids(&decoded);
        assert_eq!(calls, ["turn1-call1", "turn1-call2"]);
        assert_eq!(results, calls);
        let roles: Vec<Role> = decoded
            .conversation
            .messages
            .iter()
            .map(|m| m.role)
            .collect();
        assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
        assert_eq!(
            decoded.conversation.messages[2]
                .tool_results()
                .next()
                .unwrap()
                .1
                .content,
            json!({"result": "5"})
        );
    }

    fn follow_up(results: Value) -> Value {
        json!({"contents": [
            {"role": "user", "parts": [{"text": "go"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "topic", "args": {}}, "thoughtSignature": "AAAA"},
                {"functionCall": {"name": "topic", "args": {}}},
                {"functionCall": {"name": "joke", "args": {"n": 1}}}]},
            {"role": "user", "parts": results}]})
    }

    #[test]
    fn results_without_ids_pair_by_name_in_call_order() {
        let body = follow_up(json!([
            {"functionResponse": {"name": "joke", "response": {"r": "j"}}},
            {"functionResponse": {"name": "topic", "response": {"r": "a"}}},
            {"functionResponse": {"name": "topic", "response": {"r": "b"}}}]));
        let decoded = decode_request(&Route::default(), &body).unwrap();
        assert_eq!(
            ids(&decoded).1,
            ["turn1-call3", "turn1-call1", "turn1-call2"]
        );
    }

    #[test]
    fn an_extra_result_of_a_called_tool_repeats_an_id_and_another_tool_names_itself() {
        let body = follow_up(json!([
            {"functionResponse": {"name": "topic", "response": {}}},
            {"functionResponse": {"name": "topic", "response": {}}},
            {"functionResponse": {"name": "topic", "response": {}}},
            {"functionResponse": {"name": "weather", "response": {}}}]));
        let decoded = decode_request(&Route::default(), &body).unwrap();
        assert_eq!(
            ids(&decoded).1,
            ["turn1-call1", "turn1-call2", "turn1-call2", "weather"]
        );
    }

    #[test]
    fn a_function_call_turn_must_follow_a_user_turn() {
        let body = json!({"contents": [
            {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]}]});
        let err = decode_request(&Route::default(), &body).unwrap_err();
        assert_eq!(err.path, "contents[0]");
        assert_eq!(
            err.problem,
            MalformedKind::Invalid {
                detail: CALL_TURN_ORDER.to_owned()
            }
        );
        let text_first = json!({"contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"text": "thinking aloud"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "f"}}]}]});
        assert_eq!(
            decode_request(&Route::default(), &text_first)
                .unwrap_err()
                .path,
            "contents[2]"
        );
    }

    #[test]
    fn malformed_requests_name_their_path() {
        let cases = [
            (json!([]), ""),
            (json!({}), "contents"),
            (json!({"contents": {}}), "contents"),
            (json!({"contents": [{"role": "user"}]}), "contents[0].parts"),
            (
                json!({"contents": [{"role": "system", "parts": []}]}),
                "contents[0].role",
            ),
            (
                json!({"contents": [{"role": "user", "parts": [{"text": "a"}]}, {"role": "model", "parts": [{"functionCall": {"name": "f", "args": "{}"}}]}]}),
                "contents[1].parts[0].functionCall.args",
            ),
            (
                json!({"contents": [{"role": "user", "parts": [{"functionResponse": {"response": {}}}]}]}),
                "contents[0].parts[0].functionResponse.name",
            ),
            (
                json!({"contents": [], "tools": [{"functionDeclarations": [{"description": "x"}]}]}),
                "tools[0].functionDeclarations[0].name",
            ),
        ];
        for (body, path) in cases {
            assert_eq!(
                decode_request(&Route::default(), &body).unwrap_err().path,
                path,
                "{body}"
            );
        }
    }

    #[test]
    fn the_model_comes_from_the_route_or_the_body_and_the_stream_from_the_route() {
        let body = json!({"model": "models/gemini-x", "contents": []});
        let decoded = decode_request(&Route::default(), &body).unwrap();
        assert_eq!(
            (decoded.model.as_str(), decoded.stream),
            ("gemini-x", false)
        );
        let route = Route {
            model: Some("m".into()),
            stream: Some(true),
        };
        let decoded = decode_request(&route, &body).unwrap();
        assert_eq!((decoded.model.as_str(), decoded.stream), ("m", true));
    }
}
