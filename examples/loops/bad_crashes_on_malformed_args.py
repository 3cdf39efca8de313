"""KNOWN-BAD: parses each call's arguments with `json.loads` and lets the error escape.

The bug: `arguments` is JSON *text* that the model wrote, and the API documents that it may
not parse (a model cut off mid-object, a trailing comma). The loop decodes it before running
the tool, outside any error handling, so one malformed call raises `json.JSONDecodeError` and
ends the whole conversation, the sibling calls' work included. A correct loop answers that
call with an error result ("the arguments are not valid JSON: ...") and goes on; the model
then calls again.
Caught by: TT023 crashed-on-bad-call (with TT013: the turn's calls were never answered).

    tooltape check fixtures/openai-chat --fault malformed-arguments \
        -- python examples/loops/bad_crashes_on_malformed_args.py   # exit 1, TT023 + TT013
"""

import json
from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


def main() -> int:
    client = openai.OpenAI()
    tools = tt.tools()
    messages = tt.first_messages()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(tt.MAX_TURNS):
            response = client.chat.completions.create(
                model=tt.OPENAI_MODEL, messages=messages, tools=tools
            )
            message = response.choices[0].message
            calls = message.tool_calls or []
            if not calls:
                print(message.content or "")
                return 0
            messages.append(
                tt.openai_assistant_message(
                    message.content, [(c.id, c.function.name, c.function.arguments) for c in calls]
                )
            )
            # BUG: a call whose arguments do not parse raises here and ends the loop.
            arguments = [json.loads(c.function.arguments or "{}") for c in calls]
            outcomes = pool.map(
                lambda ca: tt.call_tool(ca[0].function.name, json.dumps(ca[1]), ca[0].id),
                zip(calls, arguments),
            )
            for call, (_ok, text) in zip(calls, outcomes):
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
