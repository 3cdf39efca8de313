//! The mutation oracle's driver: one mistake in a correct follow-up (bundled or generated)
//! makes exactly the matching rules fire, with the provider's own answer byte for byte. The
//! mistakes are named here ([`Mutation`]); each provider's [`Mutator`] makes them on its wire
//! JSON, written from the protocol notes and never with tooltape's encoders, and says which
//! rules and which answer each must get.
//!
//! To add a provider: write a module next to `openai_chat.rs` with a unit struct that
//! implements [`Mutator`] (its error texts as [`ErrorReply`]s, copied from the reference
//! recordings) and append it to [`MUTATORS`]. Its bundled fixtures and generated cassettes
//! then go through every mutation below. A new [`Mutation`] is one variant here plus one arm
//! in each provider's `mutate` (the match is exhaustive, so none is forgotten).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use serde_json::Value;
use tooltape::Cassette;
use tooltape::cassette::ResponseBody;
use tooltape::conformance::Finding;
use tooltape::provider::{Provider, Route};
use tooltape::server::{Entry, Replay, RequestMeta};

use super::anthropic::Anthropic;
use super::gemini::Gemini;
use super::openai_chat::OpenAiChat;
use super::openai_responses::OpenAiResponses;
use crate::generators::{any_cassette, config};
use crate::support::{fixture_files, load_path};

/// One provider's side of the mutation oracle.
pub trait Mutator: Sync {
    /// The provider whose wire this edits.
    fn provider(&self) -> Provider;

    /// The last assistant turn of request `body`, when its calls are answered in call order,
    /// in the provider's container, and the request ends there.
    fn last_turn(&self, body: &Value) -> Option<LastTurn>;

    /// Makes mistake `m` in `body` (a copy of `f.body`) and `meta`: the rules it must fire
    /// and the answer it must get, or `None` when the mistake does not apply. `NotJson` is
    /// the driver's own (it cuts the serialized body short, whatever the wire).
    fn mutate(
        &self,
        f: &FollowUp,
        m: Mutation,
        body: &mut Value,
        meta: &mut RequestMeta,
        cassette: &Cassette,
    ) -> Option<Expected>;

    /// For a wire whose path (not its body) says whether to stream: follow-up `f`'s recorded
    /// path asking for the other mode, for `FlipStream`. `None` where the body says it.
    fn flipped_path(&self, _f: &FollowUp) -> Option<String> {
        None
    }
}

/// Every provider's mutations.
pub static MUTATORS: &[&dyn Mutator] = &[&OpenAiChat, &Anthropic, &OpenAiResponses, &Gemini];

/// The mutator of `provider`.
///
/// # Panics
/// When no mutator is listed for it.
#[must_use]
pub fn mutator(provider: Provider) -> &'static dyn Mutator {
    MUTATORS
        .iter()
        .copied()
        .find(|m| m.provider() == provider)
        .unwrap_or_else(|| {
            panic!(
                "no mutations for `{}`: add its module to oracle::mutation::MUTATORS",
                provider.name()
            )
        })
}

/// The provider's answer a mutated request must get.
#[derive(Debug, Clone)]
pub enum Answer {
    /// The recorded response (the API accepts the request).
    Served,
    /// The provider's own error, built from the reference texts and checked byte for byte.
    Error(Arc<dyn ErrorReply>),
    /// A provider error with this status whose exact text no reference captured.
    Rejected(u16),
    /// tooltape's own refusal (the conversation left the cassette): status 400, a message
    /// starting with `tooltape:`.
    Harness,
    /// The recorded turn in the other mode (`stream`: the request asked for a stream): status
    /// 200 and a body that decodes to the same turn as the recording.
    Reencoded { provider: Provider, stream: bool },
    /// The real API's answer is not known (no captured text): not asserted.
    Unknown,
}

/// A provider's error reply as the reference texts give it.
pub trait ErrorReply: fmt::Debug + Send + Sync {
    /// `Ok` when `status` and `body` are exactly this error; else what differs.
    fn check(&self, status: u16, body: &[u8]) -> Result<(), String>;
}

/// The rules a mutation must fire and the answer it must get.
pub type Expected = (BTreeSet<&'static str>, Answer);

/// Checks a reply against the expected answer, byte for byte for the providers' errors.
pub fn check_answer(
    answer: &Answer,
    status: u16,
    body: &[u8],
    served: &[u8],
) -> Result<(), String> {
    let text = String::from_utf8_lossy(body);
    match answer {
        Answer::Unknown => Ok(()),
        Answer::Served if status == 200 && body == served => Ok(()),
        Answer::Served => Err(format!(
            "expected the recorded response, got {status}: {text}"
        )),
        Answer::Reencoded { provider, stream } => {
            let decode = |bytes: &[u8], stream: bool| {
                let text = String::from_utf8_lossy(bytes);
                if stream {
                    let frames = tooltape::provider::sse::split_frames(&text);
                    provider.decode_response_sse(&tooltape::provider::sse::parse_frames(&frames))
                } else {
                    provider.decode_response_json(&text)
                }
            };
            match (status, decode(body, *stream), decode(served, !*stream)) {
                (200, Ok(got), Ok(recorded)) if got.same_as(&recorded) => Ok(()),
                _ => Err(format!(
                    "expected the recorded turn re-encoded (stream: {stream}), got {status}: {text}"
                )),
            }
        }
        Answer::Error(reply) => reply.check(status, body),
        Answer::Rejected(want) => {
            let got: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            if status == *want && got.get("error").is_some() {
                Ok(())
            } else {
                Err(format!("expected a {want} error body, got {status} {text}"))
            }
        }
        Answer::Harness => {
            let got: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let message = got["error"]["message"].as_str().unwrap_or_default();
            if status == 400 && message.starts_with("tooltape:") {
                Ok(())
            } else {
                Err(format!("expected tooltape's own 400, got {status} {text}"))
            }
        }
    }
}

/// A correct follow-up request on the wire, and where its last turn's calls and results are.
/// Read from the JSON by the oracle itself (through its provider's [`Mutator`]), not by
/// tooltape's codecs.
#[derive(Debug, Clone)]
pub struct FollowUp {
    pub provider: Provider,
    /// The request's index in the cassette: the number of assistant turns it carries.
    pub k: usize,
    pub body: Value,
    /// Wire index of the last assistant message.
    pub assistant: usize,
    /// Its call ids, in call order.
    pub ids: Vec<String>,
    /// Each call's result content as text, in call order.
    pub texts: Vec<String>,
    /// Whether each call's tool fails (the cassette's `fails`).
    pub failing: Vec<bool>,
    /// Thinking blocks of every assistant message: (wire message, block).
    pub thinking: Vec<(usize, usize)>,
    /// The calls as served (names and arguments), in call order.
    pub served: Vec<tooltape::transcript::ToolCall>,
    /// The recorded request path (where the provider names the model in it), if any.
    pub path: Option<String>,
}

/// What a [`Mutator`] reads off a follow-up's last assistant turn.
#[derive(Debug, Clone)]
pub struct LastTurn {
    /// Wire index of the last assistant message.
    pub assistant: usize,
    /// Its call ids, in call order.
    pub ids: Vec<String>,
    /// Its calls' tool names, in call order.
    pub names: Vec<String>,
    /// Each call's result content as text, in call order.
    pub texts: Vec<String>,
    /// Thinking blocks of every assistant message: (wire message, block).
    pub thinking: Vec<(usize, usize)>,
}

pub const RULES_NONE: [&str; 0] = [];

impl FollowUp {
    /// Request `k` of `cassette`, when it answers the calls of its last assistant message in
    /// call order, in the provider's container, and ends there.
    pub fn parse(cassette: &Cassette, k: usize) -> Option<Self> {
        let provider = cassette.provider();
        let body = cassette.file.interactions[k].request.body.clone();
        let LastTurn {
            assistant,
            ids,
            names,
            texts,
            thinking,
        } = mutator(provider).last_turn(&body)?;
        if ids.is_empty() {
            return None;
        }
        let failing = names
            .iter()
            .map(|n| {
                cassette
                    .file
                    .tools
                    .get(n)
                    .is_some_and(|t| t.fails.is_some())
            })
            .collect();
        Some(Self {
            provider,
            k,
            body,
            assistant,
            ids,
            texts,
            failing,
            thinking,
            served: cassette.calls(k - 1).to_vec(),
            path: cassette.file.interactions[k].request.path.clone(),
        })
    }

    pub fn n(&self) -> usize {
        self.ids.len()
    }

    /// Whether sending call `j`'s output for call `i` is TT009: the outputs differ and the
    /// calls do not have the same tool and arguments (calls a loop cannot tell apart answer
    /// each other).
    pub fn mismatch(&self, i: usize, j: usize) -> bool {
        let same_call = match (self.served.get(i), self.served.get(j)) {
            (Some(a), Some(b)) => a.name == b.name && a.same_arguments(b),
            _ => false,
        };
        self.texts[i] != self.texts[j] && !same_call
    }

    /// TT001, or TT010 when a call of the turn fails (a missing result is then judged as a
    /// dropped failure or sibling).
    pub fn missing_rule(&self) -> &'static str {
        if self.failing.iter().any(|f| *f) {
            "TT010"
        } else {
            "TT001"
        }
    }

    /// Two different calls: `i` and another one `d` picks, modulo the number of calls;
    /// `None` with a single call.
    pub fn two_calls(&self, i: usize, d: usize) -> Option<(usize, usize)> {
        let n = self.n();
        if n < 2 {
            return None;
        }
        let i = i % n;
        Some((i, (i + 1 + d % (n - 1)) % n))
    }
}

/// One mistake in a follow-up (or a change that is no mistake, to catch false positives).
/// Indices are taken modulo the number of calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    DropResult(usize),
    DuplicateResult(usize),
    SwapContents(usize, usize),
    UnknownId(usize),
    SplitResults(usize),
    TextBeforeResults,
    UserBeforeResults,
    ReorderResults(usize),
    AlterArguments(usize),
    AlterIdEverywhere(usize),
    AlterEchoedId(usize),
    RenameEchoedCall(usize),
    DropEchoedCall(usize),
    DropThinking(usize),
    ArgumentsAsObject(usize),
    DropAssistant,
    DropPrompt,
    ChangePrompt,
    AfterFinalAnswer,
    DropIsError(usize),
    FlipStream,
    NotJson,
    NoApiKey,
    NoVersionHeader,
    DropAllEchoedCalls,
    SystemBeforeResults,
    ReuseEarlierId(usize),
    SwapIds(usize, usize),
    RespaceArguments(usize),
    PromptAsParts,
    NoNullContent,
    ResultAsParts(usize),
    ParallelOff,
    AnswerByItemId(usize),
    EmptyCallId(usize),
    DuplicateItem(usize),
    UnknownContinuation,
}

impl Mutation {
    /// Every mutation with its index parameters drawn from `p`.
    pub fn all(p: [usize; 3]) -> Vec<Mutation> {
        use Mutation::*;
        vec![
            DropResult(p[0]),
            DuplicateResult(p[1]),
            SwapContents(p[0], p[2]),
            UnknownId(p[2]),
            SplitResults(p[1]),
            TextBeforeResults,
            UserBeforeResults,
            ReorderResults(p[2]),
            AlterArguments(p[1]),
            AlterIdEverywhere(p[0]),
            AlterEchoedId(p[2]),
            RenameEchoedCall(p[1]),
            DropEchoedCall(p[1]),
            DropThinking(p[0]),
            ArgumentsAsObject(p[1]),
            DropAssistant,
            DropPrompt,
            ChangePrompt,
            AfterFinalAnswer,
            DropIsError(p[0]),
            FlipStream,
            NotJson,
            NoApiKey,
            NoVersionHeader,
            DropAllEchoedCalls,
            SystemBeforeResults,
            ReuseEarlierId(p[0]),
            SwapIds(p[1], p[2]),
            RespaceArguments(p[2]),
            PromptAsParts,
            NoNullContent,
            ResultAsParts(p[0]),
            ParallelOff,
            AnswerByItemId(p[1]),
            EmptyCallId(p[2]),
            DuplicateItem(p[0]),
            UnknownContinuation,
        ]
    }
}

/// A mutated request, ready to send, with what it must provoke.
pub struct Mutated {
    pub body: Vec<u8>,
    pub meta: RequestMeta,
    /// The path to send it to; `None`: the recorded one.
    pub path: Option<String>,
    pub rules: BTreeSet<&'static str>,
    pub answer: Answer,
}

pub fn set<const N: usize>(rules: [&'static str; N]) -> BTreeSet<&'static str> {
    rules.into_iter().collect()
}

/// Applies one mutation to a correct follow-up; `None` when it does not apply.
pub fn mutate(f: &FollowUp, m: Mutation, cassette: &Cassette) -> Option<Mutated> {
    let mut meta = RequestMeta::all();
    if m == Mutation::NotJson {
        let mut text = serde_json::to_vec(&f.body).ok()?;
        text.pop();
        return Some(Mutated {
            body: text,
            meta,
            path: None,
            rules: set(["TT011"]),
            answer: Answer::Rejected(400),
        });
    }
    if m == Mutation::FlipStream
        && let Some(path) = mutator(f.provider).flipped_path(f)
    {
        // The API serves either mode: the turn comes back re-encoded in the one asked for.
        let stream = route_of(f.provider, &path).stream == Some(true);
        return Some(Mutated {
            body: serde_json::to_vec(&f.body).expect("JSON"),
            meta,
            path: Some(path),
            rules: set(RULES_NONE),
            answer: Answer::Reencoded {
                provider: f.provider,
                stream,
            },
        });
    }
    let mut body = f.body.clone();
    let (rules, answer) = mutator(f.provider).mutate(f, m, &mut body, &mut meta, cassette)?;
    Some(Mutated {
        body: serde_json::to_vec(&body).expect("JSON"),
        meta,
        path: None,
        rules,
        answer,
    })
}

/// Sends one request to a fresh replay of `cassette`: the findings on it, the status and the
/// body.
pub fn judge_findings(
    cassette: &Arc<Cassette>,
    meta: RequestMeta,
    body: &[u8],
) -> (Vec<Finding>, u16, Vec<u8>) {
    let route = cassette.file.interactions[0]
        .request
        .route(cassette.provider());
    judge_findings_on(cassette, &route, meta, body)
}

/// How the server routes `path` (with its query) for `provider`.
///
/// # Panics
/// When the provider does not route it.
pub fn route_of(provider: Provider, path: &str) -> Route {
    let (path, query) = path
        .split_once('?')
        .map_or((path, None), |(a, b)| (a, Some(b)));
    provider
        .codec()
        .route("POST", path, query)
        .unwrap_or_else(|| panic!("`{}` does not route {path}", provider.name()))
}

/// As [`judge_findings`], sent to `route`.
pub fn judge_findings_on(
    cassette: &Arc<Cassette>,
    route: &Route,
    meta: RequestMeta,
    body: &[u8],
) -> (Vec<Finding>, u16, Vec<u8>) {
    let replay = Replay::new();
    replay.add_session("s", cassette.clone());
    let reply = replay.handle_model_routed(Some("s"), cassette.provider(), route, meta, body);
    let findings = replay
        .journal()
        .session("s")
        .into_iter()
        .flat_map(|e| match e {
            Entry::Model(m) => m.findings,
            Entry::Tool(_) => Vec::new(),
        })
        .collect();
    (findings, reply.status(), reply.body_bytes().to_vec())
}

/// As [`judge_findings`], with the rule ids that fired.
pub fn judge(
    cassette: &Arc<Cassette>,
    meta: RequestMeta,
    body: &[u8],
) -> (BTreeSet<&'static str>, u16, Vec<u8>) {
    let (findings, status, body) = judge_findings(cassette, meta, body);
    (findings.iter().map(|f| f.rule).collect(), status, body)
}

/// The bytes of recorded response `k`.
fn served(cassette: &Cassette, k: usize) -> Vec<u8> {
    match &cassette.turns[k].response.body {
        ResponseBody::Json { text } => text.clone().into_bytes(),
        ResponseBody::Sse { frames } => frames.concat().into_bytes(),
    }
}

/// Runs every applicable mutation on follow-up `f`: the problems found, and the rules that
/// fired.
fn run_mutations(
    cassette: &Arc<Cassette>,
    f: &FollowUp,
    params: [usize; 3],
) -> (Vec<String>, BTreeSet<&'static str>) {
    let mut problems = Vec::new();
    let mut fired = BTreeSet::new();
    let recorded = served(cassette, f.k);
    let (clean, status, _) = judge(
        cassette,
        RequestMeta::all(),
        &serde_json::to_vec(&f.body).unwrap(),
    );
    if !clean.is_empty() || status != 200 {
        problems.push(format!(
            "{} request {}: the unmutated follow-up is not clean: {clean:?}, {status}",
            cassette.name(),
            f.k
        ));
        return (problems, fired);
    }
    for m in Mutation::all(params) {
        let Some(mutated) = mutate(f, m, cassette) else {
            continue;
        };
        let (findings, status, body) = match &mutated.path {
            Some(path) => judge_findings_on(
                cassette,
                &route_of(f.provider, path),
                mutated.meta,
                &mutated.body,
            ),
            None => judge_findings(cassette, mutated.meta, &mutated.body),
        };
        let rules: BTreeSet<&'static str> = findings.iter().map(|f| f.rule).collect();
        fired.extend(rules.iter().copied());
        let what = format!("{} request {} {m:?}", cassette.name(), f.k);
        if rules != mutated.rules {
            problems.push(format!(
                "{what}: expected rules {:?}, fired {rules:?}",
                mutated.rules
            ));
        }
        if let Err(e) = check_answer(&mutated.answer, status, &body, &recorded) {
            problems.push(format!("{what}: {e}"));
        }
    }
    (problems, fired)
}

/// Every clean follow-up of the bundled cassettes, with every mutation at every call index:
/// the problems, and the rules that fired. Computed once.
pub fn fixture_mutations() -> &'static (Vec<String>, BTreeSet<&'static str>, usize) {
    static OUTCOME: OnceLock<(Vec<String>, BTreeSet<&'static str>, usize)> = OnceLock::new();
    OUTCOME.get_or_init(|| {
        let mut problems = Vec::new();
        let mut fired = BTreeSet::new();
        let mut follow_ups = 0;
        for path in fixture_files() {
            let cassette = load_path(&path);
            for k in 1..cassette.turns.len() {
                let Some(f) = FollowUp::parse(&cassette, k) else {
                    continue;
                };
                follow_ups += 1;
                for i in 0..f.n().max(f.thinking.len()) {
                    for d in 0..f.n() {
                        let (p, r) = run_mutations(&cassette, &f, [i, d, i + d]);
                        problems.extend(p);
                        fired.extend(r);
                    }
                }
            }
        }
        problems.sort();
        problems.dedup();
        (problems, fired, follow_ups)
    })
}

#[test]
fn every_mutation_of_every_bundled_follow_up_fires_exactly_its_rules_with_the_providers_answer() {
    let (problems, _, follow_ups) = fixture_mutations();
    assert!(
        *follow_ups >= 20,
        "only {follow_ups} clean follow-ups in fixtures/"
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn every_mutation_of_a_generated_follow_up_fires_exactly_its_rules(
        generated in any_cassette(),
        pick in any::<usize>(),
        params in any::<[usize; 3]>(),
    ) {
        let cassette = Arc::new(generated.cassette());
        let k = 1 + pick % generated.turns.len();
        let f = FollowUp::parse(&cassette, k).expect("a generated follow-up has the canonical shape");
        let (problems, _) = run_mutations(&cassette, &f, params);
        prop_assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    }
}

#[test]
fn every_provider_has_its_mutations() {
    let mutated: Vec<Provider> = MUTATORS.iter().map(|m| m.provider()).collect();
    assert_eq!(
        mutated,
        Provider::ALL,
        "add the new provider's mutator to oracle::mutation::MUTATORS"
    );
}
