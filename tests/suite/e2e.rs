//! End to end over real loopback sockets: the hyper server, the wiremock adapter, the loop.

use std::sync::Arc;

use tooltape::reference_loop::{CassetteTools, ReferenceLoop};
use tooltape::server::{CassetteResponder, Entry, ReplayServer};

use crate::support::load;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_loops_replaying_one_cassette_at_once_do_not_disturb_each_other() {
    for rel in [
        "anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json",
        "openai-chat/pydantic-ai-temporal-complex-agent-stream.json",
    ] {
        let cassette = load(rel);
        let server = ReplayServer::start((*cassette).clone()).await;
        let base = server.session_url("default");
        let tools = CassetteTools::new(cassette.clone());
        let a = ReferenceLoop::new(base.clone());
        let b = ReferenceLoop::new(base);
        let (ra, rb) = tokio::join!(a.run(&cassette, &tools), b.run(&cassette, &tools));
        let (ra, rb) = (ra.expect("loop a"), rb.expect("loop b"));
        assert_eq!(ra.requests, cassette.turns.len());
        assert_eq!(rb.requests, cassette.turns.len());
        assert_eq!(ra.final_text, rb.final_text);
        let requests = server
            .replay()
            .journal()
            .session("default")
            .into_iter()
            .filter(|e| matches!(e, Entry::Model(m) if m.status == 200))
            .count();
        assert_eq!(requests, 2 * cassette.turns.len(), "{rel}");
        let report = server.verify().await.finish(false);
        assert!(report.is_conformant(), "{report}");
    }
}

#[tokio::test]
async fn the_bare_base_urls_serve_a_single_cassette() {
    let cassette = load("openai-chat/fantasy-gpt-4o-parallel2-followup.json");
    let server = ReplayServer::start((*cassette).clone()).await;
    assert!(server.openai_base_url().ends_with("/v1"));
    let outcome = ReferenceLoop::new(server.url())
        .run(&cassette, &CassetteTools::new(cassette.clone()))
        .await
        .expect("loop finishes");
    assert_eq!(outcome.turns.len(), 1);
    assert_eq!(outcome.turns[0].results.len(), 2);
}

#[tokio::test]
async fn a_cassette_mounted_in_wiremock_replays_and_judges() {
    let cassette = load("anthropic/fantasy-sonnet-4-parallel2-followup-stream.json");
    let mock = wiremock::MockServer::start().await;
    let responder = CassetteResponder::new((*cassette).clone());
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/v1/messages"))
        .respond_with(responder.clone())
        .mount(&mock)
        .await;
    let outcome = ReferenceLoop::new(mock.uri())
        .run(&cassette, &CassetteTools::new(Arc::clone(&cassette)))
        .await
        .expect("loop finishes through wiremock");
    assert_eq!(outcome.turns[0].calls.len(), 2);
    assert!(
        responder.findings().is_empty(),
        "{:?}",
        responder.findings()
    );

    let mut broken = cassette.file.interactions[1].request.body.clone();
    broken["messages"][2]["content"]
        .as_array_mut()
        .unwrap()
        .pop();
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", mock.uri()))
        .header("x-api-key", "k")
        .header("anthropic-version", "2023-06-01")
        .json(&broken)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("`tool_use` ids were found without `tool_result` blocks immediately after"),
        "{body}"
    );
    assert!(responder.findings().iter().any(|f| f.rule == "TT001"));
}

#[tokio::test]
async fn a_stream_is_served_as_event_stream_with_the_recorded_bytes() {
    let cassette = load("openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json");
    let server = ReplayServer::start((*cassette).clone()).await;
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth("sk-test")
        .json(&cassette.file.interactions[0].request.body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let body = response.text().await.unwrap();
    let tooltape::cassette::ResponseBody::Sse { frames } = &cassette.turns[0].response.body else {
        panic!("streamed cassette")
    };
    assert_eq!(body, frames.concat());
}

#[tokio::test]
async fn a_hung_tool_times_out_into_an_error_result_while_its_sibling_completes() {
    let mut cassette = (*load("openai-chat/fantasy-gpt-4o-parallel2-followup.json")).clone();
    cassette.file.tools.insert(
        "add".into(),
        tooltape::cassette::ToolSim {
            hangs: true,
            ..Default::default()
        },
    );
    let cassette = Arc::new(cassette);
    let server = ReplayServer::start((*cassette).clone()).await;
    let outcome = ReferenceLoop::new(server.url())
        .tool_timeout(std::time::Duration::from_millis(200))
        .run(&cassette, &CassetteTools::new(cassette.clone()))
        .await
        .expect("the loop finishes despite the hung tool");
    let results = &outcome.turns[0].results;
    assert!(results[0].is_error);
    assert_eq!(results[0].text(), "tool `add` timed out after 200 ms");
    assert!(!results[1].is_error);
    assert_eq!(results[1].text(), "6");
}

#[tokio::test]
async fn the_max_turns_guard_stops_a_loop_that_keeps_getting_tool_calls() {
    let cassette = load("openai-chat/handmade-three-turns.json");
    let server = ReplayServer::start((*cassette).clone()).await;
    let err = ReferenceLoop::new(server.url())
        .max_turns(2)
        .run(&cassette, &CassetteTools::new(cassette.clone()))
        .await
        .expect_err("three tool turns exceed a guard of two");
    assert!(
        matches!(err, tooltape::reference_loop::LoopError::MaxTurns(2)),
        "{err}"
    );
}

#[tokio::test]
async fn each_recorded_frame_travels_as_its_own_http_chunk() {
    use futures::StreamExt;
    let cassette = load("openai-chat/handmade-split-mid-token-stream.json");
    let server = ReplayServer::start((*cassette).clone()).await;
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth("sk-test")
        .json(&cassette.file.interactions[0].request.body)
        .send()
        .await
        .unwrap();
    let mut chunks = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        chunks.push(String::from_utf8(chunk.unwrap().to_vec()).unwrap());
    }
    let tooltape::cassette::ResponseBody::Sse { frames } = &cassette.turns[0].response.body else {
        panic!("streamed cassette")
    };
    assert_eq!(&chunks, frames);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stateful_reference_loop_continues_every_responses_fixture_by_previous_response_id() {
    let dir = crate::support::root().join("fixtures/openai-responses");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let rel = format!("openai-responses/{}", entry.file_name().to_string_lossy());
        let cassette = load(&rel);
        let server = ReplayServer::start((*cassette).clone()).await;
        let outcome = ReferenceLoop::new(server.session_url("default"))
            .stateful(true)
            .run(&cassette, &CassetteTools::new(cassette.clone()))
            .await
            .unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(outcome.requests, cassette.turns.len(), "{rel}");
        let continued = server
            .replay()
            .journal()
            .session("default")
            .into_iter()
            .filter(|e| matches!(e, Entry::Model(m) if m.status == 200))
            .count();
        assert_eq!(continued, cassette.turns.len(), "{rel}");
        let report = server.verify().await.finish(false);
        assert!(report.is_conformant(), "{rel}: {report}");
        checked += 1;
    }
    assert!(checked >= 9, "only {checked} Responses fixtures");
}

#[tokio::test]
async fn a_stateful_follow_up_sends_only_the_new_outputs_and_the_previous_response_id() {
    let cassette = load("openai-responses/fantasy-gpt-4o-parallel2-followup.json");
    let mock = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/v1/responses"))
        .respond_with(CassetteResponder::new((*cassette).clone()))
        .mount(&mock)
        .await;
    ReferenceLoop::new(mock.uri())
        .stateful(true)
        .run(&cassette, &CassetteTools::new(cassette.clone()))
        .await
        .expect("loop finishes");
    let requests = mock.received_requests().await.unwrap();
    let follow_up: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    let first_id = cassette.turns[0].response_id.clone().unwrap();
    assert_eq!(follow_up["previous_response_id"], first_id.as_str());
    let input = follow_up["input"].as_array().unwrap();
    assert_eq!(input.len(), 2, "{follow_up}");
    assert!(input.iter().all(|i| i["type"] == "function_call_output"));
}
