#!/usr/bin/env python3
"""Measures tooltape's replay server side by side with its peers, in one run, and prints a table.

    python3 scripts/bench.py [--seconds 10] [--rounds 3] [--connections 64] [--cassettes 1000]

Servers, each started here on its own loopback port and given the same requests:
- bare hyper (`benches/peers.rs bare`): reads the body and answers the recorded bytes, nothing
  else: the machine's limit;
- llmposter 0.5.0 (installed by `cargo install --locked` into target/bench-tools), with the
  closest fixtures it can serve: the same final text, and the same two tool calls streamed;
- `tooltape serve` with both cassettes, on the bare URLs (the session is found from the
  request's first user message), judging every request with every rule and journaling it.

Scenarios:
- follow-up: the second request of fixtures/anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json,
  which answers the 4 parallel calls of turn 1; tooltape judges it and serves turn 2 (JSON);
- stream: the first request of fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json;
  the answer is the recorded stream of 2 tool calls, 14 SSE frames, one HTTP chunk each.

Load: wrk, 1 thread, N connections, `--latency`, a Lua script for the POST; each round runs
every scenario on every server in turn, so all servers see the same machine load; the table
gives the median over the rounds of req/s and of p99, and the server's CPU time per request
(from /proc, user + system). Then `tooltape run` over generated cassettes (`benches/peers.rs
cassettes`, tools at 1 ms), timed once per round.

Benchmarks are never CI tests: nothing runs this but a person.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LLMPOSTER_VERSION = "0.5.0"
TOOLS = ROOT / "target" / "bench-tools"
FOLLOWUP = ROOT / "fixtures/anthropic/pydantic-ai-haiku-4.5-parallel4-followup.json"
STREAM = ROOT / "fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup-stream.json"
TICKS = os.sysconf("SC_CLK_TCK")


def fail(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(2)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, cwd=ROOT, **kw)


def build() -> tuple[Path, Path]:
    """Builds tooltape and the peers binary in release mode; returns their paths."""
    out = run(
        ["cargo", "build", "--release", "--bin", "tooltape", "--bench", "peers",
         "--message-format=json-render-diagnostics"],
        stdout=subprocess.PIPE, text=True,
    ).stdout
    paths = {}
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            paths[msg["target"]["name"]] = Path(msg["executable"])
    return paths["tooltape"], paths["peers"]


def llmposter() -> Path:
    exe = TOOLS / "bin" / "llmposter"
    listed = subprocess.run(["cargo", "install", "--list", "--root", TOOLS],
                            capture_output=True, text=True).stdout
    if not exe.exists() or f"llmposter v{LLMPOSTER_VERSION}:" not in listed:
        run(["cargo", "install", "llmposter", "--version", LLMPOSTER_VERSION, "--locked",
             "--root", str(TOOLS)])
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, name: str) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            fail(f"{name} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    fail(f"{name} did not listen on port {port} within 30 s")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def llmposter_fixtures(followup: dict, stream: dict) -> str:
    """The closest fixtures llmposter serves: the follow-up's recorded final text, and the
    streamed turn's two tool calls (llmposter invents ids and frames of its own)."""
    answer = json.loads(followup["interactions"][1]["response"]["body"]["text"])
    text = "".join(b["text"] for b in answer["content"] if b["type"] == "text")
    calls = []
    arguments: dict[int, str] = {}
    names: dict[int, str] = {}
    for frame in stream["interactions"][0]["response"]["body"]["frames"]:
        data = frame.strip().removeprefix("data: ")
        if data == "[DONE]" or not data.startswith("{"):
            continue
        for choice in json.loads(data).get("choices", []):
            for call in choice.get("delta", {}).get("tool_calls") or []:
                i = call["index"]
                fn = call.get("function", {})
                names[i] = fn.get("name") or names.get(i, "")
                arguments[i] = arguments.get(i, "") + (fn.get("arguments") or "")
    for i in sorted(names):
        calls.append({"name": names[i], "arguments": json.loads(arguments[i])})
    doc = {
        "fixtures": [
            {"match": {"model": followup["interactions"][1]["request"]["body"]["model"]},
             "response": {"content": text}},
            {"match": {"model": stream["interactions"][0]["request"]["body"]["model"]},
             "response": {"tool_calls": calls}},
        ]
    }
    return json.dumps(doc, indent=2)  # JSON is YAML


def lua(body_file: Path, headers: dict[str, str]) -> str:
    lines = ['wrk.method = "POST"', f'local f = io.open("{body_file}", "rb")',
             "wrk.body = f:read(\"*a\")", "f:close()"]
    for k, v in headers.items():
        lines.append(f'wrk.headers["{k}"] = "{v}"')
    return "\n".join(lines) + "\n"


def check(url: str, body: bytes, headers: dict[str, str], name: str) -> bytes:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        if r.status != 200:
            fail(f"{name} answered {r.status} to {url}")
        return r.read()


def parse_wrk(out: str) -> tuple[float, float, int, int]:
    """Requests/s, p99 in ms, requests, errors (non-2xx and socket errors)."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return rps, p99, requests, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10, help="length of one wrk run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--cassettes", type=int, default=1000, help="generated cassettes for `run` (0: skip)")
    args = ap.parse_args()

    if not shutil.which("wrk"):
        fail("wrk is not installed: apt-get install wrk")
    tooltape, peers = build()
    poster = llmposter()
    followup = json.loads(FOLLOWUP.read_text())
    stream = json.loads(STREAM.read_text())

    work = Path(tempfile.mkdtemp(prefix="tooltape-bench-"))
    scenarios = {
        "follow-up": {
            "path": "/v1/messages",
            "body": json.dumps(followup["interactions"][1]["request"]["body"]).encode(),
            "headers": {"content-type": "application/json", "x-api-key": "bench",
                        "anthropic-version": "2023-06-01"},
            "recorded": followup["interactions"][1]["response"]["body"]["text"].encode(),
        },
        "stream": {
            "path": "/v1/chat/completions",
            "body": json.dumps(stream["interactions"][0]["request"]["body"]).encode(),
            "headers": {"content-type": "application/json", "authorization": "Bearer bench"},
            "recorded": "".join(stream["interactions"][0]["response"]["body"]["frames"]).encode(),
        },
    }
    for name, s in scenarios.items():
        body = work / f"{name}.json"
        body.write_bytes(s["body"])
        s["lua"] = work / f"{name}.lua"
        s["lua"].write_text(lua(body, s["headers"]))
    (work / "llmposter.yaml").write_text(llmposter_fixtures(followup, stream))

    ports = {"bare hyper": free_port(), "llmposter": free_port(), "tooltape": free_port()}
    procs = {
        "bare hyper": subprocess.Popen(
            [peers, "bare", str(ports["bare hyper"]), FOLLOWUP, "2", STREAM, "1"],
            stdout=subprocess.DEVNULL),
        "llmposter": subprocess.Popen(
            [poster, "--fixtures", work / "llmposter.yaml", "--port", str(ports["llmposter"])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        "tooltape": subprocess.Popen(
            [tooltape, "serve", FOLLOWUP, STREAM, "--port", str(ports["tooltape"])],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    }
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    try:
        for name, proc in procs.items():
            wait_for(ports[name], proc, name)
        for sname, s in scenarios.items():
            for name in procs:
                got = check(f"http://127.0.0.1:{ports[name]}{s['path']}", s["body"], s["headers"], name)
                if name != "llmposter" and got != s["recorded"]:
                    fail(f"{name} did not answer the recorded bytes of the {sname} scenario")
        load_before = os.getloadavg()
        for r in range(args.rounds):
            for sname, s in scenarios.items():
                for name, proc in procs.items():
                    url = f"http://127.0.0.1:{ports[name]}{s['path']}"
                    cpu0 = cpu_seconds(proc.pid)
                    out = subprocess.run(
                        ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
                         "-s", s["lua"], url],
                        check=True, capture_output=True, text=True).stdout
                    cpu = cpu_seconds(proc.pid) - cpu0
                    rps, p99, requests, errors = parse_wrk(out)
                    if errors:
                        fail(f"{name} gave {errors} errors in the {sname} scenario:\n{out}")
                    us = cpu / requests * 1e6
                    results.setdefault((sname, name), []).append((rps, p99, us))
                    print(f"round {r + 1}: {sname:<9} {name:<10} {rps:>9.0f} req/s  p99 {p99:6.2f} ms"
                          f"  {us:5.1f} us CPU/request", file=sys.stderr)
        load_after = os.getloadavg()
        rss = rss_mib(procs["tooltape"].pid)
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGINT)
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    report = procs["tooltape"].communicate()[0]

    run_times = []
    if args.cassettes:
        cassettes = work / "generated"
        run([peers, "cassettes", str(args.cassettes), cassettes], stdout=subprocess.DEVNULL)
        for _ in range(args.rounds):
            t = time.perf_counter()
            done = subprocess.run([tooltape, "run", cassettes], cwd=ROOT, capture_output=True, text=True)
            run_times.append((time.perf_counter() - t, done.returncode))

    def med(sname: str, name: str, i: int) -> float:
        return statistics.median(x[i] for x in results[(sname, name)])

    print(f"\n{os.cpu_count()} cores; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after;"
          f" wrk -t1 -c{args.connections} -d{args.seconds}s --latency, median of {args.rounds} rounds\n")
    print("| server | follow-up (4-call Anthropic, judged) | stream (2-call OpenAI, 14 frames) |")
    print("|---|---|---|")
    for name in procs:
        cells = []
        for sname in scenarios:
            cells.append(f"{med(sname, name, 0):,.0f} req/s, p99 {med(sname, name, 1):.1f} ms,"
                         f" {med(sname, name, 2):.0f} µs CPU/req")
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    print("\n| target | measured | met |")
    print("|---|---|---|")
    targets = []
    # What each target against llmposter asks of the server in terms of the machine's limit:
    # a ratio near or above 1 is out of reach for any server on this machine in this run.
    limits = []

    def ratio(value: float, target: float) -> str:
        """The ratio to 2 places, or 3 where 2 would round it onto its target."""
        shown = f"{value:.2f}"
        if float(shown) == target and value != target:
            shown = f"{value:.3f}"
        return f"{shown}×"

    for sname, factor in (("follow-up", 2), ("stream", 10)):
        tt, lp, bh = (med(sname, n, 0) for n in ("tooltape", "llmposter", "bare hyper"))
        targets.append((f"{sname} ≥ {factor}× llmposter", ratio(tt / lp, factor), tt >= factor * lp))
        limits.append(f"{sname} ≥ {factor}× llmposter asks for {factor * lp / bh:.2f}× bare hyper")
        targets.append((f"{sname} ≥ 0.5× bare hyper", ratio(tt / bh, 0.5), tt >= 0.5 * bh))
        p99 = med(sname, "tooltape", 1)
        targets.append((f"{sname} p99 < 5 ms", f"{p99:.1f} ms", p99 < 5))
    if run_times:
        secs = statistics.median(t for t, _ in run_times)
        codes = sorted({c for _, c in run_times})
        targets.append((f"`tooltape run` over {args.cassettes} generated cassettes < 10 s",
                        f"{secs:.1f} s (exit {', '.join(map(str, codes))})", secs < 10))
    for what, measured, met in targets:
        print(f"| {what} | {measured} | {'yes' if met else 'no'} |")
    print(f"\nIn this run (medians), {'; '.join(limits)}.")
    print(f"\ntooltape RSS after the load: {rss:.0f} MiB; the report it printed when stopped:\n")
    print("\n".join("    " + line for line in report.strip().splitlines()))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
