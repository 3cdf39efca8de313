#!/usr/bin/env python3
"""Writes fuzz seeds from fixtures/: each cassette (target `cassette`), each recorded SSE stream
and JSON response body (target `sse`), each recorded request body and non-conformant follow-up
(target `request`)."""
import hashlib
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else root / "fuzz" / "seeds")


def seed(target, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


for path in sorted(root.glob("fixtures/**/*.json")):
    raw = path.read_bytes()
    doc = json.loads(raw)
    if "interactions" in doc:
        seed("cassette", raw)
        for i in doc["interactions"]:
            seed("request", json.dumps(i["request"]["body"]).encode())
            body = i["response"]["body"]
            if body["type"] == "sse":
                seed("sse", b"\x03" + "".join(body["frames"]).encode())
            else:
                seed("sse", b"\x00" + body["text"].encode())
    elif "request" in doc:
        seed("request", json.dumps(doc["request"]).encode())
    else:
        seed("request", raw)
