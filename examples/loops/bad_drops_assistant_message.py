"""KNOWN-BAD: sends the tool results without the assistant message that made the calls (OpenAI).

The bug: the loop runs every call and builds a correct `tool` message for each, in order, but
appends only those to the history: the assistant message carrying `tool_calls` is never
echoed (e.g. history rebuilt from the text content only, or a store that saves tool messages
but not the assistant turn). The `tool` messages then answer ids the conversation never
showed.
Real-world class: bug-catalog class 15, "assistant tool_calls message not echoed"
(llm-ollama#72, crewAI#931, langchain#25716); the provider error is class 2's "messages with
role 'tool' must be a response to a preceeding message with 'tool_calls'".
Caught by: TT002 unknown-tool-result. The replay server answers with OpenAI's own 400; the SDK
raises `openai.BadRequestError` and this script exits non-zero, as a real loop would.

    tooltape check fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json \
        -- python examples/loops/bad_drops_assistant_message.py   # exit 1, TT002
"""

from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


def main() -> int:
    client = openai.OpenAI()
    tools = tt.tools()
    messages = tt.first_messages()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(tt.MAX_TURNS):
            response = client.chat.completions.create(
                model=tt.OPENAI_MODEL, messages=messages, tools=tools
            )
            message = response.choices[0].message
            calls = message.tool_calls or []
            if not calls:
                print(message.content or "")
                return 0
            # BUG: the assistant message with `tool_calls` is not appended to `messages`.
            outcomes = pool.map(
                lambda c: tt.call_tool(c.function.name, c.function.arguments, c.id), calls
            )
            for call, (_ok, text) in zip(calls, outcomes):
                messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
