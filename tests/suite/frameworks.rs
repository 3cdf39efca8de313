//! Real agent frameworks through `tooltape check`, over whole fixture folders.
//!
//! `scripts/run-frameworks.py` installs the pinned frameworks with `scripts/frameworks-env.sh`
//! (pydantic-ai, the OpenAI Agents SDK, LangGraph and the Anthropic SDK's tool runner from
//! PyPI into `target/frameworks-venv`, the Vercel AI SDK from npm into
//! `examples/frameworks/node_modules`; once, later runs reuse them), runs each framework's loop
//! in `examples/frameworks/` over all of `fixtures/openai-chat` and `fixtures/anthropic` (and
//! `fixtures/openai-responses` for openai-agents and the Vercel AI SDK, `fixtures/gemini` for
//! pydantic-ai), and compares every cassette's verdict with `tests/frameworks/expected.json`: conformant, or
//! exactly the findings of a documented framework bug or of a tooltape false positive that is
//! pending a fix (`tests/frameworks/FALSE_POSITIVES.md`). Python loops run warm
//! (`scripts/warm_python.py`: the framework imported once, a fork per run), which is what
//! keeps this test within the CI budget.
//!
//! Under model faults, three framework behaviours are choices the APIs take (FP10 to FP12 in
//! `tests/frameworks/FALSE_POSITIVES.md`): a few cold checks pin them as warnings.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::{bin, root};

/// What `scripts/frameworks-env.sh` prints (`python=…`, `node=…`), installed once per test run.
fn frameworks_env() -> &'static BTreeMap<String, String> {
    static ENV: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join("scripts/frameworks-env.sh"))
            .current_dir(root())
            .output()
            .expect("bash runs scripts/frameworks-env.sh");
        assert!(
            out.status.success(),
            "scripts/frameworks-env.sh failed (it needs python3 with venv, node 18+ with npm, \
             and access to PyPI and npm):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
            .collect()
    })
}

#[test]
fn every_framework_gets_the_expected_verdict_on_every_cassette() {
    frameworks_env();
    let out = Command::new("python3")
        .arg(root().join("scripts/run-frameworks.py"))
        .arg(bin())
        // Two checks at once, four cassettes each: a check spends much of its time waiting
        // on its loops.
        .args(["-j", "4", "--parallel", "2"])
        .current_dir(root())
        .output()
        .expect("python3 runs scripts/run-frameworks.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "run-frameworks found verdicts that differ from tests/frameworks/expected.json \
         (it needs python3 with venv, node 18+ with npm, and access to PyPI and npm):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

/// Runs one framework loop (`runtime` is `python` or `node`) over one cassette under one fault;
/// returns the exit code and the cassette's JSON report.
fn check_under_fault(runtime: &str, lp: &str, cassette: &str, fault: &str) -> (i32, Value) {
    let runtime = &frameworks_env()[runtime];
    let report = tempfile::NamedTempFile::new().expect("a temporary file");
    let out = Command::new(bin())
        .arg("check")
        .arg(root().join("fixtures").join(cassette))
        .args(["--fault", fault, "--format", "json", "--output"])
        .arg(report.path())
        .arg("--")
        .arg(runtime)
        .arg(root().join("examples/frameworks").join(lp))
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("tooltape check runs");
    let text = std::fs::read_to_string(report.path()).unwrap_or_default();
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "no JSON report from {lp} on {cassette} under {fault} ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap_or(-1),
        json["cassettes"][0].clone(),
    )
}

#[test]
fn model_faults_a_framework_handles_on_purpose_are_warnings() {
    // (runtime, loop, cassette, fault, the rules it must warn about)
    let cases: [(&str, &str, &str, &str, &[&str]); 3] = [
        // FP12: pydantic-ai raises `UnexpectedModelBehavior` on a turn with one id twice.
        (
            "python",
            "pydantic_ai_loop.py",
            "openai-chat/handmade-single-call.json",
            "duplicate-call-id@1",
            &["TT013", "TT023"],
        ),
        // FP10: pydantic-ai sends arguments that do not parse back as `{"INVALID_JSON": …}`.
        (
            "python",
            "pydantic_ai_loop.py",
            "openai-chat/fantasy-gpt-4o-parallel2-followup.json",
            "malformed-arguments@1",
            &["TT006"],
        ),
        // FP11: the AI SDK gives the second call of a repeated id an id of its own.
        (
            "node",
            "vercel_ai_sdk.mjs",
            "openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json",
            "duplicate-call-id@1",
            &["TT006"],
        ),
    ];
    for (runtime, lp, cassette, fault, warned) in cases {
        let (code, report) = check_under_fault(runtime, lp, cassette, fault);
        let findings: Vec<(String, String)> = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap_or_default().to_owned(),
                    f["severity"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = warned
            .iter()
            .map(|r| ((*r).to_owned(), "warning".to_owned()))
            .collect();
        assert_eq!(
            findings, expected,
            "{lp} on {cassette} under {fault}: the findings\n{report:#}"
        );
        assert_eq!(
            (code, report["conformant"].as_bool()),
            (0, Some(true)),
            "{lp} on {cassette} under {fault}: warnings alone pass, a stop the fault explains too\n{report:#}"
        );
    }
}
