"""What the Python framework loops share: the environment `tooltape check` gives them.

`tooltape check CASSETTES -- python examples/frameworks/LOOP.py` runs a loop once per cassette
(README, "Validate your own loop"). The SDKs underneath the frameworks read `OPENAI_BASE_URL` /
`ANTHROPIC_BASE_URL` / `GOOGLE_GEMINI_BASE_URL` and the placeholder keys themselves; this module
reads the rest:

- `TOOLTAPE_PROVIDER` (`openai-chat`, `openai-responses`, `anthropic` or `gemini`) and
  `TOOLTAPE_STREAM` (`true`/`false`);
- `TOOLTAPE_PROMPT`, the user message to send, and `TOOLTAPE_MODEL`, the recorded model;
- `TOOLTAPE_TOOLS_FILE`, the recorded tool definitions in the provider's own shape;
- `TOOLTAPE_TOOLS_URL`: a tool runs as `POST {TOOLTAPE_TOOLS_URL}/{name}` with its arguments
  as JSON (header `tooltape-call-id` when the framework tells the tool its call id); 200 is the
  result, 500 means the tool failed;
- `TOOLTAPE_SEQUENTIAL_TOOLS`, the tools with side effects whose calls must run one at a time.

Everything else (the loop, how tools run, how results and errors go back) is the framework's.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import urllib.parse
from dataclasses import dataclass

import httpx

OPENAI_MODEL = "gpt-4o"
ANTHROPIC_MODEL = "claude-sonnet-4-5"
GEMINI_MODEL = "gemini-2.5-flash"
MAX_TOKENS = 1024
# Generous: a loop must never give up on a tool that tooltape answers (the barrier holds a
# reply for at most a second or so), and a hung tool would end the run through `--timeout`.
TOOL_TIMEOUT_S = 30.0


def env(name: str) -> str:
    value = os.environ.get(name)
    if value is None:
        sys.exit(f"{name} is not set: run this loop under `tooltape check CASSETTES -- ...`")
    return value


PROVIDER = env("TOOLTAPE_PROVIDER")
STREAM = env("TOOLTAPE_STREAM") == "true"
PROMPT = env("TOOLTAPE_PROMPT")
MODEL = os.environ.get("TOOLTAPE_MODEL", "")
SEQUENTIAL = {t for t in os.environ.get("TOOLTAPE_SEQUENTIAL_TOOLS", "").split(",") if t}


@dataclass
class ToolDef:
    """One recorded tool definition, whatever the provider's shape."""

    name: str
    description: str
    schema: dict


def tool_definitions() -> list[ToolDef]:
    with open(env("TOOLTAPE_TOOLS_FILE"), encoding="utf-8") as f:
        recorded = json.load(f)
    if PROVIDER == "gemini":
        return [_gemini_tool(d) for t in recorded for d in t.get("functionDeclarations", [])]
    out = []
    for t in recorded:
        if PROVIDER == "anthropic":
            out.append(ToolDef(t["name"], t.get("description", ""), t["input_schema"]))
        elif PROVIDER == "openai-responses":
            out.append(ToolDef(t["name"], t.get("description", ""), _schema(t.get("parameters"))))
        else:
            fn = t["function"]
            out.append(ToolDef(fn["name"], fn.get("description", ""), _schema(fn.get("parameters"))))
    return out


def _schema(recorded: dict | None) -> dict:
    return recorded or {"type": "object", "properties": {}}


def _gemini_tool(declaration: dict) -> ToolDef:
    # A declaration has a JSON Schema (`parametersJsonSchema`) or Gemini's OpenAPI subset
    # (`parameters`, with upper-case type names): the frameworks take JSON Schema.
    schema = declaration.get("parametersJsonSchema") or declaration.get("parameters_json_schema")
    if schema is None:
        schema = _json_schema(declaration.get("parameters"))
    return ToolDef(declaration["name"], declaration.get("description", ""), _schema(schema))


def _json_schema(openapi: object) -> object:
    if isinstance(openapi, list):
        return [_json_schema(v) for v in openapi]
    if not isinstance(openapi, dict):
        return openapi
    out = {}
    for key, value in openapi.items():
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: _json_schema(v) for k, v in value.items()}
        else:
            out[key] = _json_schema(value)
    return out


class ToolFailed(Exception):
    """The tool endpoint answered an error (500): the tool failed with this message."""


def _url(name: str) -> str:
    return f"{env('TOOLTAPE_TOOLS_URL')}/{urllib.parse.quote(name, safe='')}"


def _headers(call_id: str | None) -> dict:
    headers = {"content-type": "application/json"}
    if call_id:
        headers["tooltape-call-id"] = call_id
    return headers


def _error_text(resp: httpx.Response) -> str:
    try:
        message = resp.json().get("error")
    except (ValueError, AttributeError):
        message = None
    return message if isinstance(message, str) and message else resp.text


def _result(resp: httpx.Response) -> str:
    if resp.is_success:
        return resp.text
    raise ToolFailed(_error_text(resp))


# Calls of a tool with side effects (TOOLTAPE_SEQUENTIAL_TOOLS) take this lock, so that they
# run one at a time; asyncio's lock is FIFO, so in the order the framework started them.
_sequential_lock: asyncio.Lock | None = None
# One client for the whole run, made in the framework's event loop on first use: making a
# client per call costs more than the call.
_async_http: httpx.AsyncClient | None = None
_sync_http: httpx.Client | None = None


async def post_tool(name: str, arguments: dict | str, call_id: str | None = None) -> str:
    """Runs one tool call through the tool endpoint: its output, or `ToolFailed`."""
    global _sequential_lock
    body = arguments if isinstance(arguments, str) else json.dumps(arguments)
    if name in SEQUENTIAL:
        _sequential_lock = _sequential_lock or asyncio.Lock()
        async with _sequential_lock:
            return await _post(name, body, call_id)
    return await _post(name, body, call_id)


async def _post(name: str, body: str, call_id: str | None) -> str:
    global _async_http
    _async_http = _async_http or httpx.AsyncClient(timeout=TOOL_TIMEOUT_S)
    resp = await _async_http.post(_url(name), content=body.encode(), headers=_headers(call_id))
    return _result(resp)


def post_tool_sync(name: str, arguments: dict | str, call_id: str | None = None) -> str:
    """`post_tool` for frameworks that run tools as plain functions."""
    global _sync_http
    _sync_http = _sync_http or httpx.Client(timeout=TOOL_TIMEOUT_S)
    body = arguments if isinstance(arguments, str) else json.dumps(arguments)
    resp = _sync_http.post(_url(name), content=body.encode(), headers=_headers(call_id))
    return _result(resp)
