//! `tooltape import`: a hand-written sample per format imports and replays conformant, the bad
//! variants of each are clear errors, secrets never reach a file, every reference recording
//! imports (or waits for its provider), and re-importing the recordings reproduces the bundled
//! fixtures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::Value;
use tooltape::cassette::Cassette;
use tooltape::provider::Provider;
use tooltape::record::{self, ImportErrorKind, ImportOptions, Imported};
use tooltape::run::{RunOptions, run};

use crate::support::{bin, fixture_files, root, snapshot_settings};

fn sample(name: &str) -> PathBuf {
    root().join("tests/import").join(name)
}

fn import(path: &Path, options: &ImportOptions) -> Vec<Imported> {
    record::import_file(path, options).unwrap_or_else(|e| panic!("{e}"))
}

fn loaded(imported: &Imported) -> Arc<Cassette> {
    Arc::new(
        Cassette::from_file(imported.file.clone(), Path::new(&imported.file.name))
            .unwrap_or_else(|e| panic!("{}: {e}", imported.file.name)),
    )
}

async fn assert_replays_conformant(cassettes: Vec<Arc<Cassette>>) -> tooltape::Report {
    let (report, _) = run(cassettes, &RunOptions::default())
        .await
        .expect("a loopback port");
    assert!(report.is_conformant(), "{report}");
    report
}

/// Each good sample, the format it is told as, and whether the import had to complete it.
const SAMPLES: [(&str, &str, bool); 9] = [
    ("vcrpy-openai-chat.yaml", "vcrpy YAML", false),
    ("vcrpy-parsed-body-anthropic.yaml", "vcrpy YAML", false),
    ("go-vcr-v2-openai-chat-stream.yaml", "go-vcr v2 YAML", false),
    ("ruby-vcr-anthropic-binary.yml", "Ruby VCR YAML", false),
    ("har-openai-chat.har", "HAR 1.2", false),
    ("har-anthropic-stream.har", "HAR 1.2", true),
    (
        "sdk-list-anthropic.json",
        "JSON request/response list",
        false,
    ),
    ("bare-anthropic.sse", "SSE body", true),
    ("events-openai-chat.jsonl", "JSON-lines event log", true),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_sample_format_imports_and_replays_conformant() {
    let mut cassettes = Vec::new();
    for (file, format, completed) in SAMPLES {
        let made = import(&sample(file), &ImportOptions::default());
        assert_eq!(made.len(), 1, "{file}: one conversation");
        let c = &made[0];
        assert_eq!(c.file.source.format.as_deref(), Some(format), "{file}");
        assert!(c.warnings.is_empty(), "{file}: {:?}", c.warnings);
        let last = c.file.interactions.last().unwrap();
        assert_eq!(last.response.synthetic, completed, "{file}");
        cassettes.push(loaded(c));
    }
    let report = assert_replays_conformant(cassettes).await;
    for c in &report.cassettes {
        let completed = SAMPLES.iter().any(|(file, _, completed)| {
            *completed && file.starts_with(c.name.trim_end_matches("-stream"))
        });
        let noted = c
            .notes
            .iter()
            .any(|n| n.contains("answered with a synthetic response"));
        assert_eq!(noted, completed, "{}: {:?}", c.name, c.notes);
    }
}

#[test]
fn only_the_provider_calls_of_a_har_file_are_kept() {
    let made = import(&sample("har-openai-chat.har"), &ImportOptions::default());
    assert_eq!(made[0].file.interactions.len(), 2);
    let notes = made[0].file.source.notes.clone().unwrap_or_default();
    assert!(
        notes.contains("Interaction 0 of the file (`GET /v1/models`) is left out: it is not a call tooltape reads."),
        "{notes}"
    );
}

#[test]
fn bodies_stored_parsed_base64_or_without_a_request_are_said_in_the_notes() {
    let notes = |file: &str| {
        import(&sample(file), &ImportOptions::default())[0]
            .file
            .source
            .notes
            .clone()
            .unwrap_or_default()
    };
    assert!(
        notes("vcrpy-parsed-body-anthropic.yaml")
            .contains("Requests 0 and 1 are from the recorder's parsed form")
    );
    let ruby = import(
        &sample("ruby-vcr-anthropic-binary.yml"),
        &ImportOptions::default(),
    );
    let text = serde_json::to_string(&ruby[0].file.interactions[1].response.body).unwrap();
    assert!(
        text.contains("4°C"),
        "the !binary body is decoded as UTF-8: {text}"
    );
    assert!(
        notes("ruby-vcr-anthropic-binary.yml").contains("Responses 0 and 1 are base64-encoded")
    );
    let bare = notes("bare-anthropic.sse");
    assert!(
        bare.contains("Request 0 is synthetic: the recording has only the response"),
        "{bare}"
    );
    assert!(notes("events-openai-chat.jsonl").contains("`data: [DONE]` was added"));
}

#[test]
fn a_stream_recorded_under_a_session_prefix_is_routed_by_its_path() {
    let made = import(
        &sample("har-anthropic-stream.har"),
        &ImportOptions::default(),
    );
    assert_eq!(made[0].file.provider.name(), "anthropic");
    assert!(made[0].file.interactions[0].response.body.is_stream());
}

#[test]
fn bad_variants_of_every_format_are_clear_errors_naming_the_file() {
    let dir = root().join("tests/import/bad");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut table = String::new();
    for name in &names {
        let err = record::import_file(&dir.join(name), &ImportOptions::default())
            .err()
            .unwrap_or_else(|| panic!("{name} imported"));
        let text = err.to_string();
        assert!(
            text.contains(name.as_str()),
            "{name}: the error names the file: {text}"
        );
        let shown = text.replace(&dir.display().to_string(), "tests/import/bad");
        table.push_str(&format!("{name}\n  {shown}\n"));
    }
    for kind in ["truncated", "version", "no-provider-call"] {
        assert!(
            names.iter().filter(|n| n.contains(kind)).count() >= 4,
            "bad variants of the `{kind}` kind"
        );
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("import-bad-variants", table));
}

const KEY: &str = "sk-proj-SAMPLEsecretSAMPLEsecretSAMPLE0001";

fn with_prompt(prompt: &str) -> tempfile::TempDir {
    let text = std::fs::read_to_string(sample("vcrpy-openai-chat.yaml")).unwrap();
    let text = text.replace("What is the weather and the local time in Oslo?", prompt);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keyed.yaml"), text).unwrap();
    dir
}

#[test]
fn a_key_in_the_headers_and_pasted_into_the_prompt_appears_nowhere_in_the_file() {
    let dir = with_prompt(&format!("My key is {KEY}. What is the weather in Oslo?"));
    let out = dir.path().join("out");
    let run = Command::new(bin())
        .args(["import", "keyed.yaml", "--out"])
        .arg(&out)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = std::fs::read_to_string(out.join("openai-chat/keyed.json")).unwrap();
    assert!(!written.contains(KEY), "the key is in the file");
    assert!(
        !written.contains("SAMPLEsecret"),
        "part of the key is in the file"
    );
    assert!(written.contains("My key is [REDACTED]."), "{written}");
}

#[test]
fn a_key_shaped_string_left_is_refused_with_its_place_until_redacted() {
    let other = "sk-ant-api03-PASTEDintoTHEpromptPASTED0009";
    let dir = with_prompt(&format!("Use {other} please. What is the weather in Oslo?"));
    let file = dir.path().join("keyed.yaml");
    let err = record::import_file(&file, &ImportOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.kind, ImportErrorKind::Secret { .. }), "{text}");
    assert!(
        text.contains("request 0 at `messages[0].content`"),
        "{text}"
    );
    assert!(
        text.contains("request 1 at `messages[0].content`"),
        "{text}"
    );
    assert!(!text.contains(other), "the error masks the key: {text}");
    let options = ImportOptions {
        redact: vec![regex::Regex::new(r"sk-ant-[A-Za-z0-9-]+").unwrap()],
        ..ImportOptions::default()
    };
    let made = import(&file, &options);
    assert_eq!(made[0].redacted, 2);
}

#[test]
fn a_key_split_across_the_frames_of_a_stream_is_refused() {
    let chunk = |content: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let body = [
        chunk("the key is sk-proj-SAMPLE", "null"),
        chunk("secretSAMPLEsecret0001", "\"stop\""),
        "data: [DONE]\n\n".to_owned(),
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("split.sse");
    std::fs::write(&file, body).unwrap();
    let text = record::import_file(&file, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("response 0, split across its frames"),
        "{text}"
    );
}

#[test]
fn import_writes_the_good_files_then_exits_2_naming_the_bad_one() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(bin())
        .arg("import")
        .arg(sample("vcrpy-openai-chat.yaml"))
        .arg(sample("bad/har-truncated.har"))
        .arg(sample("sdk-list-anthropic.json"))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("har-truncated.har`: not valid JSON"),
        "{stderr}"
    );
    assert!(
        stdout.contains("wrote 2 cassettes from 2 files; 1 file failed"),
        "{stdout}"
    );
    assert!(
        out.path()
            .join("openai-chat/vcrpy-openai-chat.json")
            .is_file()
    );
    assert!(
        out.path()
            .join("anthropic/sdk-list-anthropic.json")
            .is_file()
    );
}

#[test]
fn a_dry_run_writes_nothing_and_an_existing_cassette_needs_force() {
    let out = tempfile::tempdir().unwrap();
    let import = |extra: &[&str]| {
        Command::new(bin())
            .arg("import")
            .arg(sample("vcrpy-openai-chat.yaml"))
            .arg("--out")
            .arg(out.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let dry = import(&["--dry-run"]);
    assert!(dry.status.success());
    assert!(String::from_utf8_lossy(&dry.stdout).contains("would write"));
    assert!(!out.path().join("openai-chat").exists(), "a dry run wrote");
    assert!(import(&[]).status.success());
    let again = import(&[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists; pass --force to replace it"));
    assert!(import(&["--force"]).status.success());
}

/// The public reference recordings, vendored with their provenance in `tests/reference/recordings`.
fn recordings() -> PathBuf {
    let dir = root().join("tests/reference/recordings");
    assert!(
        dir.join("PROVENANCE.md").is_file(),
        "the reference recordings are missing: expected them at {} (tests/reference/recordings, copied from the reference set with its PROVENANCE.md)",
        dir.display()
    );
    dir
}

fn recording_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(recordings()).unwrap() {
        let dir = dir.unwrap().path();
        if dir.is_dir() {
            files.extend(std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()));
        }
    }
    files.sort();
    files
}

/// Recordings that cannot become a cassette whatever the providers, and why.
const NOT_REPLAYABLE: [(&str, &str); 2] = [
    (
        "deepseek-responses-error-interleaved-calls.yaml",
        "its one call was answered 400",
    ),
    (
        "groq-tool_use_failed-invalid-args-then-retry.yaml",
        "its answered requests continue a conversation whose first response was a 400",
    ),
];

/// Whether some provider serves the URL path of any interaction in `text`.
fn routed_somewhere(text: &str) -> bool {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("url: ")
                .or_else(|| l.strip_prefix("uri: "))
                .map(str::to_owned)
        })
        .any(|url| {
            let path = url
                .split("://")
                .nth(1)
                .and_then(|r| r.find('/').map(|i| r[i..].to_owned()));
            let path = path.unwrap_or_default();
            let path = path.split('?').next().unwrap_or_default();
            Provider::for_endpoint(path).is_some()
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_reference_recording_imports_and_its_tool_calls_replay_conformant() {
    let mut with_calls = Vec::new();
    let mut waiting = Vec::new();
    for file in recording_files() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            continue;
        }
        match record::import_file(&file, &ImportOptions::default()) {
            Ok(made) => {
                for c in &made {
                    assert!(c.warnings.is_empty(), "{name}: {:?}", c.warnings);
                    let c = loaded(c);
                    if (0..c.turns.len()).any(|t| !c.calls(t).is_empty()) {
                        with_calls.push(c);
                    }
                }
            }
            Err(e) => {
                if let Some((_, why)) = NOT_REPLAYABLE.iter().find(|(n, _)| *n == name) {
                    let text = e.to_string();
                    assert!(
                        matches!(
                            e.kind,
                            ImportErrorKind::NoProviderCall { .. }
                                | ImportErrorKind::NoConversation { .. }
                        ),
                        "{name} ({why}): {text}"
                    );
                    continue;
                }
                let text = std::fs::read_to_string(&file).unwrap();
                assert!(
                    matches!(e.kind, ImportErrorKind::NoProviderCall { .. })
                        && !routed_somewhere(&text),
                    "{name} does not import: {e}"
                );
                waiting.push(name);
            }
        }
    }
    assert!(
        with_calls.len() >= 14,
        "only {} cassettes",
        with_calls.len()
    );
    for p in Provider::ALL {
        assert!(
            with_calls.iter().any(|c| c.provider() == p),
            "no {p} cassette"
        );
    }
    eprintln!("recordings waiting for a provider tooltape does not read yet: {waiting:?}");
    assert_replays_conformant(with_calls).await;
}

/// The plan `scripts/import_fixtures.py` follows.
fn plan() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(root().join("scripts/fixture-plan.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The fields the script owns: what import writes there is replaced from the plan and the
/// reference PROVENANCE.md (the notes are extended, not replaced).
const SCRIPT_OWNED: [&str; 5] = [
    "/description",
    "/source/repository",
    "/source/path",
    "/source/commit",
    "/source/license",
];

fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let at = format!("{at}/{key}");
                match (x.get(key), y.get(key)) {
                    (Some(p), Some(q)) => differences(p, q, &at, out),
                    _ => out.push(at),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{at}/{i}"), out);
            }
        }
        _ if a != b => out.push(at.to_owned()),
        _ => {}
    }
}

#[test]
fn re_importing_the_recordings_reproduces_the_bundled_fixtures() {
    let recordings = recordings();
    let mut reproduced = Vec::new();
    for (recording, entry) in plan() {
        let request = entry.get("request").and_then(Value::as_str).map(|f| {
            let text = std::fs::read_to_string(root().join(f)).unwrap();
            (f.to_owned(), serde_json::from_str(&text).unwrap())
        });
        let options = ImportOptions {
            request,
            ..ImportOptions::default()
        };
        let made = import(&recordings.join(&recording), &options);
        for (name, want) in entry["cassettes"].as_object().unwrap() {
            let imported = made
                .iter()
                .find(|c| &c.file.name == name)
                .unwrap_or_else(|| panic!("{recording}: no cassette `{name}`"));
            let fixture = root().join("fixtures").join(imported.relative_path());
            let bundled: Value =
                serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
            let fresh = serde_json::to_value(&imported.file).unwrap();
            let mut diff = Vec::new();
            differences(&fresh, &bundled, "", &mut diff);
            let unexpected: Vec<&String> = diff
                .iter()
                .filter(|d| !SCRIPT_OWNED.contains(&d.as_str()) && d.as_str() != "/source/notes")
                .collect();
            assert!(
                unexpected.is_empty(),
                "{}: re-importing `{recording}` differs at {unexpected:?}; run scripts/import_fixtures.py",
                fixture.display()
            );
            assert_eq!(bundled["description"], want["description"], "{name}");
            let notes = bundled["source"]["notes"].as_str().unwrap();
            let made_notes = imported.file.source.notes.as_deref().unwrap();
            let expected = match want.get("note").and_then(Value::as_str) {
                Some(note) => format!("{made_notes} {note}"),
                None => made_notes.to_owned(),
            };
            assert_eq!(
                notes, expected,
                "{name}: the notes are import's, then the plan's"
            );
            reproduced.push(fixture);
        }
    }
    for file in fixture_files() {
        let c: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        if c["source"]["kind"] == "recorded" {
            assert!(
                reproduced.contains(&file),
                "{} is a recorded fixture that no recording of the plan reproduces",
                file.display()
            );
        }
    }
}
