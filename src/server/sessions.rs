//! Naming sessions, and telling them apart when a request comes without a session prefix.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::cassette::Cassette;
use crate::provider::DecodedRequest;

/// How well a request without a session prefix fits a cassette that starts with its prompt:
/// how many of the call ids it echoes the cassette served (a follow-up belongs to the
/// cassette that served its calls), then whether the cassette was recorded in the mode the
/// request asks for.
pub(super) fn bare_url_fit(cassette: &Cassette, request: &DecodedRequest) -> (usize, bool) {
    let echoed = request
        .conversation
        .messages
        .iter()
        .flat_map(|m| m.tool_calls())
        .filter(|c| cassette.turn_of_call(&c.id).is_some())
        .count();
    (echoed, cassette.streaming() == request.stream)
}

/// The cassettes of `cassettes` that a request without a session prefix cannot tell apart
/// (same provider and first prompt), grouped; each group has two or more.
#[must_use]
pub fn ambiguous_bare_urls(cassettes: &[(String, Arc<Cassette>)]) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (id, c) in cassettes {
        groups
            .entry((c.provider().name().to_owned(), c.prompt().trim().to_owned()))
            .or_default()
            .push(id.clone());
    }
    groups.into_values().filter(|g| g.len() > 1).collect()
}

pub(super) fn list<'a>(keys: impl Iterator<Item = &'a String>) -> String {
    let keys: Vec<String> = keys.map(|k| format!("`{k}`")).collect();
    if keys.is_empty() {
        "no sessions".to_owned()
    } else {
        format!("sessions {}", keys.join(", "))
    }
}

/// Session ids for cassettes: the name, made URL-safe and unique.
#[must_use]
pub(super) fn session_ids(cassettes: &[Arc<Cassette>]) -> Vec<String> {
    let mut seen = HashSet::new();
    cassettes
        .iter()
        .map(|c| {
            let base: String = c
                .name()
                .chars()
                .map(|ch| {
                    if ch.is_ascii_alphanumeric() || "-_.".contains(ch) {
                        ch
                    } else {
                        '-'
                    }
                })
                .collect();
            let mut id = base.clone();
            let mut n = 2;
            while !seen.insert(id.clone()) {
                id = format!("{base}-{n}");
                n += 1;
            }
            id
        })
        .collect()
}
