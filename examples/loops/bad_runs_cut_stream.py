"""Known-bad: calls are run as soon as they arrive, even from a stream that then breaks.

The loop streams with `stream=True` and, to save time, runs each call it has received when the
stream stops, whether or not the stream ended. When the connection drops mid-response
(`openai.APIConnectionError`), it runs what it has, then asks again and reuses those results.
But the calls of a broken response were never confirmed: a real retry gets a new response with
other calls and ids, and the tools already ran with side effects for a turn that does not
exist. Run a turn's calls only once the stream has ended with its `finish_reason`; on a broken
stream, ask again and run the calls of the whole response.

    tooltape check fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json --fault cut-stream:9 -- python examples/loops/bad_runs_cut_stream.py
    # -> TT022 executed-truncated-calls
"""

import json
from concurrent.futures import ThreadPoolExecutor

import openai

import _tooltape as tt


def receive(client, messages, tools):
    """The calls of one streamed response, and whether the stream broke."""
    calls: dict[int, dict] = {}
    text = ""
    try:
        stream = client.chat.completions.create(
            model=tt.OPENAI_MODEL, messages=messages, tools=tools, stream=True
        )
        for chunk in stream:
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for part in choice.delta.tool_calls or []:
                    call = calls.setdefault(part.index, {"id": "", "name": "", "arguments": ""})
                    call["id"] = part.id or call["id"]
                    if part.function is not None:
                        call["name"] = part.function.name or call["name"]
                        call["arguments"] += part.function.arguments or ""
    except openai.APIConnectionError:
        return text, list(calls.values()), True
    return text, list(calls.values()), False


def arguments(call: dict) -> str:
    try:
        json.loads(call["arguments"])
        return call["arguments"]
    except ValueError:
        return "{}"


def main() -> int:
    client = openai.OpenAI()
    tools = tt.tools()
    messages = tt.first_messages()
    done: dict[str, str] = {}  # results by call id, reused on a retry
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(tt.MAX_TURNS):
            broken = True
            while broken:
                text, calls, broken = receive(client, messages, tools)
                todo = [c for c in calls if c["id"] and c["id"] not in done]
                outcomes = pool.map(lambda c: tt.call_tool(c["name"], arguments(c), c["id"]), todo)
                for call, (_ok, out) in zip(todo, outcomes):  # the bug: runs a broken stream's calls
                    done[call["id"]] = out
            if not calls:
                print(text)
                return 0
            messages.append(
                tt.openai_assistant_message(
                    text or None, [(c["id"], c["name"], c["arguments"]) for c in calls]
                )
            )
            for call in calls:
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": done[call["id"]]})
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
