//! `fixtures/nonconformant/`: each follow-up breaks one rule and gets the provider's exact answer.

use std::collections::BTreeSet;

use serde_json::Value;
use tooltape::conformance::RULES;
use tooltape::server::{Entry, Replay, RequestMeta};

use crate::support::{load, root};

struct Case {
    name: String,
    doc: Value,
}

fn cases() -> Vec<Case> {
    let dir = root().join("fixtures/nonconformant");
    let mut cases: Vec<Case> = std::fs::read_dir(&dir)
        .expect("fixtures/nonconformant exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| Case {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            doc: serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

fn replay_case(case: &Case) -> (u16, String, Vec<&'static str>) {
    let cassette = load(case.doc["cassette"].as_str().expect("cassette path"));
    let replay = Replay::new();
    replay.add_session("s", cassette.clone());
    let body = match case.doc.get("raw_request") {
        Some(raw) => raw.as_str().unwrap().as_bytes().to_vec(),
        None => serde_json::to_vec(&case.doc["request"]).unwrap(),
    };
    let mut meta = RequestMeta::all();
    for h in case.doc["missing_headers"].as_array().into_iter().flatten() {
        match h.as_str().unwrap() {
            "authorization" => meta = meta.without("authorization"),
            "x-api-key" => meta = meta.without("x-api-key"),
            "anthropic-version" => meta = meta.without("anthropic-version"),
            other => panic!("unknown header {other}"),
        }
    }
    let reply = replay.handle_model_routed(
        Some("s"),
        cassette.provider(),
        &cassette.file.interactions[0]
            .request
            .route(cassette.provider()),
        meta,
        &body,
    );
    let rules = replay
        .journal()
        .session("s")
        .into_iter()
        .flat_map(|e| match e {
            Entry::Model(m) => m.findings,
            Entry::Tool(_) => Vec::new(),
        })
        .map(|f| f.rule)
        .collect();
    let status = reply.status();
    (
        status,
        String::from_utf8(reply.body_bytes().to_vec()).unwrap(),
        rules,
    )
}

#[test]
fn every_nonconformant_follow_up_fires_its_rule_with_the_exact_provider_answer() {
    let cases = cases();
    assert!(cases.len() >= 15, "only {} cases", cases.len());
    for case in &cases {
        let (status, body, rules) = replay_case(case);
        let rule = case.doc["rule"].as_str().unwrap();
        assert!(
            rules.contains(&rule),
            "{}: expected {rule}, got {rules:?}",
            case.name
        );
        let expect = &case.doc["expect"];
        assert_eq!(
            u64::from(status),
            expect["status"].as_u64().unwrap(),
            "{}: {body}",
            case.name
        );
        match expect.get("body") {
            Some(expected_body) if case.doc.get("source").is_some() => {
                let got: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(
                    got["error"], expected_body["error"],
                    "{}: recorded error",
                    case.name
                );
            }
            Some(expected_body) => {
                let expected = serde_json::to_string(expected_body).unwrap();
                assert_eq!(body, expected, "{}", case.name);
            }
            None => {}
        }
    }
}

#[test]
fn every_request_rule_has_a_nonconformant_fixture() {
    let covered: BTreeSet<String> = cases()
        .iter()
        .map(|c| c.doc["rule"].as_str().unwrap().to_owned())
        .collect();
    let session_only = [
        "TT008", "TT013", "TT015", "TT016", "TT018", "TT019", "TT020", "TT021", "TT022", "TT023",
        "TT024",
    ];
    for rule in RULES {
        let id = rule.info().id;
        if session_only.contains(&id) {
            continue;
        }
        assert!(
            covered.contains(id),
            "no fixture in fixtures/nonconformant breaks {id}"
        );
    }
}

#[test]
fn the_recorded_real_anthropic_400_is_reproduced_byte_for_byte() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "recorded-anthropic-orphan-tool-result.json")
        .expect("the recorded case is bundled");
    let (status, body, _) = replay_case(&case);
    assert_eq!(status, 400);
    let got: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(got["error"], case.doc["expect"]["body"]["error"]);
}
