"""KNOWN-BAD: runs only the first call of a turn, and a "repair" step fills in the rest.

The bug: the loop runs `message.tool_calls[0]` only (bug-catalog class 1), and a repair layer
written to silence the provider's 400 ("...tool_call_ids did not have response messages...")
adds a placeholder result for every call left unanswered. The API is satisfied, the model is
told the other tools returned "No result available.", and nobody sees that they never ran.
Agents ship such repair layers (`ensureToolResultPairing`-style fixes of a dropped call).
Caught by: TT024 fabricated-tool-result (the other calls of the turn ran at the tool
endpoints, these never did, and their results are neither errors nor any tool's output).

    tooltape check fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json \
        -- python examples/loops/bad_placeholder_results.py     # exit 1, TT024
"""

import openai

import _tooltape as tt

PLACEHOLDER = "No result available."


def repair(messages: list, calls) -> None:
    """Adds a placeholder result for each call that has none (the bug's cover-up)."""
    answered = {m.get("tool_call_id") for m in messages if m.get("role") == "tool"}
    for c in calls:
        if c.id not in answered:
            messages.append({"role": "tool", "tool_call_id": c.id, "content": PLACEHOLDER})


def main() -> int:
    client = openai.OpenAI()
    tools = tt.tools()
    messages = tt.first_messages()
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
                message.content,
                [(c.id, c.function.name, c.function.arguments) for c in calls],
            )
        )
        call = calls[0]  # BUG: the other calls of the batch never run
        _ok, text = tt.call_tool(call.function.name, call.function.arguments, call.id)
        messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
        repair(messages, calls)
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
