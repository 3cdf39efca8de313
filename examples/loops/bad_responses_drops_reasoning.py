"""KNOWN-BAD: replays the function calls but drops the reasoning items between turns (OpenAI
Responses).

The bug: the loop keeps only the `function_call` items of a response when it builds the next
input, as loops that keep "tool calls and results" do; the reasoning item the model produced
before the calls is lost. The API refuses a call replayed with its item id without the
reasoning item that preceded it ("Item 'fc_…' of type 'function_call' was provided without its
required 'reasoning' item: 'rs_…'."), and a reasoning model loses its chain of thought either way.
Real-world class: bug-catalog class 6, "history altered between turns".
Caught by: TT006 altered-assistant-turn, on every cassette with reasoning items.

    tooltape check fixtures/openai-responses -- python examples/loops/bad_responses_drops_reasoning.py
"""

from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


def main() -> int:
    client = openai.OpenAI()
    tools = tt.tools()
    items = tt.responses_input()
    for _ in range(tt.MAX_TURNS):
        response = client.responses.create(model=tt.OPENAI_MODEL, input=items, tools=tools)
        calls = tt.function_calls(response.output)
        if not calls:
            print(response.output_text)
            return 0
        items += tt.responses_items(calls)  # BUG: the reasoning items are left out
        with ThreadPoolExecutor(max_workers=8) as pool:  # a turn's tools at once, in call order
            texts = list(pool.map(lambda c: tt.call_tool(c.name, c.arguments, c.call_id)[1], calls))
        for call, text in zip(calls, texts):
            items.append(tt.function_call_output(call.call_id, text))
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
