//! Finding and loading cassettes from hostile folders (issue 11): link loops end, FIFOs and
//! devices are refused without being opened, sizes are capped, statuses range-checked, and
//! `validate` and `run` accept exactly the same cassettes because they share one loader.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tooltape::cassette::{self, Cassette, CassetteErrorKind};

use crate::cli::tooltape;
use crate::support::root;

const SINGLE: &str = "fixtures/openai-chat/handmade-single-call.json";

fn single() -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(SINGLE)).unwrap()).unwrap()
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("tooltape-test-")
        .tempdir()
        .unwrap()
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success());
}

#[test]
fn a_folder_linked_into_itself_is_walked_once() {
    let dir = scratch();
    let sub = dir.path().join("cassettes");
    std::fs::create_dir(&sub).unwrap();
    std::fs::copy(root().join(SINGLE), sub.join("one.json")).unwrap();
    symlink(&sub, sub.join("loop-a")).unwrap();
    symlink(&sub, sub.join("loop-b")).unwrap();
    symlink(sub.join("one.json"), sub.join("same.json")).unwrap();
    let found = cassette::discover(&[dir.path().to_owned()]).unwrap();
    assert_eq!(
        found.len(),
        1,
        "one file however many links reach it: {found:?}"
    );
}

#[test]
fn a_fifo_or_a_device_is_refused_without_being_read() {
    let dir = scratch();
    let fifo = dir.path().join("x.json");
    mkfifo(&fifo);
    let found = cassette::discover(&[dir.path().to_owned()]).unwrap();
    assert_eq!(
        found,
        vec![fifo.clone()],
        "listed, for the loader to refuse"
    );
    for (path, what) in [
        (fifo, "a FIFO"),
        (PathBuf::from("/dev/zero"), "a character device"),
        (dir.path().to_owned(), "a directory"),
    ] {
        let err = Cassette::load(&path).unwrap_err();
        assert!(
            matches!(err.kind, CassetteErrorKind::NotRegularFile { .. }),
            "{err}"
        );
        assert!(err.to_string().contains(what), "{err}");
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let dir = scratch();
    let path = dir.path().join("big.json");
    std::fs::write(&path, single().to_string()).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let err = Cassette::load_limited(&path, size - 1).unwrap_err();
    assert!(
        matches!(err.kind, CassetteErrorKind::TooLarge { size: Some(s), .. } if s == size),
        "{err}"
    );
    assert!(Cassette::load_limited(&path, size).is_ok());
}

#[test]
fn invalid_utf8_names_the_offset_and_line() {
    let dir = scratch();
    let path = dir.path().join("latin1.json");
    let mut bytes = b"{\n  \"tooltape\": 1,\n  \"name\": \"caf".to_vec();
    bytes.push(0xe9);
    bytes.extend_from_slice(b"\"\n}\n");
    std::fs::write(&path, bytes).unwrap();
    let err = Cassette::load(&path).unwrap_err();
    assert!(
        matches!(
            err.kind,
            CassetteErrorKind::NotUtf8 {
                offset: 33,
                line: 3
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_status_no_provider_answers_with_is_refused_at_load() {
    for status in [0, 99, 101, 199, 600, 1000] {
        let mut v = single();
        v["interactions"][0]["response"]["status"] = status.into();
        let err = Cassette::from_json(&v.to_string(), Path::new("s.json")).unwrap_err();
        assert!(
            matches!(err.kind, CassetteErrorKind::BadStatus { interaction: 0, status: s } if s == status),
            "{status}: {err}"
        );
        assert!(
            err.to_string().contains("interactions[0].response.status"),
            "{err}"
        );
    }
}

/// Broken cassettes of every kind the loader refuses, plus a good one.
fn zoo(dir: &Path) {
    std::fs::copy(root().join(SINGLE), dir.join("good.json")).unwrap();
    let mut v = single();
    v["interactions"][0]["response"]["status"] = 101.into();
    std::fs::write(dir.join("status-101.json"), v.to_string()).unwrap();
    let mut v = single();
    v["interactions"].as_array_mut().unwrap().pop();
    std::fs::write(dir.join("ends-with-calls.json"), v.to_string()).unwrap();
    std::fs::write(
        dir.join("latin1.json"),
        b"{\"tooltape\": 1, \"name\": \"caf\xe9\"}",
    )
    .unwrap();
    std::fs::write(dir.join("truncated.json"), "{\"tooltape\": 1").unwrap();
    mkfifo(&dir.join("fifo.json"));
}

#[test]
fn validate_and_run_accept_exactly_the_same_cassettes_and_validate_names_each_cause() {
    let dir = scratch();
    zoo(dir.path());
    let out = tooltape(&["validate", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cassettes = listing["cassettes"].as_array().unwrap();
    assert_eq!(cassettes.len(), 6, "{listing}");
    for c in cassettes {
        let path = c["path"].as_str().unwrap();
        let file = Path::new(path).file_name().unwrap().to_str().unwrap();
        let problems = c["problems"].to_string();
        let cause = match file {
            "good.json" => "",
            "status-101.json" => "101 is not an HTTP status",
            "ends-with-calls.json" => "the last response asks for tools",
            "latin1.json" => "not UTF-8",
            "truncated.json" => "not valid JSON",
            "fifo.json" => "a FIFO",
            other => panic!("unexpected {other}"),
        };
        assert!(problems.contains(cause), "{file}: {problems}");
        let run = tooltape(&["run", path, "--format", "json"]);
        let expected = if c["ok"] == true { 0 } else { 2 };
        assert_eq!(
            run.status.code(),
            Some(expected),
            "{file}: validate says ok={}, run says: {}",
            c["ok"],
            String::from_utf8_lossy(&run.stderr)
        );
    }
}

#[test]
fn a_cassette_name_with_terminal_escapes_is_printed_escaped() {
    let dir = scratch();
    let mut v = single();
    v["name"] = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J".into();
    let path = dir.path().join("evil.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let out = tooltape(&["run", path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"),
        "{stdout}"
    );
}
