#!/usr/bin/env python3
"""Runs the Python example loops (examples/loops/) under `tooltape check` and checks the verdicts.

Each example runs once over a whole fixture folder (`tooltape check fixtures/<folder>`, no
choice of cassettes): every correct loop must conform (exit 0, no failing finding) on every
cassette of its provider's folder, whatever the cassette's stream mode or opening; every
known-bad loop must be caught (exit 1), with exactly the one rule that targets its bug on the
cassettes that provoke it and nothing failing on the others. This proves both that the examples
are right and that each check can fail, and that a correct loop gets no false FAIL.

    scripts/run-examples.py                               # all examples, once
    scripts/run-examples.py --only bad_stream_by_id --repeat 20
    scripts/run-examples.py --fault rate-limit:100 --fault cut-stream:2@2   # correct loops only
    TOOLTAPE_BIN=target/release/tooltape scripts/run-examples.py --python .venv/bin/python

The Python interpreter comes from scripts/python-env.sh (the pinned SDKs) unless --python is
given. Loops run warm (scripts/warm_python.py: the SDKs imported once per loop file, a fork per
run); `--cold` starts a fresh interpreter per run, as a user's `check` does. `--fault` serves
API or model faults to every run; only the correct loops run then, and each must still conform
on its whole folder (the SDKs' default retries are the reference behaviour). Prints a table of
the results; exits 1 on any mismatch, 2 on a usage or setup error.
Only the standard library is used here, so any python3 (3.9+) can run this script.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from warm_python import WarmLoops

ROOT = Path(__file__).resolve().parent.parent
LOOPS = ROOT / "examples" / "loops"


# --- What the cassettes hold ----------------------------------------------------------------


@dataclass
class Turn:
    """One model response: its call ids in order, and the recorded result of each."""

    call_ids: list[str]
    results: dict[str, str] = field(default_factory=dict)


@dataclass
class CassetteInfo:
    path: Path
    name: str
    provider: str  # "openai-chat" | "anthropic" | "openai-responses" | "gemini"
    streamed: bool
    turns: list[Turn]
    failing_tools: bool
    hung_tools: bool
    sequential_tools: bool
    set_latencies: bool
    expect_concurrency: bool
    single_prompt: bool  # the first request has one user message: TOOLTAPE_PROMPT is all of it
    reasoning: bool = False  # a response carries OpenAI Responses reasoning items
    signed_calls: bool = False  # Gemini: a call was served with a thoughtSignature
    validates_signatures: bool = False  # Gemini: the recorded model is one that checks them

    @property
    def max_calls(self) -> int:
        return max((len(t.call_ids) for t in self.turns), default=0)

    def swaps_results_when_reversed(self) -> bool:
        """Whether some turn's recorded results differ once paired in reverse call order, so
        pairing by completion order (tooltape's default: reverse) gives an id another result."""
        for t in self.turns:
            ids = t.call_ids
            if len(ids) >= 2 and all(i in t.results for i in ids):
                if any(t.results[a] != t.results[b] for a, b in zip(ids, reversed(ids))):
                    return True
        return False


def _sse_data(frames: list[str]):
    for frame in frames:
        for line in frame.splitlines():
            if line.startswith("data:"):
                data = line[5:].strip()
                if data and data != "[DONE]":
                    try:
                        yield json.loads(data)
                    except ValueError:
                        pass


def _gemini_call_ids(k: int, body: dict) -> list[str]:
    """Gemini calls carry no ids: tooltape names call i of model turn k `turn{k}-call{i}`. A
    stream's calls are its whole `functionCall` parts and the ones it opens with a `name`."""
    if body["type"] == "json":
        try:
            chunks = [json.loads(body["text"])]
        except ValueError:
            return []
    else:
        chunks = list(_sse_data(body["frames"]))
    n = 0
    for chunk in chunks:
        for cand in (chunk.get("candidates") or [])[:1]:
            for part in (cand.get("content") or {}).get("parts") or []:
                if (part.get("functionCall") or {}).get("name"):
                    n += 1
    return [f"turn{k}-call{i}" for i in range(1, n + 1)]


def _call_ids(provider: str, body: dict) -> list[str]:
    ids: list[str] = []
    if body["type"] == "json":
        try:
            doc = json.loads(body["text"])
        except ValueError:
            return ids
        if provider == "anthropic":
            return [b["id"] for b in doc.get("content") or [] if b.get("type") == "tool_use"]
        if provider == "openai-responses":
            return [i["call_id"] for i in doc.get("output") or [] if i.get("type") == "function_call"]
        for choice in (doc.get("choices") or [])[:1]:
            return [c["id"] for c in (choice.get("message") or {}).get("tool_calls") or []]
        return ids
    for event in _sse_data(body["frames"]):
        if provider == "openai-responses":
            item = event.get("item") or {}
            if event.get("type") == "response.output_item.added" and item.get("type") == "function_call":
                ids.append(item["call_id"])
            continue
        if provider == "anthropic":
            block = event.get("content_block") or {}
            if event.get("type") == "content_block_start" and block.get("type") == "tool_use":
                ids.append(block["id"])
        else:
            for choice in event.get("choices") or []:
                for part in (choice.get("delta") or {}).get("tool_calls") or []:
                    if part.get("id") and part["id"] not in ids:
                        ids.append(part["id"])
    return ids


def _text_of(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return json.dumps(content)


def _results(provider: str, request: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    if provider == "openai-responses":
        items = request.get("input")
        for item in items if isinstance(items, list) else []:
            if item.get("type") == "function_call_output":
                out[item.get("call_id", "")] = _text_of(item.get("output"))
    if provider == "gemini":
        contents = request.get("contents") or []
        k = sum(c.get("role") == "model" for c in contents)
        if contents and k:
            responses = [p["functionResponse"] for p in contents[-1].get("parts") or [] if "functionResponse" in p]
            for i, r in enumerate(responses, 1):
                out[f"turn{k}-call{i}"] = json.dumps(r.get("response"), sort_keys=True)
        return out
    for message in request.get("messages") or []:
        if provider == "anthropic":
            if message.get("role") == "user" and isinstance(message.get("content"), list):
                for b in message["content"]:
                    if b.get("type") == "tool_result":
                        out[b["tool_use_id"]] = _text_of(b.get("content", ""))
        elif message.get("role") == "tool":
            out[message.get("tool_call_id", "")] = _text_of(message.get("content"))
    return out


def _has_reasoning(body: dict) -> bool:
    if body["type"] == "json":
        try:
            output = json.loads(body["text"]).get("output")
        except (ValueError, AttributeError):
            return False
        return isinstance(output, list) and any(i.get("type") == "reasoning" for i in output)
    return any((e.get("item") or {}).get("type") == "reasoning" for e in _sse_data(body["frames"]))


def _user_messages(request: dict) -> int:
    history = request.get("messages", request.get("input"))
    if isinstance(history, str):
        return 1
    return sum(isinstance(m, dict) and m.get("role") == "user" for m in history or [])


def load_cassette(path: Path) -> CassetteInfo | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or "tooltape" not in doc or "interactions" not in doc:
        return None  # e.g. fixtures/nonconformant/*: follow-ups, not cassettes
    provider = doc.get("provider", "")
    interactions = doc["interactions"]
    turns = []
    for k, inter in enumerate(interactions):
        if provider == "gemini":
            ids = _gemini_call_ids(k + 1, inter["response"]["body"])
        else:
            ids = _call_ids(provider, inter["response"]["body"])
        if not ids:
            continue
        results = {}
        if k + 1 < len(interactions):
            recorded = _results(provider, interactions[k + 1]["request"]["body"])
            results = {i: recorded[i] for i in ids if i in recorded}
        turns.append(Turn(ids, results))
    tools = doc.get("tools") or {}
    return CassetteInfo(
        path=path,
        name=doc.get("name") or path.stem,
        provider=provider,
        streamed=bool(interactions) and interactions[0]["response"]["body"]["type"] == "sse",
        turns=turns,
        failing_tools=any(t.get("fails") for t in tools.values()),
        hung_tools=any(t.get("hangs") for t in tools.values()),
        sequential_tools=any(t.get("sequential") for t in tools.values()),
        set_latencies=any("latency_ms" in t for t in tools.values()),
        expect_concurrency=doc.get("expect_concurrency") is True,
        single_prompt=bool(interactions) and _user_messages(interactions[0]["request"]["body"]) == 1,
        reasoning=any(_has_reasoning(i["response"]["body"]) for i in interactions),
        signed_calls=provider == "gemini" and any(
            "thoughtSignature" in part and "functionCall" in part
            for inter in interactions[1:]
            for content in inter["request"]["body"].get("contents") or []
            if content.get("role") == "model"
            for part in content.get("parts") or []
        ),
        # Gemini 3 refuses a replayed call without its signature; for older models a lost
        # one is only a warning (the loop sends the recorded model, TOOLTAPE_MODEL).
        validates_signatures=provider == "gemini" and bool(interactions)
        and "/models/gemini-3" in interactions[0]["request"].get("path", ""),
    )


# --- The expectations -----------------------------------------------------------------------


@dataclass
class Example:
    """One example loop, run over one whole fixture folder (no per-loop selection of cassettes).

    A correct loop must conform on every cassette of the folder. A known-bad loop must fail
    with exactly its rule on the cassettes that provoke its bug (`names` and `provokes`), and
    conform on all the others.
    """

    name: str  # examples/loops/{name}.py
    folder: str  # fixtures/{folder}
    rule: str | None = None  # None: must conform; else the one rule that must fail
    profile: str = "default"
    flags: tuple[str, ...] = ()  # extra `tooltape check` flags
    names: tuple[str, ...] = ()  # cassette name globs that provoke the bug; empty: any
    want: str = ""  # what a cassette needs to provoke the bug, as said in the table below
    provokes: object = None  # predicate on CassetteInfo
    with_failing_tool: str | None = None  # the rule expected instead where a tool fails
    also: tuple[str, ...] = ()  # rules that fail with it by nature (an unknown id leaves its call unanswered)

    def runs_on(self, c: CassetteInfo) -> bool:
        # `check` skips cassettes that require a capability the loop was not said to have.
        skipped = c.sequential_tools and "--require" not in self.flags
        return c.path.parent == ROOT / "fixtures" / self.folder and not skipped

    def fails_on(self, c: CassetteInfo) -> bool:
        if self.rule is None:
            return False
        if self.names and not any(fnmatch.fnmatch(c.name, n) for n in self.names):
            return False
        return self.provokes is None or self.provokes(c)

    def expected(self, c: CassetteInfo) -> set[str]:
        if not self.fails_on(c):
            return set()
        if self.with_failing_tool and c.failing_tools:
            return {self.with_failing_tool} | ({self.rule} if self.also else set())
        return {self.rule, *self.also}


def _multi(c: CassetteInfo) -> bool:
    return c.max_calls >= 2 and not c.failing_tools


SEQUENTIAL = ("--require", "sequential-tools")

EXAMPLES = [
    # Correct loops: exit 0 on every cassette of their provider's folder.
    Example("openai_async_gather", "openai-chat"),
    Example("openai_streaming", "openai-chat"),
    Example("anthropic_parallel", "anthropic"),
    Example("anthropic_streaming", "anthropic"),
    # Complete but not concurrent (fine for tools with side effects): TT008 only where the
    # cassette expects concurrency.
    Example("openai_sequential", "openai-chat", "TT008", flags=SEQUENTIAL,
            want="expect_concurrency, >= 2 calls in a turn",
            provokes=lambda c: c.expect_concurrency and c.max_calls >= 2),
    # Known-bad loops: exit 1; exactly their rule fails where the bug shows, nothing elsewhere.
    Example("bad_first_call_only", "openai-chat", "TT001",
            want=">= 2 calls in a turn", provokes=lambda c: c.max_calls >= 2,
            # Dropping the sibling of a failing call is what TT010 names.
            with_failing_tool="TT010"),
    # The reversal needs both calls at the barrier: a long grace, so that a loop starved by
    # the machine's load (its second call late by more than the default second) still gets
    # its answers in reverse order. The loop runs its calls at once, so it never waits long.
    Example("bad_completion_order", "openai-chat", "TT009", flags=("--barrier-grace", "10000"),
            want="default latencies, results that differ once reversed",
            provokes=lambda c: not c.set_latencies and c.swaps_results_when_reversed()),
    Example("bad_one_message_per_result", "anthropic", "TT005", profile="strict",
            want=">= 2 calls in a turn", provokes=lambda c: c.max_calls >= 2),
    Example("bad_sequential_async", "openai-chat", "TT008",
            want="expect_concurrency (else TT008 is a warning), >= 2 calls in a turn",
            provokes=lambda c: c.expect_concurrency and c.max_calls >= 2),
    Example("bad_mcp_sequential", "openai-chat", "TT008",
            want="expect_concurrency (else TT008 is a warning), >= 2 calls in a turn",
            provokes=lambda c: c.expect_concurrency and c.max_calls >= 2),
    Example("bad_failure_aborts_batch", "openai-chat", "TT010",
            want="a failing tool beside others",
            provokes=lambda c: c.failing_tools and c.max_calls >= 2),
    Example("bad_drops_assistant_message", "openai-chat", "TT002",
            want="a tool call", provokes=lambda c: c.max_calls >= 1),
    # A repair step fills in the calls it dropped: TT024 only where nothing may excuse it (no
    # failing or hung tool in the cassette).
    Example("bad_placeholder_results", "openai-chat", "TT024",
            want=">= 2 calls in a turn, no failing or hung tool",
            provokes=lambda c: c.max_calls >= 2 and not c.failing_tools and not c.hung_tools),
    # OpenAI Responses: correct loops stateless, stateful and streaming; known-bad ones.
    Example("responses_stateless", "openai-responses"),
    Example("responses_previous_id", "openai-responses"),
    Example("responses_streaming", "openai-responses"),
    # Naming the item id leaves the call unanswered too (TT001; TT010 beside a failing tool).
    Example("bad_responses_item_id", "openai-responses", "TT002", also=("TT001",),
            want="a function call", provokes=lambda c: c.max_calls >= 1,
            with_failing_tool="TT010"),
    Example("bad_responses_drops_reasoning", "openai-responses", "TT006",
            want="reasoning items before the calls", provokes=lambda c: c.reasoning and c.max_calls >= 1),
    Example("bad_responses_omits_output", "openai-responses", "TT001",
            want=">= 2 calls in a turn", provokes=lambda c: c.max_calls >= 2,
            with_failing_tool="TT010"),
    # Gemini on the official google-genai SDK, automatic function calling off.
    Example("gemini_parallel", "gemini"),
    Example("gemini_streaming", "gemini"),
    Example("bad_gemini_first_call_only", "gemini", "TT001",
            want=">= 2 calls in a turn", provokes=lambda c: c.max_calls >= 2,
            with_failing_tool="TT010"),
    Example("bad_gemini_rebuilt_calls", "gemini", "TT006",
            want="a call served with a thoughtSignature by a Gemini 3 model",
            provokes=lambda c: c.signed_calls and c.validates_signatures),
    # Shapes of OpenAI-compatible servers (interleaved deltas, Ollama's calls all at index 0),
    # not of OpenAI's own streams: one folder per API.
    Example("openai_async_gather", "openai-compatible/chat"),
    Example("openai_streaming", "openai-compatible/chat"),
    Example("bad_stream_by_id", "openai-compatible/chat", "TT006",
            names=("handmade-interleaved-3-calls-stream",)),
    Example("responses_streaming", "openai-compatible/responses"),
]


# --- Running ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    example: str
    folder: str
    run: int
    cassettes: int
    exit_code: int | None
    seconds: float
    ok: bool
    problems: list[str]
    faulted: int = 0  # cassettes whose notes say a fault was served


def faulted(report: dict | None) -> int:
    """How many cassettes of a report were served a fault, as their notes say."""
    return sum(
        any("fault" in n and " served" in n and "not served" not in n for n in c.get("notes", []))
        for c in (report or {}).get("cassettes", [])
    )


def failing_rules(cassette: dict, strict: bool) -> set[str]:
    return {
        f["rule"]
        for f in cassette.get("findings", [])
        if f.get("severity") == "error" or (strict and f.get("severity") == "warning")
    }


def judge(ex: Example, selected: list[CassetteInfo], code: int, report: dict | None) -> list[str]:
    """Every cassette of the folder: exactly the example's rule where its bug shows, nothing
    failing anywhere else."""
    problems = []
    want_code = 0 if ex.rule is None else 1
    if code != want_code:
        problems.append(f"exit {code}, expected {want_code}")
    if report is None:
        problems.append("no JSON report")
        return problems
    strict = ex.profile == "strict"
    by_name = {c.get("name"): c for c in report.get("cassettes", [])}
    for info in selected:
        c = by_name.get(info.name)
        if c is None:
            problems.append(f"{info.name}: not in the report")
            continue
        rules = failing_rules(c, strict)
        want = ex.expected(info)
        if rules != want:
            shown = ", ".join(sorted(rules)) or "none"
            detail = "; ".join(
                f"{f['rule']} {f.get('message', '')}"[:160]
                for f in c.get("findings", [])
                if f["rule"] in rules ^ want
            )
            problems.append(
                f"{info.name}: failing rules {{{shown}}}, expected {{{', '.join(sorted(want))}}}"
                + (f" ({detail})" if detail else "")
            )
        if c.get("error"):
            problems.append(f"{info.name}: {c['error']}")
    return problems


def run_example(
    ex: Example, selected: list[CassetteInfo], tooltape: str, python: str, run: int,
    timeout: float, verbose: bool, warm: WarmLoops, faults: list[str],
) -> Outcome:
    cmd = [tooltape, "check", str(ROOT / "fixtures" / ex.folder), "-j", "4", "--format", "json"]
    if ex.profile != "default":
        cmd += ["--profile", ex.profile]
    cmd += [arg for fault in faults for arg in ("--fault", fault)]
    cmd += [*ex.flags, "--", *warm.command(python, LOOPS / f"{ex.name}.py")]
    if verbose:
        print("+ " + " ".join(cmd), file=sys.stderr)
    start = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, "NO_COLOR": "1"},
        )
    except subprocess.TimeoutExpired:
        return Outcome(ex.name, ex.folder, run, len(selected), None, time.monotonic() - start, False,
                       [f"`tooltape check` did not finish in {timeout:g} s"])
    seconds = time.monotonic() - start
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = None
    problems = judge(ex, selected, proc.returncode, report)
    if problems and (verbose or report is None):
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        if tail:
            problems.append("stderr:\n" + tail)
    return Outcome(ex.name, ex.folder, run, len(selected), proc.returncode, seconds, not problems,
                   problems, faulted(report))


def venv_python() -> str:
    script = ROOT / "scripts" / "python-env.sh"
    proc = subprocess.run(["bash", str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"run-examples: {script} failed (exit {proc.returncode})")
    return proc.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Run the example agent loops under `tooltape check` and check the verdicts.")
    parser.add_argument("bin", nargs="?", help="the tooltape binary "
                        "(default: $TOOLTAPE_BIN, else target/debug/tooltape)")
    parser.add_argument("--python", help="the interpreter with the SDKs "
                        "(default: the venv of scripts/python-env.sh)")
    parser.add_argument("--fixtures", action="append", type=Path,
                        help="cassette folder (repeatable; default: fixtures/)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this example (repeatable; globs allowed)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each example N times (robustness)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per check run")
    parser.add_argument("--parallel", type=int, default=1, metavar="N",
                        help="checks at once (default 1; each runs 4 cassettes at once)")
    parser.add_argument("--list", action="store_true", help="show the selection and exit")
    parser.add_argument("--cold", action="store_true",
                        help="a fresh interpreter per run (default: warm forks of one that "
                        "imported the loop's modules, scripts/warm_python.py)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="serve this `tooltape check --fault` to every run (repeatable); "
                        "only the correct loops run, and each must still conform on its "
                        "whole folder: the official SDKs' own retries are what a correct "
                        "loop does")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    tooltape = args.bin or os.environ.get("TOOLTAPE_BIN") or str(ROOT / "target/debug/tooltape")
    if not args.list and not (os.path.isfile(tooltape) and os.access(tooltape, os.X_OK)):
        print(f"run-examples: no tooltape binary at {tooltape} (cargo build, or pass its path)",
              file=sys.stderr)
        return 2
    tooltape = os.path.abspath(tooltape)

    folders = args.fixtures or [ROOT / "fixtures"]
    cassettes = [
        info
        for folder in folders
        for path in sorted(Path(folder).rglob("*.json"))
        if (info := load_cassette(path)) is not None
    ]
    examples = [
        ex for ex in EXAMPLES
        if not args.only or any(fnmatch.fnmatch(ex.name, o.removesuffix(".py")) for o in args.only)
    ]
    if args.fault:
        # A known-bad loop's verdict under a fault is another question (faults.rs asks it).
        examples = [ex for ex in examples if ex.rule is None]
    if not examples:
        print(f"run-examples: no example matches {args.only}", file=sys.stderr)
        return 2

    plan = []
    missing = []
    for ex in examples:
        selected = [c for c in cassettes if ex.runs_on(c)]
        if not selected:
            missing.append(f"{ex.name}: fixtures/{ex.folder} has no cassette")
        elif ex.rule and not any(ex.fails_on(c) for c in selected):
            need = ", ".join(filter(None, [ex.want, " or ".join(ex.names)]))
            missing.append(f"{ex.name}: no cassette of fixtures/{ex.folder} provokes its bug ({need})")
        plan.append((ex, selected))
    if args.list:
        for ex, selected in plan:
            print(f"{ex.name}  ->  fixtures/{ex.folder}, {len(selected)} cassette(s)")
            for c in selected:
                verdict = ", ".join(sorted(ex.expected(c))) or "conforms"
                print(f"    {c.name}: {verdict}")
        for m in missing:
            print(f"MISSING {m}")
        return 0 if not missing else 1

    python = args.python or venv_python()
    outcomes: list[Outcome] = []
    warm = WarmLoops(python, enabled=not args.cold)

    def one(job: tuple[Example, list[CassetteInfo], int]) -> Outcome:
        ex, selected, run = job
        outcome = run_example(ex, selected, tooltape, python, run, args.timeout,
                              args.verbose, warm, args.fault)
        mark = "ok  " if outcome.ok else "FAIL"
        print(f"{mark} {ex.name} on fixtures/{ex.folder} (run {run}) exit {outcome.exit_code} "
              f"in {outcome.seconds:.1f}s", file=sys.stderr)
        return outcome

    jobs = [(ex, selected, run) for run in range(1, args.repeat + 1)
            for ex, selected in plan if selected]
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
            outcomes.extend(pool.map(one, jobs))
    finally:
        warm.stop()

    print()
    print(f"{'example':30} {'fixtures/':28} {'expect':10} {'cassettes':>9} {'runs':>5} "
          f"{'passed':>6} {'max s':>6}" + (f" {'faulted':>7}" if args.fault else ""))
    for ex, selected in plan:
        mine = [o for o in outcomes if (o.example, o.folder) == (ex.name, ex.folder)]
        passed = sum(o.ok for o in mine)
        slowest = max((o.seconds for o in mine), default=0.0)
        want = ex.rule or "exit 0"
        # Under --fault: the fewest cassettes of a run that were served one (0: not exercised).
        served = min((o.faulted for o in mine), default=0)
        print(f"{ex.name:30} {ex.folder:28} {want:10} {len(selected):>9} {len(mine):>5} "
              f"{passed:>6} {slowest:>6.1f}" + (f" {served:>7}" if args.fault else ""))
    failures = [o for o in outcomes if not o.ok]
    for o in failures:
        print(f"\nMISMATCH {o.example} on fixtures/{o.folder} (run {o.run}):")
        for p in o.problems:
            print("  " + p.replace("\n", "\n    "))
    for m in missing:
        print(f"\nMISSING {m}")
    total = len(outcomes)
    print(f"\n{total - len(failures)} passed, {len(failures) + len(missing)} failed")
    return 1 if failures or missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
