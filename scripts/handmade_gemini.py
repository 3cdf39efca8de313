"""The hand-made Gemini cassettes (imported by make_handmade.py): shapes no recording has.

Responses follow the recorded Gemini bodies (protocol notes §D; reference recordings
`gemini/`): `candidates[0].content` with `role: "model"` and one part per call, no call ids,
`finishReason: "STOP"` with `finishMessage: "Model generated function call(s)."` for calls, a
`thoughtSignature` on the first call part only, `usageMetadata`, `modelVersion`, `responseId`.
Streams are `data: {chunk}` lines ended by `\\r\\n\\r\\n`, each chunk a whole response.
"""

from __future__ import annotations

import base64
import hashlib
import json


def signature(seed: str) -> str:
    raw = b"".join(hashlib.sha256(f"{seed}/{i}".encode()).digest() for i in range(5))
    return base64.b64encode(b"\n\xb2\x02\x01" + raw).decode()


def response_id(seed: str) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode()
    return digest[:23]


def usage(prompt: int, candidates: int, thoughts: int = 0) -> dict:
    u = {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
         "totalTokenCount": prompt + candidates + thoughts,
         "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
    if thoughts:
        u["thoughtsTokenCount"] = thoughts
    return u


def declaration(name: str, description: str, properties: dict) -> dict:
    return {"name": name, "description": description,
            "parameters": {"type": "OBJECT", "properties": properties, "required": list(properties)}}


def call_part(name: str, args: dict, sig: str | None = None) -> dict:
    part = {"functionCall": {"name": name, "args": args}}
    if sig:
        part["thoughtSignature"] = sig
    return part


def response_json(seed: str, model: str, parts: list[dict], u: dict) -> dict:
    calls = any("functionCall" in p for p in parts)
    candidate = {"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}
    if calls:
        candidate["finishMessage"] = "Model generated function call(s)."
    body = {"candidates": [candidate], "usageMetadata": u, "modelVersion": model,
            "responseId": response_id(seed)}
    return {"type": "json", "text": json.dumps(body, ensure_ascii=False, separators=(",", ":"))}


def followup(prev: dict, model_parts: list[dict], responses: list[tuple[str, dict]]) -> dict:
    body = json.loads(json.dumps(prev))
    body["contents"].append({"role": "model", "parts": model_parts})
    body["contents"].append({"role": "user", "parts": [
        {"functionResponse": {"name": name, "response": response}} for name, response in responses]})
    return body


def interaction(path: str, body: dict, response: dict) -> dict:
    return {"request": {"body": body, "path": path}, "response": {"status": 200, "body": response}}


def stream(chunks: list[dict]) -> dict:
    frames = ["data: " + json.dumps(c, ensure_ascii=False, separators=(",", ":")) + "\r\n\r\n" for c in chunks]
    return {"type": "sse", "frames": frames}


def partial_args_stream(cassette) -> dict:
    name = "handmade-gemini-partial-args-stream"
    model = "gemini-3-pro-preview"
    path = (f"/v1/projects/tooltape-demo/locations/global/publishers/google/models/{model}"
            ":streamGenerateContent?alt=sse")
    weather = declaration("get_weather", "Current weather in a city",
                          {"location": {"type": "STRING"}, "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]}})
    req0 = {"contents": [{"role": "user", "parts": [{"text": "What's the weather in Boston and in San Francisco, in Celsius?"}]}],
            "tools": [{"functionDeclarations": [weather]}],
            "toolConfig": {"functionCallingConfig": {"mode": "AUTO", "streamFunctionCallArguments": True}}}
    sig = signature(f"{name}/0")
    rid = response_id(f"{name}/r0")
    env = {"modelVersion": model, "responseId": rid}

    def chunk(part: dict, finish: bool = False) -> dict:
        candidate = {"content": {"role": "model", "parts": [part]}}
        if finish:
            candidate["finishReason"] = "STOP"
        c = {"candidates": [candidate], "usageMetadata": usage(31, 24, 140) if finish else {"trafficType": "ON_DEMAND"}}
        c.update(env)
        return c

    def fragment(path_: str, value: str, more: bool) -> dict:
        arg = {"jsonPath": path_, "stringValue": value}
        if more:
            arg["willContinue"] = True
        return {"functionCall": {"partialArgs": [arg], "willContinue": True}}

    chunks = [
        chunk({"functionCall": {"name": "get_weather", "willContinue": True}, "thoughtSignature": sig}),
        chunk(fragment("$.location", "Bos", True)),
        chunk(fragment("$.location", "ton", True)),
        chunk(fragment("$.location", "", False)),
        chunk(fragment("$.unit", "celsius", False)),
        chunk({"functionCall": {}}),
        chunk({"functionCall": {"name": "get_weather", "willContinue": True}}),
        chunk(fragment("$.location", "San Fran", True)),
        chunk(fragment("$.location", "cisco", False)),
        chunk(fragment("$.unit", "cel", True)),
        chunk(fragment("$.unit", "sius", False)),
        chunk({"functionCall": {}}, finish=True),
    ]
    model_parts = [call_part("get_weather", {"location": "Boston", "unit": "celsius"}, sig),
                   call_part("get_weather", {"location": "San Francisco", "unit": "celsius"})]
    req1 = followup(req0, model_parts, [("get_weather", {"temperature": 7, "unit": "celsius", "conditions": "light rain"}),
                                        ("get_weather", {"temperature": 17, "unit": "celsius", "conditions": "fog"})])
    final_env = {"modelVersion": model, "responseId": response_id(f"{name}/r1")}
    texts = ["Boston is 7 °C with light rain; ", "San Francisco is 17 °C and foggy."]
    final = []
    for i, t in enumerate(texts):
        candidate = {"content": {"role": "model", "parts": [{"text": t}]}}
        if i == len(texts) - 1:
            candidate["finishReason"] = "STOP"
        c = {"candidates": [candidate], "usageMetadata": usage(120, 9 * (i + 1))}
        c.update(final_env)
        final.append(c)
    return cassette(
        name, "gemini",
        "Gemini 3 on Vertex AI streams the arguments of 2 parallel calls of the same tool (get_weather for Boston "
        "and San Francisco) as `partialArgs` fragments (a string cut inside a word, `willContinue`, an empty "
        "`functionCall` closing each call), then a streamed text answer after 2 functionResponse parts; calls per "
        "turn 2, 0, streamed.",
        "Hand-made after the chunk shape of Vercel's google-stream-tool-call-arguments.chunks.txt (protocol notes "
        "§D, observed): the call opens with `name` and `willContinue: true` (the thoughtSignature on that part), "
        "each fragment carries one `jsonPath` and a `stringValue`, `willContinue` on a fragment continues the "
        "string, `functionCall: {}` ends the call. `streamFunctionCallArguments` in the request is the Vertex AI "
        "switch as best known. A correct loop answers the two calls of one tool in call order.",
        {}, [interaction(path, req0, stream(chunks)), interaction(path, req1, stream(final))])


def failing_tool(cassette) -> dict:
    name = "handmade-gemini-failing-tool"
    model = "gemini-2.5-flash"
    path = f"/v1beta/models/{model}:generateContent"
    fails = "invoice service unavailable (HTTP 503)"
    req0 = {"contents": [{"role": "user", "parts": [{"text": "Show invoice INV-2026-0042 and the balance of account ACME-7."}]}],
            "systemInstruction": {"parts": [{"text": "You are a billing assistant. Use the tools."}], "role": "user"},
            "tools": [{"functionDeclarations": [
                declaration("fetch_invoice", "Fetch an invoice", {"invoice": {"type": "STRING"}}),
                declaration("get_account_balance", "Get an account's balance", {"account": {"type": "STRING"}})]}]}
    parts = [call_part("fetch_invoice", {"invoice": "INV-2026-0042"}, signature(f"{name}/0")),
             call_part("get_account_balance", {"account": "ACME-7"})]
    resp0 = response_json(f"{name}/r0", model, parts, usage(88, 31, 64))
    req1 = followup(req0, parts, [("fetch_invoice", {"error": fails}),
                                  ("get_account_balance", {"result": "ACME-7: 1,250.00 EUR"})])
    resp1 = response_json(f"{name}/r1", model, [{"text": "The invoice service is unavailable, so I can't show "
                                                         "INV-2026-0042 right now. Account ACME-7 has a balance of "
                                                         "1,250.00 EUR."}], usage(170, 36))
    return cassette(
        name, "gemini",
        "2 parallel functionCall parts where fetch_invoice fails; the follow-up answers it with a functionResponse "
        "`{\"error\": …}` (a function response has no error flag) and its sibling with the real result, then a text "
        "answer; calls per turn 2, 0, not streamed.",
        "Hand-made: `tools.fetch_invoice.fails` makes the tool fail; the reference loop answers it with the message "
        "under `error` while the sibling's result is still sent (TT010).",
        {"fetch_invoice": {"fails": fails}},
        [interaction(path, req0, resp0), interaction(path, req1, resp1)])


def three_turns(cassette) -> dict:
    name = "handmade-gemini-three-turns"
    model = "gemini-3-flash-preview"
    path = f"/v1beta/models/{model}:generateContent"
    s = lambda i: signature(f"{name}/{i}")  # noqa: E731
    req0 = {"contents": [{"role": "user", "parts": [{"text": "Customer C-1042 says their last order never arrived. Sort it out and tell them."}]}],
            "systemInstruction": {"parts": [{"text": "You are a support agent. Use the tools; refund lost parcels."}], "role": "user"},
            "tools": [{"functionDeclarations": [
                declaration("get_customer", "Get a customer's profile", {"customer_id": {"type": "STRING"}}),
                declaration("list_orders", "List a customer's recent orders", {"customer_id": {"type": "STRING"}}),
                declaration("get_shipment", "Track the shipment of an order", {"order_id": {"type": "STRING"}}),
                declaration("refund_order", "Refund an order", {"order_id": {"type": "STRING"}, "reason": {"type": "STRING"}}),
                declaration("send_email", "Email a customer", {"customer_id": {"type": "STRING"}, "subject": {"type": "STRING"},
                                                                "body": {"type": "STRING"}})]}],
            "generationConfig": {"thinkingConfig": {"thinkingLevel": "low"}}}
    p0 = [call_part("get_customer", {"customer_id": "C-1042"}, s(0)),
          call_part("list_orders", {"customer_id": "C-1042"})]
    r0 = response_json(f"{name}/r0", model, p0, usage(240, 40, 180))
    req1 = followup(req0, p0, [("get_customer", {"result": "C-1042: Grace Hopper, grace@example.com"}),
                               ("list_orders", {"result": "O-5581 (2026-01-03, £42.00), O-5120 (2025-12-11, £18.50)"})])
    p1 = [{"text": "Let me track the latest order.", "thoughtSignature": s(1)},
          call_part("get_shipment", {"order_id": "O-5581"})]
    r1 = response_json(f"{name}/r1", model, p1, usage(330, 22, 90))
    req2 = followup(req1, p1, [("get_shipment", {"result": "O-5581: lost in transit (carrier confirmed 2026-01-09)"})])
    p2 = [call_part("refund_order", {"order_id": "O-5581", "reason": "lost in transit"}, s(2)),
          call_part("send_email", {"customer_id": "C-1042", "subject": "Your order O-5581",
                                   "body": "Your parcel was lost in transit; we have refunded £42.00."})]
    r2 = response_json(f"{name}/r2", model, p2, usage(390, 61, 120))
    req3 = followup(req2, p2, [("refund_order", {"result": "refund R-2290 of £42.00 issued"}),
                               ("send_email", {"result": "email queued (message id m-77310)"})])
    r3 = response_json(f"{name}/r3", model, [{"text": "Order O-5581 was lost in transit. I refunded £42.00 (R-2290) "
                                                      "and emailed Grace Hopper."}], usage(480, 28))
    return cassette(
        name, "gemini",
        "Three tool turns on Gemini 3 (get_customer + list_orders, then get_shipment after a text part, then "
        "refund_order + send_email) before a text answer, each turn's first part with a thoughtSignature; calls "
        "per turn 2, 1, 2, 0, not streamed.",
        "Hand-made: each follow-up echoes every earlier model content unchanged, signatures included (Gemini 3 "
        "refuses a replayed call that lost its signature); in turn 2 the signature sits on the text part before "
        "the call. Signatures are made-up base64.",
        {}, [interaction(path, req0, r0), interaction(path, req1, r1), interaction(path, req2, r2),
             interaction(path, req3, r3)])


BUILDERS = [partial_args_stream, failing_tool, three_turns]
