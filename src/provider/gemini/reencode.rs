//! A recorded response served in the other mode: a JSON body as the stream the API sends for
//! it, and a recorded stream as the body the API would have returned.
//!
//! A stream of `streamGenerateContent?alt=sse` is `data:` lines, each a whole
//! `GenerateContentResponse` (protocol notes §D); the API ends each with a blank line written
//! as `\r\n\r\n`, as the recordings show. A JSON body becomes a stream of one chunk, the body
//! itself written on one line: a stream whose first chunk holds every part is what 2.5 models
//! send for calls. A stream becomes the body its chunks add up to (text joined, streamed
//! arguments put together), with the last chunk's usage, model version and response id.

use serde_json::{Map, Value, json};

use super::decode_response_json;
use super::stream::accumulate;
use crate::provider::ResponseError;
use crate::provider::sse;

/// The stream for the recorded JSON `body`.
///
/// # Errors
/// The body is not a response.
pub fn json_to_sse(body: &str) -> Result<Vec<String>, ResponseError> {
    decode_response_json(body)?;
    let value: Value =
        serde_json::from_str(body).map_err(|e| ResponseError::new("", e.to_string()))?;
    Ok(vec![format!("data: {value}\r\n\r\n")])
}

/// The JSON body for a recorded stream.
///
/// # Errors
/// The stream does not decode.
pub fn sse_to_json(frames: &[String]) -> Result<String, ResponseError> {
    let acc = accumulate(&sse::parse_frames(frames))?;
    let mut candidate = Map::new();
    candidate.insert(
        "content".into(),
        json!({"parts": acc.parts, "role": "model"}),
    );
    if let Some(reason) = acc.finish_reason {
        candidate.insert("finishReason".into(), json!(reason));
    }
    candidate.insert("index".into(), json!(0));
    let mut body = Map::new();
    body.insert("candidates".into(), json!([candidate]));
    body.extend(acc.envelope);
    Ok(Value::Object(body).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::gemini::{decode_response_sse, test_support::*};

    #[test]
    fn a_json_body_streams_as_one_chunk_that_decodes_the_same() {
        let frames = json_to_sse(FANTASY_RESPONSE).unwrap();
        assert_eq!(frames.len(), 1);
        assert!(frames[0].starts_with("data: {\"candidates\""));
        assert!(frames[0].ends_with("\r\n\r\n"));
        let streamed = decode_response_sse(&sse::parse_frames(&frames)).unwrap();
        assert!(streamed.same_as(&decode_response_json(FANTASY_RESPONSE).unwrap()));
    }

    #[test]
    fn a_stream_becomes_the_body_it_adds_up_to() {
        for body in [FANTASY_STREAM, FANTASY_STREAM_FINAL] {
            let frames = sse::split_frames(body);
            let json = sse_to_json(&frames).unwrap();
            let from_json = decode_response_json(&json).unwrap();
            let from_stream = decode_response_sse(&sse::parse_frames(&frames)).unwrap();
            assert!(from_json.same_as(&from_stream), "{json}");
            let value: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(value["modelVersion"], "gemini-2.5-flash");
        }
    }
}
