//! Stateful continuations: an Anthropic message thread that sends only the new messages and
//! names the previous response, resolved against the cassette without a shared cursor.

use serde_json::{Value, json};
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
    let reply = replay.handle_model(
        Some("s"),
        tooltape::provider::Provider::Anthropic,
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
