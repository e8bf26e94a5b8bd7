"""Roles by use (issue 14 item 4): a policy selects a value by the role its variable plays in the
deployed app (``select: [{role: jwt-signing-key}]``) as well as by name.

The roles come from the application model of a directory run and reach the judge as data (env
name -> roles); a run without the model (a named file, ``lint .env``) selects by name only.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write
from velro_policy.judge.evaluate import judge_documents
from velro_policy.main import cli
from velro_policy.model import Document, Entry, Location
from velro_policy.rules import ROLES, Op, Rule

KEY50 = "Zq8vN2rT5wX1yB4cE7gH0jK3mP6sU9aD2fL5nQ8tV1xZ4bC7eW"  # 50 random-looking characters
assert len(KEY50) == 50

JWT_RULE = Rule(id="t/jwt-length", title="jwt", severity="critical", target="env", environments=("production",),
                select=("JWT_SECRET", "!*PUBLIC*"), roles=("jwt-signing-key",), check=Op("min_length", 96), secret=True)


def env_doc(**values: str) -> Document:
    entries = tuple(Entry(k, v, Location(".env.production", n, 1), (k,)) for n, (k, v) in enumerate(values.items(), 1))
    return Document(".env.production", "env", entries, "production", "file name", display_path=".env.production")


def judged(doc: Document, roles: dict[str, frozenset[str]] | None, rules: list[Rule] | None = None) -> list[tuple[int, str]]:
    return sorted((f.line, f.key) for f in judge_documents([doc], rules or [JWT_RULE], {}, roles=roles))


# -- the judge ------------------------------------------------------------------------------------
def test_a_role_picks_a_variable_by_use_and_names_still_pick_without_roles() -> None:
    doc = env_doc(AUTH_SIGNING_KEY=KEY50, JWT_SECRET=KEY50, OTHER_KEY=KEY50)
    roles = {"AUTH_SIGNING_KEY": frozenset({"jwt-signing-key"})}
    assert judged(doc, roles) == [(1, "AUTH_SIGNING_KEY"), (2, "JWT_SECRET")]
    assert judged(doc, None) == [(2, "JWT_SECRET")]  # no model: names only


def test_picked_by_name_and_by_role_is_judged_once() -> None:
    doc = env_doc(JWT_SECRET=KEY50)
    assert judged(doc, {"JWT_SECRET": frozenset({"jwt-signing-key"})}) == [(1, "JWT_SECRET")]


def test_exclusions_apply_to_what_a_role_picks() -> None:
    doc = env_doc(JWT_PUBLIC_KEY=KEY50)
    assert judged(doc, {"JWT_PUBLIC_KEY": frozenset({"jwt-signing-key"})}) == []


def test_other_roles_do_not_pick() -> None:
    doc = env_doc(WEB_ORIGINS=KEY50)
    assert judged(doc, {"WEB_ORIGINS": frozenset({"cors-origins"})}) == []


def test_a_role_under_a_key_picks_the_copy_under_it_only() -> None:
    rule = JWT_RULE._replace(select=(), roles=("__git__:jwt-signing-key",))
    loc = Location(".env.production", 1, 1)
    doc = Document(".env.production", "env", (Entry("AUTH_SIGNING_KEY", KEY50, loc, ("AUTH_SIGNING_KEY",)),
                                              Entry('__git__["AUTH_SIGNING_KEY"]', KEY50, loc, ("__git__", "AUTH_SIGNING_KEY"))),
                   "production", display_path=".env.production")
    found = judge_documents([doc], [rule], {}, roles={"AUTH_SIGNING_KEY": frozenset({"jwt-signing-key"})})
    assert [f.key for f in found] == ['__git__["AUTH_SIGNING_KEY"]']


def test_settings_entries_are_picked_by_their_env_name() -> None:
    rule = Rule(id="t/literal", title="t", severity="critical", target="settings", environments=("production",),
                roles=("jwt-signing-key",), check=Op("no_literal", True))
    loc = Location("app/config.py", 3, 5)
    doc = Document("app/config.py", "settings", (Entry("SIGN", "dev", loc, ("SIGN",), (("AUTH_SIGNING_KEY",),), ("AUTH_SIGNING_KEY",)),),
                   display_path="app/config.py")
    assert [f.line for f in judge_documents([doc], [rule], {}, roles={"AUTH_SIGNING_KEY": frozenset({"jwt-signing-key"})})] == [3]
    assert judge_documents([doc], [rule], {}) == []


# -- the policy language ----------------------------------------------------------------------------
POLICY = """apiVersion: velro-policy/v1
kind: Policy
metadata: {{name: t/roles, title: Roles}}
target: {target}
rules:
  - id: t/rule
    title: t
    severity: high
    select: {select}
    check: {{min_length: 10}}
    remediation: r
"""


def load(tmp_path: Path, select: str, target: str = "env") -> list[Rule]:
    from velro_policy.policy.load import load_file

    path = write(tmp_path / "p.yaml", POLICY.format(select=select, target=target))
    return load_file(path, "p.yaml")[1]


def test_policy_role_selectors_compile_and_round_trip(tmp_path: Path) -> None:
    [rule] = load(tmp_path, "[JWT_SECRET, {role: jwt-signing-key}, {role: jwt-signing-key, under: __git__}]")
    assert rule.select == ("JWT_SECRET",) and rule.roles == ("jwt-signing-key", "__git__:jwt-signing-key")
    assert Rule.from_data(rule.to_data()) == rule
    [alone] = load(tmp_path, "{role: debug-flag}")
    assert alone.select == () and alone.roles == ("debug-flag",)


@pytest.mark.parametrize(("select", "target", "error"), [
    ("[{role: jwt-key}]", "env", "role"),
    ("[{role: debug-flag, unknown: 1}]", "env", "unknown"),
    ("[{role: debug-flag}]", "app", "role selector"),
])
def test_policy_role_selector_errors(tmp_path: Path, select: str, target: str, error: str) -> None:
    from velro_policy.errors import PolicyError

    with pytest.raises(PolicyError, match=error):
        load(tmp_path, select, target)


def test_roles_of_the_model_are_the_roles_policies_know() -> None:
    from velro_policy.inputs.app import _ROLE_ORDER

    assert {role for role, _ in _ROLE_ORDER} <= set(ROLES)


# -- check DIR: the application decides which variable is the JWT key, the origins, the debug flag -------
CONFIG = ("from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
          "    AUTH_SIGNING_KEY: str\n    WEB_ORIGINS: list[str] = []\n    SERVER_TRACE: bool = False\n\n\nsettings = Settings()\n")


def project(root: Path, main: str, env: str) -> None:
    write(root / "app/__init__.py", "")
    write(root / "app/config.py", CONFIG)
    write(root / "app/main.py", "import hmac\nimport os\n\nimport jwt\nfrom fastapi import FastAPI\n"
                                "from fastapi.middleware.cors import CORSMiddleware\n\nfrom app.config import settings\n\n" + main)
    write(root / "Procfile", "web: uvicorn app.main:app\n")
    write(root / ".env.production", env)


def check(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> list[tuple[str, int, str]]:
    import json

    monkeypatch.chdir(root)
    res = CliRunner().invoke(cli, ["check", ".", "--format", "json", *args])
    assert res.exit_code in (0, 1), res.output
    return sorted((f["path"], f["line"], f["rule_id"]) for f in json.loads(res.output)["findings"])


SIGNS = ('app = FastAPI()\n\n\n@app.get("/me")\ndef me(token: str):\n'
         '    return jwt.decode(token, settings.AUTH_SIGNING_KEY, algorithms=["HS256"])\n')
SIGNS_GETENV = ('app = FastAPI()\n\n\n@app.get("/me")\ndef me(token: str):\n'
                '    return jwt.decode(token, os.getenv("AUTH_SIGNING_KEY"), algorithms=["HS256"])\n')
NOT_JWT = ('app = FastAPI()\n\n\n@app.get("/me")\ndef me(body: str):\n'
           '    return hmac.new(settings.AUTH_SIGNING_KEY.encode(), body.encode(), "sha256").hexdigest()\n')


def test_jwt_key_by_use_gets_the_length_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path, SIGNS, f"AUTH_SIGNING_KEY={KEY50}\n")
    assert (".env.production", 1, "velro/jwt-secret-strength") in check(tmp_path, monkeypatch)  # the whole check, Semgrep included


@pytest.mark.parametrize(("main", "expected"), [(SIGNS_GETENV, True), (NOT_JWT, False)])
def test_jwt_key_only_when_the_app_signs_with_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main: str, expected: bool) -> None:
    project(tmp_path, main, f"AUTH_SIGNING_KEY={KEY50}\n")
    found = check(tmp_path, monkeypatch, "--target", "env", "--target", "settings")
    assert ((".env.production", 1, "velro/jwt-secret-strength") in found) is expected


@pytest.mark.parametrize(("main", "expected"), [
    ('app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=settings.WEB_ORIGINS)\n', True),
    ('app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])\nSHOWN = settings.WEB_ORIGINS\n', False),
    # WEB_ORIGINS only decides which list is used: it is not the origin list
    ('app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=["https://a.example.com"] if settings.WEB_ORIGINS else [])\n', False),
])
def test_cors_origins_by_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main: str, expected: bool) -> None:
    project(tmp_path, main, 'WEB_ORIGINS=["*"]\n')
    found = check(tmp_path, monkeypatch, "--target", "env", "--target", "settings")
    assert ((".env.production", 1, "velro/cors-no-wildcard") in found) is expected


@pytest.mark.parametrize(("main", "expected"), [
    ("app = FastAPI(debug=settings.SERVER_TRACE)\n", True),
    ('app = FastAPI(docs_url="/docs" if settings.SERVER_TRACE else None)\n', True),
    ("app = FastAPI()\nTRACE = settings.SERVER_TRACE\n", False),
])
def test_debug_flag_by_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, main: str, expected: bool) -> None:
    project(tmp_path, main, "SERVER_TRACE=true\n")
    found = check(tmp_path, monkeypatch, "--target", "env", "--target", "settings")
    assert ((".env.production", 1, "velro/debug-disabled") in found) is expected


def test_an_environment_name_compared_in_a_docs_switch_is_not_a_debug_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path, 'ENV = os.getenv("ENVIRONMENT", "production")\napp = FastAPI(docs_url=None if ENV == "production" else "/docs")\n',
            "ENVIRONMENT=production\n")
    found = check(tmp_path, monkeypatch, "--target", "env", "--target", "settings")
    assert not [f for f in found if f[2] == "velro/debug-disabled"]


def test_without_the_model_roles_fall_back_to_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path, SIGNS, f"AUTH_SIGNING_KEY={KEY50}\nJWT_SECRET={KEY50}\n")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["lint", ".env.production"])
    assert "JWT_SECRET is 50 characters" in res.output and "AUTH_SIGNING_KEY is" not in res.output
