//! Which served turn each assistant message of a request echoes, and so which response the
//! request asks for.
//!
//! The turn is found from what the request echoes, never by counting assistant messages: an
//! assistant message that carries a served call id echoes the turn that served it, so a loop
//! that splits one turn of N calls into N assistant messages (each with one call and its
//! result) still continues the conversation the way the API would. An assistant message with
//! no served id (a final answer, or calls with altered ids) is taken as the next turn in order;
//! one whose calls match neither a served id nor a tool of that turn is marked, because then
//! the server cannot tell which turn it continues.

use crate::cassette::Cassette;
use crate::transcript::{Conversation, Role};

/// The served turn of each assistant message, and the response the request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Echoes {
    /// `(message index, 0-based served turn)` for every assistant message, in order.
    pub messages: Vec<(usize, usize)>,
    /// Assistant messages with calls of which none was ever served, to tools the turn at
    /// their place did not call either: the server cannot tell which turn they continue.
    pub unrecognised: Vec<usize>,
    /// The 0-based response index the request asks for.
    pub next: usize,
}

impl Echoes {
    /// The assistant messages that echo served turn `turn`, in order.
    pub fn of_turn(&self, turn: usize) -> impl Iterator<Item = usize> + '_ {
        self.messages
            .iter()
            .filter(move |(_, t)| *t == turn)
            .map(|(m, _)| *m)
    }

    /// The served turns echoed, each once, in order.
    #[must_use]
    pub fn turns(&self) -> Vec<usize> {
        let mut turns: Vec<usize> = self.messages.iter().map(|(_, t)| *t).collect();
        turns.dedup();
        turns
    }
}

/// Maps each assistant message of `conversation` to the turn of `cassette` it echoes.
#[must_use]
pub fn echoes(cassette: &Cassette, conversation: &Conversation) -> Echoes {
    let mut out = Echoes::default();
    let mut next = 0;
    for (m, message) in conversation.messages.iter().enumerate() {
        if message.role != Role::Assistant {
            continue;
        }
        let served = message
            .tool_calls()
            .find_map(|call| cassette.turn_of_call(&call.id));
        let turn = match served {
            Some(t) => t,
            None => {
                let fits = cassette
                    .calls(next)
                    .iter()
                    .any(|served| message.tool_calls().any(|c| c.name == served.name));
                if message.tool_calls().next().is_some() && !fits {
                    out.unrecognised.push(m);
                }
                next
            }
        };
        out.messages.push((m, turn));
        next = turn + 1;
    }
    out.next = next;
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::transcript::{Block, Message, ToolCall, ToolResult};

    fn cassette() -> Cassette {
        Cassette::load(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json"),
        )
        .unwrap()
    }

    fn assistant(ids: &[&str]) -> Message {
        Message::new(
            Role::Assistant,
            ids.iter()
                .map(|id| {
                    Block::ToolCall(ToolCall {
                        id: (*id).to_owned(),
                        name: "add".into(),
                        arguments: "{}".into(),
                        item_id: None,
                    })
                })
                .collect(),
        )
    }

    fn result(id: &str) -> Message {
        Message::new(
            Role::Tool,
            vec![Block::ToolResult(ToolResult {
                call_id: id.to_owned(),
                content: "5".into(),
                is_error: false,
            })],
        )
    }

    fn user() -> Message {
        Message::new(Role::User, vec![Block::Text { text: "go".into() }])
    }

    #[test]
    fn a_first_request_asks_for_the_first_response() {
        let e = echoes(
            &cassette(),
            &Conversation {
                messages: vec![user()],
            },
        );
        assert_eq!(e.next, 0);
        assert!(e.messages.is_empty());
    }

    #[test]
    fn a_turn_split_over_several_assistant_messages_is_still_one_turn() {
        let c = cassette();
        let ids: Vec<String> = c.calls(0).iter().map(|x| x.id.clone()).collect();
        let mut messages = vec![user()];
        for id in &ids {
            messages.push(assistant(&[id]));
            messages.push(result(id));
        }
        let e = echoes(&c, &Conversation { messages });
        assert_eq!(e.next, 1);
        assert_eq!(e.turns(), vec![0]);
        assert_eq!(e.of_turn(0).count(), ids.len());
        assert!(e.unrecognised.is_empty());
    }

    #[test]
    fn calls_never_served_are_placed_by_order_and_marked_unless_their_tool_fits() {
        let conversation = |name: &str| {
            let mut a = assistant(&["call_invented"]);
            if let Block::ToolCall(c) = &mut a.blocks[0] {
                c.name = name.to_owned();
            }
            Conversation {
                messages: vec![user(), a, result("call_invented")],
            }
        };
        let other = echoes(&cassette(), &conversation("search_the_web"));
        assert_eq!(other.next, 1);
        assert_eq!(other.unrecognised, vec![1]);
        let same_tool = echoes(&cassette(), &conversation("add"));
        assert_eq!(same_tool.next, 1);
        assert!(same_tool.unrecognised.is_empty());
    }
}
