"""`python -m tooltape ARGS…` runs the `tooltape` executable with ARGS."""

from __future__ import annotations

import os
import subprocess
import sys

from tooltape import find_tooltape_bin


def main() -> int:
    binary = find_tooltape_bin()
    if sys.platform == "win32":
        return subprocess.call([binary, *sys.argv[1:]])
    os.execv(binary, [binary, *sys.argv[1:]])
    return 0  # not reached: execv replaces the process


if __name__ == "__main__":
    raise SystemExit(main())
