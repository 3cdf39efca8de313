//! What the binary prints on standard error, with its exit code: each error once, as one
//! `error: a: b: c` line, and clap's own message for a bad flag.

use std::path::PathBuf;

use crate::cli::tooltape;
use crate::support::root;

/// A fresh temporary folder, replaced by `[TMP]` in the snapshots.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("tooltape-stderr-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, file: &str) -> String {
        self.0.join(file).to_str().unwrap().to_owned()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The exit code and standard error of `tooltape args`, temp paths normalised.
fn stderr_of(args: &[&str], temp: Option<&Temp>) -> (Option<i32>, String) {
    let out = tooltape(args);
    let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if let Some(temp) = temp {
        stderr = stderr.replace(temp.0.to_str().unwrap(), "[TMP]");
    }
    (out.status.code(), stderr)
}

fn snapshot(name: &str, (code, stderr): &(Option<i32>, String)) {
    let code = code.map_or_else(|| "none (killed)".to_owned(), |c| c.to_string());
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, format!("exit code: {code}\nstderr:\n{stderr}"));
    });
}

#[test]
fn a_missing_cassette_is_one_error_line_and_exit_2() {
    let temp = Temp::new("missing");
    let seen = stderr_of(&["run", &temp.path("missing.json")], Some(&temp));
    assert_eq!(seen.0, Some(2));
    assert_eq!(seen.1.lines().count(), 1, "{}", seen.1);
    snapshot("stderr-missing-cassette", &seen);
}

#[test]
fn a_truncated_cassette_is_one_error_line_naming_the_line_and_exit_2() {
    let temp = Temp::new("truncated");
    let text =
        std::fs::read_to_string(root().join("fixtures/openai-chat/handmade-single-call.json"))
            .unwrap();
    let file = temp.path("truncated.json");
    std::fs::write(&file, &text[..text.len() / 2]).unwrap();
    let seen = stderr_of(&["run", &file], Some(&temp));
    assert_eq!(seen.0, Some(2));
    assert_eq!(seen.1.lines().count(), 1, "{}", seen.1);
    snapshot("stderr-truncated-cassette", &seen);
}

#[test]
fn a_bad_flag_value_names_the_accepted_values_and_exits_2() {
    let seen = stderr_of(&["run", "--format", "yaml"], None);
    assert_eq!(seen.0, Some(2));
    snapshot("stderr-bad-flag", &seen);
}

#[test]
fn junit_is_refused_where_there_is_no_test_case_to_report() {
    for command in ["validate", "rules"] {
        let out = tooltape(&[command, "--format", "junit"]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(out.stdout.is_empty(), "{command} wrote a report");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("invalid value 'junit' for '--format <FORMAT>'")
                && stderr.contains("[possible values: human, json]"),
            "{command}: {stderr}"
        );
    }
    snapshot(
        "stderr-junit-refused",
        &stderr_of(&["validate", "--format", "junit"], None),
    );
}

#[test]
fn a_closed_standard_output_is_not_an_error() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(crate::support::bin())
        .arg("rules")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
