"""Known-bad: the retry wraps the whole agent step, so a 429 on the follow-up runs the tools again.

A step is "run the calls of the last response, then ask the model with their results"; the
step is retried as a unit (a `@retry` decorator on it, a job queue that re-runs failed jobs).
When the follow-up request is rate-limited, the retry runs every tool of the turn a second
time: an email sent twice, a payment made twice. Retry the model request alone (the SDK's own
retries do) and keep the results of calls that already ran.

    tooltape check fixtures/openai-chat --fault rate-limit:50@2 -- python examples/loops/bad_retries_tools_twice.py
    # -> TT021 tools-executed-twice
"""

import time
from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


def wait_asked(error: openai.APIStatusError) -> float:
    headers = error.response.headers
    if headers.get("retry-after-ms"):
        return float(headers["retry-after-ms"]) / 1000
    return float(headers.get("retry-after") or 1)


def main() -> int:
    client = openai.OpenAI(max_retries=0)
    tools = tt.tools()
    messages = tt.first_messages()
    pending = None  # the assistant message whose calls the next step runs

    def step(pool):
        sent = list(messages)
        if pending is not None:
            calls = pending.tool_calls
            sent.append(
                tt.openai_assistant_message(
                    pending.content, [(c.id, c.function.name, c.function.arguments) for c in calls]
                )
            )
            outcomes = pool.map(
                lambda c: tt.call_tool(c.function.name, c.function.arguments, c.id), calls
            )
            for call, (_ok, text) in zip(calls, outcomes):
                sent.append({"role": "tool", "tool_call_id": call.id, "content": text})
        response = client.chat.completions.create(model=tt.OPENAI_MODEL, messages=sent, tools=tools)
        return sent, response

    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(tt.MAX_TURNS):
            for attempt in range(3):
                try:
                    messages, response = step(pool)  # the bug: the retry re-runs the tools
                    break
                except openai.APIStatusError as e:
                    if attempt == 2 or (e.status_code != 429 and e.status_code < 500):
                        raise
                    time.sleep(wait_asked(e))
            message = response.choices[0].message
            if not message.tool_calls:
                print(message.content or "")
                return 0
            pending = message
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
