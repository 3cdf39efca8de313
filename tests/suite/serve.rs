//! `tooltape serve` as a user runs it: a real process, real sockets, Ctrl-C prints the report.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use tooltape::reference_loop::{CassetteTools, ReferenceLoop};

use crate::support::{bin, load, root};

/// A running `tooltape serve` and its root URL.
pub struct Serve {
    pub child: Child,
    pub url: String,
}

impl Serve {
    /// Starts `tooltape serve --port 0 ARGS…` and waits for its banner.
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(bin())
            .arg("serve")
            .args(args)
            .args(["--port", "0", "--format", "json"])
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tooltape serve starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let first = lines.next().expect("a banner").unwrap();
        let url = first
            .strip_prefix("tooltape replay server on ")
            .unwrap_or_else(|| panic!("unexpected banner {first:?}"))
            .to_owned();
        std::thread::spawn(move || for _ in lines {});
        Self { child, url }
    }

    /// Sends Ctrl-C (SIGINT) and returns the exit code and standard output.
    pub fn interrupt(self) -> (Option<i32>, String) {
        self.signal("INT")
    }

    /// Sends `SIG{name}` and returns the exit code and standard output.
    pub fn signal(mut self, name: &str) -> (Option<i32>, String) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let out = std::mem::replace(&mut self.child, Command::new("true").spawn().unwrap())
            .wait_with_output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn serve_replays_for_a_loop_and_prints_the_report_on_ctrl_c() {
    let rel = "anthropic/fantasy-sonnet-4-parallel2-followup-stream.json";
    let cassette = load(rel);
    let serve = Serve::start(&[&format!("fixtures/{rel}")]);
    let base = format!("{}/s/{}", serve.url, cassette.name());
    let outcome = ReferenceLoop::new(base)
        .run(&cassette, &CassetteTools::new(cassette.clone()))
        .await
        .expect("the loop finishes against tooltape serve");
    assert_eq!(outcome.turns.len(), 1);
    let (code, stdout) = serve.interrupt();
    assert_eq!(code, Some(0), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
    assert_eq!(report["conformant"], true);
    assert_eq!(report["cassettes"][0]["name"], cassette.name());
}

#[tokio::test]
async fn serve_reports_a_broken_follow_up_and_exits_1() {
    let rel = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";
    let cassette = load(rel);
    let serve = Serve::start(&[&format!("fixtures/{rel}")]);
    let mut body = cassette.file.interactions[1].request.body.clone();
    body["messages"].as_array_mut().unwrap().pop();
    let r = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", serve.url))
        .bearer_auth("sk-test")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let (code, stdout) = serve.interrupt();
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("TT001"), "{stdout}");
}
