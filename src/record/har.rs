//! HAR 1.2 (and 1.1) files from browsers and proxies: `log.entries[]` with `request.postData`
//! and `response.content` (text, or base64 with `encoding`).

use base64::Engine;
use serde_json::Value;

use super::error::ImportErrorKind;
use super::exchange::{Exchange, Payload};

/// The format's name in messages and provenance.
pub const NAME: &str = "HAR";

/// Whether a JSON document is a HAR file.
#[must_use]
pub fn detect(doc: &Value) -> bool {
    doc.get("log")
        .is_some_and(|l| l.get("entries").is_some() || l.get("version").is_some())
}

fn field(at: String, problem: &str) -> ImportErrorKind {
    ImportErrorKind::Field {
        format: NAME,
        at,
        problem: problem.to_owned(),
    }
}

/// Reads every entry.
///
/// # Errors
/// Another HAR version, or an entry lacks a part.
pub fn read(doc: &Value) -> Result<Vec<Exchange>, ImportErrorKind> {
    let log = &doc["log"];
    let version = log
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches!(version, "1.1" | "1.2") {
        return Err(ImportErrorKind::Version {
            format: NAME,
            found: if version.is_empty() {
                "(none)".into()
            } else {
                version.into()
            },
            supported: "HAR 1.1 and 1.2",
        });
    }
    let entries = log
        .get("entries")
        .and_then(Value::as_array)
        .ok_or_else(|| field("log.entries".into(), "missing: expected a list of entries"))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let at = |part: &str| format!("log.entries[{i}].{part}");
            let request = entry
                .get("request")
                .ok_or_else(|| field(at("request"), "missing"))?;
            let response = entry
                .get("response")
                .ok_or_else(|| field(at("response"), "missing"))?;
            let status = response
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| field(at("response.status"), "missing or not a status code"))?;
            let request_body = match request.pointer("/postData/text").and_then(Value::as_str) {
                Some(text) => Payload::text(text),
                None => Payload::Empty,
            };
            let content = response
                .get("content")
                .ok_or_else(|| field(at("response.content"), "missing"))?;
            let response_body = match content.get("text").and_then(Value::as_str) {
                None => Payload::Empty,
                Some(text) if content.get("encoding").and_then(Value::as_str) == Some("base64") => {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .map_err(|e| {
                            field(at("response.content.text"), &format!("not base64 ({e})"))
                        })?;
                    Payload::Bytes {
                        bytes,
                        base64: true,
                    }
                }
                Some(text) => Payload::text(text),
            };
            let mut response_headers = headers(response.get("headers"));
            if let Some(mime) = content.get("mimeType").and_then(Value::as_str)
                && !response_headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                response_headers.push(("content-type".into(), mime.into()));
            }
            // The bytes in `content.text` are already decoded: a recorded encoding header
            // would make the body look compressed.
            response_headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-encoding"));
            Ok(Exchange {
                method: request
                    .get("method")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_uppercase(),
                url: request
                    .get("url")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                request_headers: headers(request.get("headers")),
                request: Some(request_body),
                status,
                response_headers,
                response: response_body,
                timing: None,
                notes: Vec::new(),
            })
        })
        .collect()
}

/// `[{"name", "value"}]`.
fn headers(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|h| {
            Some((
                h.get("name")?.as_str()?.to_owned(),
                h.get("value")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}
