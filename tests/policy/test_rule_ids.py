"""A typo in a rule id never turns the gate green (issue 17, item 2)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write
from velro_policy.main import cli


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\nCORS_ORIGINS=*\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["check", ".", *args])
    return res.exit_code, res.output


@pytest.mark.parametrize("args, said", [
    (["--only", "velro/debug-disabld"], "did you mean velro/debug-disabled"),
    (["--skip", "velro/debug-disabld"], "did you mean velro/debug-disabled"),
    (["--only", "velro/nothing-*"], "matches no rule"),
    (["--skip", "velro/*"], "leave no rule to run"),
])
def test_unknown_ids_and_empty_selections_exit_2(project: Path, args: list[str], said: str) -> None:
    code, out = run(*args)
    assert code == 2 and said in out


def test_globs_select_in_only_and_skip(project: Path) -> None:
    code, out = run("--only", "velro/debug-*")
    assert code == 1 and "velro/debug-disabled" in out and "cors" not in out
    code, out = run("--skip", "velro/debug-*")
    assert code == 1 and "velro/debug-disabled" not in out and "velro/cors" in out


@pytest.mark.parametrize("config, said", [
    ("disable: [velro/debug-disabld]\n", "disable: velro/debug-disabld matches no rule; did you mean velro/debug-disabled"),
    ("severity: {velro/no-such-rule: low}\n", "severity: velro/no-such-rule matches no rule"),
])
def test_unknown_ids_in_the_config_exit_2_naming_the_file(project: Path, config: str, said: str) -> None:
    write(project / "velro-policy.yaml", config)
    code, out = run()
    assert code == 2 and said in out and "velro-policy.yaml" in out


def test_globs_work_in_disable_and_severity(project: Path) -> None:
    write(project / "velro-policy.yaml", "disable: ['velro/debug-*']\nseverity: {'velro/cors-*': info}\n")
    code, out = run("--format", "json")
    assert '"velro/debug-disabled"' not in out
    import json

    data = json.loads(out)
    cors = [f for f in data["findings"] if f["rule_id"].startswith("velro/cors-")]
    assert cors and all(f["severity"] == "info" for f in cors)
