//! Bad input gets a clear error naming the file and the place, never a panic.

use std::path::Path;

use tooltape::cassette::{Cassette, CassetteErrorKind};
use tooltape::server::ReplayServer;

use crate::support::{load, root};

fn fixture_text(rel: &str) -> String {
    std::fs::read_to_string(root().join("fixtures").join(rel)).unwrap()
}

#[test]
fn a_truncated_cassette_names_the_file_and_the_line() {
    let text = fixture_text("openai-chat/handmade-single-call.json");
    let cut = &text[..text.len() / 2];
    let err = Cassette::from_json(cut, Path::new("cut.json")).unwrap_err();
    assert!(
        matches!(err.kind, CassetteErrorKind::Syntax { .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("cut.json") && message.contains("line"),
        "{message}"
    );
}

#[test]
fn an_unknown_provider_is_refused_with_its_path() {
    let text = fixture_text("openai-chat/handmade-single-call.json").replacen(
        "\"provider\": \"openai-chat\"",
        "\"provider\": \"mistral\"",
        1,
    );
    let err = Cassette::from_json(&text, Path::new("g.json")).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("`provider`") && message.contains("mistral"),
        "{message}"
    );
}

#[test]
fn a_newer_format_version_is_refused_as_too_new() {
    let text = fixture_text("openai-chat/handmade-single-call.json").replacen(
        "\"tooltape\": 1",
        "\"tooltape\": 2",
        1,
    );
    let err = Cassette::from_json(&text, Path::new("new.json")).unwrap_err();
    assert!(
        matches!(err.kind, CassetteErrorKind::TooNew { found: 2 }),
        "{err}"
    );
    assert!(err.to_string().contains("too new"), "{err}");
}

#[test]
fn a_file_without_a_version_is_not_a_cassette() {
    let err = Cassette::from_json("{\"interactions\": []}", Path::new("x.json")).unwrap_err();
    assert!(matches!(err.kind, CassetteErrorKind::NotCassette), "{err}");
}

#[test]
fn a_recorded_response_that_does_not_decode_names_the_interaction() {
    let text = fixture_text("openai-chat/handmade-single-call.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["interactions"][0]["response"]["body"]["text"] = "{\"object\": \"chat.completion\"}".into();
    let err = Cassette::from_json(&v.to_string(), Path::new("bad.json")).unwrap_err();
    assert!(
        matches!(err.kind, CassetteErrorKind::Response { interaction: 0, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_non_json_request_body_gets_the_providers_400_and_a_tt011_finding() {
    let cassette = load("openai-chat/handmade-single-call.json");
    let server = ReplayServer::start((*cassette).clone()).await;
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", server.openai_base_url()))
        .bearer_auth("sk-test")
        .header("content-type", "application/json")
        .body("this is not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("We could not parse the JSON body")
    );
    let report = server.verify().await.finish(false);
    assert!(
        report.cassettes[0]
            .findings
            .iter()
            .any(|f| f.rule == "TT011")
    );
    assert!(!report.is_conformant());
}

#[tokio::test]
async fn a_missing_api_key_is_refused_like_the_provider_does() {
    let cassette = load("anthropic/fantasy-sonnet-4-parallel2-followup.json");
    let server = ReplayServer::start((*cassette).clone()).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", server.anthropic_base_url()))
        .header("anthropic-version", "2023-06-01")
        .json(&cassette.file.interactions[0].request.body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["message"], "x-api-key header is required");
}
