//! vcrpy / pytest-recording cassettes (`interactions`, `uri`, `status.code`, `body.string`),
//! including pydantic-ai's variant that keeps JSON bodies as `parsed_body`.

use serde_norway::Value as Yaml;

use super::error::ImportErrorKind;
use super::exchange::Exchange;
use super::yaml::{self, get, headers, missing, payload};

/// The format's name in messages and provenance.
pub const NAME: &str = "vcrpy YAML";

/// Whether a YAML document is a vcrpy cassette: `interactions` whose requests have a `uri`.
#[must_use]
pub fn detect(doc: &Yaml) -> bool {
    first_request(doc).is_some_and(|r| get(r, "uri").is_some())
}

fn first_request(doc: &Yaml) -> Option<&Yaml> {
    match get(doc, "interactions") {
        Some(Yaml::Sequence(items)) => items.first().and_then(|i| get(i, "request")),
        _ => None,
    }
}

/// Reads every interaction.
///
/// # Errors
/// Another format version, or an interaction lacks a part.
pub fn read(doc: &Yaml) -> Result<Vec<Exchange>, ImportErrorKind> {
    if let Some(v) = get(doc, "version").and_then(yaml::text)
        && v != "1"
    {
        return Err(ImportErrorKind::Version {
            format: NAME,
            found: v,
            supported: "version 1",
        });
    }
    let items = yaml::list(doc, "interactions", NAME)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| interaction(i, item))
        .collect()
}

fn interaction(i: usize, item: &Yaml) -> Result<Exchange, ImportErrorKind> {
    let at = |part: &str| format!("interactions[{i}].{part}");
    let request =
        get(item, "request").ok_or_else(|| missing(NAME, at("request"), "the request"))?;
    let response =
        get(item, "response").ok_or_else(|| missing(NAME, at("response"), "the response"))?;
    let status = get(response, "status")
        .and_then(|s| get(s, "code"))
        .and_then(yaml::text)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| missing(NAME, at("response.status.code"), "the status code"))?;
    let body_error = |e: String| ImportErrorKind::Body {
        interaction: i,
        problem: e,
    };
    let request_body = match get(request, "parsed_body") {
        Some(parsed) => payload(Some(parsed)).map_err(body_error)?,
        None => payload(get(request, "body")).map_err(body_error)?,
    };
    let response_body = match get(response, "parsed_body") {
        Some(parsed) => payload(Some(parsed)).map_err(body_error)?,
        None => {
            let body = get(response, "body")
                .ok_or_else(|| missing(NAME, at("response.body"), "the response body"))?;
            payload(get(body, "string")).map_err(body_error)?
        }
    };
    Ok(Exchange {
        method: get(request, "method")
            .and_then(yaml::text)
            .unwrap_or_default()
            .to_ascii_uppercase(),
        url: get(request, "uri").and_then(yaml::text).unwrap_or_default(),
        request_headers: headers(get(request, "headers")),
        request: Some(request_body),
        status,
        response_headers: headers(get(response, "headers")),
        response: response_body,
        timing: None,
        notes: Vec::new(),
    })
}
