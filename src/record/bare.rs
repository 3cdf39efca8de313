//! Bodies without their requests: a bare SSE stream, a bare JSON response, and a JSON-lines
//! log with one stream event per line (as the Vercel AI SDK's test fixtures keep them).

use serde_json::Value;

use super::error::ImportErrorKind;
use super::exchange::{Exchange, Payload};
use crate::provider::{Provider, sse};

/// The name of a bare SSE body in messages and provenance.
pub const SSE: &str = "SSE body";
/// The name of a bare JSON response body.
pub const JSON: &str = "JSON response body";
/// The name of a JSON-lines event log.
pub const JSON_LINES: &str = "JSON-lines event log";

fn response_only(body: String, content_type: &str) -> Exchange {
    Exchange {
        method: "POST".into(),
        status: 200,
        response_headers: vec![("content-type".into(), content_type.into())],
        response: Payload::text(body),
        ..Exchange::default()
    }
}

/// A whole SSE body, as one response.
#[must_use]
pub fn sse_body(text: &str) -> Vec<Exchange> {
    vec![response_only(text.to_owned(), "text/event-stream")]
}

/// A bare JSON response body, as one response.
#[must_use]
pub fn json_body(text: &str) -> Vec<Exchange> {
    vec![response_only(text.to_owned(), "application/json")]
}

/// Whether the text is a JSON-lines log: its first two non-blank lines are JSON objects (a
/// later line that is not is reported by [`json_lines`] with its number).
#[must_use]
pub fn is_json_lines(text: &str) -> bool {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    lines
        .by_ref()
        .take(2)
        .filter(|line| matches!(serde_json::from_str::<Value>(line), Ok(Value::Object(_))))
        .count()
        == 2
}

/// The stream a JSON-lines log stands for: each line one `data:` frame, named by its `type`
/// with an `event:` line when it has one (the framing of the APIs whose events carry their
/// type). A log keeps only JSON payloads, so a stream terminator that is not JSON
/// (`data: [DONE]`) is missing from it: when no codec reads the stream without it but one does
/// with it, it is added, and the cassette's notes say so.
///
/// # Errors
/// A line is not a JSON object.
pub fn json_lines(text: &str) -> Result<Vec<Exchange>, ImportErrorKind> {
    let mut frames = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| ImportErrorKind::Syntax {
            format: JSON_LINES,
            message: format!("line {}: {e}", n + 1),
        })?;
        let line = line.trim();
        frames.push(match value.get("type").and_then(Value::as_str) {
            Some(kind) => format!("event: {kind}\ndata: {line}\n\n"),
            None => format!("data: {line}\n\n"),
        });
    }
    let decodes = |frames: &[String]| {
        let events = sse::parse_frames(frames);
        Provider::ALL
            .iter()
            .any(|p| p.decode_response_sse(&events).is_ok())
    };
    let mut notes = Vec::new();
    if !decodes(&frames) {
        let mut closed = frames.clone();
        closed.push("data: [DONE]\n\n".into());
        if decodes(&closed) {
            frames = closed;
            notes.push(
                "the event log has no stream terminator (it keeps JSON payloads only); `data: [DONE]` was added as the last frame".to_owned(),
            );
        }
    }
    let mut exchange = response_only(frames.concat(), "text/event-stream");
    exchange.notes = notes;
    Ok(vec![exchange])
}
