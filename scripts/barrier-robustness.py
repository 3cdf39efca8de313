#!/usr/bin/env python3
"""Barrier robustness: judge a sequential and a concurrent loop N times each while both cores
are busy with another process, and count wrong verdicts.

A correct verdict: the sequential loop (examples/loops/openai_sequential.py) gets TT008 in every
turn with several calls; the concurrent one (examples/loops/openai_async_gather.py) never does.

    scripts/barrier-robustness.py [--runs 30] [--bin target/debug/tooltape] [--python PY]

The load is one busy-looping process per core (`os.cpu_count()`), started before the first run
and stopped after the last. Prints one line per run and a summary; exits 1 on any wrong verdict.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASSETTE = "fixtures/openai-chat/handmade-three-turns.json"
LOOPS = {"sequential": "openai_sequential.py", "concurrent": "openai_async_gather.py"}


def burn() -> None:
    while True:
        pass


def judge(binary: str, python: str, loop: str) -> tuple[bool, float, list]:
    started = time.monotonic()
    out = subprocess.run(
        [binary, "check", CASSETTE, "--format", "json", "--", python, f"examples/loops/{loop}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    elapsed = time.monotonic() - started
    report = json.loads(out.stdout)
    cassette = report["cassettes"][0]
    tt008_turns = sorted(f["turn"] for f in cassette["findings"] if f["rule"] == "TT008")
    return out.returncode, elapsed, tt008_turns, cassette


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--bin", default=str(ROOT / "target/debug/tooltape"))
    parser.add_argument("--python", default=None, help="the venv python (default: scripts/python-env.sh)")
    args = parser.parse_args()
    python = args.python or subprocess.run(
        ["bash", str(ROOT / "scripts/python-env.sh")], capture_output=True, text=True, check=True
    ).stdout.strip().splitlines()[-1]
    hogs = [multiprocessing.Process(target=burn, daemon=True) for _ in range(os.cpu_count() or 2)]
    for h in hogs:
        h.start()
    wrong = 0
    figures = {name: [] for name in LOOPS}
    try:
        for i in range(args.runs):
            for name, loop in LOOPS.items():
                code, elapsed, turns, cassette = judge(args.bin, python, loop)
                multi = [t["index"] for t in cassette["turns"] if t["tool_calls"] > 1]
                ok = turns == multi if name == "sequential" else (not turns and code == 0)
                wrong += not ok
                walls = [t["tool_wall_ms"] for t in cassette["turns"]]
                figures[name].append(elapsed)
                print(f"{i + 1:3} {name:10} {'ok   ' if ok else 'WRONG'} exit={code} TT008 turns={turns} "
                      f"tool wall ms={walls} run {elapsed:.2f}s", flush=True)
    finally:
        for h in hogs:
            h.terminate()
    for name, times in figures.items():
        times.sort()
        print(f"{name}: {len(times)} runs, median {times[len(times) // 2]:.2f}s, max {times[-1]:.2f}s")
    print(f"load: {len(hogs)} busy processes on {os.cpu_count()} cores; wrong verdicts: {wrong}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
