//! The wiremock transport: mount a cassette in your own `wiremock::MockServer`.
//!
//! ```no_run
//! # async fn demo(cassette: tooltape::cassette::Cassette) {
//! use wiremock::{Mock, MockServer, matchers::{method, path}};
//! let server = MockServer::start().await;
//! let responder = tooltape::server::CassetteResponder::new(cassette);
//! Mock::given(method("POST")).and(path("/v1/chat/completions"))
//!     .respond_with(responder.clone())
//!     .mount(&server).await;
//! // … run the loop against server.uri() …
//! assert!(responder.findings().is_empty());
//! # }
//! ```

use std::sync::Arc;

use wiremock::{Request, Respond, ResponseTemplate};

use super::replay::Replay;
use super::reply::Reply;
use crate::cassette::Cassette;
use crate::conformance::Finding;
use crate::provider::{Provider, RequestMeta, Route};

const SESSION: &str = "default";

/// A `wiremock::Respond` that replays one cassette and judges every request.
#[derive(Debug, Clone)]
pub struct CassetteResponder {
    replay: Arc<Replay>,
}

impl CassetteResponder {
    /// A responder for one cassette.
    #[must_use]
    pub fn new(cassette: Cassette) -> Self {
        let replay = Arc::new(Replay::new());
        replay.add_session(SESSION, Arc::new(cassette));
        Self { replay }
    }

    /// Everything the rules found so far (request findings and session rules).
    #[must_use]
    pub fn findings(&self) -> Vec<Finding> {
        self.replay.findings(SESSION)
    }

    /// The replay state behind the responder.
    #[must_use]
    pub fn replay(&self) -> &Arc<Replay> {
        &self.replay
    }
}

impl Respond for CassetteResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path();
        let Some((provider, route)) =
            Provider::route(request.method.as_str(), path, request.url.query()).or_else(|| {
                self.replay
                    .sessions()
                    .first()
                    .map(|(_, c)| (c.provider(), Route::default()))
            })
        else {
            return ResponseTemplate::new(404).set_body_string(format!(
                "tooltape: no route `{path}` and no session to serve"
            ));
        };
        let meta = RequestMeta::from_headers(&request.headers).with_query(request.url.query());
        template(self.replay.handle_model_routed(
            Some(SESSION),
            provider,
            &route,
            meta,
            &request.body,
        ))
    }
}

/// A reply as wiremock can send it. wiremock writes a body whole, so a cut stream is sent as
/// its frames before the cut, with the body ended, and a paced stream at once.
fn template(reply: Reply) -> ResponseTemplate {
    match reply {
        Reply::Json { status, body } => {
            ResponseTemplate::new(status).set_body_raw(body.to_vec(), "application/json")
        }
        Reply::Fault {
            status,
            headers,
            body,
        } => headers.iter().fold(
            ResponseTemplate::new(status).set_body_raw(body.to_vec(), "application/json"),
            |t, (name, value)| t.insert_header(*name, value.as_str()),
        ),
        reply @ (Reply::Sse { .. } | Reply::Cut { .. } | Reply::Paced { .. }) => {
            ResponseTemplate::new(200)
                .set_body_raw(reply.body_bytes().to_vec(), "text/event-stream")
        }
        Reply::Delayed { delay, reply } => template(*reply).set_delay(delay),
    }
}
