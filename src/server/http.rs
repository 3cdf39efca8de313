//! The standalone transport: a multi-threaded hyper server on loopback.
//!
//! Routes: `POST /v1/chat/completions`, `POST /v1/messages`, `POST /tools/{name}`, the same
//! below a session prefix `/s/{session}`, and `GET /` (what this server replays). Streams are written frame by frame,
//! yielding between frames so each recorded frame leaves in its own write.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::replay::{Replay, Reply};
use crate::cassette::Cassette;
use crate::provider::{Provider, RequestMeta};

type Body = BoxBody<Bytes, Infallible>;

/// A running replay server. Dropping it stops the server.
#[derive(Debug)]
pub struct ReplayServer {
    addr: SocketAddr,
    replay: Arc<Replay>,
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

    /// Starts a server on `addr` for an existing replay state.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub async fn bind(addr: SocketAddr, replay: Arc<Replay>) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = replay.clone();
        let task = tokio::spawn(accept_loop(listener, state));
        Ok(Self { addr, replay, task })
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

async fn accept_loop(listener: TcpListener, replay: Arc<Replay>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let replay = replay.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let replay = replay.clone();
                async move { Ok::<_, Infallible>(route(&replay, req).await) }
            });
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
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

async fn route(replay: &Replay, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let (session, rest) = split_session(&path);
    let session = session.map(str::to_owned);
    if req.method() == Method::GET && rest == "/" {
        return text(StatusCode::OK, &index(replay));
    }
    if let Some(name) = rest.strip_prefix("/tools/") {
        return tool(replay, session.as_deref(), name.to_owned(), req).await;
    }
    let Some((provider, _route)) = Provider::route(req.method().as_str(), rest, req.uri().query())
        .or_else(|| Provider::route("POST", rest, req.uri().query()))
    else {
        return text(
            StatusCode::NOT_FOUND,
            &format!(
                "tooltape: no route `{rest}`; model endpoints are {} (optionally below /s/{{session}})\n",
                Provider::ALL
                    .iter()
                    .map(|p| format!("POST {}", p.endpoint()))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        );
    };
    if req.method() != Method::POST {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "tooltape: model endpoints take POST\n",
        );
    }
    let meta = RequestMeta::from_headers(req.headers());
    let body = match read_body(req, replay.limits().max_body).await {
        Ok(b) => b,
        Err(response) => return response,
    };
    respond(replay.handle_model(session.as_deref(), provider, meta, &body))
}

async fn tool(
    replay: &Replay,
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
    let reply = replay
        .handle_tool(session, &name, call_id.as_deref(), &body)
        .await;
    let mut r = Response::new(Full::new(reply.body).boxed());
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

fn index(replay: &Replay) -> String {
    let mut out = String::from("tooltape replay server\n");
    for (id, c) in replay.sessions() {
        out.push_str(&format!("/s/{id}  {}  {}\n", c.provider(), c.name()));
    }
    out
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_owned())).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn respond(reply: Reply) -> Response<Body> {
    match reply {
        Reply::Json { status, body } => {
            let mut r = Response::new(Full::new(body).boxed());
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            r
        }
        Reply::Sse { frames } => {
            let stream = FrameStream {
                frames,
                next: 0,
                yielded: false,
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
    }
}

/// Yields the recorded frames one at a time, returning `Pending` once between frames so hyper
/// flushes each frame as its own write.
struct FrameStream {
    frames: Arc<[Bytes]>,
    next: usize,
    yielded: bool,
}

impl futures::Stream for FrameStream {
    type Item = Result<Frame<Bytes>, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.next >= self.frames.len() {
            return Poll::Ready(None);
        }
        if self.next > 0 && !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.yielded = false;
        let frame = self.frames[self.next].clone();
        self.next += 1;
        Poll::Ready(Some(Ok(Frame::data(frame))))
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
