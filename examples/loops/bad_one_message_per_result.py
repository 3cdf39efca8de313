"""KNOWN-BAD: one user message per tool_result (Anthropic Messages).

The bug: the tools run concurrently and every `tool_use` gets the right `tool_result`, but each
result goes in a user message of its own (`user, user, ...`) instead of all of them in the
single user message that follows the assistant turn. Anthropic's first-party API currently
accepts it, but its docs call it the most common mistake (it teaches the model to stop making
parallel calls), and Bedrock, Gemini and DeepSeek's Anthropic endpoint reject it.
Real-world class: bug-catalog class 2a, "results split across several user messages"
(pydantic-ai#653, agentscope#1892, DeepSeek-V3#967).
Caught by: TT005 split-tool-results, a warning by default and a failure with
`--profile strict`.

    tooltape check --profile strict fixtures/anthropic/fantasy-sonnet-4-parallel2-followup.json \
        -- python examples/loops/bad_one_message_per_result.py   # exit 1, TT005
"""

import json
from concurrent.futures import ThreadPoolExecutor

import anthropic

import _tooltape as tt


def main() -> int:
    client = anthropic.Anthropic()
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
            for use, future in zip(uses, futures):
                ok, text = future.result()
                # BUG: a new user message for every result.
                messages.append(
                    {"role": "user", "content": [tt.anthropic_tool_result(use.id, ok, text)]}
                )
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
