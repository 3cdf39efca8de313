//! YAML as the VCR family writes it: documents into values, `!binary` / `!!binary` base64
//! bodies into bytes, and the accessors the three YAML readers share.

use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;
use serde_json::{Map, Number, Value};
use serde_norway::Value as Yaml;

use super::error::ImportErrorKind;
use super::exchange::Payload;

/// YAML's own `!!binary` tag in tag position (after `key:` or `-`).
static CORE_BINARY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(:|-)([ \t]+)!!binary\b").expect("a valid pattern"));

/// Parses a YAML document; the error names the line and column.
///
/// The parser resolves the core schema's `!!binary` tag to a plain string (the base64 text),
/// which would lose the fact that the body is encoded; such tags are read as the local
/// `!binary` tag Ruby writes, which the parser keeps.
///
/// # Errors
/// Not YAML.
pub fn parse(text: &str) -> Result<Yaml, ImportErrorKind> {
    let text = CORE_BINARY.replace_all(text, "$1$2!binary");
    serde_norway::from_str(&text).map_err(|e| ImportErrorKind::Syntax {
        format: "YAML",
        message: e.to_string(),
    })
}

/// `map[key]` for a string key.
#[must_use]
pub fn get<'a>(map: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match map {
        Yaml::Mapping(m) => m.get(key),
        Yaml::Tagged(t) => get(&t.value, key),
        _ => None,
    }
}

/// A scalar as text (numbers and booleans too).
#[must_use]
pub fn text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Tagged(t) => text(&t.value),
        _ => None,
    }
}

/// Whether a tag marks base64 bytes: Ruby's `!binary` or YAML's `!!binary`.
fn is_binary(tag: &serde_norway::value::Tag) -> bool {
    let tag = tag.to_string();
    tag == "!binary" || tag.ends_with(":binary") || tag == "!!binary"
}

/// A body field: a string is its bytes, a `!binary` string base64-decoded bytes, null or a
/// missing field no body, and anything else a parsed value.
///
/// # Errors
/// A `!binary` value that is not base64.
pub fn payload(value: Option<&Yaml>) -> Result<Payload, String> {
    match value {
        None | Some(Yaml::Null) => Ok(Payload::Empty),
        Some(Yaml::String(s)) if s.is_empty() => Ok(Payload::Empty),
        Some(Yaml::String(s)) => Ok(Payload::text(s.clone())),
        Some(Yaml::Tagged(t)) if is_binary(&t.tag) => {
            let encoded: String = text(&t.value)
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| format!("a `{}` body is not base64 ({e})", t.tag))?;
            Ok(Payload::Bytes {
                bytes,
                base64: true,
            })
        }
        Some(other) => Ok(Payload::Parsed(to_json(other))),
    }
}

/// Headers as `name: [values]` or `name: value`, in file order.
#[must_use]
pub fn headers(value: Option<&Yaml>) -> Vec<(String, String)> {
    let Some(Yaml::Mapping(m)) = value else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in m {
        let Some(name) = text(k) else { continue };
        match v {
            Yaml::Sequence(values) => {
                out.extend(values.iter().filter_map(text).map(|v| (name.clone(), v)));
            }
            other => out.extend(text(other).map(|v| (name.clone(), v))),
        }
    }
    out
}

/// A YAML value as JSON, keys in file order; tags are dropped (binary becomes its text).
#[must_use]
pub fn to_json(value: &Yaml) -> Value {
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(*b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = text(k).unwrap_or_else(|| format!("{k:?}"));
                out.insert(key, to_json(v));
            }
            Value::Object(out)
        }
        Yaml::Tagged(t) => to_json(&t.value),
    }
}

/// The interactions list under `key`, or a field error naming it.
///
/// # Errors
/// The key is missing or not a list.
pub fn list<'a>(
    doc: &'a Yaml,
    key: &str,
    format: &'static str,
) -> Result<&'a [Yaml], ImportErrorKind> {
    match get(doc, key) {
        Some(Yaml::Sequence(items)) => Ok(items),
        Some(_) => Err(ImportErrorKind::Field {
            format,
            at: key.to_owned(),
            problem: "expected a list of interactions".into(),
        }),
        None => Err(ImportErrorKind::Field {
            format,
            at: key.to_owned(),
            problem: "missing: the file has no interactions".into(),
        }),
    }
}

/// A field error at `at` in `format`.
#[must_use]
pub fn missing(format: &'static str, at: String, what: &str) -> ImportErrorKind {
    ImportErrorKind::Field {
        format,
        at,
        problem: format!("missing {what}; is the file cut short?"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruby_and_yaml_binary_tags_become_bytes() {
        let doc = parse("a: !binary |-\n  aGVsbG8=\nb: !!binary |\n  aGk=\n").unwrap();
        for (key, want) in [("a", "hello"), ("b", "hi")] {
            assert_eq!(
                payload(get(&doc, key)).unwrap(),
                Payload::Bytes {
                    bytes: want.as_bytes().to_vec(),
                    base64: true
                },
                "{key}"
            );
        }
    }

    #[test]
    fn a_parsed_body_keeps_its_key_order() {
        let doc = parse("body:\n  z: 1\n  a: [x, 2.5, true]\n").unwrap();
        let Payload::Parsed(v) = payload(get(&doc, "body")).unwrap() else {
            panic!("not parsed")
        };
        assert_eq!(v.to_string(), r#"{"z":1,"a":["x",2.5,true]}"#);
    }

    #[test]
    fn headers_are_read_as_lists_or_scalars() {
        let doc = parse("h:\n  Content-Type:\n  - application/json\n  x-a: b\n").unwrap();
        assert_eq!(
            headers(get(&doc, "h")),
            [
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("x-a".to_owned(), "b".to_owned())
            ]
        );
    }

    #[test]
    fn bad_yaml_names_the_place() {
        let err = parse("a: [1, 2\n").unwrap_err().to_string();
        assert!(err.contains("line"), "{err}");
    }
}
