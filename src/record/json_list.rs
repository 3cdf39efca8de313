//! The JSON request/response lists some SDK test suites keep (anthropic-sdk-python's
//! recorder): `[{"request": {"method", "url", "headers", "body"}, "response": {"status_code",
//! "headers", "body"}}]`, bodies as JSON values or as text.

use serde_json::Value;

use super::error::ImportErrorKind;
use super::exchange::{Exchange, Payload};

/// The format's name in messages and provenance.
pub const NAME: &str = "JSON request/response list";

/// Whether a JSON document is such a list.
#[must_use]
pub fn detect(doc: &Value) -> bool {
    doc.as_array()
        .and_then(|items| items.first())
        .is_some_and(|first| first.get("request").is_some() && first.get("response").is_some())
}

fn field(at: String, problem: &str) -> ImportErrorKind {
    ImportErrorKind::Field {
        format: NAME,
        at,
        problem: problem.to_owned(),
    }
}

/// Reads every pair.
///
/// # Errors
/// A pair lacks a part.
pub fn read(doc: &Value) -> Result<Vec<Exchange>, ImportErrorKind> {
    let items = doc.as_array().map(Vec::as_slice).unwrap_or_default();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |part: &str| format!("[{i}].{part}");
            let request = item
                .get("request")
                .ok_or_else(|| field(at("request"), "missing"))?;
            let response = item
                .get("response")
                .ok_or_else(|| field(at("response"), "missing"))?;
            let status = response
                .get("status_code")
                .or_else(|| response.get("status"))
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| field(at("response.status_code"), "missing or not a status code"))?;
            Ok(Exchange {
                method: request
                    .get("method")
                    .and_then(Value::as_str)
                    .unwrap_or("POST")
                    .to_ascii_uppercase(),
                url: request
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                request_headers: headers(request.get("headers")),
                request: Some(body(request.get("body"))),
                status,
                response_headers: headers(response.get("headers")),
                response: body(response.get("body")),
                timing: None,
                notes: Vec::new(),
            })
        })
        .collect()
}

/// Text is the body's bytes; any other JSON value is the body parsed.
fn body(value: Option<&Value>) -> Payload {
    match value {
        None | Some(Value::Null) => Payload::Empty,
        Some(Value::String(s)) => Payload::text(s.clone()),
        Some(v) => Payload::Parsed(v.clone()),
    }
}

/// `{"name": "value"}` or `[["name", "value"]]`.
fn headers(value: Option<&Value>) -> Vec<(String, String)> {
    match value {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
        Some(Value::Array(pairs)) => pairs
            .iter()
            .filter_map(|p| {
                Some((
                    p.get(0)?.as_str()?.to_owned(),
                    p.get(1)?.as_str()?.to_owned(),
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}
