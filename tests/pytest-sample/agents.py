"""Two small agent loops, as a project under test would have them: an OpenAI Chat Completions
loop and an Anthropic Messages loop on the official SDKs. They take their endpoints as
arguments (a real agent would take them from its settings), and run their tools through a
`run_tool` function, which in the tests goes to tooltape's tool endpoint.

The flags switch on one classic bug each, for the known-bad tests (test_known_bad.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import anthropic
import openai

MAX_TURNS = 16


def http_tool(tools_url: str):
    """A `run_tool(name, arguments_json, call_id) -> (ok, text)` that POSTs to tooltape's tool
    endpoint: the five-line adapter of the README."""

    def run_tool(name: str, arguments: str, call_id: str) -> tuple[bool, str]:
        url = f"{tools_url}/{urllib.parse.quote(name, safe='')}"
        headers = {"content-type": "application/json", "tooltape-call-id": call_id}
        request = urllib.request.Request(url, arguments.encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return True, response.read().decode()
        except urllib.error.HTTPError as e:
            return False, e.read().decode()

    return run_tool


def openai_agent(
    *,
    base_url: str,
    messages: list,
    tools: list,
    run_tool,
    model: str = "gpt-4o",
    first_call_only: bool = False,
    one_by_one: bool = False,
    reversed_results: bool = False,
) -> str:
    """Chat Completions until a response has no tool calls; a turn's tools run concurrently
    and every call gets its result, in call order."""
    client = openai.OpenAI(base_url=base_url, api_key="sk-placeholder", max_retries=0)
    messages = list(messages)
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(MAX_TURNS):
            response = client.chat.completions.create(model=model, messages=messages, tools=tools)
            message = response.choices[0].message
            calls = message.tool_calls or []
            if not calls:
                return message.content or ""
            messages.append(
                {
                    "role": "assistant",
                    "content": message.content,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.function.name, "arguments": c.function.arguments},
                        }
                        for c in calls
                    ],
                }
            )
            answered = calls[:1] if first_call_only else calls
            if one_by_one:
                outcomes = [run_tool(c.function.name, c.function.arguments, c.id) for c in answered]
            else:
                futures = [
                    pool.submit(run_tool, c.function.name, c.function.arguments, c.id)
                    for c in answered
                ]
                outcomes = [f.result() for f in futures]
            results = [
                {"role": "tool", "tool_call_id": c.id, "content": text}
                for c, (_ok, text) in zip(answered, outcomes)
            ]
            messages.extend(reversed(results) if reversed_results else results)
    raise RuntimeError(f"no final answer after {MAX_TURNS} turns")


def anthropic_agent(*, base_url: str, messages: list, tools: list, run_tool, system: str = "") -> str:
    """Anthropic Messages until a response has no tool_use; one user message with a
    tool_result per tool_use, in call order, a failing tool marked is_error."""
    client = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-placeholder", max_retries=0)
    messages = list(messages)
    extra = {"system": system} if system else {}
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(MAX_TURNS):
            response = client.messages.create(
                model="claude-sonnet-4-6", max_tokens=1024, messages=messages, tools=tools, **extra
            )
            uses = [b for b in response.content if b.type == "tool_use"]
            if not uses:
                return "".join(b.text for b in response.content if b.type == "text")
            messages.append(
                {"role": "assistant", "content": [b.model_dump(mode="json", exclude_none=True) for b in response.content]}
            )
            futures = [pool.submit(run_tool, u.name, json.dumps(u.input), u.id) for u in uses]
            results = []
            for use, future in zip(uses, futures):
                ok, text = future.result()
                block = {"type": "tool_result", "tool_use_id": use.id, "content": text}
                if not ok:
                    block["is_error"] = True
                results.append(block)
            messages.append({"role": "user", "content": results})
    raise RuntimeError(f"no final answer after {MAX_TURNS} turns")
