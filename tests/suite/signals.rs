//! `check` and `serve` as processes under signals and timeouts (issue 11): the command under
//! test runs in its own process group and never outlives `check`, the work folder is private
//! and removed, credentials do not leak, and `serve` reports on SIGTERM and SIGHUP.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::serve::Serve;
use crate::support::{bin, load, root};

const SINGLE: &str = "fixtures/openai-chat/handmade-single-call.json";

/// A private scratch folder for one test, removed at the end.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("tooltape-test-")
        .tempdir()
        .unwrap()
}

/// Whether `pid` is a running process (a zombie waiting to be reaped is not running).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            Some(state != 'Z' && state != 'X')
        })
        .unwrap_or(false)
}

/// Waits until `path` holds `lines` lines (written by the command under test), or panics
/// after a long safety margin.
fn wait_for_lines(path: &Path, lines: usize) -> Vec<String> {
    for _ in 0..3000 {
        if let Ok(text) = std::fs::read_to_string(path) {
            let got: Vec<String> = text.lines().map(str::to_owned).collect();
            if got.len() >= lines {
                return got;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{} never got {lines} lines", path.display());
}

/// Starts `tooltape check SINGLE --format json ARGS -- sh -c SCRIPT`.
fn spawn_check(args: &[&str], script: &str, env: &[(&str, &str)]) -> Child {
    Command::new(bin())
        .arg("check")
        .arg(SINGLE)
        .args(["--format", "json"])
        .args(args)
        .args(["--", "sh", "-c", script])
        .envs(env.iter().copied())
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (Option<i32>, Value, String) {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {stderr} {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), report, stderr)
}

/// A command that records its pid, a background grandchild's pid and its work folder, then
/// waits forever.
fn lingering_script(pids: &Path) -> String {
    format!(
        "echo $$ > {p}.tmp; sleep 300 & echo $! >> {p}.tmp; dirname \"$TOOLTAPE_TOOLS_FILE\" >> {p}.tmp; mv {p}.tmp {p}; wait",
        p = pids.display()
    )
}

#[test]
fn a_signal_to_check_is_forwarded_to_the_whole_group_and_the_report_printed() {
    for signal in ["TERM", "INT"] {
        let dir = scratch();
        let pids = dir.path().join("pids");
        let child = spawn_check(&[], &lingering_script(&pids), &[]);
        let lines = wait_for_lines(&pids, 3);
        let (shell, sleeper): (u32, u32) = (lines[0].parse().unwrap(), lines[1].parse().unwrap());
        let work = PathBuf::from(&lines[2]);
        assert!(work.is_dir());
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let (code, report, stderr) = finish(child);
        assert_eq!(code, Some(3), "{signal}: {stderr}");
        let c = &report["cassettes"][0];
        assert_eq!(
            c["command"]["status"]["status"], "interrupted",
            "{signal}: {c}"
        );
        assert!(
            c["error"]
                .as_str()
                .unwrap()
                .contains(&format!("SIG{signal}")),
            "{c}"
        );
        assert!(!alive(shell), "{signal}: the command ended");
        assert!(!alive(sleeper), "{signal}: its background child ended too");
        assert!(!work.exists(), "{signal}: the work folder is removed");
    }
}

#[test]
fn a_timeout_kills_the_commands_whole_process_group() {
    let dir = scratch();
    let pids = dir.path().join("pids");
    let child = spawn_check(&["--timeout", "1"], &lingering_script(&pids), &[]);
    let (code, report, _) = finish(child);
    let lines = wait_for_lines(&pids, 3);
    assert_eq!(code, Some(3));
    assert_eq!(
        report["cassettes"][0]["command"]["status"]["status"],
        "timed_out"
    );
    for pid in &lines[..2] {
        assert!(
            !alive(pid.parse().unwrap()),
            "pid {pid} outlived the timeout"
        );
    }
    assert!(!Path::new(&lines[2]).exists());
}

#[test]
fn what_a_command_leaves_running_is_stopped_when_it_exits() {
    let dir = scratch();
    let pids = dir.path().join("pids");
    let script = format!(
        "sleep 300 & echo $! > {p}.tmp; mv {p}.tmp {p}; exit 0",
        p = pids.display()
    );
    let (_, _, _) = finish(spawn_check(&[], &script, &[]));
    let sleeper: u32 = wait_for_lines(&pids, 1)[0].parse().unwrap();
    assert!(!alive(sleeper));
}

#[test]
fn the_work_folder_is_private_fresh_and_removed() {
    let script =
        "d=$(dirname \"$TOOLTAPE_TOOLS_FILE\"); echo \"dir=$d\"; stat -c 'mode=%a' \"$d\"; exit 5";
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (_, report, _) = finish(spawn_check(&[], script, &[]));
        let stdout = report["cassettes"][0]["command"]["stdout"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(stdout.contains("mode=700"), "{stdout}");
        let dir = stdout
            .lines()
            .find_map(|l| l.strip_prefix("dir="))
            .unwrap()
            .to_owned();
        assert!(!Path::new(&dir).exists(), "{dir} is removed");
        seen.push(dir);
    }
    assert_ne!(seen[0], seen[1], "each check gets a fresh folder");
    assert!(
        !seen[0].ends_with(&format!("tooltape-check-{}", std::process::id())),
        "not the old predictable name"
    );
}

#[test]
fn provider_credentials_do_not_reach_the_command_unless_kept() {
    let secrets = [
        ("ANTHROPIC_AUTH_TOKEN", "secret-anthropic-token"),
        ("AZURE_OPENAI_API_KEY", "secret-azure-key"),
        ("AZURE_OPENAI_ENDPOINT", "https://secret.openai.azure.com"),
        ("OPENAI_ORG_ID", "org-secret"),
        ("OPENAI_PROJECT_ID", "proj-secret"),
        ("GOOGLE_API_KEY", "secret-google"),
        ("AWS_SECRET_ACCESS_KEY", "secret-aws"),
        ("OPENAI_API_KEY", "sk-real-secret"),
        ("OPENAI_API_BASE", "https://api.openai.com/v1"),
        ("GEMINI_API_KEY", "kept-gemini"),
    ];
    let (_, report, _) = finish(spawn_check(
        &["--keep-env", "GEMINI_API_KEY"],
        "env; exit 4",
        &secrets,
    ));
    let env = report["cassettes"][0]["command"]["stdout"]
        .as_str()
        .unwrap();
    for (name, value) in secrets {
        if name == "GEMINI_API_KEY" {
            assert!(env.contains(&format!("{name}={value}")), "kept: {env}");
        } else {
            assert!(!env.contains(value), "{name} leaked: {env}");
        }
    }
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        var("OPENAI_API_BASE").starts_with("http://127.0.0.1:"),
        "the old base URL variable points at the replay server: {env}"
    );
    assert_eq!(var("OPENAI_API_BASE"), var("OPENAI_BASE_URL"));
}

#[tokio::test]
async fn serve_prints_the_report_on_sigterm_and_sighup() {
    let rel = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";
    let cassette = load(rel);
    for signal in ["TERM", "HUP"] {
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
        let (code, stdout) = serve.signal(signal);
        assert_eq!(code, Some(1), "{signal}: {stdout}");
        assert!(stdout.contains("TT001"), "{signal}: {stdout}");
    }
}

#[test]
fn a_signal_right_after_the_banner_still_gets_a_report() {
    let mut child = Command::new(bin())
        .args(["serve", SINGLE, "--port", "0", "--format", "json"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    lines.next().expect("a banner").unwrap();
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    std::thread::spawn(move || for _ in lines {});
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "handled, not killed by the signal"
    );
}
