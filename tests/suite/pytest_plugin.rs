//! The Python package: the wheel maturin packs from the debug build, installed into a fresh
//! venv, and the sample pytest suite (`tests/pytest-sample/`) run there with the plugin the
//! wheel carries: correct loops pass, known-bad ones fail with their rule in the failure text.
//!
//! `scripts/python-package-env.sh` installs the pinned maturin and pytest (from PyPI, once);
//! the sample loops use the SDKs of `scripts/python-env.sh`. The fresh venv sees both through a
//! `.pth` file; tooltape itself comes only from the wheel (the PATH holds the venv's `bin/`
//! and the system's, no cargo output), so the test proves what `pip install .` gives a user.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::python::python;
use crate::support::{bin, fixture_files, root};

/// The venv with the pinned maturin and pytest, made once per test run.
pub fn tools_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(tools_venv).clone()
}

fn tools_venv() -> PathBuf {
    let out = Command::new("bash")
        .arg(root().join("scripts/python-package-env.sh"))
        .current_dir(root())
        .output()
        .expect("bash runs scripts/python-package-env.sh");
    assert!(
        out.status.success(),
        "scripts/python-package-env.sh failed (it needs python3 with venv and access to PyPI):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("the script prints the python path")
            .trim(),
    )
}

pub fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn purelib(python: &Path) -> String {
    run(
        Command::new(python).args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ]),
        "python finds its site-packages",
    )
}

/// The wheel, packed once per test run from the debug build of these tests: cargo's build
/// folder is the one `cargo test` used (`CARGO_BUILD_BUILD_DIR`), so the dependencies are not
/// compiled again, and the final binary is linked into a target folder of its own, so the
/// `tooltape` the other tests run is never replaced under them. Stored uncompressed:
/// deflating a debug binary would be most of the cost. (Cargo.toml turns on, in the normal
/// dependencies, the features the dev-dependencies turn on, so `cargo build` finds every
/// crate built and only links the binary.)
pub fn wheel() -> PathBuf {
    static WHEEL: OnceLock<PathBuf> = OnceLock::new();
    WHEEL
        .get_or_init(|| {
            let build_dir = bin()
                .parent()
                .and_then(Path::parent)
                .expect("the binary sits in TARGET/debug")
                .to_owned();
            let dir = build_dir.join("test-wheel");
            let out = dir.join("wheels");
            let _ = std::fs::remove_dir_all(&out);
            run(
                Command::new(tools_python())
                    .args(["-m", "maturin", "build", "--profile", "dev", "--quiet"])
                    .args(["--compression-method", "stored", "--auditwheel", "skip"])
                    .arg("--target-dir")
                    .arg(dir.join("target"))
                    .arg("--out")
                    .arg(&out)
                    .env("CARGO_BUILD_BUILD_DIR", &build_dir)
                    .current_dir(root()),
                "maturin build",
            );
            let wheels: Vec<PathBuf> = std::fs::read_dir(&out)
                .expect("maturin's output folder")
                .map(|e| e.expect("a directory entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "whl"))
                .collect();
            assert_eq!(wheels.len(), 1, "one wheel: {wheels:?}");
            wheels[0].clone()
        })
        .clone()
}

/// A fresh venv with the wheel installed and the test tools (pytest, the SDKs) visible.
fn fresh_venv(tools: &Path, wheel: &Path, dir: &Path) -> PathBuf {
    let venv = dir.join("venv");
    run(
        Command::new(tools)
            .args(["-m", "venv", "--without-pip"])
            .arg(&venv),
        "python -m venv",
    );
    let py = venv.join("bin/python");
    run(
        Command::new(tools)
            .args(["-m", "pip", "--python"])
            .arg(&py)
            .args([
                "install",
                "--no-deps",
                "--no-index",
                "--disable-pip-version-check",
                "--quiet",
            ])
            .arg(wheel),
        "pip install the wheel",
    );
    let pth = format!("{}\n{}\n", purelib(&python()), purelib(tools));
    std::fs::write(
        Path::new(&purelib(&py)).join("tooltape-test-tools.pth"),
        pth,
    )
    .expect("the .pth file is written");
    py
}

/// Each test case of a JUnit file, by name: outcome (`passed`, `failed`, `error`, `skipped`),
/// the failure's message and text, and the test's properties.
const READ_JUNIT: &str = r#"
import json, sys, xml.etree.ElementTree as ET
cases = {}
for case in ET.parse(sys.argv[1]).iter("testcase"):
    outcome, text = "passed", ""
    for kind in ("failure", "error", "skipped"):
        node = case.find(kind)
        if node is not None:
            outcome = {"failure": "failed"}.get(kind, kind)
            text = (node.get("message") or "") + "\n" + (node.text or "")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    cases[case.get("name")] = {"outcome": outcome, "text": text, "type": (case.find("failure").get("type") if case.find("failure") is not None else None), "properties": props}
print(json.dumps(cases))
"#;

fn junit(py: &Path, file: &Path) -> BTreeMap<String, Value> {
    let text = run(
        Command::new(py).args(["-c", READ_JUNIT]).arg(file),
        "reading a JUnit file",
    );
    serde_json::from_str(&text).expect("the reader prints JSON")
}

/// Runs pytest on the sample suite in the fresh venv, with nothing of this build's
/// environment: the binary comes from the wheel, the PATH has no cargo output.
fn pytest(py: &Path, dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let venv_bin = py.parent().expect("the venv's bin/");
    let out = Command::new(py)
        .args([
            "-m",
            "pytest",
            "tests/pytest-sample",
            "-p",
            "no:cacheprovider",
            "-q",
        ])
        .arg("--rootdir")
        .arg(root())
        .args(args)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", venv_bin.display()))
        .env("TMPDIR", dir)
        .current_dir(root())
        .output()
        .expect("pytest runs");
    (
        out.status.code(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn outcome<'a>(cases: &'a BTreeMap<String, Value>, name: &str, log: &str) -> &'a Value {
    cases
        .get(name)
        .unwrap_or_else(|| panic!("no test case `{name}` in pytest's JUnit report:\n{log}"))
}

#[test]
fn the_wheel_installs_tooltape_and_its_pytest_plugin_judges_the_sample_suite() {
    let tools = tools_python();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let py = fresh_venv(&tools, &wheel(), dir.path());

    let installed = py.with_file_name("tooltape");
    let version = run(
        Command::new(&installed).arg("--version"),
        "the installed tooltape",
    );
    assert_eq!(version, format!("tooltape {}", env!("CARGO_PKG_VERSION")));

    let pytest_junit = dir.path().join("pytest.xml");
    let tooltape_junit = dir.path().join("tooltape.xml");
    let (code, log) = pytest(
        &py,
        dir.path(),
        &[
            &format!("--junitxml={}", pytest_junit.display()),
            &format!("--tooltape-junit={}", tooltape_junit.display()),
        ],
    );
    assert_eq!(
        code,
        Some(1),
        "the known-bad tests fail, nothing else:\n{log}"
    );
    let cases = junit(&py, &pytest_junit);

    for name in [
        "test_openai_loop_answers_both_parallel_calls",
        "test_anthropic_loop_answers_four_parallel_calls",
        "test_a_loop_script_in_a_subprocess",
        "test_results_reversed",
    ] {
        assert_eq!(
            outcome(&cases, name, &log)["outcome"],
            "passed",
            "{name}: {log}"
        );
    }

    let folder: Vec<String> = fixture_files()
        .iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("openai-chat")))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let per_cassette: Vec<&String> = cases
        .keys()
        .filter(|k| k.starts_with("test_openai_loop_on_every_openai_cassette["))
        .collect();
    assert_eq!(
        per_cassette.len(),
        folder.len(),
        "one test id per cassette: {per_cassette:?}"
    );
    for name in &folder {
        let case = outcome(
            &cases,
            &format!("test_openai_loop_on_every_openai_cassette[{name}]"),
            &log,
        );
        if name == "handmade-sequential-tools" {
            assert_eq!(case["outcome"], "skipped", "{case}");
            assert!(
                case["text"]
                    .as_str()
                    .unwrap()
                    .contains("--require sequential-tools"),
                "{case}"
            );
        } else {
            assert_eq!(case["outcome"], "passed", "{name}: {case}");
        }
    }

    for (name, rule) in [
        ("test_first_call_only", "TT001 missing-tool-result"),
        ("test_tools_one_by_one", "TT008 sequential-execution"),
        ("test_sends_nothing", "sent no request to the replay server"),
    ] {
        let case = outcome(&cases, name, &log);
        assert_eq!(case["outcome"], "failed", "{name}: {case}");
        assert!(
            case["text"].as_str().unwrap().contains(rule),
            "{name}: no `{rule}` in {case}"
        );
    }
    assert_eq!(
        outcome(&cases, "test_first_call_only", &log)["properties"]["tooltape_rules"],
        "TT001"
    );
    assert!(
        outcome(&cases, "test_first_call_only", &log)["text"]
            .as_str()
            .unwrap()
            .contains("did not have response messages"),
        "the SDK's exception (the server's 400) is kept as the cause"
    );

    let tooltape = junit(&py, &tooltape_junit);
    let first = outcome(
        &tooltape,
        "tests/pytest-sample/test_known_bad.py::test_first_call_only",
        &log,
    );
    assert_eq!(first["type"], "TT001", "{first}");
    assert_eq!(
        tooltape.len(),
        cases.len() - 1,
        "every test but the skipped one has its tooltape testcase: {tooltape:?}"
    );

    let (code, log) = pytest(
        &py,
        dir.path(),
        &["--tooltape-strict", "-k", "test_results_reversed"],
    );
    assert_eq!(
        code,
        Some(1),
        "the warning fails under the strict profile:\n{log}"
    );
    assert!(log.contains("TT007"), "{log}");
}
