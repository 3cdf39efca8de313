//! Where each tool result sits relative to the calls it answers.
//!
//! The analysis walks a request's conversation once and classifies every result and every call
//! the way the provider reads them, by where it wants results ([`ResultPlacement`]): the run of
//! result messages right after the assistant message (OpenAI Chat), or the result blocks at the
//! start of the next (merged) user message (Anthropic), or anywhere in the one user message
//! right after it (Gemini). The pairing rules (TT001–TT004) read this classification. Which call
//! a result answers is its id: a codec whose calls carry no ids
//! ([`crate::provider::Pairing::ByOrderAndName`]) has already paired each result with a call
//! of the assistant message before it and given it that call's positional id, so the
//! classification is the same for every provider.
//!
//! Every lookup is a hash lookup, so a request with N results and calls is classified in time
//! and memory linear in N, however many ids a hostile loop invents.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::sync::Arc;

use crate::provider::{Rejection, ResultPlacement};
use crate::transcript::{Block, Conversation, Role};

/// One problem with how results answer calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issue {
    /// A call has no result anywhere after it.
    Missing {
        /// Index of the assistant message.
        assistant: usize,
        /// 1-based model turn.
        turn: usize,
        /// The call id.
        id: String,
        /// The tool name.
        name: String,
    },
    /// A result names an id that the previous assistant turn did not call.
    Unknown {
        /// Message of the result.
        message: usize,
        /// Block of the result.
        block: usize,
        /// 1-based model turn the result sits after (0 before any).
        turn: usize,
        /// The id it names.
        id: String,
        /// Whether it sits where results go (the provider then says "not found in previous
        /// message") or somewhere no result can go (an orphan).
        in_place: bool,
    },
    /// An id answered twice.
    Duplicate {
        /// 1-based model turn.
        turn: usize,
        /// The id.
        id: String,
        /// Message of the first answer.
        first_message: usize,
        /// Message of the second answer.
        second_message: usize,
        /// Block of the second answer.
        second_block: usize,
    },
    /// A result for a real call, but not where the provider looks for it.
    Misplaced {
        /// 1-based model turn.
        turn: usize,
        /// Message of the result.
        message: usize,
        /// Block of the result.
        block: usize,
        /// The id.
        id: String,
    },
    /// The ids of an assistant turn the provider finds unanswered (missing or misplaced),
    /// for the provider's error.
    Unanswered {
        /// Index of the assistant message.
        assistant: usize,
        /// 1-based model turn.
        turn: usize,
        /// The ids, in call order, shared with every rejection made from them.
        ids: Arc<[String]>,
    },
}

/// Classifies every call and result of `conversation` as a provider that wants results at
/// `placement` reads them.
#[must_use]
pub fn analyse(placement: ResultPlacement, conversation: &Conversation) -> Vec<Issue> {
    let messages = &conversation.messages;
    let mut issues = Vec::new();
    // The maps of ids are sized for every call up front: growing them one insert at a time
    // was a tenth of a judged request's cost.
    let calls: usize = messages.iter().map(|m| m.tool_calls().count()).sum();
    let mut turn_of_call: HashMap<&str, usize> = HashMap::with_capacity(calls);
    let mut answered_at: HashMap<&str, usize> = HashMap::with_capacity(calls);
    let mut assistant_turn = 0;
    let mut current: Option<(usize, HashSet<&str>)> = None;
    let mut in_zone: HashSet<(usize, usize)> = HashSet::new();
    let mut zone_answered: HashMap<usize, HashSet<&str>> = HashMap::with_capacity(messages.len());
    let any_later = placement == ResultPlacement::AnyLaterItem;
    let mut message_of_call: HashMap<&str, usize> = HashMap::with_capacity(calls);
    // How many calls of its assistant message carry each id (more than one only when the
    // model sent an id twice), and how many results have answered it: an id is answered
    // twice only past that count.
    let mut carried: HashMap<&str, usize> = HashMap::with_capacity(calls);
    let mut answers: HashMap<&str, usize> = HashMap::new();

    for (m, message) in messages.iter().enumerate() {
        if message.role == Role::Assistant {
            assistant_turn += 1;
            let mut ids: HashSet<&str> = HashSet::with_capacity(message.tool_calls().count());
            ids.extend(message.tool_calls().map(|c| c.id.as_str()));
            for id in &ids {
                carried.insert(id, message.tool_calls().filter(|c| c.id == *id).count());
                turn_of_call.insert(id, assistant_turn);
                message_of_call.insert(id, m);
            }
            current = Some((m, ids));
            in_zone = zone(placement, conversation, m);
            continue;
        }
        for (b, result) in message.tool_results() {
            let id = result.call_id.as_str();
            let placed = in_zone.contains(&(m, b));
            let owner = current.as_ref().filter(|(_, ids)| !ids.is_empty());
            if let Some(&first) = answered_at.get(id) {
                let n = answers.entry(id).or_insert(1);
                if *n < carried.get(id).copied().unwrap_or(1) {
                    *n += 1;
                    continue;
                }
                issues.push(Issue::Duplicate {
                    turn: turn_of_call.get(id).copied().unwrap_or(assistant_turn),
                    id: id.to_owned(),
                    first_message: first,
                    second_message: m,
                    second_block: b,
                });
                continue;
            }
            if any_later {
                match message_of_call.get(id) {
                    Some(&a) => {
                        answered_at.insert(id, m);
                        zone_answered.entry(a).or_default().insert(id);
                    }
                    None => issues.push(Issue::Unknown {
                        message: m,
                        block: b,
                        turn: assistant_turn,
                        id: id.to_owned(),
                        in_place: true,
                    }),
                }
                continue;
            }
            let calls_it = owner.is_some_and(|(_, ids)| ids.contains(id));
            if placed && calls_it {
                answered_at.insert(id, m);
                if let Some((a, ids)) = owner {
                    zone_answered
                        .entry(*a)
                        .or_insert_with(|| HashSet::with_capacity(ids.len()))
                        .insert(id);
                }
            } else if calls_it || turn_of_call.contains_key(id) {
                answered_at.insert(id, m);
                issues.push(Issue::Misplaced {
                    turn: turn_of_call.get(id).copied().unwrap_or(assistant_turn),
                    message: m,
                    block: b,
                    id: id.to_owned(),
                });
            } else {
                issues.push(Issue::Unknown {
                    message: m,
                    block: b,
                    turn: assistant_turn,
                    id: id.to_owned(),
                    in_place: placed
                        || (placement == ResultPlacement::LeadingBlocksOfNextUserMessage
                            && owner.is_some()),
                });
            }
        }
    }

    let mut assistant_turn = 0;
    for (a, message) in messages.iter().enumerate() {
        if message.role != Role::Assistant {
            continue;
        }
        assistant_turn += 1;
        let answered = zone_answered.get(&a);
        let mut unanswered = Vec::new();
        for call in message.tool_calls() {
            if answered.is_some_and(|ids| ids.contains(call.id.as_str())) {
                continue;
            }
            unanswered.push(call.id.clone());
            if !answered_at.contains_key(call.id.as_str()) {
                issues.push(Issue::Missing {
                    assistant: a,
                    turn: assistant_turn,
                    id: call.id.clone(),
                    name: call.name.clone(),
                });
            }
        }
        if !unanswered.is_empty() {
            issues.push(Issue::Unanswered {
                assistant: a,
                turn: assistant_turn,
                ids: unanswered.into(),
            });
        }
    }
    issues
}

/// The (message, block) positions where the provider looks for the results of the calls of
/// assistant message `a`.
fn zone(
    placement: ResultPlacement,
    conversation: &Conversation,
    a: usize,
) -> HashSet<(usize, usize)> {
    let messages = &conversation.messages;
    let calls = messages[a].tool_calls().count();
    if calls == 0 {
        return HashSet::new();
    }
    let mut positions = HashSet::with_capacity(calls);
    match placement {
        // Any later position answers; `analyse` pairs those by id without a zone.
        ResultPlacement::AnyLaterItem => {}
        ResultPlacement::OwnMessages => {
            for (m, message) in messages.iter().enumerate().skip(a + 1) {
                if message.role != Role::Tool {
                    break;
                }
                positions.extend(message.tool_results().map(|(b, _)| (m, b)));
            }
        }
        ResultPlacement::LeadingBlocksOfNextUserMessage => {
            if let Some(next) = messages.get(a + 1).filter(|m| m.role == Role::User) {
                for (b, block) in next.blocks.iter().enumerate() {
                    if !matches!(block, Block::ToolResult(_)) {
                        break;
                    }
                    positions.insert((a + 1, b));
                }
            }
        }
        ResultPlacement::AnywhereInNextUserMessage => {
            if let Some(next) = messages.get(a + 1).filter(|m| m.role == Role::User) {
                positions.extend(next.tool_results().map(|(b, _)| (a + 1, b)));
            }
        }
    }
    positions
}

/// The provider's rejection for the unanswered calls of each turn (1-based), shared by TT001,
/// TT004 and TT010: one per turn, each holding the turn's one shared list of ids.
#[must_use]
pub fn unanswered(issues: &[Issue]) -> HashMap<usize, Rejection> {
    let mut by_turn = HashMap::new();
    for issue in issues {
        if let Issue::Unanswered {
            assistant,
            turn,
            ids,
        } = issue
        {
            by_turn
                .entry(*turn)
                .or_insert_with(|| Rejection::MissingResults {
                    assistant: *assistant,
                    ids: ids.clone(),
                });
        }
    }
    by_turn
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Message, ToolCall, ToolResult};

    fn call(id: &str) -> Block {
        Block::ToolCall(ToolCall {
            id: id.to_owned(),
            name: "t".to_owned(),
            arguments: "{}".to_owned(),
            item_id: None,
        })
    }

    fn user(text: &str) -> Message {
        Message::new(
            Role::User,
            vec![Block::Text {
                text: text.to_owned(),
            }],
        )
    }

    fn result_block(id: &str) -> Block {
        Block::ToolResult(ToolResult {
            call_id: id.to_owned(),
            content: serde_json::Value::String("ok".to_owned()),
            is_error: false,
        })
    }

    fn result(id: &str) -> Message {
        Message::new(Role::Tool, vec![result_block(id)])
    }

    /// A result for a call of an earlier turn, sent after a later assistant turn, is that
    /// call's result in the wrong place, not a result for a call nobody made.
    #[test]
    fn a_late_result_for_an_earlier_turns_call_is_misplaced_not_unknown() {
        let conversation = Conversation {
            messages: vec![
                user("go"),
                Message::new(Role::Assistant, vec![call("c1")]),
                Message::new(Role::Assistant, vec![call("c2")]),
                result("c2"),
                result("c1"),
            ],
        };
        let issues = analyse(ResultPlacement::OwnMessages, &conversation);
        assert!(
            issues.iter().any(|i| matches!(
                i,
                Issue::Misplaced { id, turn: 1, message: 4, .. } if id == "c1"
            )),
            "{issues:?}"
        );
        assert!(
            !issues.iter().any(|i| matches!(i, Issue::Unknown { .. })),
            "{issues:?}"
        );
    }

    /// A tool message after a user message is out of its place, and its call is unanswered.
    #[test]
    fn a_tool_message_after_the_results_zone_is_misplaced() {
        let conversation = Conversation {
            messages: vec![
                user("go"),
                Message::new(Role::Assistant, vec![call("c1")]),
                user("and?"),
                result("c1"),
            ],
        };
        let issues = analyse(ResultPlacement::OwnMessages, &conversation);
        assert!(
            issues.iter().any(|i| matches!(
                i,
                Issue::Misplaced { id, message: 3, .. } if id == "c1"
            )),
            "{issues:?}"
        );
        assert!(
            issues.iter().any(|i| matches!(
                i,
                Issue::Unanswered { turn: 1, ids, .. } if ids.as_ref() == ["c1".to_owned()]
            )),
            "{issues:?}"
        );
    }

    /// One message of a generated conversation: an assistant message with calls (ids from a
    /// small pool, so ids repeat across and within turns), a `tool` message with one result,
    /// or a user message mixing text and results.
    fn arbitrary_message() -> impl proptest::strategy::Strategy<Value = Message> {
        use proptest::prelude::*;
        let id = proptest::sample::select(vec!["a", "b", "c"]);
        let block = prop_oneof![
            id.clone().prop_map(result_block),
            Just(Block::Text {
                text: "more".to_owned()
            }),
        ];
        prop_oneof![
            proptest::collection::vec(id.clone(), 0..4)
                .prop_map(|ids| Message::new(Role::Assistant, ids.into_iter().map(call).collect())),
            id.prop_map(result),
            proptest::collection::vec(block, 1..4).prop_map(|b| Message::new(Role::User, b)),
        ]
    }

    proptest::proptest! {
        /// A misplaced result never stands alone: its call is then unanswered where the
        /// provider looks, so the provider's error for the request is the missing-results one
        /// of that turn, whatever else is wrong.
        #[test]
        fn a_misplaced_result_always_leaves_its_turn_unanswered(
            messages in proptest::collection::vec(arbitrary_message(), 1..9),
            placement in proptest::sample::select(vec![
                ResultPlacement::OwnMessages,
                ResultPlacement::LeadingBlocksOfNextUserMessage,
                ResultPlacement::AnyLaterItem,
                ResultPlacement::AnywhereInNextUserMessage,
            ]),
        ) {
            let issues = analyse(placement, &Conversation { messages });
            let unanswered = unanswered(&issues);
            for issue in &issues {
                if let Issue::Misplaced { turn, .. } = issue {
                    proptest::prop_assert!(unanswered.contains_key(turn), "{:?}", issues);
                }
            }
        }
    }

    /// A turn that carries one id twice (as OpenAI-compatible servers send) is answered by
    /// one result per call; only a result beyond that is a duplicate.
    #[test]
    fn an_id_carried_twice_takes_two_results_and_a_third_is_a_duplicate() {
        let mut messages = vec![
            user("go"),
            Message::new(Role::Assistant, vec![call("c1"), call("c1")]),
            result("c1"),
            result("c1"),
        ];
        let two = Conversation {
            messages: messages.clone(),
        };
        assert_eq!(analyse(ResultPlacement::OwnMessages, &two), Vec::new());
        messages.push(result("c1"));
        let three = Conversation { messages };
        let issues = analyse(ResultPlacement::OwnMessages, &three);
        assert!(
            matches!(
                issues.as_slice(),
                [Issue::Duplicate {
                    first_message: 2,
                    second_message: 4,
                    ..
                }]
            ),
            "{issues:?}"
        );
    }
}
