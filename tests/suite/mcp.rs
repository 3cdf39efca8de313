//! Tools over MCP: a session's MCP server driven with raw JSON-RPC over a real loopback socket,
//! as a streamable HTTP client sends it (initialize, the initialized notification, tools/list,
//! tools/call), with the semantics of the tool endpoints.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tooltape::cassette::{Cassette, ToolSim};
use tooltape::server::{Replay, ReplayServer};

use crate::support::{fixture_files, load, load_path};

const TWO: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";
const PROTOCOL: &str = "2025-06-18";

/// A JSON-RPC client of one MCP URL.
struct Mcp {
    http: reqwest::Client,
    url: String,
}

impl Mcp {
    /// Connects and performs the handshake: `initialize`, then `notifications/initialized`.
    async fn connect(url: String) -> Self {
        let mcp = Self {
            http: reqwest::Client::new(),
            url,
        };
        let init = mcp
            .request(
                "initialize",
                json!({"protocolVersion": PROTOCOL, "capabilities": {},
                       "clientInfo": {"name": "suite", "version": "0"}}),
            )
            .await;
        assert_eq!(init["result"]["serverInfo"]["name"], "tooltape", "{init}");
        assert!(
            init["result"]["capabilities"]["tools"].is_object(),
            "{init}"
        );
        let r = mcp
            .post(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        assert_eq!(r.status(), 202, "a notification is accepted without a body");
        mcp
    }

    async fn post(&self, message: &Value) -> reqwest::Response {
        self.http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL)
            .json(message)
            .send()
            .await
            .unwrap()
    }

    /// One request; its JSON-RPC response.
    async fn request(&self, method: &str, params: Value) -> Value {
        let r = self
            .post(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .await;
        assert_eq!(r.status(), 200, "{method}");
        r.json().await.unwrap()
    }

    /// `tools/call`: the call's result object.
    async fn call(&self, name: &str, arguments: &str) -> Value {
        let arguments: Value = serde_json::from_str(arguments).unwrap();
        let response = self
            .request("tools/call", json!({"name": name, "arguments": arguments}))
            .await;
        assert!(response["error"].is_null(), "{response}");
        response["result"].clone()
    }
}

/// A server for `cassette` (session `default`) with barrier `grace`, its first response served.
async fn served(cassette: &Arc<Cassette>, grace: Option<Duration>) -> (ReplayServer, Mcp) {
    let replay = Arc::new(Replay::new().with_barrier(grace));
    replay.add_session("default", cassette.clone());
    let server = ReplayServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), replay)
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth("k")
        .json(&cassette.file.interactions[0].request.body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mcp = Mcp::connect(server.session_mcp_url("default")).await;
    (server, mcp)
}

fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

fn with_tools(rel: &str, expect_concurrency: bool, tools: &[(&str, ToolSim)]) -> Arc<Cassette> {
    let mut c = (*load(rel)).clone();
    c.file.expect_concurrency = expect_concurrency;
    for (name, sim) in tools {
        c.file.tools.insert((*name).to_owned(), sim.clone());
    }
    Arc::new(c)
}

#[tokio::test]
async fn tools_list_is_the_cassettes_tool_definitions() {
    let cassette = load("openai-chat/handmade-failing-tool.json");
    let (_server, mcp) = served(&cassette, None).await;
    let listed = mcp.request("tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().unwrap();
    let recorded = cassette.file.interactions[0].request.body["tools"]
        .as_array()
        .unwrap();
    assert_eq!(tools.len(), recorded.len(), "{listed}");
    for (tool, wire) in tools.iter().zip(recorded) {
        assert_eq!(tool["name"], wire["function"]["name"]);
        assert_eq!(tool["description"], wire["function"]["description"]);
        assert_eq!(tool["inputSchema"], wire["function"]["parameters"]);
    }
}

#[tokio::test]
async fn a_call_gets_the_recorded_result_and_its_span_is_journalled() {
    let cassette = load(TWO);
    let (server, mcp) = served(&cassette, None).await;
    let call = &cassette.calls(0)[0];
    let result = mcp.call(&call.name, &call.arguments).await;
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(text(&result), "5");
    let spans = server.replay().tool_spans("default");
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].call_id, call.id, "paired by name and arguments");
    assert!(spans[0].end_ms.is_some());
}

#[tokio::test]
async fn a_failing_tool_is_an_error_result_with_the_recorded_text() {
    let cassette = load("openai-chat/handmade-failing-tool.json");
    let (_server, mcp) = served(&cassette, None).await;
    let failing = cassette
        .calls(0)
        .iter()
        .find(|c| c.name == "lookup_stock")
        .unwrap();
    let result = mcp.call(&failing.name, &failing.arguments).await;
    assert_eq!(result["isError"], true, "{result}");
    assert_eq!(text(&result), "upstream quote service unavailable");
}

#[tokio::test]
async fn a_call_that_matches_no_recorded_call_is_an_error_result_that_lists_the_calls() {
    let cassette = load(TWO);
    let (server, mcp) = served(&cassette, None).await;
    let result = mcp.call("add", r#"{"a": 40, "b": 2}"#).await;
    assert_eq!(result["isError"], true, "{result}");
    assert!(
        text(&result).contains("the turn's calls are"),
        "{}",
        text(&result)
    );
    assert!(server.replay().tool_spans("default").is_empty());
}

#[tokio::test]
async fn concurrent_calls_meet_at_the_barrier_and_pass_the_timing_rules() {
    let cassette = with_tools(TWO, true, &[]);
    // A grace far longer than the test: the calls only answer in time if they met.
    let (server, mcp) = served(&cassette, Some(Duration::from_secs(60))).await;
    let calls = cassette.calls(0);
    let (a, m) = tokio::join!(
        mcp.call(&calls[0].name, &calls[0].arguments),
        mcp.call(&calls[1].name, &calls[1].arguments)
    );
    assert_eq!((text(&a), text(&m)), ("5", "6"));
    let findings = server.replay().findings("default");
    assert!(findings.iter().all(|f| f.rule != "TT008"), "{findings:#?}");
    let spans = server.replay().tool_spans("default");
    assert_eq!(spans.len(), 2);
}

#[tokio::test]
async fn calls_one_after_another_time_out_at_the_barrier_and_fire_tt008() {
    let cassette = with_tools(TWO, true, &[]);
    let (server, mcp) = served(&cassette, Some(Duration::from_millis(200))).await;
    for call in cassette.calls(0) {
        mcp.call(&call.name, &call.arguments).await;
    }
    let findings = server.replay().findings("default");
    let tt008: Vec<_> = findings.iter().filter(|f| f.rule == "TT008").collect();
    assert_eq!(tt008.len(), 1, "{findings:#?}");
    assert_eq!(tt008[0].severity, tooltape::conformance::Severity::Error);
}

#[tokio::test]
async fn a_hung_tool_never_answers() {
    let hangs = ToolSim {
        hangs: true,
        ..ToolSim::default()
    };
    let cassette = with_tools(TWO, false, &[("add", hangs)]);
    let (server, mcp) = served(&cassette, None).await;
    let call = cassette.calls(0)[0].clone();
    let pending = tokio::spawn(async move { mcp.call(&call.name, &call.arguments).await });
    while server.replay().tool_spans("default").is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished(), "a hung tool answered");
    assert_eq!(server.replay().tool_spans("default")[0].end_ms, None);
    pending.abort();
}

#[tokio::test]
async fn the_bare_mcp_url_with_several_sessions_names_the_session_urls() {
    let replay = Arc::new(Replay::new());
    replay.add_sessions(&[load(TWO), load("anthropic/handmade-three-turns.json")]);
    let server = ReplayServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), replay)
        .await
        .unwrap();
    let mcp = Mcp::connect(format!("{}/mcp", server.url())).await;
    let listed = mcp.request("tools/list", json!({})).await;
    let message = listed["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("/s/{session}/mcp"), "{listed}");
}

#[test]
fn every_called_tool_of_every_fixture_is_listed_with_an_object_schema() {
    for path in fixture_files() {
        let cassette = load_path(&path);
        let tools = cassette.tool_definitions();
        for call in cassette.turns.iter().flat_map(|t| &t.calls) {
            let tool = tools.iter().find(|t| t.name == call.name);
            let tool =
                tool.unwrap_or_else(|| panic!("{}: `{}` not listed", path.display(), call.name));
            assert!(
                tool.parameters.is_object(),
                "{}: `{}` has schema {}",
                path.display(),
                tool.name,
                tool.parameters
            );
        }
    }
}

#[test]
fn gemini_declarations_are_listed_as_json_schema() {
    let cassette = load("gemini/fantasy-2.5-flash-parallel2-followup.json");
    let tools = cassette.tool_definitions();
    assert_eq!(
        tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["add", "multiply"]
    );
    assert_eq!(tools[0].parameters["type"], "object");
    assert_eq!(tools[0].parameters["properties"]["a"]["type"], "integer");
    assert_eq!(tools[0].description, "Add two numbers");
}

#[test]
fn every_codec_reads_back_the_tools_it_writes_into_an_opening_request() {
    use tooltape::provider::Provider;
    use tooltape::transcript::ToolDefinition;
    let tools = vec![
        ToolDefinition {
            name: "add".into(),
            description: "Add two numbers".into(),
            parameters: json!({"type": "object", "properties": {"a": {"type": "integer"}},
                               "required": ["a"]}),
        },
        ToolDefinition {
            name: "no_arguments".into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {}}),
        },
    ];
    for provider in Provider::ALL {
        let like = fixture_files()
            .into_iter()
            .map(|p| load_path(&p))
            .filter(|c| c.provider() == provider)
            .find_map(|c| match &c.file.interactions[0].response.body {
                tooltape::cassette::ResponseBody::Json { text } => Some(text.clone()),
                tooltape::cassette::ResponseBody::Sse { .. } => None,
            })
            .unwrap();
        let codec = provider.codec();
        let request = codec.opening_request(&like, "p", &tools, false).unwrap();
        assert_eq!(codec.declared_tools(&request), tools, "{}", provider.name());
    }
}
