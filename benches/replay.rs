//! Replay throughput and latency, side by side with a bare hyper server serving the same bytes.
//!
//! `cargo bench --bench replay [-- SECONDS]` (default 5 s per scenario). Scenarios, each at 64
//! concurrent connections over loopback:
//! - `bare-json`: hyper answering the 4-call cassette's final response bytes, no logic;
//! - `replay-json`: tooltape judging the 4-call follow-up (decode, all rules, journal) and
//!   answering the recorded response;
//! - `bare-sse` / `replay-sse`: the same for a streamed first response (frame by frame).
//!
//! The load generator runs in the same process, so the figures are relative: what matters is
//! the replay's cost against the bare server on the same machine. Also prints the process's
//! resident memory after each scenario (the journal is bounded, so it stays flat).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tooltape::Cassette;
use tooltape::server::{Replay, ReplayServer};

const CONNECTIONS: usize = 64;

async fn bare(body: Bytes, content_type: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        let mut r = Response::new(Full::new(body));
                        r.headers_mut()
                            .insert("content-type", content_type.parse().unwrap());
                        Ok::<_, Infallible>(r)
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

struct Figures {
    requests: usize,
    per_second: f64,
    p50_us: u128,
    p99_us: u128,
}

async fn load(
    url: String,
    body: Vec<u8>,
    headers: Vec<(&'static str, &'static str)>,
    seconds: u64,
) -> Figures {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let body = Bytes::from(body);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, url, body, headers) =
                (client.clone(), url.clone(), body.clone(), headers.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let mut req = client
                        .post(&url)
                        .body(body.clone())
                        .header("content-type", "application/json");
                    for (k, v) in &headers {
                        req = req.header(*k, *v);
                    }
                    let response = req.send().await.expect("request");
                    assert_eq!(
                        response.status(),
                        200,
                        "{}",
                        response.text().await.unwrap_or_default()
                    );
                    let _ = response.bytes().await.expect("body");
                    latencies.push(t.elapsed().as_micros());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    Figures {
        requests: all.len(),
        per_second: all.len() as f64 / elapsed,
        p50_us: all[all.len() / 2],
        p99_us: all[all.len() * 99 / 100],
    }
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn report(name: &str, f: &Figures) {
    println!(
        "{name:<12} {:>9.0} req/s  p50 {:>6} us  p99 {:>6} us  ({} requests, RSS {:.0} MiB)",
        f.per_second,
        f.p50_us,
        f.p99_us,
        f.requests,
        rss_mib()
    );
}

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let json =
            Cassette::load(root.join("anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json"))
                .unwrap();
        let sse =
            Cassette::load(root.join("anthropic/fantasy-sonnet-4-parallel2-followup-stream.json"))
                .unwrap();
        let replay = Arc::new(Replay::new());
        replay.add_session("json", Arc::new(json.clone()));
        replay.add_session("sse", Arc::new(sse.clone()));
        let server = ReplayServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), replay)
            .await
            .unwrap();
        let headers = vec![("x-api-key", "k"), ("anthropic-version", "2023-06-01")];

        let followup = serde_json::to_vec(&json.file.interactions[1].request.body).unwrap();
        let json_bytes = match &json.turns[1].response.body {
            tooltape::cassette::ResponseBody::Json { text } => Bytes::from(text.clone()),
            tooltape::cassette::ResponseBody::Sse { .. } => unreachable!(),
        };
        let first = serde_json::to_vec(&sse.file.interactions[0].request.body).unwrap();
        let sse_bytes = match &sse.turns[0].response.body {
            tooltape::cassette::ResponseBody::Sse { frames } => Bytes::from(frames.concat()),
            tooltape::cassette::ResponseBody::Json { .. } => unreachable!(),
        };
        println!("{CONNECTIONS} connections, {seconds} s per scenario");
        let bare_json = bare(json_bytes, "application/json").await;
        report(
            "bare-json",
            &load(
                format!("http://{bare_json}/v1/messages"),
                followup.clone(),
                headers.clone(),
                seconds,
            )
            .await,
        );
        report(
            "replay-json",
            &load(
                format!("{}/v1/messages", server.session_url("json")),
                followup,
                headers.clone(),
                seconds,
            )
            .await,
        );
        let bare_sse = bare(sse_bytes, "text/event-stream").await;
        report(
            "bare-sse",
            &load(
                format!("http://{bare_sse}/v1/messages"),
                first.clone(),
                headers.clone(),
                seconds,
            )
            .await,
        );
        report(
            "replay-sse",
            &load(
                format!("{}/v1/messages", server.session_url("sse")),
                first,
                headers,
                seconds,
            )
            .await,
        );
    });
}
