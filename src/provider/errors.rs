//! What goes wrong when a request or a recorded response is decoded.

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

/// A request the provider would refuse before looking at the conversation (TT011).
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("{problem} at `{path}`")]
pub struct Malformed {
    /// Where: a JSON path such as `messages[2].tool_calls[0].function.arguments`, or `` for
    /// the whole body.
    pub path: String,
    /// What is wrong.
    pub problem: MalformedKind,
}

/// The ways a request can be malformed.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MalformedKind {
    /// The body is not JSON.
    #[error("the body is not JSON ({detail})")]
    NotJson {
        /// The parser's message.
        detail: String,
    },
    /// A required field is missing.
    #[error("a required field is missing")]
    Missing,
    /// A field has the wrong JSON type.
    #[error("expected {expected}, but got {found} instead")]
    WrongType {
        /// What the provider expects, e.g. `a string`.
        expected: String,
        /// What was sent, e.g. `an object`.
        found: String,
    },
    /// A string is longer than the provider allows.
    #[error("string too long: at most {max} characters, got {found}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length sent.
        found: usize,
    },
    /// A string or array is empty where the provider requires at least one character or
    /// element.
    #[error("empty {what}: at least one {unit} is required", unit = if what == "array" { "element" } else { "character" })]
    Empty {
        /// `string` or `array`.
        what: String,
    },
    /// Two items of the request's history carry the same id.
    #[error("item id `{id}` is sent more than once")]
    DuplicateItem {
        /// The id.
        id: String,
    },
    /// A required header is missing (`x-api-key`, `anthropic-version`, `Authorization`).
    #[error("the `{header}` header is missing")]
    MissingHeader {
        /// The header name, lowercase.
        header: String,
    },
    /// A field has a value the provider does not accept.
    #[error("invalid value: {detail}")]
    Invalid {
        /// What is wrong with it.
        detail: String,
    },
}

impl Malformed {
    /// A malformed request at `path`.
    #[must_use]
    pub fn new(path: impl Into<String>, problem: MalformedKind) -> Self {
        Self {
            path: path.into(),
            problem,
        }
    }

    /// A wrong JSON type at `path`, naming what `found` is the way OpenAI does (`an object`).
    #[must_use]
    pub fn wrong_type(path: impl Into<String>, expected: &str, found: &Value) -> Self {
        Self::new(
            path,
            MalformedKind::WrongType {
                expected: expected.to_owned(),
                found: json_kind(found).to_owned(),
            },
        )
    }
}

/// `a string`, `an object`, … for error messages.
#[must_use]
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A recorded response that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message} (at {at})")]
pub struct ResponseError {
    /// Where: a JSON path, or `frame N` for a stream.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl ResponseError {
    /// An error at `at`.
    #[must_use]
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            at: at.into(),
            message: message.into(),
        }
    }
}
