//! The provider-neutral model of a conversation.
//!
//! Codecs turn wire JSON into these types; conformance rules read only these types. A request
//! becomes a [`Conversation`]: a list of [`Message`]s whose [`Block`]s keep their position, so
//! placement rules ("results right after the call", "results before any text") are judged
//! without looking at JSON. A response becomes an [`AssistantTurn`].

use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;

/// Who sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A system or developer instruction.
    System,
    /// The user; for Anthropic also the carrier of `tool_result` blocks.
    User,
    /// The model.
    Assistant,
    /// An OpenAI Chat `role: "tool"` message.
    Tool,
}

/// One tool call the model asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolCall {
    /// The provider's call id (`call_…`, `toolu_…`).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as JSON text, exactly as accumulated from the wire (Anthropic objects are
    /// rendered compactly). It may be invalid JSON: models produce that.
    pub arguments: String,
    /// The id of the item that carries the call, where the provider gives the item an id of
    /// its own besides the call id (OpenAI Responses: `fc_…`, while `id` is the `call_…` that
    /// results pair with); `None` elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
}

impl ToolCall {
    /// The arguments parsed as JSON, or `None` when they are not valid JSON. Empty arguments
    /// (a no-argument tool streamed as `""`) are the empty object.
    #[must_use]
    pub fn arguments_value(&self) -> Option<Value> {
        if self.arguments.trim().is_empty() {
            return Some(Value::Object(serde_json::Map::new()));
        }
        serde_json::from_str(&self.arguments).ok()
    }

    /// Whether two calls carry the same arguments: equal JSON values, or equal text when either
    /// side is not JSON. Re-serialising arguments (other spacing, other key order) is allowed.
    #[must_use]
    pub fn same_arguments(&self, other: &ToolCall) -> bool {
        if self.arguments == other.arguments {
            return true;
        }
        match (self.arguments_value(), other.arguments_value()) {
            (Some(a), Some(b)) => a == b,
            _ => self.arguments == other.arguments,
        }
    }
}

/// The id a call without one is known by: its position in the conversation, model turn `turn`
/// (1-based: the `turn`-th assistant message) and call `index` (0-based) of that turn. Codecs of
/// providers whose calls carry no ids ([`crate::provider::Pairing::ByOrderAndName`]) give
/// these to the calls a request echoes; [`AssistantTurn::number_calls`] gives them to the calls
/// of a served response, so both sides agree.
#[must_use]
pub fn positional_call_id(turn: usize, index: usize) -> String {
    format!("turn{turn}-call{}", index + 1)
}

/// Whether `id` is a [`positional_call_id`] rather than an id the provider gave.
#[must_use]
pub fn is_positional_call_id(id: &str) -> bool {
    id.strip_prefix("turn")
        .and_then(|rest| rest.split_once("-call"))
        .is_some_and(|(t, c)| {
            !t.is_empty()
                && !c.is_empty()
                && t.bytes().all(|b| b.is_ascii_digit())
                && c.bytes().all(|b| b.is_ascii_digit())
        })
}

/// The answer to one tool call, as the loop sent it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolResult {
    /// The id of the call this result answers.
    pub call_id: String,
    /// The content: a JSON string, or the provider's array of content parts.
    pub content: Value,
    /// Anthropic's `is_error`; always false for providers without the field.
    pub is_error: bool,
}

impl ToolResult {
    /// The content as plain text: a string as-is, text parts joined, anything else as JSON.
    #[must_use]
    pub fn text(&self) -> String {
        content_text(&self.content)
    }
}

/// The text of `content` when it is a list of text blocks only (`[{"type": "text", "text":
/// "5"}]`, as Anthropic results often are): what a framework hands its model as the tool's
/// output. `None` for anything else.
#[must_use]
pub fn text_blocks(content: &Value) -> Option<String> {
    let parts = content.as_array().filter(|p| !p.is_empty())?;
    parts
        .iter()
        .map(|p| {
            (p.get("type").and_then(Value::as_str) == Some("text"))
                .then(|| p.get("text").and_then(Value::as_str))
                .flatten()
        })
        .collect::<Option<Vec<&str>>>()
        .map(|texts| texts.concat())
}

/// Plain text of a result content value: a string as-is, `text` parts joined, else JSON.
#[must_use]
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            if texts.len() == parts.len() {
                texts.concat()
            } else {
                content.to_string()
            }
        }
        other => other.to_string(),
    }
}

/// A tool a request declares, in provider-neutral terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolDefinition {
    /// The tool's name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// The JSON Schema of its arguments.
    pub parameters: Value,
}

impl ToolDefinition {
    /// The definition a provider's tool object declares: its string `name`, its `description`
    /// (empty when it has none) and the schema under `schema_field` (an object schema with no
    /// properties when absent or `null`). `None` when it has no string `name`.
    #[must_use]
    pub fn declared(tool: &Value, schema_field: &str) -> Option<Self> {
        let name = tool.get("name")?.as_str()?.to_owned();
        let description = tool
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let parameters = match tool.get(schema_field) {
            None | Some(Value::Null) => serde_json::json!({"type": "object", "properties": {}}),
            Some(schema) => schema.clone(),
        };
        Some(Self {
            name,
            description,
            parameters,
        })
    }
}

/// A reasoning or thinking block that must travel back unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Thinking {
    /// `thinking` or `redacted_thinking` (Anthropic), `reasoning` (OpenAI Responses).
    pub kind: String,
    /// The visible text, or the redacted payload.
    pub text: String,
    /// The signature the provider checks, if any (OpenAI Responses: `encrypted_content`).
    pub signature: Option<String>,
    /// The block's own id, where the provider gives one (OpenAI Responses: `rs_…`); a block
    /// with an id is echoed when its id comes back (see [`Thinking::echoed_by`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl Thinking {
    /// Whether `echo`, sent back in a request, carries this served block: the same block, or,
    /// for a block with an id, the same kind and either the same id (the signature unchanged
    /// if it is sent: the provider finds a stored item by its id) or no id and the same
    /// signature (an encrypted item sent whole, as stateless loops do); its text does not
    /// matter.
    #[must_use]
    pub fn echoed_by(&self, echo: &Thinking) -> bool {
        match &self.id {
            Some(id) => {
                echo.kind == self.kind
                    && match &echo.id {
                        Some(sent) => {
                            sent == id
                                && (echo.signature.is_none() || echo.signature == self.signature)
                        }
                        None => echo.signature.is_some() && echo.signature == self.signature,
                    }
            }
            None => echo == self,
        }
    }
}

/// One piece of a message, in wire order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// A tool call the model made (echoed back in requests).
    ToolCall(ToolCall),
    /// A tool result the loop sends.
    ToolResult(ToolResult),
    /// A thinking or reasoning block.
    Thinking(Thinking),
    /// Anything else (images, documents, server tools): kept by kind so positions stay right.
    Other {
        /// The wire type name.
        kind: String,
    },
}

/// One message of a request, with the blocks in wire order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Who sent it.
    pub role: Role,
    /// Its blocks, in order.
    pub blocks: Vec<Block>,
    /// How many blocks each wire message contributed, in order. Anthropic merges consecutive
    /// messages of the same role before it validates; more than one entry means the loop sent
    /// several messages where one was expected.
    pub parts: Vec<usize>,
}

impl Message {
    /// A message made of one wire message.
    #[must_use]
    pub fn new(role: Role, blocks: Vec<Block>) -> Self {
        let parts = vec![blocks.len()];
        Self {
            role,
            blocks,
            parts,
        }
    }

    /// Appends the blocks of another wire message of the same role.
    pub fn merge(&mut self, blocks: Vec<Block>) {
        self.parts.push(blocks.len());
        self.blocks.extend(blocks);
    }

    /// How many wire messages were merged into this one.
    #[must_use]
    pub fn merged_from(&self) -> usize {
        self.parts.len()
    }

    /// The index of the wire message (within this merged message) that block `block` came from.
    #[must_use]
    pub fn part_of(&self, block: usize) -> usize {
        let mut end = 0;
        for (i, n) in self.parts.iter().enumerate() {
            end += n;
            if block < end {
                return i;
            }
        }
        self.parts.len().saturating_sub(1)
    }

    /// The tool calls in this message, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        calls_of(&self.blocks)
    }

    /// The tool results in this message with their block index, in order.
    pub fn tool_results(&self) -> impl Iterator<Item = (usize, &ToolResult)> {
        self.blocks.iter().enumerate().filter_map(|(i, b)| match b {
            Block::ToolResult(r) => Some((i, r)),
            _ => None,
        })
    }

    /// The text blocks joined.
    #[must_use]
    pub fn text(&self) -> String {
        text_of(&self.blocks)
    }

    /// [`Self::text`] without a copy where one block holds it all.
    #[must_use]
    pub fn borrowed_text(&self) -> Cow<'_, str> {
        borrowed_text_of(&self.blocks)
    }

    /// The thinking blocks, in order.
    pub fn thinking(&self) -> impl Iterator<Item = &Thinking> {
        thinking_of(&self.blocks)
    }
}

/// The conversation a request carries, after decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Conversation {
    /// Messages in wire order (Anthropic's top-level `system` is not a message).
    pub messages: Vec<Message>,
}

impl Conversation {
    /// Indices of the assistant messages.
    pub fn assistant_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.role == Role::Assistant)
            .map(|(i, _)| i)
    }

    /// How many assistant turns the request carries: the index of the response it asks for.
    #[must_use]
    pub fn assistant_turns(&self) -> usize {
        self.assistant_indices().count()
    }

    /// The first user message's text, the prompt that names the conversation.
    #[must_use]
    pub fn first_user_text(&self) -> Option<String> {
        self.messages
            .iter()
            .find(|m| m.role == Role::User)
            .map(Message::text)
    }
}

/// Why the model stopped, in provider-neutral terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model wants tools run (`tool_calls`, `tool_use`).
    ToolUse,
    /// A normal end of turn (`stop`, `end_turn`).
    EndTurn,
    /// The output was cut off.
    MaxTokens,
    /// Anything else, or not stated.
    Other,
}

/// What one model response said, after decoding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssistantTurn {
    /// The blocks in response order: text, thinking, tool calls.
    pub blocks: Vec<Block>,
    /// The stop reason the response gave.
    pub stop: StopReason,
}

impl AssistantTurn {
    /// The tool calls, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        calls_of(&self.blocks)
    }

    /// Whether two of the calls carry the same id (a model fault, or a provider that reuses
    /// ids): no answer can tell them apart.
    #[must_use]
    pub fn repeats_an_id(&self) -> bool {
        let calls: Vec<&ToolCall> = self.tool_calls().collect();
        calls
            .iter()
            .enumerate()
            .any(|(i, c)| calls[..i].iter().any(|earlier| earlier.id == c.id))
    }

    /// The text blocks joined.
    #[must_use]
    pub fn text(&self) -> String {
        text_of(&self.blocks)
    }

    /// [`Self::text`] without a copy where one block holds it all.
    #[must_use]
    pub fn borrowed_text(&self) -> Cow<'_, str> {
        borrowed_text_of(&self.blocks)
    }

    /// The thinking blocks, in order.
    pub fn thinking(&self) -> impl Iterator<Item = &Thinking> {
        thinking_of(&self.blocks)
    }

    /// Gives every call without an id (the provider gave none) its [`positional_call_id`] as
    /// model turn `turn` (1-based); calls with ids keep them.
    pub fn number_calls(&mut self, turn: usize) {
        let mut index = 0;
        for block in &mut self.blocks {
            if let Block::ToolCall(call) = block {
                if call.id.is_empty() {
                    call.id = positional_call_id(turn, index);
                }
                index += 1;
            }
        }
    }

    /// Whether `other` says the same as this turn: the same blocks in the same order and the
    /// same stop reason, with arguments compared as JSON (a stream carries them as sent, a
    /// body as the API serialises them).
    #[must_use]
    pub fn same_as(&self, other: &AssistantTurn) -> bool {
        self.stop == other.stop
            && self.blocks.len() == other.blocks.len()
            && self
                .blocks
                .iter()
                .zip(&other.blocks)
                .all(|pair| match pair {
                    (Block::ToolCall(a), Block::ToolCall(b)) => {
                        a.id == b.id && a.name == b.name && a.same_arguments(b)
                    }
                    (a, b) => a == b,
                })
    }
}

fn calls_of(blocks: &[Block]) -> impl Iterator<Item = &ToolCall> {
    blocks.iter().filter_map(|b| match b {
        Block::ToolCall(c) => Some(c),
        _ => None,
    })
}

fn text_of(blocks: &[Block]) -> String {
    borrowed_text_of(blocks).into_owned()
}

/// The text blocks joined, borrowed when there is at most one (no copy is needed then).
fn borrowed_text_of(blocks: &[Block]) -> Cow<'_, str> {
    let mut texts = blocks.iter().filter_map(|b| match b {
        Block::Text { text } => Some(text.as_str()),
        _ => None,
    });
    let Some(first) = texts.next() else {
        return Cow::Borrowed("");
    };
    match texts.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut joined = String::from(first);
            joined.push_str(second);
            joined.extend(texts);
            Cow::Owned(joined)
        }
    }
}

fn thinking_of(blocks: &[Block]) -> impl Iterator<Item = &Thinking> {
    blocks.iter().filter_map(|b| match b {
        Block::Thinking(t) => Some(t),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::{Block, Message, Role};

    fn text(t: &str) -> Block {
        Block::Text { text: t.to_owned() }
    }

    #[test]
    fn the_borrowed_text_is_the_joined_text_and_copies_only_to_join() {
        let other = Block::Other {
            kind: "image".to_owned(),
        };
        let cases: Vec<(Vec<Block>, &str, bool)> = vec![
            (vec![], "", true),
            (vec![other.clone()], "", true),
            (vec![other.clone(), text("one"), other.clone()], "one", true),
            (vec![text("a"), other.clone(), text("b")], "ab", false),
            (
                vec![text("a"), text("b"), text("c"), text("d")],
                "abcd",
                false,
            ),
        ];
        for (blocks, joined, borrowed) in cases {
            let message = Message::new(Role::User, blocks);
            let got = message.borrowed_text();
            assert_eq!(got, joined);
            assert_eq!(got, message.text());
            assert_eq!(matches!(got, Cow::Borrowed(_)), borrowed, "{joined:?}");
        }
    }
}
