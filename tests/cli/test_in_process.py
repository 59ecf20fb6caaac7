"""CLI error paths run in-process through ``cli.main``: exit codes, one-line messages, speed."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from hrvcalm.cli import main


@pytest.mark.parametrize("command", [["session", "--source", "sim"], ["app"], []])
@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_bad_port_is_a_usage_error(
    command: list[str], port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--port", port, "--no-browser"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"expected a port number 0-65535, got '{port}'" in err
    assert "Traceback" not in err


def test_a_missing_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "/no/such/file"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["hrvcalm: error: /no/such/file: no such file"]


def test_a_missing_file_answers_before_the_heavy_imports() -> None:
    """`analyze /no/such/file` must not pay for scipy.signal (about a second to import)."""
    code = (
        "import sys; from hrvcalm.cli import main; rc = main(['analyze', '/no/such/file']); "
        "print(rc, sorted(m for m in ('scipy.signal', 'matplotlib', 'neurokit2') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.split() == ["1", "[]"], result.stdout + result.stderr


@pytest.mark.parametrize(("flag", "level"), [([], logging.NOTSET), (["-v"], logging.INFO)])
def test_verbose_shows_our_info_lines(flag: list[str], level: int) -> None:
    assert main([*flag, "analyze", "/no/such/file"]) == 1
    assert logging.getLogger("hrvcalm").level == level


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["app"]),
        (["-v"], ["-v", "app"]),
        (["-v", "--port", "0"], ["-v", "app", "--port", "0"]),
        (["-v", "analyze", "x"], ["-v", "analyze", "x"]),
        (["--version"], ["--version"]),
    ],
)
def test_the_app_is_the_default_command_after_global_flags(
    argv: list[str], expected: list[str]
) -> None:
    from hrvcalm.cli import with_default_command

    assert with_default_command(argv) == expected
