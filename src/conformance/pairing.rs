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
use std::ops::Range;
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

/// The latest assistant message that carries a call id, as the analysis walks the messages.
#[derive(Clone, Copy)]
struct CallSite {
    /// Index of the assistant message.
    message: usize,
    /// 1-based model turn of that message.
    turn: usize,
    /// How many calls of that message carry the id (more than one only when the model sent
    /// an id twice): an id is answered twice only past that count.
    carried: usize,
}

/// The first result that answered an id, and how many results have answered it.
struct Answer {
    message: usize,
    count: usize,
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
    let mut sites: HashMap<&str, CallSite> = HashMap::with_capacity(calls);
    let mut answered: HashMap<&str, Answer> = HashMap::with_capacity(calls);
    // (assistant message, id) for each call answered where the provider looks for it.
    let mut answered_in_zone: HashSet<(usize, &str)> = HashSet::with_capacity(calls);
    let mut assistant_turn = 0;
    // The latest assistant message, when it has calls.
    let mut owner: Option<usize> = None;
    let mut in_zone = Zone::default();
    let any_later = placement == ResultPlacement::AnyLaterItem;

    for (m, message) in messages.iter().enumerate() {
        if message.role == Role::Assistant {
            assistant_turn += 1;
            owner = None;
            let here = CallSite {
                message: m,
                turn: assistant_turn,
                carried: 0,
            };
            for call in message.tool_calls() {
                owner = Some(m);
                // An id an earlier turn carried now belongs to this one.
                let site = sites.entry(call.id.as_str()).or_insert(here);
                if site.message != m {
                    *site = here;
                }
                site.carried += 1;
            }
            in_zone = zone(placement, conversation, m);
            continue;
        }
        for (b, result) in message.tool_results() {
            let id = result.call_id.as_str();
            let placed = in_zone.contains(m, b);
            let site = sites.get(id);
            if let Some(answer) = answered.get_mut(id) {
                if answer.count < site.map_or(1, |s| s.carried) {
                    answer.count += 1;
                    continue;
                }
                issues.push(Issue::Duplicate {
                    turn: site.map_or(assistant_turn, |s| s.turn),
                    id: id.to_owned(),
                    first_message: answer.message,
                    second_message: m,
                    second_block: b,
                });
                continue;
            }
            let Some(site) = site else {
                issues.push(Issue::Unknown {
                    message: m,
                    block: b,
                    turn: assistant_turn,
                    id: id.to_owned(),
                    in_place: any_later
                        || placed
                        || (placement == ResultPlacement::LeadingBlocksOfNextUserMessage
                            && owner.is_some()),
                });
                continue;
            };
            answered.insert(
                id,
                Answer {
                    message: m,
                    count: 1,
                },
            );
            // Any later position answers (pairing by id), or the result sits where the
            // provider looks and the latest assistant message calls its id.
            if any_later || (placed && owner == Some(site.message)) {
                answered_in_zone.insert((site.message, id));
            } else {
                issues.push(Issue::Misplaced {
                    turn: site.turn,
                    message: m,
                    block: b,
                    id: id.to_owned(),
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
        let mut unanswered = Vec::new();
        for call in message.tool_calls() {
            if answered_in_zone.contains(&(a, call.id.as_str())) {
                continue;
            }
            unanswered.push(call.id.clone());
            if !answered.contains_key(call.id.as_str()) {
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

/// The result positions where the provider looks for the results of one assistant message's
/// calls: blocks below `blocks` of the messages in `messages`. Only result blocks are ever
/// looked up.
#[derive(Default)]
struct Zone {
    messages: Range<usize>,
    blocks: usize,
}

impl Zone {
    fn contains(&self, message: usize, block: usize) -> bool {
        self.messages.contains(&message) && block < self.blocks
    }
}

/// Where the provider looks for the results of the calls of assistant message `a`.
fn zone(placement: ResultPlacement, conversation: &Conversation, a: usize) -> Zone {
    let messages = &conversation.messages;
    if messages[a].tool_calls().next().is_none() {
        return Zone::default();
    }
    let next_is_user = messages.get(a + 1).is_some_and(|m| m.role == Role::User);
    match placement {
        // Any later position answers; `analyse` pairs those by id without a zone.
        ResultPlacement::AnyLaterItem => Zone::default(),
        ResultPlacement::OwnMessages => {
            let run = messages[a + 1..]
                .iter()
                .take_while(|m| m.role == Role::Tool)
                .count();
            Zone {
                messages: (a + 1)..(a + 1 + run),
                blocks: usize::MAX,
            }
        }
        ResultPlacement::LeadingBlocksOfNextUserMessage if next_is_user => Zone {
            messages: (a + 1)..(a + 2),
            blocks: messages[a + 1]
                .blocks
                .iter()
                .take_while(|b| matches!(b, Block::ToolResult(_)))
                .count(),
        },
        ResultPlacement::AnywhereInNextUserMessage if next_is_user => Zone {
            messages: (a + 1)..(a + 2),
            blocks: usize::MAX,
        },
        ResultPlacement::LeadingBlocksOfNextUserMessage
        | ResultPlacement::AnywhereInNextUserMessage => Zone::default(),
    }
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

    fn assistant(ids: &[&str]) -> Message {
        if ids.is_empty() {
            return Message::new(
                Role::Assistant,
                vec![Block::Text {
                    text: "thinking aloud".to_owned(),
                }],
            );
        }
        Message::new(Role::Assistant, ids.iter().map(|id| call(id)).collect())
    }

    fn user_blocks(blocks: Vec<Block>) -> Message {
        Message::new(Role::User, blocks)
    }

    fn text() -> Block {
        Block::Text {
            text: "note".to_owned(),
        }
    }

    /// The issues in a short form a table can hold.
    fn short(issues: &[Issue]) -> Vec<String> {
        issues
            .iter()
            .map(|issue| match issue {
                Issue::Missing { turn, id, .. } => format!("missing {id} of turn {turn}"),
                Issue::Unknown { message, id, .. } => format!("unknown {id} in {message}"),
                Issue::Duplicate { id, .. } => format!("duplicate {id}"),
                Issue::Misplaced {
                    message, block, id, ..
                } => format!("misplaced {id} at {message}.{block}"),
                Issue::Unanswered { turn, ids, .. } => {
                    format!("turn {turn} unanswered: {}", ids.join(" "))
                }
            })
            .collect()
    }

    /// Where each placement looks for a turn's results, with the calling assistant message
    /// first and later in the conversation (a zone is counted from its assistant message).
    #[test]
    fn each_placement_finds_results_where_its_provider_looks_and_only_there() {
        use ResultPlacement::{
            AnyLaterItem, AnywhereInNextUserMessage, LeadingBlocksOfNextUserMessage, OwnMessages,
        };
        let later = |tail: Vec<Message>| {
            let mut messages = vec![user("go"), assistant(&[]), user("and?")];
            messages.extend(tail);
            messages
        };
        let cases: Vec<(ResultPlacement, Vec<Message>, Vec<&str>)> = vec![
            (
                OwnMessages,
                vec![
                    user("go"),
                    assistant(&["a", "b"]),
                    result("a"),
                    result("b"),
                    user("ok"),
                ],
                vec![],
            ),
            (
                OwnMessages,
                later(vec![assistant(&["a"]), result("a")]),
                vec![],
            ),
            (
                OwnMessages,
                later(vec![assistant(&["a", "b"]), result("b"), result("a")]),
                vec![],
            ),
            (
                OwnMessages,
                vec![
                    user("go"),
                    assistant(&["a", "b"]),
                    result("a"),
                    user("hm"),
                    result("b"),
                ],
                vec!["misplaced b at 4.0", "turn 1 unanswered: b"],
            ),
            (
                OwnMessages,
                vec![user("go"), assistant(&["a"])],
                vec!["missing a of turn 1", "turn 1 unanswered: a"],
            ),
            (
                LeadingBlocksOfNextUserMessage,
                vec![
                    user("go"),
                    assistant(&["a", "b"]),
                    user_blocks(vec![result_block("a"), result_block("b"), text()]),
                ],
                vec![],
            ),
            (
                LeadingBlocksOfNextUserMessage,
                later(vec![
                    assistant(&["a", "b"]),
                    user_blocks(vec![result_block("b"), result_block("a")]),
                ]),
                vec![],
            ),
            (
                LeadingBlocksOfNextUserMessage,
                vec![
                    user("go"),
                    assistant(&["a", "b"]),
                    user_blocks(vec![result_block("a"), text(), result_block("b")]),
                ],
                vec!["misplaced b at 2.2", "turn 1 unanswered: b"],
            ),
            (
                LeadingBlocksOfNextUserMessage,
                vec![user("go"), assistant(&["a"]), result("a")],
                vec!["misplaced a at 2.0", "turn 1 unanswered: a"],
            ),
            (
                AnywhereInNextUserMessage,
                vec![
                    user("go"),
                    assistant(&["a", "b"]),
                    user_blocks(vec![text(), result_block("b"), result_block("a")]),
                ],
                vec![],
            ),
            (
                AnywhereInNextUserMessage,
                later(vec![
                    assistant(&["a"]),
                    user_blocks(vec![text(), result_block("a")]),
                ]),
                vec![],
            ),
            (
                AnywhereInNextUserMessage,
                vec![user("go"), assistant(&["a"]), result("a")],
                vec!["misplaced a at 2.0", "turn 1 unanswered: a"],
            ),
            (
                AnywhereInNextUserMessage,
                vec![
                    user("go"),
                    assistant(&["a"]),
                    user("hm"),
                    user_blocks(vec![result_block("a")]),
                ],
                vec!["misplaced a at 3.0", "turn 1 unanswered: a"],
            ),
            (
                AnyLaterItem,
                vec![
                    user("go"),
                    assistant(&["a", "b"]),
                    user("hm"),
                    result("b"),
                    result("a"),
                ],
                vec![],
            ),
            (
                AnyLaterItem,
                vec![user("go"), assistant(&["a"]), result("z")],
                vec![
                    "unknown z in 2",
                    "missing a of turn 1",
                    "turn 1 unanswered: a",
                ],
            ),
        ];
        for (placement, messages, expected) in cases {
            let conversation = Conversation { messages };
            let issues = analyse(placement, &conversation);
            assert_eq!(short(&issues), expected, "{placement:?}: {conversation:?}");
        }
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
