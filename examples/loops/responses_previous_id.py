"""OpenAI Responses, stateful: each follow-up names the last response by
`previous_response_id` and sends only the new `function_call_output` items.

The API keeps the conversation (its calls and reasoning) on its side, so the loop sends
neither; it must still answer every call of the last response, by `call_id`. A turn's tools run
in a thread pool and the outputs are collected in call order.

    tooltape check fixtures/openai-responses -- python examples/loops/responses_previous_id.py
"""

from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


def main() -> int:
    client = openai.OpenAI()
    tools = tt.tools()
    response = client.responses.create(model=tt.OPENAI_MODEL, input=tt.responses_input(), tools=tools)
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(tt.MAX_TURNS):
            calls = tt.function_calls(response.output)
            if not calls:
                print(response.output_text)
                return 0
            futures = [pool.submit(tt.call_tool, c.name, c.arguments, c.call_id) for c in calls]
            outputs = [
                tt.function_call_output(call.call_id, future.result()[1])
                for call, future in zip(calls, futures)
            ]
            response = client.responses.create(
                model=tt.OPENAI_MODEL,
                previous_response_id=response.id,
                input=outputs,
                tools=tools,
            )
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
