"""Known-bad: a hand-written retry that ignores `retry-after` and tries again at once.

The SDK's own retries are switched off in favour of a loop of its own, which retries a rate
limit immediately. The API asked it to wait (`retry-after`); an immediate retry only spends
quota and gets rate-limited again. Sleep what `retry-after-ms` / `retry-after` says (the
official SDKs do), or back off exponentially when neither is sent.

    tooltape check fixtures/openai-chat --fault rate-limit:500 -- python examples/loops/bad_retries_too_early.py
    # -> TT019 retried-before-retry-after
"""

from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


def create(client, **kwargs):
    for _attempt in range(3):
        try:
            return client.chat.completions.create(**kwargs)
        except (openai.RateLimitError, openai.InternalServerError):
            continue  # the bug: no wait at all
    return client.chat.completions.create(**kwargs)


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
