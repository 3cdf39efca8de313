//! Anthropic's mutations, made on the wire JSON: results are `tool_result` blocks in one user
//! message right after the assistant message, each naming its call by `tool_use_id`, a failing
//! tool's with `is_error: true`; `input` is a JSON object; the API merges consecutive messages
//! of the same role before it checks them, and its error texts count merged messages. The
//! error texts are Anthropic's own.

use std::sync::Arc;

use serde_json::{Value, json};
use tooltape::Cassette;
use tooltape::provider::Provider;
use tooltape::server::RequestMeta;

use super::messages::{self, edited_follow_up, msgs};
use super::mutation::{
    Answer, ErrorReply, Expected, FollowUp, LastTurn, Mutation, Mutator, RULES_NONE, judge, set,
};
use crate::generators::content_text;

/// Anthropic's [`Mutator`].
pub struct Anthropic;

/// An id no call of any cassette has, in Anthropic's format.
const FRESH_ID: &str = "toolu_01UnknownUnknownUnknown9";

/// Anthropic's error, built from the reference texts: status, error type, message. The
/// `request_id` is random; only its format is checked.
#[derive(Debug)]
struct AnthropicError {
    status: u16,
    kind: &'static str,
    message: String,
}

impl ErrorReply for AnthropicError {
    fn check(&self, status: u16, body: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(body);
        let got: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let request_id = got["request_id"].as_str().unwrap_or_default();
        let id_ok = request_id.starts_with("req_")
            && request_id[4..].chars().all(|c| c.is_ascii_alphanumeric());
        let expected = format!(
            r#"{{"type":"error","error":{{"type":"{}","message":{}}},"request_id":"{request_id}"}}"#,
            self.kind,
            serde_json::to_string(&self.message).unwrap()
        );
        if status == self.status && id_ok && text == expected {
            Ok(())
        } else {
            Err(format!(
                "expected {} {expected}\n     got {status} {text}",
                self.status
            ))
        }
    }
}

fn error(status: u16, kind: &'static str, message: String) -> Answer {
    Answer::Error(Arc::new(AnthropicError {
        status,
        kind,
        message,
    }))
}

// The texts below are copied from reference/recordings/API_ERRORS.md and
// reference/protocol-notes.md (§F1, §F3), never from tooltape's output.

fn an_missing(assistant: usize, ids: &[String]) -> Answer {
    anthropic(format!(
        "messages.{assistant}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
        ids.join(", ")
    ))
}

fn an_unknown(message: usize, block: usize, id: &str) -> Answer {
    anthropic(format!(
        "messages.{message}.content.{block}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
    ))
}

fn an_duplicate(message: usize, block: usize, id: &str) -> Answer {
    anthropic(format!(
        "messages.{message}.content.{block}: each tool_use must have a single result. Found multiple `tool_result` blocks with id: {id}"
    ))
}

fn anthropic(message: String) -> Answer {
    error(400, "invalid_request_error", message)
}

/// Where wire message `wire`, block `block` sits once Anthropic has merged consecutive
/// messages of the same role: (merged message, block within it).
fn merged(body: &Value, wire: usize, block: usize) -> (usize, usize) {
    let messages = body["messages"].as_array().expect("messages");
    let mut group = 0;
    let mut offset = 0;
    for i in 1..=wire {
        if messages[i]["role"] == messages[i - 1]["role"] {
            offset += match &messages[i - 1]["content"] {
                Value::Array(blocks) => blocks.len(),
                _ => 1,
            };
        } else {
            group += 1;
            offset = 0;
        }
    }
    (group, offset + block)
}

/// The error for unanswered calls of the last assistant message of `body`.
fn missing(f: &FollowUp, body: &Value, ids: &[String]) -> Answer {
    an_missing(merged(body, f.assistant, 0).0, ids)
}

/// The index of the `i`th `tool_use` block in assistant message `a`.
fn use_block(body: &Value, a: usize, i: usize) -> usize {
    body["messages"][a]["content"]
        .as_array()
        .expect("content")
        .iter()
        .enumerate()
        .filter(|(_, b)| b["type"] == "tool_use")
        .nth(i)
        .expect("a tool_use block")
        .0
}

/// The `tool_result` block of call `i`.
fn result(body: &mut Value, a: usize, i: usize) -> &mut Value {
    &mut body["messages"][a + 1]["content"][i]
}

impl Mutator for Anthropic {
    fn provider(&self) -> Provider {
        Provider::Anthropic
    }

    fn last_turn(&self, body: &Value) -> Option<LastTurn> {
        let messages = body["messages"].as_array()?;
        let assistant = messages.iter().rposition(|m| m["role"] == "assistant")?;
        let mut ids = Vec::new();
        let mut names = Vec::new();
        let mut texts = Vec::new();
        for block in messages[assistant]["content"].as_array()? {
            if block["type"] == "tool_use" {
                ids.push(block["id"].as_str()?.to_owned());
                names.push(block["name"].as_str()?.to_owned());
            }
        }
        if messages.len() != assistant + 2 || messages[assistant + 1]["role"] != "user" {
            return None;
        }
        let content = messages[assistant + 1]["content"].as_array()?;
        for (i, id) in ids.iter().enumerate() {
            let block = content.get(i)?;
            if block["type"] != "tool_result" || block["tool_use_id"] != id.as_str() {
                return None;
            }
            texts.push(content_text(block.get("content").unwrap_or(&Value::Null)));
        }
        Some(LastTurn {
            assistant,
            ids,
            names,
            texts,
            thinking: messages::thinking(messages),
        })
    }

    fn mutate(
        &self,
        f: &FollowUp,
        m: Mutation,
        body: &mut Value,
        meta: &mut RequestMeta,
        cassette: &Cassette,
    ) -> Option<Expected> {
        use Mutation::*;
        let n = f.n();
        let a = f.assistant;
        let missing_rule = f.missing_rule();
        let expected = match m {
            DropResult(i) => {
                let i = i % n;
                if n < 2 {
                    return None;
                }
                body["messages"][a + 1]["content"].as_array_mut()?.remove(i);
                (set([missing_rule]), missing(f, body, &[f.ids[i].clone()]))
            }
            DuplicateResult(i) => {
                let i = i % n;
                let content = body["messages"][a + 1]["content"].as_array_mut()?;
                let copy = content[i].clone();
                content.insert(i + 1, copy);
                let (m, b) = merged(body, a + 1, i + 1);
                (set(["TT003"]), an_duplicate(m, b, &f.ids[i]))
            }
            SwapContents(i, d) => {
                let (i, j) = f.two_calls(i, d)?;
                if f.texts[i] == f.texts[j] {
                    return None;
                }
                let x = result(body, a, i)
                    .get("content")
                    .cloned()
                    .unwrap_or(Value::Null);
                let y = result(body, a, j)
                    .get("content")
                    .cloned()
                    .unwrap_or(Value::Null);
                result(body, a, i)["content"] = y;
                result(body, a, j)["content"] = x;
                if f.mismatch(i, j) {
                    (set(["TT009"]), Answer::Served)
                } else {
                    (set(RULES_NONE), Answer::Served)
                }
            }
            UnknownId(i) => {
                let i = i % n;
                result(body, a, i)["tool_use_id"] = json!(FRESH_ID);
                (
                    set(["TT002", missing_rule]),
                    missing(f, body, &[f.ids[i].clone()]),
                )
            }
            SplitResults(s) => {
                if n < 2 {
                    return None;
                }
                let at = 1 + s % (n - 1);
                let content = body["messages"][a + 1]["content"].as_array_mut()?;
                let rest = content.split_off(at);
                msgs(body).push(json!({"role": "user", "content": rest}));
                (set(["TT005"]), Answer::Served)
            }
            TextBeforeResults => {
                body["messages"][a + 1]["content"]
                    .as_array_mut()?
                    .insert(0, json!({"type": "text", "text": "Here are the results."}));
                (set(["TT004", "TT012"]), missing(f, body, &f.ids))
            }
            ReorderResults(s) => {
                if n < 2 {
                    return None;
                }
                let r = 1 + s % (n - 1);
                body["messages"][a + 1]["content"].as_array_mut()?[..n].rotate_left(r);
                (set(["TT007"]), Answer::Served)
            }
            AlterArguments(i) => {
                let i = i % n;
                let b = use_block(body, a, i);
                body["messages"][a]["content"][b]["input"]["tooltape_altered"] = json!(true);
                (set(["TT006"]), Answer::Served)
            }
            AlterIdEverywhere(i) => {
                let i = i % n;
                let b = use_block(body, a, i);
                body["messages"][a]["content"][b]["id"] = json!(FRESH_ID);
                result(body, a, i)["tool_use_id"] = json!(FRESH_ID);
                (set(["TT006"]), Answer::Served)
            }
            RenameEchoedCall(i) => {
                let i = i % n;
                let b = use_block(body, a, i);
                body["messages"][a]["content"][b]["name"] = json!("renamed_tool");
                (set(["TT006"]), Answer::Served)
            }
            AlterEchoedId(i) => {
                let i = i % n;
                let b = use_block(body, a, i);
                body["messages"][a]["content"][b]["id"] = json!(FRESH_ID);
                (
                    set(["TT006", "TT002", missing_rule]),
                    missing(f, body, &[FRESH_ID.to_owned()]),
                )
            }
            DropEchoedCall(i) => {
                if n < 2 {
                    return None;
                }
                let i = i % n;
                let b = use_block(body, a, i);
                body["messages"][a]["content"].as_array_mut()?.remove(b);
                let (m, b) = merged(body, a + 1, i);
                (set(["TT006", "TT002"]), an_unknown(m, b, &f.ids[i]))
            }
            DropThinking(t) => messages::drop_thinking(f, body, t)?,
            DropAssistant => {
                msgs(body).remove(a);
                let (m, b) = merged(body, a, 0);
                (set(["TT002"]), an_unknown(m, b, &f.ids[0]))
            }
            ChangePrompt => messages::change_prompt(body)?,
            AfterFinalAnswer => messages::after_final_answer(
                f,
                body,
                cassette,
                |text| json!({"role": "assistant", "content": [{"type": "text", "text": text}]}),
            )?,
            DropIsError(i) => {
                let i = i % n;
                if !f.failing[i] {
                    return None;
                }
                result(body, a, i).as_object_mut()?.remove("is_error");
                (set(["TT010"]), Answer::Served)
            }
            FlipStream => messages::flip_stream(f, body)?,
            NoApiKey => {
                // Neither key header: newer Anthropic SDKs send `Authorization: Bearer`, which
                // the server accepts in place of `x-api-key`.
                *meta = meta.clone().without("x-api-key");
                *meta = meta.clone().without("authorization");
                let answer = error(
                    401,
                    "authentication_error",
                    "x-api-key header is required".to_owned(),
                );
                (set(["TT011"]), answer)
            }
            NoVersionHeader => {
                *meta = meta.clone().without("anthropic-version");
                (
                    set(["TT011"]),
                    anthropic("anthropic-version: header is required".to_owned()),
                )
            }
            DropAllEchoedCalls => {
                let content = body["messages"][a]["content"].as_array_mut()?;
                content.retain(|b| b["type"] != "tool_use");
                if content.is_empty() {
                    return None;
                }
                let (m, b) = merged(body, a + 1, 0);
                (set(["TT006", "TT002"]), an_unknown(m, b, &f.ids[0]))
            }
            ReuseEarlierId(i) => {
                let i = i % n;
                let first = f.body["messages"]
                    .as_array()?
                    .iter()
                    .position(|m| m["role"] == "assistant")?;
                if first == a {
                    return None;
                }
                let earlier = f.body["messages"][first]["content"]
                    .as_array()?
                    .iter()
                    .find(|b| b["type"] == "tool_use")?["id"]
                    .clone();
                result(body, a, i)["tool_use_id"] = earlier;
                (
                    set(["TT003", missing_rule]),
                    missing(f, body, &[f.ids[i].clone()]),
                )
            }
            SwapIds(i, d) => {
                let (i, j) = f.two_calls(i, d)?;
                let path = |k: usize| format!("/messages/{}/content/{k}/tool_use_id", a + 1);
                let x = body.pointer(&path(i))?.clone();
                let y = body.pointer(&path(j))?.clone();
                *body.pointer_mut(&path(i))? = y;
                *body.pointer_mut(&path(j))? = x;
                let mut rules = set(["TT007"]);
                if f.mismatch(i, j) {
                    rules.insert("TT009");
                }
                // The failing tool's id now carries its sibling's result, without `is_error`.
                if f.failing[i] != f.failing[j] {
                    rules.insert("TT010");
                }
                (rules, Answer::Served)
            }
            ResultAsParts(i) => {
                let i = i % n;
                let result = result(body, a, i);
                let Value::String(text) = result.get("content")?.clone() else {
                    return None;
                };
                if text.is_empty() {
                    return None;
                }
                result["content"] = json!([{"type": "text", "text": text}]);
                (set(RULES_NONE), Answer::Served)
            }
            RespaceArguments(i) => {
                let i = i % n;
                let b = use_block(body, a, i);
                let input = body["messages"][a]["content"][b]["input"].as_object_mut()?;
                let reversed: serde_json::Map<String, Value> = input
                    .iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                *input = reversed;
                (set(RULES_NONE), Answer::Served)
            }
            PromptAsParts => messages::prompt_as_parts(body)?,
            ParallelOff => messages::parallel_off(f, body, cassette, |b| {
                b["tool_choice"] = json!({"type": "auto", "disable_parallel_tool_use": true});
            })?,
            // OpenAI's shapes, which this wire does not have; `NotJson` is the driver's.
            UserBeforeResults | ArgumentsAsObject(_) | SystemBeforeResults | NoNullContent
            | DropPrompt | NotJson => return None,
            // OpenAI Responses' items.
            AnswerByItemId(_) | EmptyCallId(_) | DuplicateItem(_) | UnknownContinuation => {
                return None;
            }
        };
        Some(expected)
    }
}

// Bugs the mutation oracle found, each as a minimal reproducer.

#[test]
fn dropping_an_echoed_failing_call_does_not_demand_is_error_from_its_sibling() {
    // messages: user, assistant (text, fetch_invoice [fails], get_account_balance), user (results)
    let (cassette, body) = edited_follow_up("anthropic/handmade-failing-tool-stream.json", |m| {
        let content = m[1]["content"].as_array_mut().unwrap();
        let first = content
            .iter()
            .position(|b| b["type"] == "tool_use")
            .unwrap();
        content.remove(first);
    });
    let (rules, _, _) = judge(&cassette, RequestMeta::all(), &body);
    assert_eq!(
        rules,
        set(["TT002", "TT006"]),
        "get_account_balance did not fail"
    );
}
