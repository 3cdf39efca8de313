"""KNOWN-BAD: rebuilds the model turn from `response.function_calls` (bug-catalog class 6).

Writing the history as fresh `Part(function_call=…)` parts drops each part's
`thoughtSignature`. Gemini 3 models refuse the follow-up: "Function call is missing a
thought_signature in functionCall parts. …". tooltape answers that 400 and reports TT006
altered-assistant-turn; on cassettes of older models (which take such a history) TT006 is a
warning. Append `response.candidates[0].content` instead.

    tooltape check fixtures/gemini -- python examples/loops/bad_gemini_rebuilt_calls.py
"""

from concurrent.futures import ThreadPoolExecutor

from google.genai import types

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
            # BUG: the served parts (and their thought signatures) are thrown away.
            contents.append(types.Content(role="model", parts=[
                types.Part(function_call=types.FunctionCall(name=c.name, args=c.args)) for c in calls
            ]))
            outputs = list(pool.map(tt.gemini_call_tool, calls))
            contents.append(tt.gemini_responses(calls, outputs))
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
