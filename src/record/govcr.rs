//! go-vcr cassettes (`version: 1` or `2`, `interactions`, `url`, `code`, bodies as strings).

use serde_norway::Value as Yaml;

use super::error::ImportErrorKind;
use super::exchange::Exchange;
use super::yaml::{self, get, headers, missing, payload};

/// The format's name in messages and provenance.
pub const NAME: &str = "go-vcr YAML";

/// Whether a YAML document is a go-vcr cassette: `interactions` whose requests have a `url`.
#[must_use]
pub fn detect(doc: &Yaml) -> bool {
    match get(doc, "interactions") {
        Some(Yaml::Sequence(items)) => items
            .first()
            .and_then(|i| get(i, "request"))
            .is_some_and(|r| get(r, "url").is_some()),
        _ => false,
    }
}

/// The format version, `1` or `2`.
///
/// # Errors
/// Another version.
pub fn version(doc: &Yaml) -> Result<String, ImportErrorKind> {
    let found = get(doc, "version").and_then(yaml::text).unwrap_or_default();
    match found.as_str() {
        "1" | "2" => Ok(found),
        _ => Err(ImportErrorKind::Version {
            format: NAME,
            found: if found.is_empty() {
                "(none)".into()
            } else {
                found
            },
            supported: "versions 1 and 2 (go-vcr v1 to v4)",
        }),
    }
}

/// Reads every interaction.
///
/// # Errors
/// Another format version, or an interaction lacks a part.
pub fn read(doc: &Yaml) -> Result<Vec<Exchange>, ImportErrorKind> {
    version(doc)?;
    let items = yaml::list(doc, "interactions", NAME)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |part: &str| format!("interactions[{i}].{part}");
            let request =
                get(item, "request").ok_or_else(|| missing(NAME, at("request"), "the request"))?;
            let response = get(item, "response")
                .ok_or_else(|| missing(NAME, at("response"), "the response"))?;
            let status = get(response, "code")
                .and_then(yaml::text)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| missing(NAME, at("response.code"), "the status code"))?;
            let body_error = |problem| ImportErrorKind::Body {
                interaction: i,
                problem,
            };
            Ok(Exchange {
                method: get(request, "method")
                    .and_then(yaml::text)
                    .unwrap_or_default()
                    .to_ascii_uppercase(),
                url: get(request, "url").and_then(yaml::text).unwrap_or_default(),
                request_headers: headers(get(request, "headers")),
                request: Some(payload(get(request, "body")).map_err(body_error)?),
                status,
                response_headers: headers(get(response, "headers")),
                response: payload(get(response, "body")).map_err(body_error)?,
                timing: None,
                notes: Vec::new(),
            })
        })
        .collect()
}
