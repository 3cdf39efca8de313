"""Known-bad: the client's retries are switched off, so one 429 ends the conversation.

`openai.OpenAI(max_retries=0)` is a common "fail fast" setting copied from test code. The
first rate limit (or 5xx) raises `openai.RateLimitError` out of the loop, and the agent
stops with the user's task half done. The official SDKs retry 429 and 5xx twice by default,
honouring `retry-after`; keep that (or retry yourself, with backoff).

    tooltape check fixtures/openai-chat --fault rate-limit:100 -- python examples/loops/bad_gives_up_on_429.py
    # -> TT018 gave-up-on-retryable-error
"""

import openai

import _tooltape as tt


def main() -> int:
    client = openai.OpenAI(max_retries=0)  # the bug: no retry at all
    return tt.openai_chat_loop(client.chat.completions.create)


if __name__ == "__main__":
    raise SystemExit(main())
