"""Known-bad: a hand-written retry that ignores `retry-after` and tries again at once.

The SDK's own retries are switched off in favour of a loop of its own, which retries a rate
limit immediately. The API asked it to wait (`retry-after`); an immediate retry only spends
quota and gets rate-limited again. Sleep what `retry-after-ms` / `retry-after` says (the
official SDKs do), or back off exponentially when neither is sent.

    tooltape check fixtures/openai-chat --fault rate-limit:500 -- python examples/loops/bad_retries_too_early.py
    # -> TT019 retried-before-retry-after
"""

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
    return tt.openai_chat_loop(lambda **kwargs: create(client, **kwargs))


if __name__ == "__main__":
    raise SystemExit(main())
