"""Remediation text fits the finding (issue 17, item 7): the finding's own key name where the
rule's text names another variable the rule selects, and Railway's command only for a project
that deploys to Railway (railway.toml / railway.json at its top)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write
from velro_policy.main import cli

ENV = "ENVIRONMENT=production\nJWT_SECRET_KEY=short\nDEBUG=true\n"


def remediations(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(root)
    res = CliRunner().invoke(cli, ["lint", ".env.production", "--format", "json"], catch_exceptions=False)
    assert res.exit_code == 1, res.output
    return {f["rule_id"] + ":" + f["key"]: f["remediation"] for f in json.loads(res.stdout)["findings"]}


def test_generic_platform_and_the_findings_own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / ".env.production", ENV)
    got = remediations(tmp_path, monkeypatch)
    jwt = got["velro/jwt-secret-strength:JWT_SECRET_KEY"]
    assert "JWT_SECRET_KEY=" in jwt and "JWT_SECRET=" not in jwt, jwt
    assert all("railway" not in text for text in got.values()), got
    assert "set DEBUG=false in your platform's environment variables" in got["velro/debug-disabled:DEBUG"]


def test_railway_projects_keep_railways_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / ".env.production", ENV)
    write(tmp_path / "railway.toml", '[deploy]\nstartCommand = "uvicorn app.main:app"\n')
    got = remediations(tmp_path, monkeypatch)
    assert 'railway variables set JWT_SECRET_KEY="$JWT_SECRET_KEY"' in got["velro/jwt-secret-strength:JWT_SECRET_KEY"]
    assert "railway variables set DEBUG=false" in got["velro/debug-disabled:DEBUG"]
