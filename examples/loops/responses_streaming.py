"""OpenAI Responses, `stream=True`: items accumulated from the events by output index.

The loop builds each output item from `response.output_item.added`, the argument deltas of
`response.function_call_arguments.delta` (keyed by `item_id`, never by arrival order) and the
whole item of `response.output_item.done`, then replays the items in output order and answers
every call by `call_id`. A turn's tools run at once with `asyncio.gather`.

    tooltape check fixtures/openai-responses -- python examples/loops/responses_streaming.py
"""

import asyncio

import httpx
import openai

import _tooltape as tt


async def turn(client, items, tools):
    """One streamed response: its output items in output order, and its text."""
    by_index, arguments, text = {}, {}, []
    stream = await client.responses.create(model=tt.OPENAI_MODEL, input=items, tools=tools, stream=True)
    async for event in stream:
        if event.type in ("response.output_item.added", "response.output_item.done"):
            by_index[event.output_index] = event.item
        elif event.type == "response.function_call_arguments.delta":
            arguments[event.item_id] = arguments.get(event.item_id, "") + event.delta
        elif event.type == "response.output_text.delta":
            text.append(event.delta)
    output = [by_index[i] for i in sorted(by_index)]
    for item in output:
        if item.type == "function_call" and not item.arguments:
            item.arguments = arguments.get(item.id, "")
    return output, "".join(text)


async def main() -> int:
    client = openai.AsyncOpenAI()
    tools = tt.tools()
    items = tt.responses_input()
    async with httpx.AsyncClient() as http:
        for _ in range(tt.MAX_TURNS):
            output, text = await turn(client, items, tools)
            calls = tt.function_calls(output)
            if not calls:
                print(text)
                return 0
            items += tt.responses_items(output)
            outcomes = await asyncio.gather(
                *(tt.acall_tool(http, c.name, c.arguments, c.call_id) for c in calls)
            )
            for call, (_ok, result) in zip(calls, outcomes):
                items.append(tt.function_call_output(call.call_id, result))
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
