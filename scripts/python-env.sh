#!/usr/bin/env bash
# Creates (or reuses) the Python venv the example loops and the serve smoke test run in, with
# the pinned SDK versions from tests/python/requirements.txt, and prints the venv's python path
# on stdout (everything else goes to stderr).
#
#   scripts/python-env.sh                  # venv in target/python-venv
#   TOOLTAPE_VENV=/tmp/venv scripts/python-env.sh
#   PY=$(scripts/python-env.sh) && "$PY" examples/loops/openai_sequential.py
#
# Other scripts make their own venvs with it: TOOLTAPE_REQUIREMENTS names another pin file
# (scripts/python-package-env.sh).
#
# Idempotent: a stamp file in the venv holds the hash of the requirements file (and of the
# interpreter); when it matches, nothing is installed. Needs python3 (3.9 or newer) with the
# venv module (Debian: apt-get install python3 python3-venv) and access to PyPI.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="${TOOLTAPE_REQUIREMENTS:-$root/tests/python/requirements.txt}"
venv="${TOOLTAPE_VENV:-$root/target/python-venv}"
python="${TOOLTAPE_PYTHON:-python3}"

die() {
    echo "python-env: $*" >&2
    exit 1
}

command -v "$python" >/dev/null 2>&1 ||
    die "\`$python\` not found: install Python 3.9 or newer (Debian: apt-get install python3 python3-venv), or set TOOLTAPE_PYTHON to an interpreter"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
    die "$("$python" --version 2>&1) is too old: Python 3.9 or newer is needed"
[ -f "$requirements" ] || die "missing $requirements"

hash_of() {
    # sha256 of the requirements plus the interpreter's version, without relying on sha256sum.
    "$python" - "$requirements" <<'PY'
import hashlib, sys
h = hashlib.sha256(open(sys.argv[1], "rb").read())
h.update(sys.version.encode())
print(h.hexdigest())
PY
}

want="$(hash_of)"
stamp="$venv/.tooltape-requirements.sha256"
venv_python="$venv/bin/python"

if [ -x "$venv_python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "python-env: $venv is up to date" >&2
    echo "$venv_python"
    exit 0
fi

if [ ! -x "$venv_python" ]; then
    echo "python-env: creating $venv" >&2
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv" >&2 ||
        die "\`$python -m venv\` failed: on Debian install the venv module (apt-get install python3-venv)"
fi

echo "python-env: installing $(grep -cv '^\s*\(#\|$\)' "$requirements") pinned packages into $venv" >&2
"$venv_python" -m pip install --disable-pip-version-check --quiet -r "$requirements" >&2 ||
    die "pip install failed (is PyPI reachable?)"
# Check that what got installed is what was pinned before writing the stamp.
"$venv_python" - "$requirements" >&2 <<'PY' || die "installed versions differ from $requirements"
import sys
from importlib.metadata import version
bad = []
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, pinned = line.partition("==")
    got = version(name.strip())
    if got != pinned.strip():
        bad.append(f"{name}: pinned {pinned}, installed {got}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
echo "$want" >"$stamp"
echo "$venv_python"
