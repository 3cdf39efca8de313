//! The wire types of responses and stream chunks, and the names of part fields.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

pub(super) const THOUGHT_SIGNATURE: &str = "thought_signature";

/// A `GenerateContentResponse` (a JSON body, or one stream chunk). Other fields
/// (`usageMetadata`, `modelVersion`, `responseId`, `promptFeedback`) are not needed to decode.
#[derive(Deserialize)]
pub(super) struct WireResponse {
    /// Required, so that another provider's body is not taken for an empty Gemini turn.
    pub(super) candidates: Vec<WireCandidate>,
}

#[derive(Deserialize)]
pub(super) struct WireCandidate {
    #[serde(default)]
    pub(super) content: Option<WireContent>,
    #[serde(default, rename = "finishReason")]
    pub(super) finish_reason: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireContent {
    #[serde(default)]
    pub(super) parts: Vec<Box<RawValue>>,
}

/// The fields of a part tooltape reads; a part holds one kind of data (`text`, `functionCall`,
/// `inlineData`, …) and optionally `thought` and `thoughtSignature`.
#[derive(Deserialize)]
pub(super) struct WirePart {
    #[serde(default)]
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) thought: Option<bool>,
    #[serde(default, rename = "thoughtSignature")]
    pub(super) thought_signature: Option<String>,
    #[serde(default, rename = "functionCall")]
    pub(super) function_call: Option<WireFunctionCall>,
}

/// A `functionCall`: whole (`name`, `args`), or, when arguments stream (Gemini 3 on Vertex),
/// opened with `name` and `willContinue`, continued with `partialArgs`, ended by `{}`.
#[derive(Deserialize, Default)]
pub(super) struct WireFunctionCall {
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) args: Option<Map<String, Value>>,
    #[serde(default, rename = "partialArgs")]
    pub(super) partial_args: Option<Vec<WirePartialArg>>,
    #[serde(default, rename = "willContinue")]
    pub(super) will_continue: Option<bool>,
}

/// One fragment of streamed arguments: the value at `jsonPath`; a string value continues in
/// the next fragment for the same path while `willContinue` is true.
#[derive(Deserialize)]
pub(super) struct WirePartialArg {
    #[serde(rename = "jsonPath")]
    pub(super) json_path: String,
    #[serde(default, rename = "stringValue")]
    pub(super) string_value: Option<String>,
    #[serde(default, rename = "numberValue")]
    pub(super) number_value: Option<serde_json::Number>,
    #[serde(default, rename = "boolValue")]
    pub(super) bool_value: Option<bool>,
    /// Present (`null`, protobuf's `NullValue`) or absent: `present` tells them apart.
    #[serde(default, rename = "nullValue", deserialize_with = "present")]
    pub(super) null_value: Option<Value>,
    #[serde(default, rename = "willContinue")]
    pub(super) will_continue: Option<bool>,
}

/// `Some` for a field that is there, even when it is `null` (absent fields take the default).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The key that says what kind of data a part holds (`inlineData`, `executableCode`, …):
/// its first key that is not `thought` or `thoughtSignature`.
pub(super) fn part_kind(part: &Map<String, Value>) -> String {
    part.keys()
        .find(|k| !matches!(k.as_str(), "thought" | "thoughtSignature"))
        .cloned()
        .unwrap_or_else(|| "empty".to_owned())
}
