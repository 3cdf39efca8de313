//! `tooltape record` end to end: the official Python SDKs talk to the recorder, which forwards
//! to a `tooltape serve` on loopback; a slow upstream on loopback shows that streams pass
//! frame by frame and that a killed recorder leaves the previous cassette.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use crate::python::python;
use crate::serve::Serve;
use crate::support::{bin, root};

const KEY: &str = "sk-proj-RECORDERtestKEYrecorderTESTkey0042";

/// A running `tooltape record --port 0`, its URL and what it printed.
struct Recorder {
    child: Child,
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
    /// The thread that reads stderr: it ends when the recorder's stderr closes.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    fn start(upstream: &str, out: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(bin())
            .args(["record", "--upstream", upstream, "--port", "0", "--out"])
            .arg(out)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tooltape record starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().expect("a banner").unwrap();
        let url = first
            .strip_prefix("tooltape recorder on ")
            .and_then(|r| r.split(" -> ").next())
            .unwrap_or_else(|| panic!("unexpected banner {first:?}"))
            .to_owned();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let reader = std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            url,
            lines: seen,
            reader: Some(reader),
        }
    }

    fn printed(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits until it says it wrote a cassette.
    fn wait_for_write(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.printed().contains("wrote ") {
            assert!(
                Instant::now() < deadline,
                "no cassette written:\n{}",
                self.printed()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&mut self, signal: &str) -> Option<i32> {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let code = self.child.wait().unwrap().code();
        // Everything it printed before exiting is read before anyone looks at it.
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        code
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A copy of a bundled cassette whose user messages carry the key, so the upstream serves a
/// conversation with a key pasted into its prompt.
fn keyed_cassette(rel: &str, dir: &Path) -> (PathBuf, String) {
    let text = std::fs::read_to_string(root().join("fixtures").join(rel)).unwrap();
    let mut cassette: Value = serde_json::from_str(&text).unwrap();
    let mut prompt = String::new();
    for interaction in cassette["interactions"].as_array_mut().unwrap() {
        for m in interaction["request"]["body"]["messages"]
            .as_array_mut()
            .unwrap()
        {
            if m["role"] != "user" {
                continue;
            }
            let text = match &mut m["content"] {
                Value::String(s) => Some(s),
                Value::Array(blocks) => blocks.iter_mut().find(|b| b["type"] == "text").and_then(
                    |b| match &mut b["text"] {
                        Value::String(s) => Some(s),
                        _ => None,
                    },
                ),
                _ => None,
            };
            if let Some(text) = text {
                *text = format!("My key is {KEY}. {text}");
                prompt.clone_from(text);
            }
        }
    }
    let path = dir.join(Path::new(rel).file_name().unwrap());
    std::fs::write(&path, serde_json::to_string_pretty(&cassette).unwrap()).unwrap();
    (path, prompt)
}

fn record_with_sdk(rel: &str, provider: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (cassette, _) = keyed_cassette(rel, dir.path());
    let serve = Serve::start(&[cassette.to_str().unwrap()]);
    let out = dir.path().join("recorded.json");
    let mut recorder = Recorder::start(&serve.url, &out, &[]);
    let (var, base, key_var) = match provider {
        "openai" => (
            "OPENAI_BASE_URL",
            format!("{}/v1", recorder.url),
            "OPENAI_API_KEY",
        ),
        _ => (
            "ANTHROPIC_BASE_URL",
            recorder.url.clone(),
            "ANTHROPIC_API_KEY",
        ),
    };
    let sdk = Command::new(python())
        .arg(root().join("tests/python/serve_smoke.py"))
        .args(["--provider", provider, "--cassette"])
        .arg(&cassette)
        .env(var, base)
        .env(key_var, KEY)
        .output()
        .expect("python runs");
    assert!(
        sdk.status.success(),
        "{rel}: the {provider} SDK did not finish through the recorder:\n{}\n{}\n{}",
        String::from_utf8_lossy(&sdk.stdout),
        String::from_utf8_lossy(&sdk.stderr),
        recorder.printed()
    );
    recorder.wait_for_write();
    assert_eq!(recorder.signal("-INT"), Some(0), "{}", recorder.printed());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(!written.contains(KEY), "{rel}: the key is in the cassette");
    assert!(
        !written.contains("RECORDERtestKEY"),
        "{rel}: part of the key is in the cassette"
    );
    assert!(
        written.contains("My key is [REDACTED]."),
        "{rel}: {written}"
    );
    let file: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(file["source"]["format"], "tooltape record");
    let tools = file["tools"].as_object().expect("measured tool latencies");
    assert!(
        tools.values().all(|t| t["latency_ms"].is_u64()),
        "{tools:?}"
    );
    let replay = Command::new(bin()).arg("run").arg(&out).output().unwrap();
    assert!(
        replay.status.success(),
        "{rel}: the recorded cassette does not replay conformant:\n{}",
        String::from_utf8_lossy(&replay.stdout)
    );
}

#[test]
fn the_openai_sdk_records_json_and_streams_without_the_key_and_they_replay_conformant() {
    record_with_sdk(
        "openai-chat/fantasy-gpt-4o-parallel2-followup.json",
        "openai",
    );
    record_with_sdk(
        "openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json",
        "openai",
    );
}

#[test]
fn the_anthropic_sdk_records_json_and_streams_without_the_key_and_they_replay_conformant() {
    record_with_sdk(
        "anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json",
        "anthropic",
    );
    record_with_sdk(
        "anthropic/fantasy-sonnet-4-parallel2-followup-stream.json",
        "anthropic",
    );
}

/// The frames of a short streamed final answer.
fn frames() -> Vec<String> {
    let chunk = |delta: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-slow\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let mut frames = vec![chunk(r#"{"role":"assistant","content":""}"#, "null")];
    for word in ["one ", "two ", "three ", "four"] {
        frames.push(chunk(&format!(r#"{{"content":"{word}"}}"#), "null"));
    }
    frames.push(chunk("{}", "\"stop\""));
    frames.push("data: [DONE]\n\n".to_owned());
    frames
}

/// An upstream on loopback that answers one request with `frames()`, `gap` apart.
fn slow_upstream(gap: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((mut socket, _)) = listener.accept() else {
            return;
        };
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
            let Ok(n) = socket.read(&mut buf) else { return };
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
        if socket.write_all(head.as_bytes()).is_err() {
            return;
        }
        for frame in frames() {
            std::thread::sleep(gap);
            if socket.write_all(frame.as_bytes()).is_err() || socket.flush().is_err() {
                return;
            }
        }
    });
    url
}

const REQUEST: &str =
    r#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Count to four"}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_stream_reaches_the_client_frame_by_frame_and_its_delays_are_kept() {
    let gap = Duration::from_millis(150);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("slow.json");
    let mut recorder = Recorder::start(&slow_upstream(gap), &out, &[]);
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", recorder.url))
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json")
        .body(REQUEST)
        .send()
        .await
        .unwrap();
    let start = Instant::now();
    let mut arrivals = Vec::new();
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.unwrap());
        let complete = String::from_utf8_lossy(&body).matches("\n\n").count();
        while arrivals.len() < complete {
            arrivals.push(start.elapsed());
        }
    }
    assert_eq!(String::from_utf8(body).unwrap(), frames().concat());
    let n = frames().len();
    assert_eq!(arrivals.len(), n);
    let spread = arrivals[n - 1] - arrivals[0];
    assert!(
        spread >= gap * u32::try_from(n - 2).unwrap(),
        "the frames arrived together ({arrivals:?}): the recorder buffered the stream"
    );
    let apart = arrivals
        .windows(2)
        .filter(|w| w[1] - w[0] >= gap / 2)
        .count();
    assert!(apart >= n - 2, "frames arrived in bursts: {arrivals:?}");
    recorder.wait_for_write();
    assert_eq!(recorder.signal("-TERM"), Some(0), "{}", recorder.printed());
    let cassette: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let delays: Vec<u64> = cassette["interactions"][0]["response"]["frame_delays_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap())
        .collect();
    assert_eq!(delays.len(), n);
    assert!(
        delays[1..].iter().all(|d| *d >= 100),
        "the recorded inter-frame delays: {delays:?}"
    );
}

fn kill_mid_stream(out: &Path, extra: &[&str]) {
    let mut recorder = Recorder::start(&slow_upstream(Duration::from_millis(300)), out, extra);
    let mut socket =
        std::net::TcpStream::connect(recorder.url.trim_start_matches("http://")).unwrap();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{REQUEST}",
        REQUEST.len()
    );
    socket.write_all(request.as_bytes()).unwrap();
    let mut first = [0u8; 64];
    let n = socket.read(&mut first).unwrap();
    assert!(n > 0 && String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    assert_eq!(recorder.signal("-KILL"), None, "killed by the signal");
}

#[test]
fn a_recorder_killed_mid_stream_leaves_the_previous_file_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cassette.json");
    kill_mid_stream(&out, &[]);
    assert!(!out.exists(), "a killed recorder wrote a cassette");
    let previous =
        std::fs::read_to_string(root().join("fixtures/openai-chat/handmade-single-call.json"))
            .unwrap();
    std::fs::write(&out, &previous).unwrap();
    kill_mid_stream(&out, &["--force"]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), previous);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["cassette.json"], "a temporary file is left");
}

#[test]
fn the_recorder_refuses_to_overwrite_a_cassette_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cassette.json");
    std::fs::write(&out, "{}").unwrap();
    let run = Command::new(bin())
        .args([
            "record",
            "--upstream",
            "http://127.0.0.1:9",
            "--port",
            "0",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("exists; pass --force to replace it"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "{}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_upstream_is_a_502_that_names_it_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("none.json");
    let mut recorder = Recorder::start("http://127.0.0.1:1", &out, &[]);
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", recorder.url))
        .body(REQUEST)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("cannot reach the upstream `http://127.0.0.1:1/v1/chat/completions`"),
        "{body}"
    );
    assert_eq!(recorder.signal("-INT"), Some(0));
    assert!(
        recorder.printed().contains("nothing was recorded"),
        "{}",
        recorder.printed()
    );
    assert!(!out.exists());
}
