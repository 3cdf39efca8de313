"""OpenAI Chat Completions with `stream=True`: tool calls assembled from deltas by `index`.

Shows how to rebuild parallel tool calls from a stream. Each `delta.tool_calls[]` entry names
the call it continues by `index`; the call's `id` and `function.name` come only in its first
delta, and the deltas of several calls may interleave (`c0.name, c1.name, c0.args, c1.args`).
So fragments are joined per `index`, never per id (bug-catalog class 3). One extra rule
handles servers that put every call at `index` 0 (Ollama): a delta with a new id at a known
index starts a new call. The assembled calls are echoed unchanged and run concurrently in a
thread pool; `Executor.map` yields results in call order, so each result goes with its own id.

    tooltape check fixtures/openai-chat -- python examples/loops/openai_streaming.py
"""

from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


class StreamedTurn:
    """The text and tool calls of one streamed response, accumulated as deltas arrive."""

    def __init__(self) -> None:
        self.text = ""
        self.calls: list[dict] = []  # in order of first appearance
        self.open: dict[int, dict] = {}  # index -> the call that index currently designates

    def add(self, chunk) -> None:
        for choice in chunk.choices:  # the usage chunk at the end has no choices
            if choice.index != 0 or choice.delta is None:
                continue
            delta = choice.delta
            if delta.content:
                self.text += delta.content
            for part in delta.tool_calls or []:
                call = self.open.get(part.index)
                if part.id and (call is None or call["id"] != part.id):
                    call = {"id": part.id, "name": "", "arguments": ""}
                    self.calls.append(call)
                    self.open[part.index] = call
                if call is None:
                    raise RuntimeError(f"a delta for tool call index {part.index} before its id")
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
            if not turn.calls:
                print(turn.text)
                return 0
            messages.append(
                tt.openai_assistant_message(
                    turn.text, [(c["id"], c["name"], c["arguments"]) for c in turn.calls]
                )
            )
            outcomes = pool.map(
                lambda c: tt.call_tool(c["name"], c["arguments"], c["id"]), turn.calls
            )
            for call, (_ok, text) in zip(turn.calls, outcomes):
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": text})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
