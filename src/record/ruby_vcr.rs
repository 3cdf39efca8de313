//! Ruby VCR cassettes (`http_interactions`, `recorded_with: VCR …`, `body.string`, bodies
//! that are not valid UTF-8 stored as `!binary` base64 or `base64_string`).

use base64::Engine;
use serde_norway::Value as Yaml;

use super::error::ImportErrorKind;
use super::exchange::{Exchange, Payload};
use super::yaml::{self, get, headers, missing, payload};

/// The format's name in messages and provenance.
pub const NAME: &str = "Ruby VCR YAML";

/// Whether a YAML document is a Ruby VCR cassette.
#[must_use]
pub fn detect(doc: &Yaml) -> bool {
    get(doc, "http_interactions").is_some()
}

/// Reads every interaction.
///
/// # Errors
/// A VCR 1 cassette, or an interaction lacks a part.
pub fn read(doc: &Yaml) -> Result<Vec<Exchange>, ImportErrorKind> {
    if let Some(with) = get(doc, "recorded_with").and_then(yaml::text) {
        let major = with
            .trim_start_matches("VCR")
            .trim()
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        if major.is_some_and(|m| m < 2) {
            return Err(ImportErrorKind::Version {
                format: NAME,
                found: with,
                supported: "cassettes recorded with VCR 2 or later",
            });
        }
    }
    let items = yaml::list(doc, "http_interactions", NAME)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |part: &str| format!("http_interactions[{i}].{part}");
            let request =
                get(item, "request").ok_or_else(|| missing(NAME, at("request"), "the request"))?;
            let response = get(item, "response")
                .ok_or_else(|| missing(NAME, at("response"), "the response"))?;
            let status = get(response, "status")
                .and_then(|s| get(s, "code"))
                .and_then(yaml::text)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| missing(NAME, at("response.status.code"), "the status code"))?;
            let body_error = |problem| ImportErrorKind::Body {
                interaction: i,
                problem,
            };
            Ok(Exchange {
                method: get(request, "method")
                    .and_then(yaml::text)
                    .unwrap_or_default()
                    .to_ascii_uppercase(),
                url: get(request, "uri").and_then(yaml::text).unwrap_or_default(),
                request_headers: headers(get(request, "headers")),
                request: Some(body(get(request, "body")).map_err(body_error)?),
                status,
                response_headers: headers(get(response, "headers")),
                response: body(get(response, "body")).map_err(body_error)?,
                timing: None,
                notes: Vec::new(),
            })
        })
        .collect()
}

/// `{encoding, string}` or `{encoding, base64_string}`.
fn body(value: Option<&Yaml>) -> Result<Payload, String> {
    let Some(value) = value else {
        return Ok(Payload::Empty);
    };
    if let Some(encoded) = get(value, "base64_string").and_then(yaml::text) {
        let clean: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map_err(|e| format!("`base64_string` is not base64 ({e})"))?;
        return Ok(Payload::Bytes {
            bytes,
            base64: true,
        });
    }
    payload(get(value, "string"))
}
