"""A Python module is parsed once per run (issue 20): the settings source reuses the tree the
application model parsed, and only for the very same text."""
from __future__ import annotations

import ast
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import write
from velro_policy.commands import run as run_mod

MAIN = "from fastapi import FastAPI\n\nfrom app.config import settings\n\napp = FastAPI(debug=settings.debug)\n"
CONFIG = ("from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
          "    debug: bool = True\n    jwt_secret_key: str = 'change-me'\n\n\nsettings = Settings()\n")


def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counts: Counter[str] = Counter()
    real = ast.parse

    def counting(source: Any, filename: Any = "<unknown>", *args: Any, **kwargs: Any) -> Any:
        counts[os.path.basename(str(filename))] += 1
        return real(source, filename, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    return counts


def test_a_deployed_settings_module_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "Procfile", "web: uvicorn app.main:app --host 0.0.0.0\n")
    write(tmp_path / "app" / "__init__.py", "")
    write(tmp_path / "app" / "main.py", MAIN)
    write(tmp_path / "app" / "config.py", CONFIG)
    monkeypatch.chdir(tmp_path)
    counts = parses(monkeypatch)
    result = run_mod.collect(run_mod.Options(paths=["."], targets=["settings"]))
    assert counts["config.py"] == 1, counts
    assert counts["main.py"] == 1, counts
    # ... and the settings reader still judged it: the insecure default is reported
    assert any(f.path.endswith("app/config.py") and "debug" in f.rule_id for f in result.findings), result.findings


def test_a_module_not_in_the_model_is_parsed_by_the_settings_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "Procfile", "web: uvicorn app.main:app\n")
    write(tmp_path / "app" / "__init__.py", "")
    write(tmp_path / "app" / "main.py", "from fastapi import FastAPI\n\napp = FastAPI()\n")
    write(tmp_path / "old" / "config.py", CONFIG)  # not imported by the app: the model never parses it
    monkeypatch.chdir(tmp_path)
    counts = parses(monkeypatch)
    run_mod.collect(run_mod.Options(paths=["."], targets=["settings"]))
    assert counts["config.py"] >= 1, counts
