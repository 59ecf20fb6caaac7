"""Fixtures for the browser tests: a real ``hrvcalm session`` server and Debian's chromium.

The browser is always ``/usr/bin/chromium`` (``apt-get install chromium``); these tests never
download one, and fail (not skip) when it is missing.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 20.0
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError as exc:  # any HTTP answer means the server is up
        exc.close()
        return True
    except OSError:  # URLError, connection refused, timeout
        return False


@pytest.fixture
def server_url() -> Iterator[str]:
    """Start ``hrvcalm session`` on a simulated strap at 4x speed; yield its base URL."""
    port = _free_port()
    cmd = [
        sys.executable, "-m", "hrvcalm", "session",
        "--source", "sim:seed=1,breaths=6",
        "--port", str(port), "--no-browser", "--speed", "4",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr)

        def stderr_text() -> str:
            stderr.seek(0)
            return stderr.read().decode("utf-8", "replace")

        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not _answers(url):
                if proc.poll() is not None:
                    pytest.fail(
                        f"server exited with code {proc.returncode} before answering:\n"
                        f"{' '.join(cmd)}\n{stderr_text()}"
                    )
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"server did not answer {url} within {SERVER_START_TIMEOUT_S:.0f} s\n"
                        f"{stderr_text()}"
                    )
                time.sleep(0.2)
            yield url
        finally:
            died = proc.poll() is not None
            if not died:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if died:
                print(f"server died (exit code {proc.returncode}); its stderr:\n{stderr_text()}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium). "
            "These tests never download a browser."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"Playwright's Python package is missing ({exc}): pip install -e '.[test]'")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Watched:
    """A page plus everything it logged and requested."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Watched]]:
    """Open pages in fresh browser contexts, recording console errors and requests."""
    contexts: list[Any] = []

    def open_(url: str, *, width: int = 1280, height: int = 900) -> Watched:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page)
        page.on(
            "console",
            lambda msg: watched.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: watched.console_errors.append(f"uncaught: {exc}"))
        page.on("request", lambda req: watched.requests.append(req.url))
        page.on("websocket", lambda ws: watched.websockets.append(ws.url))
        page.goto(url)
        return watched

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@dataclass
class ServerProcess:
    """One ``hrvcalm session`` process on a fixed port (restartable on that port)."""

    port: int
    args: list[str]
    proc: subprocess.Popen[bytes] | None = None
    log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "hrvcalm", "session", "--port", str(self.port)]
        cmd += ["--no-browser", *self.args]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _answers(self.url):
            if self.proc.poll() is not None:
                self.log.seek(0)
                err = self.log.read().decode("utf-8", "replace")
                pytest.fail(f"server exited ({self.proc.returncode}): {' '.join(cmd)}\n{err}")
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer {self.url}")
            time.sleep(0.2)

    def stop(self, *, kill: bool = False) -> int | None:
        """Stop the process (SIGKILL if ``kill``); returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        code = self.proc.returncode
        self.proc = None
        return code


@pytest.fixture
def start_server() -> Iterator[Callable[..., ServerProcess]]:
    """Start ``hrvcalm session`` servers with chosen arguments; all are stopped at the end.

    Default source: a simulated strap breathing at 6/min, 4x speed.
    """
    servers: list[ServerProcess] = []

    def start(*args: str, source: str = "sim:seed=1,breaths=6", speed: str = "4") -> ServerProcess:
        server = ServerProcess(_free_port(), ["--source", source, "--speed", speed, *args])
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def _private_session_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers started by a test store into its own database, never the user's."""
    monkeypatch.setenv("HRVCALM_DB", str(tmp_path / "sessions.db"))
