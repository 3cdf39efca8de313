//! The model-fault rules (TT023, TT024) on scripted loops: a session served a turn with a call
//! the loop cannot run (or none at all), the loop's tool requests at the endpoints, and a
//! follow-up built by the codec from the turn as served, each call answered as the script says.
//! What the correct loops do (an error result for the call they cannot run, every other call
//! run and answered with its output, a failing tool answered with its error) fires nothing.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tooltape::Cassette;
use tooltape::conformance::{Finding, Severity};
use tooltape::fault::{Fault, FaultKind, TurnFault};
use tooltape::server::{Replay, RequestMeta};
use tooltape::transcript::{AssistantTurn, Block, ToolCall, ToolResult};

use super::mutation::{RULES_NONE, set};
use super::positive::paused_runtime;
use super::sessions::rules_of;
use crate::support::load;

const CHAT: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";
const CHAT_STREAM: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json";
const RESPONSES: &str = "openai-responses/fantasy-gpt-4o-parallel2-followup.json";
const ANTHROPIC: &str = "anthropic/fantasy-sonnet-4-parallel2-followup.json";
const GEMINI: &str = "gemini/fantasy-2.5-flash-parallel2-followup.json";
const FAILING: &str = "openai-chat/handmade-failing-tool.json";

/// Which calls of the first turn a script runs at the tool endpoints.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Run {
    /// Every call, its arguments sent as they are (a call that does not parse gets a 400).
    All,
    /// Every call but the ones a model fault made or changed.
    Runnable,
    /// The first call only.
    First,
    /// The first call, then a request for the second call's tool whose body is not JSON
    /// (refused by the endpoint, so it may have been the second call).
    FirstAndRefused,
    /// None: the loop runs its tools itself.
    None,
}

/// How a script answers one call of the first turn.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Say {
    /// What the tool endpoint answered for it, else the recorded result.
    Output,
    /// An error of the loop's own, flagged where the provider has a flag.
    OwnError,
    /// A made-up success.
    Placeholder,
    /// No result at all.
    Nothing,
}

/// A scripted loop: serve `rel` with `faults`, ask for turn 1, run `run` of its calls, and
/// unless it `stops`, answer each call as `say` gives it (by position) and ask for turn 2.
struct Script {
    rel: &'static str,
    faults: Vec<FaultKind>,
    run: Run,
    stops: bool,
    say: fn(usize, &ToolCall, bool) -> Say,
    barrier: bool,
    /// How the loop echoes turn 1's calls back: it may change them, by position.
    echo: fn(usize, &mut ToolCall, bool),
    /// The order the loop sends its results in, given them in call order.
    order: fn(&mut [(ToolCall, ToolResult)]),
}

fn in_call_order(_: &mut [(ToolCall, ToolResult)]) {}

/// A loop that answers the calls of one id together, at the place of the first.
fn grouped_by_id(answers: &mut [(ToolCall, ToolResult)]) {
    let first: Vec<String> = answers.iter().map(|(c, _)| c.id.clone()).collect();
    answers.sort_by_key(|(c, _)| first.iter().position(|id| *id == c.id));
}

fn reversed(answers: &mut [(ToolCall, ToolResult)]) {
    answers.reverse();
}

fn echo_as_served(_: usize, _: &mut ToolCall, _: bool) {}

/// A loop that keeps calls parsed: arguments that do not parse go back as `{}`.
fn echo_unparsed_as_empty(_: usize, c: &mut ToolCall, faulted: bool) {
    if faulted && c.arguments_value().is_none() {
        c.arguments = "{}".into();
    }
}

/// A loop that gives the second of two calls with one id an id of its own.
fn echo_repeated_id_renamed(i: usize, c: &mut ToolCall, faulted: bool) {
    if faulted && i > 0 {
        c.id = format!("{}_renamed", c.id);
    }
}

fn answer_all(_: usize, _: &ToolCall, _: bool) -> Say {
    Say::Output
}

/// The first call's output, then a made-up success for the rest.
fn placeholder_after_first(i: usize, _: &ToolCall, _: bool) -> Say {
    if i == 0 {
        Say::Output
    } else {
        Say::Placeholder
    }
}

fn own_error_for_faulted(_: usize, _: &ToolCall, faulted: bool) -> Say {
    if faulted { Say::OwnError } else { Say::Output }
}

impl Script {
    fn new(rel: &'static str, faults: &[FaultKind]) -> Self {
        Self {
            rel,
            faults: faults.to_vec(),
            run: Run::All,
            stops: false,
            say: answer_all,
            barrier: false,
            echo: echo_as_served,
            order: in_call_order,
        }
    }

    fn findings(&self) -> Vec<Finding> {
        let recorded = load(self.rel);
        let faults: Vec<TurnFault> = self
            .faults
            .iter()
            .map(|&k| TurnFault {
                turn: 0,
                fault: Fault::new(k),
            })
            .collect();
        paused_runtime().block_on(async {
            let mut replay = Replay::new().with_faults(faults);
            if self.barrier {
                replay = replay.with_barrier(Some(Duration::from_millis(1000)));
            }
            let replay = Arc::new(replay);
            replay.add_session("s", recorded.clone());
            let served = replay.sessions()[0].1.clone();
            let faulted = faulted_positions(&served, &recorded);
            ask(&replay, &served, 0, None, &[], in_call_order);
            let calls = served.calls(0).to_vec();
            let chosen: Vec<(usize, &ToolCall)> = calls
                .iter()
                .enumerate()
                .filter(|(i, _)| match self.run {
                    Run::All => true,
                    Run::Runnable => !faulted.contains(i),
                    Run::First | Run::FirstAndRefused => *i == 0,
                    Run::None => false,
                })
                .collect();
            let replies = futures::future::join_all(chosen.iter().map(|(_, c)| {
                replay.handle_tool(Some("s"), &c.name, Some(&c.id), c.arguments.as_bytes())
            }))
            .await;
            if self.run == Run::FirstAndRefused {
                replay
                    .handle_tool(Some("s"), &calls[1].name, None, b"{not json")
                    .await;
            }
            let outputs: HashMap<usize, String> = chosen
                .iter()
                .zip(replies)
                .map(|((i, _), r)| (*i, String::from_utf8_lossy(&r.body).into_owned()))
                .collect();
            if self.stops {
                return replay.findings("s");
            }
            let mut echoed = served.turns[0].assistant.clone().expect("turn 1 has calls");
            let mut position = 0;
            for b in &mut echoed.blocks {
                if let Block::ToolCall(c) = b {
                    (self.echo)(position, c, faulted.contains(&position));
                    position += 1;
                }
            }
            let calls: Vec<ToolCall> = echoed.tool_calls().cloned().collect();
            let results: Vec<Option<ToolResult>> = calls
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let content = match (self.say)(i, c, faulted.contains(&i)) {
                        Say::Nothing => return None,
                        Say::Output => outputs.get(&i).map_or_else(
                            || {
                                recorded
                                    .recorded_result(0, &c.id)
                                    .map_or(json!("done"), |r| r.content.clone())
                            },
                            |o| json!(o),
                        ),
                        Say::OwnError => json!(format!("error: cannot run `{}`", c.name)),
                        Say::Placeholder => json!("No result available."),
                    };
                    Some(ToolResult {
                        call_id: c.id.clone(),
                        content,
                        is_error: (self.say)(i, c, faulted.contains(&i)) == Say::OwnError,
                    })
                })
                .collect();
            ask(&replay, &served, 1, Some(&echoed), &results, self.order);
            replay.findings("s")
        })
    }
}

/// The positions of the calls of turn 1 a model fault added or changed.
fn faulted_positions(served: &Cassette, recorded: &Cassette) -> BTreeSet<usize> {
    let (now, was) = (served.calls(0), recorded.calls(0));
    now.iter()
        .enumerate()
        .filter(|(i, c)| {
            was.get(*i)
                .is_none_or(|w| w.id != c.id || w.name != c.name || !w.same_arguments(c))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Sends the request for response `k` (0 or 1) of the cassette as served: the recorded first
/// request, or it continued with turn 1 echoed (as `echoed` gives it, else as served) and
/// `results` (by call position) answering it.
fn ask(
    replay: &Replay,
    served: &Cassette,
    k: usize,
    echoed: Option<&AssistantTurn>,
    results: &[Option<ToolResult>],
    order: fn(&mut [(ToolCall, ToolResult)]),
) {
    let codec = served.provider().codec();
    let first = &served.file.interactions[0].request.body;
    let body: Value = if k == 0 {
        first.clone()
    } else {
        let mut history = codec.history(first);
        let turn = echoed.unwrap_or_else(|| served.turns[0].assistant.as_ref().unwrap());
        history.push(codec.encode_assistant(turn));
        let mut pairs: Vec<(ToolCall, ToolResult)> = turn
            .tool_calls()
            .zip(results)
            .filter_map(|(c, r)| r.clone().map(|r| (c.clone(), r)))
            .collect();
        order(&mut pairs);
        let (calls, answers): (Vec<ToolCall>, Vec<ToolResult>) = pairs.into_iter().unzip();
        history.extend(codec.encode_answers(&calls, &answers));
        codec.with_history(first, history)
    };
    let route = served.file.interactions[k].request.route(served.provider());
    let bytes = serde_json::to_vec(&body).unwrap();
    replay.handle_model_routed(
        Some("s"),
        served.provider(),
        &route,
        RequestMeta::all(),
        &bytes,
    );
}

#[test]
fn a_model_fault_in_a_turn_the_loop_never_reached_is_not_judged() {
    let recorded = load("openai-chat/handmade-parallel-off-chain.json");
    let replay = Replay::new().with_faults(vec![TurnFault {
        turn: 1,
        fault: Fault::new(FaultKind::MalformedArguments),
    }]);
    replay.add_session("s", recorded.clone());
    let served = replay.sessions()[0].1.clone();
    assert_ne!(
        served.calls(1)[0].arguments,
        recorded.calls(1)[0].arguments,
        "the fault is in turn 2 as served"
    );
    // The loop asks for turn 1 and stops there: turn 2, with the fault, is never served.
    ask(&replay, &served, 0, None, &[], in_call_order);
    let findings = replay.findings("s");
    assert_eq!(rules_of(&findings), set(["TT013"]), "{findings:#?}");
}

/// Scenarios: a name, the findings, and the rules that must fire.
pub fn model_fault_scenarios() -> Vec<(&'static str, Vec<Finding>, BTreeSet<&'static str>)> {
    use FaultKind::*;
    let script = Script::new;
    vec![
        (
            "answers malformed arguments with the tool endpoint's 400",
            script(CHAT, &[MalformedArguments]).findings(),
            set(RULES_NONE),
        ),
        (
            "answers malformed arguments with an error of its own, streamed",
            Script {
                run: Run::Runnable,
                say: own_error_for_faulted,
                ..script(CHAT_STREAM, &[MalformedArguments])
            }
            .findings(),
            set(RULES_NONE),
        ),
        (
            "answers malformed arguments over Responses",
            script(RESPONSES, &[MalformedArguments]).findings(),
            set(RULES_NONE),
        ),
        (
            "crashes on malformed arguments",
            Script {
                run: Run::None,
                stops: true,
                ..script(CHAT, &[MalformedArguments])
            }
            .findings(),
            set(["TT013", "TT023"]),
        ),
        (
            "leaves the call with malformed arguments unanswered",
            Script {
                run: Run::Runnable,
                say: |_, _, faulted| if faulted { Say::Nothing } else { Say::Output },
                ..script(CHAT, &[MalformedArguments])
            }
            .findings(),
            set(["TT001", "TT023"]),
        ),
        (
            "sends malformed arguments back parsed, as `{}`",
            Script {
                run: Run::Runnable,
                say: own_error_for_faulted,
                echo: echo_unparsed_as_empty,
                ..script(CHAT, &[MalformedArguments])
            }
            .findings(),
            set(["TT006"]),
        ),
        (
            "sends valid arguments back changed",
            Script {
                echo: |i, c, _| {
                    if i == 1 {
                        c.arguments = "{}".into();
                    }
                },
                ..script(CHAT, &[])
            }
            .findings(),
            set(["TT006"]),
        ),
        (
            "answers an undeclared tool with the tool endpoint's 404, behind the barrier",
            Script {
                barrier: true,
                ..script(CHAT, &[UndeclaredTool])
            }
            .findings(),
            set(RULES_NONE),
        ),
        (
            "answers an undeclared tool with its own flagged error, running the rest",
            Script {
                run: Run::Runnable,
                say: own_error_for_faulted,
                barrier: true,
                ..script(ANTHROPIC, &[UndeclaredTool])
            }
            .findings(),
            set(RULES_NONE),
        ),
        (
            "answers an undeclared Gemini call",
            script(GEMINI, &[UndeclaredTool]).findings(),
            set(RULES_NONE),
        ),
        (
            "crashes on an undeclared tool",
            Script {
                stops: true,
                ..script(ANTHROPIC, &[UndeclaredTool])
            }
            .findings(),
            set(["TT013", "TT023"]),
        ),
        (
            "runs both calls with one id and answers each",
            script(CHAT, &[DuplicateCallId]).findings(),
            set(RULES_NONE),
        ),
        (
            "runs a repeated id once and answers it once",
            Script {
                run: Run::Runnable,
                say: |_, _, faulted| if faulted { Say::Nothing } else { Say::Output },
                ..script(CHAT, &[DuplicateCallId])
            }
            .findings(),
            set(RULES_NONE),
        ),
        (
            "refuses a turn that gives two calls one id",
            Script {
                stops: true,
                ..script(CHAT, &[DuplicateCallId])
            }
            .findings(),
            set(["TT013", "TT023"]),
        ),
        (
            "sends the second of two calls with one id back under an id of its own",
            Script {
                echo: echo_repeated_id_renamed,
                ..script(CHAT, &[DuplicateCallId])
            }
            .findings(),
            set(["TT006"]),
        ),
        (
            // Which of the two calls of one id a result answers is a guess: no order to hold.
            "answers the two calls of one id together",
            Script {
                order: grouped_by_id,
                ..script(CHAT, &[DuplicateCallId])
            }
            .findings(),
            set(RULES_NONE),
        ),
        (
            "answers in reverse call order",
            Script {
                order: reversed,
                ..script(CHAT, &[])
            }
            .findings(),
            set(["TT007"]),
        ),
        (
            "answers both calls with one id over Responses",
            script(RESPONSES, &[DuplicateCallId]).findings(),
            set(RULES_NONE),
        ),
        (
            "fills in a placeholder for a call it dropped",
            Script {
                run: Run::First,
                say: placeholder_after_first,
                ..script(CHAT, &[])
            }
            .findings(),
            set(["TT024"]),
        ),
        (
            "fills in a placeholder for a dropped Anthropic call",
            Script {
                run: Run::First,
                say: placeholder_after_first,
                ..script(ANTHROPIC, &[])
            }
            .findings(),
            set(["TT024"]),
        ),
        (
            // The refused request may have been the dropped call's: nothing is proven.
            "fills in a placeholder for a call whose tool request was refused",
            Script {
                run: Run::FirstAndRefused,
                say: placeholder_after_first,
                ..script(ANTHROPIC, &[])
            }
            .findings(),
            set(RULES_NONE),
        ),
        (
            "answers a call it did not run with a flagged error of its own",
            Script {
                run: Run::First,
                say: |i, _, _| if i == 0 { Say::Output } else { Say::OwnError },
                ..script(ANTHROPIC, &[])
            }
            .findings(),
            set(RULES_NONE),
        ),
        (
            "runs its tools itself and answers every call",
            Script {
                run: Run::None,
                say: |_, _, _| Say::Placeholder,
                ..script(CHAT, &[])
            }
            .findings(),
            set(RULES_NONE),
        ),
        (
            "answers a failing tool with its error text",
            script(FAILING, &[]).findings(),
            set(RULES_NONE),
        ),
        (
            // The failing tool's call was the one whose arguments broke: it never ran, so
            // never failed; its missing result is TT001's, not TT010's.
            "drops the unparsable call of a failing tool and answers the rest",
            Script {
                run: Run::Runnable,
                say: |_, _, faulted| if faulted { Say::Nothing } else { Say::Output },
                ..script(FAILING, &[MalformedArguments])
            }
            .findings(),
            set(["TT001", "TT023"]),
        ),
        (
            "stops its batch at a failing tool and answers the rest itself",
            Script {
                run: Run::First,
                say: placeholder_after_first,
                ..script(FAILING, &[])
            }
            .findings(),
            set(RULES_NONE),
        ),
    ]
}

#[test]
fn every_model_fault_scenario_fires_exactly_its_rules() {
    let mut problems = Vec::new();
    for (name, findings, want) in model_fault_scenarios() {
        if rules_of(&findings) != want {
            problems.push(format!("{name}: expected {want:?}, got {findings:#?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What a loop cannot be blamed for under a model fault is a warning, never an error: the
/// call that did not parse sent back as `{}`, a turn with one id twice refused or renamed.
/// The same edits where no fault excuses them stay errors.
#[test]
fn what_a_model_fault_excuses_is_a_warning_and_nothing_else_is() {
    let warnings_only = [
        "sends malformed arguments back parsed, as `{}`",
        "refuses a turn that gives two calls one id",
        "sends the second of two calls with one id back under an id of its own",
    ];
    let errors = [
        "sends valid arguments back changed",
        "crashes on an undeclared tool",
    ];
    let scenarios = model_fault_scenarios();
    let of = |name: &str| {
        scenarios
            .iter()
            .find(|(n, _, _)| *n == name)
            .unwrap_or_else(|| panic!("no scenario `{name}`"))
            .1
            .clone()
    };
    for name in warnings_only {
        let findings = of(name);
        assert!(
            !findings.is_empty() && findings.iter().all(|f| f.severity == Severity::Warning),
            "{name}: {findings:#?}"
        );
    }
    for name in errors {
        let findings = of(name);
        assert!(
            findings.iter().all(|f| f.severity == Severity::Error),
            "{name}: {findings:#?}"
        );
    }
}

/// The findings of `rule` in the scenario named `name`, for the rule's report snapshot.
pub fn model_fault_example(name: &str, rule: &str) -> Vec<Finding> {
    let (_, findings, _) = model_fault_scenarios()
        .into_iter()
        .find(|(n, _, _)| *n == name)
        .unwrap_or_else(|| panic!("no model fault scenario `{name}`"));
    findings.into_iter().filter(|f| f.rule == rule).collect()
}
