//! Fuzz targets: each takes arbitrary bytes and must return without panicking, whatever they
//! are. The libFuzzer harness in `fuzz/` and the suite's regression test (which replays every
//! kept input in `fuzz/regressions/` and a short seeded run) call these same functions.
//!
//! - [`cassette`]: a cassette file, parsed, decoded and linted.
//! - [`sse`]: a response stream, through the incremental SSE parser at split points taken from
//!   the input, and both providers' stream and JSON response decoders.
//! - [`request`]: a request body, decoded by both providers' codecs and judged by every rule
//!   against a bundled cassette of that provider, with the provider's error rendered.

use std::path::Path;
use std::sync::OnceLock;

use crate::cassette::Cassette;
use crate::conformance::{RequestContext, judge_request};
use crate::provider::{Provider, sse};

/// A cassette file.
pub fn cassette(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Cassette::from_json(text, Path::new("fuzz.json")) {
        let _ = c.lint();
        let _ = c.prompt();
        let _ = c.streaming();
        for t in 0..c.turns.len() {
            for call in c.calls(t) {
                let _ = c.latency(t, call);
                let _ = c.recorded_result(t, &call.id);
            }
        }
    }
}

/// A response stream (and the same bytes as a JSON response body).
pub fn sse(data: &[u8]) {
    let (splits, body) = match data.split_first() {
        Some((first, rest)) => (usize::from(*first % 8) + 1, rest),
        None => (1, data),
    };
    let mut parser = sse::SseParser::new();
    let mut events = Vec::new();
    let step = body.len() / splits + 1;
    for chunk in body.chunks(step) {
        match parser.push(chunk) {
            Ok(more) => events.extend(more),
            Err(_) => return,
        }
    }
    let _ = parser.finish();
    if let Ok(text) = std::str::from_utf8(body) {
        let frames = sse::split_frames(text);
        let from_frames = sse::parse_frames(&frames);
        for provider in Provider::ALL {
            let _ = provider.decode_response_sse(&from_frames);
            let _ = provider.decode_response_json(text);
        }
    }
    for provider in Provider::ALL {
        let _ = provider.decode_response_sse(&events);
    }
}

/// A request body, judged against a bundled cassette of each provider.
pub fn request(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for cassette in cassettes() {
        let provider = cassette.provider();
        let decoded = provider.decode_request(&value);
        let cx = RequestContext::new(cassette, &decoded);
        let (_, rejection) = judge_request(&cx);
        if let Some(r) = rejection {
            let _ = provider.render_rejection(&r);
        }
    }
}

fn cassettes() -> &'static [Cassette] {
    static CASSETTES: OnceLock<Vec<Cassette>> = OnceLock::new();
    CASSETTES.get_or_init(|| {
        [
            include_str!("../fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json"),
            include_str!("../fixtures/anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json"),
        ]
        .iter()
        .filter_map(|text| Cassette::from_json(text, Path::new("bundled.json")).ok())
        .collect()
    })
}
