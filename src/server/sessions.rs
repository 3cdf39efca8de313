//! Naming sessions, and telling them apart when a request comes without a session prefix.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::replay::Replay;
use super::served::Served;
use crate::cassette::Cassette;
use crate::provider::{DecodedRequest, Provider};

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

type Found = Result<(String, Arc<Served>), (u16, String)>;

/// The session named by `session`, or the only one; `None` when neither decides.
fn by_url(sessions: &BTreeMap<String, Arc<Served>>, session: Option<&str>) -> Option<Found> {
    if let Some(id) = session {
        return Some(
            sessions
                .get(id)
                .map(|s| (id.to_owned(), s.clone()))
                .ok_or_else(|| {
                    (
                        404,
                        format!(
                            "tooltape: no session `{id}`; this server has {}",
                            list(sessions.keys())
                        ),
                    )
                }),
        );
    }
    if sessions.len() == 1 {
        return sessions
            .iter()
            .next()
            .map(|(k, v)| Ok((k.clone(), v.clone())));
    }
    None
}

/// Finding the session a request belongs to.
impl Replay {
    pub(super) fn session_count(&self) -> usize {
        self.sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// The one session whose cassette served call `call_id`, for a tool request without a
    /// session prefix.
    pub(super) fn session_serving(&self, call_id: &str) -> Option<(String, Arc<Served>)> {
        let sessions = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut serving = sessions
            .iter()
            .filter(|(_, s)| s.cassette.turn_of_call(call_id).is_some());
        let first = serving.next();
        match (first, serving.next()) {
            (Some((id, s)), None) => Some((id.clone(), s.clone())),
            _ => None,
        }
    }

    /// The session of a request when its URL says it without the body: the session prefix,
    /// or the only session. `None`: the request's content must choose (see
    /// [`Replay::find_session`]), so only then does it need decoding before its session is known.
    pub(super) fn session_by_url(&self, session: Option<&str>) -> Option<Found> {
        let sessions = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        by_url(&sessions, session)
    }

    pub(super) fn find_session(
        &self,
        session: Option<&str>,
        provider: Option<Provider>,
        request: Option<&DecodedRequest>,
    ) -> Found {
        let sessions = self
            .sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(found) = by_url(&sessions, session) {
            return found;
        }
        // A stateful continuation carries no prompt: it names the response it continues, and
        // the cassette that served that response is its session.
        if let Some(id) = request.and_then(|r| r.continues.as_deref()) {
            let served_it = sessions
                .iter()
                .filter(|(_, s)| Some(s.cassette.provider()) == provider)
                .filter(|(_, s)| {
                    s.cassette
                        .turns
                        .iter()
                        .any(|t| t.response_id.as_deref() == Some(id))
                })
                .max_by_key(|(_, s)| request.map_or((0, false), |r| bare_url_fit(&s.cassette, r)));
            if let Some((id, s)) = served_it {
                return Ok((id.clone(), s.clone()));
            }
        }
        let prompt = request.and_then(|r| r.conversation.first_user_text());
        let candidates: Vec<_> = sessions
            .iter()
            .filter(|(_, s)| Some(s.cassette.provider()) == provider)
            .filter(|(_, s)| {
                prompt
                    .as_deref()
                    .is_some_and(|p| p.trim() == s.cassette.prompt().trim())
            })
            .collect();
        let best = candidates
            .iter()
            .max_by_key(|(_, s)| request.map_or((0, false), |r| bare_url_fit(&s.cassette, r)));
        match best {
            Some((id, s)) => Ok(((*id).clone(), (*s).clone())),
            None => Err((
                404,
                format!(
                    "tooltape: no cassette of this server starts with this request's first user message; use a session URL (/s/{{session}}/…) for one of {}",
                    list(sessions.keys())
                ),
            )),
        }
    }

    pub(super) fn served(&self, session: &str) -> Option<Arc<Served>> {
        self.sessions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(session)
            .cloned()
    }
}
