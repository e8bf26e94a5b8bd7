"""velro/app-validation-never-called (issue 15, item 5): a settings validation function that
nothing calls is a finding at its def; decorated validators, functions called (or only named)
anywhere in the project, and functions that do not check configuration are silent."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write
from velro_policy.main import cli

CONFIG = '''\
import os

from pydantic import model_validator
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    jwt_secret_key: str = os.getenv("JWT_SECRET_KEY", "")

    @model_validator(mode="after")
    def check_jwt_secret(self):
        return self

    def validate_cors_origins(self):
        assert "*" not in self.allowed_origins

    def verify_secrets(self):
        assert len(self.jwt_secret_key) >= 96


def validate_production_settings(s):
    assert not s.debug


def ensure_env_loaded():
    return True


def validate_email(address):
    return "@" in address


__all__ = ["ensure_env_loaded"]
settings = Settings()
'''
MAIN = '''\
from fastapi import FastAPI

from app.config import settings

settings.verify_secrets()
app = FastAPI()
'''
RULE = "velro/app-validation-never-called"


def project(root: Path) -> None:
    write(root / "Procfile", "web: uvicorn app.main:app\n")
    write(root / "app" / "__init__.py", "")
    write(root / "app" / "config.py", CONFIG)
    write(root / "app" / "main.py", MAIN)


def hits(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> list[tuple[str, int, str]]:
    monkeypatch.chdir(root)
    res = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert res.exit_code in (0, 1), res.output
    return sorted((f["path"], f["line"], f["message"].split()[0]) for f in json.loads(res.stdout)["findings"] if f["rule_id"] == RULE)


def test_uncalled_validation_functions_are_found_at_their_def(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    expected = [("app/config.py", 14, "validate_cors_origins()"),
                ("app/config.py", 21, "validate_production_settings()")]
    assert hits(tmp_path, monkeypatch, "check", ".", "--target", "app") == expected
    # the code hook (lint --target code --target app FILE) gives the module the same answer
    assert hits(tmp_path, monkeypatch, "lint", "--target", "code", "--target", "app", "app/config.py") == expected


def test_a_call_anywhere_silences_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    write(tmp_path / "app" / "main.py", MAIN + "from app.config import validate_production_settings\n"
                                              "validate_production_settings(settings)\nsettings.validate_cors_origins()\n")
    assert hits(tmp_path, monkeypatch, "check", ".", "--target", "app") == []


def test_outside_settings_modules_nothing_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "Procfile", "web: uvicorn app.main:app\n")
    write(tmp_path / "app" / "__init__.py", "")
    write(tmp_path / "app" / "main.py", "from fastapi import FastAPI\n\napp = FastAPI()\n\n\ndef validate_token_format(t):\n    return t\n")
    assert hits(tmp_path, monkeypatch, "check", ".", "--target", "app") == []
