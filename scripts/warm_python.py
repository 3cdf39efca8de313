#!/usr/bin/env python3
"""A warm start for Python loops run many times: import once, fork per run.

`tooltape check FOLDER -- python loop.py` starts one Python process per cassette, and an agent
framework spends most of such a run importing itself (pydantic-ai, LangGraph and the OpenAI
Agents SDK with LiteLLM take 3 to 7 CPU-seconds each, on a 2-core CI machine that is most of
the framework test). The frameworks and the loops stay exactly what they are; only the imports
are shared:

    warm_python.py serve SOCKET LOOP.py   # imports what LOOP.py imports, then serves runs
    warm_python.py run SOCKET LOOP.py     # what `check` runs: one run of LOOP.py in a fork

`serve` runs the loop's prologue once (every top-level statement before the loop imports
`_tooltape`, the module that reads the run's environment) and imports every other module the
loop imports anywhere (also inside functions, e.g. LiteLLM), then waits on a Unix socket.
Frameworks import much of themselves lazily, on first use: each run writes down the modules it
had to import (next to the socket), and the server imports them before its next fork, so the
first runs are cold and the rest warm.
`run` sends its environment, working directory and standard streams (the file descriptors
themselves) to the server, which forks; the fork takes them over, runs LOOP.py as `__main__`
and reports its exit status, which `run` exits with. When `run` dies (a timeout of `check`),
the fork sees the socket close and exits too. Standard library only; POSIX only.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import runpy
import subprocess
import tempfile
import signal
import socket
import struct
import sys
import threading
import traceback
from pathlib import Path

HEADER = struct.Struct("!I")
WARM = Path(__file__).resolve()
ENV_MODULE = "_tooltape"


def prologue_and_imports(loop: str) -> tuple[ast.Module, list[str]]:
    """The loop's top-level statements before it imports its environment module, and the
    modules it imports elsewhere."""
    with open(loop, encoding="utf-8") as f:
        tree = ast.parse(f.read(), loop)
    body: list[ast.stmt] = []
    for node in tree.body:
        if any(name == ENV_MODULE for name in imported(node)):
            break
        body.append(node)
    later = [name for node in ast.walk(tree) for name in imported(node)
             if name != ENV_MODULE]
    return ast.Module(body=body, type_ignores=[]), later


def imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def warm(loop: str) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(loop)))
    prologue, modules = prologue_and_imports(loop)
    exec(compile(prologue, loop, "exec"), {"__name__": "__warm__", "__file__": loop})
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # the run will import it, and fail there if it must
            pass


def send(conn: socket.socket, doc: dict, fds: list[int] | None = None) -> None:
    data = json.dumps(doc).encode()
    payload = HEADER.pack(len(data)) + data
    if fds:
        socket.send_fds(conn, [payload], fds)
    else:
        conn.sendall(payload)


def receive(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
    if len(data) < HEADER.size:
        raise ConnectionError("the other side closed the socket")
    (size,) = HEADER.unpack_from(data)
    while len(data) < HEADER.size + size:
        more = conn.recv(1 << 20)
        if not more:
            raise ConnectionError("the other side closed the socket mid-message")
        data += more
    return json.loads(data[HEADER.size:HEADER.size + size]), list(fds)


def serve(path: str, loop: str) -> None:
    warm(loop)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the kernel
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    print(f"warm: {loop} ready on {path} ({threading.active_count()} thread(s))",
          file=sys.stderr, flush=True)
    learned = path + ".modules"
    while True:
        conn, _ = server.accept()
        learn(learned)
        if os.fork() == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            before = set(sys.modules)
            code = one_run(conn, loop)
            write_down(learned, sorted(set(sys.modules) - before))
            os._exit(code)
        conn.close()


def learn(learned: str) -> None:
    """Imports the modules earlier runs imported, so that later forks have them."""
    try:
        with open(learned, encoding="utf-8") as f:
            names = f.read().split()
    except OSError:
        return
    for name in names:
        if name in sys.modules or name == ENV_MODULE or name.startswith("__"):
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: B036 (a module that exits on import is skipped)
            pass


def write_down(learned: str, names: list[str]) -> None:
    if not names:
        return
    with open(learned, "a", encoding="utf-8") as f:
        f.write("\n".join(names) + "\n")


def one_run(conn: socket.socket, loop: str) -> int:
    try:
        request, fds = receive(conn)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = [loop, *request["args"]]
        sys.stdin = os.fdopen(0, "r", closefd=False)
        sys.stdout = os.fdopen(1, "w", closefd=False)
        sys.stderr = os.fdopen(2, "w", closefd=False)
    except Exception:
        traceback.print_exc()
        return 70
    threading.Thread(target=exit_with_client, args=(conn,), daemon=True).start()
    code = run_loop(loop)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    try:
        send(conn, {"exit": code})
    except OSError:
        pass
    return 0


def exit_with_client(conn: socket.socket) -> None:
    """Ends this run when `run` is gone (killed by a timeout): nothing else will."""
    try:
        while conn.recv(1):
            pass
    except OSError:
        pass
    os._exit(137)


def run_loop(loop: str) -> int:
    try:
        runpy.run_path(loop, run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            return 0
        if isinstance(e.code, int):
            return e.code
        print(e.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def run(path: str, loop: str, args: list[str]) -> int:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError as e:
        print(f"warm_python: no server on {path} ({e}); start `warm_python.py serve {path} "
              f"{loop}` first", file=sys.stderr)
        return 70
    send(conn, {"env": dict(os.environ), "cwd": os.getcwd(), "args": args}, [0, 1, 2])
    try:
        reply, _ = receive(conn)
    except (ConnectionError, ValueError):
        print("warm_python: the run ended without an exit status", file=sys.stderr)
        return 70
    return int(reply["exit"])


class WarmLoops:
    """For the test runners: one warm server per Python loop file, started on first use;
    `command` gives what `check` runs (`enabled=False`: the interpreter on the loop, cold)."""

    def __init__(self, python: str, enabled: bool):
        self.python, self.enabled = python, enabled
        self.dir = Path(tempfile.mkdtemp(prefix="tooltape-warm-"))
        self.servers: dict[Path, tuple[subprocess.Popen, Path]] = {}
        self.lock = threading.Lock()  # runners call `command` from several threads

    def command(self, python: str, loop: Path) -> list[str]:
        if not self.enabled:
            return [python, str(loop)]
        with self.lock:
            return self._warm_command(python, loop)

    def _warm_command(self, python: str, loop: Path) -> list[str]:
        if loop not in self.servers:
            sock = self.dir / f"{loop.stem}.sock"
            proc = subprocess.Popen([self.python, str(WARM), "serve", str(sock), str(loop)],
                                    cwd=WARM.parent.parent, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            ready = proc.stderr.readline()
            if not ready.startswith("warm:"):
                rest = proc.stderr.read() if proc.poll() is not None else ""
                sys.exit(f"warm_python: the warm server of {loop.name} did not start:\n"
                         f"{ready}{rest}")
            self.servers[loop] = (proc, sock)
        # The client needs only the standard library: -S skips site-packages at start.
        return [python, "-S", str(WARM), "run", str(self.servers[loop][1]), str(loop)]

    def stop(self) -> None:
        for proc, _ in self.servers.values():
            proc.terminate()
        for proc, _ in self.servers.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for path in self.dir.iterdir():
            path.unlink()
        self.dir.rmdir()


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[1] not in ("serve", "run"):
        print(__doc__, file=sys.stderr)
        return 2
    command, path, loop, *rest = sys.argv[1:]
    if command == "serve":
        serve(path, loop)
        return 0
    return run(path, loop, rest)


if __name__ == "__main__":
    raise SystemExit(main())
