"""Anthropic Messages, synchronous client, a turn's tool_use blocks run in a thread pool.

Shows the correct Anthropic loop: echo the assistant message with all its content blocks, run
every `tool_use` of the turn concurrently, then send ONE user message whose content is all the
`tool_result` blocks, first and in call order (bug-catalog class 2: one message per result is
the classic mistake). A failing tool gets a `tool_result` with `is_error: true` and its error
text; its siblings still get their real results (class 4).

    tooltape check fixtures/anthropic -- python examples/loops/anthropic_parallel.py
"""

import json
from concurrent.futures import ThreadPoolExecutor

import anthropic

import _tooltape as tt


def main() -> int:
    client = anthropic.Anthropic()  # ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY come from tooltape
    tools = tt.tools()
    messages = tt.first_messages()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(tt.MAX_TURNS):
            response = client.messages.create(
                model=tt.ANTHROPIC_MODEL,
                max_tokens=tt.ANTHROPIC_MAX_TOKENS,
                messages=messages,
                tools=tools,
            )
            uses = [b for b in response.content if b.type == "tool_use"]
            if not uses:
                print("".join(b.text for b in response.content if b.type == "text"))
                return 0
            messages.append(tt.anthropic_assistant_message(response.content))
            futures = [
                pool.submit(tt.call_tool, u.name, json.dumps(u.input), u.id) for u in uses
            ]
            results = []
            for use, future in zip(uses, futures):  # call order, not completion order
                ok, text = future.result()
                results.append(tt.anthropic_tool_result(use.id, ok, text))
            messages.append({"role": "user", "content": results})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
