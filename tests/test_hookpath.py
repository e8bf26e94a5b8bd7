"""The hooks' fast path (velro_policy.hookpath) gives exactly what the click command line gives:
same stdout, stderr and exit code, as real processes, on the hooks' own command lines; any other
command line is left to click."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write
from velro_policy import hookpath

CLICK = "import sys; from velro_policy.main import main; raise SystemExit(main())"


def both(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    fast = subprocess.run([sys.executable, "-I", "-m", "velro_policy", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    slow = subprocess.run([sys.executable, "-I", "-c", CLICK, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    return fast, slow


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\nJWT_SECRET_KEY=abc\n")
    write(tmp_path / ".env.staging", "ENVIRONMENT=staging\nDEBUG=false\n")
    write(tmp_path / "app" / "config.py", "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    debug: bool = True\n")
    write(tmp_path / "broken.env", "KEY='unterminated\n")
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    return tmp_path


@pytest.mark.parametrize("args", [
    ["lint", "--target", "env", ".env.production", ".env.staging"],
    ["lint", "--target", "settings", "--target", "env", "app/config.py", ".env.production"],
    ["lint", "--target", "env", "broken.env"],
    ["lint", "--target", "env", "missing.env"],
    ["check", "--staged"],
])
def test_the_fast_path_answers_as_click_does(repo: Path, args: list[str]) -> None:
    assert hookpath.parse(args) is not None
    fast, slow = both(args, repo)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert fast.returncode in (1, 2)


@pytest.mark.parametrize("args", [
    [], ["lint"], ["lint", "-"], ["lint", "--format", "json", ".env"], ["lint", "--target", "bogus", ".env"],
    ["lint", ".env", "--exit-zero"], ["check", "."], ["check", "--staged", "--format", "sarif"], ["--help"],
])
def test_other_command_lines_go_to_click(args: list[str]) -> None:
    assert hookpath.parse(args) is None

