#!/usr/bin/env bash
# Creates (or reuses) the venv of the Python package test (tests/suite/pytest_plugin.rs): the
# pinned maturin and pytest of tests/pytest-sample/requirements.txt. Prints the venv's python
# path on stdout (everything else goes to stderr).
#
#   scripts/python-package-env.sh                     # venv in target/python-package-venv
#   TOOLTAPE_PACKAGE_VENV=/tmp/venv scripts/python-package-env.sh
#
# The tooltape wheel itself is not installed here: the test builds it with this maturin and
# installs it into a fresh venv of its own, which sees this venv's pytest and the SDKs of
# scripts/python-env.sh. Idempotent: a stamp in the venv holds the hash of the pin file (and
# of the interpreter); when it matches, nothing is installed.
# Needs python3 (3.9 or newer) with the venv module and access to PyPI.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pins=("$root/tests/pytest-sample/requirements.txt")
venv="${TOOLTAPE_PACKAGE_VENV:-$root/target/python-package-venv}"
python="${TOOLTAPE_PYTHON:-python3}"

die() {
    echo "python-package-env: $*" >&2
    exit 1
}

command -v "$python" >/dev/null 2>&1 ||
    die "\`$python\` not found: install Python 3.9 or newer (Debian: apt-get install python3 python3-venv), or set TOOLTAPE_PYTHON to an interpreter"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
    die "$("$python" --version 2>&1) is too old: the package needs Python 3.9 or newer"
for f in "${pins[@]}"; do [ -f "$f" ] || die "missing $f"; done

want="$("$python" - "${pins[@]}" <<'PY'
import hashlib, sys
h = hashlib.sha256(sys.version.encode())
for path in sys.argv[1:]:
    h.update(open(path, "rb").read())
print(h.hexdigest())
PY
)"
stamp="$venv/.tooltape-package.sha256"
venv_python="$venv/bin/python"

if [ -x "$venv_python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "python-package-env: $venv is up to date" >&2
    echo "$venv_python"
    exit 0
fi

if [ ! -x "$venv_python" ]; then
    echo "python-package-env: creating $venv" >&2
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv "$venv" >&2 ||
        die "\`$python -m venv\` failed: on Debian install the venv module (apt-get install python3-venv)"
fi

echo "python-package-env: installing the pinned packages into $venv" >&2
"$venv_python" -m pip install --disable-pip-version-check --quiet "${pins[@]/#/-r}" >&2 ||
    die "pip install failed (is PyPI reachable?)"
"$venv_python" - "${pins[@]}" >&2 <<'PY' || die "installed versions differ from the pin files"
import sys
from importlib.metadata import version
bad = []
for path in sys.argv[1:]:
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, pinned = line.partition("==")
        got = version(name.strip())
        if got != pinned.strip():
            bad.append(f"{path}: {name}: pinned {pinned}, installed {got}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
echo "$want" >"$stamp"
echo "$venv_python"
