"""The hand-made OpenAI Responses cassettes, for scripts/make_handmade.py.

Written from the reference protocol notes (§B1–B5): `response` bodies whose `output` lists
`reasoning` (`rs_…`, `encrypted_content`), `message` (`msg_…`) and `function_call` items
(`fc_…` item ids, `call_…` call ids); event streams with `event:` lines, `sequence_number`
from 0 and a terminal `response.completed` (no `[DONE]`); follow-ups that replay the items
with `function_call_output` items, or continue with `previous_response_id`.
"""

from __future__ import annotations

import json

GPT = "gpt-4o-2024-08-06"
REASONER = "gpt-5-2025-08-07"
CREATED = 1767261600


def compact(v) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


class Ids:
    """Deterministic ids in the API's formats, from a seed."""

    def __init__(self, token, seed: str):
        self.token, self.seed = token, seed

    def resp(self, k: int) -> str:
        return "resp_" + self.token(f"{self.seed}/resp/{k}", 50, "0123456789abcdef")

    def item(self, prefix: str, k: int, i: int) -> str:
        return prefix + "_" + self.token(f"{self.seed}/{prefix}/{k}/{i}", 50, "0123456789abcdef")

    def call(self, k: int, i: int) -> str:
        return "call_" + self.token(f"{self.seed}/call/{k}/{i}", 24)

    def encrypted(self, k: int) -> str:
        return "gAAAAAB" + self.token(f"{self.seed}/enc/{k}", 120,
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def flat_tool(name: str, description: str, properties: dict) -> dict:
    return {"type": "function", "name": name, "description": description, "strict": False,
            "parameters": {"type": "object", "properties": properties, "required": list(properties)}}


def fc(ids: Ids, k: int, i: int, name: str, args: dict) -> dict:
    return {"id": ids.item("fc", k, i), "type": "function_call", "status": "completed",
            "arguments": compact(args), "call_id": ids.call(k, i), "name": name}


def msg(ids: Ids, k: int, text: str) -> dict:
    return {"id": ids.item("msg", k, 0), "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}]}


def rs(ids: Ids, k: int) -> dict:
    return {"id": ids.item("rs", k, 0), "type": "reasoning", "summary": [], "encrypted_content": ids.encrypted(k)}


def response(ids: Ids, k: int, request: dict, output: list, usage=(90, 30)) -> dict:
    return {"id": ids.resp(k), "object": "response", "created_at": CREATED + 2 * k, "status": "completed",
            "error": None, "incomplete_details": None, "model": request.get("model_served", GPT),
            "output": output, "parallel_tool_calls": request.get("parallel_tool_calls", True),
            "previous_response_id": request.get("previous_response_id"), "store": request.get("store", True),
            "tool_choice": "auto", "tools": request.get("tools", []),
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1], "total_tokens": sum(usage)}}


def json_body(resp: dict) -> dict:
    return {"type": "json", "text": json.dumps(resp, indent=2, ensure_ascii=False)}


def sse_body(resp: dict, fragments: dict[int, list[str]] | None = None, interleave: bool = False) -> dict:
    """The API's event sequence for `resp`; `fragments[i]` are item i's argument (or text)
    deltas. With `interleave` every item is announced first and the deltas of different items
    alternate (a client-robustness shape, see the cassette's notes)."""
    frames, seq = [], [0]

    def push(kind: str, fields: dict) -> None:
        data = {"type": kind, **fields, "sequence_number": seq[0]}
        seq[0] += 1
        frames.append(f"event: {kind}\ndata: {compact(data)}\n\n")

    opening = {**resp, "status": "in_progress", "output": [], "usage": None}
    push("response.created", {"response": opening})
    push("response.in_progress", {"response": opening})
    items = resp["output"]
    pieces = {i: (fragments or {}).get(i) or [item.get("arguments") or "".join(
        p["text"] for p in item.get("content", []))] for i, item in enumerate(items)}

    def added(i: int, item: dict) -> None:
        start = dict(item, status="in_progress")
        if item["type"] == "function_call":
            start["arguments"] = ""
        if item["type"] == "message":
            start["content"] = []
        push("response.output_item.added", {"output_index": i, "item": start})
        if item["type"] == "message":
            push("response.content_part.added", {"content_index": 0, "item_id": item["id"], "output_index": i,
                                                   "part": {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}})

    def delta(i: int, item: dict, piece: str) -> None:
        if item["type"] == "function_call":
            push("response.function_call_arguments.delta", {"delta": piece, "item_id": item["id"], "output_index": i})
        elif item["type"] == "message":
            push("response.output_text.delta", {"content_index": 0, "delta": piece, "item_id": item["id"],
                                                "logprobs": [], "output_index": i})

    def done(i: int, item: dict) -> None:
        if item["type"] == "function_call":
            push("response.function_call_arguments.done", {"arguments": item["arguments"], "item_id": item["id"],
                                                            "output_index": i})
        elif item["type"] == "message":
            text = item["content"][0]["text"]
            push("response.output_text.done", {"content_index": 0, "item_id": item["id"], "logprobs": [],
                                               "output_index": i, "text": text})
            push("response.content_part.done", {"content_index": 0, "item_id": item["id"], "output_index": i,
                                                  "part": item["content"][0]})
        push("response.output_item.done", {"output_index": i, "item": item})

    if interleave:
        for i, item in enumerate(items):
            added(i, item)
        queues = {i: list(pieces[i]) if items[i]["type"] in ("function_call", "message") else [] for i in pieces}
        turn = 0
        while any(queues.values()):
            i = [j for j in queues if queues[j]][turn % len([j for j in queues if queues[j]])]
            delta(i, items[i], queues[i].pop(0))
            turn += 1
        for i, item in enumerate(items):
            done(i, item)
    else:
        for i, item in enumerate(items):
            added(i, item)
            if item["type"] in ("function_call", "message"):
                for piece in pieces[i]:
                    delta(i, item, piece)
            done(i, item)
    push("response.completed", {"response": resp})
    return {"type": "sse", "frames": frames}


def echo(output: list) -> list:
    """The items of a served response as a loop replays them (stateless)."""
    out = []
    for item in output:
        if item["type"] == "function_call":
            out.append({"type": "function_call", "id": item["id"], "call_id": item["call_id"],
                        "name": item["name"], "arguments": item["arguments"]})
        elif item["type"] == "reasoning":
            out.append({"type": "reasoning", "id": item["id"], "summary": item["summary"],
                        "encrypted_content": item["encrypted_content"]})
        elif item["type"] == "message":
            out.append({"type": "message", "role": "assistant",
                        "content": [{"type": "output_text", "text": item["content"][0]["text"]}]})
    return out


def outputs(output: list, results: list[str]) -> list:
    calls = [i for i in output if i["type"] == "function_call"]
    return [{"type": "function_call_output", "call_id": c["call_id"], "output": r} for c, r in zip(calls, results)]


def follow_up(request: dict, output: list, results: list[str]) -> dict:
    body = {k: v for k, v in request.items() if k != "model_served"}
    body["input"] = request["input"] + echo(output) + outputs(output, results)
    return body


def wire(request: dict) -> dict:
    return {k: v for k, v in request.items() if k != "model_served"}


def build(token, cassette, inter):
    """The builders, bound to make_handmade.py's helpers."""

    def failing_tool() -> dict:
        name = "handmade-failing-tool"
        ids = Ids(token, f"responses/{name}")
        fails = "invoice service timed out after 30 s"
        tools = [flat_tool("fetch_invoice", "Fetch an invoice by number", {"invoice": {"type": "string"}}),
                 flat_tool("get_account_balance", "Get an account's balance", {"account": {"type": "string"}})]
        req0 = {"model": "gpt-4o", "input": [{"role": "user", "content": "Show invoice INV-2026-0042 and the balance of account ACME-7."}],
                "tools": tools, "parallel_tool_calls": True}
        out0 = [fc(ids, 0, 0, "fetch_invoice", {"invoice": "INV-2026-0042"}),
                fc(ids, 0, 1, "get_account_balance", {"account": "ACME-7"})]
        resp0 = response(ids, 0, req0, out0)
        req1 = follow_up(req0, out0, [fails, "ACME-7: 1,250.00 EUR"])
        resp1 = response(ids, 1, req1, [msg(ids, 1, "The invoice service timed out, so I can't show INV-2026-0042 right now. Account ACME-7 has a balance of 1,250.00 EUR.")])
        return cassette(
            name, "openai-responses",
            "2 parallel function_call items where fetch_invoice fails; the follow-up's function_call_output for it carries the failure message (Responses has no error flag), its sibling the real result, then a text answer; calls per turn 2, 0, not streamed.",
            "Hand-made: `tools.fetch_invoice.fails` makes the tool fail; a correct loop sends the error text as that call's output and still sends the sibling's output (TT010).",
            {"fetch_invoice": {"fails": fails}}, [inter(wire(req0), json_body(resp0)), inter(req1, json_body(resp1))])

    def three_turns() -> dict:
        name = "handmade-three-turns"
        ids = Ids(token, f"responses/{name}")
        tools = [flat_tool("get_weather", "Current weather for a city", {"city": {"type": "string"}}),
                 flat_tool("get_local_time", "Local time in a city", {"city": {"type": "string"}}),
                 flat_tool("convert_currency", "Convert an amount", {"amount": {"type": "number"}, "to": {"type": "string"}})]
        req0 = {"model": "gpt-4o", "stream": True, "instructions": "Use the tools; call independent ones in parallel.",
                "input": [{"role": "user", "content": [{"type": "input_text", "text": "I'm flying to Lisbon and Tokyo: weather and local time in both, then 200 EUR in JPY."}]}],
                "tools": tools, "parallel_tool_calls": True}
        out0 = [fc(ids, 0, 0, "get_weather", {"city": "Lisbon"}), fc(ids, 0, 1, "get_weather", {"city": "Tokyo"})]
        resp0 = response(ids, 0, req0, out0)
        req1 = follow_up(req0, out0, ["Lisbon: 19°C, sunny", "Tokyo: 11°C, light rain"])
        out1 = [fc(ids, 1, 0, "get_local_time", {"city": "Lisbon"}), fc(ids, 1, 1, "get_local_time", {"city": "Tokyo"}),
                fc(ids, 1, 2, "convert_currency", {"amount": 200, "to": "JPY"})]
        resp1 = response(ids, 1, req1, out1)
        req2 = follow_up(req1, out1, ["Lisbon: 09:14", "Tokyo: 17:14", "200 EUR = 32,480 JPY"])
        out2 = [msg(ids, 2, "Let me check one more thing."), fc(ids, 2, 0, "get_weather", {"city": "Osaka"})]
        resp2 = response(ids, 2, req2, out2)
        req3 = follow_up(req2, out2, ["Osaka: 13°C, cloudy"])
        resp3 = response(ids, 3, req3, [msg(ids, 3, "Lisbon: 19°C and sunny, 09:14. Tokyo: 11°C with light rain, 17:14 (Osaka nearby: 13°C). 200 EUR is about 32,480 JPY.")])
        frag = lambda s, n=7: [s[i:i + n] for i in range(0, len(s), n)]
        return cassette(
            name, "openai-responses",
            "Three streamed tool turns: 2 parallel get_weather calls, then 3 parallel calls of two tools, then a message item followed by 1 call, then a streamed text answer; argument deltas cut mid-token; calls per turn 2, 3, 1, 0, streamed.",
            "Hand-made after the stream shape of the fantasy Responses recording (B4): items streamed one after another by output_index, `instructions` as the system prompt, the prompt as an input_text part.",
            {}, [inter(wire(req0), sse_body(resp0, {i: frag(o["arguments"]) for i, o in enumerate(out0)})),
                 inter(req1, sse_body(resp1, {i: frag(o["arguments"], 5) for i, o in enumerate(out1)})),
                 inter(req2, sse_body(resp2, {1: frag(out2[1]["arguments"], 3)})),
                 inter(req3, sse_body(resp3, {0: frag(resp3["output"][0]["content"][0]["text"], 11)}))])

    def reasoning_encrypted() -> dict:
        name = "handmade-reasoning-encrypted"
        ids = Ids(token, f"responses/{name}")
        tools = [flat_tool("find_flights", "Find flights between two airports", {"from": {"type": "string"}, "to": {"type": "string"}}),
                 flat_tool("find_hotels", "Find hotels in a city", {"city": {"type": "string"}})]
        req0 = {"model": "gpt-5", "model_served": REASONER, "store": False, "include": ["reasoning.encrypted_content"],
                "reasoning": {"effort": "medium"},
                "input": [{"role": "developer", "content": "Plan trips with the tools."},
                          {"role": "user", "content": "Flights LIS to HND on 3 March and a hotel in Tokyo."}],
                "tools": tools, "parallel_tool_calls": True}
        out0 = [rs(ids, 0), fc(ids, 0, 0, "find_flights", {"from": "LIS", "to": "HND"}),
                fc(ids, 0, 1, "find_hotels", {"city": "Tokyo"})]
        resp0 = response(ids, 0, req0, out0, (412, 388))
        req1 = follow_up(req0, out0, ["TP1234 LIS-HND 3 Mar 10:40, 1,120 EUR", "Hotel Gracery Shinjuku, 142 EUR/night"])
        resp1 = response(ids, 1, req1, [rs(ids, 1), msg(ids, 1, "Flight TP1234 leaves Lisbon on 3 March at 10:40 (1,120 EUR); Hotel Gracery Shinjuku is 142 EUR a night.")], (530, 210))
        return cassette(
            name, "openai-responses",
            "A reasoning model with store: false and reasoning.encrypted_content included: a reasoning item then 2 parallel function_call items; the follow-up replays the reasoning item (id and encrypted_content) and both calls with their fc_ item ids before the outputs; then reasoning and a text answer; calls per turn 2, 0, not streamed.",
            "Hand-made after the simonw/llm gpt-5.5 recording (B3, B5): the encrypted_content is a made-up token of the same shape. A loop that drops the reasoning item while sending the calls with their item ids gets the API's 'provided without its required reasoning item' 400 (TT006).",
            {}, [inter(wire(req0), json_body(resp0)), inter(req1, json_body(resp1))])

    def stateful_chain() -> dict:
        name = "handmade-stateful-chain"
        ids = Ids(token, f"responses/{name}")
        tools = [flat_tool("find_order", "Find a customer's latest order", {"email": {"type": "string"}}),
                 flat_tool("track_shipment", "Track the shipment of an order", {"order_id": {"type": "string"}}),
                 flat_tool("get_invoice", "Get an order's invoice", {"order_id": {"type": "string"}})]
        req0 = {"model": "gpt-4o", "input": "Where is the latest parcel of ada@example.com, and what did it cost?",
                "tools": tools}
        out0 = [fc(ids, 0, 0, "find_order", {"email": "ada@example.com"})]
        resp0 = response(ids, 0, req0, out0)
        req1 = {"model": "gpt-4o", "previous_response_id": resp0["id"], "tools": tools,
                "input": outputs(out0, ["O-7714 (2026-02-02, 3 items)"])}
        out1 = [fc(ids, 1, 0, "track_shipment", {"order_id": "O-7714"}), fc(ids, 1, 1, "get_invoice", {"order_id": "O-7714"})]
        resp1 = response(ids, 1, req1, out1)
        req2 = {"model": "gpt-4o", "previous_response_id": resp1["id"], "tools": tools,
                "input": outputs(out1, ["O-7714: out for delivery, arriving today by 18:00", "O-7714: 86.40 EUR, paid"])}
        resp2 = response(ids, 2, req2, [msg(ids, 2, "Order O-7714 (86.40 EUR, paid) is out for delivery and arrives today by 18:00.")])
        return cassette(
            name, "openai-responses",
            "A stateful chain: a string input, then each follow-up sends previous_response_id and only the function_call_output items (no replay): 1 call, then 2 parallel calls on its result, then a text answer; calls per turn 1, 2, 0, not streamed.",
            "Hand-made after the openinference previous_response_id recording (B5, stateful style), one turn longer, so the history is a chain of two stored responses.",
            {}, [inter(req0, json_body(resp0)), inter(req1, json_body(resp1)), inter(req2, json_body(resp2))])

    def interleaved_items_stream() -> dict:
        name = "handmade-responses-interleaved-items-stream"
        ids = Ids(token, f"responses/{name}")
        tools = [flat_tool("get_weather", "Current weather for a city", {"city": {"type": "string"}}),
                 flat_tool("get_local_time", "Local time in a city", {"city": {"type": "string"}}),
                 flat_tool("convert_currency", "Convert an amount", {"amount": {"type": "number"}, "to": {"type": "string"}})]
        req0 = {"model": "gpt-4o", "stream": True,
                "input": [{"role": "user", "content": "Weather and time in Lisbon, and 200 EUR in USD."}], "tools": tools}
        out0 = [fc(ids, 0, 0, "get_weather", {"city": "Lisbon"}), fc(ids, 0, 1, "get_local_time", {"city": "Lisbon"}),
                fc(ids, 0, 2, "convert_currency", {"amount": 200, "to": "USD"})]
        resp0 = response(ids, 0, req0, out0)
        req1 = follow_up(req0, out0, ["Lisbon: 19°C, sunny", "Lisbon: 09:14", "200 EUR = 216.40 USD"])
        resp1 = response(ids, 1, req1, [msg(ids, 1, "Lisbon is 19°C and sunny at 09:14; 200 EUR is 216.40 USD.")])
        frag = lambda s: [s[i:i + 6] for i in range(0, len(s), 6)]
        return cassette(
            name, "openai-responses",
            "A Responses stream whose 3 function_call items are all announced first and whose argument deltas then alternate between output indices, then a streamed text answer; calls per turn 3, 0, streamed.",
            "Hand-made client-robustness case: no OpenAI capture interleaves items (B4: every capture streams them one after another), but the spec does not promise it and servers that translate other providers' streams into Responses events may; a client must accumulate by item_id / output_index.",
            {}, [inter(wire(req0), sse_body(resp0, {i: frag(o["arguments"]) for i, o in enumerate(out0)}, interleave=True)),
                 inter(req1, sse_body(resp1))])

    return {
        "openai-responses": [failing_tool, three_turns, reasoning_encrypted, stateful_chain],
        "openai-compatible/responses": [interleaved_items_stream],
    }
