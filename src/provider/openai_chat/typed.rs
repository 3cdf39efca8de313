//! The fast way to decode a request: the top level read by typed deserialisation straight
//! from the body's bytes, the tool definitions (most of a request's bytes) skipped but for
//! their names, and each message decoded by the checked path's own [`decode_message`].
//!
//! It decodes only what it is sure of: anything unusual at the top level or in `tools`, or a
//! message the checked path refuses, gives `None`, and the caller takes the checked path,
//! [`super::decode_request`], which gives the same result or the error with its path. So
//! `Some(d)` here means `decode_request` gives `Ok(d)`. Tests prove it field by field, and
//! debug builds compare the two on every request they serve.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::request::decode_message;
use crate::provider::DecodedRequest;
use crate::provider::typed::KeyName;
use crate::transcript::Conversation;

/// The request body's fields the decoding reads; others are skipped.
#[derive(Deserialize)]
struct Body {
    model: String,
    messages: Vec<Value>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    tools: Option<Vec<Tool>>,
    #[serde(default)]
    parallel_tool_calls: Option<Value>,
}

/// The decoded request, or `None` where the checked path must decide.
pub(super) fn decode(body: &[u8]) -> Option<DecodedRequest> {
    // A derived struct would also take a list; the API takes an object only.
    if !body.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    // Checked once here, the body's strings are not checked again one by one.
    let body: Body = serde_json::from_str(std::str::from_utf8(body).ok()?).ok()?;
    if body.messages.is_empty() {
        return None;
    }
    let messages = body
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| decode_message(m, &format!("messages[{i}]")).ok())
        .collect::<Option<Vec<_>>>()?;
    let tools = body.tools.unwrap_or_default();
    let tools_given = !tools.is_empty();
    let tool_names = tools
        .into_iter()
        .map(Tool::name)
        .collect::<Option<Vec<Option<String>>>>()?
        .into_iter()
        .flatten()
        .collect();
    if !tools_given && body.parallel_tool_calls.is_some() {
        return None;
    }
    let parallel_tool_calls = body.parallel_tool_calls.and_then(|v| v.as_bool()) != Some(false);
    Some(DecodedRequest {
        conversation: Conversation { messages },
        stream: body.stream.unwrap_or(false),
        model: body.model,
        tool_names,
        continues: None,
        parallel_tool_calls,
        thinking_required: true,
    })
}

/// One entry of `tools`: its `type`, and for each other key whether its value is an object
/// and the `name` in it. A repeated key keeps its last value, as in a parsed `Value`.
struct Tool {
    kind: Option<String>,
    fields: Vec<(String, Named)>,
}

impl Tool {
    /// The declared name as the checked path reads it: `Some(None)` for a tool of another
    /// type without one, `None` where the checked path refuses the entry.
    fn name(self) -> Option<Option<String>> {
        let kind = self.kind?;
        let field = |key: &str| {
            self.fields
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, n)| n)
        };
        if kind == "function" {
            match field("function")? {
                Named::Object(Some(Name::Text(name))) => Some(Some(name.clone())),
                _ => None,
            }
        } else {
            Some(match field(&kind) {
                Some(Named::Object(Some(Name::Text(name)))) => Some(name.clone()),
                _ => None,
            })
        }
    }
}

/// A value inside a tool entry, read only as far as its `name`.
enum Named {
    /// An object, with its `name` if it has one.
    Object(Option<Name>),
    /// Anything else.
    Other,
}

/// A `name` field: a string, or something else.
enum Name {
    Text(String),
    Other,
}

impl<'de> Deserialize<'de> for Tool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ToolVisitor;
        impl<'de> Visitor<'de> for ToolVisitor {
            type Value = Tool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tool")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tool, A::Error> {
                let mut tool = Tool {
                    kind: None,
                    fields: Vec::new(),
                };
                while let Some(key) = map.next_key::<KeyName<'de>>()? {
                    if key.0 == "type" {
                        tool.kind = Some(map.next_value::<String>()?);
                    } else {
                        let named = map.next_value::<Named>()?;
                        tool.fields.push((key.0.into_owned(), named));
                    }
                }
                Ok(tool)
            }
        }
        deserializer.deserialize_map(ToolVisitor)
    }
}

impl<'de> Deserialize<'de> for Named {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NamedVisitor)
    }
}

struct NamedVisitor;

impl<'de> Visitor<'de> for NamedVisitor {
    type Value = Named;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Named, A::Error> {
        let mut name = None;
        while let Some(key) = map.next_key::<KeyName<'de>>()? {
            if key.0 == "name" {
                name = Some(match map.next_value::<Value>()? {
                    Value::String(text) => Name::Text(text),
                    _ => Name::Other,
                });
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Named::Object(name))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Named, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Named::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Named, E> {
        Ok(Named::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Named, E> {
        Ok(Named::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Named, E> {
        Ok(Named::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Named, E> {
        Ok(Named::Other)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Named, E> {
        Ok(Named::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Named, E> {
        Ok(Named::Other)
    }

    fn visit_none<E: de::Error>(self) -> Result<Named, E> {
        Ok(Named::Other)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::decode;
    use crate::provider::fast_check::Decoders;
    use crate::provider::openai_chat::decode_request;

    const DECODERS: Decoders = Decoders {
        fast: decode,
        checked: decode_request,
    };

    fn agrees(body: &[u8]) -> bool {
        DECODERS.agrees(body)
    }

    /// Every role, both content forms, a function tool and a tool of another type.
    fn sample() -> Value {
        json!({
            "model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
            "parallel_tool_calls": true,
            "tools": [
                {"type": "function", "function": {"name": "add", "description": "Add",
                    "parameters": {"type": "object", "properties": {"a": {"type": "number"}}}}},
                {"type": "custom", "custom": {"name": "grammar", "format": {"type": "text"}}},
                {"type": "web_search"}
            ],
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
                {"role": "user", "content": [{"type": "text", "text": "Add 2 and 3, twice."}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": "{\"a\":2}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "add", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "5"},
                {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "5"}]},
                {"role": "user", "content": "Go on."}
            ]
        })
    }

    #[test]
    fn the_sample_and_every_recorded_request_decode_on_the_fast_path_as_on_the_checked_one() {
        let recorded = DECODERS.agree_on_recordings(
            "openai-chat",
            &["openai-chat", "openai-compatible/chat", "nonconformant"],
        );
        assert!(recorded > 30, "{recorded} requests");
        let sample = decode(&serde_json::to_vec(&sample()).unwrap()).unwrap();
        assert_eq!(sample.tool_names, ["add", "grammar"]);
    }

    #[test]
    fn any_node_of_a_request_replaced_or_removed_is_decoded_as_the_checked_path_decodes_it_or_left_to_it()
     {
        DECODERS.agree_on_every_change(
            &sample(),
            &[
                json!(null),
                json!(true),
                json!(false),
                json!(0),
                json!(1.5),
                json!(""),
                json!("user"),
                json!("assistant"),
                json!("tool"),
                json!("system"),
                json!("function"),
                json!("custom"),
                json!("text"),
                json!([]),
                json!(["x"]),
                json!({}),
                json!({"name": "n"}),
                json!({"type": "text", "text": "t"}),
            ],
        );
    }

    #[test]
    fn shapes_a_derived_struct_would_take_but_the_api_does_not_are_left_to_the_checked_path() {
        for body in [
            br#"["gpt-4o", [{"role": "user", "content": "hi"}]]"#.to_vec(),
            br#"{"model": "m", "model": "n", "messages": [{"role": "user", "content": "hi"}]}"#.to_vec(),
            br#"{"model": "m", "messages": []}"#.to_vec(),
            br#"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "parallel_tool_calls": false}"#.to_vec(),
            br#"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [["function", {"name": "f"}]]}"#.to_vec(),
            br#"{"model": "m", "messages": [{"role": "user", "content": "hi"}]} trailing"#.to_vec(),
        ] {
            assert!(!agrees(&body), "{}", String::from_utf8_lossy(&body));
        }
    }

    #[test]
    fn repeated_keys_in_a_tool_keep_the_last_value_as_a_parsed_body_does() {
        let body = br#"{"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"type": "custom", "type": "function", "function": {"name": "f"},
                "function": {"name": "g", "name": "h"}, "custom": 5}]}"#;
        assert!(agrees(body));
        assert_eq!(decode(body).unwrap().tool_names, ["h"]);
    }
}
