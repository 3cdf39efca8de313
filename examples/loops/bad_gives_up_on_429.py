"""Known-bad: the client's retries are switched off, so one 429 ends the conversation.

`openai.OpenAI(max_retries=0)` is a common "fail fast" setting copied from test code. The
first rate limit (or 5xx) raises `openai.RateLimitError` out of the loop, and the agent
stops with the user's task half done. The official SDKs retry 429 and 5xx twice by default,
honouring `retry-after`; keep that (or retry yourself, with backoff).

    tooltape check fixtures/openai-chat --fault rate-limit:100 -- python examples/loops/bad_gives_up_on_429.py
    # -> TT018 gave-up-on-retryable-error
"""

from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


def main() -> int:
    client = openai.OpenAI(max_retries=0)  # the bug: no retry at all
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
            outcomes = pool.map(
                lambda c: tt.call_tool(c.function.name, c.function.arguments, c.id), calls
            )
            for call, (_ok, text) in zip(calls, outcomes):
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
