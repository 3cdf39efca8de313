#!/usr/bin/env python3
"""Convert the reference recordings into tooltape cassettes (format v1), validate every cassette
under fixtures/, and write fixtures/PROVENANCE.md and fixtures/NOTICE.

A one-off converter kept for provenance; CI does not run it. It reads the recordings listed in
`reference/recordings/PROVENANCE.md` (go-vcr v2 YAML, vcrpy YAML including pydantic-ai's
`parsed_body` variant, raw `.sse`, raw `.response.json`, the anthropic-sdk-python JSON list) and
writes one cassette per recorded conversation. Conversations that stop while the model still asks
for tools are completed with a synthetic follow-up request and a synthetic final response, each
marked `"synthetic": true`.

Usage (PyYAML needed):
    python3 scripts/convert_recordings.py [--recordings DIR] [--check-only]

`--check-only` validates the cassettes already under fixtures/ and rewrites nothing.
"""

from __future__ import annotations

import argparse
import ast
import copy
import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
DEFAULT_RECORDINGS = Path("/work/shared/reference/recordings")

FORMAT_VERSION = 1
PROVIDERS = ("openai-chat", "anthropic")


# --------------------------------------------------------------------------------------------
# Provenance table (parsed from the reference PROVENANCE.md, so nothing is retyped by hand)
# --------------------------------------------------------------------------------------------

def read_provenance(recordings: Path) -> dict[str, dict[str, str]]:
    text = (recordings / "PROVENANCE.md").read_text(encoding="utf-8")
    out: dict[str, dict[str, str]] = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        head = re.match(r"`([^`]+)`", section)
        if not head:
            continue
        src = re.search(r"^- Source: `([^`]+)` — `([^`]+)`", section, flags=re.M)
        commit = re.search(r"^- Snapshot commit: `([0-9a-f]{40})`", section, flags=re.M)
        lic = re.search(r"^- License: (\S+)", section, flags=re.M)
        if not (src and commit and lic):
            raise SystemExit(f"PROVENANCE.md: incomplete section for {head.group(1)}")
        out[head.group(1)] = {
            "repository": src.group(1),
            "path": src.group(2),
            "commit": commit.group(1),
            "license": lic.group(1),
        }
    return out


# --------------------------------------------------------------------------------------------
# Readers: every format becomes a list of RawInteraction dicts
#   {"request": dict|None, "request_parsed": bool, "status": int,
#    "kind": "json"|"sse", "text": str, "verbatim": bool, "decompressed": bool}
# --------------------------------------------------------------------------------------------

def _yaml():
    try:
        import yaml  # noqa: PLC0415
    except ImportError:
        raise SystemExit("PyYAML is needed: python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pyyaml")
    return yaml


def _kind_of(text: str, content_type: str | None) -> str:
    if content_type and "event-stream" in content_type:
        return "sse"
    if text.startswith("data:") or text.startswith("event:"):
        return "sse"
    return "json"


def _header(headers: dict | None, name: str) -> str | None:
    for k, v in (headers or {}).items():
        if k.lower() == name.lower():
            return v[0] if isinstance(v, list) else v
    return None


def read_yaml_cassette(path: Path) -> list[dict]:
    doc = _yaml().safe_load(path.read_text(encoding="utf-8"))
    out = []
    for it in doc["interactions"]:
        req, resp = it["request"], it["response"]
        if "parsed_body" in req:
            body, parsed = req["parsed_body"], True
        else:
            body, parsed = json.loads(req["body"]), False
        # go-vcr v2: `code` + string body; vcrpy: `status.code` + `body.string` or `parsed_body`.
        status = resp["code"] if "code" in resp else resp["status"]["code"]
        verbatim, decompressed = True, False
        if "parsed_body" in resp:
            text = json.dumps(resp["parsed_body"], ensure_ascii=False, separators=(",", ":"))
            verbatim = False
        else:
            raw = resp["body"]["string"] if isinstance(resp["body"], dict) else resp["body"]
            if isinstance(raw, bytes):
                if _header(resp.get("headers"), "Content-Encoding") == "gzip" or raw[:2] == b"\x1f\x8b":
                    raw = gzip.decompress(raw)
                    decompressed = True
                raw = raw.decode("utf-8")
            text = raw
        out.append({
            "request": body,
            "request_parsed": parsed,
            "status": status,
            "kind": _kind_of(text, _header(resp.get("headers"), "Content-Type")),
            "text": text,
            "verbatim": verbatim,
            "decompressed": decompressed,
        })
    return out


def read_raw_response(path: Path) -> list[dict]:
    text = path.read_bytes().decode("utf-8")
    return [{
        "request": None,
        "request_parsed": False,
        "status": 200,
        "kind": "sse" if path.suffix == ".sse" else "json",
        "text": text,
        "verbatim": True,
        "decompressed": False,
    }]


def _python_or_json(value):
    """A body stored as a Python-repr string (or a JSON string) becomes a JSON value."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return ast.literal_eval(value)
    return value


def read_sdk_json_list(path: Path) -> list[dict]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for it in doc:
        resp = it["response"]
        body = resp["body"]
        if isinstance(body, str) and (body.startswith("event:") or body.startswith("data:")):
            text, kind, verbatim = body, "sse", True
        else:
            text = json.dumps(_python_or_json(body), ensure_ascii=False, separators=(",", ":"))
            kind, verbatim = "json", False
        out.append({
            "request": it["request"]["body"],
            "request_parsed": True,
            "status": resp["status_code"],
            "kind": kind,
            "text": text,
            "verbatim": verbatim,
            "decompressed": False,
            "raw_response_body": _python_or_json(body),
        })
    return out


# --------------------------------------------------------------------------------------------
# SSE framing
# --------------------------------------------------------------------------------------------

def split_frames(body: str) -> list[str]:
    """Split at each blank line; each frame keeps its trailing "\\n\\n"."""
    frames, start = [], 0
    while True:
        i = body.find("\n\n", start)
        if i < 0:
            break
        frames.append(body[start:i + 2])
        start = i + 2
    if start < len(body):
        frames.append(body[start:])
    assert "".join(frames) == body, "frames must concatenate to the recorded body"
    return frames


def frame_events(frame: str) -> tuple[str | None, str | None]:
    event, data = None, []
    for line in frame.split("\n"):
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
    return event, ("\n".join(data) if data else None)


# --------------------------------------------------------------------------------------------
# Decoding responses and requests (enough to check call / result pairing)
# --------------------------------------------------------------------------------------------

def decode_openai_response(body: dict) -> dict:
    """Returns {"text": str|None, "calls": [{"id","name","arguments"}], "finish": str|None}."""
    if body["type"] == "json":
        j = json.loads(body["text"])
        choice = j["choices"][0]
        msg = choice["message"]
        calls = [{"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
                 for c in msg.get("tool_calls") or []]
        return {"text": msg.get("content"), "calls": calls, "finish": choice.get("finish_reason")}
    text, calls, by_index, finish = None, [], {}, None
    for frame in body["frames"]:
        _, data = frame_events(frame)
        if data is None or data == "[DONE]":
            continue
        j = json.loads(data)
        for choice in j.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                text = (text or "") + delta["content"]
            for tc in delta.get("tool_calls") or []:
                idx = tc["index"]
                new_id = tc.get("id")
                # A new id at an index already in use starts a new call (Ollama sends index 0 for all).
                if idx not in by_index or (new_id and calls[by_index[idx]]["id"] != new_id):
                    calls.append({"id": new_id, "name": "", "arguments": ""})
                    by_index[idx] = len(calls) - 1
                call = calls[by_index[idx]]
                fn = tc.get("function") or {}
                if fn.get("name"):
                    call["name"] += fn["name"]
                if fn.get("arguments"):
                    call["arguments"] += fn["arguments"]
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
    return {"text": text, "calls": calls, "finish": finish}


def decode_anthropic_response(body: dict) -> dict:
    """Returns {"blocks": [content blocks, inputs parsed], "calls": [...], "stop": str|None}."""
    if body["type"] == "json":
        j = json.loads(body["text"])
        blocks, stop = j["content"], j.get("stop_reason")
    else:
        blocks_by_index: dict[int, dict] = {}
        partial: dict[int, str] = {}
        stop = None
        for frame in body["frames"]:
            event, data = frame_events(frame)
            if data is None:
                continue
            j = json.loads(data)
            t = j["type"]
            if event is not None and event != t:
                raise AssertionError(f"event `{event}` carries data of type `{t}`")
            if t == "content_block_start":
                blocks_by_index[j["index"]] = copy.deepcopy(j["content_block"])
                partial[j["index"]] = ""
            elif t == "content_block_delta":
                b, d = blocks_by_index[j["index"]], j["delta"]
                if d["type"] == "text_delta":
                    b["text"] = b.get("text", "") + d["text"]
                elif d["type"] == "input_json_delta":
                    partial[j["index"]] += d["partial_json"]
                elif d["type"] == "thinking_delta":
                    b["thinking"] = b.get("thinking", "") + d["thinking"]
                elif d["type"] == "signature_delta":
                    b["signature"] = d["signature"]
            elif t == "content_block_stop":
                b = blocks_by_index[j["index"]]
                if b["type"] == "tool_use":
                    b["input"] = json.loads(partial[j["index"]]) if partial[j["index"]] else {}
            elif t == "message_delta":
                stop = j["delta"].get("stop_reason")
        blocks = [blocks_by_index[i] for i in sorted(blocks_by_index)]
    calls = [{"id": b["id"], "name": b["name"], "input": b["input"]} for b in blocks if b["type"] == "tool_use"]
    return {"blocks": blocks, "calls": calls, "stop": stop}


def decode_response(provider: str, body: dict) -> dict:
    return decode_openai_response(body) if provider == "openai-chat" else decode_anthropic_response(body)


def assistant_indexes(messages: list) -> list[int]:
    return [i for i, m in enumerate(messages) if m.get("role") == "assistant"]


# --------------------------------------------------------------------------------------------
# Building synthetic parts
# --------------------------------------------------------------------------------------------

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def stable_token(seed: str, n: int, alphabet: str = ALNUM) -> str:
    """Deterministic pseudo-random token, so re-running the converter gives the same bytes."""
    out, counter = [], 0
    while len(out) < n:
        h = hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in h)
        counter += 1
    return "".join(out[:n])


def echo_openai(decoded: dict) -> dict:
    return {
        "role": "assistant",
        "content": decoded["text"],
        "tool_calls": [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in decoded["calls"]
        ],
    }


def echo_anthropic(decoded: dict) -> dict:
    content = []
    for b in decoded["blocks"]:
        if b["type"] == "text":
            content.append({"type": "text", "text": b["text"]})
        elif b["type"] == "thinking":
            content.append({"type": "thinking", "thinking": b["thinking"], "signature": b["signature"]})
        elif b["type"] == "tool_use":
            content.append({"type": "tool_use", "id": b["id"], "name": b["name"], "input": b["input"]})
        else:
            content.append(copy.deepcopy(b))
    return {"role": "assistant", "content": content}


def synthetic_followup(provider: str, prev_request: dict, decoded: dict, results: list[str],
                       errors: list[bool] | None = None) -> dict:
    """Copy of the previous request + the assistant turn echoed + one result per call, in call order."""
    body = copy.deepcopy(prev_request)
    calls = decoded["calls"]
    assert len(results) == len(calls), f"{len(calls)} calls but {len(results)} results"
    errors = errors or [False] * len(calls)
    if provider == "openai-chat":
        body["messages"].append(echo_openai(decoded))
        for call, result in zip(calls, results):
            body["messages"].append({"role": "tool", "tool_call_id": call["id"], "content": result})
    else:
        body["messages"].append(echo_anthropic(decoded))
        blocks = []
        for call, result, err in zip(calls, results, errors):
            block = {"type": "tool_result", "tool_use_id": call["id"], "content": result}
            if err:
                block["is_error"] = True
            blocks.append(block)
        body["messages"].append({"role": "user", "content": blocks})
    return body


def _chunk(base: dict, choices: list, **extra) -> str:
    j = dict(base)
    j["choices"] = choices
    j.update(extra)
    return "data: " + json.dumps(j, ensure_ascii=False, separators=(",", ":")) + "\n\n"


def openai_final_sse(seed: str, model: str, created: int, pieces: list[str], usage: dict | None,
                     fingerprint: str | None = None) -> dict:
    base = {"id": "chatcmpl-" + stable_token(seed, 29), "object": "chat.completion.chunk",
            "created": created, "model": model}
    if fingerprint:
        base["system_fingerprint"] = fingerprint
    frames = [_chunk(base, [{"index": 0, "delta": {"role": "assistant", "content": ""},
                             "logprobs": None, "finish_reason": None}])]
    for p in pieces:
        frames.append(_chunk(base, [{"index": 0, "delta": {"content": p}, "logprobs": None, "finish_reason": None}]))
    frames.append(_chunk(base, [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]))
    if usage is not None:
        frames.append(_chunk(base, [], usage=usage))
    frames.append("data: [DONE]\n\n")
    return {"type": "sse", "frames": frames}


def openai_final_json(seed: str, model: str, created: int, text: str, usage: dict,
                      fingerprint: str | None = None) -> dict:
    j = {"id": "chatcmpl-" + stable_token(seed, 29), "object": "chat.completion", "created": created,
         "model": model,
         "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                      "logprobs": None, "finish_reason": "stop"}],
         "usage": usage}
    if fingerprint:
        j["system_fingerprint"] = fingerprint
    return {"type": "json", "text": json.dumps(j, ensure_ascii=False, separators=(",", ":"))}


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n\n"


def anthropic_message_id(seed: str) -> str:
    return "msg_01" + stable_token(seed, 22, B58)


def anthropic_final_sse(seed: str, model: str, pieces: list[str], input_tokens: int, output_tokens: int) -> dict:
    frames = [
        _event("message_start", {"type": "message_start", "message": {
            "id": anthropic_message_id(seed), "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}),
        _event("content_block_start", {"type": "content_block_start", "index": 0,
                                       "content_block": {"type": "text", "text": ""}}),
    ]
    for p in pieces:
        frames.append(_event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                     "delta": {"type": "text_delta", "text": p}}))
    frames += [
        _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _event("message_delta", {"type": "message_delta",
                                 "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                 "usage": {"output_tokens": output_tokens}}),
        _event("message_stop", {"type": "message_stop"}),
    ]
    return {"type": "sse", "frames": frames}


def anthropic_final_json(seed: str, model: str, text: str, input_tokens: int, output_tokens: int) -> dict:
    j = {"id": anthropic_message_id(seed), "type": "message", "role": "assistant", "model": model,
         "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
         "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}
    return {"type": "json", "text": json.dumps(j, ensure_ascii=False, separators=(",", ":"))}


def response_body(raw: dict, notes: list[str], index: int) -> dict:
    if raw["kind"] == "sse":
        text = raw["text"]
        if not text.endswith("\n\n"):
            missing = "\n\n" if not text.endswith("\n") else "\n"
            notes.append(f"response {index}: the recorded SSE body ends without the final blank line "
                         f"(file-level artifact); the converter appended {missing!r} to the last frame, "
                         "every other byte is verbatim.")
            frames = split_frames(text + missing)
            assert "".join(frames) == text + missing
        else:
            frames = split_frames(text)
            assert "".join(frames) == text, "SSE frames must concatenate to the recorded body"
        return {"type": "sse", "frames": frames}
    return {"type": "json", "text": raw["text"]}


# --------------------------------------------------------------------------------------------
# The conversion plan: one entry per cassette
# --------------------------------------------------------------------------------------------

def openai_python_tools() -> list[dict]:
    """The two strict tools of openai-python's test_parse_multiple_pydantic_tools, as
    openai.pydantic_function_tool renders GetWeatherArgs and GetStockPrice."""
    return [
        {"type": "function", "function": {
            "name": "GetWeatherArgs", "strict": True,
            "parameters": {
                "description": "Get the temperature for the given country/city combo",
                "properties": {
                    "city": {"title": "City", "type": "string"},
                    "country": {"title": "Country", "type": "string"},
                    "units": {"default": "c", "enum": ["c", "f"], "title": "Units", "type": "string"},
                },
                "required": ["city", "country", "units"],
                "title": "GetWeatherArgs", "type": "object", "additionalProperties": False},
            "description": "Get the temperature for the given country/city combo"}},
        {"type": "function", "function": {
            "name": "get_stock_price", "strict": True,
            "parameters": {
                "properties": {"ticker": {"title": "Ticker", "type": "string"},
                               "exchange": {"title": "Exchange", "type": "string"}},
                "required": ["ticker", "exchange"],
                "title": "GetStockPrice", "type": "object", "additionalProperties": False},
            "description": "Fetch the latest price for a given ticker"}},
    ]


def openai_python_request(stream: bool) -> dict:
    body = {
        "messages": [
            {"role": "user", "content": "What's the weather like in Edinburgh?"},
            {"role": "user", "content": "What's the price of AAPL?"},
        ],
        "model": "gpt-4o-2024-08-06",
        "tools": openai_python_tools(),
    }
    if stream:
        body["stream"] = True
    return body


OPENAI_PYTHON_NOTE = (
    "Rebuilt from openai-python tests/lib/chat/test_completions{kind}.py::test_parse_multiple_pydantic_tools "
    "at the same commit: model gpt-4o-2024-08-06, the test's two user messages, and its two strict tools "
    "(GetWeatherArgs, get_stock_price) with the JSON schemas openai.pydantic_function_tool produces for them "
    "(schema details reconstructed, not captured){stream}.")


ANTHROPIC_SDK_SSE_REQUEST = {
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
    "model": "claude-sonnet-4-20250514",
    "stream": True,
    "tools": [{
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "input_schema": {"type": "object",
                         "properties": {"location": {"type": "string",
                                                     "description": "The city, e.g. Paris"}},
                         "required": ["location"]},
    }],
}

# Each plan: recording file, cassette stem, provider, which raw interactions form the conversation,
# a description, and (when the recording stops at a tool call) the synthetic results and final text.
PLANS = [
    {"file": "openai-chat/fantasy-gpt-4o-parallel2-followup.yaml",
     "stem": "fantasy-gpt-4o-parallel2-followup",
     "description": "gpt-4o answers with 2 parallel tool calls (add, multiply), then a text answer after "
                    "both results; 2 turns, not streamed."},
    {"file": "openai-chat/fantasy-gpt-4o-parallel2-followup.stream.yaml",
     "stem": "fantasy-gpt-4o-parallel2-followup-stream",
     "description": "gpt-4o streams 2 parallel tool calls (add, multiply; sequential deltas, usage chunk, "
                    "obfuscation fields), then a streamed text answer after both results; 2 turns, streamed."},
    {"file": "openai-chat/pydantic-ai-temporal-complex-agent.stream.yaml",
     "stem": "pydantic-ai-temporal-complex-agent-stream",
     "description": "gpt-4o streams 2 parallel calls (get_country, get_product_name), then 1 call "
                    "(get_weather), then 1 final_result call with ~50 argument fragments, then a synthetic "
                    "streamed text answer; calls per turn 2, 1, 1, 0, streamed.",
     "results": ["Final result processed."],
     "followup_overrides": {"tool_choice": "auto"},
     "note": "`final_result` is pydantic-ai's output tool: pydantic-ai ends the run on it without a follow-up, "
             "so the conversation is completed with pydantic-ai's usual reply to that call.",
     "final_pieces": ["The capital is Mexico City, ", "the weather there is sunny ", "and the product is Pydantic AI."]},
    {"file": "openai-chat/openai-python-parse-multiple-tools.stream.sse",
     "stem": "openai-python-parse-multiple-tools-stream",
     "description": "gpt-4o-2024-08-06 streams 2 parallel tool calls (GetWeatherArgs, get_stock_price; 2024 "
                    "shape, no usage chunk) for a synthetic request, then a synthetic streamed text answer; "
                    "calls per turn 2, 0, streamed.",
     "first_request": openai_python_request(stream=True),
     "first_request_note": OPENAI_PYTHON_NOTE.format(kind="_streaming", stream=", with \"stream\": true"),
     "results": ["Edinburgh, GB: 11°C, light rain", "AAPL (NASDAQ): 227.52 USD"],
     "final_pieces": ["It's 11°C with light rain in Edinburgh, ", "and AAPL trades at 227.52 USD on NASDAQ."]},
    {"file": "openai-chat/openai-python-parse-multiple-tools.response.json",
     "stem": "openai-python-parse-multiple-tools",
     "description": "gpt-4o-2024-08-06 answers a synthetic request with 2 parallel tool calls "
                    "(GetWeatherArgs, get_stock_price), then a synthetic text answer; calls per turn 2, 0, "
                    "not streamed.",
     "first_request": openai_python_request(stream=False),
     "first_request_note": OPENAI_PYTHON_NOTE.format(kind="", stream=""),
     "results": ["Edinburgh, GB: 11°C, light rain", "AAPL (NASDAQ): 227.52 USD"],
     "final_text": "It's 11°C with light rain in Edinburgh, and AAPL trades at 227.52 USD on NASDAQ."},
    {"file": "openai-chat/openllmetry-gpt35-parallel-same-tool.stream.yaml",
     "stem": "openllmetry-gpt35-parallel-same-tool-stream", "take": [0],
     "description": "gpt-3.5-turbo (2024 recording) streams 2 parallel calls of the same tool "
                    "(get_current_weather for San Francisco and Boston), then a synthetic streamed text "
                    "answer; calls per turn 2, 0, streamed.",
     "results": ["San Francisco, CA: 18°C, fog", "Boston, MA: 24°C, sunny"],
     "final_pieces": ["It's 18°C and foggy in San Francisco, ", "and 24°C and sunny in Boston."]},
    {"file": "openai-chat/openllmetry-gpt35-parallel-same-tool.stream.yaml",
     "stem": "openllmetry-gpt35-parallel-same-tool-stream-2", "take": [1],
     "description": "gpt-3.5-turbo (2026 re-recording of the same request, with obfuscation fields) streams "
                    "2 parallel calls of the same tool (get_current_weather), then a synthetic streamed "
                    "text answer; calls per turn 2, 0, streamed.",
     "results": ["San Francisco, CA: 18°C, fog", "Boston, MA: 24°C, sunny"],
     "final_pieces": ["It's 18°C and foggy in San Francisco, ", "and 24°C and sunny in Boston."]},
    {"file": "openai-chat/simonw-llm-chain-two-calls.yaml",
     "stem": "simonw-llm-chain-two-calls",
     "description": "gpt-4o-mini chains 2 sequential single calls (lookup_population, then can_have_dragons) "
                    "before a text answer; calls per turn 1, 1, 0, not streamed.",
     "note": "The recorded client echoes each call's arguments re-serialised with spaces (e.g. "
             "`{\"country\": \"Crumpet\"}` for `{\"country\":\"Crumpet\"}`): the same JSON value, kept as "
             "recorded."},
    {"file": "anthropic/fantasy-sonnet-4-parallel2-followup.yaml",
     "stem": "fantasy-sonnet-4-parallel2-followup",
     "description": "claude-sonnet-4 answers with a text block and 2 parallel tool_use blocks (add, multiply), "
                    "then a text answer after both tool_result blocks; calls per turn 2, 0, not streamed."},
    {"file": "anthropic/fantasy-sonnet-4-parallel2-followup.stream.yaml",
     "stem": "fantasy-sonnet-4-parallel2-followup-stream",
     "description": "claude-sonnet-4 streams a text block and 2 parallel tool_use blocks (add, multiply; ping, "
                    "padded data lines, empty first partial_json), then a streamed text answer; calls per "
                    "turn 2, 0, streamed."},
    {"file": "anthropic/pydantic-ai-haiku-4.5-parallel4-followup.yaml",
     "stem": "pydantic-ai-haiku-4.5-parallel4-followup",
     "description": "claude-haiku-4-5 answers with a text block and 4 parallel tool_use blocks of the same tool "
                    "(retrieve_entity_info), then a text answer after 4 tool_result blocks; calls per turn "
                    "4, 0, not streamed."},
    {"file": "anthropic/openllmetry-sonnet-3.5-parallel2.stream.yaml",
     "stem": "openllmetry-sonnet-3.5-parallel2-stream",
     "description": "claude-3-5-sonnet streams a text block and 2 parallel tool_use blocks (get_weather, "
                    "get_time; padded data lines, many input_json_delta fragments), then a synthetic streamed "
                    "text answer; calls per turn 2, 0, streamed.",
     "results": ["San Francisco, CA: 18°C, fog", "14:05 (America/Los_Angeles)"],
     "final_pieces": ["In San Francisco it is 18°C and foggy, ", "and the local time is 14:05."]},
    {"file": "anthropic/anthropic-sdk-error-tool_result-without-tool_use.json",
     "stem": "anthropic-sdk-error-tool_result-without-tool_use", "take": [0],
     "description": "claude-haiku-4-5 answers with 1 tool_use block (get_weather), then a synthetic correct "
                    "follow-up and a synthetic text answer replace the recorded malformed follow-up (a real "
                    "400); calls per turn 1, 0, not streamed.",
     "results": ["The weather in San Francisco, CA is currently sunny with a temperature of 20°C."],
     "final_text": "It's currently sunny in San Francisco, CA, at 20°C.",
     "nonconformant": True,
     "note": "The recorder stores bodies as JSON values (the reference PROVENANCE.md describes the 400 body "
             "as a Python-repr string; the converter accepts either form)."},
    {"file": "anthropic/anthropic-sdk-tool_use_response.sse",
     "stem": "anthropic-sdk-tool_use_response-stream",
     "description": "claude-sonnet-4 streams a text block and 1 tool_use block (get_weather, with caller) for a "
                    "synthetic request, then a synthetic streamed text answer; calls per turn 1, 0, streamed.",
     "first_request": ANTHROPIC_SDK_SSE_REQUEST,
     "first_request_note": "The SDK tests that replay this stream send max_tokens 1024, model "
                           "claude-sonnet-4-20250514 and the prompt \"What is the weather in Paris?\" "
                           "(anthropic-sdk-typescript's test; the Python test uses \"Say hello there!\") "
                           "without tools; the get_weather tool definition and \"stream\": true were added "
                           "so the request matches the streamed tool_use answer.",
     "results": ["Paris: 14°C, partly cloudy"],
     "final_pieces": ["It's 14°C and partly cloudy ", "in Paris right now."]},
]


def read_recording(path: Path) -> list[dict]:
    name = path.name
    if name.endswith(".yaml") or name.endswith(".yml"):
        return read_yaml_cassette(path)
    if name.endswith(".sse") or name.endswith(".response.json"):
        return read_raw_response(path)
    if name.endswith(".json"):
        return read_sdk_json_list(path)
    raise SystemExit(f"unknown recording format: {path}")


def _which(noun: str, ks: list[int]) -> str:
    if len(ks) == 1:
        return f"{noun} {ks[0]} is"
    return f"{noun}s {', '.join(map(str, ks[:-1]))} and {ks[-1]} are"


def provider_of(file: str) -> str:
    return file.split("/", 1)[0]


def convert(plan: dict, recordings: Path, prov: dict) -> tuple[dict, dict | None]:
    file, provider = plan["file"], provider_of(plan["file"])
    raws = read_recording(recordings / file)
    take = plan.get("take", range(len(raws)))
    raws_taken = [raws[i] for i in take]
    notes: list[str] = []
    parsed_reqs: list[int] = []
    parsed_resps: list[int] = []
    gzipped: list[int] = []
    interactions = []
    nonconformant = None

    if plan.get("nonconformant"):
        bad = raws[1]
        assert bad["status"] == 400
        nonconformant = bad

    for k, raw in enumerate(raws_taken):
        if raw["status"] != 200:
            raise SystemExit(f"{file}: interaction {k} has status {raw['status']}; plan it explicitly")
        if raw["request"] is None:
            body = copy.deepcopy(plan["first_request"])
            synthetic_req = True
            notes.append(f"request {k} is synthetic: the recording has only the response. "
                         + plan["first_request_note"])
        else:
            body = copy.deepcopy(raw["request"])
            synthetic_req = False
            if raw["request_parsed"]:
                parsed_reqs.append(k)
        resp = response_body(raw, notes, k)
        if not raw["verbatim"]:
            parsed_resps.append(k)
        if raw["decompressed"]:
            gzipped.append(k)
        is_sse = resp["type"] == "sse"
        if bool(body.get("stream", False)) != is_sse:
            notes.append(f"request {k}: recorded `stream` is {body.get('stream')!r} but the response is "
                         f"{'SSE' if is_sse else 'JSON'}; set to {is_sse}.")
            body["stream"] = is_sse
        inter = {"request": {"body": body}, "response": {"status": 200, "body": resp}}
        if synthetic_req:
            inter["request"]["synthetic"] = True
        interactions.append(inter)

    if parsed_reqs:
        notes.append(f"{_which('request', parsed_reqs)} from the recorder's parsed form of the body (key "
                     "order and whitespace of the wire bytes are not preserved upstream).")
    if parsed_resps:
        notes.append(f"{_which('response', parsed_resps)} stored parsed, not verbatim, by the recorder; "
                     "`text` is that value serialised compactly (json.dumps, ensure_ascii=False, "
                     "separators=(',', ':')).")
    if gzipped:
        notes.append(f"{_which('response', gzipped)} gzip-compressed in the recording (Content-Encoding: "
                     "gzip); `text` is the decompressed body.")
    if plan.get("note"):
        notes.append(plan["note"])
    if len(take) < len(raws) and not plan.get("nonconformant"):
        notes.append(f"the recording holds {len(raws)} independent recordings of the same first request; "
                     f"this cassette uses interaction #{take[0]} only.")

    last = interactions[-1]
    decoded = decode_response(provider, last["response"]["body"])
    if decoded["calls"]:
        results = plan["results"]
        prev = last["request"]["body"]
        follow = synthetic_followup(provider, prev, decoded, results)
        for key, value in plan.get("followup_overrides", {}).items():
            notes.append(f"the synthetic follow-up sets `{key}` to {json.dumps(value)} (recorded: "
                         f"{json.dumps(prev.get(key))}) so that a final text answer is consistent with it.")
            follow[key] = value
        streamed = last["response"]["body"]["type"] == "sse"
        k = len(interactions)
        seed = f"{plan['stem']}/{k}"
        if provider == "anthropic" and any("caller" in b for b in decoded["blocks"]):
            notes.append("the echoed assistant turn keeps each block's type, text, id, name and input (a "
                         "recorded `caller` field is not echoed, as fantasy's real follow-ups do).")
        if provider == "openai-chat":
            first_resp = json.loads(frame_events(last["response"]["body"]["frames"][0])[1]) if streamed \
                else json.loads(last["response"]["body"]["text"])
            model = first_resp["model"]
            created = first_resp["created"] + 2
            fp = first_resp.get("system_fingerprint")
            if streamed:
                usage = None
                if (prev.get("stream_options") or {}).get("include_usage"):
                    usage = {"prompt_tokens": 180, "completion_tokens": 24, "total_tokens": 204}
                final = openai_final_sse(seed, model, created, plan["final_pieces"], usage, fp)
            else:
                final = openai_final_json(seed, model, created, plan["final_text"],
                                          {"prompt_tokens": 180, "completion_tokens": 24, "total_tokens": 204}, fp)
        else:
            if streamed:
                start = json.loads(frame_events(last["response"]["body"]["frames"][0])[1])
                model = start["message"]["model"]
                final = anthropic_final_sse(seed, model, plan["final_pieces"], 720, 28)
            else:
                model = json.loads(last["response"]["body"]["text"])["model"]
                final = anthropic_final_json(seed, model, plan["final_text"], 720, 28)
        interactions.append({"request": {"body": follow, "synthetic": True},
                             "response": {"status": 200, "body": final, "synthetic": True}})
        what = ("`role: tool` message" if provider == "openai-chat" else "tool_result block") \
            + ("s" if len(results) != 1 else "")
        notes.append(
            f"request {k} is synthetic: a copy of request {k - 1} plus the assistant turn of response "
            f"{k - 1} echoed and {len(results)} {what} answering every call in call order "
            f"(contents made up: {json.dumps(results, ensure_ascii=False)}).")
        notes.append(f"response {k} is synthetic: a short final text answer, "
                     f"{'streamed' if streamed else 'JSON'} like the recording.")
        if plan.get("nonconformant"):
            notes.append("the recorded follow-up (interaction #1, a real 400: tool_result without the "
                         "assistant tool_use turn) was replaced by the synthetic one; the real request and "
                         "error are kept in fixtures/nonconformant/recorded-anthropic-orphan-tool-result.json.")

    src = prov[file]
    cassette = {
        "tooltape": FORMAT_VERSION,
        "name": plan["stem"],
        "provider": provider,
        "description": plan["description"],
        "source": {
            "kind": "recorded",
            "repository": src["repository"],
            "path": src["path"],
            "commit": src["commit"],
            "license": src["license"],
            "notes": " ".join(x[0].upper() + x[1:] for x in notes) if notes else "Converted without changes: requests parsed from the "
                                                    "recorded JSON bodies, responses verbatim.",
        },
        "tools": {},
        "interactions": interactions,
    }

    bad_doc = None
    if nonconformant is not None:
        bad_doc = {
            "cassette": f"{provider}/{plan['stem']}.json",
            "rule": "TT002",
            "description": "Real follow-up recorded by anthropic-sdk-python: the client dropped the assistant "
                           "turn with the tool_use block and sent the tool_result in a second user message, so "
                           "the result names an id the previous message does not have; the API answered 400.",
            "source": {"kind": "recorded", "repository": src["repository"], "path": src["path"],
                       "commit": src["commit"], "license": src["license"],
                       "notes": "interaction #1 of the recording: the request body and the 400 body as "
                                "recorded (the error body converted to a JSON value)."},
            "request": nonconformant["request"],
            "expect": {"status": 400, "body": nonconformant["raw_response_body"]},
        }
    return cassette, bad_doc


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

class Invalid(Exception):
    pass


def need(cond: bool, msg: str) -> None:
    if not cond:
        raise Invalid(msg)


SECRET_PATTERNS = [
    re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{6,}"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._-]{8,}"),
    re.compile(r"(?i)\"(x-api-key|authorization|api[-_]key)\""),
    re.compile(r"AIza[0-9A-Za-z_-]{20,}"),
]


def check_secrets(text: str, where: str) -> None:
    for pat in SECRET_PATTERNS:
        m = pat.search(text)
        assert m is None, f"{where}: possible secret `{m.group(0)[:12]}...`"


def args_equal(a, b) -> bool:
    try:
        return json.loads(a) == json.loads(b) if isinstance(a, str) else a == b
    except ValueError:
        return a == b


def check_turn_replay(provider: str, d: dict, msgs: list, k: int, j: int, warnings: list[str]) -> dict:
    """Request j must echo response k as its k-th assistant message, answered right after it in call
    order in the provider's container. Returns {call id: (content, is_error)}."""
    a_idx = assistant_indexes(msgs)[k]
    echo = msgs[a_idx]
    ids = [c["id"] for c in d["calls"]]
    if provider == "openai-chat":
        tcs = echo.get("tool_calls") or []
        need([t["id"] for t in tcs] == ids, f"request {j}: echo of response {k} has call ids {[t['id'] for t in tcs]}")
        for t, c in zip(tcs, d["calls"]):
            need(t["function"]["name"] == c["name"], f"request {j}: echoed name differs for {c['id']}")
            need(args_equal(t["function"]["arguments"], c["arguments"]),
                 f"request {j}: echoed arguments differ for {c['id']}")
            if t["function"]["arguments"] != c["arguments"] and j == k + 1:
                warnings.append(f"request {j}: arguments of {c['id']} re-serialised (same JSON value)")
        run = []
        for m in msgs[a_idx + 1:]:
            if m.get("role") != "tool":
                break
            run.append(m)
        need([m["tool_call_id"] for m in run] == ids,
             f"request {j}: tool messages {[m['tool_call_id'] for m in run]} do not answer {ids} in order")
        return {m["tool_call_id"]: (m["content"], False) for m in run}
    blocks = echo["content"]
    uses = [b for b in blocks if b.get("type") == "tool_use"]
    need([b["id"] for b in uses] == ids, f"request {j}: echo of response {k} has tool_use ids {[b['id'] for b in uses]}")
    for b, c in zip(uses, d["calls"]):
        need(b["name"] == c["name"] and b["input"] == c["input"], f"request {j}: echo of {c['id']} differs")
    think_resp = [b for b in d["blocks"] if b["type"] in ("thinking", "redacted_thinking")]
    think_echo = [b for b in blocks if b.get("type") in ("thinking", "redacted_thinking")]
    need(think_resp == think_echo, f"request {j}: thinking blocks of response {k} not echoed unchanged")
    need(a_idx + 1 < len(msgs), f"request {j}: nothing after the assistant turn")
    nxt = msgs[a_idx + 1]
    need(nxt["role"] == "user" and isinstance(nxt["content"], list),
         f"request {j}: no user message with blocks after assistant turn {k}")
    lead = []
    for b in nxt["content"]:
        if b.get("type") != "tool_result":
            break
        lead.append(b)
    need([b["tool_use_id"] for b in lead] == ids,
         f"request {j}: tool_result blocks do not answer the calls of response {k} first and in order")
    need(all(b.get("type") != "tool_result" for b in nxt["content"][len(lead):]),
         f"request {j}: a tool_result after a non-result block")
    return {b["tool_use_id"]: (b.get("content"), bool(b.get("is_error"))) for b in lead}


def validate(cas: dict, where: str) -> list[str]:
    """Raises Invalid on a broken cassette; returns warnings."""
    warnings: list[str] = []
    need(list(cas.keys()) == ["tooltape", "name", "provider", "description", "source", "tools", "interactions"],
         f"top-level keys/order: {list(cas.keys())}")
    need(cas["tooltape"] == 1, "tooltape must be 1")
    need(cas["name"] == Path(where).stem, f"name `{cas['name']}` differs from the file stem")
    provider = cas["provider"]
    need(provider in PROVIDERS, f"unknown provider {provider}")
    need(isinstance(cas["description"], str) and cas["description"], "description missing")
    src = cas["source"]
    need(src.get("kind") in ("recorded", "hand-made"), "source.kind")
    need(set(src) <= {"kind", "repository", "path", "commit", "license", "notes"}, f"source keys {set(src)}")
    if src["kind"] == "recorded":
        for key in ("repository", "path", "commit", "license", "notes"):
            need(bool(src.get(key)), f"source.{key} missing")
    need(isinstance(cas["tools"], dict), "tools must be an object")
    for name, sim in cas["tools"].items():
        need(set(sim) <= {"latency_ms", "fails", "hangs", "sequential"}, f"tools.{name} keys {set(sim)}")
    inters = cas["interactions"]
    need(len(inters) >= 1, "no interactions")

    seen_ids: set[str] = set()
    decoded_list = []
    for k, it in enumerate(inters):
        need(set(it) == {"request", "response"}, f"interaction {k} keys")
        req, resp = it["request"], it["response"]
        need(set(req) <= {"body", "synthetic"} and isinstance(req["body"], dict), f"request {k} shape")
        need(set(resp) <= {"status", "body", "synthetic"}, f"response {k} keys")
        need(resp["status"] == 200, f"response {k}: status {resp['status']} (cassettes end in a 200 answer)")
        body = resp["body"]
        if body["type"] == "json":
            need(set(body) == {"type", "text"} and isinstance(body["text"], str), f"response {k} json body")
            json.loads(body["text"])
        else:
            need(body["type"] == "sse" and set(body) == {"type", "frames"}, f"response {k} body type")
            frames = body["frames"]
            need(len(frames) > 0, f"response {k}: no frames")
            for f_i, fr in enumerate(frames):
                need(fr.endswith("\n\n") and "\n\n" not in fr[:-2], f"response {k} frame {f_i}: not one frame")
                event, data = frame_events(fr)
                need(data is not None, f"response {k} frame {f_i}: no data line")
                if data != "[DONE]":
                    try:
                        j = json.loads(data)
                    except ValueError as e:
                        raise Invalid(f"response {k} frame {f_i}: data is not JSON: {e}")
                    if provider == "anthropic":
                        need(event == j.get("type"), f"response {k} frame {f_i}: event `{event}` vs type")
                else:
                    need(provider == "openai-chat", "[DONE] in an anthropic stream")
            joined = "".join(frames)
            if provider == "openai-chat":
                need(joined.endswith("data: [DONE]\n\n"), f"response {k}: stream does not end with [DONE]")
            else:
                need(frame_events(frames[-1])[0] == "message_stop", f"response {k}: last event is not message_stop")
        need(bool(req["body"].get("stream", False)) == (body["type"] == "sse"),
             f"request {k}: `stream` does not match the response kind")
        messages = req["body"].get("messages")
        need(isinstance(messages, list), f"request {k}: no messages")
        n_assist = len(assistant_indexes(messages))
        need(n_assist == k, f"request {k} carries {n_assist} assistant turns, expected {k}")
        if k > 0:
            prev = inters[k - 1]["request"]["body"]["messages"]
            if messages[:len(prev)] != prev:
                warnings.append(f"request {k}: history differs from request {k - 1}'s messages")
        try:
            d = decode_response(provider, body)
        except (KeyError, ValueError, AssertionError) as e:
            raise Invalid(f"response {k} does not decode: {e!r}")
        for call in d["calls"]:
            need(bool(call["id"]), f"response {k}: a call has no id")
            need(call["id"] not in seen_ids, f"call id {call['id']} used twice")
            seen_ids.add(call["id"])
            if provider == "openai-chat":
                try:
                    json.loads(call["arguments"])
                except ValueError:
                    raise Invalid(f"response {k}: arguments of {call['id']} are not JSON: {call['arguments']!r}")
        decoded_list.append(d)

    for k, d in enumerate(decoded_list):
        if not d["calls"]:
            need(k == len(inters) - 1, f"response {k} has no tool calls but the conversation goes on")
            continue
        need(k + 1 < len(inters), f"response {k} (the last) still asks for tools")
        # Every later request replays response k and its results; check them all.
        for j in range(k + 1, len(inters)):
            results = check_turn_replay(provider, d, inters[j]["request"]["body"]["messages"], k, j, warnings)
            for call in d["calls"]:
                sim = cas["tools"].get(call["name"], {})
                content, is_error = results[call["id"]]
                if "fails" in sim:
                    need(content == sim["fails"], f"request {j}: failing tool {call['name']} answered with "
                                                  f"{content!r}, expected the fails message")
                    if provider == "anthropic":
                        need(is_error, f"request {j}: failing tool {call['name']} lacks is_error: true")
                else:
                    need(not is_error, f"request {j}: {call['id']} marked is_error but its tool does not fail")
    called = {call["name"] for d in decoded_list for call in d["calls"]}
    for name in cas["tools"]:
        need(name in called, f"tools.{name}: no call of that tool in the cassette")
    return warnings


def validate_nonconformant(doc: dict, where: str) -> None:
    need(list(doc) == ["cassette", "rule", "description", "source", "request", "expect"], f"{where}: keys {list(doc)}")
    need(re.fullmatch(r"TT\d{3}", doc["rule"]) is not None, f"{where}: rule id")
    need((FIXTURES / doc["cassette"]).is_file(), f"{where}: cassette {doc['cassette']} not found")
    need(isinstance(doc["request"], dict) and isinstance(doc["request"].get("messages"), list), f"{where}: request")
    need(doc["expect"]["status"] >= 400, f"{where}: expect.status")


# --------------------------------------------------------------------------------------------
# Attribution files
# --------------------------------------------------------------------------------------------

MIT_NOTICES = {
    "pydantic/pydantic-ai": "Copyright (c) Pydantic Services Inc. 2024 to present",
    "crmne/ruby_llm": "Copyright (c) 2025 Carmine Paolino",
    "anthropics/anthropic-sdk-python": "Copyright 2023 Anthropic, PBC.",
}

MIT_PERMISSION = """Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."""


def shape_summary(cas: dict) -> str:
    parts = []
    for k, it in enumerate(cas["interactions"]):
        d = decode_response(cas["provider"], it["response"]["body"])
        tags = [it["response"]["body"]["type"].upper(), f"{len(d['calls'])} call(s)"]
        if it["request"].get("synthetic"):
            tags.append("synthetic request")
        if it["response"].get("synthetic"):
            tags.append("synthetic response")
        parts.append(f"#{k}: " + ", ".join(tags))
    return "; ".join(parts)


def write_provenance(cassettes: list[tuple[Path, dict]], nonconformant: list[tuple[Path, dict]]) -> None:
    lines = [
        "# Fixture provenance",
        "",
        "Cassettes under `fixtures/` (tooltape format v1). `recorded` cassettes are converted from the",
        "public recordings collected in `reference/recordings` (see its PROVENANCE.md) by",
        "`scripts/convert_recordings.py`; `hand-made` ones are written for shapes no recording has",
        "(generated by `fixtures/make_handmade.py`). Every synthesised request or response is marked",
        "`\"synthetic\": true` in the cassette and described below and in the cassette's `source.notes`.",
        "",
        "Recorded responses are verbatim unless a section says otherwise (SSE bodies are split into",
        "frames at each blank line; the frames concatenate to the recorded body byte for byte). Request",
        "bodies are kept as JSON values. Auth headers and all other headers are not stored.",
        "",
        "## Licences and notices",
        "",
        "- `charmbracelet/fantasy`: Apache-2.0, with a NOTICE file, reproduced in `fixtures/NOTICE`",
        "  (which lists the fixtures derived from it). \"Copyright 2025-2026 Charmbracelet, Inc.\"",
        "- `openai/openai-python`: Apache-2.0, no NOTICE file.",
        "- `traceloop/openllmetry`: Apache-2.0, no NOTICE file (per the reference PROVENANCE.md).",
        "- `simonw/llm`: Apache-2.0, no NOTICE file.",
        "- Apache-2.0 text: https://www.apache.org/licenses/LICENSE-2.0",
        "- MIT sources, copyright notices kept as the licence requires:",
    ]
    for repo, line in MIT_NOTICES.items():
        used = any(cas["source"].get("repository") == repo for _, cas in cassettes + nonconformant)
        suffix = "" if used else " (no fixture here derives from it yet; listed for completeness)"
        lines.append(f"  - `{repo}`: {line}{suffix}")
    lines += ["", "  MIT permission notice (applies to each of the MIT copyright lines above):", ""]
    lines += ["  > " + l if l else "  >" for l in MIT_PERMISSION.split("\n")]
    lines += ["", "## Cassettes", ""]
    for path, cas in cassettes:
        rel = path.relative_to(FIXTURES)
        src = cas["source"]
        lines += [f"### `{rel}`", "", f"- {cas['description']}"]
        if src["kind"] == "recorded":
            lines += [
                f"- Source: `{src['repository']}`, `{src['path']}`",
                f"- Commit: `{src['commit']}`",
                f"- Licence: {src['license']}",
            ]
        else:
            lines.append("- Source: hand-made for tooltape (no upstream recording).")
        lines.append(f"- Interactions: {shape_summary(cas)}")
        if cas["tools"]:
            lines.append(f"- Tool simulation: `{json.dumps(cas['tools'], ensure_ascii=False)}`")
        lines += [f"- Notes: {src.get('notes', '')}", ""]
    lines += ["## Non-conformant requests", ""]
    for path, doc in nonconformant:
        rel = path.relative_to(FIXTURES)
        src = doc["source"]
        lines += [
            f"### `{rel}`", "",
            f"- Rule: {doc['rule']}; cassette: `{doc['cassette']}`",
            f"- {doc['description']}",
        ]
        if src.get("kind") == "recorded":
            lines += [f"- Source: `{src['repository']}`, `{src['path']}`", f"- Commit: `{src['commit']}`",
                      f"- Licence: {src['license']}"]
        lines += [f"- Notes: {src.get('notes', '')}", ""]
    (FIXTURES / "PROVENANCE.md").write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


def write_notice(cassettes: list[tuple[Path, dict]]) -> None:
    derived = [str(p.relative_to(FIXTURES)) for p, cas in cassettes
               if cas["source"].get("repository") == "charmbracelet/fantasy"]
    text = "\n".join([
        "tooltape test fixtures",
        "",
        "The following fixtures are derived from recordings in charmbracelet/fantasy",
        "(https://github.com/charmbracelet/fantasy), licensed under the Apache License, Version 2.0:",
        "",
        *[f"  fixtures/{d}" for d in derived],
        "",
        "The NOTICE file of charmbracelet/fantasy reads:",
        "",
        "----------------------------------------------------------------------",
        "Fantasy",
        "Copyright 2025-2026 Charmbracelet, Inc.",
        "",
        "Part of the Charm open source ecosystem.",
        "",
        "This product includes software developed by Charmbracelet, Inc.",
        "(https://charm.land)",
        "----------------------------------------------------------------------",
        "",
        "Attribution for the other sources (MIT copyright notices, Apache-2.0 sources without a NOTICE)",
        "is in fixtures/PROVENANCE.md.",
        "",
    ])
    (FIXTURES / "NOTICE").write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------

def dump(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def all_cassettes() -> list[tuple[Path, dict]]:
    out = []
    for provider in PROVIDERS:
        for p in sorted((FIXTURES / provider).glob("*.json")):
            out.append((p, json.loads(p.read_text(encoding="utf-8"))))
    return out


def all_nonconformant() -> list[tuple[Path, dict]]:
    return [(p, json.loads(p.read_text(encoding="utf-8")))
            for p in sorted((FIXTURES / "nonconformant").glob("*.json"))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recordings", type=Path, default=DEFAULT_RECORDINGS)
    ap.add_argument("--check-only", action="store_true")
    args = ap.parse_args()

    if not args.check_only:
        prov = read_provenance(args.recordings)
        for plan in PLANS:
            cas, bad = convert(plan, args.recordings, prov)
            out = FIXTURES / cas["provider"] / f"{plan['stem']}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            text = dump(cas)
            check_secrets(text, str(out))
            out.write_text(text, encoding="utf-8")
            if bad is not None:
                bad_path = FIXTURES / "nonconformant" / "recorded-anthropic-orphan-tool-result.json"
                bad_path.parent.mkdir(parents=True, exist_ok=True)
                bad_text = dump(bad)
                check_secrets(bad_text, str(bad_path))
                bad_path.write_text(bad_text, encoding="utf-8")

    failed = False
    cassettes = all_cassettes()
    for path, cas in cassettes:
        rel = path.relative_to(REPO)
        text = path.read_text(encoding="utf-8")
        check_secrets(text, str(rel))
        if text != dump(cas):
            print(f"FAIL {rel}: not in canonical form (2-space indent, trailing newline)")
            failed = True
        try:
            warnings = validate(cas, str(path))
        except Invalid as e:
            print(f"FAIL {rel}: {e}")
            failed = True
            continue
        print(f"ok   {rel}: {shape_summary(cas)}")
        for w in warnings:
            print(f"     note: {w}")
    nonconformant = all_nonconformant()
    for path, doc in nonconformant:
        rel = path.relative_to(REPO)
        check_secrets(path.read_text(encoding="utf-8"), str(rel))
        try:
            validate_nonconformant(doc, str(rel))
            print(f"ok   {rel}")
        except Invalid as e:
            print(f"FAIL {rel}: {e}")
            failed = True
    if not args.check_only and not failed:
        write_provenance(cassettes, nonconformant)
        write_notice(cassettes)
        for name in ("PROVENANCE.md", "NOTICE"):
            check_secrets((FIXTURES / name).read_text(encoding="utf-8"), name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
