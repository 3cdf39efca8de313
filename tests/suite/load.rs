//! A bounded loopback load test (issue 11): 256 concurrent loops on one server, on the same and
//! on different cassettes, with and without the `tooltape-call-id` header, on session prefixes
//! and on the bare URLs of a one-cassette server and of a server with every bundled cassette
//! (JSON and stream twins among them, told apart by the mode the loop asks for). Zero errors,
//! zero cross-talk (each cassette's findings are those of one loop alone), and the report's
//! request counts equal what was sent.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use tooltape::cassette::Cassette;
use tooltape::server::{Replay, ReplayServer};

use crate::support::{fixture_files, load, load_path};

/// A loop that sends the cassette's recorded requests in order and, between them, runs each
/// turn's calls through the tool endpoints the way a correct loop does: independent calls at
/// once, `sequential` tools one at a time in call order. Returns the model requests sent, or
/// what went wrong.
async fn recorded_loop(
    client: &reqwest::Client,
    base: &str,
    cassette: &Cassette,
    call_ids: bool,
) -> Result<u64, String> {
    let codec = cassette.provider().codec();
    let mut sent = 0;
    for (k, interaction) in cassette.file.interactions.iter().enumerate() {
        let mut req = client
            .post(format!("{base}{}", cassette.provider().endpoint()))
            .json(&interaction.request.body);
        for (name, value) in codec.client_headers() {
            req = req.header(name, value);
        }
        let reply = req.send().await.map_err(|e| format!("turn {k}: {e}"))?;
        sent += 1;
        let status = reply.status().as_u16();
        let body = reply.bytes().await.map_err(|e| format!("turn {k}: {e}"))?;
        if status != interaction.response.status {
            return Err(format!(
                "turn {k}: status {status}, recorded {}: {}",
                interaction.response.status,
                String::from_utf8_lossy(&body)
            ));
        }
        let calls = cassette.calls(k);
        let tool = |call: &tooltape::transcript::ToolCall| {
            let mut req = client
                .post(format!("{base}/tools/{}", call.name))
                .body(call.arguments.clone());
            if call_ids {
                req = req.header("tooltape-call-id", call.id.clone());
            }
            let expected = if cassette.tool(&call.name).fails.is_some() {
                500
            } else {
                200
            };
            let id = call.id.clone();
            async move {
                let reply = req.send().await.map_err(|e| format!("tool {id}: {e}"))?;
                let status = reply.status().as_u16();
                let text = reply.text().await.unwrap_or_default();
                if status == expected {
                    Ok(())
                } else {
                    Err(format!("tool {id}: status {status}: {text}"))
                }
            }
        };
        let (sequential, independent): (Vec<_>, Vec<_>) = calls
            .iter()
            .partition(|c| cassette.tool(&c.name).sequential);
        let together = join_all(independent.iter().map(|c| tool(c)));
        let in_order = async {
            for c in &sequential {
                tool(c).await?;
            }
            Ok::<(), String>(())
        };
        let (together, in_order) = tokio::join!(together, in_order);
        together.into_iter().collect::<Result<Vec<()>, String>>()?;
        in_order?;
    }
    Ok(sent)
}

fn cassettes() -> Vec<Arc<Cassette>> {
    fixture_files()
        .iter()
        .map(|p| load_path(p))
        .filter(|c| c.file.tools.values().all(|t| !t.hangs))
        .collect()
}

fn server_replay(cassettes: &[Arc<Cassette>]) -> (Arc<Replay>, Vec<String>) {
    // A long grace: 256 loops on two loaded cores must not time out waiting for a turn's calls.
    let replay = Arc::new(Replay::new().with_barrier(Some(Duration::from_secs(30))));
    let ids = replay.add_sessions(cassettes);
    (replay, ids)
}

async fn bind(replay: Arc<Replay>) -> ReplayServer {
    ReplayServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), replay)
        .await
        .unwrap()
}

/// The rules each cassette's findings name when one loop runs alone.
async fn alone(cassette: &Arc<Cassette>) -> BTreeSet<&'static str> {
    let (replay, ids) = server_replay(std::slice::from_ref(cassette));
    let server = bind(replay).await;
    let client = reqwest::Client::new();
    recorded_loop(&client, &server.session_url(&ids[0]), cassette, true)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", cassette.name()));
    server
        .replay()
        .findings(&ids[0])
        .iter()
        .map(|f| f.rule)
        .collect()
}

/// Rules judged from the tool spans of a session.
const TIMING_RULES: [&str; 2] = ["TT008", "TT015"];

/// After `loops` loops dealt out in turn over `ran` (session ids `ids`, in the same order):
/// each cassette's report counts every request its loops sent, and its findings are those of
/// one loop alone (`baseline`).
async fn assert_each_loop_reached_its_own(
    server: &ReplayServer,
    ran: &[Arc<Cassette>],
    ids: &[&String],
    baseline: &[BTreeSet<&'static str>],
    loops: usize,
) {
    let report = server.verify().await;
    for (n, (c, id)) in ran.iter().zip(ids).enumerate() {
        let runs = (0..loops).filter(|i| i % ran.len() == n).count() as u64;
        let entry = report
            .cassettes
            .iter()
            .find(|r| r.name == c.name() && r.provider == c.provider().name())
            .unwrap();
        assert_eq!(
            entry.requests,
            Some(runs * c.turns.len() as u64),
            "{}: every request reached its own cassette",
            c.name()
        );
        // The loops of one cassette share its session and send the same call ids, so their
        // tool spans mix: the timing rules (TT008, TT015) judge one loop per session and are
        // left out here. Every other finding must be that of one loop alone.
        let untimed = |rules: &BTreeSet<&'static str>| -> BTreeSet<&'static str> {
            rules
                .iter()
                .copied()
                .filter(|r| !TIMING_RULES.contains(r))
                .collect()
        };
        let rules: BTreeSet<&'static str> = server
            .replay()
            .findings(id)
            .iter()
            .map(|f| f.rule)
            .collect();
        assert_eq!(
            untimed(&rules),
            untimed(&baseline[n]),
            "{}: under load the findings are those of one loop alone",
            c.name()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_fifty_six_concurrent_loops_get_no_error_and_no_cross_talk() {
    let cassettes = cassettes();
    let baseline: Vec<BTreeSet<&str>> = join_all(cassettes.iter().map(alone)).await;
    let (replay, ids) = server_replay(&cassettes);
    let server = bind(replay).await;
    let client = reqwest::Client::new();
    let loops = 256;
    let outcomes = join_all((0..loops).map(|i| {
        let c = &cassettes[i % cassettes.len()];
        let base = server.session_url(&ids[i % cassettes.len()]);
        let client = client.clone();
        async move { recorded_loop(&client, &base, c, i % 2 == 0).await }
    }))
    .await;
    let errors: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(errors.is_empty(), "{} errors: {errors:#?}", errors.len());
    let ids: Vec<&String> = ids.iter().collect();
    assert_each_loop_reached_its_own(&server, &cassettes, &ids, &baseline, loops).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_sharing_a_session_without_call_ids_are_each_matched_to_their_own_turn() {
    let cassette = load("anthropic/handmade-three-turns.json");
    let (replay, _) = server_replay(std::slice::from_ref(&cassette));
    let server = bind(replay).await;
    let client = reqwest::Client::new();
    let outcomes = join_all((0..64).map(|i| {
        let (client, cassette, base) = (client.clone(), cassette.clone(), server.url());
        async move {
            tokio::time::sleep(Duration::from_millis(7 * (i % 8))).await;
            recorded_loop(&client, &base, &cassette, false).await
        }
    }))
    .await;
    let errors: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(errors.is_empty(), "{} errors: {errors:#?}", errors.len());
    let report = server.verify().await;
    assert!(report.is_conformant(), "{report}");
    assert_eq!(
        report.cassettes[0].requests,
        Some(64 * cassette.turns.len() as u64)
    );
}

/// The cassettes of `cassettes` that a loop on the bare URLs reaches unambiguously: no other
/// cassette of the same provider starts with the same prompt in the same mode (twins recorded
/// as JSON and as a stream are told apart by the mode the loop asks for), and no other served
/// one of its call ids (ids by position, as Gemini's, repeat: such loops need session URLs).
fn told_apart_on_bare_urls(cassettes: &[Arc<Cassette>]) -> Vec<Arc<Cassette>> {
    let ids_unique = |c: &Cassette| {
        (0..c.turns.len()).all(|k| {
            c.calls(k).iter().all(|call| {
                cassettes
                    .iter()
                    .filter(|o| o.turn_of_call(&call.id).is_some())
                    .count()
                    == 1
            })
        })
    };
    let key = |c: &Cassette| (c.provider(), c.prompt().trim().to_owned(), c.streaming());
    cassettes
        .iter()
        .filter(|c| cassettes.iter().filter(|o| key(o) == key(c)).count() == 1)
        .filter(|c| ids_unique(c))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_on_the_bare_urls_of_a_server_with_every_cassette_reach_their_own() {
    // `serve fixtures/` with every loop on the bare URLs: the first request is matched by its
    // prompt and mode, each follow-up by the calls it echoes, each tool call by its call id.
    let all = cassettes();
    let reached = told_apart_on_bare_urls(&all);
    let twins = reached
        .iter()
        .filter(|c| {
            reached.iter().any(|o| {
                o.provider() == c.provider()
                    && o.prompt().trim() == c.prompt().trim()
                    && o.name() != c.name()
            })
        })
        .count();
    assert!(
        reached.len() >= 20 && twins >= 4,
        "the test needs many cassettes, twins among them: {} reached, {twins} twins",
        reached.len()
    );
    assert!(
        reached
            .iter()
            .any(|c| c.name() == "openinference-parallel2-previous_response_id"),
        "a stateful continuation (no prompt, a previous response id) is among the loops"
    );
    let baseline: Vec<BTreeSet<&str>> = join_all(reached.iter().map(alone)).await;
    let (replay, ids) = server_replay(&all);
    let server = bind(replay).await;
    let client = reqwest::Client::new();
    let loops = 256;
    let outcomes = join_all((0..loops).map(|i| {
        let c = &reached[i % reached.len()];
        let (client, base) = (client.clone(), server.url());
        async move {
            recorded_loop(&client, &base, c, true)
                .await
                .map_err(|e| format!("{}: {e}", c.name()))
        }
    }))
    .await;
    let errors: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(errors.is_empty(), "{} errors: {errors:#?}", errors.len());
    let ids: Vec<&String> = reached
        .iter()
        .map(|c| &ids[all.iter().position(|a| a.name() == c.name()).unwrap()])
        .collect();
    assert_each_loop_reached_its_own(&server, &reached, &ids, &baseline, loops).await;
}
