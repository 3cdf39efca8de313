"""Gemini on the official google-genai SDK, synchronous, a turn's calls run in a thread pool.

Shows the correct Gemini loop: automatic function calling off, the model content appended to
the history exactly as served (`response.candidates[0].content`, so every part keeps its
`thoughtSignature`; the SDK re-encodes it URL-safe, which is the same bytes), every call of the
turn run concurrently, then ONE user content with a `functionResponse` per call, in call
order, each named after its call. A failing tool is answered with `{"error": …}`; its
siblings still get their results.

    tooltape check fixtures/gemini -- python examples/loops/gemini_parallel.py
"""

from concurrent.futures import ThreadPoolExecutor

import _tooltape as tt


def main() -> int:
    client = tt.gemini_client()
    config = tt.gemini_config()
    contents = tt.gemini_contents()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(tt.MAX_TURNS):
            response = client.models.generate_content(
                model=tt.gemini_model(), contents=contents, config=config
            )
            calls = response.function_calls or []
            if not calls:
                print(response.text or "")
                return 0
            contents.append(response.candidates[0].content)
            outputs = list(pool.map(tt.gemini_call_tool, calls))  # call order
            contents.append(tt.gemini_responses(calls, outputs))
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
