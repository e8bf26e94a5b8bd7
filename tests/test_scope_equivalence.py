"""One answer per file (issue 17, item 1): the findings about a file (rule, line, severity,
and the key the message is about) are the same whatever the scope of the run: `check .`, `lint FILE`, `lint --target ...
FILE` (what each pre-commit hook runs, as .pre-commit-hooks.yaml says), `check --staged` (the plain git hook) and
`check --changed-since REF` (CI on a pull request).  Context may add facts to a message (a
whole run says "no deployed module reads it", `lint .env.production` alone "no settings module
reads it"), so the message is compared by its subject only; a finding is never removed.  Real git, real Semgrep; the CLI in-process (CliRunner)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import semgrep_once, write
from velro_policy.main import cli

ENV_PRODUCTION = """\
ENVIRONMENT=production
DEBUG=true
JWT_SECRET_KEY=short-and-weak
ALLOWED_ORIGINS=*
RATE_LIMIT_LOGIN=10/minute
"""
ENV_EXAMPLE = "ENVIRONMENT=\nDEBUG=\nJWT_SECRET_KEY=\n"
CONFIG = """\
from pydantic_settings import BaseSettings

SECURITY_HEADERS = {"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff"}
RATE_LIMITS = {"login": "20/minute", "register": "2/hour"}


class Settings(BaseSettings):
    environment: str = "production"
    debug: bool = True
    allowed_origins: list[str] = ["*"]


settings = Settings()
"""
MAIN = """\
from fastapi import FastAPI, HTTPException

from app.config import settings

app = FastAPI(debug=True)


@app.get("/items")
def items():
    try:
        return {"items": []}
    except Exception as exc:
        raise HTTPException(status_code=500, detail=str(exc))
"""
FILES = {".env.production": ENV_PRODUCTION, ".env.example": ENV_EXAMPLE, "app/__init__.py": "", "app/config.py": CONFIG,
         "app/main.py": MAIN}

def hook_targets() -> dict[str, list[str]]:
    """hook id -> its --target arguments, read from the shipped .pre-commit-hooks.yaml."""
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load(Path(__file__).resolve().parents[1].joinpath(".pre-commit-hooks.yaml").read_text())
    return {h["id"]: [a for a in h["entry"].split() if a != "--target" and not a.startswith(("python", "-"))
                      and a not in ("velro_policy", "lint")] for h in hooks}


HOOK_OF = {".env.production": "velro-policy-env", ".env.example": "velro-policy-env", "app/config.py": "velro-policy-settings",
           "app/main.py": "velro-policy-code"}

Answer = set[tuple[str, int, str, str]]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=root, check=True,
                   capture_output=True)


def answers(root: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Answer]:
    monkeypatch.chdir(root)
    res = CliRunner().invoke(cli, [*args, "--format", "json", "--no-color"], catch_exceptions=False)
    assert res.exit_code in (0, 1), (args, res.output)
    out: dict[str, Answer] = {}
    for f in json.loads(res.stdout)["findings"]:
        if f["suppressed"]:
            continue
        out.setdefault(f["path"], set()).add((f["rule_id"], f["line"], f["severity"], f["message"].split()[0]))
    return out


@pytest.fixture(scope="module")
def scopes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Answer]]:
    monkeypatch = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("scopes")
    git(root, "init", "-q")
    git(root, "commit", "-q", "--allow-empty", "-m", "empty")
    for name, text in FILES.items():
        write(root / name, text)
    # Runs that hand Semgrep exactly the same input (`check .`, `--staged` and `--changed-since` scan the
    # same three files, `lint app/main.py` and its hook the same one) share its one real scan.
    scans = semgrep_once(monkeypatch)
    try:
        got: dict[str, dict[str, Answer]] = {"check .": answers(root, ["check", "."], monkeypatch)}
        targets = hook_targets()
        for name, hook in HOOK_OF.items():
            got[f"lint {name}"] = answers(root, ["lint", name], monkeypatch)
            got[f"{hook} {name}"] = answers(root, ["lint", *(a for t in targets[hook] for a in ("--target", t)), name], monkeypatch)
        git(root, "add", "-A")
        got["check --staged"] = answers(root, ["check", "--staged", "."], monkeypatch)
        git(root, "commit", "-q", "-m", "files")
        got["check --changed-since HEAD~1"] = answers(root, ["check", "--changed-since", "HEAD~1", "."], monkeypatch)
        assert len(scans) == len(set(scans)) >= 3, scans  # each distinct set of files scanned by Semgrep itself
    finally:
        monkeypatch.undo()
    return got


SCOPES = [*(f"lint {n}" for n in HOOK_OF), *(f"{h} {n}" for n, h in HOOK_OF.items()), "check --staged", "check --changed-since HEAD~1"]


def test_every_scope_gives_each_file_the_whole_runs_answer(scopes: dict[str, dict[str, Answer]]) -> None:
    """One test over every scope (the runs are made once, in the fixture; a parametrized test
    would make them once per xdist worker)."""
    whole = scopes["check ."]
    assert set(HOOK_OF) - {".env.example"} <= set(whole), sorted(whole)  # the whole run finds something in every file
    assert hook_targets()["velro-policy-code"] == ["code", "app"]
    wrong = []
    for scope in SCOPES:
        got = scopes[scope]
        files = [scope.split()[-1]] if not scope.startswith("check") else list(HOOK_OF)
        for name in files:
            if got.get(name, set()) != whole.get(name, set()):
                wrong.append(f"{scope}: {name}\n only in this scope: {sorted(got.get(name, set()) - whole.get(name, set()))}\n"
                             f" only in check .: {sorted(whole.get(name, set()) - got.get(name, set()))}")
    assert not wrong, "\n".join(wrong)
