"""KNOWN-BAD: streamed tool calls accumulated by `id` instead of `index` (OpenAI, stream=True).

The bug: the loop keys the calls it assembles from `delta.tool_calls[]` by the delta's `id`.
OpenAI sends the id only in a call's first delta, so a delta without one is taken to continue
"the most recent call". That works while calls stream one after another, but when the deltas
of parallel calls interleave (`c0, c1, c2, c0, c2, c1, ...`) every argument fragment is glued
onto the last call opened: the calls are echoed back with the wrong arguments (one holding
several JSON objects glued together, the others empty). Everything else is correct: the tools
run concurrently, every id is answered once in call order, and when the tool endpoint finds
no call matching the garbled arguments (404) its error text is used as the result, so the
only finding is the altered echo.
Real-world class: bug-catalog class 3, "streaming assembly of parallel tool calls"
(Qwen-Agent#943, aichat#1495, vllm#19056).
Caught by: TT006 altered-assistant-turn, on a stream whose calls interleave.

    tooltape check fixtures/openai-compatible/chat/handmade-interleaved-3-calls-stream.json \
        -- python examples/loops/bad_stream_by_id.py          # exit 1, TT006
"""

from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


class StreamedTurn:
    def __init__(self) -> None:
        self.text = ""
        self.calls: dict[str, dict] = {}  # id -> call, in order of first appearance
        self.last_id: str | None = None

    def add(self, chunk) -> None:
        for choice in chunk.choices:
            if choice.index != 0 or choice.delta is None:
                continue
            delta = choice.delta
            if delta.content:
                self.text += delta.content
            for part in delta.tool_calls or []:
                # BUG: keyed by id; a delta without an id is glued onto the last call seen.
                call_id = part.id or self.last_id
                if call_id is None:
                    continue
                self.last_id = call_id
                call = self.calls.setdefault(call_id, {"id": call_id, "name": "", "arguments": ""})
                if part.function is not None:
                    if part.function.name and not call["name"]:
                        call["name"] = part.function.name
                    if part.function.arguments:
                        call["arguments"] += part.function.arguments


def main() -> int:
    client = openai.OpenAI()
    tools = tt.tools()
    messages = tt.first_messages()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(tt.MAX_TURNS):
            turn = StreamedTurn()
            stream = client.chat.completions.create(
                model=tt.OPENAI_MODEL, messages=messages, tools=tools, stream=True
            )
            for chunk in stream:
                turn.add(chunk)
            calls = list(turn.calls.values())
            if not calls:
                print(turn.text)
                return 0
            messages.append(
                tt.openai_assistant_message(
                    turn.text, [(c["id"], c["name"], c["arguments"]) for c in calls]
                )
            )
            # call_tool turns a 404 (no call matches these arguments) into (False, error text).
            outcomes = pool.map(
                lambda c: tt.call_tool(c["name"], c["arguments"], c["id"]), calls
            )
            for call, (_ok, text) in zip(calls, outcomes):
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
