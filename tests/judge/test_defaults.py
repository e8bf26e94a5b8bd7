"""Insecure defaults count (issue 14 item 6) and one answer per settings file (issue 17 item 1).

A default in code (a settings field, ``os.getenv("X", default)``) is what runs wherever the
platform does not set X; a committed env file is no proof of what is deployed.  So a default is
judged by the settings rules and by the env rules, at its line, whatever the env files say, and
the findings about a settings module are the same whichever scope the run has.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import NO_CODE, semgrep_once, write
from velro_policy.main import cli

CONFIG = '''from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    DEBUG: bool = True
    CORS_ORIGINS: list[str] = ["http://localhost:3000"]
    JWT_SECRET: str = "dev-secret-change-me"
    JWT_BLACKLIST_ENABLED: bool = False
    WEB_ORIGINS: list[str] = ["*"]
    LOG_LEVEL: str = "info"


settings = Settings()
'''
MAIN = '''import jwt
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.config import settings

app = FastAPI(debug=settings.DEBUG)
app.add_middleware(CORSMiddleware, allow_origins=settings.WEB_ORIGINS)


@app.get("/me")
def me(token: str):
    return jwt.decode(token, settings.JWT_SECRET, algorithms=["HS256"])
'''
# Every variable but the secret (set on the platform) set to a compliant value: none of it may hide a default.
PRODUCTION = ("ENVIRONMENT=production\nDEBUG=false\nCORS_ORIGINS=[\"https://app.example.com\"]\n"
              "JWT_BLACKLIST_ENABLED=true\nWEB_ORIGINS=[\"https://app.example.com\"]\nLOG_LEVEL=info\n")


def project(root: Path) -> None:
    write(root / "app/__init__.py", "")
    write(root / "app/config.py", CONFIG)
    write(root / "app/main.py", MAIN)
    write(root / "Procfile", "web: uvicorn app.main:app\n")
    write(root / ".env.production", PRODUCTION)


def run(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> list[dict]:
    monkeypatch.chdir(root)
    res = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.output)["findings"]


def about(findings: list[dict], path: str) -> list[tuple[int, str, str]]:
    return sorted((f["line"], f["rule_id"], f["severity"]) for f in findings if f["path"] == path)


def test_defaults_are_judged_whatever_the_env_files_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    found = run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings")
    assert about(found, "app/config.py") == [
        (5, "velro/settings-debug-default", "critical"),
        (6, "velro/settings-cors-https-only", "high"),  # the settings rules judge the defaults the env file sets
        (6, "velro/settings-cors-no-localhost", "high"),
        (7, "velro/settings-jwt-secret-literal", "critical"),
        (8, "velro/jwt-blacklist-enabled", "high"),  # an env rule on a default no settings rule judges
        (9, "velro/cors-no-wildcard", "critical"),  # the origin list of the app by role, not by name
    ]
    one = next(f for f in found if f["rule_id"] == "velro/jwt-blacklist-enabled")
    assert "a default in code: it runs wherever the platform does not set JWT_BLACKLIST_ENABLED" in one["message"]
    assert one["environment"] == "production"
    assert about(found, ".env.production") == []


def test_a_default_is_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # DEBUG=True: velro/settings-debug-default and velro/debug-disabled both judge it; one finding, the settings rule's
    project(tmp_path)
    found = run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings")
    assert [f["rule_id"] for f in found if f["path"] == "app/config.py" and f["line"] == 5] == ["velro/settings-debug-default"]


def test_effective_pairing_none_leaves_defaults_to_the_settings_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    write(tmp_path / "velro-policy.yaml", "effective_pairing: none\n")
    found = run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings")
    assert {r for _, r, _ in about(found, "app/config.py")} == {
        "velro/settings-debug-default", "velro/settings-cors-https-only", "velro/settings-cors-no-localhost", "velro/settings-jwt-secret-literal"}


def test_an_unknown_default_is_not_reported_again_by_env_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "settings.py", 'import os\n\nJWT_BLACKLIST_ENABLED = os.getenv("JWT_BLACKLIST_ENABLED", compute())\n')
    found = run(tmp_path, monkeypatch, "lint", *NO_CODE, "settings.py")  # env and settings rules are the point, not Semgrep's
    assert found == []


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(root), "PATH": "/usr/bin:/bin"})


def test_every_scope_gives_the_same_findings_about_a_settings_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """issue 17 item 1: `lint app/config.py`, `check .` (Semgrep included), `--target`, `--staged`
    (the hook) agree on the settings module, with committed env files that set every variable,
    including the values picked by a role (WEB_ORIGINS is the app's origin list by use): a partial
    run that checks a Python file builds the application model too."""
    project(tmp_path)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    scans = semgrep_once(monkeypatch)  # `lint app/config.py` with or without the env file: one Semgrep scan of it
    by_role = (9, "velro/cors-no-wildcard", "critical")
    scopes = {
        "lint FILE": about(run(tmp_path, monkeypatch, "lint", "app/config.py"), "app/config.py"),
        "lint FILE .env.production": about(run(tmp_path, monkeypatch, "lint", "app/config.py", ".env.production"), "app/config.py"),
        "lint --staged": about(run(tmp_path, monkeypatch, "lint", "--staged"), "app/config.py"),
        "lint --target settings": about(run(tmp_path, monkeypatch, "lint", "--target", "settings", "app/config.py"), "app/config.py"),
        "check .": about(run(tmp_path, monkeypatch, "check", "."), "app/config.py"),
        "check . --target settings": about(run(tmp_path, monkeypatch, "check", ".", "--target", "settings"), "app/config.py"),
    }
    assert len(scans) == len(set(scans)) >= 3, scans  # app/config.py, the staged copy, the whole project: real scans
    expected = scopes["lint FILE"]
    assert {rule for _, rule, _ in expected} >= {"velro/settings-debug-default", "velro/jwt-blacklist-enabled"}
    assert by_role in expected
    assert {name: got for name, got in scopes.items() if got != expected} == {}


# -- which defaults are settings, and for which environment ------------------------------------------
def test_a_subclass_of_an_imported_settings_class_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # class AppSettings(BaseAppSettings): the base is a BaseSettings subclass in another module
    write(tmp_path / "app/settings/base.py", "from pydantic_settings import BaseSettings\n\n\nclass BaseAppSettings(BaseSettings):\n    pass\n")
    write(tmp_path / "app/settings/app.py", "from app.settings.base import BaseAppSettings\n\n\nclass Helper:\n    debug = True\n\n\n"
                                            "class AppSettings(BaseAppSettings):\n    debug: bool = True\n    allowed_hosts: list[str] = ['*']\n\n\n"
                                            "class Other(Helper):\n    debug = True\n")
    found = run(tmp_path, monkeypatch, "lint", "--target", "settings", "app/settings/app.py")
    assert about(found, "app/settings/app.py") == [(9, "velro/settings-debug-default", "critical")]  # not Helper's, not Other's


@pytest.mark.parametrize(("name", "reported"), [
    ("app/settings/development.py", False), ("app/settings/test.py", False), ("config_dev.py", False), ("app/config/local.py", False),
    ("app/settings/production.py", True), ("app/config.py", True), ("dev_tools.py", True), ("main.py", True),
])
def test_a_settings_module_named_for_an_environment_is_judged_as_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     name: str, reported: bool) -> None:
    write(tmp_path / name, "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    DEBUG: bool = True\n")
    found = run(tmp_path, monkeypatch, "lint", "--target", "settings", name)  # settings rules only: no Semgrep start
    assert bool(about(found, name)) is reported
