//! The `tooltape` binary: exit codes and the JSON contracts.

use std::process::Command;

use serde_json::Value;

use crate::support::{bin, root};

/// Runs the binary in the repository root, without colour.
pub(crate) fn tooltape(args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

#[test]
fn run_on_the_bundled_fixtures_exits_0_with_the_json_report_contract() {
    let out = tooltape(&["run", "--format", "json", "-j", "8"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["conformant"], true);
    let cassettes = report["cassettes"].as_array().unwrap();
    assert!(cassettes.len() >= 20);
    for c in cassettes {
        for key in [
            "name",
            "provider",
            "streaming",
            "conformant",
            "findings",
            "turns",
        ] {
            assert!(c.get(key).is_some(), "missing `{key}` in {c}");
        }
        for t in c["turns"].as_array().unwrap() {
            for key in [
                "index",
                "tool_calls",
                "tool_wall_ms",
                "ideal_ms",
                "sequential_ms",
            ] {
                assert!(t.get(key).is_some(), "missing `{key}` in {t}");
            }
        }
    }
}

#[test]
fn run_with_a_filter_runs_only_matching_cassettes() {
    let out = tooltape(&[
        "run",
        "--format",
        "json",
        "--filter",
        "handmade-single-call",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cassettes"].as_array().unwrap().len(), 1);
}

#[test]
fn run_writes_the_report_to_a_file_with_output() {
    let dir = std::env::temp_dir().join(format!("tooltape-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.json");
    let out = tooltape(&[
        "run",
        "fixtures/openai-chat/handmade-single-call.json",
        "--format",
        "json",
        "--output",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(report["cassettes"][0]["name"], "handmade-single-call");
}

#[test]
fn a_broken_cassette_exits_2_and_names_the_file() {
    let dir = std::env::temp_dir().join(format!("tooltape-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.json");
    std::fs::write(&file, "{\"tooltape\": 1, \"provider\": ").unwrap();
    let out = tooltape(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.json"), "{stderr}");
}

#[test]
fn a_missing_path_exits_2() {
    let out = tooltape(&["run", "no/such/folder"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_bad_flag_exits_2() {
    let out = tooltape(&["run", "--format", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rules_lists_the_catalogue_as_json() {
    let out = tooltape(&["rules", "--format", "json"]);
    let rules: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "TT001", "TT002", "TT003", "TT004", "TT006", "TT011", "TT012", "TT013", "TT014",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
}

#[test]
fn schema_prints_the_cassette_json_schema() {
    let out = tooltape(&["schema"]);
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema["properties"]["tooltape"].is_object(), "{schema}");
    assert!(schema["properties"]["interactions"].is_object());
}

#[test]
fn validate_accepts_the_bundled_fixtures_and_rejects_a_broken_one() {
    let out = tooltape(&["validate", "fixtures"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let dir = std::env::temp_dir().join(format!("tooltape-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(
        root().join("fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json"),
    )
    .unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["interactions"][1]["request"]["body"]["messages"]
        .as_array_mut()
        .unwrap()
        .pop();
    std::fs::write(dir.join("unanswered.json"), v.to_string()).unwrap();
    let out = tooltape(&["validate", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let problems = report["cassettes"][0]["problems"].to_string();
    assert!(problems.contains("not answered"), "{problems}");
}

#[test]
fn run_writes_junit_xml_with_one_testcase_per_cassette() {
    let out = tooltape(&["run", "fixtures/anthropic", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(0));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    let cases = xml.matches("<testcase ").count();
    let files = std::fs::read_dir(root().join("fixtures/anthropic"))
        .unwrap()
        .count();
    assert_eq!(cases, files, "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}

fn check(args: &[&str], command: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec![
        "check",
        "fixtures/openai-chat/handmade-single-call.json",
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    all.push("--");
    all.extend_from_slice(command);
    let out = tooltape(&all);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), report)
}

#[test]
fn check_exits_3_when_the_command_cannot_start() {
    let (code, report) = check(&[], &["/no/such/loop"]);
    assert_eq!(code, Some(3));
    let error = report["cassettes"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("could not start") && error.contains("/no/such/loop"),
        "{error}"
    );
}

#[test]
fn check_exits_3_when_the_command_fails_with_no_finding_to_explain_it() {
    let (code, report) = check(
        &[],
        &["sh", "-c", "echo doing things; echo broken >&2; exit 7"],
    );
    assert_eq!(code, Some(3));
    let c = &report["cassettes"][0];
    assert!(c["error"].as_str().unwrap().contains("exit code 7"), "{c}");
    assert_eq!(c["command"]["stdout"], "doing things\n");
    assert_eq!(c["command"]["stderr"], "broken\n");
}

#[test]
fn check_exits_3_when_the_command_sends_nothing() {
    let (code, report) = check(&[], &["true"]);
    assert_eq!(code, Some(3));
    assert!(
        report["cassettes"][0]["error"]
            .as_str()
            .unwrap()
            .contains("without sending a request")
    );
}

#[test]
fn check_kills_a_command_that_runs_past_the_timeout_and_exits_3() {
    let started = std::time::Instant::now();
    let (code, report) = check(&["--timeout", "1"], &["sleep", "30"]);
    assert_eq!(code, Some(3));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(
        report["cassettes"][0]["command"]["status"]["status"],
        "timed_out"
    );
}

#[test]
fn check_gives_the_command_the_environment_contract() {
    let script = "for v in OPENAI_BASE_URL ANTHROPIC_BASE_URL GOOGLE_GEMINI_BASE_URL OPENAI_API_KEY ANTHROPIC_API_KEY TOOLTAPE_URL \
                  TOOLTAPE_TOOLS_URL TOOLTAPE_MCP_URL TOOLTAPE_CASSETTE TOOLTAPE_PROMPT TOOLTAPE_TOOLS_FILE TOOLTAPE_MESSAGES_FILE TOOLTAPE_MODEL; \
                  do eval \"echo $v=\\$$v\"; done; cat \"$TOOLTAPE_TOOLS_FILE\"; exit 9";
    let (_, report) = check(&[], &["sh", "-c", script]);
    let stdout = report["cassettes"][0]["command"]["stdout"]
        .as_str()
        .unwrap();
    let var = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} missing from {stdout}"))
            .to_owned()
    };
    let root = var("TOOLTAPE_URL");
    assert!(
        root.starts_with("http://127.0.0.1:") && root.contains("/s/handmade-single-call"),
        "{root}"
    );
    assert_eq!(var("OPENAI_BASE_URL"), format!("{root}/v1"));
    assert_eq!(var("ANTHROPIC_BASE_URL"), root);
    assert_eq!(var("GOOGLE_GEMINI_BASE_URL"), root);
    assert_eq!(var("TOOLTAPE_TOOLS_URL"), format!("{root}/tools"));
    assert_eq!(var("TOOLTAPE_MCP_URL"), format!("{root}/mcp"));
    assert_eq!(var("TOOLTAPE_CASSETTE"), "handmade-single-call");
    assert!(!var("OPENAI_API_KEY").is_empty() && !var("ANTHROPIC_API_KEY").is_empty());
    let cassette = crate::support::load("openai-chat/handmade-single-call.json");
    assert_eq!(var("TOOLTAPE_PROMPT"), cassette.prompt());
    assert_eq!(var("TOOLTAPE_MODEL"), cassette.model());
    assert!(!var("TOOLTAPE_MODEL").is_empty());
    let tools_json = &stdout[stdout.find('[').unwrap()..];
    let tools: Value = serde_json::from_str(tools_json).unwrap();
    assert_eq!(tools, cassette.file.interactions[0].request.body["tools"]);
}

/// `check --help` teaches the environment: every provider and tooltape variable the command
/// gets is named there, with each value `TOOLTAPE_PROVIDER` can take.
#[test]
fn check_help_names_every_variable_the_command_gets() {
    let (_, report) = check(&[], &["sh", "-c", "env; exit 9"]);
    let stdout = report["cassettes"][0]["command"]["stdout"]
        .as_str()
        .unwrap();
    let help = tooltape(&["check", "--help"]);
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let mut names: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_once('=').map(|(name, _)| name))
        .filter(|name| {
            ["OPENAI_", "ANTHROPIC_", "GOOGLE_", "GEMINI_", "TOOLTAPE_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
        })
        .collect();
    names.sort_unstable();
    assert!(names.contains(&"GOOGLE_GEMINI_BASE_URL"), "{names:?}");
    for name in names {
        assert!(
            help.contains(name),
            "`check --help` does not name {name}:\n{help}"
        );
    }
    for provider in ["openai-chat", "openai-responses", "anthropic", "gemini"] {
        assert!(help.contains(provider), "{provider} missing from:\n{help}");
    }
}

#[test]
fn check_skips_a_cassette_that_needs_a_capability_unless_it_is_required() {
    let sequential = "fixtures/openai-chat/handmade-sequential-tools.json";
    let out = tooltape(&[
        "check", sequential, "--format", "json", "--", "sh", "-c", "exit 0",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cassettes"].as_array().unwrap().len(), 0);
    assert_eq!(report["skipped"][0]["name"], "handmade-sequential-tools");
    let reason = report["skipped"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("--require sequential-tools"), "{reason}");
    let human = tooltape(&["check", sequential, "--", "sh", "-c", "exit 0"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("SKIP  handmade-sequential-tools") && text.contains("1 skipped"),
        "{text}"
    );
    let required = tooltape(&[
        "check",
        sequential,
        "--require",
        "sequential-tools",
        "--format",
        "json",
        "--",
        "sh",
        "-c",
        "echo \"$TOOLTAPE_SEQUENTIAL_TOOLS\"; exit 0",
    ]);
    let report: Value = serde_json::from_slice(&required.stdout).unwrap();
    assert_eq!(report["cassettes"][0]["name"], "handmade-sequential-tools");
    assert!(report.get("skipped").is_none(), "{report}");
    let stdout = report["cassettes"][0]["command"]["stdout"]
        .as_str()
        .unwrap();
    assert_eq!(stdout.trim(), "write_file");
}

#[test]
fn check_explains_a_loop_that_calls_the_other_providers_endpoint() {
    let script = "curl -s -o /dev/null -X POST -H 'x-api-key: k' -H 'anthropic-version: 2023-06-01' \
                  -d '{}' \"$ANTHROPIC_BASE_URL/v1/messages\"; exit 1";
    let (code, report) = check(&[], &["sh", "-c", script]);
    assert_eq!(code, Some(3));
    let error = report["cassettes"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("replays an `openai-chat` cassette")
            && error.contains("/v1/chat/completions"),
        "{error}"
    );
}

#[test]
fn report_to_writes_more_formats_of_the_same_report_beside_the_main_one() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("r.xml");
    let json = dir.path().join("r.json");
    let out = tooltape(&[
        "run",
        "fixtures/openai-chat/handmade-single-call.json",
        "--report-to",
        &format!("junit={}", junit.display()),
        "--report-to",
        &format!("json={}", json.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "the reference loop conforms");
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("PASS  handmade-single-call"), "{human}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(r#"<testcase name="handmade-single-call""#),
        "{xml}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["cassettes"][0]["name"], "handmade-single-call");

    for (bad, says) in [
        ("xml=r.xml", "`xml` is not a report format"),
        ("junit", "no `=`"),
    ] {
        let out = tooltape(&["run", "--report-to", bad]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}
