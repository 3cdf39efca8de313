"""The little glue every example loop shares: what `tooltape check` gives the command it runs.

`tooltape check CASSETTES -- python examples/loops/LOOP.py` runs the loop once per cassette with
this environment (DESIGN §4):

- `OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`, `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`: the official
  SDKs read these, so `openai.OpenAI()` and `anthropic.Anthropic()` talk to the replay server
  without any change to the loop. `GOOGLE_GEMINI_BASE_URL` (the session root: google-genai
  appends `/v1beta/models/…`), `GEMINI_API_KEY` and `GOOGLE_API_KEY` do the same for
  `genai.Client()`; the Gemini examples pass them as `http_options` and `api_key` explicitly.
- `TOOLTAPE_PROMPT`: the first user message of the recorded conversation.
- `TOOLTAPE_TOOLS_FILE`: a JSON file with the recorded `tools` array, in the provider's own
  shape; pass it as `tools=`.
- `TOOLTAPE_TOOLS_URL`: where the tools run. `POST {TOOLTAPE_TOOLS_URL}/{name}` with the call's
  arguments as the JSON body and the header `tooltape-call-id: <call id>` answers 200 with the
  recorded result as the body, 500 with `{"error": "..."}` when the tool fails, 404 when no call
  of the current turn matches. Latencies are simulated (by default a turn's calls finish in
  reverse order), so the timing of a loop is visible to the checks.

A loop of your own needs only the five-line adapter below (`run_tool`) in place of its real tool
dispatch; the rest of this module is convenience for the examples.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

# How long one tool call may take before the loop gives up on it and answers with an error
# result (a hung tool must not hang the loop: bug-catalog class 14).
TOOL_TIMEOUT_S = float(os.environ.get("TOOLTAPE_TOOL_TIMEOUT_S", "30"))

# Guard against a loop that never ends (the replay server would flag it as TT014 anyway).
MAX_TURNS = 16

OPENAI_MODEL = "gpt-4o"
ANTHROPIC_MODEL = "claude-sonnet-4-6"
ANTHROPIC_MAX_TOKENS = 1024


def env(name: str) -> str:
    """The value of a variable that `tooltape check` sets; exits with a hint when it is missing."""
    value = os.environ.get(name)
    if not value:
        script = os.path.basename(sys.argv[0]) or "LOOP.py"
        sys.exit(
            f"{name} is not set: run this loop under tooltape, e.g. "
            f"`tooltape check fixtures/openai-chat -- python examples/loops/{script}`"
        )
    return value


def prompt() -> str:
    """The first user message of the recorded conversation."""
    return env("TOOLTAPE_PROMPT")


def first_messages() -> list:
    """The messages the conversation opens with: the recorded first request's `messages`
    (TOOLTAPE_MESSAGES_FILE, in the provider's own shape), or just the prompt."""
    path = os.environ.get("TOOLTAPE_MESSAGES_FILE")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            messages = json.load(f)
        if messages:
            return messages
    return [{"role": "user", "content": prompt()}]


def tools() -> list:
    """The recorded tool definitions, exactly as the provider takes them (`tools=`)."""
    with open(env("TOOLTAPE_TOOLS_FILE"), encoding="utf-8") as f:
        return json.load(f)


def tool_url(name: str) -> str:
    return f"{env('TOOLTAPE_TOOLS_URL')}/{urllib.parse.quote(name, safe='')}"


# --- The five-line adapter -------------------------------------------------------------------
# Route a loop's tool execution through tooltape: POST the arguments JSON, pass the call id,
# use the body as the tool's output. A non-2xx answer raises urllib.error.HTTPError, which your
# loop already turns into an error result the way it does for any failing tool.
def run_tool(name: str, arguments: str, call_id: str) -> str:
    headers = {"content-type": "application/json", "tooltape-call-id": call_id}
    req = urllib.request.Request(tool_url(name), arguments.encode(), headers, method="POST")
    with urllib.request.urlopen(req, timeout=TOOL_TIMEOUT_S) as resp:
        return resp.read().decode("utf-8")
# ---------------------------------------------------------------------------------------------


def error_text(status: int, body: str) -> str:
    """The message of a failed tool call: the `error` field of a JSON body, else the body."""
    try:
        message = json.loads(body).get("error")
    except (ValueError, AttributeError):
        message = None
    if isinstance(message, str) and message:
        return message
    return body.strip() or f"the tool endpoint answered HTTP {status}"


def call_tool(name: str, arguments: str, call_id: str) -> tuple[bool, str]:
    """Runs one call through the tool endpoint: `(True, output)` or `(False, error text)`.

    Never raises for a failing, unknown or timed-out tool: a correct loop answers every call,
    an error result included, so one failure cannot take the batch down (bug-catalog class 4).
    """
    try:
        return True, run_tool(name, arguments, call_id)
    except urllib.error.HTTPError as e:
        return False, error_text(e.code, e.read().decode("utf-8", errors="replace"))
    except TimeoutError:
        return False, f"tool `{name}` timed out after {TOOL_TIMEOUT_S:g} s"
    except urllib.error.URLError as e:
        if isinstance(e.reason, TimeoutError):
            return False, f"tool `{name}` timed out after {TOOL_TIMEOUT_S:g} s"
        return False, f"tool `{name}` could not be reached: {e.reason}"


async def acall_tool(client, name: str, arguments: str, call_id: str) -> tuple[bool, str]:
    """`call_tool` for asyncio, on an `httpx.AsyncClient`."""
    import httpx

    try:
        resp = await client.post(
            tool_url(name),
            content=arguments.encode("utf-8"),
            headers={"content-type": "application/json", "tooltape-call-id": call_id},
            timeout=TOOL_TIMEOUT_S,
        )
    except httpx.TimeoutException:
        return False, f"tool `{name}` timed out after {TOOL_TIMEOUT_S:g} s"
    except httpx.HTTPError as e:
        return False, f"tool `{name}` could not be reached: {e}"
    if resp.is_success:
        return True, resp.text
    return False, error_text(resp.status_code, resp.text)


def openai_assistant_message(text: str | None, calls: list[tuple[str, str, str]]) -> dict:
    """The assistant message that echoes a response back: its text and every `(id, name,
    arguments)` call unchanged, in the order they came."""
    message: dict = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {"id": id_, "type": "function", "function": {"name": name, "arguments": args}}
            for id_, name, args in calls
        ]
    return message


def openai_chat_loop(create) -> int:
    """A correct Chat Completions loop (a turn's tools at once on threads, results in call
    order) around `create(**kwargs)`, the one request call: the retry examples differ only
    there. Returns the exit code."""
    from concurrent.futures import ThreadPoolExecutor

    tools_ = tools()
    messages = first_messages()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(MAX_TURNS):
            response = create(model=OPENAI_MODEL, messages=messages, tools=tools_)
            message = response.choices[0].message
            calls = message.tool_calls or []
            if not calls:
                print(message.content or "")
                return 0
            messages.append(
                openai_assistant_message(
                    message.content, [(c.id, c.function.name, c.function.arguments) for c in calls]
                )
            )
            outcomes = pool.map(
                lambda c: call_tool(c.function.name, c.function.arguments, c.id), calls
            )
            for call, (_ok, text) in zip(calls, outcomes):
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {MAX_TURNS} turns")


def anthropic_assistant_message(content) -> dict:
    """The assistant message that echoes an Anthropic response back: every content block
    (thinking, text, tool_use) unchanged and in order. Built field by field so the request
    carries exactly what the API returned, without the SDK's optional `None` fields."""
    blocks = []
    for block in content:
        if block.type == "text":
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
        elif block.type == "thinking":
            blocks.append(
                {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
            )
        elif block.type == "redacted_thinking":
            blocks.append({"type": "redacted_thinking", "data": block.data})
        else:
            blocks.append(block.model_dump(mode="json", exclude_none=True))
    return {"role": "assistant", "content": blocks}


def anthropic_tool_result(call_id: str, ok: bool, text: str) -> dict:
    """One `tool_result` block; a failed tool is marked `is_error` with its error text."""
    block = {"type": "tool_result", "tool_use_id": call_id, "content": text}
    if not ok:
        block["is_error"] = True
    return block


# --- OpenAI Responses -------------------------------------------------------------------------


def responses_input() -> list:
    """The items the conversation opens with: the recorded first request's `input`
    (TOOLTAPE_MESSAGES_FILE, in the Responses shape), or just the prompt."""
    return first_messages()


def responses_items(output) -> list:
    """The output items of a response as the next request's input items, unchanged and in
    order: reasoning items with their id and `encrypted_content`, messages, and every
    `function_call` with its item `id` and its `call_id`. Dumped without the SDK's `None`
    fields, so the request carries what the API returned."""
    return [item.model_dump(mode="json", exclude_none=True) for item in output]


def function_calls(output) -> list:
    """The `function_call` items of a response, in output order."""
    return [item for item in output if item.type == "function_call"]


def function_call_output(call_id: str, text: str) -> dict:
    """One `function_call_output` item: it names the call by its `call_id` (`call_…`), never by
    the item's own `id` (`fc_…`). Responses has no error flag: a failure is told in the text."""
    return {"type": "function_call_output", "call_id": call_id, "output": text}
# --- Gemini (google-genai) ---------------------------------------------------------------------

GEMINI_MODEL = "gemini-2.5-flash"


def gemini_client():
    """A google-genai client pointed at tooltape: `http_options.base_url` is the session root
    (the SDK appends `/v1beta/models/MODEL:generateContent` itself)."""
    from google import genai
    from google.genai import types

    return genai.Client(
        api_key=env("GEMINI_API_KEY"),
        http_options=types.HttpOptions(base_url=env("GOOGLE_GEMINI_BASE_URL")),
    )


def gemini_model() -> str:
    return os.environ.get("TOOLTAPE_MODEL") or GEMINI_MODEL


def gemini_config():
    """The recorded tools (`functionDeclarations`), the recorded system instruction, and
    automatic function calling off: the loop runs the calls itself."""
    from google.genai import types

    return types.GenerateContentConfig(
        tools=tools(),
        system_instruction=os.environ.get("TOOLTAPE_SYSTEM_PROMPT") or None,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )


def gemini_contents() -> list:
    """The contents the conversation opens with: the recorded first request's (a list of
    content dicts, TOOLTAPE_MESSAGES_FILE), or the prompt as one user content."""
    path = os.environ.get("TOOLTAPE_MESSAGES_FILE")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            contents = json.load(f)
        if contents:
            return contents
    return [{"role": "user", "parts": [{"text": prompt()}]}]


def gemini_call_tool(call) -> dict:
    """Runs one `FunctionCall` through the tool endpoint and returns the `response` object of
    its `functionResponse`: the tool's JSON object as it is, other output as `{"result": …}`,
    a failure as `{"error": …}` (a function response has no error flag). Gemini calls usually
    carry no id: the endpoint then matches the call by name and arguments."""
    arguments = json.dumps(call.args or {})
    headers = {"content-type": "application/json"}
    if call.id:
        headers["tooltape-call-id"] = call.id
    req = urllib.request.Request(tool_url(call.name), arguments.encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TOOL_TIMEOUT_S) as resp:
            text = resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return {"error": error_text(e.code, e.read().decode("utf-8", errors="replace"))}
    except (TimeoutError, urllib.error.URLError) as e:
        return {"error": f"tool `{call.name}` failed: {e}"}
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    return value if isinstance(value, dict) else {"result": value}


def gemini_responses(calls, outputs) -> dict:
    """The one user content that answers a turn: a `functionResponse` per call, in call
    order, each named after its call (and with its id when the call had one)."""
    from google.genai import types

    parts = []
    for call, output in zip(calls, outputs):
        parts.append(types.Part(function_response=types.FunctionResponse(
            id=call.id, name=call.name, response=output)))
    return types.Content(role="user", parts=parts)
