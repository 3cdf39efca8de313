//! Property tests: round trips, SSE at arbitrary split points, result order under any latency.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tooltape::cassette::{Cassette, ResponseBody, ToolSim};
use tooltape::provider::sse::{self, SseParser};
use tooltape::reference_loop::ReferenceLoop;
use tooltape::server::ReplayServer;
use tooltape::transcript::ToolCall;

use crate::support::{fixture_files, load, load_path};

fn streamed_responses() -> Vec<(Arc<Cassette>, usize)> {
    fixture_files()
        .iter()
        .map(|f| load_path(f))
        .flat_map(|c| {
            (0..c.turns.len())
                .filter(|k| c.turns[*k].response.body.is_stream())
                .map(|k| (c.clone(), k))
                .collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(crate::generators::config(64))]

    #[test]
    fn a_cassette_survives_a_write_and_read(
        latency in proptest::option::of(0u64..10_000),
        fails in proptest::option::of("[a-zA-Z ü東]{0,20}"),
        hangs in any::<bool>(),
        sequential in any::<bool>(),
        description in "[ -~é]{0,40}",
        pick in 0usize..100,
    ) {
        let files = fixture_files();
        let original = load_path(&files[pick % files.len()]);
        let mut file = original.file.clone();
        file.description = description;
        file.tools.insert("some_tool".into(), ToolSim { latency_ms: latency, fails, hangs, sequential });
        let text = serde_json::to_string_pretty(&file).unwrap();
        let back = Cassette::from_json(&text, Path::new("round.json")).unwrap();
        prop_assert_eq!(back.file, file);
    }

    #[test]
    fn a_stream_split_at_any_bytes_decodes_to_the_same_turn(
        pick in 0usize..1000,
        cuts in proptest::collection::vec(0usize..100_000, 0..40),
    ) {
        let responses = streamed_responses();
        let (cassette, k) = &responses[pick % responses.len()];
        let ResponseBody::Sse { frames } = &cassette.turns[*k].response.body else { unreachable!() };
        let body = frames.concat().into_bytes();
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        points.push(0);
        points.push(body.len());
        points.sort_unstable();
        points.dedup();
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for w in points.windows(2) {
            events.extend(parser.push(&body[w[0]..w[1]]).unwrap());
        }
        parser.finish().unwrap();
        prop_assert_eq!(&events, &sse::parse_frames(frames));
        let mut decoded = cassette.provider().decode_response_sse(&events).unwrap();
        decoded.number_calls(k + 1);
        prop_assert_eq!(Some(&decoded), cassette.turns[*k].assistant.as_ref());
    }
}

proptest! {
    #![proptest_config(crate::generators::config(12))]

    #[test]
    fn any_tool_latencies_leave_results_in_call_order(latencies in proptest::collection::vec(0u64..25, 4)) {
        let cassette = load("anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (results, calls, conformant) = rt.block_on(async {
            let server = ReplayServer::start((*cassette).clone()).await;
            let order: Vec<String> = cassette.calls(0).iter().map(|c| c.id.clone()).collect();
            let lat = latencies.clone();
            let tools = move |_turn: usize, call: ToolCall| {
                let i = order.iter().position(|id| *id == call.id).unwrap_or(0);
                let wait = Duration::from_millis(lat[i % lat.len()]);
                async move {
                    tokio::time::sleep(wait).await;
                    Ok(serde_json::Value::String(format!("result of {}", call.id)))
                }
            };
            let outcome = ReferenceLoop::new(server.url()).run(&cassette, &tools).await.unwrap();
            let report = server.verify().await.finish(false);
            (outcome.turns[0].results.clone(), outcome.turns[0].calls.clone(), report.is_conformant())
        });
        let result_ids: Vec<&str> = results.iter().map(|r| r.call_id.as_str()).collect();
        let call_ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
        prop_assert_eq!(result_ids, call_ids);
        for r in &results {
            prop_assert_eq!(r.text(), format!("result of {}", r.call_id));
        }
        prop_assert!(conformant);
    }
}
