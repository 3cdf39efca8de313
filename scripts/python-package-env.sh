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
# scripts/python-env.sh. The venv is made by scripts/python-env.sh with this pin file, so it is
# as idempotent (a stamp holds the hash of the pins and of the interpreter) and checks the same.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLTAPE_VENV="${TOOLTAPE_PACKAGE_VENV:-$root/target/python-package-venv}" \
    TOOLTAPE_REQUIREMENTS="$root/tests/pytest-sample/requirements.txt" \
    exec bash "$root/scripts/python-env.sh"
