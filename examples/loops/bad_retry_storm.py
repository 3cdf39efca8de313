"""Known-bad: "retry until it works", with no bound.

A `while True` around the request with a short fixed pause: against an API that keeps
answering 429 (a quota that is used up, an outage), the loop hammers it forever and never
reports the error. Bound the retries (the official SDKs stop after 2 by default) and surface
the last error.

    tooltape check fixtures/openai-chat --fault rate-limit:1x12 -- python examples/loops/bad_retry_storm.py
    # -> TT020 retry-storm
"""

import time
from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


def create(client, **kwargs):
    while True:  # the bug: no bound
        try:
            return client.chat.completions.create(**kwargs)
        except openai.APIStatusError as e:
            if e.status_code != 429 and e.status_code < 500:
                raise
            time.sleep(0.01)


def main() -> int:
    client = openai.OpenAI(max_retries=0)
    tools = tt.tools()
    messages = tt.first_messages()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(tt.MAX_TURNS):
            response = create(client, model=tt.OPENAI_MODEL, messages=messages, tools=tools)
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
            outcomes = pool.map(
                lambda c: tt.call_tool(c.function.name, c.function.arguments, c.id), calls
            )
            for call, (_ok, text) in zip(calls, outcomes):
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
