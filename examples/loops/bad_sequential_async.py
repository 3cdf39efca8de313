"""KNOWN-BAD: async tools awaited one after another (OpenAI, asyncio).

The bug: everything is `async`, so the loop looks concurrent, but a `for` loop awaits each tool
call before starting the next: a turn of N calls takes the sum of their latencies instead of
the longest one. The results are complete, correct and in order; only the time is lost.
Real-world class: bug-catalog class 13, "sequential execution despite an async API"
(openai-node#1131's `for ... await` in runTools, the Anthropic SDK tool runner,
llama_index#12211 "Should this use await? ... gather()").
Caught by: TT008 sequential-execution, an error on cassettes that set `expect_concurrency`
(a warning elsewhere): the tool spans of the turn do not overlap. In barrier mode (the default
of `tooltape check`) the tool endpoints hold each reply until every call of the turn has
arrived or the grace period (1 s) ends, so a loop like this one is caught deterministically,
however loaded the machine is.

    tooltape check fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json \
        -- python examples/loops/bad_sequential_async.py     # exit 1, TT008 (needs
                                                             # "expect_concurrency": true)
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
            for call in calls:
                # BUG: awaiting inside the loop runs the calls one at a time.
                _ok, text = await tt.acall_tool(
                    http, call.function.name, call.function.arguments, call.id
                )
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
