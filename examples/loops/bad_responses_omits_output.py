"""KNOWN-BAD: sends an output for every call but the last one (OpenAI Responses).

The bug: an off-by-one over the calls of a turn (`calls[:-1]`), so with parallel calls the last
one is never answered. Real-world class: bug-catalog class 1, "missing tool result for one or
more calls in a batch".
Caught by: TT001 missing-tool-result, with OpenAI's own 400 ("No tool output found for function
call call_…."); where a sibling of the dropped call fails, TT010 names it instead.

    tooltape check fixtures/openai-responses -- python examples/loops/bad_responses_omits_output.py
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
        items += tt.responses_items(response.output)
        answered = calls[:-1] if len(calls) > 1 else calls  # BUG: the last call is left out
        with ThreadPoolExecutor(max_workers=8) as pool:  # a turn's tools at once, in call order
            texts = list(pool.map(lambda c: tt.call_tool(c.name, c.arguments, c.call_id)[1], answered))
        for call, text in zip(answered, texts):
            items.append(tt.function_call_output(call.call_id, text))
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
