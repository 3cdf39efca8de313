"""Known-bad: "retry until it works", with no bound.

A `while True` around the request with a short fixed pause: against an API that keeps
answering 429 (a quota that is used up, an outage), the loop hammers it forever and never
reports the error. Bound the retries (the official SDKs stop after 2 by default) and surface
the last error.

    tooltape check fixtures/openai-chat --fault rate-limit:1x12 -- python examples/loops/bad_retry_storm.py
    # -> TT020 retry-storm
"""

import time

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
    return tt.openai_chat_loop(lambda **kwargs: create(client, **kwargs))


if __name__ == "__main__":
    raise SystemExit(main())
