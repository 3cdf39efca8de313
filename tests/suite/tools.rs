//! Tool endpoints, barrier mode and the timing rules, on tokio's paused clock and over HTTP.

use std::sync::Arc;
use std::time::Duration;

use tooltape::cassette::{Cassette, ToolSim};
use tooltape::provider::Provider;
use tooltape::server::{Replay, ReplayServer, RequestMeta};

use crate::support::load;

/// A replay of `cassette` with the first response already served to session `s`.
fn served(cassette: Arc<Cassette>, barrier: Option<Duration>) -> Arc<Replay> {
    let replay = Arc::new(Replay::new().with_barrier(barrier));
    replay.add_session("s", cassette.clone());
    let body = serde_json::to_vec(&cassette.file.interactions[0].request.body).unwrap();
    let reply = replay.handle_model_routed(
        Some("s"),
        cassette.provider(),
        &cassette.file.interactions[0]
            .request
            .route(cassette.provider()),
        RequestMeta::all(),
        &body,
    );
    assert_eq!(reply.status(), 200);
    replay
}

fn with_tools(rel: &str, expect_concurrency: bool, tools: &[(&str, ToolSim)]) -> Arc<Cassette> {
    let mut c = (*load(rel)).clone();
    c.file.expect_concurrency = expect_concurrency;
    for (name, sim) in tools {
        c.file.tools.insert((*name).to_owned(), sim.clone());
    }
    Arc::new(c)
}

fn latency(ms: u64) -> ToolSim {
    ToolSim {
        latency_ms: Some(ms),
        ..ToolSim::default()
    }
}

const TWO: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";

async fn call(replay: &Replay, name: &str, id: &str) -> (u16, String) {
    let reply = replay
        .handle_tool(Some("s"), name, Some(id), b"{\"a\": 2, \"b\": 3}")
        .await;
    (
        reply.status,
        String::from_utf8(reply.body.to_vec()).unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn concurrent_calls_take_one_latency_and_get_the_recorded_results() {
    let cassette = with_tools(
        TWO,
        true,
        &[("add", latency(100)), ("multiply", latency(60))],
    );
    let replay = served(cassette.clone(), Some(Duration::from_secs(1)));
    let calls = cassette.calls(0);
    let start = tokio::time::Instant::now();
    let (a, m) = tokio::join!(
        call(&replay, "add", &calls[0].id),
        call(&replay, "multiply", &calls[1].id)
    );
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(a, (200, "5".to_owned()));
    assert_eq!(m, (200, "6".to_owned()));
    let spans = replay.tool_spans("s");
    assert_eq!(spans.len(), 2);
    let took = |id: &str| {
        let s = spans.iter().find(|s| s.call_id == id).unwrap();
        s.end_ms.unwrap() - s.start_ms
    };
    assert_eq!(took(&calls[0].id), 100.0);
    assert_eq!(took(&calls[1].id), 60.0);
    assert!(replay.findings("s").iter().all(|f| f.rule != "TT008"));
}

#[tokio::test(start_paused = true)]
async fn one_call_after_another_times_out_at_the_barrier_and_fires_tt008() {
    let cassette = with_tools(
        TWO,
        true,
        &[("add", latency(100)), ("multiply", latency(60))],
    );
    let replay = served(cassette.clone(), Some(Duration::from_secs(1)));
    let calls = cassette.calls(0);
    let start = tokio::time::Instant::now();
    call(&replay, "add", &calls[0].id).await;
    call(&replay, "multiply", &calls[1].id).await;
    assert_eq!(start.elapsed(), Duration::from_millis(1000 + 100 + 60));
    let findings = replay.findings("s");
    let tt008: Vec<_> = findings.iter().filter(|f| f.rule == "TT008").collect();
    assert_eq!(tt008.len(), 1, "{findings:#?}");
    assert_eq!(tt008[0].severity, tooltape::conformance::Severity::Error);
    assert!(
        tt008[0].message.contains("barrier timed out"),
        "{}",
        tt008[0].message
    );
}

#[tokio::test(start_paused = true)]
async fn without_expect_concurrency_sequential_execution_is_a_warning() {
    let cassette = with_tools(TWO, false, &[]);
    let replay = served(cassette.clone(), Some(Duration::from_millis(200)));
    let calls = cassette.calls(0);
    call(&replay, "add", &calls[0].id).await;
    call(&replay, "multiply", &calls[1].id).await;
    let f = replay
        .findings("s")
        .into_iter()
        .find(|f| f.rule == "TT008")
        .expect("TT008");
    assert_eq!(f.severity, tooltape::conformance::Severity::Warning);
}

#[tokio::test(start_paused = true)]
async fn without_a_barrier_timing_is_judged_by_interval_overlap() {
    let cassette = with_tools(
        TWO,
        true,
        &[("add", latency(100)), ("multiply", latency(60))],
    );
    let calls = cassette.calls(0);
    let overlapping = served(cassette.clone(), None);
    tokio::join!(
        call(&overlapping, "add", &calls[0].id),
        call(&overlapping, "multiply", &calls[1].id)
    );
    assert!(overlapping.findings("s").iter().all(|f| f.rule != "TT008"));
    let one_by_one = served(cassette.clone(), None);
    call(&one_by_one, "add", &calls[0].id).await;
    call(&one_by_one, "multiply", &calls[1].id).await;
    let f = one_by_one
        .findings("s")
        .into_iter()
        .find(|f| f.rule == "TT008")
        .expect("TT008");
    assert!(
        f.message.contains("no two of them overlapped"),
        "{}",
        f.message
    );
}

#[tokio::test(start_paused = true)]
async fn by_default_the_first_call_finishes_last() {
    let cassette = load(TWO);
    let replay = served(cassette.clone(), None);
    let calls = cassette.calls(0);
    tokio::join!(
        call(&replay, "add", &calls[0].id),
        call(&replay, "multiply", &calls[1].id)
    );
    let spans = replay.tool_spans("s");
    let end = |id: &str| {
        spans
            .iter()
            .find(|s| s.call_id == id)
            .unwrap()
            .end_ms
            .unwrap()
    };
    assert!(end(&calls[0].id) > end(&calls[1].id));
}

#[tokio::test(start_paused = true)]
async fn sequential_tools_out_of_order_fire_tt015() {
    let cassette = with_tools(
        TWO,
        false,
        &[
            (
                "add",
                ToolSim {
                    latency_ms: Some(50),
                    sequential: true,
                    ..ToolSim::default()
                },
            ),
            (
                "multiply",
                ToolSim {
                    latency_ms: Some(50),
                    sequential: true,
                    ..ToolSim::default()
                },
            ),
        ],
    );
    let calls = cassette.calls(0);
    let in_order = served(cassette.clone(), Some(Duration::from_secs(1)));
    call(&in_order, "add", &calls[0].id).await;
    call(&in_order, "multiply", &calls[1].id).await;
    let findings = in_order.findings("s");
    assert!(
        findings
            .iter()
            .all(|f| f.rule != "TT015" && f.rule != "TT008"),
        "{findings:#?}"
    );
    let reversed = served(cassette.clone(), Some(Duration::from_secs(1)));
    call(&reversed, "multiply", &calls[1].id).await;
    call(&reversed, "add", &calls[0].id).await;
    assert!(reversed.findings("s").iter().any(|f| f.rule == "TT015"));
    let together = served(cassette.clone(), Some(Duration::from_secs(1)));
    tokio::join!(
        call(&together, "add", &calls[0].id),
        call(&together, "multiply", &calls[1].id)
    );
    assert!(together.findings("s").iter().any(|f| f.rule == "TT015"));
}

#[tokio::test(start_paused = true)]
async fn a_call_is_matched_by_name_and_arguments_without_the_id_header() {
    let cassette = load("openai-chat/handmade-three-turns.json");
    let replay = served(cassette.clone(), None);
    for call in cassette.calls(0) {
        let reply = replay
            .handle_tool(Some("s"), &call.name, None, call.arguments.as_bytes())
            .await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let expected = cassette.recorded_result(0, &call.id).unwrap().text();
        assert_eq!(String::from_utf8(reply.body.to_vec()).unwrap(), expected);
    }
    let spans = replay.tool_spans("s");
    assert_eq!(spans.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn identical_calls_are_matched_in_order() {
    let mut file = load(TWO).file.clone();
    let tooltape::cassette::ResponseBody::Json { text } = &mut file.interactions[0].response.body
    else {
        panic!("a JSON response")
    };
    *text = text.replace("\"name\": \"multiply\"", "\"name\": \"add\"");
    file.interactions[1].request.body["messages"][2]["tool_calls"][1]["function"]["name"] =
        "add".into();
    let c = Cassette::from_file(file, std::path::Path::new("same.json"))
        .expect("the edited cassette decodes");
    let same = c.calls(0).to_vec();
    assert!(
        same[0].name == same[1].name && same[0].same_arguments(&same[1]),
        "{same:?}"
    );
    let replay = served(Arc::new(c), None);
    let first = replay
        .handle_tool(Some("s"), "add", None, same[0].arguments.as_bytes())
        .await;
    let second = replay
        .handle_tool(Some("s"), "add", None, same[0].arguments.as_bytes())
        .await;
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(String::from_utf8(first.body.to_vec()).unwrap(), "5");
    assert_eq!(String::from_utf8(second.body.to_vec()).unwrap(), "6");
    let spans = replay.tool_spans("s");
    assert_eq!(spans[0].call_id, same[0].id);
    assert_eq!(spans[1].call_id, same[1].id);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_tool_gets_a_404_that_lists_the_turns_calls() {
    let cassette = load(TWO);
    let replay = served(cassette, None);
    let reply = replay.handle_tool(Some("s"), "divide", None, b"{}").await;
    assert_eq!(reply.status, 404);
    let body = String::from_utf8(reply.body.to_vec()).unwrap();
    assert!(
        body.contains("add") && body.contains("multiply") && body.contains("divide"),
        "{body}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_tool_answers_500_with_its_error() {
    let cassette = load("openai-chat/handmade-failing-tool.json");
    let replay = served(cassette.clone(), None);
    let failing = cassette
        .calls(0)
        .iter()
        .find(|c| c.name == "lookup_stock")
        .unwrap();
    let reply = replay
        .handle_tool(
            Some("s"),
            &failing.name,
            Some(&failing.id),
            failing.arguments.as_bytes(),
        )
        .await;
    assert_eq!(reply.status, 500);
    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["error"], "upstream quote service unavailable");
}

#[tokio::test(start_paused = true)]
async fn a_hung_tool_never_answers() {
    let cassette = with_tools(
        TWO,
        false,
        &[(
            "add",
            ToolSim {
                hangs: true,
                ..ToolSim::default()
            },
        )],
    );
    let replay = served(cassette.clone(), None);
    let id = cassette.calls(0)[0].id.clone();
    let waited = tokio::time::timeout(Duration::from_secs(3600), call(&replay, "add", &id)).await;
    assert!(waited.is_err(), "a hung tool answered");
    assert_eq!(replay.tool_spans("s")[0].end_ms, None);
}

#[tokio::test]
async fn tool_endpoints_answer_over_http_with_text_or_json() {
    let cassette = load(TWO);
    let server = ReplayServer::start((*cassette).clone()).await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth("k")
        .json(&cassette.file.interactions[0].request.body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let call = &cassette.calls(0)[0];
    let r = client
        .post(format!("{}/s/default/tools/{}", server.url(), call.name))
        .header("tooltape-call-id", &call.id)
        .body(call.arguments.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(r.text().await.unwrap(), "5");
    assert_eq!(Provider::OpenAiChat, cassette.provider());
}

#[tokio::test(start_paused = true)]
async fn a_result_recorded_as_text_blocks_comes_out_as_its_text() {
    let cassette = load("anthropic/fantasy-sonnet-4-parallel2-followup.json");
    let recorded = cassette
        .recorded_result(0, &cassette.calls(0)[0].id)
        .unwrap()
        .content
        .clone();
    assert!(
        recorded.is_array(),
        "the recording keeps text blocks: {recorded}"
    );
    let replay = served(cassette.clone(), None);
    let calls = cassette.calls(0);
    let (status, body) = call(&replay, &calls[0].name, &calls[0].id).await;
    assert_eq!((status, body.as_str()), (200, "5"));
}

#[tokio::test(start_paused = true)]
async fn an_id_the_loop_invented_for_a_call_without_one_is_matched_by_name_and_arguments() {
    // pydantic-ai's GoogleModel names Gemini's id-less calls `pyd_ai_…` and its tools pass
    // that id on: the cassette cannot know it, so the call is found by name and arguments.
    let cassette = with_tools(
        "gemini/fantasy-2.5-flash-parallel2-followup.json",
        true,
        &[],
    );
    let replay = served(cassette.clone(), Some(Duration::from_secs(1)));
    let (a, m) = tokio::join!(
        call(&replay, "add", "pyd_ai_b3c26676c10e434ebf98308d59b65911"),
        call(
            &replay,
            "multiply",
            "pyd_ai_4feb0fc13bd7432b9e0c0a897e42e48d"
        )
    );
    assert_eq!(a, (200, r#"{"result":"5"}"#.to_owned()));
    assert_eq!(m, (200, r#"{"result":"6"}"#.to_owned()));
    let calls = cassette.calls(0);
    let spans = replay.tool_spans("s");
    let ids: Vec<&str> = spans.iter().map(|s| s.call_id.as_str()).collect();
    assert!(
        ids.contains(&calls[0].id.as_str()) && ids.contains(&calls[1].id.as_str()),
        "{ids:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unknown_id_for_a_provider_whose_calls_carry_ids_gets_a_404() {
    let replay = served(load(TWO), Some(Duration::from_secs(1)));
    let (status, body) = call(&replay, "add", "call_madeUp").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no call of cassette"), "{body}");
}
