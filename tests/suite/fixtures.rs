//! Every bundled cassette loads, lints clean, and its own recorded follow-ups conform.

use std::sync::Arc;

use tooltape::provider::Provider;
use tooltape::server::{Replay, Reply, RequestMeta};

use crate::support::{fixture_files, load_path};

#[test]
fn there_are_enough_bundled_cassettes() {
    let files = fixture_files();
    let cassettes: Vec<_> = files.iter().map(|f| load_path(f)).collect();
    let streamed = cassettes.iter().filter(|c| c.streaming()).count();
    let recorded = cassettes
        .iter()
        .filter(|c| c.file.source.kind == tooltape::cassette::SourceKind::Recorded)
        .count();
    assert!(recorded >= 12, "only {recorded} recorded cassettes");
    assert!(streamed >= 5, "only {streamed} streamed cassettes");
    for p in Provider::ALL {
        assert!(
            cassettes.iter().any(|c| c.provider() == p),
            "no {p} cassette"
        );
    }
}

#[test]
fn every_bundled_cassette_lints_clean() {
    for file in fixture_files() {
        let c = load_path(&file);
        let lints = c.lint();
        assert!(lints.is_empty(), "{}: {lints:?}", file.display());
    }
}

#[test]
fn every_recorded_follow_up_is_conformant_and_gets_the_recorded_response() {
    for file in fixture_files() {
        let c = load_path(&file);
        let replay = Replay::new();
        replay.add_session("s", c.clone());
        for (k, interaction) in c.file.interactions.iter().enumerate() {
            let body = serde_json::to_vec(&interaction.request.body).unwrap();
            let route = interaction.request.route(c.provider());
            let reply = replay.handle_model_routed(
                Some("s"),
                c.provider(),
                &route,
                RequestMeta::all(),
                &body,
            );
            let expected = match &c.turns[k].response.body {
                tooltape::cassette::ResponseBody::Json { text } => text.clone().into_bytes(),
                tooltape::cassette::ResponseBody::Sse { frames } => frames.concat().into_bytes(),
            };
            assert_eq!(
                reply.status(),
                c.turns[k].response.status,
                "{} turn {k}",
                c.name()
            );
            assert_eq!(
                reply.body_bytes().as_ref(),
                expected.as_slice(),
                "{} turn {k}",
                c.name()
            );
            assert_eq!(
                matches!(reply, Reply::Sse { .. }),
                c.turns[k].response.body.is_stream()
            );
        }
        let findings = replay.findings("s");
        assert!(findings.is_empty(), "{}: {findings:#?}", c.name());
    }
}

#[test]
fn the_four_call_anthropic_conversation_and_the_three_turn_stream_are_bundled() {
    let four = crate::support::load("anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json");
    assert_eq!(four.calls(0).len(), 4);
    let three = crate::support::load("openai-chat/pydantic-ai-temporal-complex-agent-stream.json");
    assert!(three.streaming());
    assert!(three.turns.len() >= 3);
    let _ = Arc::clone(&three);
}
