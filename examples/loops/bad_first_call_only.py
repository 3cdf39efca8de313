"""KNOWN-BAD: answers only the first tool call of a turn (OpenAI Chat Completions).

The bug: the loop echoes the assistant message with all its calls but runs and answers only
`message.tool_calls[0]`, as if the model could only ever ask for one tool at a time.
Real-world class: bug-catalog class 1, "missing tool result for one or more calls in a batch"
(e.g. `calls[0]` / `next(...)` / `.first()` in aisuite#386, LiveBench#485).
Caught by: TT001 missing-tool-result. The replay server answers the follow-up with OpenAI's own
400 ("...The following tool_call_ids did not have response messages: ..."); the SDK raises
`openai.BadRequestError` and this script exits non-zero, as a real loop would.

    tooltape check fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json \
        -- python examples/loops/bad_first_call_only.py      # exit 1, TT001
"""

import openai

import _tooltape as tt


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
        call = calls[0]  # BUG: the other calls of the batch never get a result
        _ok, text = tt.call_tool(call.function.name, call.function.arguments, call.id)
        messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
