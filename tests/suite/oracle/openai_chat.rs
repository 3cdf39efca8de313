//! OpenAI Chat's mutations, made on the wire JSON: results are `role: "tool"` messages right
//! after the assistant message, each naming its call by `tool_call_id`; `arguments` is JSON
//! text; the API does not merge messages. The error texts are OpenAI's own.

use std::sync::Arc;

use serde_json::{Value, json};
use tooltape::Cassette;
use tooltape::provider::Provider;
use tooltape::server::RequestMeta;

use super::messages::{self, edited_follow_up, msgs};
use super::mutation::{
    Answer, ErrorReply, Expected, FollowUp, LastTurn, Mutation, Mutator, RULES_NONE, check_answer,
    judge, set,
};
use crate::generators::{content_text, write_json};

/// OpenAI Chat's [`Mutator`].
pub struct OpenAiChat;

/// An id no call of any cassette has, in OpenAI's format.
const FRESH_ID: &str = "call_UnknownUnknownUnknown99";

/// OpenAI's 400, built from the reference texts: message, `param`, `code`.
#[derive(Debug)]
struct OpenAiError {
    message: String,
    param: Option<String>,
    code: Option<&'static str>,
}

impl ErrorReply for OpenAiError {
    fn check(&self, status: u16, body: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(body);
        let expected = format!(
            r#"{{"error":{{"message":{},"type":"invalid_request_error","param":{},"code":{}}}}}"#,
            serde_json::to_string(&self.message).unwrap(),
            serde_json::to_string(&self.param).unwrap(),
            serde_json::to_string(&self.code).unwrap(),
        );
        if status == 400 && text == expected {
            Ok(())
        } else {
            Err(format!("expected 400 {expected}\n     got {status} {text}"))
        }
    }
}

fn error(message: String, param: Option<String>, code: Option<&'static str>) -> Answer {
    Answer::Error(Arc::new(OpenAiError {
        message,
        param,
        code,
    }))
}

// The texts below are copied from reference/recordings/API_ERRORS.md and
// reference/protocol-notes.md (§A5, §F1, §F3), never from tooltape's output.

fn oa_missing(assistant: usize, ids: &[String]) -> Answer {
    error(
        format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
            ids.join(", ")
        ),
        Some(format!("messages.[{assistant}].role")),
        None,
    )
}

fn oa_orphan(message: usize) -> Answer {
    error(
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.".to_owned(),
        Some(format!("messages.[{message}].role")),
        None,
    )
}

/// The text is captured; the `param` is the protocol notes' best guess (§A5).
fn oa_unknown(message: usize, id: &str) -> Answer {
    error(
        format!(
            "Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' of previous message."
        ),
        Some(format!("messages.[{message}].tool_call_id")),
        None,
    )
}

fn oa_duplicate(first: usize, second: usize, id: &str) -> Answer {
    error(
        format!(
            "Invalid parameter: Duplicate value for 'tool_call_id' of '{id}', in messages[{first}] and messages[{second}]."
        ),
        Some(format!("messages.[{second}].tool_call_id")),
        None,
    )
}

fn oa_arguments_object(message: usize, call: usize) -> Answer {
    let path = format!("messages[{message}].tool_calls[{call}].function.arguments");
    error(
        format!("Invalid type for '{path}': expected a string, but got an object instead."),
        Some(path),
        Some("invalid_type"),
    )
}

/// The result message of call `i`.
fn result(body: &mut Value, a: usize, i: usize) -> &mut Value {
    &mut msgs(body)[a + 1 + i]
}

impl Mutator for OpenAiChat {
    fn provider(&self) -> Provider {
        Provider::OpenAiChat
    }

    fn last_turn(&self, body: &Value) -> Option<LastTurn> {
        let messages = body["messages"].as_array()?;
        let assistant = messages.iter().rposition(|m| m["role"] == "assistant")?;
        let mut ids = Vec::new();
        let mut names = Vec::new();
        let mut texts = Vec::new();
        for call in messages[assistant]["tool_calls"].as_array()? {
            ids.push(call["id"].as_str()?.to_owned());
            names.push(call["function"]["name"].as_str()?.to_owned());
        }
        if messages.len() != assistant + 1 + ids.len() {
            return None;
        }
        for (i, id) in ids.iter().enumerate() {
            let m = &messages[assistant + 1 + i];
            if m["role"] != "tool" || m["tool_call_id"] != id.as_str() {
                return None;
            }
            texts.push(content_text(&m["content"]));
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
        let missing = f.missing_rule();
        let expected = match m {
            DropResult(i) => {
                let i = i % n;
                msgs(body).remove(a + 1 + i);
                (set([missing]), oa_missing(a, &[f.ids[i].clone()]))
            }
            DuplicateResult(i) => {
                let i = i % n;
                let copy = msgs(body)[a + 1 + i].clone();
                msgs(body).insert(a + 2 + i, copy);
                (
                    set(["TT003"]),
                    oa_duplicate(a + 1 + i, a + 2 + i, &f.ids[i]),
                )
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
                result(body, a, i)["tool_call_id"] = json!(FRESH_ID);
                (set(["TT002", missing]), oa_missing(a, &[f.ids[i].clone()]))
            }
            UserBeforeResults => {
                msgs(body).insert(
                    a + 1,
                    json!({"role": "user", "content": "Here are the results."}),
                );
                (set(["TT004", "TT012"]), oa_missing(a, &f.ids))
            }
            ReorderResults(s) => {
                if n < 2 {
                    return None;
                }
                let r = 1 + s % (n - 1);
                msgs(body)[a + 1..a + 1 + n].rotate_left(r);
                (set(["TT007"]), Answer::Served)
            }
            AlterArguments(i) => {
                let i = i % n;
                let args = &mut body["messages"][a]["tool_calls"][i]["function"]["arguments"];
                let mut value: Value = serde_json::from_str(args.as_str()?).unwrap_or(json!({}));
                if !value.is_object() {
                    value = json!({});
                }
                value["tooltape_altered"] = json!(true);
                *args = json!(value.to_string());
                (set(["TT006"]), Answer::Served)
            }
            AlterIdEverywhere(i) => {
                let i = i % n;
                body["messages"][a]["tool_calls"][i]["id"] = json!(FRESH_ID);
                result(body, a, i)["tool_call_id"] = json!(FRESH_ID);
                (set(["TT006"]), Answer::Served)
            }
            RenameEchoedCall(i) => {
                let i = i % n;
                body["messages"][a]["tool_calls"][i]["function"]["name"] = json!("renamed_tool");
                (set(["TT006"]), Answer::Served)
            }
            AlterEchoedId(i) => {
                let i = i % n;
                body["messages"][a]["tool_calls"][i]["id"] = json!(FRESH_ID);
                (
                    set(["TT006", "TT002", missing]),
                    oa_missing(a, &[FRESH_ID.to_owned()]),
                )
            }
            DropEchoedCall(i) => {
                if n < 2 {
                    return None;
                }
                let i = i % n;
                body["messages"][a]["tool_calls"].as_array_mut()?.remove(i);
                (set(["TT006", "TT002"]), oa_unknown(a + 1 + i, &f.ids[i]))
            }
            DropThinking(t) => messages::drop_thinking(f, body, t)?,
            ArgumentsAsObject(i) => {
                let i = i % n;
                let args = &mut body["messages"][a]["tool_calls"][i]["function"]["arguments"];
                let value: Value = serde_json::from_str(args.as_str()?).ok()?;
                if !value.is_object() {
                    return None;
                }
                *args = value;
                (set(["TT011"]), oa_arguments_object(a, i))
            }
            DropAssistant => {
                let sent = f.body["messages"].as_array()?;
                let previous = sent[..a].iter().rposition(|m| m["role"] == "assistant");
                msgs(body).remove(a);
                let contiguous =
                    previous.is_some_and(|p| sent[p + 1..a].iter().all(|m| m["role"] == "tool"));
                let answer = if contiguous {
                    oa_unknown(a, &f.ids[0])
                } else {
                    oa_orphan(a)
                };
                (set(["TT002"]), answer)
            }
            ChangePrompt => messages::change_prompt(body)?,
            AfterFinalAnswer => messages::after_final_answer(
                f,
                body,
                cassette,
                |text| json!({"role": "assistant", "content": text}),
            )?,
            FlipStream => messages::flip_stream(f, body)?,
            NoApiKey => {
                *meta = meta.clone().without("authorization");
                (set(["TT011"]), Answer::Rejected(401))
            }
            DropAllEchoedCalls => {
                let echoed = body["messages"][a].as_object_mut()?;
                echoed.remove("tool_calls");
                if echoed.get("content").is_none_or(Value::is_null) {
                    echoed.insert("content".to_owned(), json!(""));
                }
                (set(["TT006", "TT002"]), oa_orphan(a + 1))
            }
            SystemBeforeResults => {
                msgs(body).insert(a + 1, json!({"role": "system", "content": "Be brief."}));
                (set(["TT004"]), oa_missing(a, &f.ids))
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
                let earlier = f.body["messages"][first]["tool_calls"][0]["id"].clone();
                result(body, a, i)["tool_call_id"] = earlier;
                (set(["TT003", missing]), oa_missing(a, &[f.ids[i].clone()]))
            }
            SwapIds(i, d) => {
                let (i, j) = f.two_calls(i, d)?;
                let path = |k: usize| format!("/messages/{}/tool_call_id", a + 1 + k);
                let x = body.pointer(&path(i))?.clone();
                let y = body.pointer(&path(j))?.clone();
                *body.pointer_mut(&path(i))? = y;
                *body.pointer_mut(&path(j))? = x;
                let mut rules = set(["TT007"]);
                if f.mismatch(i, j) {
                    rules.insert("TT009");
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
                let args = &mut body["messages"][a]["tool_calls"][i]["function"]["arguments"];
                let value: Value = serde_json::from_str(args.as_str()?).ok()?;
                *args = json!(write_json(&value, true, true));
                (set(RULES_NONE), Answer::Served)
            }
            PromptAsParts => messages::prompt_as_parts(body)?,
            ParallelOff => messages::parallel_off(f, body, cassette, |b| {
                b["parallel_tool_calls"] = json!(false);
            })?,
            NoNullContent => {
                if !body["messages"][a]["content"].is_null() {
                    return None;
                }
                body["messages"][a].as_object_mut()?.remove("content");
                (set(RULES_NONE), Answer::Served)
            }
            // Anthropic's shapes and headers, which this wire does not have; `NotJson` is the
            // driver's.
            SplitResults(_) | TextBeforeResults | DropIsError(_) | NoVersionHeader | DropPrompt
            | NotJson => {
                return None;
            }
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
fn dropping_an_echoed_call_does_not_make_its_siblings_results_mismatched() {
    // messages: system, user, assistant (add, multiply), tool (add), tool (multiply)
    let (cassette, body) =
        edited_follow_up("openai-chat/fantasy-gpt-4o-parallel2-followup.json", |m| {
            m[2]["tool_calls"].as_array_mut().unwrap().remove(0);
        });
    let (rules, status, reply) = judge(&cassette, RequestMeta::all(), &body);
    assert_eq!(
        rules,
        set(["TT002", "TT006"]),
        "the multiply result answers multiply"
    );
    let id = cassette.calls(0)[0].id.clone();
    check_answer(&oa_unknown(3, &id), status, &reply, b"").unwrap();
}

#[test]
fn a_tool_message_after_an_assistant_message_without_tool_calls_is_an_orphan() {
    let (cassette, body) =
        edited_follow_up("openai-chat/fantasy-gpt-4o-parallel2-followup.json", |m| {
            m[2].as_object_mut().unwrap().remove("tool_calls");
            m[2]["content"] = json!("");
        });
    let (rules, status, reply) = judge(&cassette, RequestMeta::all(), &body);
    assert_eq!(rules, set(["TT002", "TT006"]));
    check_answer(&oa_orphan(3), status, &reply, b"").unwrap();
}
