"""tooltape for Python: the `tooltape` executable this wheel installs, and a pytest plugin.

The executable is the whole product: `tooltape run|check|serve|…` as the README describes. The
pytest plugin (`tooltape.pytest_plugin`, loaded by pytest through the `pytest11` entry point)
runs each marked test under `tooltape check`, so a test gets the same replay server, the same
environment and the same verdict as a loop run by `tooltape check`.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig

__all__ = ["find_tooltape_bin"]


def find_tooltape_bin() -> str:
    """The path of the `tooltape` executable: `$TOOLTAPE_BIN` when set, else the one this
    package installed beside the interpreter's scripts, else the first one on the PATH."""
    exe = "tooltape.exe" if sys.platform == "win32" else "tooltape"
    override = os.environ.get("TOOLTAPE_BIN")
    if override:
        return override
    candidates = [os.path.join(sysconfig.get_path("scripts"), exe)]
    user_scheme = {"nt": "nt_user", "posix": "posix_user"}.get(os.name)
    if user_scheme and user_scheme in sysconfig.get_scheme_names():
        candidates.append(os.path.join(sysconfig.get_path("scripts", scheme=user_scheme), exe))
    for path in candidates:
        if os.path.isfile(path):
            return path
    found = shutil.which(exe)
    if found:
        return found
    raise FileNotFoundError(
        f"the `{exe}` executable was not found in {', '.join(candidates)} nor on the PATH: "
        "reinstall the package (`pip install tooltape`) or set TOOLTAPE_BIN to its path"
    )
