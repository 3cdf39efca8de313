//! One HTTP request and its response as a recording keeps them, and their bodies decoded into
//! what a cassette stores.

use std::io::Read;

use serde_json::Value;

use crate::cassette::ResponseBody;
use crate::provider::sse;

/// One request and its response, as a recording format keeps them.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// The HTTP method, upper case (`POST`); empty when the recording has none.
    pub method: String,
    /// The URL (absolute, or a path); empty when the recording has none.
    pub url: String,
    /// The request headers as recorded (already scrubbed by some recorders).
    pub request_headers: Vec<(String, String)>,
    /// The request body; `None` when the recording has only the response.
    pub request: Option<Payload>,
    /// The response status.
    pub status: u16,
    /// The response headers.
    pub response_headers: Vec<(String, String)>,
    /// The response body.
    pub response: Payload,
    /// When the proxy saw it, for recordings made by `tooltape record`.
    pub timing: Option<Timing>,
    /// What the reader assumed or changed, for the cassette's notes.
    pub notes: Vec<String>,
}

/// When `tooltape record` saw an exchange, in milliseconds since the recording started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    /// The request arrived.
    pub request_ms: f64,
    /// The response's last byte was sent.
    pub response_end_ms: f64,
    /// For a stream, the time before each frame since the previous one (the first since the
    /// response started).
    pub frame_delays_ms: Vec<u64>,
}

/// A body as the recording keeps it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Payload {
    /// No body.
    #[default]
    Empty,
    /// The bytes (compressed if the wire was); `base64` when the recording stored them so.
    Bytes {
        /// The bytes.
        bytes: Vec<u8>,
        /// They were stored base64-encoded (`!binary`, HAR `encoding: base64`).
        base64: bool,
    },
    /// The recorder kept the body parsed as a JSON value, not its bytes.
    Parsed(Value),
}

impl Payload {
    /// Text bytes, not base64.
    #[must_use]
    pub fn text(s: impl Into<String>) -> Self {
        Payload::Bytes {
            bytes: s.into().into_bytes(),
            base64: false,
        }
    }
}

/// Something about how a body was stored that the cassette's notes should say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Storage {
    /// The request was stored parsed (pydantic-ai's `parsed_body`, SDK JSON lists).
    ParsedRequest,
    /// The response was stored parsed; its text is that value serialised compactly.
    ParsedResponse,
    /// The response was gzip-compressed; its text is decompressed.
    Gzip,
    /// The response was stored base64-encoded.
    Base64,
    /// The stream's last frame had no closing blank line; one was added.
    UnclosedStream,
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyError(pub String);

impl Exchange {
    /// The first request header named `name` (any case).
    #[must_use]
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header(&self.request_headers, name)
    }

    /// The first response header named `name` (any case).
    #[must_use]
    pub fn response_header(&self, name: &str) -> Option<&str> {
        header(&self.response_headers, name)
    }

    /// The path and query of the URL, without scheme and host.
    #[must_use]
    pub fn path_and_query(&self) -> (&str, Option<&str>) {
        let rest = match self.url.find("://") {
            Some(i) => {
                let after = &self.url[i + 3..];
                after.find('/').map_or("/", |j| &after[j..])
            }
            None => self.url.as_str(),
        };
        match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        }
    }

    /// The request body as JSON, `None` when the recording has no request.
    ///
    /// # Errors
    /// The body is not JSON (after decompressing).
    pub fn request_json(&self, storage: &mut Vec<Storage>) -> Result<Option<Value>, BodyError> {
        let Some(payload) = &self.request else {
            return Ok(None);
        };
        match payload {
            Payload::Empty => Err(BodyError("the request has no body".into())),
            Payload::Parsed(Value::String(s)) => {
                storage.push(Storage::ParsedRequest);
                parse_json(s, "request").map(Some)
            }
            Payload::Parsed(v) => {
                storage.push(Storage::ParsedRequest);
                Ok(Some(v.clone()))
            }
            Payload::Bytes { bytes, .. } => {
                let mut ignored = Vec::new();
                let text = text_of(bytes, self.request_header("content-encoding"), &mut ignored)?;
                parse_json(&text, "request").map(Some)
            }
        }
    }

    /// The response body as a cassette keeps it: JSON text verbatim, or a stream's frames with
    /// their boundaries.
    ///
    /// # Errors
    /// The body is empty, not UTF-8, or its compression is broken.
    pub fn response_body(&self, storage: &mut Vec<Storage>) -> Result<ResponseBody, BodyError> {
        let content_type = self.response_header("content-type").unwrap_or_default();
        let text = match &self.response {
            Payload::Empty => return Err(BodyError("the response has no body".into())),
            Payload::Parsed(Value::String(s)) => {
                if !looks_like_sse(s) {
                    storage.push(Storage::ParsedResponse);
                }
                s.clone()
            }
            Payload::Parsed(v) => {
                storage.push(Storage::ParsedResponse);
                v.to_string()
            }
            Payload::Bytes { bytes, base64 } => {
                if *base64 {
                    storage.push(Storage::Base64);
                }
                text_of(bytes, self.response_header("content-encoding"), storage)?
            }
        };
        if content_type.contains("event-stream") || looks_like_sse(&text) {
            let mut body = text;
            if !body.ends_with("\n\n") && !body.ends_with("\r\n\r\n") {
                storage.push(Storage::UnclosedStream);
                body.push_str(if body.ends_with('\n') { "\n" } else { "\n\n" });
            }
            Ok(ResponseBody::Sse {
                frames: sse::split_frames(&body),
            })
        } else {
            Ok(ResponseBody::Json { text })
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether a body is a server-sent event stream by its first line.
#[must_use]
pub fn looks_like_sse(text: &str) -> bool {
    let start = text.trim_start_matches(['\n', '\r']);
    ["data:", "event:", "id:", "retry:", ":"]
        .iter()
        .any(|p| start.starts_with(p))
}

fn parse_json(text: &str, what: &str) -> Result<Value, BodyError> {
    serde_json::from_str(text).map_err(|e| BodyError(format!("the {what} body is not JSON ({e})")))
}

/// UTF-8 text of a body, gunzipped when the header says so or the bytes start with gzip's
/// magic number.
fn text_of(
    bytes: &[u8],
    encoding: Option<&str>,
    storage: &mut Vec<Storage>,
) -> Result<String, BodyError> {
    let gzip = encoding.is_some_and(|e| e.eq_ignore_ascii_case("gzip"))
        || bytes.starts_with(&[0x1f, 0x8b]);
    let bytes = if gzip {
        storage.push(Storage::Gzip);
        gunzip(bytes)?
    } else {
        bytes.to_vec()
    };
    String::from_utf8(bytes).map_err(|e| {
        BodyError(format!(
            "the body is not UTF-8 text (invalid byte at {}); if it is compressed other than with gzip, decompress it first",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// The bytes of a gzip stream.
///
/// # Errors
/// The stream is broken or cut short.
pub fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| {
            BodyError(format!(
                "the gzip-compressed body does not decompress ({e})"
            ))
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn exchange(url: &str) -> Exchange {
        Exchange {
            url: url.into(),
            ..Exchange::default()
        }
    }

    #[test]
    fn the_path_drops_scheme_host_and_splits_the_query() {
        assert_eq!(
            exchange("https://api.anthropic.com/v1/messages?beta=true").path_and_query(),
            ("/v1/messages", Some("beta=true"))
        );
        assert_eq!(
            exchange("/v1/chat/completions").path_and_query(),
            ("/v1/chat/completions", None)
        );
        assert_eq!(exchange("http://127.0.0.1:1").path_and_query(), ("/", None));
    }

    #[test]
    fn a_gzipped_response_is_decompressed_and_noted() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(br#"{"a":1}"#).unwrap();
        let e = Exchange {
            response: Payload::Bytes {
                bytes: gz.finish().unwrap(),
                base64: true,
            },
            ..Exchange::default()
        };
        let mut storage = Vec::new();
        let body = e.response_body(&mut storage).unwrap();
        assert_eq!(
            body,
            ResponseBody::Json {
                text: r#"{"a":1}"#.into()
            }
        );
        assert_eq!(storage, [Storage::Base64, Storage::Gzip]);
    }

    #[test]
    fn a_stream_without_its_last_blank_line_gets_one_and_a_note() {
        let e = Exchange {
            response: Payload::text("data: 1\n\ndata: 2\n"),
            ..Exchange::default()
        };
        let mut storage = Vec::new();
        let body = e.response_body(&mut storage).unwrap();
        assert_eq!(
            body,
            ResponseBody::Sse {
                frames: vec!["data: 1\n\n".into(), "data: 2\n\n".into()]
            }
        );
        assert_eq!(storage, [Storage::UnclosedStream]);
    }

    #[test]
    fn a_parsed_request_is_used_as_is_and_noted() {
        let e = Exchange {
            request: Some(Payload::Parsed(serde_json::json!({"model": "m"}))),
            ..Exchange::default()
        };
        let mut storage = Vec::new();
        assert_eq!(
            e.request_json(&mut storage).unwrap(),
            Some(serde_json::json!({"model": "m"}))
        );
        assert_eq!(storage, [Storage::ParsedRequest]);
    }
}
