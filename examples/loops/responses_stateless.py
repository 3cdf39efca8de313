"""OpenAI Responses, asyncio, stateless: the whole history is sent with every request.

Shows the correct stateless loop on `client.responses.create`: the response's output items go
back unchanged (reasoning items with their `encrypted_content`, every `function_call` with its
`id` and `call_id`), followed by one `function_call_output` per call naming its `call_id`; a
turn's tools run at once with `asyncio.gather`, whose results come back in call order; a failing
tool's error text becomes its output. Repeat until a response has no function calls.

    tooltape check fixtures/openai-responses -- python examples/loops/responses_stateless.py
"""

import asyncio

import httpx
import openai

import _tooltape as tt


async def main() -> int:
    client = openai.AsyncOpenAI()  # OPENAI_BASE_URL and OPENAI_API_KEY come from tooltape
    tools = tt.tools()
    items = tt.responses_input()
    async with httpx.AsyncClient() as http:
        for _ in range(tt.MAX_TURNS):
            response = await client.responses.create(model=tt.OPENAI_MODEL, input=items, tools=tools)
            calls = tt.function_calls(response.output)
            if not calls:
                print(response.output_text)
                return 0
            items += tt.responses_items(response.output)
            outcomes = await asyncio.gather(
                *(tt.acall_tool(http, c.name, c.arguments, c.call_id) for c in calls)
            )
            for call, (_ok, text) in zip(calls, outcomes):
                items.append(tt.function_call_output(call.call_id, text))
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
