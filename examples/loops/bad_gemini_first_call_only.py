"""KNOWN-BAD: answers only the first call of a Gemini turn (bug-catalog class 1).

`response.function_calls[0]` is the classic shortcut from single-call tutorials. With parallel
calls the API refuses the follow-up: "Please ensure that the number of function response parts
is equal to the number of function call parts of the function call turn." tooltape answers the
same 400 and reports TT001 (TT010 where the dropped sibling belongs to a failing tool's turn).

    tooltape check fixtures/gemini -- python examples/loops/bad_gemini_first_call_only.py
"""

import _tooltape as tt


def main() -> int:
    client = tt.gemini_client()
    config = tt.gemini_config()
    contents = tt.gemini_contents()
    for _ in range(tt.MAX_TURNS):
        response = client.models.generate_content(
            model=tt.gemini_model(), contents=contents, config=config
        )
        if not response.function_calls:
            print(response.text or "")
            return 0
        call = response.function_calls[0]  # BUG: the other calls of the turn go unanswered
        contents.append(response.candidates[0].content)
        contents.append(tt.gemini_responses([call], [tt.gemini_call_tool(call)]))
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
