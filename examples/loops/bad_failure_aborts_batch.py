"""KNOWN-BAD: one failing tool aborts the whole batch (OpenAI Chat Completions, asyncio).

The bug: the turn's tools run with a bare `asyncio.gather(...)` (no `return_exceptions=True`)
and a failing tool raises. The first exception propagates out of the gather, the loop catches
it and answers the failing call with its error text, but the results of the sibling calls,
which ran (and had their side effects), are lost: they get no tool message at all.
Real-world class: bug-catalog class 4, "one failing or cancelled tool aborts the whole batch"
(openai-agents-python #2584, langgraph#7412, OpenHarness#138, smolagents#2460).
Caught by: TT010 tool-failure-dropped. The replay server answers the follow-up with OpenAI's own
400 for the unanswered siblings; the SDK raises `openai.BadRequestError` and this script exits
non-zero, as a real loop would.

    tooltape check fixtures/openai-chat/handmade-failing-tool.json \
        -- python examples/loops/bad_failure_aborts_batch.py  # exit 1, TT010
"""

import asyncio

import httpx
import openai

import _tooltape as tt


class ToolFailed(Exception):
    def __init__(self, call_id: str, message: str) -> None:
        super().__init__(message)
        self.call_id = call_id


async def run_call(http: httpx.AsyncClient, call) -> str:
    ok, text = await tt.acall_tool(http, call.function.name, call.function.arguments, call.id)
    if not ok:
        raise ToolFailed(call.id, text)
    return text


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
            try:
                texts = await asyncio.gather(*(run_call(http, c) for c in calls))
            except ToolFailed as failure:
                # BUG: only the failing call is answered; its siblings' results are dropped.
                messages.append(
                    {"role": "tool", "tool_call_id": failure.call_id, "content": str(failure)}
                )
            else:
                for call, text in zip(calls, texts):
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
