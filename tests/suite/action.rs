//! The GitHub Action (`action.yml`): its shell steps, read out of the YAML and run with bash as
//! a runner runs them (inputs as the environment the steps declare, `GITHUB_OUTPUT` and
//! `GITHUB_STEP_SUMMARY` files), against the bundled fixtures and the example loops. There is
//! no GitHub here: what is tested is every line the action runs. The example workflow of
//! `examples/github-actions/` is checked against the action's inputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_norway::Value;

use crate::pytest_plugin::{run, tools_python, wheel};
use crate::python::python;
use crate::support::{fixture_files, root};

fn yaml(rel: &str) -> Value {
    let text = std::fs::read_to_string(root().join(rel)).expect("the YAML file is readable");
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn action() -> Value {
    yaml("action.yml")
}

/// The action's inputs and their defaults.
fn inputs(action: &Value) -> BTreeMap<String, String> {
    action["inputs"]
        .as_mapping()
        .expect("action.yml has inputs")
        .iter()
        .map(|(k, v)| {
            let default = match &v["default"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => panic!("input {k:?}: a default that is not a string: {other:?}"),
            };
            (k.as_str().unwrap().to_owned(), default)
        })
        .collect()
}

/// How one run of a step ended.
struct Ran {
    code: Option<i32>,
    log: String,
    outputs: BTreeMap<String, String>,
    summary: String,
}

/// Runs the step named `name` as a runner would: its script with bash, its `env:` with the
/// `${{ inputs.X }}` and `${{ github.action_path }}` expressions resolved, and a PATH that
/// starts with `path_first`.
fn step(name: &str, given: &[(&str, &str)], path_first: &Path, dir: &Path) -> Ran {
    let action = action();
    let mut values = inputs(&action);
    for (k, v) in given {
        assert!(values.contains_key(*k), "action.yml has no input `{k}`");
        values.insert((*k).to_owned(), (*v).to_owned());
    }
    let steps = action["runs"]["steps"].as_sequence().expect("runs.steps");
    let step = steps
        .iter()
        .find(|s| s["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no step `{name}` in action.yml"));
    assert_eq!(step["shell"].as_str(), Some("bash"), "{name}: a bash step");
    let script = step["run"].as_str().expect("the step runs a script");
    assert!(
        !script.contains("${{"),
        "{name}: an expression spliced into the script; pass it through env:"
    );
    let expression =
        Regex::new(r"^\$\{\{\s*(?:inputs\.([A-Za-z0-9_-]+)|(github\.action_path))\s*\}\}$")
            .unwrap();
    let output = dir.join(format!("{name}.output"));
    let summary = dir.join(format!("{name}.summary"));
    std::fs::write(&output, "").unwrap();
    std::fs::write(&summary, "").unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["-e", "-c", script])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", path_first.display()))
        .env("HOME", dir)
        .env("TMPDIR", dir)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .current_dir(root());
    for (var, value) in step["env"].as_mapping().into_iter().flatten() {
        let value = value.as_str().expect("an env value is a string");
        let caps = expression
            .captures(value)
            .unwrap_or_else(|| panic!("{name}: env {var:?} = {value:?} is not an input"));
        let resolved = match (caps.get(1), caps.get(2)) {
            (Some(input), _) => values
                .get(input.as_str())
                .unwrap_or_else(|| panic!("{name}: no input `{}`", input.as_str()))
                .clone(),
            _ => root().display().to_string(),
        };
        cmd.env(var.as_str().unwrap(), resolved);
    }
    let out = cmd.output().expect("bash runs the step");
    let outputs = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Ran {
        code: out.status.code(),
        log: format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        outputs,
        summary: std::fs::read_to_string(&summary).unwrap(),
    }
}

/// The test cases of a JUnit file: (name, failure type if it failed, skipped).
fn testcases(file: &Path) -> Vec<(String, Option<String>, bool)> {
    let xml = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let case = Regex::new(r#"(?s)<testcase name="([^"]+)"(.*?)(?:/>|</testcase>)"#).unwrap();
    let failure = Regex::new(r#"<failure[^>]* type="([^"]+)""#).unwrap();
    case.captures_iter(&xml)
        .map(|c| {
            let body = &c[2];
            (
                c[1].to_owned(),
                failure.captures(body).map(|f| f[1].to_owned()),
                body.contains("<skipped"),
            )
        })
        .collect()
}

/// A venv with pip, and the action's pip install step run in it with the test wheel.
fn installed(dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    run(
        Command::new(tools_python()).args(["-m", "venv"]).arg(&venv),
        "python -m venv",
    );
    let bin = venv.join("bin");
    let wheel = wheel();
    let ran = step(
        "Install tooltape",
        &[("install", "pip"), ("package", wheel.to_str().unwrap())],
        &bin,
        dir,
    );
    assert_eq!(ran.code, Some(0), "{}", ran.log);
    assert!(
        ran.log
            .contains(&format!("tooltape {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        ran.log
    );
    assert!(
        bin.join("tooltape").is_file(),
        "pip put tooltape in the venv"
    );
    bin
}

#[test]
fn the_action_installs_with_pip_and_its_shards_check_every_cassette_once_with_junit() {
    let dir = tempfile::tempdir().unwrap();
    let bin = installed(dir.path());
    let good = format!(
        "'{}' examples/loops/openai_async_gather.py",
        python().display()
    );
    let mut seen = Vec::new();
    for shard in ["1/2", "2/2"] {
        let junit = dir
            .path()
            .join(format!("reports/shard-{}.xml", &shard[..1]));
        let ran = step(
            "Run tooltape check",
            &[
                ("command", &good),
                ("cassettes", "fixtures/openai-chat"),
                ("partition", shard),
                ("jobs", "2"),
                ("junit", junit.to_str().unwrap()),
            ],
            &bin,
            dir.path(),
        );
        assert_eq!(ran.code, Some(0), "shard {shard}:\n{}", ran.log);
        assert_eq!(ran.outputs["exit-code"], "0");
        assert_eq!(ran.outputs["junit"], junit.to_str().unwrap());
        assert!(
            ran.log.contains("conformant: "),
            "the human report is in the log"
        );
        assert!(
            ran.summary
                .contains(&format!("### tooltape check (shard {shard})"))
                && ran.summary.contains("PASS  "),
            "{}",
            ran.summary
        );
        for (name, failure, skipped) in testcases(&junit) {
            assert_eq!(failure, None, "{name} failed in shard {shard}");
            assert_eq!(skipped, name == "handmade-sequential-tools", "{name}");
            seen.push(name);
        }
    }
    seen.sort();
    let mut folder: Vec<String> = fixture_files()
        .iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("openai-chat")))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    folder.sort();
    assert_eq!(
        seen, folder,
        "the two shards' JUnit reports hold every cassette once"
    );
}

#[test]
fn the_action_fails_the_step_with_the_finding_in_junit_on_a_known_bad_loop() {
    let dir = tempfile::tempdir().unwrap();
    let bin = crate::support::bin();
    let bin_dir = bin.parent().unwrap();
    let ran = step(
        "Install tooltape",
        &[("install", "none")],
        bin_dir,
        dir.path(),
    );
    assert_eq!(
        ran.code,
        Some(0),
        "tooltape is on the PATH already: {}",
        ran.log
    );
    let junit = dir.path().join("tooltape.xml");
    let bad = format!(
        "'{}' examples/loops/bad_first_call_only.py",
        python().display()
    );
    let ran = step(
        "Run tooltape check",
        &[
            ("command", &bad),
            (
                "cassettes",
                "fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json",
            ),
            ("junit", junit.to_str().unwrap()),
        ],
        bin_dir,
        dir.path(),
    );
    assert_eq!(ran.code, Some(1), "{}", ran.log);
    assert_eq!(ran.outputs["exit-code"], "1");
    assert!(
        ran.log.contains("error TT001 missing-tool-result"),
        "{}",
        ran.log
    );
    assert_eq!(
        testcases(&junit),
        vec![(
            "fantasy-gpt-4o-parallel2-followup".to_owned(),
            Some("TT001".to_owned()),
            false
        )]
    );

    let ran = step(
        "Install tooltape",
        &[("install", "brew")],
        bin_dir,
        dir.path(),
    );
    assert_eq!(ran.code, Some(2), "{}", ran.log);
    assert!(
        ran.log.contains("install must be pip, cargo or none"),
        "{}",
        ran.log
    );
}

#[test]
fn the_example_workflow_uses_only_inputs_the_action_has_and_shards_over_its_matrix() {
    let action = action();
    let known = inputs(&action);
    for (name, spec) in action["inputs"].as_mapping().unwrap() {
        assert!(
            spec["description"].as_str().is_some(),
            "input {name:?} has no description"
        );
    }
    let workflow = yaml("examples/github-actions/tooltape.yml");
    let job = &workflow["jobs"]["conformance"];
    let shards: Vec<u64> = job["strategy"]["matrix"]["shard"]
        .as_sequence()
        .expect("a shard matrix")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let n = shards.len() as u64;
    assert_eq!(shards, (1..=n).collect::<Vec<_>>(), "shards 1..N");
    let uses = job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/tooltape@")))
        .expect("a step uses the tooltape action");
    let with = uses["with"].as_mapping().unwrap();
    for key in with.keys() {
        assert!(
            known.contains_key(key.as_str().unwrap()),
            "unknown input {key:?}"
        );
    }
    assert_eq!(
        with.get("partition").and_then(Value::as_str),
        Some(format!("${{{{ matrix.shard }}}}/{n}").as_str())
    );
    assert!(with.contains_key("command"), "the required input is given");
    let junit = with.get("junit").and_then(Value::as_str).unwrap();
    assert!(
        junit.contains("${{ matrix.shard }}"),
        "one JUnit file per shard: {junit}"
    );
}
