#!/usr/bin/env python3
"""Regenerate the recorded fixtures with `tooltape import`, then fixtures/PROVENANCE.md and
fixtures/NOTICE.

Reading the recordings (every format quirk) is the binary's job; this script only chooses
them and writes provenance. `scripts/fixture-plan.json` lists, per recording under
`reference/recordings`, the cassettes it yields with their descriptions (and a note where one
is worth adding), and the request file to use for a recording that has only its response. The
licence, repository, upstream path and commit come from the reference PROVENANCE.md. The
suite's `import` tests re-import the same plan and check that the bundled cassettes are
reproduced.

Usage:
    cargo build && python3 scripts/import_fixtures.py [--recordings DIR] [--bin PATH]

The hand-made cassettes are written by scripts/make_handmade.py; fixtures/nonconformant/ is
kept as it is (recorded-anthropic-orphan-tool-result.json holds the real 400 follow-up of
anthropic-sdk-error-tool_result-without-tool_use).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
PLAN = REPO / "scripts" / "fixture-plan.json"
DEFAULT_RECORDINGS = REPO.parent / "shared" / "reference" / "recordings"
PROVIDERS = ("openai-chat", "anthropic", "openai-responses", "gemini")


def read_provenance(recordings: Path) -> dict[str, dict[str, str]]:
    text = (recordings / "PROVENANCE.md").read_text(encoding="utf-8")
    out: dict[str, dict[str, str]] = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        head = re.match(r"`([^`]+)`", section)
        src = re.search(r"^- Source: `([^`]+)` — `([^`]+)`", section, flags=re.M)
        commit = re.search(r"^- Snapshot commit: `([0-9a-f]{40})`", section, flags=re.M)
        lic = re.search(r"^- License: (\S+)", section, flags=re.M)
        if head and src and commit and lic:
            out[head.group(1)] = {"repository": src.group(1), "path": src.group(2),
                                  "commit": commit.group(1), "license": lic.group(1)}
    return out


def dump(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def regenerate(recordings: Path, binary: Path) -> None:
    plan = json.loads(PLAN.read_text(encoding="utf-8"))
    prov = read_provenance(recordings)
    for recording, entry in plan.items():
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [str(binary), "import", str(recordings / recording), "--out", tmp]
            if "request" in entry:
                cmd += ["--request", entry["request"]]
            run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
            if run.returncode != 0:
                sys.exit(f"{recording}: tooltape import failed:\n{run.stdout}{run.stderr}")
            for name, want in entry["cassettes"].items():
                made = list(Path(tmp).glob(f"*/{name}.json"))
                if len(made) != 1:
                    sys.exit(f"{recording}: import made no cassette `{name}`:\n{run.stdout}")
                cas = json.loads(made[0].read_text(encoding="utf-8"))
                cas["description"] = want["description"]
                src, made_source = prov[recording], cas["source"]
                notes = made_source["notes"] + (" " + want["note"] if "note" in want else "")
                # The key order of the cassette format, so the file reads as tooltape writes it.
                cas["source"] = {"kind": made_source["kind"], "repository": src["repository"],
                                 "path": src["path"], "commit": src["commit"], "license": src["license"],
                                 "format": made_source["format"], "notes": notes}
                out = FIXTURES / made[0].parent.name / made[0].name
                out.write_text(dump(cas), encoding="utf-8")
                print(f"wrote {out.relative_to(REPO)}")


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
        tags = [it["response"]["body"]["type"].upper()]
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
        "Cassettes under `fixtures/` (tooltape format v1). `recorded` cassettes are imported from the",
        "public recordings collected in `reference/recordings` (see its PROVENANCE.md) by `tooltape import`",
        "(`scripts/import_fixtures.py` chooses the recordings, following `scripts/fixture-plan.json`, and",
        "writes the provenance); `hand-made` ones are written for shapes no recording has (generated by",
        "`scripts/make_handmade.py`). Every synthesised request or response is marked",
        "`\"synthetic\": true` in the cassette and described in the cassette's `source.notes`.",
        "",
        "Recorded responses are verbatim unless a cassette's notes say otherwise (SSE bodies are split into",
        "frames at each blank line; the frames concatenate to the recorded body byte for byte). Request",
        "bodies are kept as JSON values. Headers are not stored, nor URLs, except the request path of a",
        "provider whose path says what the body does not (Gemini: the model, and `?alt=sse` for a stream).",
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
        used = any(cas.get("source", {}).get("repository") == repo for _, cas in cassettes + nonconformant)
        suffix = "" if used else " (no fixture here derives from it yet; listed for completeness)"
        lines.append(f"  - `{repo}`: {line}{suffix}")
    lines += ["", "  MIT permission notice (applies to each of the MIT copyright lines above):", ""]
    lines += ["  > " + l if l else "  >" for l in MIT_PERMISSION.split("\n")]
    lines += ["", "## Cassettes", ""]
    for path, cas in cassettes:
        src = cas["source"]
        lines += [f"### `{path.relative_to(FIXTURES)}`", "", f"- {cas['description']}"]
        if src["kind"] == "recorded":
            lines += [f"- Source: `{src['repository']}`, `{src['path']}`", f"- Commit: `{src['commit']}`",
                      f"- Licence: {src['license']}", f"- Imported from: {src.get('format', '')}"]
        else:
            lines.append("- Source: hand-made for tooltape (no upstream recording).")
        lines.append(f"- Interactions: {shape_summary(cas)}")
        if cas.get("tools"):
            lines.append(f"- Tool simulation: `{json.dumps(cas['tools'], ensure_ascii=False)}`")
        lines += [f"- Notes: {src.get('notes', '')}", ""]
    lines += ["## Non-conformant requests", ""]
    for path, doc in nonconformant:
        src = doc.get("source", {})
        lines += [f"### `{path.relative_to(FIXTURES)}`", "",
                  f"- Rule: {doc['rule']}; cassette: `{doc['cassette']}`", f"- {doc.get('description', '')}"]
        if src.get("kind") == "recorded":
            lines += [f"- Source: `{src['repository']}`, `{src['path']}`", f"- Commit: `{src['commit']}`",
                      f"- Licence: {src['license']}"]
        lines += [f"- Notes: {src.get('notes', '')}", ""]
    (FIXTURES / "PROVENANCE.md").write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")


def write_notice(cassettes: list[tuple[Path, dict]]) -> None:
    derived = [str(p.relative_to(FIXTURES)) for p, cas in cassettes
               if cas["source"].get("repository") == "charmbracelet/fantasy"]
    text = "\n".join([
        "tooltape test fixtures", "",
        "The following fixtures are derived from recordings in charmbracelet/fantasy",
        "(https://github.com/charmbracelet/fantasy), licensed under the Apache License, Version 2.0:", "",
        *[f"  fixtures/{d}" for d in derived], "",
        "The NOTICE file of charmbracelet/fantasy reads:", "",
        "----------------------------------------------------------------------",
        "Fantasy", "Copyright 2025-2026 Charmbracelet, Inc.", "",
        "Part of the Charm open source ecosystem.", "",
        "This product includes software developed by Charmbracelet, Inc.", "(https://charm.land)",
        "----------------------------------------------------------------------", "",
        "Attribution for the other sources (MIT copyright notices, Apache-2.0 sources without a NOTICE)",
        "is in fixtures/PROVENANCE.md.", "",
    ])
    (FIXTURES / "NOTICE").write_text(text, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recordings", type=Path, default=DEFAULT_RECORDINGS)
    ap.add_argument("--bin", type=Path, default=REPO / "target" / "debug" / "tooltape")
    args = ap.parse_args()
    if not (args.recordings / "PROVENANCE.md").is_file():
        sys.exit(f"{args.recordings}: not the reference recordings (no PROVENANCE.md); pass --recordings DIR")
    regenerate(args.recordings, args.bin)
    check = subprocess.run([str(args.bin), "validate", str(FIXTURES)], capture_output=True, text=True)
    if check.returncode != 0:
        sys.exit(f"tooltape validate fixtures/ failed:\n{check.stdout}{check.stderr}")
    cassettes = [(p, json.loads(p.read_text(encoding="utf-8")))
                 for provider in PROVIDERS for p in sorted((FIXTURES / provider).glob("*.json"))]
    nonconformant = [(p, json.loads(p.read_text(encoding="utf-8")))
                     for p in sorted((FIXTURES / "nonconformant").glob("*.json"))]
    write_provenance(cassettes, nonconformant)
    write_notice(cassettes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
