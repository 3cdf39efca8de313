"""KNOWN-BAD: answers each call by the item's `id` (`fc_…`) instead of its `call_id` (OpenAI
Responses).

The bug: a `function_call` item carries two ids, its own item `id` and the `call_id` that
outputs must name; the loop picks the wrong one, as loops ported from Chat Completions (where
a call has one `id`) do. Real-world class: bug-catalog class 2, "result pinned to the wrong id".
Caught by: TT002 unknown-tool-result, with OpenAI's own 400 ("No tool call found for function
call output with call_id fc_…."); the calls are then unanswered too (TT001). The SDK raises
`openai.BadRequestError` and this script exits non-zero, as a real loop would.

    tooltape check fixtures/openai-responses -- python examples/loops/bad_responses_item_id.py
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
        with ThreadPoolExecutor(max_workers=8) as pool:  # a turn's tools at once, in call order
            texts = list(pool.map(lambda c: tt.call_tool(c.name, c.arguments, c.call_id)[1], calls))
        for call, text in zip(calls, texts):
            items.append(tt.function_call_output(call.id, text))  # BUG: the item id, not call_id
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
