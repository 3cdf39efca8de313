"""OpenAI Chat Completions, asyncio: a turn's tools run concurrently with `asyncio.gather`.

Shows the usual correct concurrent loop on `openai.AsyncOpenAI`: every call of a turn starts at
once on one `httpx.AsyncClient`, and `asyncio.gather` returns the results in the order of the
awaitables it was given, i.e. call order, whatever order the tools finish in (tooltape makes
them finish in reverse by default). Each result is paired with the id of the call it came from,
never by position in completion order. `return_exceptions=True` keeps one crashing tool from
discarding its siblings' results (bug-catalog class 4); it becomes an error result instead.

    tooltape check fixtures/openai-chat -- python examples/loops/openai_async_gather.py
"""

import asyncio

import httpx
import openai

import _tooltape as tt


async def run_calls(http: httpx.AsyncClient, calls) -> list[str]:
    outcomes = await asyncio.gather(
        *(tt.acall_tool(http, c.function.name, c.function.arguments, c.id) for c in calls),
        return_exceptions=True,
    )
    texts = []
    for call, outcome in zip(calls, outcomes):  # gather keeps call order: zip is safe here
        if isinstance(outcome, BaseException):
            texts.append(f"tool `{call.function.name}` raised: {outcome!r}")
        else:
            _ok, text = outcome
            texts.append(text)
    return texts


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
            texts = await run_calls(http, calls)
            for call, text in zip(calls, texts):
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
