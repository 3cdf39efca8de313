//! One snapshot per bundled cassette: the reference loop's transcript and findings.
//!
//! Every folder below `fixtures/` is covered without naming it, nested ones too
//! (`openai-compatible/chat/`); only `fixtures/nonconformant/` is skipped (its cassettes are
//! judged in `nonconformant`). The snapshot names keep the folders as their prefix
//! (`…@openai-chat__name.json`, `…@openai-compatible__chat__name.json`).

use std::ffi::OsStr;

use serde_json::json;
use tooltape::run::{RunOptions, run};

use crate::support::{load_path, snapshot_settings};

#[test]
fn reference_loop_transcript_per_fixture() {
    insta::glob!("../../fixtures", "*/**/*.json", |path| {
        if path.parent().and_then(|dir| dir.file_name()) == Some(OsStr::new("nonconformant")) {
            return;
        }
        let cassette = load_path(path);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (report, runs) = rt
            .block_on(run(vec![cassette.clone()], &RunOptions::default()))
            .expect("server starts");
        let run = &runs[0];
        let outcome = run
            .outcome
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", cassette.name()));
        let transcript = json!({
            "cassette": cassette.name(),
            "provider": cassette.provider().name(),
            "streaming": cassette.streaming(),
            "conformant": report.is_conformant(),
            "requests": outcome.requests,
            "turns": outcome.turns.iter().map(|t| json!({
                "turn": t.index,
                "calls": t.calls,
                "results": t.results,
            })).collect::<Vec<_>>(),
            "final_text": outcome.final_text,
            "findings": run.report.findings,
        });
        snapshot_settings().bind(|| insta::assert_json_snapshot!(transcript));
    });
}
