//! Gemini's mutations, made on the wire JSON (protocol notes §D, §F4): a conversation is
//! `contents[]`; the calls of a `model` content are answered by the `functionResponse` parts
//! of the one `user` content right after it, as many as there are calls; calls carry no ids,
//! so a response answers the call whose id it names where both carry one (loops invent them),
//! else the first unanswered call of its name, in call order; a replayed call keeps the
//! `thoughtSignature` it was served with. The error texts are Gemini's own.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use tooltape::Cassette;
use tooltape::provider::Provider;
use tooltape::server::RequestMeta;

use super::mutation::{
    Answer, ErrorReply, Expected, FollowUp, LastTurn, Mutation, Mutator, RULES_NONE, judge, set,
};
use crate::generators::content_text;

/// Gemini's [`Mutator`].
pub struct Gemini;

/// Gemini's error: `{"error":{"code":400,"message":…,"status":"INVALID_ARGUMENT"}}`.
#[derive(Debug)]
struct GeminiError {
    message: String,
}

impl ErrorReply for GeminiError {
    fn check(&self, status: u16, body: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(body);
        let expected = format!(
            r#"{{"error":{{"code":400,"message":{},"status":"INVALID_ARGUMENT"}}}}"#,
            serde_json::to_string(&self.message).unwrap()
        );
        if status == 400 && text == expected {
            Ok(())
        } else {
            Err(format!("expected 400 {expected}\n     got {status} {text}"))
        }
    }
}

fn error(message: &str) -> Answer {
    Answer::Error(Arc::new(GeminiError {
        message: message.to_owned(),
    }))
}

// The texts below are copied from reference/protocol-notes.md §D and §F4 and
// reference/recordings/API_ERRORS.md #12–#14, never from tooltape's output.

fn count_mismatch() -> Answer {
    error(
        "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
    )
}

fn response_turn_order() -> Answer {
    error("Please ensure that function response turn comes immediately after a function call turn.")
}

fn call_turn_order() -> Answer {
    error(
        "Please ensure that function call turn comes immediately after a user turn or after a function response turn.",
    )
}

/// `position`: the 1-based index of the `model` content in `contents`.
fn missing_signature(name: &str, position: usize) -> Answer {
    error(&format!(
        "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:{name}` , position {position}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
    ))
}

fn contents(body: &mut Value) -> &mut Vec<Value> {
    body["contents"].as_array_mut().expect("contents")
}

fn parts(body: &mut Value, c: usize) -> &mut Vec<Value> {
    body["contents"][c]["parts"].as_array_mut().expect("parts")
}

/// The part index of the `i`th `functionCall` part of content `c`.
fn call_part(body: &Value, c: usize, i: usize) -> usize {
    body["contents"][c]["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .enumerate()
        .filter(|(_, p)| p.get("functionCall").is_some())
        .nth(i)
        .expect("a functionCall part")
        .0
}

fn id_of(v: &Value) -> Option<String> {
    v.get("id").and_then(Value::as_str).map(str::to_owned)
}

/// The rules and answer for how the results of content `a + 1` answer the calls of content `a`
/// in `body`, as the API pairs them: by the ids both carry, else by name in call order. `own`:
/// each echoed call position's recorded result text.
fn results_verdict(f: &FollowUp, body: &Value) -> (BTreeSet<&'static str>, bool) {
    let a = f.assistant;
    let calls: Vec<(Option<String>, String)> = body["contents"][a]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("functionCall"))
        .map(|c| (id_of(c), c["name"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let results: Vec<(Option<String>, String, String)> = body["contents"][a + 1]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("functionResponse"))
        .map(|r| {
            (
                id_of(r),
                r["name"].as_str().unwrap_or_default().to_owned(),
                content_text(r.get("response").unwrap_or(&Value::Null)),
            )
        })
        .collect();
    let mut rules = BTreeSet::new();
    let mut answered: Vec<Option<usize>> = vec![None; calls.len()];
    let mut order = Vec::new();
    let mut refused = false;
    for (id, name, text) in &results {
        let by_id = id
            .as_ref()
            .and_then(|id| calls.iter().position(|(c, _)| c.as_ref() == Some(id)));
        let fresh = by_id
            .or_else(|| (0..calls.len()).find(|&i| answered[i].is_none() && calls[i].1 == *name));
        let call = match fresh {
            Some(i) if answered[i].is_none() => {
                answered[i] = Some(order.len());
                i
            }
            // One response too many repeats the call it names, or the one of its name
            // answered last.
            Some(i) => {
                rules.insert("TT003");
                refused = true;
                i
            }
            None => match (0..calls.len())
                .filter(|&i| calls[i].1 == *name)
                .max_by_key(|&i| answered[i])
            {
                Some(i) => {
                    rules.insert("TT003");
                    refused = true;
                    i
                }
                None => {
                    rules.insert("TT002");
                    refused = true;
                    continue;
                }
            },
        };
        order.push(call);
        let own = f.texts.get(call);
        if own.is_some_and(|own| own != text)
            && f.texts
                .iter()
                .enumerate()
                .any(|(j, t)| j != call && t == text && f.mismatch(call, j))
        {
            rules.insert("TT009");
        }
    }
    if answered.iter().any(Option::is_none) {
        rules.insert(f.missing_rule());
        refused = true;
    }
    if order.windows(2).any(|w| w[0] > w[1]) {
        rules.insert("TT007");
    }
    (rules, refused)
}

/// `results_verdict` with its answer (the count error when the API refuses), plus what the
/// echoed signatures say: TT006 for a served signature missing from its content, and the
/// lost-signature error (which the API reports first) for a call part that lost its own.
fn verdict(f: &FollowUp, body: &Value, mut rules: BTreeSet<&'static str>) -> Expected {
    let (found, refused) = results_verdict(f, body);
    rules.extend(found);
    let mut answer = if refused {
        count_mismatch()
    } else {
        Answer::Served
    };
    if let Some((signature_rules, lost)) = signatures(f, body) {
        rules.extend(signature_rules);
        if let Some(lost) = lost {
            answer = lost;
        }
    }
    (rules, answer)
}

/// Whether the recorded model validates thought signatures: Gemini 3 models do (protocol
/// notes §F4.4), and a call replayed without its signature gets the 400; for other models the
/// lost signature is TT006 (a warning) and the turn is served.
fn validates_signatures(f: &FollowUp) -> bool {
    f.path
        .as_deref()
        .is_some_and(|p| p.contains("/models/gemini-3"))
}

/// For each signature of the unmutated follow-up (content `w`, part `b`): whether content `w`
/// of `body` still carries it anywhere, and whether the call part it was on (by call position)
/// still carries one (when the model validates signatures). `None` when nothing changed.
fn signatures(f: &FollowUp, body: &Value) -> Option<(BTreeSet<&'static str>, Option<Answer>)> {
    let mut rules = BTreeSet::new();
    let mut lost = None;
    for &(w, b) in &f.thinking {
        let part = &f.body["contents"][w]["parts"][b];
        let signature = &part["thoughtSignature"];
        let now = body["contents"][w]["parts"].as_array()?;
        if now.iter().any(|p| p["thoughtSignature"] == *signature) {
            continue;
        }
        rules.insert("TT006");
        if part.get("functionCall").is_none() {
            continue;
        }
        let position = f.body["contents"][w]["parts"].as_array()?[..b]
            .iter()
            .filter(|p| p.get("functionCall").is_some())
            .count();
        let echoed = now
            .iter()
            .filter(|p| p.get("functionCall").is_some())
            .nth(position);
        if let Some(echoed) = echoed
            && echoed.get("thoughtSignature").is_none()
            && lost.is_none()
            && validates_signatures(f)
        {
            let name = echoed["functionCall"]["name"].as_str().unwrap_or_default();
            lost = Some(missing_signature(name, w + 1));
        }
    }
    (!rules.is_empty()).then_some((rules, lost))
}

impl Mutator for Gemini {
    fn provider(&self) -> Provider {
        Provider::Gemini
    }

    fn last_turn(&self, body: &Value) -> Option<LastTurn> {
        let contents = body["contents"].as_array()?;
        let assistant = contents.iter().rposition(|c| c["role"] == "model")?;
        if contents.len() != assistant + 2 || contents[assistant + 1]["role"] != "user" {
            return None;
        }
        let turn = contents[..=assistant]
            .iter()
            .filter(|c| c["role"] == "model")
            .count();
        let mut ids = Vec::new();
        let mut names = Vec::new();
        for part in contents[assistant]["parts"].as_array()? {
            if let Some(call) = part.get("functionCall") {
                ids.push(format!("turn{turn}-call{}", ids.len() + 1));
                names.push(call["name"].as_str()?.to_owned());
            }
        }
        let responses = contents[assistant + 1]["parts"].as_array()?;
        if responses.len() != names.len() {
            return None;
        }
        let mut texts = Vec::new();
        for (part, name) in responses.iter().zip(&names) {
            let response = part.get("functionResponse")?;
            if response["name"] != name.as_str() {
                return None;
            }
            texts.push(content_text(
                response.get("response").unwrap_or(&Value::Null),
            ));
        }
        let mut thinking = Vec::new();
        for (w, content) in contents.iter().enumerate() {
            if content["role"] != "model" {
                continue;
            }
            for (b, part) in content["parts"].as_array()?.iter().enumerate() {
                if part.get("thoughtSignature").is_some() {
                    thinking.push((w, b));
                }
            }
        }
        Some(LastTurn {
            assistant,
            ids,
            names,
            texts,
            thinking,
        })
    }

    /// Gemini's mode is the method in the path (protocol notes §F4: `:generateContent`, and
    /// `:streamGenerateContent?alt=sse` for a stream); the body is the same in both.
    fn flipped_path(&self, f: &FollowUp) -> Option<String> {
        let path = f.path.as_deref()?;
        let (base, _) = path.split_once('?').unwrap_or((path, ""));
        if let Some(model) = base.strip_suffix(":streamGenerateContent") {
            Some(format!("{model}:generateContent"))
        } else {
            let model = base.strip_suffix(":generateContent")?;
            Some(format!("{model}:streamGenerateContent?alt=sse"))
        }
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
        let expected = match m {
            DropResult(i) => {
                if n < 2 {
                    return None;
                }
                parts(body, a + 1).remove(i % n);
                verdict(f, body, set(RULES_NONE))
            }
            DuplicateResult(i) => {
                let i = i % n;
                let copy = parts(body, a + 1)[i].clone();
                parts(body, a + 1).insert(i + 1, copy);
                verdict(f, body, set(RULES_NONE))
            }
            SwapContents(i, d) => {
                let (i, j) = f.two_calls(i, d)?;
                if f.texts[i] == f.texts[j] {
                    return None;
                }
                let x = body["contents"][a + 1]["parts"][i]["functionResponse"]["response"].take();
                let y = body["contents"][a + 1]["parts"][j]["functionResponse"]["response"].take();
                body["contents"][a + 1]["parts"][i]["functionResponse"]["response"] = y;
                body["contents"][a + 1]["parts"][j]["functionResponse"]["response"] = x;
                verdict(f, body, set(RULES_NONE))
            }
            UnknownId(i) => {
                let response = &mut body["contents"][a + 1]["parts"][i % n]["functionResponse"];
                response["name"] = json!("tooltape_undeclared_tool");
                if let Some(fields) = response.as_object_mut() {
                    fields.remove("id");
                }
                verdict(f, body, set(RULES_NONE))
            }
            SplitResults(s) => {
                if n < 2 {
                    return None;
                }
                let at = 1 + s % (n - 1);
                let rest = parts(body, a + 1).split_off(at);
                contents(body).push(json!({"role": "user", "parts": rest}));
                (set(["TT004"]), count_mismatch())
            }
            TextBeforeResults => {
                parts(body, a + 1).insert(0, json!({"text": "Here are the results."}));
                (set(["TT012"]), Answer::Served)
            }
            UserBeforeResults => {
                contents(body).insert(
                    a + 1,
                    json!({"role": "user", "parts": [{"text": "Here are the results."}]}),
                );
                (set(["TT004", "TT012"]), count_mismatch())
            }
            ReorderResults(s) => {
                if n < 2 {
                    return None;
                }
                let r = 1 + s % (n - 1);
                parts(body, a + 1)[..n].rotate_left(r);
                verdict(f, body, set(RULES_NONE))
            }
            AlterArguments(i) => {
                let b = call_part(body, a, i % n);
                body["contents"][a]["parts"][b]["functionCall"]["args"]["tooltape_altered"] =
                    json!(true);
                (set(["TT006"]), Answer::Served)
            }
            AlterIdEverywhere(i) => {
                let i = i % n;
                let b = call_part(body, a, i);
                body["contents"][a]["parts"][b]["functionCall"]["id"] = json!("tooltape-made-up");
                body["contents"][a + 1]["parts"][i]["functionResponse"]["id"] =
                    json!("tooltape-made-up");
                verdict(f, body, set(RULES_NONE))
            }
            AlterEchoedId(i) => {
                let b = call_part(body, a, i % n);
                body["contents"][a]["parts"][b]["functionCall"]["id"] = json!("tooltape-made-up");
                verdict(f, body, set(RULES_NONE))
            }
            RenameEchoedCall(i) => {
                let b = call_part(body, a, i % n);
                body["contents"][a]["parts"][b]["functionCall"]["name"] = json!("renamed_tool");
                verdict(f, body, set(["TT006"]))
            }
            DropEchoedCall(i) => {
                if n < 2 {
                    return None;
                }
                let b = call_part(body, a, i % n);
                parts(body, a).remove(b);
                verdict(f, body, set(["TT006"]))
            }
            DropThinking(t) => {
                if f.thinking.is_empty() {
                    return None;
                }
                let (w, b) = f.thinking[t % f.thinking.len()];
                body["contents"][w]["parts"][b]
                    .as_object_mut()?
                    .remove("thoughtSignature");
                verdict(f, body, set(RULES_NONE))
            }
            ArgumentsAsObject(i) => {
                // Gemini's `args` is an object: the mistake on this wire is the other way round.
                let b = call_part(body, a, i % n);
                let args = &mut body["contents"][a]["parts"][b]["functionCall"]["args"];
                *args = json!(args.to_string());
                (set(["TT011"]), Answer::Rejected(400))
            }
            DropAssistant => {
                contents(body).remove(a);
                (set(["TT002"]), response_turn_order())
            }
            DropPrompt => {
                let first = body["contents"]
                    .as_array()?
                    .iter()
                    .position(|c| c["role"] == "model")?;
                contents(body).drain(..first);
                (set(["TT011"]), call_turn_order())
            }
            ChangePrompt => {
                let first = body["contents"]
                    .as_array()?
                    .iter()
                    .position(|c| c["role"] == "user")?;
                body["contents"][first]["parts"] =
                    json!([{"text": "A different question entirely."}]);
                (set(["TT012"]), Answer::Served)
            }
            AfterFinalAnswer => {
                let last = cassette.turns.len() - 1;
                if f.k != last {
                    return None;
                }
                let text = cassette.turns[last]
                    .assistant
                    .as_ref()
                    .map(tooltape::transcript::AssistantTurn::text)
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| "Done.".to_owned());
                contents(body).push(json!({"role": "model", "parts": [{"text": text}]}));
                contents(body).push(json!({"role": "user", "parts": [{"text": "Thanks!"}]}));
                (set(["TT014"]), Answer::Harness)
            }
            NoApiKey => {
                for name in ["x-goog-api-key", "authorization", "?key"] {
                    *meta = meta.clone().without(name);
                }
                (set(["TT011"]), Answer::Rejected(403))
            }
            DropAllEchoedCalls => {
                let kept = parts(body, a);
                kept.retain(|p| p.get("functionCall").is_none());
                if kept.is_empty() {
                    return None;
                }
                let mut rules = set(["TT006", "TT002"]);
                if let Some((more, _)) = signatures(f, body) {
                    rules.extend(more);
                }
                (rules, response_turn_order())
            }
            ReuseEarlierId(i) => {
                let first = f.body["contents"]
                    .as_array()?
                    .iter()
                    .position(|c| c["role"] == "model")?;
                if first == a {
                    return None;
                }
                let earlier = f.body["contents"][first]["parts"]
                    .as_array()?
                    .iter()
                    .find_map(|p| p.get("functionCall").and_then(id_of))?;
                body["contents"][a + 1]["parts"][i % n]["functionResponse"]["id"] = json!(earlier);
                verdict(f, body, set(RULES_NONE))
            }
            SwapIds(i, d) => {
                let (i, j) = f.two_calls(i, d)?;
                let path = |k: usize| format!("/contents/{}/parts/{k}/functionResponse/id", a + 1);
                let x = body.pointer(&path(i))?.clone();
                let y = body.pointer(&path(j))?.clone();
                *body.pointer_mut(&path(i))? = y;
                *body.pointer_mut(&path(j))? = x;
                verdict(f, body, set(RULES_NONE))
            }
            RespaceArguments(i) => {
                let b = call_part(body, a, i % n);
                let args =
                    body["contents"][a]["parts"][b]["functionCall"]["args"].as_object_mut()?;
                let reversed: serde_json::Map<String, Value> = args
                    .iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                *args = reversed;
                (set(RULES_NONE), Answer::Served)
            }
            // No error flag, no parallel switch, no version header, and other wires' shapes;
            // the stream is the path's (`flipped_path`), and `NotJson` is the driver's.
            DropIsError(_) | FlipStream | NoVersionHeader | SystemBeforeResults | PromptAsParts
            | NoNullContent | ResultAsParts(_) | ParallelOff | NotJson => return None,
            // OpenAI Responses' items.
            AnswerByItemId(_) | EmptyCallId(_) | DuplicateItem(_) | UnknownContinuation => {
                return None;
            }
        };
        Some(expected)
    }
}

// Reproducers of what the oracle checks on this wire.

/// The recorded pydantic-ai follow-up echoes the signature URL-safe; the same echo with the
/// signature in the standard alphabet is the same bytes, and a changed byte is another.
#[test]
fn a_signature_is_the_same_in_either_base64_alphabet_and_another_byte_is_altered() {
    let cassette = crate::support::load("gemini/pydantic-ai-3-flash-parallel3-multiturn.json");
    let body = cassette.file.interactions[1].request.body.clone();
    let echoed = body["contents"][1]["parts"][0]["thoughtSignature"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(echoed.contains('_') || echoed.contains('-'), "{echoed}");
    let judged = |signature: &str| {
        let mut b = body.clone();
        b["contents"][1]["parts"][0]["thoughtSignature"] = json!(signature);
        let (rules, status, _) = judge(
            &cassette,
            RequestMeta::all(),
            &serde_json::to_vec(&b).unwrap(),
        );
        (rules, status)
    };
    let standard = echoed.replace('-', "+").replace('_', "/");
    assert_eq!(judged(&echoed), (set(RULES_NONE), 200));
    assert_eq!(judged(&standard), (set(RULES_NONE), 200));
    assert_eq!(
        judged(standard.trim_end_matches('=')),
        (set(RULES_NONE), 200)
    );
    let other = format!("A{}", &standard[1..]);
    assert_eq!(judged(&other), (set(["TT006"]), 200));
}

/// A correct loop that answers the three calls of one tool in call order, without ids, passes;
/// so does one that invents ids on both sides.
#[test]
fn same_tool_calls_answered_in_order_without_ids_or_with_made_up_ones_pass() {
    let cassette = crate::support::load("gemini/pydantic-ai-3-flash-parallel3-multiturn.json");
    let mut body = cassette.file.interactions[1].request.body.clone();
    for c in [1, 2] {
        for part in body["contents"][c]["parts"].as_array_mut().unwrap() {
            for key in ["functionCall", "functionResponse"] {
                if let Some(x) = part.get_mut(key).and_then(Value::as_object_mut) {
                    x.remove("id");
                }
            }
        }
    }
    let (rules, status, _) = judge(
        &cassette,
        RequestMeta::all(),
        &serde_json::to_vec(&body).unwrap(),
    );
    assert_eq!((rules, status), (set(RULES_NONE), 200));
}

/// Gemini's mode is the path's: the same follow-up sent to the other method gets the recorded
/// turn re-encoded in that mode, for a turn recorded as JSON and for one recorded as a stream.
#[test]
fn a_gemini_follow_up_sent_to_the_other_method_gets_the_turn_in_that_mode() {
    use super::mutation::{Mutation, check_answer, judge_findings_on, mutate, route_of};
    for (name, recorded_stream) in [
        ("gemini/handmade-gemini-three-turns.json", false),
        ("gemini/handmade-gemini-partial-args-stream.json", true),
    ] {
        let cassette = crate::support::load(name);
        let f = FollowUp::parse(&cassette, 1).expect("a clean follow-up");
        let mutated = mutate(&f, Mutation::FlipStream, &cassette).expect("FlipStream applies");
        let path = mutated.path.clone().expect("the other method's path");
        assert_eq!(
            route_of(Provider::Gemini, &path).stream,
            Some(!recorded_stream),
            "{name}: {path}"
        );
        let (findings, status, body) = judge_findings_on(
            &cassette,
            &route_of(Provider::Gemini, &path),
            mutated.meta,
            &mutated.body,
        );
        assert!(findings.is_empty(), "{name}: {findings:?}");
        let recorded = match &cassette.turns[1].response.body {
            tooltape::cassette::ResponseBody::Json { text } => text.clone().into_bytes(),
            tooltape::cassette::ResponseBody::Sse { frames } => frames.concat().into_bytes(),
        };
        assert_ne!(body, recorded, "{name}: served verbatim, not re-encoded");
        check_answer(&mutated.answer, status, &body, &recorded)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
