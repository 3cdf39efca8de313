//! Reasoning blocks with ids and the items they precede: what a provider that keeps the two
//! together (OpenAI Responses) refuses when a loop sends one without the other (TT006).
//!
//! A served turn lists reasoning blocks and the items that follow them in order
//! (`rs_1, fc_1, fc_2`). Sent back, a reasoning block must still be directly followed by the
//! item that followed it, and a call that followed a reasoning block must not come back
//! without it. Only calls sent with their item id (`fc_…`) are tied to their reasoning: a call
//! sent as a new item (no id) is accepted on its own.

use crate::provider::Rejection;
use crate::transcript::{AssistantTurn, Block, Message, Thinking};

/// The provider's error for the served reasoning block `thinking` left out of the echoed
/// messages: the first call it preceded that comes back with its item id.
#[must_use]
pub fn missing(
    served: &AssistantTurn,
    thinking: &Thinking,
    echoed: &[usize],
    messages: &[Message],
) -> Option<Rejection> {
    let reasoning = thinking.id.clone()?;
    let start = served
        .blocks
        .iter()
        .position(|b| matches!(b, Block::Thinking(t) if t == thinking))?;
    let preceded: Vec<&str> = served.blocks[start + 1..]
        .iter()
        .take_while(|b| !matches!(b, Block::Thinking(_)))
        .filter_map(|b| match b {
            Block::ToolCall(c) => Some(c.id.as_str()),
            _ => None,
        })
        .collect();
    echoed.iter().find_map(|&m| {
        messages[m]
            .blocks
            .iter()
            .enumerate()
            .find_map(|(b, block)| match block {
                Block::ToolCall(c) if preceded.contains(&c.id.as_str()) => {
                    c.item_id.clone().map(|item| Rejection::MissingReasoning {
                        message: m,
                        block: b,
                        item,
                        reasoning: reasoning.clone(),
                    })
                }
                _ => None,
            })
    })
}

/// The echoed reasoning blocks (with ids) of a served turn that are not directly followed by
/// the call that followed them when served, where that call has an item id the provider
/// tracks: `(message, block, reasoning id)`. A follower sent back with its item id or its call
/// id counts, and so does any call sent as a new item (no id: the provider cannot relate it);
/// a reasoning block served before text is not judged (no capture shows the provider
/// checking it).
#[must_use]
pub fn unfollowed(
    served: &AssistantTurn,
    echoed: &[usize],
    messages: &[Message],
) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for &m in echoed {
        let blocks = &messages[m].blocks;
        for (b, block) in blocks.iter().enumerate() {
            let Block::Thinking(sent) = block else {
                continue;
            };
            let Some(id) = &sent.id else { continue };
            let Some(at) = served
                .blocks
                .iter()
                .position(|s| matches!(s, Block::Thinking(t) if t.echoed_by(sent)))
            else {
                continue;
            };
            let Some(Block::ToolCall(follower)) = served.blocks.get(at + 1) else {
                continue;
            };
            if follower.item_id.is_none() {
                continue;
            }
            let followed = matches!(blocks.get(b + 1), Some(Block::ToolCall(next))
                if next.id == follower.id || next.item_id.is_none() || next.item_id == follower.item_id);
            if !followed {
                out.push((m, b, id.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Role, StopReason, ToolCall};

    fn rs(id: &str) -> Block {
        Block::Thinking(Thinking {
            kind: "reasoning".into(),
            text: String::new(),
            signature: Some("enc".into()),
            id: Some(id.into()),
        })
    }

    fn fc(call: &str, item: Option<&str>) -> Block {
        Block::ToolCall(ToolCall {
            id: call.into(),
            name: "f".into(),
            arguments: "{}".into(),
            item_id: item.map(Into::into),
        })
    }

    fn served() -> AssistantTurn {
        AssistantTurn {
            blocks: vec![
                rs("rs_1"),
                fc("call_a", Some("fc_a")),
                fc("call_b", Some("fc_b")),
            ],
            stop: StopReason::ToolUse,
        }
    }

    #[test]
    fn a_call_sent_back_with_its_item_id_but_without_its_reasoning_is_refused() {
        let served = served();
        let Block::Thinking(thinking) = &served.blocks[0] else {
            unreachable!()
        };
        let messages = vec![Message::new(
            Role::Assistant,
            vec![fc("call_a", Some("fc_a")), fc("call_b", Some("fc_b"))],
        )];
        assert_eq!(
            missing(&served, thinking, &[0], &messages),
            Some(Rejection::MissingReasoning {
                message: 0,
                block: 0,
                item: "fc_a".into(),
                reasoning: "rs_1".into()
            })
        );
    }

    #[test]
    fn only_a_call_the_reasoning_preceded_is_named_not_one_served_before_it() {
        let served = AssistantTurn {
            blocks: vec![
                fc("call_x", Some("fc_x")),
                rs("rs_1"),
                fc("call_a", Some("fc_a")),
            ],
            stop: StopReason::ToolUse,
        };
        let Block::Thinking(thinking) = &served.blocks[1] else {
            unreachable!()
        };
        let messages = vec![Message::new(
            Role::Assistant,
            vec![fc("call_x", Some("fc_x")), fc("call_a", Some("fc_a"))],
        )];
        assert_eq!(
            missing(&served, thinking, &[0], &messages),
            Some(Rejection::MissingReasoning {
                message: 0,
                block: 1,
                item: "fc_a".into(),
                reasoning: "rs_1".into()
            })
        );
    }

    #[test]
    fn calls_sent_as_new_items_without_ids_are_not_tied_to_their_reasoning() {
        let served = served();
        let Block::Thinking(thinking) = &served.blocks[0] else {
            unreachable!()
        };
        let messages = vec![Message::new(
            Role::Assistant,
            vec![fc("call_a", None), fc("call_b", None)],
        )];
        assert_eq!(missing(&served, thinking, &[0], &messages), None);
    }

    #[test]
    fn reasoning_followed_by_its_call_passes_and_without_it_is_named() {
        let served = served();
        let kept = vec![Message::new(
            Role::Assistant,
            vec![rs("rs_1"), fc("call_a", None), fc("call_b", None)],
        )];
        assert!(unfollowed(&served, &[0], &kept).is_empty());
        let alone = vec![Message::new(
            Role::Assistant,
            vec![rs("rs_1"), fc("call_b", Some("fc_b"))],
        )];
        assert_eq!(
            unfollowed(&served, &[0], &alone),
            vec![(0, 0, "rs_1".to_owned())]
        );
    }
}
