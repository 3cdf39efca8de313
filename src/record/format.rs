//! Which recording format a file is in, told from its content (never from its name), and the
//! exchanges it holds.

use serde_json::Value;
use serde_norway::Value as Yaml;

use super::error::ImportErrorKind;
use super::exchange::{self, Exchange};
use super::{bare, govcr, har, json_list, ruby_vcr, vcrpy, yaml};

/// The formats `tooltape import` reads, for `--help` and errors.
pub const SUPPORTED: &str = "vcrpy / pytest-recording YAML (with pydantic-ai's `parsed_body`), go-vcr YAML (v1, v2), Ruby VCR YAML, HAR 1.1/1.2, JSON request/response lists, a bare JSON response or SSE body, a JSON-lines event log";

/// A recording read from a file: its format's name and its exchanges in file order.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The format, as provenance names it (`go-vcr v2 YAML`).
    pub format: String,
    /// The exchanges, in file order.
    pub exchanges: Vec<Exchange>,
}

/// Detects the format of a file's bytes and reads it. A gzip-compressed file is decompressed
/// first.
///
/// # Errors
/// The bytes are not text, not in a format tooltape reads, or do not parse.
pub fn read(bytes: &[u8]) -> Result<Recording, ImportErrorKind> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let inner = exchange::gunzip(bytes).map_err(|e| ImportErrorKind::Syntax {
            format: "gzip",
            message: e.0,
        })?;
        let mut recording = read(&inner)?;
        recording.format.push_str(", gzip-compressed file");
        return Ok(recording);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| ImportErrorKind::NotText(e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let start = text.trim_start();
    if start.is_empty() {
        return Err(ImportErrorKind::Unrecognised("the file is empty".into()));
    }
    if start.starts_with('{') || start.starts_with('[') {
        return read_json(text);
    }
    if exchange::looks_like_sse(start) {
        return Ok(recording(bare::SSE, bare::sse_body(text)));
    }
    read_yaml(text)
}

fn recording(format: &str, exchanges: Vec<Exchange>) -> Recording {
    Recording {
        format: format.to_owned(),
        exchanges,
    }
}

fn read_json(text: &str) -> Result<Recording, ImportErrorKind> {
    let doc: Value = match serde_json::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            if bare::is_json_lines(text) {
                return Ok(recording(bare::JSON_LINES, bare::json_lines(text)?));
            }
            return Err(ImportErrorKind::Syntax {
                format: "JSON",
                message: e.to_string(),
            });
        }
    };
    if har::detect(&doc) {
        let version = doc["log"]["version"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        return Ok(recording(&format!("HAR {version}"), har::read(&doc)?));
    }
    if json_list::detect(&doc) {
        return Ok(recording(json_list::NAME, json_list::read(&doc)?));
    }
    match doc {
        Value::Object(_) => Ok(recording(bare::JSON, bare::json_body(text))),
        Value::Array(items) if items.is_empty() => Err(ImportErrorKind::Unrecognised(
            "an empty JSON list: nothing to import".into(),
        )),
        _ => Err(ImportErrorKind::Unrecognised(
            "a JSON list whose items are not `{\"request\", \"response\"}` pairs".into(),
        )),
    }
}

fn read_yaml(text: &str) -> Result<Recording, ImportErrorKind> {
    let doc = yaml::parse(text)?;
    if ruby_vcr::detect(&doc) {
        return Ok(recording(ruby_vcr::NAME, ruby_vcr::read(&doc)?));
    }
    if govcr::detect(&doc) {
        let version = govcr::version(&doc)?;
        return Ok(recording(
            &format!("go-vcr v{version} YAML"),
            govcr::read(&doc)?,
        ));
    }
    if vcrpy::detect(&doc) {
        return Ok(recording(vcrpy::NAME, vcrpy::read(&doc)?));
    }
    if let Some(Yaml::Sequence(items)) = yaml::get(&doc, "interactions")
        && items.is_empty()
    {
        return Err(ImportErrorKind::Unrecognised(
            "a cassette with an empty `interactions` list: nothing to import".into(),
        ));
    }
    let what = match &doc {
        Yaml::Mapping(m) => {
            let keys: Vec<String> = m
                .keys()
                .filter_map(yaml::text)
                .map(|k| format!("`{k}`"))
                .take(6)
                .collect();
            format!("YAML with top-level keys {}", keys.join(", "))
        }
        _ => "text that is neither YAML with interactions, JSON nor an SSE stream".to_owned(),
    };
    Err(ImportErrorKind::Unrecognised(format!(
        "{what}; expected one of: {SUPPORTED}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_told_from_its_content() {
        let cases = [
            (
                "interactions:\n- request: {uri: 'http://x/v1/messages', body: '{}', method: POST}\n  response: {status: {code: 200}, body: {string: '{}'}}\n",
                "vcrpy YAML",
            ),
            (
                "version: 2\ninteractions:\n- request: {url: 'http://x/', body: '{}', method: POST}\n  response: {code: 200, body: '{}'}\n",
                "go-vcr v2 YAML",
            ),
            (
                "http_interactions:\n- request: {uri: 'http://x/', method: post, body: {string: '{}'}}\n  response: {status: {code: 200}, body: {string: '{}'}}\nrecorded_with: VCR 6.0.0\n",
                "Ruby VCR YAML",
            ),
            (r#"{"log": {"version": "1.2", "entries": []}}"#, "HAR 1.2"),
            (
                r#"[{"request": {"body": {}}, "response": {"status_code": 200, "body": {}}}]"#,
                "JSON request/response list",
            ),
            (r#"{"id": "x"}"#, "JSON response body"),
            ("data: {}\n\n", "SSE body"),
            ("{\"a\": 1}\n{\"b\": 2}\n", "JSON-lines event log"),
        ];
        for (text, want) in cases {
            let got = read(text.as_bytes()).unwrap_or_else(|e| panic!("{want}: {e}"));
            assert_eq!(got.format, want);
        }
    }

    #[test]
    fn unknown_content_says_what_it_saw_and_what_is_read() {
        let err = read(b"title: notes\nitems: [1]\n").unwrap_err().to_string();
        assert!(err.contains("`title`"), "{err}");
        assert!(err.contains("vcrpy"), "{err}");
    }

    #[test]
    fn truncated_json_is_a_syntax_error_with_the_place() {
        let err = read(br#"{"log": {"version": "1.2", "entr"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("not valid JSON"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }
}
