"""Shared fixtures: an isolated policy cache, and helpers that run the real CLI."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path_factory.mktemp("velro-cache")
    monkeypatch.setenv("VELRO_POLICY_CACHE_DIR", str(cache))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return cache


def velro(args: Sequence[str], cwd: Path | str | None = None, env: dict[str, str] | None = None,
          input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a child process (as users and hooks do)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "velro_policy", *args],
        cwd=str(cwd) if cwd else None, env=full_env, capture_output=True, text=True, timeout=300, input=input_text,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
