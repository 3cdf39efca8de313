//! The helpers of `scripts/bench.py`, which measures tooltape side by side with its peers.
//!
//! Not a benchmark by itself (`cargo bench` runs it without arguments, and it only prints
//! this usage); the script builds it with `cargo build --release --bench peers` and runs:
//!
//! - `peers bare PORT JSON_CASSETTE JSON_TURN SSE_CASSETTE SSE_TURN`: a bare hyper server
//!   (the machine's limit) that reads each request's body and answers the recorded bytes of
//!   a cassette turn, nothing else: `POST /v1/messages` gets the JSON turn, `POST
//!   /v1/chat/completions` the streamed turn, one HTTP chunk per recorded frame.
//! - `peers cassettes COUNT DIR`: writes COUNT random correct cassettes (the suite's
//!   generators, `tests/suite/generators/`, from a fixed seed) into DIR, every tool at 1 ms of
//!   latency, so timing `tooltape run DIR` measures the harness rather than simulated sleeps.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, header};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tooltape::Cassette;
use tooltape::cassette::ResponseBody;

#[path = "../tests/suite/generators/mod.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "the suite's generators, of which this binary uses only the cassette writer"
)]
mod generators;

const USAGE: &str = "usage (see scripts/bench.py):
  peers bare PORT JSON_CASSETTE JSON_TURN SSE_CASSETTE SSE_TURN
  peers cassettes COUNT DIR";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match words.as_slice() {
        ["bare", port, json, json_turn, sse, sse_turn] => {
            bare(port, (json, json_turn), (sse, sse_turn))
        }
        ["cassettes", count, dir] => cassettes(count, Path::new(dir)),
        _ => {
            println!("{USAGE}");
            Ok(())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("peers: {message}");
            ExitCode::from(2)
        }
    }
}

type Body = BoxBody<Bytes, Infallible>;

/// The recorded response of turn `turn` (1-based) of the cassette at `path`.
fn recorded(path: &str, turn: &str) -> Result<ResponseBody, String> {
    let cassette = Cassette::load(path).map_err(|e| e.to_string())?;
    let n: usize = turn
        .parse()
        .map_err(|_| format!("turn `{turn}` is not a number"))?;
    cassette
        .turns
        .get(n.wrapping_sub(1))
        .map(|t| t.response.body.clone())
        .ok_or_else(|| format!("`{path}` has no turn {n}"))
}

fn bare(port: &str, json: (&str, &str), sse: (&str, &str)) -> Result<(), String> {
    let port: u16 = port.parse().map_err(|_| format!("bad port `{port}`"))?;
    let json = match recorded(json.0, json.1)? {
        ResponseBody::Json { text } => Bytes::from(text),
        ResponseBody::Sse { .. } => return Err("the JSON turn is a stream".into()),
    };
    let frames: Vec<Bytes> = match recorded(sse.0, sse.1)? {
        ResponseBody::Sse { frames } => frames.into_iter().map(Bytes::from).collect(),
        ResponseBody::Json { .. } => return Err("the streamed turn is JSON".into()),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .map_err(|e| format!("cannot bind port {port}: {e}"))?;
        println!(
            "listening on {}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (json, frames) = (json.clone(), frames.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (json, frames) = (json.clone(), frames.clone());
                    async move {
                        let streamed = req.uri().path().ends_with("/chat/completions");
                        let _ = req.into_body().collect().await;
                        Ok::<_, Infallible>(if streamed {
                            stream_of(frames)
                        } else {
                            json_of(json)
                        })
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

fn json_of(body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body).boxed());
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

fn stream_of(frames: Vec<Bytes>) -> Response<Body> {
    let chunks = futures::stream::iter(frames.into_iter().map(|f| Ok(Frame::data(f))));
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(chunks)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    r
}

fn cassettes(count: &str, dir: &Path) -> Result<(), String> {
    use proptest::strategy::{Strategy, ValueTree};
    let count: usize = count.parse().map_err(|_| format!("bad count `{count}`"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for i in 0..count {
        let mut generated = generators::any_cassette()
            .new_tree(&mut runner)
            .map_err(|e| e.to_string())?
            .current();
        for sim in generated.file.tools.values_mut() {
            sim.latency_ms = Some(1);
        }
        generated.file.name = format!("{}-{i:04}", generated.file.name);
        let text = serde_json::to_string_pretty(&generated.file).map_err(|e| e.to_string())?;
        let path = dir.join(format!("{i:04}.json"));
        std::fs::write(&path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    println!("wrote {count} cassettes to {}", dir.display());
    Ok(())
}
