"""Smoke test of `tooltape serve` through the official Python SDKs.

Runs one full conversation against a running replay server: the first request with the recorded
prompt and tools, then, for every response with tool calls, the assistant turn echoed and one
result per call (fixed strings by default), until a response has no tool calls. Exits 0 when the
conversation reached a final answer, 1 when the SDK raised (e.g. the server answered 400), 2 on
bad arguments. Used by the Rust end-to-end test; handy by hand too:

    tooltape serve fixtures/openai-chat/handmade-single-call.json --port 8089 &
    OPENAI_BASE_URL=http://127.0.0.1:8089/v1 \\
        python tests/python/serve_smoke.py --provider openai \\
        --cassette fixtures/openai-chat/handmade-single-call.json

The base URL comes from `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL` (or `--base-url`). The prompt
and the tools come from `--prompt` / `--tools-file`, else `TOOLTAPE_PROMPT` /
`TOOLTAPE_TOOLS_FILE`, else the first recorded request of `--cassette`. With `--cassette`,
`--provider` and `--stream` default to the cassette's own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request

MAX_TURNS = 16


def fail(message: str, code: int = 2) -> None:
    print(f"serve_smoke: {message}", file=sys.stderr)
    raise SystemExit(code)


def first_user_text(messages: list) -> str:
    for message in messages:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(b.get("text", "") for b in content if b.get("type") == "text")
    fail("the cassette's first request has no user message")
    return ""


def load_inputs(args: argparse.Namespace) -> tuple[str, bool, str, list]:
    """provider, stream, prompt, tools"""
    cassette = None
    if args.cassette:
        with open(args.cassette, encoding="utf-8") as f:
            cassette = json.load(f)
    provider = args.provider
    if provider is None and cassette is not None:
        provider = "anthropic" if cassette.get("provider") == "anthropic" else "openai"
    if provider is None:
        fail("say which provider: --provider openai|anthropic (or give --cassette)")
    stream = args.stream
    if stream is None:
        stream = bool(
            cassette
            and cassette["interactions"]
            and cassette["interactions"][0]["response"]["body"]["type"] == "sse"
        )
    first = cassette["interactions"][0]["request"]["body"] if cassette else {}
    prompt = args.prompt or os.environ.get("TOOLTAPE_PROMPT")
    if not prompt:
        if not cassette:
            fail("no prompt: give --prompt, TOOLTAPE_PROMPT or --cassette")
        prompt = first_user_text(first.get("messages", []))
    tools_file = args.tools_file or os.environ.get("TOOLTAPE_TOOLS_FILE")
    if tools_file:
        with open(tools_file, encoding="utf-8") as f:
            tools = json.load(f)
    elif cassette:
        tools = first.get("tools", [])
    else:
        fail("no tools: give --tools-file, TOOLTAPE_TOOLS_FILE or --cassette")
    return provider, stream, prompt, tools


def tool_output(args: argparse.Namespace, name: str, arguments: str, call_id: str) -> tuple[bool, str]:
    """A fixed string, or with --tool-endpoint the answer of TOOLTAPE_TOOLS_URL."""
    if not args.tool_endpoint:
        return True, f"result of {name} for {call_id}"
    base = os.environ.get("TOOLTAPE_TOOLS_URL")
    if not base:
        fail("--tool-endpoint needs TOOLTAPE_TOOLS_URL")
    req = urllib.request.Request(
        f"{base}/{name}",
        arguments.encode(),
        {"content-type": "application/json", "tooltape-call-id": call_id},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return True, resp.read().decode()
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")
        try:
            return False, json.loads(body)["error"]
        except (ValueError, KeyError, TypeError):
            return False, body or f"HTTP {e.code}"


def run_openai(args, stream: bool, prompt: str, tools: list) -> tuple[str, int, int]:
    import openai

    kwargs = {"max_retries": 0, "timeout": args.timeout}
    if args.base_url:
        kwargs["base_url"] = args.base_url
    client = openai.OpenAI(**kwargs)
    messages: list = [{"role": "user", "content": prompt}]
    requests = calls_made = 0
    for _ in range(MAX_TURNS):
        requests += 1
        if stream:
            text, calls, by_index = "", [], {}
            for chunk in client.chat.completions.create(
                model=args.model or "gpt-4o", messages=messages, tools=tools, stream=True
            ):
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta is None:
                        continue
                    text += delta.content or ""
                    for part in delta.tool_calls or []:
                        call = by_index.get(part.index)
                        if part.id and (call is None or call["id"] != part.id):
                            call = {"id": part.id, "name": "", "arguments": ""}
                            calls.append(call)
                            by_index[part.index] = call
                        if call is None:
                            fail(f"stream: a delta for index {part.index} before its id", 1)
                        if part.function is not None:
                            if part.function.name and not call["name"]:
                                call["name"] = part.function.name
                            call["arguments"] += part.function.arguments or ""
        else:
            response = client.chat.completions.create(
                model=args.model or "gpt-4o", messages=messages, tools=tools
            )
            message = response.choices[0].message
            text = message.content or ""
            calls = [
                {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                for c in message.tool_calls or []
            ]
        if not calls:
            return text, requests, calls_made
        messages.append(
            {
                "role": "assistant",
                "content": text or None,
                "tool_calls": [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": c["arguments"]},
                    }
                    for c in calls
                ],
            }
        )
        for c in calls:
            calls_made += 1
            _ok, output = tool_output(args, c["name"], c["arguments"], c["id"])
            messages.append({"role": "tool", "tool_call_id": c["id"], "content": output})
    fail(f"no final answer after {MAX_TURNS} turns", 1)
    return "", requests, calls_made


def run_anthropic(args, stream: bool, prompt: str, tools: list) -> tuple[str, int, int]:
    import anthropic

    kwargs = {"max_retries": 0, "timeout": args.timeout}
    if args.base_url:
        kwargs["base_url"] = args.base_url
    client = anthropic.Anthropic(**kwargs)
    messages: list = [{"role": "user", "content": prompt}]
    requests = calls_made = 0
    params = {"model": args.model or "claude-sonnet-4-6", "max_tokens": 1024}
    for _ in range(MAX_TURNS):
        requests += 1
        if stream:
            with client.messages.stream(messages=messages, tools=tools, **params) as s:
                for _event in s:
                    pass
                message = s.get_final_message()
        else:
            message = client.messages.create(messages=messages, tools=tools, **params)
        uses = [b for b in message.content if b.type == "tool_use"]
        if not uses:
            return "".join(b.text for b in message.content if b.type == "text"), requests, calls_made
        echo = []
        for b in message.content:
            if b.type == "text":
                echo.append({"type": "text", "text": b.text})
            elif b.type == "tool_use":
                echo.append({"type": "tool_use", "id": b.id, "name": b.name, "input": b.input})
            elif b.type == "thinking":
                echo.append({"type": "thinking", "thinking": b.thinking, "signature": b.signature})
            elif b.type == "redacted_thinking":
                echo.append({"type": "redacted_thinking", "data": b.data})
            else:
                echo.append(b.model_dump(mode="json", exclude_none=True))
        messages.append({"role": "assistant", "content": echo})
        results = []
        for u in uses:
            calls_made += 1
            ok, output = tool_output(args, u.name, json.dumps(u.input), u.id)
            result = {"type": "tool_result", "tool_use_id": u.id, "content": output}
            if not ok:
                result["is_error"] = True
            results.append(result)
        messages.append({"role": "user", "content": results})
    fail(f"no final answer after {MAX_TURNS} turns", 1)
    return "", requests, calls_made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", choices=["openai", "anthropic"])
    stream = parser.add_mutually_exclusive_group()
    stream.add_argument("--stream", dest="stream", action="store_true", default=None)
    stream.add_argument("--no-stream", dest="stream", action="store_false")
    parser.add_argument("--cassette", help="read the prompt and tools from this cassette")
    parser.add_argument("--prompt")
    parser.add_argument("--tools-file")
    parser.add_argument("--base-url", help="instead of OPENAI_BASE_URL / ANTHROPIC_BASE_URL")
    parser.add_argument("--model")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument(
        "--tool-endpoint",
        action="store_true",
        help="run tools through TOOLTAPE_TOOLS_URL instead of answering fixed strings",
    )
    parser.add_argument(
        "--min-tool-calls", type=int, default=0, help="fail unless at least N calls were answered"
    )
    args = parser.parse_args()

    provider, stream_mode, prompt, tools = load_inputs(args)
    if provider == "openai":
        os.environ.setdefault("OPENAI_API_KEY", "tooltape-smoke")
        if not (args.base_url or os.environ.get("OPENAI_BASE_URL")):
            fail("set OPENAI_BASE_URL (e.g. http://127.0.0.1:8089/v1) or --base-url")
        run = run_openai
    else:
        os.environ.setdefault("ANTHROPIC_API_KEY", "tooltape-smoke")
        if not (args.base_url or os.environ.get("ANTHROPIC_BASE_URL")):
            fail("set ANTHROPIC_BASE_URL (e.g. http://127.0.0.1:8089) or --base-url")
        run = run_anthropic
    try:
        text, requests, calls = run(args, stream_mode, prompt, tools)
    except Exception as e:  # the SDK's APIStatusError, connection errors, ...
        print(f"serve_smoke: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if calls < args.min_tool_calls:
        print(f"serve_smoke: only {calls} tool calls, expected at least {args.min_tool_calls}",
              file=sys.stderr)
        return 1
    kind = "streamed" if stream_mode else "json"
    print(f"serve_smoke: ok ({provider}, {kind}): {requests} requests, {calls} tool calls")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
