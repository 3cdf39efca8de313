#!/usr/bin/env python3
"""Runs real agent frameworks (examples/frameworks/) through `tooltape check` over whole folders.

Every framework's loop runs over ALL of the fixture folders it speaks (`fixtures/openai-chat`
and `fixtures/anthropic`; openai-agents and the Vercel AI SDK also `fixtures/openai-responses`,
pydantic-ai also `fixtures/gemini`), one `tooltape check` per framework and folder, and each cassette's verdict is compared
with tests/frameworks/expected.json:

- a cassette the file does not name must be conformant: no finding at all (warnings included)
  and the loop exited 0;
- a named one must have exactly the listed rule ids among its findings (`rules`), each an error
  unless it is also listed in `warnings` (a rule found both as an error and as a warning is in
  `warnings` and in `errors`, which then lists every error), with a `why` that names the framework's bug and its
  evidence. Where some of the findings are false positives of tooltape's, `pending_fix` says
  so in short and `pending_rules` names them (default: all of `rules`);
  tests/frameworks/FALSE_POSITIVES.md has the reproduction. Those are counted apart: they are
  tooltape's bugs, not the framework's.

Anything else is a mismatch, and so is an expectation for a cassette that is not in the folder
(or a pending fix that now passes: drop it from the file). Prints a table; exits 1 on any
mismatch, 2 on a usage or setup error.

    scripts/run-frameworks.py                          # every framework, both folders
    scripts/run-frameworks.py --only langgraph --folder anthropic -v
    scripts/run-frameworks.py target/release/tooltape -j 4 --reports /tmp/reports

The frameworks come from scripts/frameworks-env.sh (pinned, installed on first use). A Python
loop runs warm (scripts/warm_python.py: the framework is imported once per loop file and each
run is a fork of that process, the same code without the 3 to 7 CPU-seconds of imports per
cassette); `--cold` starts a fresh interpreter per run, as a user's `check` does. Only the
standard library is used here.
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
LOOPS = ROOT / "examples" / "frameworks"
EXPECTED = ROOT / "tests" / "frameworks" / "expected.json"
FOLDERS = ("openai-chat", "anthropic", "openai-responses", "gemini")


@dataclass
class Framework:
    name: str
    runtime: str  # "python" | "node"
    loop: str  # file in examples/frameworks/
    folders: tuple[str, ...] = ("openai-chat", "anthropic")


FRAMEWORKS = [
    Framework("pydantic-ai", "python", "pydantic_ai_loop.py", ("openai-chat", "anthropic", "gemini")),
    Framework("openai-agents", "python", "openai_agents_loop.py",
              ("openai-chat", "anthropic", "openai-responses")),
    Framework("langgraph", "python", "langgraph_loop.py"),
    Framework("anthropic-tool-runner", "python", "anthropic_tool_runner.py", ("anthropic",)),
    Framework("vercel-ai-sdk", "node", "vercel_ai_sdk.mjs",
              ("openai-chat", "anthropic", "openai-responses")),
    # Tools over MCP (TOOLTAPE_MCP_URL), with no tool glue: the framework's own MCP client.
    Framework("pydantic-ai-mcp", "python", "pydantic_ai_mcp.py"),
    Framework("openai-agents-mcp", "python", "openai_agents_mcp.py", ("openai-chat",)),
]


@dataclass
class Verdict:
    cassette: str
    conformant: bool
    errors: list[str]  # rule ids, sorted and unique
    warnings: list[str]
    exit_code: int | None
    findings: list[dict] = field(default_factory=list)

    @property
    def rules(self) -> list[str]:
        return sorted(set(self.errors) | set(self.warnings))


@dataclass
class Row:
    framework: str
    folder: str
    cassettes: int = 0
    conformant: int = 0
    known_bugs: int = 0
    pending: int = 0
    mismatches: list[str] = field(default_factory=list)
    seconds: float = 0.0
    exit_code: int | None = None


def setup() -> dict[str, str]:
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "frameworks-env.sh")], cwd=ROOT,
                          stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.exit(f"run-frameworks: scripts/frameworks-env.sh failed (exit {proc.returncode})")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def check(tooltape: str, command: list[str], folder: str, jobs: int, timeout: int, out: Path,
          verbose: bool, faults: list[str]) -> tuple[int | None, dict | None, float, str]:
    cmd = [tooltape, "check", str(ROOT / "fixtures" / folder), "-j", str(jobs),
           "--timeout", str(timeout), "--format", "json", "--output", str(out),
           *(arg for fault in faults for arg in ("--fault", fault)), "--", *command]
    if verbose:
        print("+ " + " ".join(cmd), file=sys.stderr)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"})
    seconds = time.monotonic() - start
    try:
        report = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = None
    return proc.returncode, report, seconds, proc.stderr


def verdicts(report: dict) -> dict[str, Verdict]:
    out = {}
    for c in report.get("cassettes", []):
        status = (c.get("command") or {}).get("status") or {}
        code = status.get("code") if status.get("status") == "exited" else None
        findings = c.get("findings", [])
        by = lambda sev: sorted({f["rule"] for f in findings if f["severity"] == sev})  # noqa: E731
        out[c["name"]] = Verdict(c["name"], bool(c.get("conformant")), by("error"),
                                 by("warning"), code, findings)
    return out


def pending_rules(want: dict) -> set[str]:
    """The rules of an expectation that are tooltape false positives awaiting a fix."""
    if "pending_fix" not in want:
        return set()
    return set(want.get("pending_rules", want["rules"]))


def judge(fw: Framework, folder: str, got: dict[str, Verdict], expected: dict) -> Row:
    row = Row(fw.name, folder, cassettes=len(got))
    mine = expected.get(fw.name, {}).get(folder, {})
    for name in sorted(set(mine) - set(got)):
        row.mismatches.append(f"{name}: expected in fixtures/{folder}, but check did not run it "
                              "(moved or renamed? update tests/frameworks/expected.json)")
    for name, v in sorted(got.items()):
        want = mine.get(name)
        if want is None:
            if v.conformant and not v.rules and v.exit_code == 0:
                row.conformant += 1
            else:
                detail = "; ".join(f"{f['severity']} {f['rule']}: {f['message']}"[:200]
                                   for f in v.findings)
                shown = ", ".join(v.rules) or "no finding"
                row.mismatches.append(f"{name}: expected conformant, got {shown} "
                                      f"(exit {v.exit_code}){': ' + detail if detail else ''}")
            continue
        rules = sorted(set(want["rules"]))
        warnings = sorted(set(want.get("warnings", [])))
        errors = sorted(set(want.get("errors", set(rules) - set(warnings))))
        pending = pending_rules(want)
        if v.errors == errors and v.warnings == warnings:
            if set(rules) <= pending:
                row.pending += 1
            else:
                row.known_bugs += 1
            continue
        shown = ", ".join([*v.errors, *(f"{r} (warning)" for r in v.warnings)]) or "no finding"
        wanted = ", ".join([*errors, *(f"{r} (warning)" for r in warnings)])
        label = "pending fix" if pending else "known framework bug"
        hint = (" (a pending fix landed? update the expectation)"
                if pending and not pending & set(v.errors) else "")
        detail = "; ".join(f"{f['severity']} {f['rule']}: {f['message']}"[:200]
                           for f in v.findings
                           if f["rule"] not in (errors if f["severity"] == "error" else warnings))
        row.mismatches.append(f"{name}: expected {wanted} ({label}), got {shown} "
                              f"(exit {v.exit_code}){hint}{': ' + detail if detail else ''}")
    return row


def load_expected(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for fw, folders in doc.get("frameworks", {}).items():
        if fw not in {f.name for f in FRAMEWORKS}:
            problems.append(f"unknown framework `{fw}`")
        for folder, cassettes in folders.items():
            for name, want in cassettes.items():
                where = f"{fw} / {folder} / {name}"
                if not want.get("rules"):
                    problems.append(f"{where}: `rules` must list the expected rule ids")
                if not want.get("why"):
                    problems.append(f"{where}: `why` must say what causes the findings")
                extra = (set(want.get("warnings", [])) | set(want.get("pending_rules", []))
                         | set(want.get("errors", [])))
                if not extra <= set(want.get("rules", [])):
                    problems.append(f"{where}: `errors`, `warnings` and `pending_rules` must be "
                                    "in `rules`")
                if "pending_rules" in want and "pending_fix" not in want:
                    problems.append(f"{where}: `pending_rules` without `pending_fix`")
    if problems:
        sys.exit(f"run-frameworks: bad {path}:\n  " + "\n  ".join(problems))
    return doc["frameworks"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bin", nargs="?", help="the tooltape binary "
                        "(default: $TOOLTAPE_BIN, else target/release/tooltape)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this framework (repeatable; globs allowed)")
    parser.add_argument("--folder", action="append", choices=FOLDERS,
                        help="run only this fixture folder (repeatable)")
    parser.add_argument("-j", "--jobs", type=int, default=4,
                        help="cassettes at once within one check (default 4)")
    parser.add_argument("--parallel", type=int, default=1, metavar="N",
                        help="checks at once (default 1)")
    parser.add_argument("--timeout", type=int, default=300,
                        help="seconds one loop run may take (default 300: a loaded machine is slow)")
    parser.add_argument("--expected", type=Path, default=EXPECTED,
                        help="the expectations (default: tests/frameworks/expected.json)")
    parser.add_argument("--reports", type=Path, default=ROOT / "target" / "frameworks-reports",
                        help="where the JSON reports go (default: target/frameworks-reports)")
    parser.add_argument("--cold", action="store_true",
                        help="a fresh interpreter per Python run (default: warm forks)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="pass `--fault SPEC` to every `tooltape check` (repeatable); the "
                        "verdicts are still compared with --expected, whose default is written "
                        "for runs without faults: read each mismatch")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    tooltape = args.bin or os.environ.get("TOOLTAPE_BIN") or str(ROOT / "target/release/tooltape")
    if not (os.path.isfile(tooltape) and os.access(tooltape, os.X_OK)):
        print(f"run-frameworks: no tooltape binary at {tooltape} (cargo build --release, "
              "or pass its path)", file=sys.stderr)
        return 2
    tooltape = os.path.abspath(tooltape)
    frameworks = [f for f in FRAMEWORKS
                  if not args.only or any(fnmatch.fnmatch(f.name, o) for o in args.only)]
    if not frameworks:
        print(f"run-frameworks: no framework matches {args.only}", file=sys.stderr)
        return 2
    expected = load_expected(args.expected)
    tools = setup()

    reports = args.reports
    reports.mkdir(parents=True, exist_ok=True)
    plan = [(fw, folder) for fw in frameworks for folder in fw.folders
            if not args.folder or folder in args.folder]

    warm = WarmLoops(tools["python"], enabled=not args.cold)

    def run(item: tuple[Framework, str]) -> Row:
        fw, folder = item
        command = [tools[fw.runtime], str(LOOPS / fw.loop)]
        if fw.runtime == "python":
            command = warm.command(command[0], LOOPS / fw.loop)
        out = reports / f"{fw.name}.{folder}.json"
        code, report, seconds, stderr = check(tooltape, command, folder, args.jobs, args.timeout,
                                              out, args.verbose, args.fault)
        if report is None:
            row = Row(fw.name, folder, mismatches=[
                f"no JSON report (exit {code}):\n" + "\n".join(stderr.strip().splitlines()[-15:])])
        else:
            row = judge(fw, folder, verdicts(report), expected)
        row.seconds, row.exit_code = seconds, code
        mark = "FAIL" if row.mismatches else "ok  "
        print(f"{mark} {fw.name} over fixtures/{folder}: exit {code} in {seconds:.1f}s",
              file=sys.stderr)
        return row

    start = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
            rows = list(pool.map(run, plan))
    finally:
        warm.stop()
    wall = time.monotonic() - start

    print()
    print(f"{'framework':24} {'folder':12} {'cassettes':>9} {'conformant':>10} {'known bug':>9} "
          f"{'pending':>7} {'mismatch':>8} {'seconds':>7}")
    for r in rows:
        print(f"{r.framework:24} {r.folder:12} {r.cassettes:>9} {r.conformant:>10} "
              f"{r.known_bugs:>9} {r.pending:>7} {len(r.mismatches):>8} {r.seconds:>7.1f}")
    ran = {(r.framework, r.folder) for r in rows}
    bugs = [(fw, folder, name, want)
            for fw, folders in expected.items() for folder, cassettes in folders.items()
            for name, want in cassettes.items() if (fw, folder) in ran
            and not set(want["rules"]) <= pending_rules(want)]
    if bugs:
        print("\nKNOWN framework bugs (tests/frameworks/expected.json):")
        for fw, folder, name, want in bugs:
            real = sorted(set(want["rules"]) - pending_rules(want))
            print(f"  {fw} / {folder} / {name}: {', '.join(real)}")
    pending = [(fw, folder, name, want["pending_fix"])
               for fw, folders in expected.items() for folder, cassettes in folders.items()
               for name, want in cassettes.items() if "pending_fix" in want and (fw, folder) in ran]
    if pending:
        print("\nPENDING tooltape false positives (tests/frameworks/FALSE_POSITIVES.md):")
        for fw, folder, name, why in pending:
            print(f"  {fw} / {folder} / {name}: {why}")
    for r in rows:
        for m in r.mismatches:
            print(f"\nMISMATCH {r.framework} over fixtures/{r.folder}:\n  "
                  + m.replace("\n", "\n    "))
    failed = sum(1 for r in rows if r.mismatches)
    print(f"\nreports in {reports}; wall time {wall:.1f}s")
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
