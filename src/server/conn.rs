//! One client connection's guard rails: an idle watchdog over its socket, and which `Host`
//! headers it may name.
//!
//! hyper closes an HTTP/1 connection whose request head does not arrive within the header
//! timeout (idle keep-alive connections included); the watchdog closes any connection that
//! moves no bytes for the idle timeout while the server is not working on one of its requests
//! (a body sent a byte a minute, a client that connects and says nothing, an idle HTTP/2
//! connection). A request the server is still answering, such as a call of a hung tool,
//! keeps its connection open however long it takes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// When a connection last moved bytes, and whether the server is working on one of its
/// requests.
#[derive(Debug)]
pub(super) struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Marks the connection busy until the guard is dropped.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy(self.clone())
    }

    /// Resolves once the connection has been idle (no bytes, not busy) for `idle`.
    pub async fn idle_for(&self, idle: Duration) {
        let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX).max(1);
        loop {
            let quiet = self
                .now_ms()
                .saturating_sub(self.last_ms.load(Ordering::Relaxed));
            if quiet >= idle_ms && self.busy.load(Ordering::Relaxed) == 0 {
                return;
            }
            let wait = if quiet >= idle_ms {
                idle_ms
            } else {
                idle_ms - quiet
            };
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    }
}

/// The server is working on a request of the connection while this lives.
#[derive(Debug)]
pub(super) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A socket that records when it moves bytes.
#[derive(Debug)]
pub(super) struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> Watched<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> Self {
        activity.touch();
        Self { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Which `Host` headers the server answers. A web page can make a browser send requests to
/// a server on loopback, and with DNS rebinding read the answers; such requests carry the
/// page's host name, so by default only loopback names are answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HostPolicy {
    /// `localhost`, `127.0.0.1` (any `127.x.y.z`) and `[::1]`, with any port.
    #[default]
    Loopback,
    /// Loopback names and these host names (without port), compared case-insensitively.
    Also(Vec<String>),
    /// Any host.
    Any,
}

impl HostPolicy {
    /// Whether a request naming `host` (a `Host` header value or URI authority, with or
    /// without port) is answered; a request naming none (HTTP/1.0) is.
    #[must_use]
    pub fn allows(&self, host: Option<&str>) -> bool {
        let Some(host) = host else {
            return true;
        };
        let name = host_name(host);
        match self {
            HostPolicy::Any => true,
            HostPolicy::Loopback => is_loopback_name(name),
            HostPolicy::Also(extra) => {
                is_loopback_name(name) || extra.iter().any(|e| e.eq_ignore_ascii_case(name))
            }
        }
    }
}

/// The host part of `host[:port]` or `[v6]:port`.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn is_loopback_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_hosts_are_answered_by_default() {
        let p = HostPolicy::default();
        for ok in [
            "127.0.0.1:8089",
            "localhost",
            "LOCALHOST:1",
            "[::1]:80",
            "127.1.2.3",
        ] {
            assert!(p.allows(Some(ok)), "{ok}");
        }
        for bad in [
            "evil.example:8089",
            "localhost.evil.example",
            "0.0.0.0:8089",
            "192.168.1.2",
        ] {
            assert!(!p.allows(Some(bad)), "{bad}");
        }
        assert!(p.allows(None), "HTTP/1.0 without Host");
    }

    #[test]
    fn extra_hosts_and_any_host_can_be_allowed() {
        let p = HostPolicy::Also(vec!["host.docker.internal".into()]);
        assert!(p.allows(Some("host.docker.internal:8089")));
        assert!(p.allows(Some("127.0.0.1")));
        assert!(!p.allows(Some("evil.example")));
        assert!(HostPolicy::Any.allows(Some("evil.example")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_is_idle_only_when_quiet_and_not_busy() {
        let activity = Activity::new();
        activity.touch();
        let busy = activity.busy();
        let idle = tokio::spawn({
            let a = activity.clone();
            async move { a.idle_for(Duration::from_secs(10)).await }
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!idle.is_finished(), "a busy connection is never idle");
        drop(busy);
        let start = Instant::now();
        idle.await.unwrap();
        assert!(start.elapsed() >= Duration::from_secs(10));
    }
}
