//! The hyper transport under hostile clients (issue 11): slow or silent connections are closed,
//! foreign `Host` names are refused, half-closed sockets get their answer, huge bodies are
//! judged off the async workers, and the accept loop backs off when file descriptors run out.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tooltape::cassette::{Cassette, ToolSim};
use tooltape::server::{HostPolicy, Limits, Replay, ReplayServer};

use crate::support::load;

const TWO: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";

/// Long enough that a test never waits for it unless something is broken.
const SAFETY: Duration = Duration::from_secs(30);

async fn server(cassette: Arc<Cassette>, limits: Limits, hosts: HostPolicy) -> ReplayServer {
    let replay = Arc::new(Replay::with_limits(limits));
    replay.add_session("s", cassette);
    ReplayServer::bind_with_hosts(SocketAddr::from(([127, 0, 0, 1], 0)), replay, hosts)
        .await
        .unwrap()
}

fn post(path: &str, host: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer sk-test\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// Reads until the server closes the connection; `None` if it stays open for [`SAFETY`].
async fn read_to_close(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(SAFETY, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn first_request(cassette: &Cassette) -> Vec<u8> {
    serde_json::to_vec(&cassette.file.interactions[0].request.body).unwrap()
}

fn short_timeouts() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(200),
        idle_timeout: Duration::from_millis(300),
        ..Limits::default()
    }
}

#[tokio::test]
async fn a_request_head_that_never_finishes_is_closed_at_the_header_timeout() {
    let s = server(load(TWO), short_timeouts(), HostPolicy::default()).await;
    let mut slow = TcpStream::connect(s.addr()).await.unwrap();
    slow.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ")
        .await
        .unwrap();
    assert!(
        read_to_close(&mut slow).await.is_some(),
        "a slowloris head is cut off"
    );
    let mut silent = TcpStream::connect(s.addr()).await.unwrap();
    assert!(
        read_to_close(&mut silent).await.is_some(),
        "a connection that says nothing is closed"
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_its_answer() {
    let cassette = load(TWO);
    let s = server(cassette.clone(), short_timeouts(), HostPolicy::default()).await;
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(&post(
        "/v1/chat/completions",
        "127.0.0.1",
        &first_request(&cassette),
    ))
    .await
    .unwrap();
    let answer = read_to_close(&mut c).await.expect("closed once idle");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn a_call_of_a_hung_tool_keeps_its_connection_past_the_idle_timeout() {
    let mut cassette = (*load(TWO)).clone();
    cassette.file.tools.insert(
        "add".into(),
        ToolSim {
            hangs: true,
            ..ToolSim::default()
        },
    );
    let cassette = Arc::new(cassette);
    let s = server(cassette.clone(), short_timeouts(), HostPolicy::default()).await;
    let reply = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", s.url()))
        .bearer_auth("sk-test")
        .body(first_request(&cassette))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let id = cassette.calls(0)[0].id.clone();
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    let mut req = post("/tools/add", "127.0.0.1", b"{\"a\": 2, \"b\": 3}");
    let at = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    req.splice(at..at, format!("\r\ntooltape-call-id: {id}").into_bytes());
    c.write_all(&req).await.unwrap();
    let mut buf = [0u8; 64];
    let waited = tokio::time::timeout(Duration::from_secs(2), c.read(&mut buf)).await;
    assert!(
        waited.is_err(),
        "the connection stays open (and silent) while its tool hangs: {waited:?}"
    );
}

#[tokio::test]
async fn a_foreign_host_is_refused_unless_allowed() {
    let cassette = load(TWO);
    let body = first_request(&cassette);
    for (policy, host, status) in [
        (HostPolicy::default(), "evil.example:8089", "403"),
        (HostPolicy::default(), "localhost:8089", "200"),
        (
            HostPolicy::Also(vec!["host.docker.internal".into()]),
            "host.docker.internal:8089",
            "200",
        ),
        (HostPolicy::Any, "evil.example", "200"),
    ] {
        let s = server(cassette.clone(), Limits::default(), policy.clone()).await;
        let mut c = TcpStream::connect(s.addr()).await.unwrap();
        let mut req = post("/v1/chat/completions", host, &body);
        req.splice(
            req.windows(4).position(|w| w == b"\r\n\r\n").unwrap()..,
            b"\r\nconnection: close\r\n\r\n".iter().copied(),
        );
        req.extend_from_slice(&body);
        c.write_all(&req).await.unwrap();
        let answer = read_to_close(&mut c).await.unwrap();
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {status}")),
            "{policy:?} {host}: {text}"
        );
        if status == "403" {
            assert!(text.contains("--allow-host"), "{text}");
            assert_eq!(s.stats().refused_hosts(), 1);
            assert_eq!(
                s.replay().request_count("s"),
                0,
                "a refused request judges nothing"
            );
        }
    }
}

#[tokio::test]
async fn a_client_that_half_closes_its_socket_gets_its_answer() {
    let cassette = load(TWO);
    let s = server(cassette.clone(), Limits::default(), HostPolicy::default()).await;
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(&post(
        "/v1/chat/completions",
        "127.0.0.1",
        &first_request(&cassette),
    ))
    .await
    .unwrap();
    c.shutdown().await.unwrap();
    let answer = read_to_close(&mut c).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("call_"), "the whole body arrives: {text}");
}

/// The chunks of a `transfer-encoding: chunked` HTTP/1.1 response, in order.
fn chunks(response: &[u8]) -> Vec<Vec<u8>> {
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&response[..head_end]).to_ascii_lowercase();
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    let mut rest = &response[head_end..];
    let mut out = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16).unwrap();
        if size == 0 {
            return out;
        }
        let data = &rest[line_end + 2..line_end + 2 + size];
        out.push(data.to_vec());
        rest = &rest[line_end + 2 + size + 2..];
    }
}

#[tokio::test]
async fn each_recorded_frame_of_a_stream_is_its_own_http_chunk() {
    let cassette = load("openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json");
    let s = server(cassette.clone(), Limits::default(), HostPolicy::default()).await;
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(&post(
        "/v1/chat/completions",
        "127.0.0.1",
        &first_request(&cassette),
    ))
    .await
    .unwrap();
    c.shutdown().await.unwrap();
    let answer = read_to_close(&mut c).await.unwrap();
    let tooltape::cassette::ResponseBody::Sse { frames } = &cassette.turns[0].response.body else {
        panic!("the cassette's first response is a stream");
    };
    let recorded: Vec<Vec<u8>> = frames.iter().map(|f| f.as_bytes().to_vec()).collect();
    assert_eq!(recorded.len(), 14);
    assert_eq!(chunks(&answer), recorded);
}

/// A follow-up of [`TWO`] with `n` duplicate results: judged in time linear in `n`, but a lot
/// of it.
fn heavy(cassette: &Cassette, n: usize) -> Vec<u8> {
    let mut body = cassette.file.interactions[1].request.body.clone();
    let messages = body["messages"].as_array_mut().unwrap();
    let first = messages[3].clone();
    messages.extend(std::iter::repeat_n(first, n));
    serde_json::to_vec(&body).unwrap()
}

/// One async worker: if judging ran on it, nothing else could be answered meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_correct_loop_is_answered_while_huge_requests_are_being_judged() {
    let cassette = load(TWO);
    let other = load("anthropic/fantasy-sonnet-4-parallel2-followup.json");
    let replay = Arc::new(Replay::new());
    replay.add_session("heavy", cassette.clone());
    replay.add_session("light", other.clone());
    let s = ReplayServer::bind(SocketAddr::from(([127, 0, 0, 1], 0)), replay)
        .await
        .unwrap();
    let body = heavy(&cassette, 40_000);
    let client = reqwest::Client::new();
    let url = format!("{}/s/heavy/v1/chat/completions", s.url());
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let heavies: Vec<_> = (0..2)
        .map(|_| {
            let (client, url, body, done) =
                (client.clone(), url.clone(), body.clone(), done.clone());
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth("sk-test")
                    .body(body)
                    .send()
                    .await;
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                r.unwrap().status()
            })
        })
        .collect();
    while s.stats().accepted() < 2 {
        tokio::task::yield_now().await;
    }
    let outcome = tooltape::ReferenceLoop::new(format!("{}/s/light", s.url()))
        .run(
            &other,
            &tooltape::reference_loop::CassetteTools::new(other.clone()),
        )
        .await
        .expect("the light loop finishes");
    let finished_first = done.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(outcome.requests, other.turns.len());
    for h in heavies {
        assert_eq!(h.await.unwrap(), 400);
    }
    assert_eq!(
        finished_first, 0,
        "the correct loop finished while both huge requests were still being judged"
    );
    let report = s.verify().await;
    let light = report
        .cassettes
        .iter()
        .find(|c| c.name == other.name())
        .unwrap();
    assert!(light.conformant, "{report}");
}

#[tokio::test]
async fn out_of_file_descriptors_the_accept_loop_backs_off_and_recovers() {
    let mut serve = std::process::Command::new("sh")
        .args([
            "-c",
            "ulimit -n 64 && exec \"$0\" serve \"$1\" --port 0 --format json --header-timeout 1 --idle-timeout 1",
        ])
        .arg(crate::support::bin())
        .arg(format!("fixtures/{TWO}"))
        .current_dir(crate::support::root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = serve.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let banner = lines.next().unwrap().unwrap();
    let url = banner
        .strip_prefix("tooltape replay server on ")
        .unwrap_or_else(|| panic!("{banner}"))
        .to_owned();
    std::thread::spawn(move || for _ in lines {});
    let addr: SocketAddr = url.strip_prefix("http://").unwrap().parse().unwrap();
    let mut idle = Vec::new();
    for _ in 0..120 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let cassette = load(TWO);
    let client = reqwest::Client::builder().timeout(SAFETY).build().unwrap();
    let reply = client
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth("sk-test")
        .body(first_request(&cassette))
        .send()
        .await
        .expect("answered once idle connections are closed");
    assert_eq!(reply.status(), 200);
    let index = client
        .get(format!("{url}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let errors: u64 = index
        .split("accepted, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{index}"));
    assert!(errors > 0, "the limit was reached: {index}");
    assert!(
        errors < 100,
        "each failed accept is followed by a pause, not retried at once: {index}"
    );
    drop(idle);
    let _ = serve.kill();
    let _ = serve.wait();
}
