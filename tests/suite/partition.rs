//! `--partition K/N` on `run` and `check`: the shards of a CI matrix cover every cassette
//! exactly once, and their JUnit reports merge without a clash.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::cli::tooltape;
use crate::support::root;

fn names(report: &Value) -> Vec<String> {
    report["cassettes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}/{}",
                c["provider"].as_str().unwrap(),
                c["name"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn run_shards_cover_every_bundled_cassette_exactly_once() {
    let whole = tooltape(&["run", "--format", "json"]);
    assert_eq!(whole.status.code(), Some(0));
    let all: Vec<String> = names(&serde_json::from_slice(&whole.stdout).unwrap());
    for n in [2, 3] {
        let mut seen: Vec<String> = Vec::new();
        let mut sizes = Vec::new();
        for k in 1..=n {
            let out = tooltape(&[
                "run",
                "--format",
                "json",
                "--partition",
                &format!("{k}/{n}"),
            ]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{k}/{n}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let shard = names(&serde_json::from_slice(&out.stdout).unwrap());
            assert!(
                String::from_utf8_lossy(&out.stderr).contains(&format!(
                    "partition {k}/{n}: {} of the {} cassettes",
                    shard.len(),
                    all.len()
                )),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            sizes.push(shard.len());
            seen.extend(shard);
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{n} shards: a cassette ran twice");
        assert_eq!(
            unique,
            all.iter().collect::<BTreeSet<_>>(),
            "{n} shards: every cassette ran"
        );
        let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
        assert!(max - min <= 1, "{n} shards are balanced: {sizes:?}");
    }
}

#[test]
fn check_shards_junit_reports_hold_disjoint_testcases_that_add_up_to_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = root().join("fixtures/anthropic");
    let count = std::fs::read_dir(&folder)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    let mut cases = Vec::new();
    for k in 1..=3 {
        let out_file = dir.path().join(format!("shard-{k}.xml"));
        // `true` makes no request, so every cassette fails: a report full of failures must
        // split as cleanly as a green one.
        let out = tooltape(&[
            "check",
            folder.to_str().unwrap(),
            "--partition",
            &format!("{k}/3"),
            "--format",
            "junit",
            "--output",
            out_file.to_str().unwrap(),
            "--",
            "true",
        ]);
        assert_ne!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let xml = std::fs::read_to_string(&out_file).unwrap();
        for line in xml
            .lines()
            .filter(|l| l.trim_start().starts_with("<testcase "))
        {
            let name = line
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            cases.push(name.to_owned());
        }
    }
    let unique: BTreeSet<&String> = cases.iter().collect();
    assert_eq!(
        unique.len(),
        cases.len(),
        "a testcase is in two shards: {cases:?}"
    );
    assert_eq!(cases.len(), count, "{cases:?}");
}

#[test]
fn a_bad_partition_is_a_usage_error_that_shows_the_form() {
    for bad in ["0/3", "4/3", "3", "a/b", "1/0"] {
        let out = tooltape(&["run", "--partition", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("is not K/N with 1 <= K <= N"),
            "{bad}: {stderr}"
        );
    }
}

#[test]
fn a_shard_with_no_cassette_reports_none_and_exits_0() {
    let one = root().join("fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json");
    let out = tooltape(&[
        "run",
        one.to_str().unwrap(),
        "--partition",
        "2/2",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(names(&report), Vec::<String>::new());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to run"));
}
