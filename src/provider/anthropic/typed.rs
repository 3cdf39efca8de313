//! The fast way to decode a request: typed deserialisation straight from the body's bytes,
//! without building a `serde_json::Value` of the whole body (the tool schemas, most of a
//! request's bytes, are skipped unread).
//!
//! It decodes only what it is sure of. Anything unusual (a field of another type than the
//! API's, a `null` where a value is required, a duplicate top-level key, a string the API
//! would refuse) makes it give up with `None`, and the caller takes the checked path,
//! [`super::decode_request`], which gives the same result or the error with its path. So the
//! two may differ only in speed: `Some(d)` here means `decode_request` gives `Ok(d)`. Tests
//! prove it field by field, and debug builds compare the two on every request they serve.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::request::{has_tool_blocks, parallel_tool_calls, push_merged, thinking_required};
use super::wire::{REDACTED_THINKING, THINKING};
use crate::provider::DecodedRequest;
use crate::provider::typed::{CompactJson, KeyName};
use crate::transcript::{Block, Conversation, Message, Role, Thinking, ToolCall, ToolResult};

/// The request body's fields the decoding reads; others are skipped.
#[derive(Deserialize)]
struct Body<'a> {
    model: String,
    max_tokens: i64,
    messages: Vec<WireMessage>,
    #[serde(default, borrow)]
    system: Option<&'a RawValue>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    tools: Option<Vec<ToolName>>,
    #[serde(default)]
    thread: Option<Value>,
    #[serde(default)]
    tool_choice: Option<Value>,
    #[serde(default)]
    thinking: Option<Value>,
}

/// A declared tool: only its name is read. An object only (a derived struct would also take
/// a list).
struct ToolName {
    name: String,
}

impl<'de> Deserialize<'de> for ToolName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ToolVisitor;
        impl<'de> Visitor<'de> for ToolVisitor {
            type Value = ToolName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tool")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ToolName, A::Error> {
                let mut name = None;
                while let Some(key) = map.next_key::<KeyName<'de>>()? {
                    if key.0 == "name" {
                        name = Some(map.next_value::<String>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                name.map(|name| ToolName { name }).ok_or_else(unsure)
            }
        }
        deserializer.deserialize_map(ToolVisitor)
    }
}

/// One wire message, its content already in blocks.
struct WireMessage {
    role: Role,
    blocks: Vec<Block>,
}

/// The decoded request, or `None` where the checked path must decide.
pub(super) fn decode(body: &[u8]) -> Option<DecodedRequest> {
    // A derived struct would also take a list; the API takes an object only.
    if !body.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    // Checked once here, the body's strings are not checked again one by one (invalid
    // UTF-8 anywhere, even in a part the decoding skips, leaves the body to the checked path).
    let body: Body<'_> = serde_json::from_str(std::str::from_utf8(body).ok()?).ok()?;
    if body.max_tokens < 1 {
        return None;
    }
    if let Some(system) = body.system
        && !(system.get().starts_with('"') || system.get().starts_with('['))
    {
        return None;
    }
    let tool_names: Vec<String> = body
        .tools
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.name)
        .collect();
    let mut messages: Vec<Message> = Vec::with_capacity(body.messages.len());
    for wire in body.messages {
        push_merged(&mut messages, wire.role, wire.blocks);
    }
    let continues = match body.thread {
        None => None,
        Some(Value::Object(thread)) => match thread.get("type")?.as_str()? {
            "continue" => Some(thread.get("previous_message_id")?.as_str()?.to_owned()),
            _ => None,
        },
        Some(_) => return None,
    };
    if has_tool_blocks(&messages) && tool_names.is_empty() && continues.is_none() {
        return None;
    }
    Some(DecodedRequest {
        conversation: Conversation { messages },
        stream: body.stream.unwrap_or(false),
        model: body.model,
        tool_names,
        continues,
        parallel_tool_calls: parallel_tool_calls(body.tool_choice.as_ref()),
        thinking_required: thinking_required(body.thinking.as_ref()),
    })
}

/// Gives up: the checked path decides.
fn unsure<E: de::Error>() -> E {
    E::custom("not decoded on the fast path")
}

impl<'de> Deserialize<'de> for WireMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MessageVisitor)
    }
}

struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = WireMessage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireMessage, A::Error> {
        let mut role = None;
        let mut blocks = None;
        while let Some(key) = map.next_key::<KeyName<'de>>()? {
            match key.0.as_ref() {
                "role" => {
                    role = Some(match map.next_value::<KeyName<'de>>()?.0.as_ref() {
                        "user" => Role::User,
                        "assistant" => Role::Assistant,
                        _ => return Err(unsure()),
                    });
                }
                "content" => blocks = Some(map.next_value::<Content>()?.0),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (role, blocks) {
            (Some(role), Some(blocks)) => Ok(WireMessage { role, blocks }),
            _ => Err(unsure()),
        }
    }
}

/// A message's `content`: a string (one text block) or a list of blocks.
struct Content(Vec<Block>);

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = Content;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of blocks")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
                Ok(Content(vec![Block::Text { text: v.to_owned() }]))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Content, E> {
                Ok(Content(vec![Block::Text { text: v }]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(4));
                while let Some(block) = seq.next_element::<WireBlock>()? {
                    blocks.push(block.0);
                }
                Ok(Content(blocks))
            }
        }
        deserializer.deserialize_any(ContentVisitor)
    }
}

/// One content block, decoded as `request_block` decodes it.
struct WireBlock(Block);

/// The fields of a block that some block type reads, as they came.
#[derive(Default)]
struct BlockFields<'a> {
    kind: Option<KeyName<'a>>,
    text: Option<String>,
    thinking: Option<String>,
    signature: Option<String>,
    data: Option<String>,
    id: Option<String>,
    name: Option<String>,
    /// The compact text of `input`, and whether it is an object.
    input: Option<(String, bool)>,
    tool_use_id: Option<String>,
    content: Option<Value>,
    is_error: Option<bool>,
}

impl<'de> Deserialize<'de> for WireBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(BlockVisitor)
    }
}

struct BlockVisitor;

impl<'de> Visitor<'de> for BlockVisitor {
    type Value = WireBlock;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a content block")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireBlock, A::Error> {
        // A repeated key keeps its last value, as in a parsed `Value`. A string field of
        // another type gives up (even where this block's type does not read it).
        let mut f = BlockFields::default();
        while let Some(key) = map.next_key::<KeyName<'de>>()? {
            let slot = match key.0.as_ref() {
                "type" => {
                    f.kind = Some(map.next_value()?);
                    continue;
                }
                "text" => &mut f.text,
                "thinking" => &mut f.thinking,
                "signature" => &mut f.signature,
                "data" => &mut f.data,
                "id" => &mut f.id,
                "name" => &mut f.name,
                "tool_use_id" => &mut f.tool_use_id,
                "input" => {
                    let mut text = Vec::with_capacity(64);
                    map.next_value_seed(CompactJson(&mut text))?;
                    let object = text.first() == Some(&b'{');
                    let text = String::from_utf8(text).map_err(|_| unsure::<A::Error>())?;
                    f.input = Some((text, object));
                    continue;
                }
                "content" => {
                    f.content = Some(map.next_value()?);
                    continue;
                }
                "is_error" => {
                    f.is_error = map.next_value::<Option<bool>>()?;
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value::<String>()?);
        }
        block(f).map(WireBlock).ok_or_else(unsure)
    }
}

fn block(f: BlockFields<'_>) -> Option<Block> {
    let kind = f.kind?.0;
    Some(match kind.as_ref() {
        "text" => Block::Text { text: f.text? },
        THINKING => Block::Thinking(Thinking {
            text: f.thinking?,
            signature: Some(f.signature?),
            id: None,
            kind: kind.into_owned(),
        }),
        REDACTED_THINKING => Block::Thinking(Thinking {
            text: f.data?,
            signature: None,
            id: None,
            kind: kind.into_owned(),
        }),
        "tool_use" => {
            let (arguments, _) = f.input.filter(|(_, object)| *object)?;
            Block::ToolCall(ToolCall {
                id: f.id?,
                name: f.name?,
                arguments,
                item_id: None,
            })
        }
        "tool_result" => Block::ToolResult(ToolResult {
            call_id: f.tool_use_id?,
            content: match f.content {
                None | Some(Value::Null) => Value::Null,
                Some(c @ (Value::String(_) | Value::Array(_))) => c,
                Some(_) => return None,
            },
            is_error: f.is_error.unwrap_or(false),
        }),
        _ => Block::Other {
            kind: kind.into_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::decode;
    use crate::provider::anthropic::decode_request;
    use crate::provider::fast_check::Decoders;

    const DECODERS: Decoders = Decoders {
        fast: decode,
        checked: decode_request,
    };

    fn agrees(body: &[u8]) -> bool {
        DECODERS.agrees(body)
    }

    /// Every block type the decoding reads, both content forms, and every top-level field.
    fn sample() -> Value {
        json!({
            "model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": false,
            "system": [{"type": "text", "text": "Be brief."}],
            "tools": [{"name": "add", "description": "Add", "input_schema": {"type": "object",
                "properties": {"a": {"type": "number"}}}}, {"name": "mul", "input_schema": {}}],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": false},
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "messages": [
                {"role": "user", "content": "Add 2 and 3, and multiply them."},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "Two calls.", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "opaque"},
                    {"type": "text", "text": "Both at once."},
                    {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"b": 3, "a": 2}},
                    {"type": "tool_use", "id": "toolu_2", "name": "mul", "input": {"a": 2.5e0, "b": "\u{e9}"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "5"},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
                        "content": [{"type": "text", "text": "boom"}]}]},
                {"role": "user", "content": [
                    {"type": "image", "source": {"type": "base64", "data": ""}},
                    {"type": "text", "text": "Go on.", "cache_control": {"type": "ephemeral"}}]}
            ]
        })
    }

    #[test]
    fn the_sample_and_every_recorded_request_decode_on_the_fast_path_as_on_the_checked_one() {
        let recorded = DECODERS.agree_on_recordings("anthropic", &["anthropic", "nonconformant"]);
        assert!(recorded > 20, "{recorded} requests");
        assert!(agrees(&serde_json::to_vec(&sample()).unwrap()));
    }

    #[test]
    fn any_node_of_a_request_replaced_or_removed_is_decoded_as_the_checked_path_decodes_it_or_left_to_it()
     {
        DECODERS.agree_on_every_change(
            &sample(),
            &[
                json!(null),
                json!(true),
                json!(0),
                json!(-1),
                json!(1.5),
                json!(""),
                json!("user"),
                json!("assistant"),
                json!("text"),
                json!("tool_use"),
                json!("tool_result"),
                json!("thinking"),
                json!("continue"),
                json!("disabled"),
                json!([]),
                json!(["x"]),
                json!({}),
                json!({"type": "text", "text": "t"}),
                json!({"type": "continue", "previous_message_id": "msg_1"}),
            ],
        );
    }

    #[test]
    fn shapes_a_derived_struct_would_take_but_the_api_does_not_are_left_to_the_checked_path() {
        let mut as_list = sample();
        as_list["tools"][0] = json!(["add"]);
        for body in [
            br#"["claude", 10, []]"#.to_vec(),
            serde_json::to_vec(&as_list).unwrap(),
            br#"{"model": "m", "max_tokens": 10, "messages": [["user", "hi"]]}"#.to_vec(),
            br#"{"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [["text", "hi"]]}]}"#.to_vec(),
            br#"{"model": "m", "model": "n", "max_tokens": 10, "messages": []}"#.to_vec(),
            br#"{"model": "m", "max_tokens": 10.0, "messages": []}"#.to_vec(),
            br#"{"model": "m", "max_tokens": 10, "messages": []} trailing"#.to_vec(),
        ] {
            assert!(!agrees(&body), "{}", String::from_utf8_lossy(&body));
        }
    }

    #[test]
    fn a_tool_input_with_a_repeated_key_is_left_to_the_checked_path_which_keeps_the_last_value() {
        let body = br#"{"model": "m", "max_tokens": 10, "tools": [{"name": "f"}], "messages": [
            {"role": "assistant", "content": [
            {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1, "b": 0, "a": 2}}]}]}"#;
        assert!(!agrees(body));
        let checked = decode_request(&serde_json::from_slice(body).unwrap()).unwrap();
        let call = checked.conversation.messages[0]
            .tool_calls()
            .next()
            .unwrap();
        assert_eq!(call.arguments, r#"{"a":2,"b":0}"#);
        let unrepeated = String::from_utf8_lossy(body).replace(r#""b": 0, "a": 2"#, r#""b": 0"#);
        assert!(agrees(unrepeated.as_bytes()));
    }

    #[test]
    fn repeated_keys_inside_a_block_keep_the_last_value_as_a_parsed_body_does() {
        let body = br#"{"model": "m", "max_tokens": 10, "tools": [{"name": "f", "name": "g"}],
            "messages": [{"role": "assistant", "role": "user", "content": [
            {"type": "image", "type": "text", "text": "a", "text": "b", "\u0074ype": "text"}]}]}"#;
        assert!(agrees(body));
        let decoded = decode(body).unwrap();
        assert_eq!(decoded.tool_names, ["g"]);
        assert_eq!(
            decoded.conversation.messages[0].blocks,
            [crate::transcript::Block::Text { text: "b".into() }]
        );
    }
}
