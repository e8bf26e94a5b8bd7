"""Semgrep starts first and the rest of a run overlaps with it (issue 20); a run
that stops early leaves no Semgrep process behind.  Real Semgrep, behind a shim
that records its process id before exec'ing the real binary (same process)."""
from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import write
from velro_policy.commands import run as run_mod

REAL_SEMGREP = str(Path(sys.executable).parent / "semgrep")


def pid_shim(folder: Path) -> tuple[Path, Path]:
    log = folder / "semgrep-pids.log"
    shim = folder / "semgrep-shim"
    shim.write_text(f'#!/bin/sh\necho $$ >> "{log}"\nexec "{REAL_SEMGREP}" "$@"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return shim, log


def wait_for_line(log: Path, seconds: float = 20.0) -> str | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and log.read_text().strip():
            return log.read_text().split()[0]
        time.sleep(0.05)
    return None


@pytest.fixture()
def app_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    root = tmp_path / "proj"
    write(root / "app" / "main.py", "from fastapi import FastAPI\n\napp = FastAPI(debug=True)\n")
    write(root / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    shim, log = pid_shim(tmp_path)
    monkeypatch.setenv("VELRO_POLICY_SEMGREP", str(shim))
    monkeypatch.chdir(root)
    return root, log


def test_semgrep_is_running_while_the_application_model_is_read(app_project: tuple[Path, Path],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _root, log = app_project
    seen: dict[str, Any] = {}
    real_app_step = run_mod.app_step

    def app_step(*args: Any, **kwargs: Any) -> Any:
        # Semgrep has been started before the app model: its shim writes its pid while we wait here.
        seen["pid_during_app_step"] = wait_for_line(log)
        return real_app_step(*args, **kwargs)

    monkeypatch.setattr(run_mod, "app_step", app_step)
    result = run_mod.collect(run_mod.Options(paths=["."]))
    assert seen["pid_during_app_step"] is not None
    assert len(log.read_text().split()) == 1  # one Semgrep process for the run
    rules = {f.rule_id for f in result.findings}
    assert any("debug" in r for r in rules if r.startswith("velro/code")), rules  # its results were collected


def test_a_run_interrupted_after_semgrep_started_kills_it(app_project: tuple[Path, Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _root, log = app_project

    def app_step(*args: Any, **kwargs: Any) -> Any:
        assert wait_for_line(log) is not None
        raise KeyboardInterrupt

    monkeypatch.setattr(run_mod, "app_step", app_step)
    with pytest.raises(KeyboardInterrupt):
        run_mod.collect(run_mod.Options(paths=["."]))
    pid = int(log.read_text().split()[0])
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running or a zombie
        os.kill(pid, 0)
