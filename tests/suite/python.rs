//! The official `openai` and `anthropic` Python SDKs against tooltape, over real sockets.
//!
//! `scripts/python-env.sh` makes a venv with the pinned SDK versions (from PyPI, once; later
//! runs reuse it). No mocking: the SDKs talk HTTP to `tooltape serve` and `tooltape check`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::serve::Serve;
use crate::support::{bin, root};

/// The venv's python, made once per test run.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let out = Command::new("bash")
                .arg(root().join("scripts/python-env.sh"))
                .current_dir(root())
                .output()
                .expect("bash runs scripts/python-env.sh");
            assert!(
                out.status.success(),
                "scripts/python-env.sh failed (it needs python3 with venv and access to PyPI):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            PathBuf::from(
                stdout
                    .lines()
                    .last()
                    .expect("the script prints the python path")
                    .trim(),
            )
        })
        .clone()
}

fn smoke(rel: &str, provider: &str) {
    let serve = Serve::start(&[&format!("fixtures/{rel}")]);
    let (var, base) = match provider {
        "openai" => ("OPENAI_BASE_URL", format!("{}/v1", serve.url)),
        _ => ("ANTHROPIC_BASE_URL", serve.url.clone()),
    };
    let out = Command::new(python())
        .arg(root().join("tests/python/serve_smoke.py"))
        .args(["--provider", provider, "--cassette"])
        .arg(root().join("fixtures").join(rel))
        .env(var, base)
        .env("OPENAI_API_KEY", "sk-placeholder")
        .env("ANTHROPIC_API_KEY", "sk-ant-placeholder")
        .current_dir(root())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{rel}: the {provider} SDK did not finish against tooltape serve:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, report) = serve.interrupt();
    assert_eq!(code, Some(0), "{rel}: {report}");
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["conformant"], true, "{report}");
}

#[test]
fn the_openai_sdk_replays_through_serve_with_and_without_streaming() {
    smoke(
        "openai-chat/fantasy-gpt-4o-parallel2-followup.json",
        "openai",
    );
    smoke(
        "openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json",
        "openai",
    );
}

#[test]
fn the_anthropic_sdk_replays_through_serve_with_and_without_streaming() {
    smoke(
        "anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json",
        "anthropic",
    );
    smoke(
        "anthropic/handmade-ping-between-blocks-stream.json",
        "anthropic",
    );
}

/// `scripts/run-examples.py` with this build and the pinned SDKs, two checks at once (a check
/// spends much of its time waiting on its loops), and `args`.
fn run_examples(args: &[&str]) -> std::process::Output {
    Command::new(python())
        .arg(root().join("scripts/run-examples.py"))
        .arg(bin())
        .arg("--python")
        .arg(python())
        .args(["--parallel", "2"])
        .args(args)
        .current_dir(root())
        .output()
        .expect("python runs scripts/run-examples.py")
}

#[test]
fn every_example_loop_gets_its_verdict_from_check() {
    let out = run_examples(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "run-examples failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 failed"), "{stdout}");
}

/// Every correct example loop, under API faults and then model faults (each served from the
/// first response on, so every cassette gets one), still conforms on every cassette of its
/// whole folder: the official SDKs' default retries and a loop that answers the calls it
/// cannot run are what a correct loop does, so any failing finding is a false positive.
#[test]
fn every_correct_example_loop_conforms_on_its_whole_folder_under_faults() {
    let sweeps: [&[&str]; 2] = [
        &[
            "rate-limit:50@1",
            "unavailable:50@2",
            "slow-first-byte:200@2",
            "no-terminal-event@2",
        ],
        &["undeclared-tool@1", "malformed-arguments@2"],
    ];
    for faults in sweeps {
        let args: Vec<&str> = faults.iter().flat_map(|f| ["--fault", f]).collect();
        let out = run_examples(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "run-examples {faults:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The table's last column: the cassettes of each run that were served a fault.
        let rows: Vec<&str> = stdout
            .lines()
            .skip_while(|l| !l.starts_with("example"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect();
        assert!(rows.len() >= 10, "{faults:?}: {stdout}");
        assert!(
            rows.iter().all(|r| !r.contains("TT0")),
            "{faults:?}: a known-bad loop ran: {stdout}"
        );
        for row in rows {
            let faulted: usize = row.split_whitespace().last().unwrap().parse().unwrap();
            assert!(faulted > 0, "{faults:?}: no fault served in `{row}`");
        }
    }
}

/// Non-streamed OpenAI cassettes, one and several calls per turn. The loop run over them
/// answers only each turn's first call: a mistake that does not depend on timing, so two runs
/// must agree whatever the machine's load.
const JSON_CASSETTES: [&str; 6] = [
    "fantasy-gpt-4o-parallel2-followup",
    "handmade-failing-tool",
    "handmade-finish-stop-with-tool-calls",
    "handmade-single-call",
    "handmade-three-turns",
    "openai-python-parse-multiple-tools",
];

fn check_json(jobs: &str) -> Value {
    let out = Command::new(bin())
        .arg("check")
        .args(
            JSON_CASSETTES
                .iter()
                .map(|c| format!("fixtures/openai-chat/{c}.json")),
        )
        .args(["-j", jobs, "--format", "json", "--"])
        .arg(python())
        .arg(root().join("examples/loops/bad_first_call_only.py"))
        .current_dir(root())
        .output()
        .expect("tooltape check runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Rules whose messages carry measured times.
const TIMING_RULES: [&str; 2] = ["TT008", "TT015"];

fn verdicts(report: &Value) -> Vec<(String, Vec<(String, String)>)> {
    report["cassettes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let findings = c["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| !TIMING_RULES.contains(&f["rule"].as_str().unwrap()))
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap().to_owned(),
                        f["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (c["name"].as_str().unwrap().to_owned(), findings)
        })
        .collect()
}

#[test]
fn two_check_runs_with_four_jobs_give_identical_findings() {
    let first = check_json("4");
    let second = check_json("4");
    assert!(first["cassettes"].as_array().unwrap().len() >= 4);
    assert_eq!(verdicts(&first), verdicts(&second));
    assert!(
        verdicts(&first)
            .iter()
            .any(|(_, f)| f.iter().any(|(rule, _)| rule == "TT001")),
        "the first-call-only loop is caught: {first}"
    );
}
