//! The standalone transport: a multi-threaded hyper server on loopback.
//!
//! Routes: `POST /v1/chat/completions`, `POST /v1/messages`, `POST /tools/{name}`, the MCP
//! server `/mcp` (see `mcp`), the same below a session prefix `/s/{session}`, and `GET /` (what
//! this server replays). Streams keep the recorded frame boundaries: each frame is its own HTTP
//! chunk; frames that are ready together may leave in one write, and paced streams wait
//! before each frame.
//!
//! Hostile clients are kept in bounds ([`Limits`](super::Limits)): bodies over the cap get 413, request heads
//! must arrive within the header timeout and quiet connections are closed (see `conn`), the
//! accept loop backs off when the process runs out of file descriptors instead of spinning,
//! requests naming a non-loopback `Host` get 403 unless allowed ([`HostPolicy`]), and a large
//! request is judged on a bounded pool of blocking threads, so one client sending huge bodies
//! cannot stall the async workers that answer every other loop.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::conn::{Activity, HostPolicy, Watched};
use super::mcp::{self, MCP_PATH, McpEndpoint};
use super::replay::Replay;
use super::reply::Reply;
use crate::cassette::Cassette;
use crate::provider::{Provider, RequestMeta};

type Body = BoxBody<Bytes, std::io::Error>;

/// Request bodies up to this size are judged on the async worker that read them (judging is
/// linear in the body, so this takes microseconds); larger ones on the blocking pool.
const INLINE_JUDGING: usize = 64 * 1024;

/// The longest pause of the accept loop after an error such as running out of file
/// descriptors (`EMFILE`); the pause doubles from 10 ms while errors repeat.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// What the server counts about its connections.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    accepted: AtomicU64,
    accept_errors: AtomicU64,
    refused_hosts: AtomicU64,
}

impl ConnectionStats {
    /// Connections accepted.
    #[must_use]
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Failed `accept` calls (e.g. out of file descriptors), each followed by a pause.
    #[must_use]
    pub fn accept_errors(&self) -> u64 {
        self.accept_errors.load(Ordering::Relaxed)
    }

    /// Requests refused with 403 for the `Host` they named.
    #[must_use]
    pub fn refused_hosts(&self) -> u64 {
        self.refused_hosts.load(Ordering::Relaxed)
    }
}

/// What every connection's handler shares.
#[derive(Debug)]
struct Shared {
    replay: Arc<Replay>,
    hosts: HostPolicy,
    stats: Arc<ConnectionStats>,
    judging: Arc<Semaphore>,
    mcp: McpEndpoint,
}

/// A running replay server. Dropping it stops the server.
#[derive(Debug)]
pub struct ReplayServer {
    addr: SocketAddr,
    replay: Arc<Replay>,
    stats: Arc<ConnectionStats>,
    task: JoinHandle<()>,
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ReplayServer {
    /// Starts a server on a free loopback port replaying one cassette (session `default`).
    ///
    /// # Panics
    /// When no loopback port can be bound; this is a test-facing API.
    pub async fn start(cassette: Cassette) -> Self {
        let replay = Arc::new(Replay::new());
        replay.add_session("default", Arc::new(cassette));
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0)), replay)
            .await
            .unwrap_or_else(|e| {
                panic!("tooltape: cannot bind a loopback port for the replay server: {e}")
            })
    }

    /// Starts a server on `addr` for an existing replay state, answering loopback `Host`
    /// names only.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub async fn bind(addr: SocketAddr, replay: Arc<Replay>) -> std::io::Result<Self> {
        Self::bind_with_hosts(addr, replay, HostPolicy::default()).await
    }

    /// Starts a server on `addr` for an existing replay state, answering the `Host` names
    /// `hosts` allows.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub async fn bind_with_hosts(
        addr: SocketAddr,
        replay: Arc<Replay>,
        hosts: HostPolicy,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(ConnectionStats::default());
        let pool = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let shared = Arc::new(Shared {
            replay: replay.clone(),
            hosts,
            stats: stats.clone(),
            judging: Arc::new(Semaphore::new(pool)),
            mcp: mcp::endpoint(replay.clone()),
        });
        let task = tokio::spawn(accept_loop(listener, shared));
        Ok(Self {
            addr,
            replay,
            stats,
            task,
        })
    }

    /// What the server counted about its connections.
    #[must_use]
    pub fn stats(&self) -> &ConnectionStats {
        &self.stats
    }

    /// The address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The root URL of one session: `http://127.0.0.1:PORT/s/{session}`.
    #[must_use]
    pub fn session_url(&self, session: &str) -> String {
        format!("{}/s/{session}", self.url())
    }

    /// The MCP server of one session's tools: `http://127.0.0.1:PORT/s/{session}/mcp`.
    #[must_use]
    pub fn session_mcp_url(&self, session: &str) -> String {
        format!("{}{MCP_PATH}", self.session_url(session))
    }

    /// What `OPENAI_BASE_URL` should be for the default session.
    #[must_use]
    pub fn openai_base_url(&self) -> String {
        format!("{}/v1", self.url())
    }

    /// What `ANTHROPIC_BASE_URL` should be for the default session.
    #[must_use]
    pub fn anthropic_base_url(&self) -> String {
        self.url()
    }

    /// The replay state (sessions and journal).
    #[must_use]
    pub fn replay(&self) -> &Arc<Replay> {
        &self.replay
    }

    /// The report for everything sent to this server's sessions so far, judged with the
    /// default profile (call [`crate::report::Report::finish`] with `true` for strict).
    pub async fn verify(&self) -> crate::report::Report {
        let mut report = crate::report::Report::default();
        for (id, cassette) in self.replay.sessions() {
            report
                .cassettes
                .push(self.replay.report(&id, &cassette, Vec::new()));
        }
        report.finish(false)
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut backoff = Duration::ZERO;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) if is_connection_error(&e) => continue,
            Err(_) => {
                shared.stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        backoff = Duration::ZERO;
        shared.stats.accepted.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(stream, shared.clone()));
    }
}

/// Errors of one connection that was already gone when it was accepted: the listener is fine.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

async fn serve_connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let limits = *shared.replay.limits();
    let activity = Activity::new();
    let io = TokioIo::new(Watched::new(stream, activity.clone()));
    let conn_activity = activity.clone();
    let service = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        let activity = conn_activity.clone();
        async move { Ok::<_, Infallible>(route(&shared, &activity, req).await) }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(non_zero(limits.header_timeout))
        .half_close(true);
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection(io, service);
    if limits.idle_timeout.is_zero() {
        let _ = connection.await;
        return;
    }
    tokio::select! {
        _ = connection => {}
        () = activity.idle_for(limits.idle_timeout) => {}
    }
}

fn non_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// Splits `/s/{session}/rest` into the session and `/rest`.
fn split_session(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/s/") {
        match rest.find('/') {
            Some(i) => (Some(&rest[..i]), &rest[i..]),
            None => (Some(rest), "/"),
        }
    } else {
        (None, path)
    }
}

/// The host a request names: its URI authority (HTTP/2, absolute form), else its `Host`.
fn requested_host(req: &Request<Incoming>) -> Option<String> {
    req.uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        })
}

async fn route(
    shared: &Shared,
    activity: &Arc<Activity>,
    req: Request<Incoming>,
) -> Response<Body> {
    let replay = &shared.replay;
    let host = requested_host(&req);
    if !shared.hosts.allows(host.as_deref()) {
        shared.stats.refused_hosts.fetch_add(1, Ordering::Relaxed);
        return text(
            StatusCode::FORBIDDEN,
            &format!(
                "tooltape: this server answers requests for loopback hosts (127.0.0.1, localhost, [::1]) only, not `{}`; start it with --allow-host NAME to answer another (a web page in a browser can send requests to a loopback server, so other names are refused)\n",
                crate::report::escape(host.as_deref().unwrap_or_default())
            ),
        );
    }
    let path = req.uri().path().to_owned();
    let (session, rest) = split_session(&path);
    let session = session.map(str::to_owned);
    if req.method() == Method::GET && rest == "/" {
        return text(StatusCode::OK, &index(replay, &shared.stats));
    }
    if let Some(name) = rest.strip_prefix("/tools/") {
        return tool(replay, activity, session.as_deref(), name.to_owned(), req).await;
    }
    if rest == MCP_PATH {
        let _busy = activity.busy();
        let response = shared.mcp.handle(req, session).await;
        return response.map(|body| body.map_err(|never| match never {}).boxed());
    }
    let Some((provider, route)) = Provider::route(req.method().as_str(), rest, req.uri().query())
        .or_else(|| Provider::route("POST", rest, req.uri().query()))
    else {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let root = match &session {
            Some(s) => format!("http://{host}/s/{s}"),
            None => format!("http://{host}"),
        };
        return respond(replay.handle_unsupported(
            session.as_deref(),
            req.method().as_str(),
            rest,
            &root,
        ));
    };
    if req.method() != Method::POST {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "tooltape: model endpoints take POST\n",
        );
    }
    let meta = RequestMeta::from_headers(req.headers()).with_query(req.uri().query());
    let body = match read_body(req, replay.limits().max_body).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    let _busy = activity.busy();
    if body.len() <= INLINE_JUDGING {
        return deliver(replay.handle_model_routed(
            session.as_deref(),
            provider,
            &route,
            meta,
            &body,
        ))
        .await;
    }
    let Ok(_permit) = shared.judging.clone().acquire_owned().await else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "tooltape: shutting down\n");
    };
    let replay = replay.clone();
    let judged = tokio::task::spawn_blocking(move || {
        replay.handle_model_routed(session.as_deref(), provider, &route, meta, &body)
    })
    .await;
    match judged {
        Ok(reply) => deliver(reply).await,
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("tooltape: judging the request failed: {e}\n"),
        ),
    }
}

async fn tool(
    replay: &Replay,
    activity: &Arc<Activity>,
    session: Option<&str>,
    name: String,
    req: Request<Incoming>,
) -> Response<Body> {
    if req.method() != Method::POST {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "tooltape: tool endpoints take POST with the call's arguments as the JSON body\n",
        );
    }
    let call_id = req
        .headers()
        .get("tooltape-call-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match read_body(req, replay.limits().max_body).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    let _busy = activity.busy();
    let reply = replay
        .handle_tool(session, &name, call_id.as_deref(), &body)
        .await;
    let mut r = Response::new(Full::new(reply.body).map_err(never).boxed());
    *r.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(reply.content_type),
    );
    r
}

/// The request body, or a 413 when it is larger than `max` bytes.
async fn read_body(req: Request<Incoming>, max: usize) -> Result<Bytes, Response<Body>> {
    match http_body_util::Limited::new(req.into_body(), max)
        .collect()
        .await
    {
        Ok(b) => Ok(b.to_bytes()),
        Err(_) => Err(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("tooltape: request body larger than {max} bytes (--max-body)\n"),
        )),
    }
}

fn index(replay: &Replay, stats: &ConnectionStats) -> String {
    let mut out = String::from("tooltape replay server\n");
    for (id, c) in replay.sessions() {
        out.push_str(&format!(
            "/s/{id}  {}  {}  requests: {}\n",
            c.provider(),
            crate::report::escape(c.name()),
            replay.request_count(&id)
        ));
    }
    let journal = replay.journal();
    out.push_str(&format!(
        "connections: {} accepted, {} accept errors; {} requests refused for their Host\njournal: {} entries (~{} bytes), {} dropped\n",
        stats.accepted(),
        stats.accept_errors(),
        stats.refused_hosts(),
        journal.len(),
        journal.bytes(),
        journal.dropped()
    ));
    out
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from(body.to_owned()))
            .map_err(never)
            .boxed(),
    );
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn never(e: Infallible) -> std::io::Error {
    match e {}
}

/// The response for `reply`, after its delay if it has one (a slow first byte).
async fn deliver(reply: Reply) -> Response<Body> {
    match reply {
        Reply::Delayed { delay, reply } => {
            tokio::time::sleep(delay).await;
            Box::pin(deliver(*reply)).await
        }
        other => respond(other),
    }
}

fn respond(reply: Reply) -> Response<Body> {
    match reply {
        Reply::Json { status, body } => json(status, body, &[]),
        Reply::Fault {
            status,
            headers,
            body,
        } => json(status, body, &headers),
        Reply::Sse { frames } => stream(frames, false),
        Reply::Cut { frames } => stream(frames, true),
        Reply::Paced { frames, delays } => paced_stream(frames, delays),
        Reply::Delayed { reply, .. } => respond(*reply),
    }
}

fn json(status: u16, body: Bytes, headers: &[(&'static str, String)]) -> Response<Body> {
    let mut r = Response::new(Full::new(body).map_err(never).boxed());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    for (name, value) in headers {
        if let Ok(value) = header::HeaderValue::from_str(value) {
            h.insert(*name, value);
        }
    }
    r
}

/// A stream of `frames`, each written after its delay.
fn paced_stream(frames: Arc<[Bytes]>, delays: Arc<[Duration]>) -> Response<Body> {
    let frames: Vec<(Bytes, Duration)> =
        frames.iter().cloned().zip(delays.iter().copied()).collect();
    let body = futures::stream::iter(frames).then(|(frame, delay)| async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Ok::<_, std::io::Error>(Frame::data(frame))
    });
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(body)));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    r
}

/// A stream of `frames`; when `cut`, the body then fails, so the connection is closed before
/// the body ends (no final chunk): what a client sees when a stream is cut mid-way.
fn stream(frames: Arc<[Bytes]>, cut: bool) -> Response<Body> {
    let stream = FrameStream {
        frames,
        next: 0,
        yielded: false,
        cut,
    };
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    r
}

/// Yields the recorded frames, each as its own HTTP chunk, all at once (hyper writes the
/// chunks that are ready together in one go); a cut stream returns `Pending` once after its
/// frames, so hyper flushes them, then fails, which makes hyper close the connection without
/// ending the body.
struct FrameStream {
    frames: Arc<[Bytes]>,
    next: usize,
    yielded: bool,
    cut: bool,
}

impl futures::Stream for FrameStream {
    type Item = Result<Frame<Bytes>, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(frame) = self.frames.get(self.next).cloned() {
            self.next += 1;
            return Poll::Ready(Some(Ok(Frame::data(frame))));
        }
        if !self.cut {
            return Poll::Ready(None);
        }
        if self.next > 0 && !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.cut = false;
        Poll::Ready(Some(Err(std::io::Error::other(
            "tooltape: the stream is cut here by a fault",
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::split_session;

    #[test]
    fn a_session_prefix_is_split_off() {
        assert_eq!(
            split_session("/s/abc/v1/messages"),
            (Some("abc"), "/v1/messages")
        );
        assert_eq!(split_session("/v1/messages"), (None, "/v1/messages"));
        assert_eq!(split_session("/s/abc"), (Some("abc"), "/"));
    }
}
