//! Tools over MCP: each session's tools as an MCP server, at `/s/{session}/mcp` (streamable
//! HTTP, the official Rust SDK `rmcp`).
//!
//! `tools/list` lists the cassette's tool definitions ([`Cassette::tool_definitions`]); a
//! `tools/call` is one tool request, run by the same desk as `POST /tools/{name}`
//! ([`Replay::run_tool`]): matched to a served call by name and arguments (an MCP call carries
//! no provider call id), held by the barrier, delayed by the latency, journalled as a span, and
//! answered with the recorded result. A failing tool gives a result with `isError: true` and
//! the recorded error text (a tool error the model sees, not a protocol error), a hung tool no
//! answer at all, and a call that matches nothing an error result that says why.
//!
//! The server is stateless (no `Mcp-Session-Id`; every POST stands alone, so any number of
//! clients, and calls of one client, run side by side) and answers each request with one JSON
//! body. The session is the URL's: the router puts it in the request's extensions, where the
//! handler finds it among the HTTP parts `rmcp` hands over.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::{Request, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};

use super::replay::Replay;
use super::tools::ToolOutcome;
use crate::transcript::ToolDefinition;

/// The path of a session's MCP server below its root.
pub const MCP_PATH: &str = "/mcp";

/// The session an MCP request was sent to (the URL's session prefix, `None` for the bare
/// `/mcp`), put in the HTTP request's extensions.
#[derive(Debug, Clone)]
struct McpSession(Option<String>);

/// The MCP endpoint of a server: one stateless streamable HTTP service for every session.
#[derive(Clone)]
pub(super) struct McpEndpoint(StreamableHttpService<SessionTools, NeverSessionManager>);

impl std::fmt::Debug for McpEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("McpEndpoint")
    }
}

impl McpEndpoint {
    /// Answers one HTTP request to a session's MCP URL (`session`: the URL's prefix).
    pub async fn handle(
        &self,
        mut request: Request<Incoming>,
        session: Option<String>,
    ) -> Response<BoxBody<Bytes, Infallible>> {
        request.extensions_mut().insert(McpSession(session));
        self.0.handle(request).await
    }
}

/// The MCP endpoint for `replay`'s sessions. `Host` is checked by the router before a request
/// gets here, so `rmcp`'s own check is off.
pub(super) fn endpoint(replay: Arc<Replay>) -> McpEndpoint {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_sse_retry(None)
        .disable_allowed_hosts()
        .with_max_request_body_bytes(replay.limits().max_body);
    McpEndpoint(StreamableHttpService::new(
        move || Ok(SessionTools::new(replay.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    ))
}

/// The MCP server handler: the tools of the session a request names.
#[derive(Debug, Clone)]
pub(super) struct SessionTools {
    replay: Arc<Replay>,
}

impl SessionTools {
    fn new(replay: Arc<Replay>) -> Self {
        Self { replay }
    }
}

/// The session of a request: the one the router found in its URL.
fn session(context: &RequestContext<RoleServer>) -> Option<String> {
    context
        .extensions
        .get::<Parts>()
        .and_then(|parts| parts.extensions.get::<McpSession>())
        .and_then(|s| s.0.clone())
}

/// A tool definition as MCP lists it. A schema that is not a JSON object (no recording has
/// one, but a hand-written cassette may) is listed as an object schema that takes anything.
fn mcp_tool(tool: ToolDefinition) -> Tool {
    let schema = match tool.parameters {
        serde_json::Value::Object(schema) => schema,
        _ => rmcp::model::object(serde_json::json!({"type": "object"})),
    };
    let description = (!tool.description.is_empty()).then(|| tool.description.into());
    Tool::new_with_raw(tool.name, description, schema)
}

/// The MCP result of a tool outcome: the recorded result as text content (the bytes the tool
/// endpoint answers with), anything else as an error result with its text.
fn mcp_result(outcome: ToolOutcome) -> CallToolResult {
    match outcome {
        ToolOutcome::Text(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
        ToolOutcome::Json(value) => {
            CallToolResult::success(vec![ContentBlock::text(value.to_string())])
        }
        ToolOutcome::Failed(message) | ToolOutcome::Refused(_, message) => {
            CallToolResult::error(vec![ContentBlock::text(message)])
        }
    }
}

impl ServerHandler for SessionTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("tooltape", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "The tools of a recorded conversation: each call answers with its recorded result.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let session = session(&context);
        if session.is_none() && self.replay.session_count() > 1 {
            return Err(ErrorData::invalid_request(
                format!(
                    "tooltape: this server has {} cassettes; use the MCP URL of one session (/s/{{session}}{MCP_PATH})",
                    self.replay.session_count()
                ),
                None,
            ));
        }
        let (_, served) = self
            .replay
            .find_session(session.as_deref(), None, None)
            .map_err(|(_, message)| ErrorData::invalid_request(message, None))?;
        let tools = served.cassette.tool_definitions();
        Ok(ListToolsResult::with_all_items(
            tools.into_iter().map(mcp_tool).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments =
            serde_json::Value::Object(request.arguments.unwrap_or_default()).to_string();
        let outcome = self
            .replay
            .run_tool(
                session(&context).as_deref(),
                &request.name,
                None,
                &arguments,
            )
            .await;
        Ok(mcp_result(outcome).into())
    }
}
