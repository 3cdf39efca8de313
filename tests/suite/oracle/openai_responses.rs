//! OpenAI Responses' mutations, made on the wire JSON: `input` is a flat list of items; each
//! `function_call` (item id `fc_…`, `call_id` `call_…`) is answered by a
//! `function_call_output` naming its `call_id` anywhere later, other items allowed in between
//! (reference B5); reasoning items travel with the calls that followed them. The error texts
//! are OpenAI's own (reference §B5, §F2 and API_ERRORS.md §6–8).

use std::sync::Arc;

use serde_json::{Value, json};
use tooltape::Cassette;
use tooltape::cassette::ResponseBody;
use tooltape::provider::Provider;
use tooltape::server::RequestMeta;

use super::messages;
use super::mutation::{
    Answer, ErrorReply, Expected, FollowUp, LastTurn, Mutation, Mutator, RULES_NONE, check_answer,
    judge, set,
};
use crate::generators::{content_text, write_json};
use crate::support::load;

/// OpenAI Responses' [`Mutator`].
pub struct OpenAiResponses;

/// A call id no call of any cassette has.
const FRESH_ID: &str = "call_UnknownUnknownUnknown99";

/// OpenAI's 400 on `/v1/responses`: message, `param`, `code`.
#[derive(Debug)]
struct ResponsesError {
    message: String,
    param: Option<String>,
    code: Option<&'static str>,
}

impl ErrorReply for ResponsesError {
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

fn error(message: String, param: &str, code: Option<&'static str>) -> Answer {
    Answer::Error(Arc::new(ResponsesError {
        message,
        param: Some(param.to_owned()),
        code,
    }))
}

// The texts below are copied from reference/protocol-notes.md §B5 and §F2 and
// reference/recordings/API_ERRORS.md, never from tooltape's output.

fn no_output(call_id: &str) -> Answer {
    error(
        format!("No tool output found for function call {call_id}."),
        "input",
        None,
    )
}

fn no_call(call_id: &str) -> Answer {
    error(
        format!("No tool call found for function call output with call_id {call_id}."),
        "input",
        None,
    )
}

fn duplicate_item(id: &str) -> Answer {
    error(
        format!(
            "Duplicate item found with id {id}. Remove duplicate items from your input and try again."
        ),
        "input",
        None,
    )
}

fn empty_call_id(i: usize) -> Answer {
    let path = format!("input[{i}].call_id");
    error(
        format!(
            "Invalid '{path}': empty string. Expected a string with minimum length 1, but got an empty string instead."
        ),
        &path,
        Some("empty_string"),
    )
}

fn without_reasoning(item: &str, reasoning: &str) -> Answer {
    error(
        format!(
            "Item '{item}' of type 'function_call' was provided without its required 'reasoning' item: '{reasoning}'."
        ),
        "input",
        None,
    )
}

fn without_follower(reasoning: &str) -> Answer {
    error(
        format!(
            "Item '{reasoning}' of type 'reasoning' was provided without its required following item."
        ),
        "input",
        None,
    )
}

fn unknown_previous(id: &str) -> Answer {
    error(
        format!("Previous response with id '{id}' not found."),
        "previous_response_id",
        Some("previous_response_not_found"),
    )
}

fn items(body: &mut Value) -> &mut Vec<Value> {
    body["input"].as_array_mut().expect("input items")
}

fn kind(item: &Value) -> &str {
    item["type"].as_str().unwrap_or("message")
}

/// An item the model produced: reasoning, a call, an assistant message, a hosted tool call.
fn model_side(item: &Value) -> bool {
    match kind(item) {
        "message" => item["role"] == "assistant",
        "function_call_output" => false,
        _ => true,
    }
}

/// Where the last turn sits: the first item of its model items, the input indices of its
/// calls, and the index of its first output.
fn layout(input: &[Value]) -> Option<(usize, Vec<usize>, usize)> {
    let outputs = input
        .iter()
        .rev()
        .take_while(|i| kind(i) == "function_call_output")
        .count();
    let first_output = input.len() - outputs;
    let start = input[..first_output]
        .iter()
        .rposition(|i| !model_side(i))
        .map_or(0, |p| p + 1);
    let calls: Vec<usize> = (start..first_output)
        .filter(|&i| kind(&input[i]) == "function_call")
        .collect();
    (outputs > 0 && calls.len() == outputs).then_some((start, calls, first_output))
}

/// The item right after reasoning item `w` in the served order, when it is a call sent back
/// with its item id: (item id, reasoning id).
fn call_after_reasoning(input: &[Value], w: usize) -> Option<(String, String)> {
    let reasoning = input[w]["id"].as_str()?.to_owned();
    let next = input.get(w + 1)?;
    (kind(next) == "function_call")
        .then(|| next["id"].as_str().map(|id| (id.to_owned(), reasoning)))
        .flatten()
}

/// The output items of recorded response `k`, as a loop replays them: from the body, or
/// from the stream's terminal event.
fn final_output(cassette: &Cassette, k: usize) -> Option<Vec<Value>> {
    let response: Value = match &cassette.turns[k].response.body {
        ResponseBody::Json { text } => serde_json::from_str(text).ok()?,
        ResponseBody::Sse { frames } => frames.iter().rev().find_map(|f| {
            let data = f.lines().find_map(|l| l.strip_prefix("data: "))?;
            let event: Value = serde_json::from_str(data).ok()?;
            (event["type"] == "response.completed").then(|| event["response"].clone())
        })?,
    };
    Some(response["output"].as_array()?.clone())
}

impl Mutator for OpenAiResponses {
    fn provider(&self) -> Provider {
        Provider::OpenAiResponses
    }

    fn last_turn(&self, body: &Value) -> Option<LastTurn> {
        let input = body["input"].as_array()?;
        let (start, calls, first_output) = layout(input)?;
        let mut ids = Vec::new();
        let mut names = Vec::new();
        let mut texts = Vec::new();
        for (i, &c) in calls.iter().enumerate() {
            let id = input[c]["call_id"].as_str()?;
            let output = &input[first_output + i];
            if output["call_id"] != id {
                return None;
            }
            ids.push(id.to_owned());
            names.push(input[c]["name"].as_str()?.to_owned());
            texts.push(content_text(&output["output"]));
        }
        let thinking = input
            .iter()
            .enumerate()
            .filter(|(_, i)| kind(i) == "reasoning")
            .map(|(w, _)| (w, 0))
            .collect();
        Some(LastTurn {
            assistant: start,
            ids,
            names,
            texts,
            thinking,
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
        let missing = f.missing_rule();
        let (start, calls, o) = layout(body["input"].as_array()?)?;
        let expected = match m {
            DropResult(i) => {
                let i = i % n;
                items(body).remove(o + i);
                (set([missing]), no_output(&f.ids[i]))
            }
            DuplicateResult(i) => {
                let i = i % n;
                let copy = items(body)[o + i].clone();
                items(body).insert(o + i + 1, copy);
                // Two outputs naming one `call_id` (without item ids): no capture of the
                // API's text.
                (set(["TT003"]), Answer::Rejected(400))
            }
            SwapContents(i, d) => {
                let (i, j) = f.two_calls(i, d)?;
                if f.texts[i] == f.texts[j] {
                    return None;
                }
                let x = items(body)[o + i]["output"].clone();
                let y = items(body)[o + j]["output"].clone();
                items(body)[o + i]["output"] = y;
                items(body)[o + j]["output"] = x;
                if f.mismatch(i, j) {
                    (set(["TT009"]), Answer::Served)
                } else {
                    (set(RULES_NONE), Answer::Served)
                }
            }
            UnknownId(i) => {
                let i = i % n;
                items(body)[o + i]["call_id"] = json!(FRESH_ID);
                (set(["TT002", missing]), no_call(FRESH_ID))
            }
            AnswerByItemId(i) => {
                let i = i % n;
                let item = items(body)[calls[i]]["id"].as_str()?.to_owned();
                items(body)[o + i]["call_id"] = json!(item);
                (set(["TT002", missing]), no_call(&item))
            }
            TextBeforeResults => {
                let note = json!({"type": "message", "role": "assistant",
                                  "content": [{"type": "output_text", "text": "Working on it."}]});
                items(body).insert(o, note);
                // Items between a call and its output are accepted (B5); the echoed turn's
                // text now differs from the served one.
                (set(["TT012"]), Answer::Served)
            }
            UserBeforeResults => {
                items(body).insert(
                    o,
                    json!({"role": "user", "content": "Here are the results."}),
                );
                (set(["TT012"]), Answer::Unknown)
            }
            SystemBeforeResults => {
                items(body).insert(o, json!({"role": "system", "content": "Be brief."}));
                (set(RULES_NONE), Answer::Unknown)
            }
            ReorderResults(s) => {
                if n < 2 {
                    return None;
                }
                let r = 1 + s % (n - 1);
                items(body)[o..o + n].rotate_left(r);
                (set(["TT007"]), Answer::Served)
            }
            AlterArguments(i) => {
                let i = i % n;
                let args = &mut items(body)[calls[i]]["arguments"];
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
                items(body)[calls[i]]["call_id"] = json!(FRESH_ID);
                items(body)[o + i]["call_id"] = json!(FRESH_ID);
                (set(["TT006"]), Answer::Served)
            }
            RenameEchoedCall(i) => {
                let i = i % n;
                items(body)[calls[i]]["name"] = json!("renamed_tool");
                (set(["TT006"]), Answer::Served)
            }
            AlterEchoedId(i) => {
                let i = i % n;
                items(body)[calls[i]]["call_id"] = json!(FRESH_ID);
                (set(["TT006", "TT002", missing]), no_call(&f.ids[i]))
            }
            DropEchoedCall(i) => {
                if n < 2 {
                    return None;
                }
                let i = i % n;
                let before = calls[i].checked_sub(1).map(|p| f.body["input"][p].clone());
                let follows_reasoning = before.as_ref().is_some_and(|b| kind(b) == "reasoning");
                let item_id = f.body["input"][calls[i]]["id"].as_str().map(str::to_owned);
                items(body).remove(calls[i]);
                let answer = match (follows_reasoning, item_id, before) {
                    (true, Some(_), Some(b)) if b["id"].is_string() => {
                        without_follower(b["id"].as_str()?)
                    }
                    (true, _, _) => Answer::Unknown,
                    _ => no_call(&f.ids[i]),
                };
                (set(["TT006", "TT002"]), answer)
            }
            DropThinking(t) => {
                if f.thinking.is_empty() {
                    return None;
                }
                let (w, _) = f.thinking[t % f.thinking.len()];
                let input = f.body["input"].as_array()?;
                let answer = match call_after_reasoning(input, w) {
                    Some((item, reasoning)) => without_reasoning(&item, &reasoning),
                    None if input[w]["id"].is_string() => Answer::Served,
                    None => Answer::Unknown,
                };
                items(body).remove(w);
                (set(["TT006"]), answer)
            }
            ArgumentsAsObject(i) => {
                let i = i % n;
                let args = &mut items(body)[calls[i]]["arguments"];
                let value: Value = serde_json::from_str(args.as_str()?).ok()?;
                if !value.is_object() {
                    return None;
                }
                *args = value;
                // The Chat text of this mistake is captured; for Responses it is not.
                (set(["TT011"]), Answer::Rejected(400))
            }
            EmptyCallId(i) => {
                let i = i % n;
                items(body)[o + i]["call_id"] = json!("");
                (set(["TT011"]), empty_call_id(o + i))
            }
            DuplicateItem(i) => {
                let i = i % n;
                let call = items(body)[calls[i]].clone();
                let id = call["id"].as_str()?.to_owned();
                items(body).insert(calls[i] + 1, call);
                (set(["TT011"]), duplicate_item(&id))
            }
            UnknownContinuation => {
                body["previous_response_id"] = json!("resp_0000tooltapeunknown");
                (set(["TT012"]), unknown_previous("resp_0000tooltapeunknown"))
            }
            DropAssistant => {
                if (start..o).any(|i| kind(&f.body["input"][i]) == "reasoning") {
                    return None;
                }
                items(body).drain(start..o);
                (set(["TT002"]), no_call(&f.ids[0]))
            }
            DropAllEchoedCalls => {
                let group = &f.body["input"].as_array()?[start..o];
                if group.iter().any(|i| kind(i) == "reasoning")
                    || group.iter().all(|i| kind(i) == "function_call")
                {
                    return None;
                }
                for &c in calls.iter().rev() {
                    items(body).remove(c);
                }
                (set(["TT006", "TT002"]), no_call(&f.ids[0]))
            }
            ChangePrompt => {
                let first = items(body).iter().position(|m| m["role"] == "user")?;
                items(body)[first]["content"] = json!("A different question entirely.");
                (set(["TT012"]), Answer::Served)
            }
            PromptAsParts => {
                let first = items(body).iter().position(|m| m["role"] == "user")?;
                let content = &mut items(body)[first]["content"];
                match content.clone() {
                    Value::String(s) => *content = json!([{"type": "input_text", "text": s}]),
                    Value::Array(parts) if parts.len() == 1 && parts[0]["type"] == "input_text" => {
                        *content = parts[0]["text"].clone();
                    }
                    _ => return None,
                }
                (set(RULES_NONE), Answer::Served)
            }
            AfterFinalAnswer => {
                let last = cassette.turns.len() - 1;
                if f.k != last {
                    return None;
                }
                items(body).extend(final_output(cassette, last)?);
                items(body).push(json!({"role": "user", "content": "Thanks!"}));
                (set(["TT014"]), Answer::Harness)
            }
            FlipStream => messages::flip_stream(f, body)?,
            NoApiKey => {
                *meta = meta.clone().without("authorization");
                (set(["TT011"]), Answer::Rejected(401))
            }
            ReuseEarlierId(i) => {
                let i = i % n;
                let earlier = f.body["input"]
                    .as_array()?
                    .iter()
                    .find(|x| kind(x) == "function_call")?["call_id"]
                    .clone();
                if calls
                    .iter()
                    .any(|&c| f.body["input"][c]["call_id"] == earlier)
                {
                    return None;
                }
                items(body)[o + i]["call_id"] = earlier;
                (set(["TT003", missing]), Answer::Rejected(400))
            }
            SwapIds(i, d) => {
                let (i, j) = f.two_calls(i, d)?;
                let x = items(body)[o + i]["call_id"].clone();
                let y = items(body)[o + j]["call_id"].clone();
                items(body)[o + i]["call_id"] = y;
                items(body)[o + j]["call_id"] = x;
                let mut rules = set(["TT007"]);
                if f.mismatch(i, j) {
                    rules.insert("TT009");
                }
                (rules, Answer::Served)
            }
            RespaceArguments(i) => {
                let i = i % n;
                let args = &mut items(body)[calls[i]]["arguments"];
                let value: Value = serde_json::from_str(args.as_str()?).ok()?;
                *args = json!(write_json(&value, true, true));
                (set(RULES_NONE), Answer::Served)
            }
            ResultAsParts(i) => {
                let i = i % n;
                let output = &mut items(body)[o + i]["output"];
                let Value::String(text) = output.clone() else {
                    return None;
                };
                if text.is_empty() {
                    return None;
                }
                *output = json!([{"type": "input_text", "text": text}]);
                (set(RULES_NONE), Answer::Served)
            }
            ParallelOff => messages::parallel_off(f, body, cassette, |b| {
                b["parallel_tool_calls"] = json!(false);
            })?,
            // Other wires' shapes and headers; `NotJson` is the driver's.
            SplitResults(_) | DropIsError(_) | NoVersionHeader | NoNullContent | DropPrompt
            | NotJson => {
                return None;
            }
        };
        Some(expected)
    }
}

// Reproducers of what the oracle checks on this wire.

/// Request 1 of a bundled Responses cassette with one edit to its input items.
fn edited(rel: &str, edit: impl FnOnce(&mut Vec<Value>)) -> (Arc<Cassette>, Vec<u8>) {
    let cassette = load(rel);
    let mut body = cassette.file.interactions[1].request.body.clone();
    edit(items(&mut body));
    (cassette, serde_json::to_vec(&body).unwrap())
}

#[test]
fn outputs_interleaved_with_their_calls_are_accepted() {
    // input: system, user, call add, call multiply, output add, output multiply
    let (cassette, body) = edited(
        "openai-responses/fantasy-gpt-4o-parallel2-followup.json",
        |input| {
            let output = input.remove(4);
            input.insert(3, output);
        },
    );
    let (rules, status, _) = judge(&cassette, RequestMeta::all(), &body);
    assert_eq!((rules, status), (set(RULES_NONE), 200));
}

#[test]
fn an_output_naming_the_item_id_is_an_unknown_call_with_the_api_text() {
    let (cassette, body) = edited(
        "openai-responses/fantasy-gpt-4o-parallel2-followup.json",
        |input| input[4]["call_id"] = json!("fc_0123456789abcdef"),
    );
    let (rules, status, reply) = judge(&cassette, RequestMeta::all(), &body);
    assert_eq!(rules, set(["TT001", "TT002"]));
    check_answer(&no_call("fc_0123456789abcdef"), status, &reply, b"").unwrap();
}

#[test]
fn a_stateful_follow_up_missing_one_output_gets_the_api_text() {
    let cassette = load("openai-responses/openinference-parallel2-previous_response_id.json");
    let mut body = cassette.file.interactions[1].request.body.clone();
    items(&mut body).remove(1);
    let (rules, status, reply) = judge(
        &cassette,
        RequestMeta::all(),
        &serde_json::to_vec(&body).unwrap(),
    );
    assert_eq!(rules, set(["TT001"]));
    let id = cassette.calls(0)[1].id.clone();
    check_answer(&no_output(&id), status, &reply, b"").unwrap();
}

#[test]
fn a_stateful_follow_up_naming_an_unknown_response_gets_the_api_text() {
    let cassette = load("openai-responses/openinference-parallel2-previous_response_id.json");
    let mut body = cassette.file.interactions[1].request.body.clone();
    body["previous_response_id"] = json!("resp_nowhere");
    let (rules, status, reply) = judge(
        &cassette,
        RequestMeta::all(),
        &serde_json::to_vec(&body).unwrap(),
    );
    assert_eq!(rules, set(["TT012"]));
    check_answer(&unknown_previous("resp_nowhere"), status, &reply, b"").unwrap();
}
