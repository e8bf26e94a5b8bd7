"""The code rules that judge what a value does (issue 15 items 2-5), with the real semgrep binary.

Auth bypasses that grant access, marker-built tokens, an auth mode of "none", claims read without
verification, debug switches/routers/skip lists/dumps/fallbacks, Origin reflection, and validation
that never runs or is weaker than the guide.  The annotated fixtures (``# expect:``) are checked
line by line by tests/policy/test_code_rules.py; this module checks what those lines cannot say: the
severities, that the near-miss shapes next to each hit stay quiet when written on their own, and
that no line is reported twice by overlapping rules.
"""
from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from conftest import REPO, cli, write

FIXTURES = REPO / "tests" / "fixtures" / "code"
OWN_FIXTURES = ("auth.py", "auth_grants.py", "auth_validation.py", "debug_app.py", "debug_exposure.py",
                "cors.py", "cors_reflection.py", "jwt_usage.py")
RULES = (
    "velro/code-auth-*", "velro/code-jwt-*", "velro/code-settings-post-init-never-runs",
    "velro/code-debug-*", "velro/code-fastapi-debug", "velro/code-uvicorn-reload", "velro/code-cors-*",
)
SEVERITY = {
    "velro/code-auth-mock-token": "critical",
    "velro/code-auth-marker-token-issued": "critical",
    "velro/code-auth-mode-none": "critical",
    "velro/code-jwt-verify-disabled": "critical",
    "velro/code-jwt-unverified-claims": "critical",
    "velro/code-jwt-secret-min-length": "high",
    "velro/code-settings-post-init-never-runs": "high",
    "velro/code-debug-flag-default-on": "high",
    "velro/code-debug-router-ungated": "high",
    "velro/code-debug-public-path": "high",
    "velro/code-debug-env-exposed": "critical",
    "velro/code-debug-fallback-settings": "high",
    "velro/code-cors-origin-reflected": "high",
    "velro/code-cors-origin-reflected-credentials": "critical",
}

# Written on their own (not beside a hit), each of these must stay quiet.
NEAR_MISSES = {
    "app/reject_mock.py": '''\
from fastapi import HTTPException


def get_user(token):
    if token.startswith("mock_token_"):
        raise HTTPException(status_code=401)
    if token == "dev_token":
        return False
    return verify(token)
''',
    "app/reload_guarded.py": '''\
import uvicorn


def main():
    uvicorn.run("app.main:app", reload=True)


if __name__ == "__main__":
    main()
''',
    "app/gated_debug.py": '''\
import os
from fastapi import FastAPI, HTTPException, APIRouter
from app.config import settings

app = FastAPI()
debug_router = APIRouter()
if settings.is_development and settings.DEBUG_ROUTES:
    app.include_router(debug_router)


@app.get("/internal/env")
async def env():
    if settings.ENVIRONMENT == "production":
        raise HTTPException(status_code=404)
    return dict(os.environ)
''',
    "app/allowlisted_cors.py": '''\
ALLOWED = {"https://app.velro.example"}


async def cors(request, call_next):
    response = await call_next(request)
    origin = request.headers.get("origin")
    if origin in ALLOWED:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
    return response
''',
    "app/guide_settings.py": '''\
from pydantic import BaseModel, model_validator


class Settings(BaseModel):
    JWT_SECRET: str = ""
    DEBUG: bool = True
    ENABLE_DEBUG_ENDPOINTS: bool = True

    @model_validator(mode="after")
    def check(self):
        if len(self.JWT_SECRET) < 96:
            raise ValueError("JWT_SECRET must be at least 96 characters")
        return self
''',
}

# ...and these are the same shapes turned into findings by one change each.
HITS = {
    "app/grant_mock.py": ('''\
def get_user(token):
    if token == "dev_token":
        return True
    return verify(token)
''', 2, "velro/code-auth-mock-token"),
    "app/reload_called.py": ('''\
import uvicorn


def main():
    uvicorn.run("app.main:app", reload=True)


main()
''', 5, "velro/code-uvicorn-reload"),
    "app/flag_debug.py": ('''\
from fastapi import FastAPI, APIRouter
from app.config import settings

app = FastAPI()
debug_router = APIRouter()
if settings.DEBUG_ROUTES:
    app.include_router(debug_router)
''', 7, "velro/code-debug-router-ungated"),
    "app/unchecked_cors.py": ('''\
async def cors(request, call_next):
    response = await call_next(request)
    origin = request.headers.get("origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
    return response
''', 5, "velro/code-cors-origin-reflected-credentials"),
    "app/short_secret.py": ('''\
from pydantic import BaseModel


class Settings(BaseModel):
    JWT_SECRET: str = ""

    def __post_init__(self):
        if len(self.JWT_SECRET) < 96:
            raise ValueError("JWT_SECRET too short")
''', 7, "velro/code-settings-post-init-never-runs"),
}


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = tmp_path_factory.mktemp("value-rules")
    (project / "app").mkdir()
    for name in OWN_FIXTURES:
        shutil.copyfile(FIXTURES / name, project / "app" / name)
    for path, text in NEAR_MISSES.items():
        write(project / path, text)
    for path, (text, _, _) in HITS.items():
        write(project / path, text)
    # one deployed app that imports every module, so the application model counts them all as deployed
    modules = sorted(p.stem for p in (project / "app").glob("*.py"))
    write(project / "app" / "main.py", "from fastapi import FastAPI\n\nfrom app import " + ", ".join(modules)
          + "\n\napp = FastAPI()\n")
    write(project / "Procfile", "web: uvicorn app.main:app --host 0.0.0.0 --port $PORT\n")
    cache = tmp_path_factory.mktemp("cache")
    args = ["check", ".", "--target", "code", "--format", "json"]
    for rule in RULES:
        args += ["--only", rule]
    res = cli(args, cwd=project, env={"VELRO_POLICY_CACHE_DIR": str(cache)})
    assert res.returncode == 1, res.stderr
    data = json.loads(res.stdout)
    assert data["problems"] == []
    return data


def test_near_misses_on_their_own_stay_quiet(scan: dict[str, Any]) -> None:
    checked = {f["path"] for f in scan["files"] if f["target"] == "code"}
    for path in NEAR_MISSES:
        assert path in checked, path  # judged, not skipped
        assert [(f["line"], f["rule_id"]) for f in scan["findings"] if f["path"] == path] == [], path


def test_one_change_turns_each_near_miss_into_its_finding(scan: dict[str, Any]) -> None:
    for path, (_, line, rule) in HITS.items():
        got = [(f["line"], f["rule_id"]) for f in scan["findings"] if f["path"] == path]
        assert got == [(line, rule)], path


def test_severities_follow_the_risk(scan: dict[str, Any]) -> None:
    seen = {}
    for f in scan["findings"]:
        if f["rule_id"] in SEVERITY:
            seen[f["rule_id"]] = f["severity"]
    assert seen == SEVERITY  # every new rule fired at least once, at its severity


def test_messages_name_no_unbound_metavariable(scan: dict[str, Any]) -> None:
    for f in scan["findings"]:
        assert "$" not in f["message"], f


def test_no_line_is_reported_by_two_overlapping_rules(scan: dict[str, Any]) -> None:
    at: dict[tuple[str, int], list[str]] = {}
    for f in scan["findings"]:
        at.setdefault((f["path"], f["line"]), []).append(f["rule_id"])
    assert {k: v for k, v in at.items() if len(v) > 1} == {}


def test_each_new_rule_has_a_near_miss_next_to_its_hit() -> None:
    """The fixtures hold at least as many silent look-alikes as hits for the value rules."""
    text = "\n".join((FIXTURES / name).read_text(encoding="utf-8") for name in OWN_FIXTURES)
    for rule in SEVERITY:
        assert f"# expect: {rule}" in text, rule
    assert text.count("__post_init__") > text.count("expect: velro/code-settings-post-init-never-runs")
    assert text.count("Access-Control-Allow-Origin") > text.count("expect: velro/code-cors-origin-reflected")
