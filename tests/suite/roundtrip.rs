//! Codec round trips on generated cassettes: wire → transcript → wire for requests and
//! responses of each provider, SSE re-read at arbitrary split points, and the cassette file
//! through its JSON form.

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;
use tooltape::Cassette;
use tooltape::cassette::ResponseBody;
use tooltape::provider::Provider;
use tooltape::provider::sse::{self, SseParser};
use tooltape::transcript::{
    AssistantTurn, Block, Role, StopReason, Thinking, ToolCall, ToolResult,
};

use crate::generators::{Generated, Layout, any_cassette, config, content_text};

/// What response `k` of a generated cassette must decode to.
fn expected_turn(generated: &Generated, k: usize) -> AssistantTurn {
    let mut blocks = Vec::new();
    let Some(turn) = generated.turns.get(k) else {
        return AssistantTurn {
            blocks: vec![Block::Text {
                text: generated.spec.final_text.clone(),
            }],
            stop: StopReason::EndTurn,
        };
    };
    if let Some((text, signature)) = &turn.thinking {
        blocks.push(Block::Thinking(Thinking {
            kind: "thinking".to_owned(),
            text: text.clone(),
            signature: Some(signature.clone()),
            id: None,
        }));
    }
    if let Some(text) = &turn.text {
        blocks.push(Block::Text { text: text.clone() });
    }
    for c in &turn.calls {
        blocks.push(Block::ToolCall(ToolCall {
            id: c.id.clone(),
            name: c.name.clone(),
            arguments: c.text.clone(),
            item_id: None,
        }));
    }
    let stream = &generated.spec.turns[k].stream;
    let stop = if generated.provider() == Provider::OpenAiChat
        && generated.spec.streaming
        && stream.finish_stop
    {
        StopReason::EndTurn
    } else {
        StopReason::ToolUse
    };
    AssistantTurn { blocks, stop }
}

/// Compares two turns; arguments count as equal when they are the same JSON value, and for
/// OpenAI (whose `arguments` is text that travels verbatim) also as the same text.
fn assert_same_turn(
    provider: Provider,
    got: &AssistantTurn,
    want: &AssistantTurn,
    what: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.stop, want.stop, "{}: stop reason", what);
    prop_assert_eq!(got.blocks.len(), want.blocks.len(), "{}: {:#?}", what, got);
    for (g, w) in got.blocks.iter().zip(&want.blocks) {
        match (g, w) {
            (Block::ToolCall(g), Block::ToolCall(w)) => {
                prop_assert_eq!(&g.id, &w.id, "{}", what);
                prop_assert_eq!(&g.name, &w.name, "{}", what);
                let parse = |s: &str| serde_json::from_str::<Value>(s).ok();
                prop_assert_eq!(
                    parse(&g.arguments),
                    parse(&w.arguments),
                    "{}: arguments of {}",
                    what,
                    w.id
                );
                if provider == Provider::OpenAiChat {
                    prop_assert_eq!(&g.arguments, &w.arguments, "{}: verbatim", what);
                }
            }
            _ => prop_assert_eq!(g, w, "{}", what),
        }
    }
    Ok(())
}

fn results_of(generated: &Generated, k: usize) -> Vec<ToolResult> {
    let turn = &generated.turns[k];
    turn.calls
        .iter()
        .zip(&turn.answers)
        .map(|(c, a)| ToolResult {
            call_id: c.id.clone(),
            // Gemini has no error flag: a failure is the response `{"error": …}`.
            content: if a.is_error && generated.provider() == Provider::Gemini {
                serde_json::json!({ "error": content_text(&a.content) })
            } else {
                a.content.clone()
            },
            is_error: a.is_error && generated.provider() == Provider::Anthropic,
        })
        .collect()
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn generated_responses_decode_to_the_generated_calls(generated in any_cassette()) {
        let cassette = generated.cassette();
        for k in 0..=generated.turns.len() {
            let got = cassette.turns[k].assistant.as_ref().expect("status 200");
            assert_same_turn(generated.provider(), got, &expected_turn(&generated, k), &format!("response {k}"))?;
        }
    }

    #[test]
    fn streams_split_at_any_byte_decode_to_the_same_turn(
        generated in any_cassette(),
        cuts in proptest::collection::vec(any::<usize>(), 0..64),
        pick in any::<usize>(),
    ) {
        prop_assume!(generated.spec.streaming);
        let cassette = generated.cassette();
        let k = pick % cassette.turns.len();
        let ResponseBody::Sse { frames } = &cassette.turns[k].response.body else {
            unreachable!("a streamed cassette");
        };
        let body = frames.concat().into_bytes();
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        points.extend([0, body.len()]);
        points.sort_unstable();
        points.dedup();
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for w in points.windows(2) {
            events.extend(parser.push(&body[w[0]..w[1]]).unwrap());
        }
        parser.finish().unwrap();
        prop_assert_eq!(&events, &sse::parse_frames(frames));
        prop_assert_eq!(sse::split_frames(&frames.concat()), frames.clone());
        let mut decoded = cassette.provider().decode_response_sse(&events).unwrap();
        decoded.number_calls(k + 1);
        assert_same_turn(generated.provider(), &decoded, &expected_turn(&generated, k), "re-read stream")?;
    }

    #[test]
    fn a_stream_fed_one_byte_at_a_time_decodes_to_the_same_turn(generated in any_cassette()) {
        prop_assume!(generated.spec.streaming);
        let cassette = generated.cassette();
        for (k, turn) in cassette.turns.iter().enumerate() {
            let ResponseBody::Sse { frames } = &turn.response.body else { unreachable!() };
            let mut parser = SseParser::new();
            let mut events = Vec::new();
            for b in frames.concat().as_bytes() {
                events.extend(parser.push(std::slice::from_ref(b)).unwrap());
            }
            parser.finish().unwrap();
            let mut decoded = cassette.provider().decode_response_sse(&events).unwrap();
            decoded.number_calls(k + 1);
            assert_same_turn(generated.provider(), &decoded, &expected_turn(&generated, k), "byte by byte")?;
        }
    }

    #[test]
    fn requests_decode_and_reencode_to_the_same_wire_messages(generated in any_cassette()) {
        let provider = generated.provider();
        let cassette = generated.cassette();
        let last = &cassette.turns[generated.turns.len()].request;
        let messages = &last.conversation.messages;
        let first_assistant = messages.iter().position(|m| m.role == Role::Assistant).unwrap();
        let mut at = first_assistant;
        let codec = provider.codec();
        let template = &generated.file.interactions[generated.turns.len()].request.body;
        let history = codec.history(template);
        // Where the echo of turn 1 starts in the wire history: wire items and transcript
        // messages need not be one to one (a Responses turn is several items).
        let first_echo = provider.encode_assistant(cassette.turns[0].assistant.as_ref().unwrap());
        let first_item = first_echo.as_array().and_then(|a| a.first()).unwrap_or(&first_echo);
        let mut wire_at = history.iter().position(|h| h == first_item).unwrap();
        for (k, turn) in generated.turns.iter().enumerate() {
            let served = cassette.turns[k].assistant.as_ref().unwrap();
            let echo = provider.encode_assistant(served);
            let echo_len = echo.as_array().map_or(1, Vec::len);
            prop_assert_eq!(&echo, &generated.echo(turn), "turn {}: echo", k);
            let results = results_of(&generated, k);
            let calls: Vec<ToolCall> = served.tool_calls().cloned().collect();
            let wire = codec.encode_answers(&calls, &results);
            prop_assert_eq!(&wire, &generated.results(turn), "turn {}: results", k);
            // The echo and the results decoded after the history before them, so that
            // positions and the turn order the API checks are those of the whole request.
            let mut sent = history[..wire_at].to_vec();
            wire_at += echo_len + wire.len();
            sent.push(echo);
            sent.extend(wire);
            let decoded = codec
                .decode_request(&tooltape::provider::Route::default(), &codec.with_history(template, sent))
                .unwrap()
                .conversation
                .messages;
            let decoded = &decoded[at..];
            let n = decoded.len();
            prop_assert_eq!(decoded, &messages[at..at + n], "turn {}: transcript", k);
            let calls: Vec<&ToolCall> = decoded[0].tool_calls().collect();
            prop_assert_eq!(calls.len(), turn.calls.len());
            let answered: Vec<(usize, &ToolResult)> = decoded[1..].iter().flat_map(|m| m.tool_results()).collect();
            prop_assert_eq!(answered.iter().map(|(_, r)| (*r).clone()).collect::<Vec<_>>(), results);
            at += n;
        }
        prop_assert_eq!(at, messages.len());
        prop_assert_eq!(last.stream, generated.spec.streaming);
        let names: Vec<String> = generated.file.tools.keys().cloned().collect();
        prop_assert_eq!(&last.tool_names, &names);
    }

    #[test]
    fn a_generated_cassette_survives_a_write_and_read(generated in any_cassette()) {
        let text = serde_json::to_string_pretty(&generated.file).unwrap();
        let back = Cassette::from_json(&text, Path::new("round.json")).unwrap();
        prop_assert_eq!(&back.file, &generated.file);
        let schema = tooltape::cassette::schema();
        prop_assert!(schema.is_object());
    }
}

#[test]
fn every_openai_layout_and_anthropic_option_is_generated() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut layouts = std::collections::BTreeSet::new();
    let mut anthropic_thinking = false;
    for _ in 0..200 {
        let g = any_cassette().new_tree(&mut runner).unwrap().current();
        if g.spec.streaming && g.provider() == Provider::OpenAiChat {
            for t in &g.spec.turns {
                layouts.insert(format!("{:?}/{}", t.stream.layout, t.stream.index0));
            }
        }
        anthropic_thinking |= g.turns.iter().any(|t| t.thinking.is_some());
    }
    for layout in [Layout::Sequential, Layout::Interleaved, Layout::Whole] {
        assert!(
            layouts
                .iter()
                .any(|l| l.starts_with(&format!("{layout:?}/"))),
            "{layout:?} never drawn: {layouts:?}"
        );
    }
    assert!(layouts.contains("Sequential/true") && layouts.contains("Whole/true"));
    assert!(anthropic_thinking);
}

/// Every recorded turn of every bundled cassette, served in the other mode by its codec,
/// decodes to the same turn (ids, names, arguments as JSON, text, thinking, stop reason), and
/// back again: the re-encoding a loop gets when it asks for the mode the recording lacks.
#[test]
fn every_bundled_turn_survives_re_encoding_in_the_other_mode_and_back() {
    let mut checked = 0;
    for path in crate::support::fixture_files() {
        let cassette = crate::support::load_path(&path);
        let codec = cassette.provider().codec();
        for (k, turn) in cassette.turns.iter().enumerate() {
            let Some(original) = &turn.assistant else {
                continue;
            };
            let request = &cassette.file.interactions[k].request.body;
            let name = format!("{} turn {k}", cassette.name());
            let (mut other, mut back) = match &turn.response.body {
                ResponseBody::Json { text } => {
                    let frames = codec.json_to_sse(text, request).expect(&name);
                    let streamed = codec
                        .decode_response_sse(&sse::parse_frames(&frames))
                        .expect(&name);
                    let json = codec.sse_to_json(&frames).expect(&name);
                    (streamed, codec.decode_response_json(&json).expect(&name))
                }
                ResponseBody::Sse { frames } => {
                    let json = codec.sse_to_json(frames).expect(&name);
                    let body = codec.decode_response_json(&json).expect(&name);
                    let again = codec.json_to_sse(&json, request).expect(&name);
                    let streamed = codec
                        .decode_response_sse(&sse::parse_frames(&again))
                        .expect(&name);
                    (body, streamed)
                }
            };
            other.number_calls(k + 1);
            back.number_calls(k + 1);
            assert!(
                other.same_as(original),
                "{name}: {other:#?}\nvs {original:#?}"
            );
            assert!(back.same_as(original), "{name} (back): {back:#?}");
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} turns");
}
