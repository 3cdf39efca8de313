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

/// The stream for a recorded stream whose calls stream their arguments (`partialArgs`) when
/// `request` did not ask for that: the API streams arguments only to a request that sets
/// `toolConfig.functionCallingConfig.streamFunctionCallArguments` (google-genai's
/// `FunctionCallingConfig.stream_function_call_arguments`: "When set to true, arguments of a
/// single function call will be streamed out … in the `FunctionCall.partial_args` field"), and
/// sends whole calls otherwise. Such a loop gets the turn as one chunk with whole calls (what
/// [`json_to_sse`] sends for the body the stream adds up to). `None` when the recording has
/// no argument streaming (then `request` is not called) or the request asked for it.
pub fn restream<'v>(
    frames: &[String],
    request: impl FnOnce() -> &'v Value,
) -> Option<Result<Vec<String>, ResponseError>> {
    if !streams_arguments(frames) {
        return None;
    }
    let request = request();
    let config = request
        .get("toolConfig")
        .or_else(|| request.get("tool_config"))
        .and_then(|c| {
            c.get("functionCallingConfig")
                .or_else(|| c.get("function_calling_config"))
        });
    let asked = config
        .and_then(|c| {
            c.get("streamFunctionCallArguments")
                .or_else(|| c.get("stream_function_call_arguments"))
        })
        .and_then(Value::as_bool)
        == Some(true);
    if asked {
        return None;
    }
    Some(sse_to_json(frames).and_then(|body| json_to_sse(&body)))
}

/// Whether a call in the stream is streamed in fragments: opened with `willContinue`, or
/// continued with `partialArgs`.
fn streams_arguments(frames: &[String]) -> bool {
    sse::parse_frames(frames).iter().any(|event| {
        let Ok(chunk) = serde_json::from_str::<Value>(&event.data) else {
            return false;
        };
        let candidates = chunk.get("candidates").and_then(Value::as_array);
        candidates.into_iter().flatten().any(|candidate| {
            let parts = candidate
                .pointer("/content/parts")
                .and_then(Value::as_array);
            parts.into_iter().flatten().any(|part| {
                part.get("functionCall").is_some_and(|call| {
                    call.get("partialArgs").is_some() || call.get("willContinue").is_some()
                })
            })
        })
    })
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

    /// Gemini 3 on Vertex streaming the arguments of two calls (the shape of
    /// `fixtures/gemini/handmade-gemini-partial-args-stream.json`, signature shortened).
    const PARTIAL_ARGS: [&str; 6] = [
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","willContinue":true},"thoughtSignature":"CrICAVKw"}]}}]}"#,
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"partialArgs":[{"jsonPath":"$.location","stringValue":"Bos","willContinue":true}],"willContinue":true}}]}}]}"#,
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"partialArgs":[{"jsonPath":"$.location","stringValue":"ton"}],"willContinue":true}}]}}]}"#,
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{}}]}}]}"#,
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","willContinue":true}}]}}]}"#,
        r#"data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"partialArgs":[{"jsonPath":"$.location","stringValue":"Paris"}],"willContinue":true}}]}}],"modelVersion":"gemini-3-pro-preview"}"#,
    ];

    fn partial_args_frames() -> Vec<String> {
        let mut frames: Vec<String> = PARTIAL_ARGS
            .iter()
            .map(|f| format!("{f}\r\n\r\n"))
            .collect();
        frames.push("data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"functionCall\":{}}]},\"finishReason\":\"STOP\"}]}\r\n\r\n".into());
        frames
    }

    #[test]
    fn streamed_arguments_go_out_as_whole_calls_to_a_request_that_did_not_ask_for_them() {
        let frames = partial_args_frames();
        let request =
            json!({"contents": [], "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}}});
        let restreamed = restream(&frames, || &request).expect("re-encoded").unwrap();
        assert_eq!(restreamed.len(), 1, "{restreamed:?}");
        assert!(!restreamed[0].contains("partialArgs"), "{}", restreamed[0]);
        assert!(!restreamed[0].contains("willContinue"), "{}", restreamed[0]);
        let served = decode_response_sse(&sse::parse_frames(&restreamed)).unwrap();
        let recorded = decode_response_sse(&sse::parse_frames(&frames)).unwrap();
        assert!(served.same_as(&recorded), "{}", restreamed[0]);
        let chunk: Value =
            serde_json::from_str(restreamed[0].trim().strip_prefix("data: ").unwrap()).unwrap();
        let parts = &chunk["candidates"][0]["content"]["parts"];
        assert_eq!(
            parts[0]["functionCall"]["args"],
            json!({"location": "Boston"})
        );
        assert_eq!(parts[0]["thoughtSignature"], "CrICAVKw");
        assert_eq!(
            parts[1]["functionCall"]["args"],
            json!({"location": "Paris"})
        );
    }

    #[test]
    fn a_request_that_turns_argument_streaming_on_gets_the_recorded_fragments() {
        let frames = partial_args_frames();
        for request in [
            json!({"toolConfig": {"functionCallingConfig": {"streamFunctionCallArguments": true}}}),
            json!({"tool_config": {"function_calling_config": {"stream_function_call_arguments": true}}}),
        ] {
            assert!(restream(&frames, || &request).is_none(), "{request}");
        }
    }

    #[test]
    fn a_stream_of_whole_calls_goes_out_as_recorded_without_reading_the_request() {
        for body in [FANTASY_STREAM, FANTASY_STREAM_FINAL] {
            let not_read = || unreachable!("the request matters only to argument fragments");
            assert!(restream(&sse::split_frames(body), not_read).is_none());
        }
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
