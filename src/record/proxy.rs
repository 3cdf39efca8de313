//! The recording proxy: a loopback server that forwards every request to an upstream,
//! streams each response back chunk by chunk as it arrives (so the client sees the upstream's
//! timing), keeps what passed, and writes the cassette through the same path as the import
//! (provider found per request, redaction, last scan, atomic write) when a conversation ends
//! and on [`Recorder::save`] (Ctrl-C). The time between a response with calls and the next
//! request becomes the tools' latency; the time before each stream frame is kept.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use regex::Regex;
use tokio::net::TcpListener;

use super::conversation;
use super::error::ImportErrorKind;
use super::exchange::{Exchange, Payload, Timing};
use super::import::{ImportOptions, Imported, Origin, import_exchanges};
use super::write::write_atomic;
use crate::provider::sse;

type Body = BoxBody<Bytes, Infallible>;

/// Headers that belong to one hop, not to the request or response.
const HOP_BY_HOP: [&str; 10] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
    "accept-encoding",
];

/// How to record.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The upstream base URL (`https://api.openai.com`); request paths are appended.
    pub upstream: String,
    /// The cassette to write; further conversations go to `{stem}-2.json`, ….
    pub out: PathBuf,
    /// Replace a cassette that exists.
    pub force: bool,
    /// More patterns to scrub (`--redact`).
    pub redact: Vec<Regex>,
}

/// What the recorder tells its user: each cassette written, each write that failed.
pub type Notify = Box<dyn Fn(String) + Send + Sync>;

/// The recording proxy's state.
pub struct Recorder {
    options: RecordOptions,
    client: reqwest::Client,
    clock: Instant,
    exchanges: Mutex<Vec<Exchange>>,
    saving: tokio::sync::Mutex<()>,
    notify: Notify,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder; `notify` hears of every cassette written.
    ///
    /// # Errors
    /// The cassette exists and `force` is not set.
    pub fn new(options: RecordOptions, notify: Notify) -> Result<Self, ImportErrorKind> {
        if !options.force && options.out.exists() {
            return Err(ImportErrorKind::Exists(options.out.clone()));
        }
        Ok(Self {
            options,
            client: reqwest::Client::new(),
            clock: Instant::now(),
            exchanges: Mutex::new(Vec::new()),
            saving: tokio::sync::Mutex::new(()),
            notify,
        })
    }

    fn ms(&self) -> f64 {
        self.clock.elapsed().as_secs_f64() * 1000.0
    }

    /// Serves on `listener` until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let recorder = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let recorder = recorder.clone();
                    async move { Ok::<_, Infallible>(recorder.forward(req).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    async fn forward(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let request_ms = self.ms();
        let (parts, body) = req.into_parts();
        let body = match body.collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    &format!("cannot read the request body: {e}"),
                );
            }
        };
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let url = format!(
            "{}{path_and_query}",
            self.options.upstream.trim_end_matches('/')
        );
        let request_headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let mut upstream = self.client.request(parts.method.clone(), &url);
        for (k, v) in &request_headers {
            upstream = upstream.header(k, v);
        }
        let sent_ms = self.ms();
        let response = match upstream.body(body.clone()).send().await {
            Ok(r) => r,
            Err(e) => {
                let mut why = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    why.push_str(&format!(": {c}"));
                    cause = c.source();
                }
                return problem(
                    StatusCode::BAD_GATEWAY,
                    &format!("tooltape record cannot reach the upstream `{url}`: {why}"),
                );
            }
        };
        let status = response.status();
        let response_headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(k, _)| !HOP_BY_HOP.contains(&k.as_str()))
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
        let recorder = self.clone();
        let mut chunks = response.bytes_stream();
        let exchange = Exchange {
            method: parts.method.as_str().to_owned(),
            url: path_and_query,
            request_headers,
            request: Some(Payload::Bytes {
                bytes: body.to_vec(),
                base64: false,
            }),
            status: status.as_u16(),
            response_headers: response_headers.clone(),
            response: Payload::Empty,
            timing: None,
            notes: Vec::new(),
        };
        tokio::spawn(async move {
            let mut received = Vec::new();
            let mut arrivals: Vec<(usize, f64)> = Vec::new();
            let mut client_gone = false;
            while let Some(chunk) = chunks.next().await {
                let Ok(chunk) = chunk else { break };
                received.extend_from_slice(&chunk);
                arrivals.push((received.len(), recorder.ms()));
                if !client_gone && tx.send(chunk).await.is_err() {
                    client_gone = true;
                }
            }
            drop(tx);
            let end = recorder.ms();
            let frame_delays_ms = frame_delays(&received, &arrivals, sent_ms);
            let mut exchange = exchange;
            exchange.response = Payload::Bytes {
                bytes: received,
                base64: false,
            };
            exchange.timing = Some(Timing {
                request_ms,
                response_end_ms: end,
                frame_delays_ms,
            });
            recorder.finished(exchange).await;
        });
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|chunk| (Ok::<_, Infallible>(Frame::data(chunk)), rx))
        });
        let mut out = Response::new(BodyExt::boxed(StreamBody::new(stream)));
        *out.status_mut() =
            StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        for (k, v) in &response_headers {
            if let (Ok(k), Ok(v)) = (
                hyper::header::HeaderName::from_bytes(k.as_bytes()),
                hyper::header::HeaderValue::from_str(v),
            ) {
                out.headers_mut().append(k, v);
            }
        }
        out
    }

    /// Keeps a finished exchange; a final answer (a response with no tool calls) ends a
    /// conversation, and the cassettes are written.
    async fn finished(&self, exchange: Exchange) {
        let ends = conversation::provider_calls(std::slice::from_ref(&exchange))
            .ok()
            .and_then(|c| c.calls.into_iter().next())
            .is_some_and(|call| call.turn.tool_calls().next().is_none());
        self.exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(exchange);
        if ends && let Err(e) = self.save().await {
            (self.notify)(format!("error: {e}"));
        }
    }

    /// How many exchanges passed through.
    #[must_use]
    pub fn exchanges(&self) -> usize {
        self.exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Writes every conversation recorded so far (one that ends with tool calls completed as
    /// the import completes it); returns the files written.
    ///
    /// # Errors
    /// Nothing recorded is a provider call, a key-shaped string is left, or a file cannot be
    /// written.
    pub async fn save(&self) -> Result<Vec<PathBuf>, ImportErrorKind> {
        let _one_at_a_time = self.saving.lock().await;
        let exchanges = self
            .exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let out = &self.options.out;
        let stem = out
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "recording".to_owned());
        let origin = Origin {
            path: self.options.upstream.clone(),
            stem: stem.clone(),
            format: "tooltape record".to_owned(),
        };
        let options = ImportOptions {
            redact: self.options.redact.clone(),
            request: None,
        };
        let cassettes = import_exchanges(&exchanges, &origin, &options)?;
        let mut written = Vec::new();
        for (i, mut c) in cassettes.into_iter().enumerate() {
            let (name, path) = if i == 0 {
                (stem.clone(), out.clone())
            } else {
                let name = format!("{stem}-{}", i + 1);
                (name.clone(), out.with_file_name(format!("{name}.json")))
            };
            c.file.name = name;
            write_atomic(&path, &c.to_json(), true)?;
            (self.notify)(summary(&path, &c));
            written.push(path);
        }
        Ok(written)
    }
}

fn summary(path: &Path, c: &Imported) -> String {
    format!(
        "wrote {} ({}, {} interactions{})",
        path.display(),
        c.file.provider,
        c.file.interactions.len(),
        match c.synthetic() {
            0 => String::new(),
            n => format!(", {n} synthetic"),
        }
    )
}

/// The milliseconds before each SSE frame since the previous one (the first since `start`),
/// from when the chunk that completed it arrived. Empty when the body is not a stream.
fn frame_delays(body: &[u8], arrivals: &[(usize, f64)], start: f64) -> Vec<u64> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Vec::new();
    };
    if !super::exchange::looks_like_sse(text) {
        return Vec::new();
    }
    let mut delays = Vec::new();
    let mut end = 0;
    let mut previous = start;
    for frame in sse::split_frames(text) {
        end += frame.len();
        let at = arrivals
            .iter()
            .find(|(upto, _)| *upto >= end)
            .map_or(previous, |(_, ms)| *ms);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a non-negative duration in milliseconds, rounded"
        )]
        delays.push((at - previous).max(0.0).round() as u64);
        previous = at;
    }
    delays
}

fn problem(status: StatusCode, message: &str) -> Response<Body> {
    let body = serde_json::json!({"error": {"message": message, "type": "tooltape_record"}});
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_frame_is_timed_by_the_chunk_that_completed_it() {
        let body = b"data: 1\n\ndata: 2\n\ndata: 3\n\n";
        let arrivals = [(9, 110.0), (20, 300.0), (27, 510.0)];
        assert_eq!(frame_delays(body, &arrivals, 100.0), [10, 190, 210]);
        assert!(frame_delays(b"{}", &[(2, 1.0)], 0.0).is_empty());
    }
}
