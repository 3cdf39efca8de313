"""OpenAI Chat Completions, synchronous client, tools run one after another.

Shows the smallest correct loop: send the prompt and the recorded tools, echo the assistant
message with all its `tool_calls` unchanged, answer every call id exactly once with a `tool`
message, in call order, right after that assistant message; a failing tool becomes an error
result (its error text as the content) and the other calls still get their results. Repeat
until a response has no tool calls, then print the final text.

It is complete but not concurrent: a turn takes the sum of its tools' latencies. That is fine
for tools with side effects that must not overlap, and it conforms on cassettes that do not
expect concurrency; on ones that do (`expect_concurrency`), tooltape reports TT008, as it does
for bad_sequential_async.py.

    tooltape check fixtures/openai-chat -- python examples/loops/openai_sequential.py
"""

import openai

import _tooltape as tt


def main() -> int:
    client = openai.OpenAI()  # OPENAI_BASE_URL and OPENAI_API_KEY come from tooltape
    tools = tt.tools()
    messages = tt.first_messages()
    for _ in range(tt.MAX_TURNS):
        response = client.chat.completions.create(
            model=tt.OPENAI_MODEL, messages=messages, tools=tools
        )
        message = response.choices[0].message
        # Decide on the calls themselves, not on finish_reason: some servers say "stop" and
        # still send calls (bug-catalog class 12).
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
        for call in calls:
            ok, text = tt.call_tool(call.function.name, call.function.arguments, call.id)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
