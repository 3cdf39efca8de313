#!/usr/bin/env bash
# Installs (or reuses) the pinned agent frameworks that scripts/run-frameworks.py runs through
# `tooltape check`, and prints what the runner needs on stdout, one `key=value` a line
# (everything else goes to stderr):
#
#   python=/…/target/frameworks-venv/bin/python     pydantic-ai (with google-genai), openai-agents,
#                                                   LangGraph, the Anthropic SDK's tool runner
#   node=/usr/bin/node                              the Vercel AI SDK, installed in
#   node_modules=/…/examples/frameworks/node_modules  (beside its package.json)
#
#   scripts/frameworks-env.sh                # install what changed, print the paths
#   scripts/frameworks-env.sh --relock       # re-resolve requirements.txt, rewrite constraints.txt
#   TOOLTAPE_FRAMEWORKS_VENV=/tmp/venv scripts/frameworks-env.sh
#
# Python: tests/frameworks/requirements.txt pins the frameworks, tests/frameworks/constraints.txt
# every transitive dependency. Node: examples/frameworks/package.json and package-lock.json,
# installed with `npm ci`. Idempotent: a stamp beside each install holds the hash of its pin
# files (and of the interpreter); when it matches, nothing is installed. Needs python3 (3.10 or
# newer, with venv), node 18 or newer with npm, and access to PyPI and the npm registry.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/tests/frameworks/requirements.txt"
constraints="$root/tests/frameworks/constraints.txt"
node_project="$root/examples/frameworks"
venv="${TOOLTAPE_FRAMEWORKS_VENV:-$root/target/frameworks-venv}"
python="${TOOLTAPE_PYTHON:-python3}"
relock=false
[ "${1:-}" = "--relock" ] && relock=true

die() {
    echo "frameworks-env: $*" >&2
    exit 1
}

sha256_of() {
    # sha256 of the given files plus the interpreter's version, without relying on sha256sum.
    "$python" - "$@" <<'PY'
import hashlib, sys
h = hashlib.sha256(sys.version.encode())
for path in sys.argv[1:]:
    h.update(open(path, "rb").read())
print(h.hexdigest())
PY
}

# --- Python -----------------------------------------------------------------------------------

command -v "$python" >/dev/null 2>&1 ||
    die "\`$python\` not found: install Python 3.10 or newer (Debian: apt-get install python3 python3-venv)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
    die "$("$python" --version 2>&1) is too old: the frameworks need Python 3.10 or newer"
[ -f "$requirements" ] || die "missing $requirements"
[ -f "$constraints" ] || relock=true

venv_python="$venv/bin/python"
stamp="$venv/.tooltape-frameworks.sha256"
if [ -x "$venv_python" ] && ! $relock && [ -f "$stamp" ] &&
    [ "$(cat "$stamp")" = "$(sha256_of "$requirements" "$constraints")" ]; then
    echo "frameworks-env: $venv is up to date" >&2
else
    if $relock; then
        echo "frameworks-env: resolving $requirements afresh into $venv" >&2
        rm -rf "$venv"
    fi
    if [ ! -x "$venv_python" ]; then
        echo "frameworks-env: creating $venv" >&2
        mkdir -p "$(dirname "$venv")"
        "$python" -m venv "$venv" >&2 ||
            die "\`$python -m venv\` failed: on Debian install the venv module (apt-get install python3-venv)"
    fi
    pip=("$venv_python" -m pip install --disable-pip-version-check --quiet -r "$requirements")
    $relock || pip+=(-c "$constraints")
    echo "frameworks-env: installing the pinned frameworks into $venv" >&2
    "${pip[@]}" >&2 || die "pip install failed (is PyPI reachable?)"
    if $relock; then
        {
            echo "# Every package of the frameworks venv, as resolved from requirements.txt by"
            echo "# \`scripts/frameworks-env.sh --relock\` (pip freeze). Do not edit by hand."
            "$venv_python" -m pip freeze --disable-pip-version-check --exclude-editable
        } >"$constraints"
        echo "frameworks-env: wrote $constraints" >&2
    fi
    # What got installed must be what was pinned, before the stamp says so.
    "$venv_python" - "$requirements" "$constraints" >&2 <<'PY' || die "installed versions differ from the pins"
import re, sys
from importlib.metadata import PackageNotFoundError, version
bad = []
for path in sys.argv[1:]:
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, pinned = line.partition("==")
        name = re.sub(r"\[.*\]", "", name).strip()
        try:
            got = version(name)
        except PackageNotFoundError:
            got = "nothing"
        if got != pinned.strip():
            bad.append(f"{name}: pinned {pinned.strip()}, installed {got} ({path})")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
    sha256_of "$requirements" "$constraints" >"$stamp"
fi

# --- Node -------------------------------------------------------------------------------------

command -v node >/dev/null 2>&1 || die "\`node\` not found: install Node.js 18 or newer (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || die "\`npm\` not found: install npm (Debian: apt-get install npm)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
    die "node $(node --version) is too old: the Vercel AI SDK needs Node.js 18 or newer"
[ -f "$node_project/package-lock.json" ] || die "missing $node_project/package-lock.json"

node_modules="$node_project/node_modules"
node_stamp="$node_modules/.tooltape-frameworks.sha256"
node_want="$(sha256_of "$node_project/package.json" "$node_project/package-lock.json")"
if [ -f "$node_stamp" ] && [ "$(cat "$node_stamp")" = "$node_want" ]; then
    echo "frameworks-env: $node_modules is up to date" >&2
else
    echo "frameworks-env: npm ci in $node_project" >&2
    (cd "$node_project" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
        die "npm ci failed (is the npm registry reachable?)"
    echo "$node_want" >"$node_stamp"
fi

echo "python=$venv_python"
echo "node=$(command -v node)"
echo "node_modules=$node_modules"
