//! Secrets never reach a cassette. A cassette stores no headers and no URLs, so credentials
//! sent there (`authorization`, `x-api-key`, `api-key`, `x-goog-api-key`, `?key=`, cookies,
//! organisation and project headers) are dropped by construction; their values are also
//! scrubbed from every body they appear in. `--redact REGEX` scrubs more (keys pasted into
//! prompts). A last scan refuses a cassette in which a string shaped like a provider key is
//! left, including one split across the frames of a stream, and says where.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::exchange::Exchange;
use crate::cassette::{CassetteFile, ResponseBody};
use crate::provider::sse;

/// What a scrubbed secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Header names whose values are credentials or identify an account (any case).
#[must_use]
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || name.ends_with("api-key")
        || name.ends_with("api_key")
        || name.contains("organization")
        || name.contains("organisation")
        || name.contains("project")
}

/// Query parameters that carry credentials (`?key=` for Gemini).
#[must_use]
pub fn is_secret_query(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "key" | "api_key" | "api-key" | "apikey" | "access_token" | "token"
    )
}

/// The credential values an exchange carries in its headers and query, `Bearer ` stripped;
/// short values (placeholders like `x`) are not worth scrubbing.
#[must_use]
pub fn secrets_of(exchange: &Exchange) -> Vec<String> {
    let mut out = Vec::new();
    let headers = exchange
        .request_headers
        .iter()
        .chain(&exchange.response_headers);
    for (name, value) in headers.filter(|(n, _)| is_secret_header(n)) {
        let value = value.trim();
        let value = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value);
        out.push(value.to_owned());
        if name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie") {
            out.extend(
                value
                    .split(';')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(_, v)| v.trim().to_owned()),
            );
        }
    }
    if let (_, Some(query)) = exchange.path_and_query() {
        for pair in query.split('&') {
            if let Some((k, v)) = pair.split_once('=')
                && is_secret_query(k)
            {
                out.push(v.to_owned());
            }
        }
    }
    out.retain(|s| s.len() >= 8);
    out.sort();
    out.dedup();
    out
}

/// The shapes of provider keys the last scan refuses.
static KEY_SHAPES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [r"\bsk-[A-Za-z0-9_-]{20,}", r"\bAIza[0-9A-Za-z_-]{30,}"]
        .iter()
        .map(|p| Regex::new(p).expect("a valid built-in pattern"))
        .collect()
});

/// Scrubs `secrets` (literal values) and `patterns` from every request string and every
/// response body of `file`; returns how many were replaced.
pub fn scrub(file: &mut CassetteFile, secrets: &[String], patterns: &[Regex]) -> usize {
    let mut count = 0;
    let mut clean = |text: &mut String| {
        for secret in secrets {
            let n = text.matches(secret.as_str()).count();
            if n > 0 {
                count += n;
                *text = text.replace(secret.as_str(), REDACTED);
            }
        }
        for pattern in patterns {
            let n = pattern.find_iter(text).count();
            if n > 0 {
                count += n;
                *text = pattern.replace_all(text, REDACTED).into_owned();
            }
        }
    };
    for interaction in &mut file.interactions {
        walk_strings_mut(&mut interaction.request.body, &mut clean);
        match &mut interaction.response.body {
            ResponseBody::Json { text } => clean(text),
            ResponseBody::Sse { frames } => frames.iter_mut().for_each(&mut clean),
        }
    }
    count
}

fn walk_strings_mut(value: &mut Value, f: &mut impl FnMut(&mut String)) {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| walk_strings_mut(v, f)),
        Value::Object(m) => m.values_mut().for_each(|v| walk_strings_mut(v, f)),
        _ => {}
    }
}

fn walk_strings<'a>(value: &'a Value, at: &str, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((at.to_owned(), s)),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk_strings(v, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                let at = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                walk_strings(v, &at, out);
            }
        }
        _ => {}
    }
}

/// A key-shaped string left in a cassette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// Where: `request 1 at messages[0].content`, `response 0 frame 3`, …
    pub place: String,
    /// The start of the string, the rest masked.
    pub preview: String,
}

impl std::fmt::Display for Leak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (`{}`)", self.place, self.preview)
    }
}

fn find_keys(text: &str) -> Vec<String> {
    KEY_SHAPES
        .iter()
        .flat_map(|shape| shape.find_iter(text).map(|m| mask(m.as_str())))
        .collect()
}

fn mask(key: &str) -> String {
    let shown: String = key.chars().take(7).collect();
    format!("{shown}… ({} characters)", key.chars().count())
}

/// Every key-shaped string in `file`: in request strings, response bodies and frames, the
/// text, arguments and thinking a stream accumulates across its frames, and the description
/// and provenance.
#[must_use]
pub fn scan(file: &CassetteFile) -> Vec<Leak> {
    let mut leaks = Vec::new();
    let mut found = |place: String, text: &str| {
        for preview in find_keys(text) {
            leaks.push(Leak {
                place: place.clone(),
                preview,
            });
        }
    };
    found("the description".into(), &file.description);
    if let Some(notes) = &file.source.notes {
        found("source.notes".into(), notes);
    }
    for (k, interaction) in file.interactions.iter().enumerate() {
        let mut strings = Vec::new();
        walk_strings(&interaction.request.body, "", &mut strings);
        for (at, s) in strings {
            found(format!("request {k} at `{at}`"), s);
        }
        match &interaction.response.body {
            ResponseBody::Json { text } => found(format!("response {k}"), text),
            ResponseBody::Sse { frames } => {
                let mut whole_frames = 0;
                for (f, frame) in frames.iter().enumerate() {
                    let n = find_keys(frame).len();
                    whole_frames += n;
                    if n > 0 {
                        found(format!("response {k} frame {f}"), frame);
                    }
                }
                if let Ok(turn) = file
                    .provider
                    .decode_response_sse(&sse::parse_frames(frames))
                {
                    let mut joined = turn.text();
                    for call in turn.tool_calls() {
                        joined.push('\n');
                        joined.push_str(&call.arguments);
                    }
                    for thinking in turn.thinking() {
                        joined.push('\n');
                        joined.push_str(&thinking.text);
                    }
                    if find_keys(&joined).len() > whole_frames {
                        found(
                            format!(
                                "response {k}, split across its frames (in the text the stream accumulates)"
                            ),
                            &joined,
                        );
                    }
                }
            }
        }
    }
    leaks
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-proj-abcdefghijklmnopqrstuvwxyz0123";

    #[test]
    fn credential_headers_and_the_key_parameter_are_secrets() {
        let e = Exchange {
            url: "https://x/v1beta/m:generateContent?alt=sse&key=AIzaSyA-0123456789abcdef".into(),
            request_headers: vec![
                ("Authorization".into(), format!("Bearer {KEY}")),
                ("OpenAI-Organization".into(), "org-0123456789".into()),
                ("content-type".into(), "application/json".into()),
                ("x-api-key".into(), "x".into()),
            ],
            ..Exchange::default()
        };
        assert_eq!(
            secrets_of(&e),
            ["AIzaSyA-0123456789abcdef", "org-0123456789", KEY]
        );
    }

    #[test]
    fn a_key_split_across_frames_is_found_in_the_accumulated_text() {
        let first = &KEY[..10];
        let rest = &KEY[10..];
        let frames: Vec<String> = [
            r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"key: "}}]}"#.to_owned(),
            format!(r#"{{"id":"c","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":"{first}"}}}}]}}"#),
            format!(r#"{{"id":"c","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":"{rest}"}},"finish_reason":"stop"}}]}}"#),
            "[DONE]".to_owned(),
        ]
        .iter()
        .map(|d| format!("data: {d}\n\n"))
        .collect();
        let file: CassetteFile = serde_json::from_value(serde_json::json!({
            "tooltape": 1, "provider": "openai-chat", "source": {"kind": "recorded"},
            "interactions": [{"request": {"body": {"model": "m", "messages": []}},
                "response": {"status": 200, "body": {"type": "sse", "frames": frames}}}]
        }))
        .unwrap();
        let leaks = scan(&file);
        assert_eq!(leaks.len(), 1, "{leaks:?}");
        assert!(
            leaks[0].place.contains("split across its frames"),
            "{leaks:?}"
        );
        assert!(
            !leaks[0].preview.contains(rest),
            "the preview masks the key"
        );
    }

    #[test]
    fn scrubbing_replaces_literal_secrets_and_patterns_everywhere() {
        let mut file: CassetteFile = serde_json::from_value(serde_json::json!({
            "tooltape": 1, "provider": "openai-chat", "source": {"kind": "recorded"},
            "interactions": [{"request": {"body": {"messages": [{"content": format!("use {KEY} and pin 1234-5678")}]}},
                "response": {"status": 200, "body": {"type": "json", "text": format!("{{\"echo\":\"{KEY}\"}}")}}}]
        }))
        .unwrap();
        let n = scrub(
            &mut file,
            &[KEY.to_owned()],
            &[Regex::new(r"\d{4}-\d{4}").unwrap()],
        );
        assert_eq!(n, 3);
        let text = serde_json::to_string(&file).unwrap();
        assert!(!text.contains(KEY) && !text.contains("1234-5678"), "{text}");
        assert!(scan(&file).is_empty());
    }
}
