"""Serving beyond loopback: ``--host`` requires the access token on every request."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def _status(url: str) -> int:
    """The final status, following redirects with the cookies set on the way (a browser)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    try:
        with opener.open(url, timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


@pytest.mark.parametrize("command", ["session", "serve"])
def test_server_on_all_interfaces_refuses_requests_without_token(command: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ["--host", "0.0.0.0", "--port", str(port)]
    if command == "session":
        args += ["--source", "sim", "--no-browser"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hrvcalm", command, *args],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        token = None
        deadline = time.monotonic() + 30
        while token is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"token[=:] ?([A-Za-z0-9_-]{16,})", line)
            if match:
                token = match.group(1)
        assert token, "".join(lines)
        if command == "session":
            lines.append(proc.stderr.readline())
            assert "every request needs the access token" in lines[-1]
        path = "/" if command == "session" else "/sessions"
        base = f"http://127.0.0.1:{port}{path}"
        assert _status(base) == 401
        assert _status(base + "?token=wrong-token-wrong") == 401
        assert _status(base + f"?token={token}") == 200
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()
