"""Project rules on the application model (issue 14 item 5).

"Set but never read" asks the model what the deployed modules read: one finding per variable
(not per file), the near name the app reads and where, high when that name plays a security
role.  Template parity compares a template only with the env files of its own environment, one
summary finding per file.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write
from velro_policy.main import cli

CONFIG = '''import os

from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    CORS_ORIGINS: list[str] = []
    APP_TIMEZONE: str = "UTC"


settings = Settings()
'''
MAIN = '''from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.config import settings

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=settings.CORS_ORIGINS)
'''
OLD = 'import os\n\nORIGINS = os.getenv("ALLOWED_ORIGINS", "")\nTOKEN = os.getenv("LEGACY_TOKEN")\n'


def project(root: Path) -> None:
    write(root / "app/__init__.py", "")
    write(root / "app/config.py", CONFIG)
    write(root / "app/main.py", MAIN)
    write(root / "scripts/old_server.py", OLD)  # reads both, and the app never imports it
    write(root / "Procfile", "web: uvicorn app.main:app\n")
    write(root / ".env.production", 'ENVIRONMENT=production\nALLOWED_ORIGINS=["https://app.example.com"]\nLEGACY_TOKEN=x\nTIMEZONE=UTC\n')
    write(root / ".env.staging", 'ENVIRONMENT=staging\nALLOWED_ORIGINS=["https://staging.example.com"]\n')


def run(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> list[dict]:
    monkeypatch.chdir(root)
    res = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.output)["findings"]


def unread(findings: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for f in findings:
        if f["rule_id"] == "velro/project-unread-variable":
            assert f["key"] not in out, f"{f['key']} reported twice"
            out[f["key"]] = f
    return out


def test_set_but_never_read_by_a_deployed_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    found = unread(run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings"))
    assert sorted(found) == ["ALLOWED_ORIGINS", "LEGACY_TOKEN", "TIMEZONE"]  # scripts/ reads two of them, but is not deployed
    origins = found["ALLOWED_ORIGINS"]
    # once for the project, at the strictest file, naming the other one; high: the near name is the app's CORS origin list
    assert (origins["path"], origins["line"], origins["severity"]) == (".env.production", 2, "high")
    assert origins["related"] == [".env.staging"]
    assert "the app reads its cors-origins from CORS_ORIGINS (app/config.py:7), not ALLOWED_ORIGINS" in origins["message"]
    # a near name without a role: the rule's own severity
    assert found["TIMEZONE"]["severity"] == "medium" and "APP_TIMEZONE (app/config.py:8)" in found["TIMEZONE"]["message"]
    assert found["LEGACY_TOKEN"]["severity"] == "medium" and "no deployed module reads it" in found["LEGACY_TOKEN"]["message"]


def test_a_read_by_a_deployed_module_is_a_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    write(tmp_path / "app/main.py", MAIN + "from scripts import old_server  # noqa: F401\n")
    write(tmp_path / "scripts/__init__.py", "")
    found = unread(run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings"))
    assert sorted(found) == ["TIMEZONE"]


def test_a_variable_the_migration_tool_reads_is_consumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """alembic/env.py is not imported by the app but runs at every deployment (`alembic upgrade head`)."""
    project(tmp_path)
    write(tmp_path / "alembic/env.py", 'import os\n\nURL = os.getenv("LEGACY_TOKEN")\n')
    found = unread(run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings"))
    assert sorted(found) == ["ALLOWED_ORIGINS", "TIMEZONE"]


def test_a_variable_the_caddyfile_names_is_consumed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Caddy reads env variables as {$NAME}: a variable only the Caddyfile uses is not stale."""
    project(tmp_path)
    write(tmp_path / "caddy/Caddyfile", "{$LEGACY_TOKEN}.example.com {\n    reverse_proxy api:8000\n}\n")
    found = unread(run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings"))
    assert sorted(found) == ["ALLOWED_ORIGINS", "TIMEZONE"]


def test_without_the_model_the_settings_modules_decide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    (tmp_path / "Procfile").unlink()
    write(tmp_path / "other.py", "from fastapi import FastAPI\n\nsecond = FastAPI()\n")  # two apps, no deployment file: a guess
    found = unread(run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings"))
    assert sorted(found) == ["TIMEZONE"]  # the old server's reads count: nothing is known to be undeployed
    assert found["TIMEZONE"]["severity"] == "medium"


@pytest.mark.parametrize("command", [("check", "."), ("lint", ".env.production")])
def test_without_the_model_a_variable_a_deployment_file_consumes_is_not_stale(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, str]) -> None:
    """Two apps and no deployment file naming one: the model is incomplete and the settings modules
    decide, but a compose file that passes TIMEZONE to a container still consumes it; the same
    answer for the whole project and for the env file alone (the env hook)."""
    project(tmp_path)
    (tmp_path / "Procfile").unlink()
    write(tmp_path / "other.py", "from fastapi import FastAPI\n\nsecond = FastAPI()\n")
    write(tmp_path / "docker-compose.yml", "services:\n  web:\n    environment:\n      TZ: ${TIMEZONE}\n")
    found = unread(run(tmp_path, monkeypatch, *command, "--target", "env", "--target", "settings"))
    assert sorted(found) == []


# -- template parity: a template is compared with its own environment's files, one finding per file ----------
def templates(root: Path) -> None:
    write(root / ".env.example", "ENVIRONMENT=development\nDEBUG=false\nSENTRY_DSN=<dsn>\n")
    write(root / ".env.production.example", "ENVIRONMENT=production\nDEBUG=false\nOLD_FLAG=on\nCACHE_TTL=60\n")
    write(root / ".env.production", "ENVIRONMENT=production\nDEBUG=false\nSENTRY_DSN=https://k@sentry.example/1\n"
                                    "REDIS_URL=redis://cache:6379\nWORKERS=4\n")
    write(root / ".env.staging", "ENVIRONMENT=staging\nDEBUG=false\nREDIS_URL=redis://cache:6379\n")


def by_rule(findings: list[dict], rule: str) -> list[tuple[str, int, str]]:
    return sorted((f["path"], f["line"], f["message"]) for f in findings if f["rule_id"] == rule)


def test_template_missing_keys_one_summary_per_file_against_its_own_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates(tmp_path)
    found = by_rule(run(tmp_path, monkeypatch, "check", ".", "--target", "env"), "velro/project-template-missing-key")
    assert [(p, n) for p, n, _ in found] == [(".env.production", 3), (".env.staging", 3)]
    production = found[0][2]
    # compared with .env.production.example only: SENTRY_DSN is in .env.example, which describes other environments
    assert "3 keys are set in .env.production:3 but missing from the template .env.production.example: SENTRY_DSN, REDIS_URL, WORKERS" in production
    assert "REDIS_URL is set in .env.staging:3 but missing from the template .env.example" in found[1][2]


def test_template_unused_keys_one_summary_per_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates(tmp_path)
    found = by_rule(run(tmp_path, monkeypatch, "check", ".", "--target", "env"), "velro/project-template-unused-key")
    assert [(p, n) for p, n, _ in found] == [(".env.production.example", 3)]
    assert "2 keys are in the template .env.production.example:3" in found[0][2] and "OLD_FLAG, CACHE_TTL" in found[0][2]


def test_the_usual_name_of_a_role_set_while_the_app_uses_another(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # JWT_SECRET is the usual name (the JWT rules select it); the app signs with AUTH_SIGNING_KEY
    write(tmp_path / "app/__init__.py", "")
    write(tmp_path / "app/main.py", 'import os\n\nimport jwt\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/me")\n'
                                    'def me(token: str):\n    return jwt.decode(token, os.getenv("AUTH_SIGNING_KEY"), algorithms=["HS256"])\n\n\n'
                                    'DB_PASSWORD = os.getenv("SMTP_PASSWORD")\n')
    write(tmp_path / "Procfile", "web: uvicorn app.main:app\n")
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nJWT_SECRET=x\nPOSTGRES_PASSWORD=y\n")
    found = unread(run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings"))
    jwt = found["JWT_SECRET"]
    assert jwt["severity"] == "high"
    assert "the app reads its jwt-signing-key from AUTH_SIGNING_KEY (app/main.py:11), not JWT_SECRET" in jwt["message"]
    # a generic last word is no hint: POSTGRES_PASSWORD is not a misspelt SMTP_PASSWORD
    assert found["POSTGRES_PASSWORD"]["severity"] == "medium" and "SMTP_PASSWORD" not in found["POSTGRES_PASSWORD"]["message"]


def test_a_variable_a_deployment_file_or_an_env_file_consumes_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDB_PASS=x\nDATABASE_URL=postgresql://app:${DB_PASS}@db/app\n"
                                        "ECR_REPO=r\nCLUSTER=c\nLEGACY_TOKEN=x\n")
    write(tmp_path / "app/config.py", CONFIG.replace('APP_TIMEZONE: str = "UTC"', 'DATABASE_URL: str = ""'))
    write(tmp_path / "infra/deploy.sh", 'docker push "$ECR_REPO:latest"\n')
    write(tmp_path / ".github/workflows/deploy.yml", "jobs:\n  deploy:\n    steps:\n      - run: echo ${{ env.CLUSTER }}\n")
    found = unread(run(tmp_path, monkeypatch, "check", ".", "--target", "env", "--target", "settings"))
    assert sorted(found) == ["ALLOWED_ORIGINS", "LEGACY_TOKEN"]
