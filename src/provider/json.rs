//! Walking request JSON with paths, shared by every codec: each problem comes out as a
//! [`Malformed`] at the path the provider reports, in the provider's own words for JSON types.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Malformed, MalformedKind, ResponseError};

/// `path.key`, or `key` at the top.
pub(crate) fn field_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A present field; `null` counts as present (its type check then fails).
pub(crate) fn required<'v>(
    fields: &'v Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'v Value, Malformed> {
    fields
        .get(key)
        .ok_or_else(|| Malformed::new(field_path(path, key), MalformedKind::Missing))
}

/// An optional field; `null` is the same as absent.
pub(crate) fn optional<'v>(fields: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    fields.get(key).filter(|v| !v.is_null())
}

/// The object at `path`; else a wrong type, with the provider's word for an object.
pub(crate) fn object<'v>(
    v: &'v Value,
    path: &str,
    expected: &str,
) -> Result<&'v Map<String, Value>, Malformed> {
    v.as_object()
        .ok_or_else(|| Malformed::wrong_type(path, expected, v))
}

/// The array at `path`; else a wrong type, with the provider's word for an array.
pub(crate) fn array<'v>(
    v: &'v Value,
    path: &str,
    expected: &str,
) -> Result<&'v Vec<Value>, Malformed> {
    v.as_array()
        .ok_or_else(|| Malformed::wrong_type(path, expected, v))
}

/// The string at `path`; else a wrong type, with the provider's word for a string.
pub(crate) fn string<'v>(v: &'v Value, path: &str, expected: &str) -> Result<&'v str, Malformed> {
    v.as_str()
        .ok_or_else(|| Malformed::wrong_type(path, expected, v))
}

/// A typed read of recorded response JSON that failed, at the path `serde_path_to_error`
/// names (`` for the whole body).
pub(crate) fn path_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ResponseError {
    let path = e.path().to_string();
    let at = if path == "." { String::new() } else { path };
    ResponseError::new(at, e.inner().to_string())
}

/// Reads `text` as a `T`, naming the failing path below `at` (a path such as `content[2]`,
/// or `` for a whole body).
pub(crate) fn read<T: DeserializeOwned>(text: &str, at: &str) -> Result<T, ResponseError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (at, inner.as_str()) {
            (_, ".") => at.to_owned(),
            ("", inner) => inner.to_owned(),
            (at, inner) if inner.starts_with('[') => format!("{at}{inner}"),
            (at, inner) => format!("{at}.{inner}"),
        };
        ResponseError::new(path, e.into_inner().to_string())
    })
}
