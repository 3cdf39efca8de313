#!/usr/bin/env python3
"""Wraps a loop under `tooltape check` and writes down every request it sends, with the answer.

For reproductions (tests/frameworks/FALSE_POSITIVES.md): a forwarding proxy on 127.0.0.1 sits
between the loop and the replay server, the loop's OPENAI_BASE_URL, ANTHROPIC_BASE_URL,
GOOGLE_GEMINI_BASE_URL and
TOOLTAPE_TOOLS_URL point at it, and each exchange goes to `OUT/{TOOLTAPE_CASSETTE}.jsonl`
(method, path, the headers that matter, the body; status and body of the answer).

    tooltape check fixtures/anthropic/handmade-three-turns.json -- \\
        python3 tests/frameworks/capture.py /tmp/capture -- \\
        target/frameworks-venv/bin/python examples/frameworks/anthropic_tool_runner.py

Standard library only; answers are forwarded whole (a stream arrives at once, which every SDK
reads the same).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

KEPT_HEADERS = ("content-type", "anthropic-version", "anthropic-beta", "tooltape-call-id",
                "x-stainless-helper-method", "user-agent")


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    out_dir = Path(sys.argv[1])
    command = sys.argv[3:]
    out_dir.mkdir(parents=True, exist_ok=True)
    log = open(out_dir / f"{os.environ.get('TOOLTAPE_CASSETTE', 'session')}.jsonl", "w",
               encoding="utf-8")
    lock = threading.Lock()
    upstream = urlsplit(os.environ["TOOLTAPE_URL"])
    origin = f"{upstream.scheme}://{upstream.netloc}"

    class Forward(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):
            self.forward()

        def do_GET(self):
            self.forward()

        def forward(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "content-length", "connection",
                                            "accept-encoding")}
            req = urllib.request.Request(origin + self.path, data=body or None, headers=headers,
                                         method=self.command)
            try:
                with urllib.request.urlopen(req, timeout=120) as resp:
                    status, rheaders, rbody = resp.status, resp.headers, resp.read()
            except urllib.error.HTTPError as e:
                status, rheaders, rbody = e.code, e.headers, e.read()
            try:
                shown_body = json.loads(body) if body else None
            except ValueError:
                shown_body = body.decode("utf-8", "replace")
            entry = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()
                            if k.lower() in KEPT_HEADERS},
                "body": shown_body,
                "status": status,
                "response": rbody.decode("utf-8", "replace")[:4000],
            }
            with lock:
                log.write(json.dumps(entry) + "\n")
                log.flush()
            self.send_response(status)
            for k, v in rheaders.items():
                if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(rbody)))
            self.end_headers()
            self.wfile.write(rbody)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    here = f"http://127.0.0.1:{server.server_address[1]}"
    env = dict(os.environ)
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "TOOLTAPE_TOOLS_URL",
                "TOOLTAPE_URL"):
        if var in env:
            env[var] = env[var].replace(origin, here)
    code = subprocess.run(command, env=env).returncode
    server.shutdown()
    log.close()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
