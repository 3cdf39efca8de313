"""Anthropic Messages, streamed with `client.messages.stream(...)` on the async client.

Shows a streaming loop that lets the SDK assemble the message: the stream helper joins each
content block's deltas (`input_json_delta` fragments per block index) and
`get_final_message()` returns the finished message, whose blocks are echoed unchanged. The
turn's `tool_use` blocks then run concurrently with `asyncio.gather` on one
`httpx.AsyncClient`, and ONE user message carries every `tool_result`, first and in call order,
with `is_error: true` for a failed tool while its siblings keep their results.

    tooltape check fixtures/anthropic -- python examples/loops/anthropic_streaming.py
"""

import asyncio
import json

import anthropic
import httpx

import _tooltape as tt


async def main() -> int:
    client = anthropic.AsyncAnthropic()
    tools = tt.tools()
    messages = tt.first_messages()
    async with httpx.AsyncClient() as http:
        for _ in range(tt.MAX_TURNS):
            async with client.messages.stream(
                model=tt.ANTHROPIC_MODEL,
                max_tokens=tt.ANTHROPIC_MAX_TOKENS,
                messages=messages,
                tools=tools,
            ) as stream:
                async for _event in stream:
                    pass  # a real agent would render text deltas here
                message = await stream.get_final_message()
            uses = [b for b in message.content if b.type == "tool_use"]
            if not uses:
                print("".join(b.text for b in message.content if b.type == "text"))
                return 0
            messages.append(tt.anthropic_assistant_message(message.content))
            outcomes = await asyncio.gather(
                *(tt.acall_tool(http, u.name, json.dumps(u.input), u.id) for u in uses),
                return_exceptions=True,
            )
            results = []
            for use, outcome in zip(uses, outcomes):  # gather keeps call order
                if isinstance(outcome, BaseException):
                    outcome = (False, f"tool `{use.name}` raised: {outcome!r}")
                ok, text = outcome
                results.append(tt.anthropic_tool_result(use.id, ok, text))
            messages.append({"role": "user", "content": results})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
