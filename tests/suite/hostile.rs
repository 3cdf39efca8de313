//! Hostile but well-formed requests (issue 11): whatever a loop sends, judging it costs time and
//! memory linear in its size, and the verdict keeps every finding.

use std::sync::Arc;

use serde_json::{Value, json};
use tooltape::cassette::Cassette;
use tooltape::conformance::{Finding, RequestContext, judge_request};
use tooltape::provider::Rejection;

use crate::support::load;

const TWO: &str = "openai-chat/fantasy-gpt-4o-parallel2-followup.json";

/// The follow-up of [`TWO`] whose assistant message echoes `n` invented calls and no results.
fn invented_calls(n: usize) -> Value {
    let cassette = load(TWO);
    let mut body = cassette.file.interactions[1].request.body.clone();
    let messages = body["messages"].as_array_mut().unwrap();
    messages.truncate(2);
    let calls: Vec<Value> = (0..n)
        .map(|i| {
            json!({"id": format!("call_invented{i:05}"), "type": "function",
                   "function": {"name": "add", "arguments": "{\"a\": 2, \"b\": 3}"}})
        })
        .collect();
    messages.push(json!({"role": "assistant", "tool_calls": calls}));
    body
}

fn judge(cassette: &Cassette, body: &Value) -> (Vec<Finding>, Option<Rejection>) {
    let decoded = cassette.provider().decode_request(body);
    judge_request(&RequestContext::new(cassette, &decoded))
}

#[test]
fn unanswered_invented_calls_share_one_list_of_ids() {
    let cassette = load(TWO);
    for n in [50, 400] {
        let (findings, rejection) = judge(&cassette, &invented_calls(n));
        let lists: Vec<&Arc<[String]>> = findings
            .iter()
            .filter_map(|f| match &f.rejection {
                Some(Rejection::MissingResults { ids, .. }) => Some(ids),
                _ => None,
            })
            .collect();
        assert_eq!(lists.len(), n, "one missing-result finding per call");
        assert!(
            lists.iter().all(|ids| Arc::ptr_eq(ids, lists[0])),
            "every finding shares the turn's one list of {n} ids instead of copying it"
        );
        assert_eq!(lists[0].len(), n);
        let Some(Rejection::MissingResults { ids, .. }) = rejection else {
            panic!("the provider rejects the request: {rejection:?}");
        };
        let body = cassette
            .provider()
            .render_rejection(&Rejection::MissingResults { assistant: 2, ids })
            .body;
        assert_eq!(
            body.matches("call_invented").count(),
            n,
            "the provider's 400 names every id once"
        );
        let text: usize = findings
            .iter()
            .map(|f| f.message.len() + f.hint.len())
            .sum();
        assert!(
            text < n * 1024,
            "findings grow linearly: {text} bytes for {n} calls"
        );
    }
}
