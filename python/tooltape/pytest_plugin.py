"""The tooltape pytest plugin: a marker and a fixture that run a test as `tooltape check` does.

    @pytest.mark.tooltape("fixtures/openai-chat/fantasy-gpt-4o-parallel2-followup.json")
    def test_my_loop(tooltape):
        run_my_agent(base_url=tooltape.openai_base_url, prompt=tooltape.prompt,
                     tools_url=tooltape.tools_url)

The `tooltape` fixture starts `tooltape check CASSETTE` for the test, with a small bridge as
the command under test: the bridge hands the session's environment (the whole contract of
`check`, as `tooltape.env`) to the test and stays alive while the test runs. When the test
returns, the bridge ends, and `check` judges everything the test sent, exactly as it judges a
loop it ran itself: the same replay server, barrier and timing rules, the same verdict. Any
finding that fails the cassette fails the test, with tooltape's report as the message.

Paths in the marker are files or folders, relative to pytest's rootdir; a folder (or several
paths) parametrizes the test over its cassettes, one test id per cassette name. Options:
`--tooltape-strict` (warnings fail too), `--tooltape-junit FILE` (tooltape's JUnit report of
every marked test in one file), `--tooltape-timeout SECS`, `--tooltape-bin PATH`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest

from tooltape import find_tooltape_bin

MARKER = "tooltape"

# How long `check` may take to start a session, and to judge it once the test is done.
START_TIMEOUT_S = 60.0
JUDGE_TIMEOUT_S = 60.0

# The command `check` runs for a test: it connects back to the plugin, sends its environment
# and waits until the plugin closes the connection (the test is over). Run with `-S`, so
# nothing but the standard library is imported and startup stays in the milliseconds.
BRIDGE = """\
import json, os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall((json.dumps({"token": sys.argv[2], "env": dict(os.environ)}) + "\\n").encode())
while s.recv(65536):
    pass
"""

# The part of the plugin's environment `check` is started with. `check` passes its own
# environment on to the command with the contract added, so what the bridge sees beyond these
# is exactly the contract. NO_PROXY is passed so that `check` extends it as it does for a loop.
PASSED_ENV = ("PATH", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP", "NO_PROXY", "no_proxy")

_SESSION = pytest.StashKey["TooltapeSession"]()
_JUNIT = pytest.StashKey[list]()
_DISCOVERED = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tooltape", "tooltape replay and conformance")
    group.addoption(
        "--tooltape-strict",
        action="store_true",
        help="tooltape's strict profile: warnings (e.g. results out of call order) fail too",
    )
    group.addoption(
        "--tooltape-junit",
        metavar="FILE",
        help="write tooltape's JUnit report of every tooltape test to FILE",
    )
    group.addoption(
        "--tooltape-timeout",
        type=float,
        default=600.0,
        metavar="SECS",
        help="seconds a tooltape test may take before its session is ended (default 600)",
    )
    group.addoption(
        "--tooltape-bin",
        metavar="PATH",
        help="the tooltape executable (default: the one this package installed, or $TOOLTAPE_BIN)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tooltape(*paths, require=()): run the test against the replay server of each cassette "
        "in paths (files or folders, relative to the rootdir); the `tooltape` fixture is the "
        "session, judged when the test ends. require: optional loop capabilities, as "
        "`tooltape check --require`.",
    )
    config.stash[_JUNIT] = []


def _binary(config: pytest.Config) -> str:
    return config.getoption("--tooltape-bin") or find_tooltape_bin()


def _marker_paths(config: pytest.Config, marker: pytest.Mark) -> list[Path]:
    if not marker.args:
        raise pytest.UsageError(
            "@pytest.mark.tooltape needs at least one cassette file or folder, e.g. "
            '@pytest.mark.tooltape("fixtures/openai-chat")'
        )
    return [Path(config.rootpath, p) for p in marker.args]


@dataclass(frozen=True)
class _Cassette:
    path: Path
    name: str


def _discover(config: pytest.Config, paths: list[Path]) -> list[_Cassette]:
    """The cassettes below `paths`, as the binary finds them (`tooltape validate`)."""
    cache = config.stash.setdefault(_DISCOVERED, {})
    key = tuple(str(p) for p in paths)
    if key not in cache:
        out = subprocess.run(
            [_binary(config), "validate", *key, "--format", "json"],
            capture_output=True,
            text=True,
        )
        try:
            listing = json.loads(out.stdout)
        except ValueError:
            raise pytest.UsageError(
                f"tooltape cannot list the cassettes of {', '.join(key)}:\n{out.stderr.strip()}"
            ) from None
        cache[key] = [_Cassette(Path(c["path"]), c["name"]) for c in listing["cassettes"]]
    return cache[key]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "tooltape" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    paths = _marker_paths(metafunc.config, marker)
    if len(paths) == 1 and paths[0].is_file():
        return
    cassettes = _discover(metafunc.config, paths)
    metafunc.parametrize(
        "tooltape", cassettes, indirect=True, ids=[c.name for c in cassettes]
    )


@pytest.fixture
def tooltape(request: pytest.FixtureRequest) -> "TooltapeSession":
    """The replay session of the test's cassette (see `TooltapeSession`); the test is judged
    when it returns."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        raise pytest.UsageError(
            f"{request.node.nodeid} uses the `tooltape` fixture without a "
            '@pytest.mark.tooltape("CASSETTE-OR-FOLDER") marker'
        )
    cassette = getattr(request, "param", None)
    path = cassette.path if cassette else _marker_paths(request.config, marker)[0]
    session = TooltapeSession._start(request.config, path, tuple(marker.kwargs.get("require", ())))
    request.node.stash[_SESSION] = session
    try:
        yield session
    finally:
        session._close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    session = item.stash.get(_SESSION, None)
    if session is None:
        return (yield)
    try:
        result = yield
    except (pytest.skip.Exception, pytest.xfail.Exception, KeyboardInterrupt):
        session._close()
        raise
    except BaseException as raised:
        verdict = session._judge(item)
        if verdict.fails:
            raise pytest.fail.Exception(verdict.message, pytrace=False) from raised
        raise
    verdict = session._judge(item)
    if verdict.fails:
        pytest.fail(verdict.message, pytrace=False)
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--tooltape-junit")
    if path and not hasattr(session.config, "workerinput"):
        _write_junit(Path(path), session.config.stash[_JUNIT])


@dataclass
class _Verdict:
    fails: bool
    message: str
    rules: list[str] = field(default_factory=list)


class TooltapeSession:
    """One replay session: the environment `tooltape check` gives a loop, for the test.

    `env` is the whole contract as a dict (pass it to a subprocess, or set it with `setenv`);
    the attributes are its common entries.
    """

    env: dict[str, str]

    def __init__(self, cassette_path: Path, env: dict[str, str]) -> None:
        self.cassette_path = cassette_path
        self.env = env
        self._process: Optional[subprocess.Popen] = None
        self._connection: Optional[socket.socket] = None
        self._work: Optional[Path] = None
        self._junit: Optional[Path] = None
        self._judged = False

    # --- the contract -------------------------------------------------------------------

    @property
    def cassette(self) -> str:
        """The cassette's name."""
        return self.env["TOOLTAPE_CASSETTE"]

    @property
    def provider(self) -> str:
        """`openai-chat`, `openai-responses`, `anthropic` or `gemini`."""
        return self.env["TOOLTAPE_PROVIDER"]

    @property
    def stream(self) -> bool:
        """Whether the recording was streamed (the loop may ask for either mode)."""
        return self.env["TOOLTAPE_STREAM"] == "true"

    @property
    def url(self) -> str:
        """The session root."""
        return self.env["TOOLTAPE_URL"]

    @property
    def openai_base_url(self) -> str:
        """The base URL for the `openai` SDKs (Chat Completions and Responses)."""
        return self.env["OPENAI_BASE_URL"]

    @property
    def anthropic_base_url(self) -> str:
        """The base URL for the `anthropic` SDKs."""
        return self.env["ANTHROPIC_BASE_URL"]

    @property
    def gemini_base_url(self) -> str:
        """The base URL for the `google-genai` SDKs (they append `/v1beta/…`)."""
        return self.env["GOOGLE_GEMINI_BASE_URL"]

    @property
    def tools_url(self) -> str:
        """`POST {tools_url}/{name}` with the arguments as JSON runs a simulated tool."""
        return self.env["TOOLTAPE_TOOLS_URL"]

    @property
    def prompt(self) -> str:
        """The first user message to send."""
        return self.env["TOOLTAPE_PROMPT"]

    @property
    def model(self) -> str:
        """The model the recording asked for."""
        return self.env["TOOLTAPE_MODEL"]

    @property
    def system_prompt(self) -> str:
        """The recorded system (or developer) prompt, empty when there is none."""
        return self.env["TOOLTAPE_SYSTEM_PROMPT"]

    @property
    def tools(self) -> list:
        """The recorded tool definitions, in the provider's own shape (`tools=`)."""
        return json.loads(Path(self.env["TOOLTAPE_TOOLS_FILE"]).read_text(encoding="utf-8"))

    @property
    def messages(self) -> list:
        """The recorded first request's whole message list (system prompt and opening)."""
        return json.loads(Path(self.env["TOOLTAPE_MESSAGES_FILE"]).read_text(encoding="utf-8"))

    @property
    def sequential_tools(self) -> list[str]:
        """Tools with side effects: run their calls one at a time, in call order."""
        return [t for t in self.env["TOOLTAPE_SEQUENTIAL_TOOLS"].split(",") if t]

    def setenv(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Sets the whole contract in this process's environment for the test, so SDK
        clients made without arguments (`openai.OpenAI()`) reach the replay server."""
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)

    def call_tool(
        self, name: str, arguments: str, call_id: Optional[str] = None, timeout: float = 30.0
    ) -> tuple[bool, str]:
        """Runs one call through the tool endpoint: `(True, output)`, or `(False, error
        text)` when the tool fails (HTTP 500) or no call of the turn matches (404)."""
        headers = {"content-type": "application/json"}
        if call_id:
            headers["tooltape-call-id"] = call_id
        url = f"{self.tools_url}/{urllib.parse.quote(name, safe='')}"
        request = urllib.request.Request(url, arguments.encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return True, response.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return False, e.read().decode("utf-8", errors="replace")

    # --- the session's life -------------------------------------------------------------

    @classmethod
    def _start(
        cls, config: pytest.Config, cassette: Path, require: tuple[str, ...]
    ) -> "TooltapeSession":
        work = Path(tempfile.mkdtemp(prefix="tooltape-pytest-"))
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        token = secrets.token_hex(16)
        args = [
            _binary(config),
            "check",
            str(cassette),
            "--format",
            "json",
            "--output",
            str(work / "report.json"),
            "--report-to",
            f"human={work / 'report.txt'}",
            "--timeout",
            str(max(1, int(config.getoption("--tooltape-timeout")))),
        ]
        if config.getoption("--tooltape-junit"):
            args += ["--report-to", f"junit={work / 'report.xml'}"]
        if config.getoption("--tooltape-strict"):
            args += ["--profile", "strict"]
        for capability in require:
            args += ["--require", capability]
        args += ["--", sys.executable, "-S", "-c", BRIDGE, str(listener.getsockname()[1]), token]
        passed = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        log = open(work / "check.log", "wb")
        try:
            process = subprocess.Popen(
                args, env=passed, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        finally:
            log.close()
        try:
            connection, sent = _accept(listener, process, token)
        except BaseException:
            process.kill()
            process.wait()
            report = _read_json(work / "report.json")
            log_text = (work / "check.log").read_text(errors="replace")
            shutil.rmtree(work, ignore_errors=True)
            skipped = (report or {}).get("skipped") or []
            if skipped and not (report or {}).get("cassettes"):
                pytest.skip(f"tooltape: {skipped[0]['name']}: {skipped[0]['reason']}")
            raise RuntimeError(
                f"tooltape check did not start a session for {cassette}:\n{log_text.strip()}"
            ) from None
        finally:
            listener.close()
        env = {k: v for k, v in sent.items() if passed.get(k) != v}
        session = cls(cassette, env)
        session._process = process
        session._connection = connection
        session._work = work
        return session

    def _judge(self, item: pytest.Item) -> _Verdict:
        """Ends the session and reads tooltape's verdict on everything the test sent."""
        self._judged = True
        code = self._end()
        work = self._work
        report = _read_json(work / "report.json") if work else None
        human = (work / "report.txt").read_text(errors="replace") if work else ""
        junit = work / "report.xml" if work else None
        if junit and junit.exists():
            item.config.stash[_JUNIT].append((item.nodeid, junit.read_text()))
        if report is None:
            log = (work / "check.log").read_text(errors="replace") if work else ""
            return _Verdict(True, f"tooltape check wrote no report (exit code {code}):\n{log}")
        rules = sorted(
            {f["rule"] for c in report["cassettes"] for f in c["findings"]}
        )
        item.user_properties.append(("tooltape_cassette", self.cassette))
        item.user_properties.append(("tooltape_rules", " ".join(rules)))
        if code == 0:
            return _Verdict(False, "", rules)
        silent = all(c.get("requests") == 0 for c in report["cassettes"])
        return _Verdict(True, _failure_text(self, human, silent), rules)

    def _end(self) -> Optional[int]:
        """Closes the bridge's connection (the command under test ends) and waits for
        `check`; returns its exit code."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        process = self._process
        if process is None:
            return None
        try:
            return process.wait(timeout=JUDGE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def _close(self) -> None:
        if not self._judged:
            self._end()
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None


def _accept(
    listener: socket.socket, process: subprocess.Popen, token: str
) -> tuple[socket.socket, dict[str, str]]:
    """Waits for the bridge to connect and send its environment, while `check` runs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    listener.settimeout(0.05)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ChildProcessError(f"tooltape check ended with {process.returncode}")
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            continue
        connection.settimeout(START_TIMEOUT_S)
        data = b""
        while not data.endswith(b"\n"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
        try:
            message = json.loads(data)
        except ValueError:
            connection.close()
            continue
        if message.get("token") != token:
            connection.close()
            continue
        connection.settimeout(None)
        return connection, message["env"]
    raise TimeoutError(f"no session within {START_TIMEOUT_S:g} s")


def _read_json(path: Path) -> Optional[dict[str, Any]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _failure_text(session: TooltapeSession, human: str, silent: bool) -> str:
    """tooltape's human report, as the message of a failed test. The lines about the command
    under test are left out: here the command is the plugin's bridge, the test is the loop."""
    lines = [
        line
        for line in human.splitlines()
        if not line.lstrip().startswith("command: the command ")
    ]
    if silent:
        head = (
            f"tooltape: the test sent no request to the replay server of `{session.cassette}` "
            "(pass tooltape.openai_base_url, .anthropic_base_url or .gemini_base_url to the "
            "loop, or tooltape.env to its process)"
        )
    else:
        head = f"tooltape: the test's loop is not conformant on `{session.cassette}` ({session.cassette_path})"
    return head + "\n" + "\n".join(lines).strip("\n")


def _write_junit(path: Path, reports: list[tuple[str, str]]) -> None:
    """One JUnit file from each test's tooltape JUnit report: every testcase, named by the
    pytest node id that ran it, in one `tooltape` suite."""
    cases = []
    for nodeid, text in reports:
        for case in ET.fromstring(text).iter("testcase"):
            case.set("name", nodeid)
            cases.append(case)
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }
    root = ET.Element("testsuites", {"name": "tooltape", **{k: str(v) for k, v in counts.items()}})
    suite = ET.SubElement(root, "testsuite", {"name": "tooltape", **{k: str(v) for k, v in counts.items()}})
    suite.extend(cases)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
