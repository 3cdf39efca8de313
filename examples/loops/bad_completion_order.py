"""KNOWN-BAD: pairs tool results with call ids in completion order (OpenAI, asyncio).

The bug: the tools run concurrently, which is right, but the results are collected with
`asyncio.as_completed` (fastest first) and then zipped with the calls (call order). Whenever the
tools do not finish in call order, each result is sent under another call's id. The API
accepts it; the model silently reads the wrong answer for each question.
Real-world class: bug-catalog class 7, "results paired to the wrong call" (e.g. swarms#1896:
`as_completed` combined with `zip(tasks, results)`).
Caught by: TT009 result-mismatch. tooltape's tool endpoints finish a turn's calls in reverse call
order by default, so the swap happens on every run, and the server knows which result each
call id was given.

    tooltape check fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json \
        -- python examples/loops/bad_completion_order.py     # exit 1, TT009
"""

import asyncio

import httpx
import openai

import _tooltape as tt


async def main() -> int:
    client = openai.AsyncOpenAI()
    tools = tt.tools()
    messages = tt.first_messages()
    async with httpx.AsyncClient() as http:
        for _ in range(tt.MAX_TURNS):
            response = await client.chat.completions.create(
                model=tt.OPENAI_MODEL, messages=messages, tools=tools
            )
            message = response.choices[0].message
            calls = message.tool_calls or []
            if not calls:
                print(message.content or "")
                return 0
            messages.append(
                tt.openai_assistant_message(
                    message.content,
                    [(c.id, c.function.name, c.function.arguments) for c in calls],
                )
            )
            tasks = [
                asyncio.ensure_future(
                    tt.acall_tool(http, c.function.name, c.function.arguments, c.id)
                )
                for c in calls
            ]
            finished = [await next_done for next_done in asyncio.as_completed(tasks)]
            # BUG: `finished` is in completion order, `calls` in call order.
            for call, (_ok, text) in zip(calls, finished):
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
