"""Gemini on the official google-genai SDK, streamed (`generate_content_stream`, `?alt=sse`).

Every chunk is a whole response whose parts continue the turn. The loop keeps the parts as
they come, joins text, and puts Gemini 3's streamed arguments back together: a `functionCall`
opened with a `name` and `will_continue`, then `partial_args` fragments (a value at a JSON
path; a string continues while `will_continue` is set), closed by an empty `functionCall`. The
model content it echoes holds each call whole, with the `thoughtSignature` it came with; the
calls run concurrently and are answered in call order.

    tooltape check fixtures/gemini -- python examples/loops/gemini_streaming.py
"""

import re
from concurrent.futures import ThreadPoolExecutor

from google.genai import types

import _tooltape as tt


def set_path(args: dict, path: str, value, append: bool) -> None:
    """Sets `value` at a JSON path such as `$.location` or `$['a'][0]` inside `args`."""
    steps = re.findall(r"\.([^.\[]+)|\['([^']*)'\]|\[(\d+)\]", path[1:])
    node = args
    keys = [k or q if i == "" else int(i) for k, q, i in steps]
    for here, nxt in zip(keys, keys[1:]):
        empty = [] if isinstance(nxt, int) else {}
        if isinstance(here, int):
            while len(node) <= here:
                node.append(None)
            if node[here] is None:
                node[here] = empty
        else:
            node = node.setdefault(here, empty) if isinstance(node, dict) else node
            continue
        node = node[here]
    last = keys[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
        node[last] = (node[last] or "") + value if append else value
    else:
        node[last] = (node.get(last) or "") + value if append else value


class Turn:
    """The parts of one streamed turn, put together."""

    def __init__(self):
        self.parts: list[types.Part] = []
        self.open = None  # (name, id, args, signature, paths whose string continues)

    def close(self):
        if self.open:
            name, id_, args, signature, _ = self.open
            self.parts.append(types.Part(
                function_call=types.FunctionCall(name=name, id=id_, args=args),
                thought_signature=signature))
            self.open = None

    def add(self, part: types.Part):
        call = part.function_call
        if call is None:
            self.close()
            last = self.parts[-1] if self.parts else None
            if (part.text is not None and last is not None and last.text is not None
                    and bool(last.thought) == bool(part.thought) and not last.thought_signature):
                last.text += part.text
                last.thought_signature = part.thought_signature
            else:
                self.parts.append(part)
            return
        if call.name:
            self.close()
            if not call.will_continue and not call.partial_args:
                self.parts.append(part)
                return
            self.open = (call.name, call.id, dict(call.args or {}), part.thought_signature, set())
        if self.open is None:
            raise SystemExit("a streamed argument fragment before any call was opened")
        continuing = self.open[4]
        for arg in call.partial_args or []:
            if arg.string_value is not None:
                set_path(self.open[2], arg.json_path, arg.string_value, arg.json_path in continuing)
                (continuing.add if arg.will_continue else continuing.discard)(arg.json_path)
            elif arg.number_value is not None:
                number = arg.number_value
                set_path(self.open[2], arg.json_path, int(number) if number.is_integer() else number, False)
            elif arg.bool_value is not None:
                set_path(self.open[2], arg.json_path, arg.bool_value, False)
            elif arg.null_value is not None:
                set_path(self.open[2], arg.json_path, None, False)
        if not call.will_continue:
            self.close()


def main() -> int:
    client = tt.gemini_client()
    config = tt.gemini_config()
    contents = tt.gemini_contents()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for _ in range(tt.MAX_TURNS):
            turn = Turn()
            for chunk in client.models.generate_content_stream(
                model=tt.gemini_model(), contents=contents, config=config
            ):
                for candidate in (chunk.candidates or [])[:1]:
                    for part in (candidate.content.parts if candidate.content else None) or []:
                        turn.add(part)
            turn.close()
            calls = [p.function_call for p in turn.parts if p.function_call]
            if not calls:
                print("".join(p.text or "" for p in turn.parts if not p.thought))
                return 0
            contents.append(types.Content(role="model", parts=turn.parts))
            outputs = list(pool.map(tt.gemini_call_tool, calls))  # call order
            contents.append(tt.gemini_responses(calls, outputs))
    raise SystemExit(f"no final answer after {tt.MAX_TURNS} turns")


if __name__ == "__main__":
    raise SystemExit(main())
