"""Hostile inputs, family "budgets, not hangs" (issue 18, item 4): every hostile
input ends within a bound, as a finding or a "could not check" (exit 2) naming it.

Each test runs the real command line in a process with a 10 s bound.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI, as ``tests/conftest.py``'s ``velro()``, bounded to 10 s."""
    return subprocess.run([sys.executable, "-m", "velro_policy", *args], cwd=str(cwd), capture_output=True, text=True,
                          timeout=10)


@pytest.mark.parametrize("value", ["a" * 200_000, "ab" * 100_000, "http://" + "a" * 200_000, "aB3" * 70_000,
                                   "https://x:" + "y" * 200_000 + "@h"])
def test_masking_is_linear(value: str) -> None:
    """A 200 KB value took 69 s: the URL-password regex retried the scheme at every position."""
    from velro_policy.model import Unknown
    from velro_policy.values.masking import mask_url_userinfo, scrub, show

    start = time.perf_counter()
    show("DEBUG", value)
    show("DEBUG", [value])
    show("DEBUG", Unknown(value))
    scrub(value)
    mask_url_userinfo(value)
    assert time.perf_counter() - start < 1.0


def test_a_200kb_value_is_linted_quickly(tmp_path: Path) -> None:
    (tmp_path / ".env.production").write_text("ENVIRONMENT=production\nDEBUG=" + "a" * 200_000 + "\n")
    res = run(["lint", ".env.production"], tmp_path)
    assert res.returncode == 1, res.stderr
    assert "velro/debug-disabled" in res.stdout
    assert "a" * 100 not in res.stdout


def test_interpolation_that_doubles_per_line_stops_at_the_cap(tmp_path: Path) -> None:
    """26 lines of ``A=${A}${A}`` made 33 M characters (killed at 120 s)."""
    lines = ["ENVIRONMENT=production", "DEBUG=false", "A=xxxxxxxxxx", *["A=${A}${A}"] * 26, "B=${A}"]
    (tmp_path / ".env.production").write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    res = run(["lint", ".env.production"], tmp_path)
    assert time.perf_counter() - start < 10
    assert res.returncode == 2, res.stdout + res.stderr
    assert "A is longer than 64 KiB after ${VAR} interpolation" in res.stderr
    assert ".env.production:16:" in res.stderr  # 10 characters doubled 13 times: the first line over 64 KiB


def test_interpolation_below_the_cap_is_unchanged() -> None:
    from velro_policy.inputs.env import parse_env

    entries, problems = parse_env("A=" + "x" * 30_000 + "\nB=${A}${A}\n", "f")
    assert not problems
    assert entries[1].value == "x" * 60_000


@pytest.fixture
def fifo_repo(tmp_path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tmp_path / ".env.production")
    (tmp_path / "ok.env").write_text("ENVIRONMENT=production\nDEBUG=false\n")
    return tmp_path


def test_a_fifo_named_on_the_command_line_is_refused_at_once(fifo_repo: Path) -> None:
    res = run(["lint", ".env.production"], fifo_repo)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "velro-policy: error: .env.production: is a FIFO (named pipe), not a regular file; refused (name a regular file)"]


def test_a_fifo_found_walking_is_a_could_not_check_problem(fifo_repo: Path) -> None:
    res = run(["lint", "."], fifo_repo)
    assert res.returncode == 2, res.stdout + res.stderr
    assert ".env.production: is a FIFO (named pipe), not a regular file" in res.stderr
    assert "1 could not be checked" in res.stdout  # and the regular file was still checked


def test_a_device_named_like_an_env_file_is_refused(tmp_path: Path) -> None:
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    (tmp_path / ".env.production").symlink_to("/dev/zero")
    res = run(["lint", ".env.production"], tmp_path)
    assert res.returncode == 2
    assert "is a device, not a regular file" in res.stderr
    res = run(["lint", "/dev/zero"], tmp_path)
    assert res.returncode == 2 and "/dev/zero: is a device" in res.stderr


def test_a_shell_pipe_is_still_read(tmp_path: Path) -> None:
    """``lint <(cat .env)`` names /dev/fd/N: an anonymous pipe, which has its writer."""
    if not os.path.exists("/dev/fd"):
        pytest.skip("no /dev/fd here")
    res = subprocess.run([sys.executable, "-m", "velro_policy", "lint", "-e", "production", "/dev/stdin"], cwd=tmp_path,
                         input="DEBUG=true\n", capture_output=True, text=True, timeout=10)
    assert res.returncode == 1, res.stderr
    assert "velro/debug-disabled" in res.stdout


def test_the_inline_ignore_scan_keeps_the_file_size_cap(tmp_path: Path) -> None:
    """It read the whole file (a 3 GB file: 3.1 GB of memory; /dev/zero: until memory ran out)."""
    from velro_policy.inputs._files import MAX_BYTES
    from velro_policy.settle import suppress

    big = tmp_path / ".env.production"
    with open(big, "wb") as fh:
        fh.write(b"# velro-policy: ignore[velro/debug-disabled] reason\nDEBUG=true\n")
        fh.truncate(MAX_BYTES + 4096)  # sparse: no disk or time spent
    assert suppress._read(str(big)) is None
    assert suppress._read("/dev/zero") is None
    res = run(["lint", ".env.production"], tmp_path)
    assert res.returncode == 2
    assert "is larger than 64 MiB" in res.stderr
