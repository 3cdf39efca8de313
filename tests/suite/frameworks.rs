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

use std::process::Command;

use crate::support::{bin, root};

#[test]
fn every_framework_gets_the_expected_verdict_on_every_cassette() {
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
