//! Testing the tester: the positive oracle (the reference loop replays any generated cassette
//! conformantly, with exact timings on a virtual clock) and the mutation oracle (one mistake
//! in a correct follow-up makes exactly the matching rules fire, with the provider's own 400).

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};
use tooltape::Cassette;
use tooltape::cassette::ResponseBody;
use tooltape::conformance::{Finding, RULES, SessionContext, SessionRequest, Severity, ToolSpan};
use tooltape::provider::Provider;
use tooltape::reference_loop::{LoopOutcome, ReferenceLoop};
use tooltape::report::{CassetteReport, Report, render_human};
use tooltape::run::{RunOptions, run};
use tooltape::server::{CassetteResponder, Entry, Replay, RequestMeta};
use tooltape::transcript::ToolCall;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use crate::generators::{Generated, any_cassette, config};
use crate::support::{fixture_files, load, load_path, snapshot_settings};

// ---------------------------------------------------------------------------------------------
// The positive oracle: the reference loop

/// A runtime whose clock only moves when every task waits on a timer: tool latencies cost no
/// real time and spans come out exact.
fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

/// In-process tools for a generated cassette: each call sleeps its generated latency, then
/// returns its recorded answer or fails with its tool's message.
fn generated_tools(
    generated: Arc<Generated>,
) -> impl Fn(usize, ToolCall) -> futures::future::BoxFuture<'static, Result<Value, String>>
+ Send
+ Sync
+ 'static {
    move |turn: usize, call: ToolCall| {
        let g = generated.clone();
        Box::pin(async move {
            let i = g.turns[turn]
                .calls
                .iter()
                .position(|c| c.id == call.id)
                .unwrap_or_else(|| panic!("turn {turn} has no call `{}`", call.id));
            tokio::time::sleep(g.latency(turn, i)).await;
            let answer = &g.turns[turn].answers[i];
            if answer.is_error {
                Err(crate::generators::content_text(&answer.content))
            } else {
                Ok(answer.content.clone())
            }
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Checks what the loop did against the generated conversation: calls as served, results
/// in call order with the right content, and each turn's spans exactly as a concurrent loop
/// with `sequential` tools chained makes them.
fn check_outcome(generated: &Generated, outcome: &LoopOutcome) -> Result<(), TestCaseError> {
    prop_assert_eq!(outcome.turns.len(), generated.turns.len());
    prop_assert_eq!(outcome.requests, generated.turns.len() + 1);
    prop_assert_eq!(&outcome.final_text, &generated.spec.final_text);
    for (t, (done, turn)) in outcome.turns.iter().zip(&generated.turns).enumerate() {
        let ids: Vec<&str> = turn.calls.iter().map(|c| c.id.as_str()).collect();
        let called: Vec<&str> = done.calls.iter().map(|c| c.id.as_str()).collect();
        let answered: Vec<&str> = done.results.iter().map(|r| r.call_id.as_str()).collect();
        prop_assert_eq!(&called, &ids, "turn {}: calls", t);
        prop_assert_eq!(&answered, &ids, "turn {}: results in call order", t);
        for (r, a) in done.results.iter().zip(&turn.answers) {
            prop_assert_eq!(
                &r.content,
                &a.content,
                "turn {}: content of {}",
                t,
                r.call_id
            );
            prop_assert_eq!(
                r.is_error,
                a.is_error,
                "turn {}: is_error of {}",
                t,
                r.call_id
            );
        }
        let spans = &done.spans;
        prop_assert_eq!(spans.len(), ids.len());
        let start = spans
            .iter()
            .map(|s| s.start_ms)
            .fold(f64::INFINITY, f64::min);
        let end = spans
            .iter()
            .map(|s| s.end_ms)
            .fold(f64::NEG_INFINITY, f64::max);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        prop_assert!(
            close(end - start, ms(generated.ideal_wall(t))),
            "turn {}: wall {} ms, expected {} ms: {:?}",
            t,
            end - start,
            ms(generated.ideal_wall(t)),
            spans
        );
        let mut chain = start;
        for (i, (span, call)) in spans.iter().zip(&turn.calls).enumerate() {
            prop_assert_eq!(&span.call_id, &call.id);
            prop_assert!(
                close(span.end_ms - span.start_ms, ms(generated.latency(t, i))),
                "{:?}",
                span
            );
            if generated.sim(&call.name).sequential {
                prop_assert!(
                    close(span.start_ms, chain),
                    "turn {}: sequential call {} starts at {} not {}",
                    t,
                    i,
                    span.start_ms,
                    chain
                );
                chain = span.end_ms;
            } else {
                prop_assert!(
                    close(span.start_ms, start),
                    "turn {}: independent call {} starts late",
                    t,
                    i
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(24))]

    /// Through the wiremock adapter, whose server runs on its own thread, so the test's clock
    /// is fully virtual: the bodies the loop sent are exactly the generated correct requests.
    #[test]
    fn the_reference_loop_sends_exactly_the_correct_requests_with_exact_timings(generated in any_cassette()) {
        let generated = Arc::new(generated);
        let cassette = generated.cassette();
        let rt = paused_runtime();
        let (outcome, bodies, findings) = rt.block_on(async {
            let server = MockServer::start().await;
            let responder = CassetteResponder::new(cassette.clone());
            Mock::given(method("POST")).respond_with(responder.clone()).mount(&server).await;
            let tools = generated_tools(generated.clone());
            let outcome = ReferenceLoop::new(server.uri())
                .tool_timeout(Duration::from_secs(3600))
                .run(&cassette, &tools)
                .await;
            let bodies: Vec<Value> = server
                .received_requests()
                .await
                .unwrap_or_default()
                .iter()
                .map(|r| serde_json::from_slice(&r.body).expect("the loop sends JSON"))
                .collect();
            (outcome, bodies, responder.findings())
        });
        let outcome = outcome.map_err(|e| TestCaseError::fail(format!("the loop stopped: {e}")))?;
        prop_assert_eq!(&findings, &Vec::new(), "findings for a correct loop");
        check_outcome(&generated, &outcome)?;
        prop_assert_eq!(bodies.len(), generated.turns.len() + 1);
        for (k, body) in bodies.iter().enumerate() {
            let want = generated.request(k);
            prop_assert!(body == &want, "request {} differs:\n sent {}\n want {}", k, body, want);
        }
    }
}

proptest! {
    #![proptest_config(config(12))]

    /// The product path: `tooltape run` (hyper server on loopback, cassette-simulated tools).
    /// The tools' clock is tokio's and paused, so the report's timing figures are exact too.
    #[test]
    fn tooltape_run_judges_any_generated_cassette_conformant(generated in any_cassette()) {
        let cassette = Arc::new(generated.cassette());
        let rt = paused_runtime();
        let options = RunOptions { tool_timeout: Duration::from_secs(3600), ..RunOptions::default() };
        let (report, runs) = rt.block_on(run(vec![cassette], &options)).expect("a loopback port");
        let outcome = runs[0].outcome.as_ref().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert!(report.is_conformant(), "{}", report);
        check_outcome(&generated, outcome)?;
        for (t, timing) in report.cassettes[0].turns.iter().enumerate() {
            let tenth = |d: Duration| (ms(d) * 10.0).round() / 10.0;
            prop_assert_eq!(timing.tool_wall_ms, tenth(generated.ideal_wall(t)));
            let longest = (0..generated.turns[t].calls.len()).map(|i| generated.latency(t, i)).max().unwrap();
            let sum: Duration = (0..generated.turns[t].calls.len()).map(|i| generated.latency(t, i)).sum();
            prop_assert_eq!(timing.ideal_ms, tenth(longest));
            prop_assert_eq!(timing.sequential_ms, tenth(sum));
        }
    }
}

#[test]
fn generated_providers_are_both_covered_by_the_positive_oracle() {
    assert_eq!(
        Provider::ALL.len(),
        2,
        "add the new provider to the generators"
    );
}

// ---------------------------------------------------------------------------------------------
// The mutation oracle

/// The provider's answer a mutated request must get.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    /// The recorded response (the API accepts the request).
    Served,
    /// OpenAI's 400, built from the reference texts: message, `param`, `code`.
    OpenAi {
        message: String,
        param: Option<String>,
        code: Option<&'static str>,
    },
    /// Anthropic's error, built from the reference texts: status, error type, message.
    Anthropic {
        status: u16,
        kind: &'static str,
        message: String,
    },
    /// A provider error with this status whose exact text no reference captured.
    Rejected(u16),
    /// tooltape's own refusal (the conversation left the cassette): status 400, a message
    /// starting with `tooltape:`.
    Harness,
    /// The real API's answer is not known (no captured text): not asserted.
    Unknown,
}

// The texts below are copied from reference/recordings/API_ERRORS.md and
// reference/protocol-notes.md (§A5, §F1, §F3), never from tooltape's output.

fn oa_missing(assistant: usize, ids: &[String]) -> Answer {
    Answer::OpenAi {
        message: format!(
            "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
            ids.join(", ")
        ),
        param: Some(format!("messages.[{assistant}].role")),
        code: None,
    }
}

fn oa_orphan(message: usize) -> Answer {
    Answer::OpenAi {
        message: "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.".to_owned(),
        param: Some(format!("messages.[{message}].role")),
        code: None,
    }
}

/// The text is captured; the `param` is the protocol notes' best guess (§A5).
fn oa_unknown(message: usize, id: &str) -> Answer {
    Answer::OpenAi {
        message: format!(
            "Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' of previous message."
        ),
        param: Some(format!("messages.[{message}].tool_call_id")),
        code: None,
    }
}

fn oa_duplicate(first: usize, second: usize, id: &str) -> Answer {
    Answer::OpenAi {
        message: format!(
            "Invalid parameter: Duplicate value for 'tool_call_id' of '{id}', in messages[{first}] and messages[{second}]."
        ),
        param: Some(format!("messages.[{second}].tool_call_id")),
        code: None,
    }
}

fn oa_arguments_object(message: usize, call: usize) -> Answer {
    let path = format!("messages[{message}].tool_calls[{call}].function.arguments");
    Answer::OpenAi {
        message: format!(
            "Invalid type for '{path}': expected a string, but got an object instead."
        ),
        param: Some(path),
        code: Some("invalid_type"),
    }
}

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
    Answer::Anthropic {
        status: 400,
        kind: "invalid_request_error",
        message,
    }
}

/// Checks a reply against the expected answer, byte for byte for the providers' errors.
fn check_answer(answer: &Answer, status: u16, body: &[u8], served: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    match answer {
        Answer::Unknown => Ok(()),
        Answer::Served if status == 200 && body == served => Ok(()),
        Answer::Served => Err(format!(
            "expected the recorded response, got {status}: {text}"
        )),
        Answer::OpenAi {
            message,
            param,
            code,
        } => {
            let expected = format!(
                r#"{{"error":{{"message":{},"type":"invalid_request_error","param":{},"code":{}}}}}"#,
                serde_json::to_string(message).unwrap(),
                serde_json::to_string(param).unwrap(),
                serde_json::to_string(code).unwrap(),
            );
            if status == 400 && text == expected {
                Ok(())
            } else {
                Err(format!("expected 400 {expected}\n     got {status} {text}"))
            }
        }
        Answer::Rejected(want) => {
            let got: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            if status == *want && got.get("error").is_some() {
                Ok(())
            } else {
                Err(format!("expected a {want} error body, got {status} {text}"))
            }
        }
        Answer::Anthropic {
            status: want,
            kind,
            message,
        } => {
            let got: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let request_id = got["request_id"].as_str().unwrap_or_default();
            let id_ok = request_id.starts_with("req_")
                && request_id[4..].chars().all(|c| c.is_ascii_alphanumeric());
            let expected = format!(
                r#"{{"type":"error","error":{{"type":"{kind}","message":{}}},"request_id":"{request_id}"}}"#,
                serde_json::to_string(message).unwrap()
            );
            if status == *want && id_ok && text == expected {
                Ok(())
            } else {
                Err(format!(
                    "expected {want} {expected}\n     got {status} {text}"
                ))
            }
        }
        Answer::Harness => {
            let got: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let message = got["error"]["message"].as_str().unwrap_or_default();
            if status == 400 && message.starts_with("tooltape:") {
                Ok(())
            } else {
                Err(format!("expected tooltape's own 400, got {status} {text}"))
            }
        }
    }
}

/// A correct follow-up request on the wire, and where its last turn's calls and results are.
/// Read from the JSON by the oracle itself, not by tooltape's codecs.
#[derive(Debug, Clone)]
struct FollowUp {
    provider: Provider,
    /// The request's index in the cassette: the number of assistant turns it carries.
    k: usize,
    body: Value,
    /// Wire index of the last assistant message.
    assistant: usize,
    /// Its call ids, in call order.
    ids: Vec<String>,
    /// Each call's result content as text, in call order.
    texts: Vec<String>,
    /// Whether each call's tool fails (the cassette's `fails`).
    failing: Vec<bool>,
    /// Thinking blocks of every assistant message: (wire message, block).
    thinking: Vec<(usize, usize)>,
}

const RULES_NONE: [&str; 0] = [];

impl FollowUp {
    /// Request `k` of `cassette`, when it answers the calls of its last assistant message in
    /// call order, in the provider's container, and ends there.
    fn parse(cassette: &Cassette, k: usize) -> Option<Self> {
        let provider = cassette.provider();
        let body = cassette.file.interactions[k].request.body.clone();
        let messages = body["messages"].as_array()?;
        let assistant = messages.iter().rposition(|m| m["role"] == "assistant")?;
        let mut ids = Vec::new();
        let mut names = Vec::new();
        let mut texts = Vec::new();
        match provider {
            Provider::OpenAiChat => {
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
                    texts.push(crate::generators::content_text(&m["content"]));
                }
            }
            Provider::Anthropic => {
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
                    texts.push(crate::generators::content_text(
                        block.get("content").unwrap_or(&Value::Null),
                    ));
                }
            }
        }
        if ids.is_empty() {
            return None;
        }
        let failing = names
            .iter()
            .map(|n| {
                cassette
                    .file
                    .tools
                    .get(n)
                    .is_some_and(|t| t.fails.is_some())
            })
            .collect();
        let mut thinking = Vec::new();
        for (w, m) in messages.iter().enumerate() {
            if m["role"] != "assistant" {
                continue;
            }
            for (b, block) in m["content"].as_array().into_iter().flatten().enumerate() {
                if matches!(
                    block["type"].as_str(),
                    Some("thinking" | "redacted_thinking")
                ) {
                    thinking.push((w, b));
                }
            }
        }
        Some(Self {
            provider,
            k,
            body,
            assistant,
            ids,
            texts,
            failing,
            thinking,
        })
    }

    fn n(&self) -> usize {
        self.ids.len()
    }

    /// TT001, or TT010 when a call of the turn fails (a missing result is then judged as a
    /// dropped failure or sibling).
    fn missing_rule(&self) -> &'static str {
        if self.failing.iter().any(|f| *f) {
            "TT010"
        } else {
            "TT001"
        }
    }

    /// The provider's error for unanswered calls of the last assistant message.
    fn missing(&self, body: &Value, ids: &[String]) -> Answer {
        match self.provider {
            Provider::OpenAiChat => oa_missing(self.assistant, ids),
            Provider::Anthropic => {
                an_missing(merged(self.provider, body, self.assistant, 0).0, ids)
            }
        }
    }

    fn fresh_id(&self) -> String {
        match self.provider {
            Provider::OpenAiChat => "call_UnknownUnknownUnknown99".to_owned(),
            Provider::Anthropic => "toolu_01UnknownUnknownUnknown9".to_owned(),
        }
    }
}

/// Where wire message `wire`, block `block` sits once Anthropic has merged consecutive
/// messages of the same role: (merged message, block within it). OpenAI does not merge.
fn merged(provider: Provider, body: &Value, wire: usize, block: usize) -> (usize, usize) {
    let messages = body["messages"].as_array().expect("messages");
    if provider == Provider::Anthropic {
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
    } else {
        (wire, block)
    }
}

/// One mistake in a follow-up (or a change that is no mistake, to catch false positives).
/// Indices are taken modulo the number of calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mutation {
    DropResult(usize),
    DuplicateResult(usize),
    SwapContents(usize, usize),
    UnknownId(usize),
    SplitResults(usize),
    TextBeforeResults,
    UserBeforeResults,
    ReorderResults(usize),
    AlterArguments(usize),
    AlterIdEverywhere(usize),
    AlterEchoedId(usize),
    DropEchoedCall(usize),
    DropThinking(usize),
    ArgumentsAsObject(usize),
    DropAssistant,
    ChangePrompt,
    AfterFinalAnswer,
    DropIsError(usize),
    FlipStream,
    NotJson,
    NoApiKey,
    NoVersionHeader,
    DropAllEchoedCalls,
    SystemBeforeResults,
    ReuseEarlierId(usize),
    SwapIds(usize, usize),
    RespaceArguments(usize),
    PromptAsParts,
    NoNullContent,
    ResultAsParts(usize),
}

impl Mutation {
    /// Every mutation with its index parameters drawn from `p`.
    fn all(p: [usize; 3]) -> Vec<Mutation> {
        use Mutation::*;
        vec![
            DropResult(p[0]),
            DuplicateResult(p[1]),
            SwapContents(p[0], p[2]),
            UnknownId(p[2]),
            SplitResults(p[1]),
            TextBeforeResults,
            UserBeforeResults,
            ReorderResults(p[2]),
            AlterArguments(p[1]),
            AlterIdEverywhere(p[0]),
            AlterEchoedId(p[2]),
            DropEchoedCall(p[1]),
            DropThinking(p[0]),
            ArgumentsAsObject(p[1]),
            DropAssistant,
            ChangePrompt,
            AfterFinalAnswer,
            DropIsError(p[0]),
            FlipStream,
            NotJson,
            NoApiKey,
            NoVersionHeader,
            DropAllEchoedCalls,
            SystemBeforeResults,
            ReuseEarlierId(p[0]),
            SwapIds(p[1], p[2]),
            RespaceArguments(p[2]),
            PromptAsParts,
            NoNullContent,
            ResultAsParts(p[0]),
        ]
    }
}

/// A mutated request, ready to send, with what it must provoke.
struct Mutated {
    body: Vec<u8>,
    meta: RequestMeta,
    rules: BTreeSet<&'static str>,
    answer: Answer,
}

fn set<const N: usize>(rules: [&'static str; N]) -> BTreeSet<&'static str> {
    rules.into_iter().collect()
}

fn msgs(body: &mut Value) -> &mut Vec<Value> {
    body["messages"].as_array_mut().expect("messages")
}

/// Applies one mutation to a correct follow-up; `None` when it does not apply.
fn mutate(f: &FollowUp, m: Mutation, cassette: &Cassette) -> Option<Mutated> {
    use Mutation::*;
    let n = f.n();
    let a = f.assistant;
    let openai = f.provider == Provider::OpenAiChat;
    let mut body = f.body.clone();
    let mut meta = RequestMeta::all();
    let missing = f.missing_rule();
    // The `i`th tool_use block's index in an Anthropic assistant message.
    let use_block = |body: &Value, i: usize| -> usize {
        body["messages"][a]["content"]
            .as_array()
            .expect("content")
            .iter()
            .enumerate()
            .filter(|(_, b)| b["type"] == "tool_use")
            .nth(i)
            .expect("a tool_use block")
            .0
    };
    let (rules, answer) = match m {
        DropResult(i) => {
            let i = i % n;
            if openai {
                msgs(&mut body).remove(a + 1 + i);
            } else {
                if n < 2 {
                    return None;
                }
                body["messages"][a + 1]["content"].as_array_mut()?.remove(i);
            }
            (set([missing]), f.missing(&body, &[f.ids[i].clone()]))
        }
        DuplicateResult(i) => {
            let i = i % n;
            if openai {
                let copy = msgs(&mut body)[a + 1 + i].clone();
                msgs(&mut body).insert(a + 2 + i, copy);
                (
                    set(["TT003"]),
                    oa_duplicate(a + 1 + i, a + 2 + i, &f.ids[i]),
                )
            } else {
                let content = body["messages"][a + 1]["content"].as_array_mut()?;
                let copy = content[i].clone();
                content.insert(i + 1, copy);
                let (m, b) = merged(f.provider, &body, a + 1, i + 1);
                (set(["TT003"]), an_duplicate(m, b, &f.ids[i]))
            }
        }
        SwapContents(i, d) => {
            if n < 2 {
                return None;
            }
            let i = i % n;
            let j = (i + 1 + d % (n - 1)) % n;
            if f.texts[i] == f.texts[j] {
                return None;
            }
            let slot = |i: usize| -> (usize, Option<usize>) {
                if openai {
                    (a + 1 + i, None)
                } else {
                    (a + 1, Some(i))
                }
            };
            let get = |body: &Value, (m, b): (usize, Option<usize>)| -> Value {
                let v = match b {
                    None => &body["messages"][m],
                    Some(b) => &body["messages"][m]["content"][b],
                };
                v.get("content").cloned().unwrap_or(Value::Null)
            };
            let put = |body: &mut Value, (m, b): (usize, Option<usize>), c: Value| {
                let v = match b {
                    None => &mut body["messages"][m],
                    Some(b) => &mut body["messages"][m]["content"][b],
                };
                v["content"] = c;
            };
            let (x, y) = (get(&body, slot(i)), get(&body, slot(j)));
            put(&mut body, slot(i), y);
            put(&mut body, slot(j), x);
            (set(["TT009"]), Answer::Served)
        }
        UnknownId(i) => {
            let i = i % n;
            let fresh = f.fresh_id();
            if openai {
                msgs(&mut body)[a + 1 + i]["tool_call_id"] = json!(fresh);
            } else {
                body["messages"][a + 1]["content"][i]["tool_use_id"] = json!(fresh);
            }
            (
                set(["TT002", missing]),
                f.missing(&body, &[f.ids[i].clone()]),
            )
        }
        SplitResults(s) => {
            if openai || n < 2 {
                return None;
            }
            let at = 1 + s % (n - 1);
            let content = body["messages"][a + 1]["content"].as_array_mut()?;
            let rest = content.split_off(at);
            msgs(&mut body).push(json!({"role": "user", "content": rest}));
            (set(["TT005"]), Answer::Served)
        }
        TextBeforeResults => {
            if openai {
                return None;
            }
            body["messages"][a + 1]["content"]
                .as_array_mut()?
                .insert(0, json!({"type": "text", "text": "Here are the results."}));
            (set(["TT004", "TT012"]), f.missing(&body, &f.ids))
        }
        UserBeforeResults => {
            if !openai {
                return None;
            }
            msgs(&mut body).insert(
                a + 1,
                json!({"role": "user", "content": "Here are the results."}),
            );
            (set(["TT004", "TT012"]), f.missing(&body, &f.ids))
        }
        ReorderResults(s) => {
            if n < 2 {
                return None;
            }
            let r = 1 + s % (n - 1);
            if openai {
                msgs(&mut body)[a + 1..a + 1 + n].rotate_left(r);
            } else {
                body["messages"][a + 1]["content"].as_array_mut()?[..n].rotate_left(r);
            }
            (set(["TT007"]), Answer::Served)
        }
        AlterArguments(i) => {
            let i = i % n;
            if openai {
                let args = &mut body["messages"][a]["tool_calls"][i]["function"]["arguments"];
                let mut value: Value = serde_json::from_str(args.as_str()?).unwrap_or(json!({}));
                if !value.is_object() {
                    value = json!({});
                }
                value["tooltape_altered"] = json!(true);
                *args = json!(value.to_string());
            } else {
                let b = use_block(&body, i);
                body["messages"][a]["content"][b]["input"]["tooltape_altered"] = json!(true);
            }
            (set(["TT006"]), Answer::Served)
        }
        AlterIdEverywhere(i) | AlterEchoedId(i) => {
            let i = i % n;
            let fresh = f.fresh_id();
            if openai {
                body["messages"][a]["tool_calls"][i]["id"] = json!(fresh);
            } else {
                let b = use_block(&body, i);
                body["messages"][a]["content"][b]["id"] = json!(fresh);
            }
            if matches!(m, AlterIdEverywhere(_)) {
                if openai {
                    msgs(&mut body)[a + 1 + i]["tool_call_id"] = json!(fresh);
                } else {
                    body["messages"][a + 1]["content"][i]["tool_use_id"] = json!(fresh);
                }
                (set(["TT006"]), Answer::Served)
            } else {
                (set(["TT006", "TT002", missing]), f.missing(&body, &[fresh]))
            }
        }
        DropEchoedCall(i) => {
            if n < 2 {
                return None;
            }
            let i = i % n;
            if openai {
                body["messages"][a]["tool_calls"].as_array_mut()?.remove(i);
                (set(["TT006", "TT002"]), oa_unknown(a + 1 + i, &f.ids[i]))
            } else {
                let b = use_block(&body, i);
                body["messages"][a]["content"].as_array_mut()?.remove(b);
                let (m, b) = merged(f.provider, &body, a + 1, i);
                (set(["TT006", "TT002"]), an_unknown(m, b, &f.ids[i]))
            }
        }
        DropThinking(t) => {
            if f.thinking.is_empty() {
                return None;
            }
            let (w, b) = f.thinking[t % f.thinking.len()];
            body["messages"][w]["content"].as_array_mut()?.remove(b);
            // With thinking enabled the API refuses a tool-use turn sent back without its
            // thinking block, but no reference captured that text.
            (set(["TT006"]), Answer::Unknown)
        }
        ArgumentsAsObject(i) => {
            let i = i % n;
            if !openai {
                return None;
            }
            let args = &mut body["messages"][a]["tool_calls"][i]["function"]["arguments"];
            let value: Value = serde_json::from_str(args.as_str()?).ok()?;
            if !value.is_object() {
                return None;
            }
            *args = value;
            (set(["TT011"]), oa_arguments_object(a, i))
        }
        DropAssistant => {
            let previous = f.body["messages"].as_array()?[..a]
                .iter()
                .rposition(|m| m["role"] == "assistant");
            msgs(&mut body).remove(a);
            let answer = if openai {
                let contiguous = previous.is_some_and(|p| {
                    f.body["messages"].as_array().unwrap()[p + 1..a]
                        .iter()
                        .all(|m| m["role"] == "tool")
                });
                if contiguous {
                    oa_unknown(a, &f.ids[0])
                } else {
                    oa_orphan(a)
                }
            } else {
                let (m, b) = merged(f.provider, &body, a, 0);
                an_unknown(m, b, &f.ids[0])
            };
            (set(["TT002"]), answer)
        }
        ChangePrompt => {
            let first = msgs(&mut body).iter().position(|m| m["role"] == "user")?;
            msgs(&mut body)[first]["content"] = json!("A different question entirely.");
            (set(["TT012"]), Answer::Harness)
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
            let echo = if openai {
                json!({"role": "assistant", "content": text})
            } else {
                json!({"role": "assistant", "content": [{"type": "text", "text": text}]})
            };
            msgs(&mut body).push(echo);
            msgs(&mut body).push(json!({"role": "user", "content": "Thanks!"}));
            (set(["TT014"]), Answer::Harness)
        }
        DropIsError(i) => {
            let i = i % n;
            if openai || !f.failing[i] {
                return None;
            }
            body["messages"][a + 1]["content"][i]
                .as_object_mut()?
                .remove("is_error");
            (set(["TT010"]), Answer::Served)
        }
        FlipStream => {
            let stream = body["stream"].as_bool().unwrap_or(false);
            body["stream"] = json!(!stream);
            (set(["TT012"]), Answer::Harness)
        }
        NotJson => {
            let mut text = serde_json::to_vec(&body).ok()?;
            text.pop();
            return Some(Mutated {
                body: text,
                meta,
                rules: set(["TT011"]),
                answer: Answer::Rejected(400),
            });
        }
        NoApiKey => {
            if openai {
                meta.authorization = false;
                (set(["TT011"]), Answer::Rejected(401))
            } else {
                // Neither key header: newer Anthropic SDKs send `Authorization: Bearer`, which
                // the server accepts in place of `x-api-key`.
                meta.x_api_key = false;
                meta.authorization = false;
                let answer = Answer::Anthropic {
                    status: 401,
                    kind: "authentication_error",
                    message: "x-api-key header is required".to_owned(),
                };
                (set(["TT011"]), answer)
            }
        }
        NoVersionHeader => {
            if openai {
                return None;
            }
            meta.anthropic_version = false;
            (
                set(["TT011"]),
                anthropic("anthropic-version: header is required".to_owned()),
            )
        }
        DropAllEchoedCalls => {
            if openai {
                let echoed = body["messages"][a].as_object_mut()?;
                echoed.remove("tool_calls");
                if echoed.get("content").is_none_or(Value::is_null) {
                    echoed.insert("content".to_owned(), json!(""));
                }
                (set(["TT006", "TT002"]), oa_orphan(a + 1))
            } else {
                let content = body["messages"][a]["content"].as_array_mut()?;
                content.retain(|b| b["type"] != "tool_use");
                if content.is_empty() {
                    return None;
                }
                let (m, b) = merged(f.provider, &body, a + 1, 0);
                (set(["TT006", "TT002"]), an_unknown(m, b, &f.ids[0]))
            }
        }
        SystemBeforeResults => {
            if !openai {
                return None;
            }
            msgs(&mut body).insert(a + 1, json!({"role": "system", "content": "Be brief."}));
            (set(["TT004"]), f.missing(&body, &f.ids))
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
            let earlier = if openai {
                f.body["messages"][first]["tool_calls"][0]["id"].clone()
            } else {
                f.body["messages"][first]["content"]
                    .as_array()?
                    .iter()
                    .find(|b| b["type"] == "tool_use")?["id"]
                    .clone()
            };
            if openai {
                msgs(&mut body)[a + 1 + i]["tool_call_id"] = earlier;
            } else {
                body["messages"][a + 1]["content"][i]["tool_use_id"] = earlier;
            }
            (
                set(["TT003", missing]),
                f.missing(&body, &[f.ids[i].clone()]),
            )
        }
        SwapIds(i, d) => {
            if n < 2 {
                return None;
            }
            let i = i % n;
            let j = (i + 1 + d % (n - 1)) % n;
            let path = |k: usize| {
                if openai {
                    format!("/messages/{}/tool_call_id", a + 1 + k)
                } else {
                    format!("/messages/{}/content/{k}/tool_use_id", a + 1)
                }
            };
            let x = body.pointer(&path(i))?.clone();
            let y = body.pointer(&path(j))?.clone();
            *body.pointer_mut(&path(i))? = y;
            *body.pointer_mut(&path(j))? = x;
            let mut rules = set(["TT007"]);
            if f.texts[i] != f.texts[j] {
                rules.insert("TT009");
            }
            // The failing tool's id now carries its sibling's result, without `is_error`.
            if !openai && f.failing[i] != f.failing[j] {
                rules.insert("TT010");
            }
            (rules, Answer::Served)
        }
        ResultAsParts(i) => {
            let i = i % n;
            let result = if openai {
                &mut body["messages"][a + 1 + i]
            } else {
                &mut body["messages"][a + 1]["content"][i]
            };
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
            if openai {
                let args = &mut body["messages"][a]["tool_calls"][i]["function"]["arguments"];
                let value: Value = serde_json::from_str(args.as_str()?).ok()?;
                *args = json!(crate::generators::write_json(&value, true, true));
            } else {
                let b = use_block(&body, i);
                let input = body["messages"][a]["content"][b]["input"].as_object_mut()?;
                let reversed: serde_json::Map<String, Value> = input
                    .iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                *input = reversed;
            }
            (set(RULES_NONE), Answer::Served)
        }
        PromptAsParts => {
            let first = msgs(&mut body).iter().position(|m| m["role"] == "user")?;
            let content = &mut msgs(&mut body)[first]["content"];
            match content.clone() {
                Value::String(s) => *content = json!([{"type": "text", "text": s}]),
                Value::Array(parts) if parts.len() == 1 && parts[0]["type"] == "text" => {
                    *content = parts[0]["text"].clone();
                }
                _ => return None,
            }
            (set(RULES_NONE), Answer::Served)
        }
        NoNullContent => {
            if !openai || !body["messages"][a]["content"].is_null() {
                return None;
            }
            body["messages"][a].as_object_mut()?.remove("content");
            (set(RULES_NONE), Answer::Served)
        }
    };
    Some(Mutated {
        body: serde_json::to_vec(&body).expect("JSON"),
        meta,
        rules,
        answer,
    })
}

/// Sends one request to a fresh replay of `cassette`: the findings on it, the status and the
/// body.
fn judge_findings(
    cassette: &Arc<Cassette>,
    meta: RequestMeta,
    body: &[u8],
) -> (Vec<Finding>, u16, Vec<u8>) {
    let replay = Replay::new();
    replay.add_session("s", cassette.clone());
    let reply = replay.handle_model(Some("s"), cassette.provider(), meta, body);
    let findings = replay
        .journal()
        .session("s")
        .into_iter()
        .flat_map(|e| match e {
            Entry::Model(m) => m.findings,
            Entry::Tool(_) => Vec::new(),
        })
        .collect();
    (findings, reply.status(), reply.body_bytes().to_vec())
}

/// As [`judge_findings`], with the rule ids that fired.
fn judge(
    cassette: &Arc<Cassette>,
    meta: RequestMeta,
    body: &[u8],
) -> (BTreeSet<&'static str>, u16, Vec<u8>) {
    let (findings, status, body) = judge_findings(cassette, meta, body);
    (findings.iter().map(|f| f.rule).collect(), status, body)
}

/// The bytes of recorded response `k`.
fn served(cassette: &Cassette, k: usize) -> Vec<u8> {
    match &cassette.turns[k].response.body {
        ResponseBody::Json { text } => text.clone().into_bytes(),
        ResponseBody::Sse { frames } => frames.concat().into_bytes(),
    }
}

/// Runs every applicable mutation on follow-up `f`: the problems found, and the rules that
/// fired.
fn run_mutations(
    cassette: &Arc<Cassette>,
    f: &FollowUp,
    params: [usize; 3],
) -> (Vec<String>, BTreeSet<&'static str>) {
    let mut problems = Vec::new();
    let mut fired = BTreeSet::new();
    let recorded = served(cassette, f.k);
    let (clean, status, _) = judge(
        cassette,
        RequestMeta::all(),
        &serde_json::to_vec(&f.body).unwrap(),
    );
    if !clean.is_empty() || status != 200 {
        problems.push(format!(
            "{} request {}: the unmutated follow-up is not clean: {clean:?}, {status}",
            cassette.name(),
            f.k
        ));
        return (problems, fired);
    }
    for m in Mutation::all(params) {
        let Some(mutated) = mutate(f, m, cassette) else {
            continue;
        };
        let (rules, status, body) = judge(cassette, mutated.meta, &mutated.body);
        fired.extend(rules.iter().copied());
        let what = format!("{} request {} {m:?}", cassette.name(), f.k);
        if rules != mutated.rules {
            problems.push(format!(
                "{what}: expected rules {:?}, fired {rules:?}",
                mutated.rules
            ));
        }
        if let Err(e) = check_answer(&mutated.answer, status, &body, &recorded) {
            problems.push(format!("{what}: {e}"));
        }
    }
    (problems, fired)
}

/// Every clean follow-up of the bundled cassettes, with every mutation at every call index:
/// the problems, and the rules that fired. Computed once.
fn fixture_mutations() -> &'static (Vec<String>, BTreeSet<&'static str>, usize) {
    static OUTCOME: OnceLock<(Vec<String>, BTreeSet<&'static str>, usize)> = OnceLock::new();
    OUTCOME.get_or_init(|| {
        let mut problems = Vec::new();
        let mut fired = BTreeSet::new();
        let mut follow_ups = 0;
        for path in fixture_files() {
            let cassette = load_path(&path);
            for k in 1..cassette.turns.len() {
                let Some(f) = FollowUp::parse(&cassette, k) else {
                    continue;
                };
                follow_ups += 1;
                for i in 0..f.n().max(f.thinking.len()) {
                    for d in 0..f.n() {
                        let (p, r) = run_mutations(&cassette, &f, [i, d, i + d]);
                        problems.extend(p);
                        fired.extend(r);
                    }
                }
            }
        }
        problems.sort();
        problems.dedup();
        (problems, fired, follow_ups)
    })
}

#[test]
fn every_mutation_of_every_bundled_follow_up_fires_exactly_its_rules_with_the_providers_answer() {
    let (problems, _, follow_ups) = fixture_mutations();
    assert!(
        *follow_ups >= 20,
        "only {follow_ups} clean follow-ups in fixtures/"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn every_mutation_of_a_generated_follow_up_fires_exactly_its_rules(
        generated in any_cassette(),
        pick in any::<usize>(),
        params in any::<[usize; 3]>(),
    ) {
        let cassette = Arc::new(generated.cassette());
        let k = 1 + pick % generated.turns.len();
        let f = FollowUp::parse(&cassette, k).expect("a generated follow-up has the canonical shape");
        let (problems, _) = run_mutations(&cassette, &f, params);
        prop_assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    }
}

// ---------------------------------------------------------------------------------------------
// Bugs the mutation oracle found, each as a minimal reproducer

/// Request 1 of a bundled cassette with one edit to its messages.
fn edited_follow_up(rel: &str, edit: impl FnOnce(&mut Vec<Value>)) -> (Arc<Cassette>, Vec<u8>) {
    let cassette = load(rel);
    let mut body = cassette.file.interactions[1].request.body.clone();
    edit(msgs(&mut body));
    (cassette, serde_json::to_vec(&body).unwrap())
}

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

// ---------------------------------------------------------------------------------------------
// Session rules: what a loop did over a whole conversation

/// How a scenario runs the tool calls of response 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tooling {
    /// Not through the tool endpoints at all.
    None,
    /// Every call at once.
    Concurrent,
    /// One after another, in call order.
    OneByOne,
    /// One after another, last call first.
    Reversed,
    /// Calls of `sequential` tools one by one in call order, alongside the others.
    Correct,
}

/// Replays a bundled cassette as a loop would: request 0, the tool calls of response 0 as
/// `tooling` says, then (unless `stop`) the recorded follow-ups. The session's findings.
fn scenario(
    rel: &str,
    tooling: Tooling,
    stop: bool,
    barrier: Option<Duration>,
    strict_concurrency: bool,
) -> Vec<Finding> {
    let mut cassette = (*load(rel)).clone();
    cassette.file.expect_concurrency = strict_concurrency;
    let cassette = Arc::new(cassette);
    let replay = Arc::new(Replay::new().with_barrier(barrier));
    replay.add_session("s", cassette.clone());
    let send = |k: usize| {
        let body = serde_json::to_vec(&cassette.file.interactions[k].request.body).unwrap();
        let reply = replay.handle_model(Some("s"), cassette.provider(), RequestMeta::all(), &body);
        assert_eq!(reply.status(), 200, "{rel}: request {k}");
    };
    send(0);
    let calls = cassette.calls(0);
    let call = |c: ToolCall| {
        let replay = replay.clone();
        async move {
            replay
                .handle_tool(Some("s"), &c.name, Some(&c.id), c.arguments.as_bytes())
                .await
        }
    };
    paused_runtime().block_on(async {
        match tooling {
            Tooling::None => {}
            Tooling::Concurrent => {
                futures::future::join_all(calls.iter().cloned().map(call)).await;
            }
            Tooling::OneByOne => {
                for c in calls.iter().cloned() {
                    call(c).await;
                }
            }
            Tooling::Reversed => {
                for c in calls.iter().rev().cloned() {
                    call(c).await;
                }
            }
            Tooling::Correct => {
                let (seq, par): (Vec<ToolCall>, Vec<ToolCall>) = calls
                    .iter()
                    .cloned()
                    .partition(|c| cassette.tool(&c.name).sequential);
                let chain = async {
                    for c in seq {
                        call(c).await;
                    }
                };
                futures::future::join(chain, futures::future::join_all(par.into_iter().map(call)))
                    .await;
            }
        }
    });
    if !stop {
        for k in 1..cassette.turns.len() {
            send(k);
        }
    }
    replay.findings("s")
}

fn rules_of(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings.iter().map(|f| f.rule).collect()
}

const PARALLEL2: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";
const SEQUENTIAL: &str = "openai-chat/handmade-sequential-tools.json";
const FAILING: &str = "openai-chat/handmade-failing-tool.json";

/// Every session scenario with the rules it must fire (and the severity of TT008 where it
/// fires).
fn session_scenarios() -> Vec<(&'static str, Vec<Finding>, BTreeSet<&'static str>)> {
    vec![
        (
            "concurrent tools, whole conversation",
            scenario(PARALLEL2, Tooling::Concurrent, false, None, false),
            set(RULES_NONE),
        ),
        (
            "tools one by one",
            scenario(PARALLEL2, Tooling::OneByOne, false, None, false),
            set(["TT008"]),
        ),
        (
            "tools one by one, expect_concurrency",
            scenario(PARALLEL2, Tooling::OneByOne, false, None, true),
            set(["TT008"]),
        ),
        (
            "tools one by one at a barrier",
            scenario(
                PARALLEL2,
                Tooling::OneByOne,
                false,
                Some(Duration::from_secs(2)),
                false,
            ),
            set(["TT008"]),
        ),
        (
            "concurrent tools at a barrier",
            scenario(
                PARALLEL2,
                Tooling::Concurrent,
                false,
                Some(Duration::from_secs(2)),
                false,
            ),
            set(RULES_NONE),
        ),
        (
            "stops after the calls",
            scenario(PARALLEL2, Tooling::None, true, None, false),
            set(["TT013"]),
        ),
        (
            "stops after a failing tool",
            scenario(FAILING, Tooling::None, true, None, false),
            set(["TT010", "TT013"]),
        ),
        (
            "sequential tools chained, others alongside",
            scenario(SEQUENTIAL, Tooling::Correct, false, None, false),
            set(RULES_NONE),
        ),
        (
            "sequential tools all at once",
            scenario(SEQUENTIAL, Tooling::Concurrent, false, None, false),
            set(["TT015"]),
        ),
        (
            "sequential tools out of call order",
            scenario(SEQUENTIAL, Tooling::Reversed, false, None, false),
            set(["TT015"]),
        ),
    ]
}

#[test]
fn every_session_scenario_fires_exactly_its_rules() {
    let mut problems = Vec::new();
    for (name, findings, want) in session_scenarios() {
        if rules_of(&findings) != want {
            problems.push(format!("{name}: expected {want:?}, got {findings:#?}"));
        }
        for f in findings.iter().filter(|f| f.rule == "TT008") {
            let severity = if name.contains("expect_concurrency") {
                Severity::Error
            } else {
                Severity::Warning
            };
            if f.severity != severity {
                problems.push(format!("{name}: TT008 is {:?}", f.severity));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rule_is_made_to_fire_by_a_mutation_or_a_session_scenario() {
    let mut fired = fixture_mutations().1.clone();
    for (_, findings, _) in session_scenarios() {
        fired.extend(rules_of(&findings));
    }
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.info().id)
        .filter(|id| !fired.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "no mutation or scenario makes these rules fire: {missing:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Snapshots: every rule's finding as the reports render it

/// The findings of `rule` on request 1 of a bundled cassette after `mutation`.
fn mutation_example(rel: &str, mutation: Mutation, rule: &str) -> (Arc<Cassette>, Vec<Finding>) {
    let cassette = load(rel);
    let f = FollowUp::parse(&cassette, 1).expect("a clean follow-up");
    let mutated = mutate(&f, mutation, &cassette).expect("the mutation applies");
    let (findings, _, _) = judge_findings(&cassette, mutated.meta, &mutated.body);
    (
        cassette,
        findings.into_iter().filter(|f| f.rule == rule).collect(),
    )
}

/// The findings of `rule` for a finished session with the given requests and spans.
fn session_example(
    rel: &str,
    requests: Vec<SessionRequest>,
    spans: &[(usize, f64, f64)],
    rule: &str,
) -> (Arc<Cassette>, Vec<Finding>) {
    let cassette = load(rel);
    let calls = cassette.calls(0);
    let cx = SessionContext {
        cassette: &cassette,
        requests,
        tool_spans: spans
            .iter()
            .map(|&(i, start_ms, end_ms)| ToolSpan {
                turn: 0,
                call_id: calls[i].id.clone(),
                name: calls[i].name.clone(),
                start_ms,
                end_ms: Some(end_ms),
                barrier_timed_out: false,
            })
            .collect(),
        barrier: false,
    };
    let findings = tooltape::conformance::judge_session(&cx);
    (
        cassette.clone(),
        findings.into_iter().filter(|f| f.rule == rule).collect(),
    )
}

fn rule_example(id: &str) -> (Arc<Cassette>, Vec<Finding>) {
    use Mutation::*;
    const SONNET: &str = "anthropic/fantasy-sonnet-4-parallel2-followup.json";
    let whole = vec![
        SessionRequest {
            turn: Some(0),
            served: true,
        },
        SessionRequest {
            turn: Some(1),
            served: true,
        },
    ];
    match id {
        "TT001" => mutation_example(PARALLEL2, DropResult(1), id),
        "TT002" => mutation_example(PARALLEL2, UnknownId(0), id),
        "TT003" => mutation_example(PARALLEL2, DuplicateResult(0), id),
        "TT004" => mutation_example(SONNET, TextBeforeResults, id),
        "TT005" => mutation_example(SONNET, SplitResults(0), id),
        "TT006" => mutation_example(PARALLEL2, AlterArguments(0), id),
        "TT007" => mutation_example(PARALLEL2, ReorderResults(0), id),
        "TT008" => session_example(PARALLEL2, whole, &[(0, 0.0, 100.0), (1, 100.0, 150.0)], id),
        "TT009" => mutation_example(PARALLEL2, SwapContents(0, 0), id),
        "TT010" => mutation_example(FAILING, DropResult(1), id),
        "TT011" => mutation_example(PARALLEL2, ArgumentsAsObject(0), id),
        "TT012" => mutation_example(PARALLEL2, ChangePrompt, id),
        "TT013" => session_example(
            PARALLEL2,
            vec![SessionRequest {
                turn: Some(0),
                served: true,
            }],
            &[],
            id,
        ),
        "TT014" => mutation_example(PARALLEL2, AfterFinalAnswer, id),
        "TT015" => session_example(
            SEQUENTIAL,
            whole,
            &[(0, 0.0, 80.0), (1, 40.0, 120.0), (2, 0.0, 30.0)],
            id,
        ),
        other => panic!("no example for rule {other}: add one to rule_example"),
    }
}

#[test]
fn every_rules_finding_renders_in_the_human_and_json_reports() {
    for rule in RULES {
        let id = rule.info().id;
        let (cassette, findings) = rule_example(id);
        assert!(
            !findings.is_empty(),
            "the example for {id} does not fire it"
        );
        let report = Report {
            cassettes: vec![CassetteReport::new(&cassette, findings, Vec::new())],
            ..Report::default()
        }
        .finish(false);
        let rendered = format!(
            "{}\n---\n{}",
            render_human(&report, false),
            report.to_json()
        );
        snapshot_settings().bind(|| insta::assert_snapshot!(format!("rule-{id}"), rendered));
    }
}
