//! Stateful continuations: an Anthropic message thread or an OpenAI Responses request that
//! sends only the new messages and names the previous response, resolved against the cassette
//! without a shared cursor, on the history the session sent where it differs from the
//! recording's.

use serde_json::{Value, json};
use tooltape::fault::{Fault, FaultKind, TurnFault};
use tooltape::provider::Provider;
use tooltape::server::{Entry, Replay, RequestMeta};

use crate::support::load;

const SONNET: &str = "anthropic/fantasy-sonnet-4-parallel2-followup.json";

/// Request 1 of the cassette as a thread continuation: only the messages after response 0,
/// no `system` and no `tools` (the thread keeps them), and the id of response 0.
fn continuation(previous: &str) -> Value {
    let cassette = load(SONNET);
    let mut body = cassette.file.interactions[1].request.body.clone();
    let messages = body["messages"].as_array().unwrap().clone();
    let fields = body.as_object_mut().unwrap();
    fields.remove("tools");
    fields.remove("system");
    fields.remove("tool_choice");
    fields.insert("messages".into(), json!([messages.last().unwrap()]));
    fields.insert(
        "thread".into(),
        json!({"type": "continue", "previous_message_id": previous}),
    );
    body
}

fn send(replay: &Replay, body: &Value) -> (u16, String, Vec<&'static str>) {
    send_to(replay, Provider::Anthropic, body)
}

/// Sends `body` to session `s` as `provider`: the status, the body and every finding of the
/// session so far.
fn send_to(replay: &Replay, provider: Provider, body: &Value) -> (u16, String, Vec<&'static str>) {
    let reply = replay.handle_model(
        Some("s"),
        provider,
        RequestMeta::all(),
        &serde_json::to_vec(body).unwrap(),
    );
    let rules = replay
        .journal()
        .session("s")
        .into_iter()
        .flat_map(|e| match e {
            Entry::Model(m) => m.findings,
            Entry::Tool(_) => Vec::new(),
        })
        .map(|f| f.rule)
        .collect();
    (
        reply.status(),
        String::from_utf8(reply.body_bytes().to_vec()).unwrap(),
        rules,
    )
}

#[test]
fn a_thread_continuation_naming_a_served_message_gets_the_next_turn() {
    let cassette = load(SONNET);
    let id = cassette.turns[0].response_id.clone().expect("a message id");
    assert!(id.starts_with("msg_"), "{id}");
    let replay = Replay::new();
    replay.add_session("s", cassette.clone());
    let (status, body, rules) = send(&replay, &continuation(&id));
    assert_eq!(status, 200, "{body}");
    assert!(rules.is_empty(), "{rules:?}");
    let tooltape::cassette::ResponseBody::Json { text } = &cassette.turns[1].response.body else {
        panic!("response 1 of {SONNET} is recorded as JSON");
    };
    assert_eq!(&body, text);
}

#[test]
fn a_thread_continuation_that_drops_a_result_is_judged_as_the_whole_history() {
    let cassette = load(SONNET);
    let id = cassette.turns[0].response_id.clone().unwrap();
    let mut body = continuation(&id);
    body["messages"][0]["content"].as_array_mut().unwrap().pop();
    let replay = Replay::new();
    replay.add_session("s", cassette);
    let (status, reply, rules) = send(&replay, &body);
    assert_eq!(status, 400, "{reply}");
    assert!(rules.contains(&"TT001"), "{rules:?}");
    assert!(
        reply.contains("`tool_use` ids were found without `tool_result` blocks"),
        "{reply}"
    );
}

#[test]
fn a_thread_continuation_from_an_unknown_message_gets_a_404() {
    let replay = Replay::new();
    replay.add_session("s", load(SONNET));
    let (status, reply, rules) = send(&replay, &continuation("msg_never_served"));
    assert_eq!(status, 404);
    assert_eq!(rules, vec!["TT012"]);
    let error: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(error["error"]["type"], "not_found_error");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("msg_never_served")
    );
}

#[test]
fn tool_blocks_without_tools_are_accepted_in_a_continuation_but_not_elsewhere() {
    let cassette = load(SONNET);
    let id = cassette.turns[0].response_id.clone().unwrap();
    let replay = Replay::new();
    replay.add_session("s", cassette.clone());
    let mut whole = cassette.file.interactions[1].request.body.clone();
    whole.as_object_mut().unwrap().remove("tools");
    whole.as_object_mut().unwrap().remove("tool_choice");
    let (status, reply, _) = send(&replay, &whole);
    assert_eq!(status, 400);
    assert!(reply.contains("must define tools"), "{reply}");
    let (status, _, _) = send(&replay, &continuation(&id));
    assert_eq!(status, 200);
}

const THREE_TURNS: &str = "openai-responses/handmade-three-turns.json";

/// Runs the first three requests of [`THREE_TURNS`] with turn 1's first call served with
/// arguments that are not JSON: request 1 (sent stateless, unless `skip_request_1`) echoes the
/// calls as served, request 2 continues response 2 by `previous_response_id`. The findings of
/// the session.
fn continue_after_a_changed_turn(skip_request_1: bool) -> Vec<&'static str> {
    let cassette = load(THREE_TURNS);
    let replay = Replay::new().with_faults(vec![TurnFault {
        turn: 0,
        fault: Fault::new(FaultKind::MalformedArguments),
    }]);
    replay.add_session("s", cassette.clone());
    let body = |i: usize| {
        let mut body = cassette.file.interactions[i].request.body.clone();
        body["stream"] = json!(false);
        body
    };
    let (status, reply, _) = send_to(&replay, Provider::OpenAiResponses, &body(0));
    assert_eq!(status, 200, "{reply}");
    let served: Value = serde_json::from_str(&reply).unwrap();
    let arguments = |call_id: &str| {
        served["output"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["call_id"] == call_id)
            .map(|item| item["arguments"].clone())
    };
    let mut first = body(1);
    let mut changed = 0;
    for item in first["input"].as_array_mut().unwrap() {
        if item["type"] == "function_call"
            && let Some(served) = arguments(item["call_id"].as_str().unwrap())
        {
            changed += usize::from(item["arguments"] != served);
            item["arguments"] = served;
        }
    }
    assert_eq!(changed, 1, "the fault changes one call's arguments");
    if !skip_request_1 {
        let (status, reply, rules) = send_to(&replay, Provider::OpenAiResponses, &first);
        assert_eq!((status, rules), (200, Vec::new()), "{reply}");
    }
    let sent_before = first["input"].as_array().unwrap().len();
    let mut second = body(2);
    let new_items: Vec<Value> = second["input"].as_array().unwrap()[sent_before..]
        .iter()
        .filter(|item| item["type"] == "function_call_output")
        .cloned()
        .collect();
    assert_eq!(new_items.len(), 3, "request 2 answers turn 2's three calls");
    second["input"] = Value::Array(new_items);
    second["previous_response_id"] = json!(cassette.turns[1].response_id.clone().unwrap());
    let (status, reply, rules) = send_to(&replay, Provider::OpenAiResponses, &second);
    assert_eq!(status, 200, "{reply}");
    rules
}

#[test]
fn a_continuation_is_judged_on_the_history_the_session_sent() {
    assert_eq!(continue_after_a_changed_turn(false), Vec::<&str>::new());
}

#[test]
fn a_continuation_of_a_turn_the_session_was_not_served_falls_back_on_the_recording() {
    // With no request 1 in the session, the history of response 2 is the recorded request 1,
    // whose first call has its recorded arguments, not the ones served: judged as changed.
    assert_eq!(continue_after_a_changed_turn(true), vec!["TT006"]);
}
