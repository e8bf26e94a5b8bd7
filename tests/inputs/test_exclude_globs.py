"""code_exclude / python_exclude globs: a pattern without '/' matches a file name only, so a project
checked out under a folder named like a test (test_case/, pytest's tmp folders) is still read."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write
from velro_policy.inputs._files import tail_glob_match
from velro_policy.main import cli

DEFAULTS = ["test_*.py", "*_test.py", "conftest.py", "tests/*", "test/*"]


@pytest.mark.parametrize(("path", "excluded"), [
    ("test_case/proj/app/config.py", False), ("app/test_config.py", True), ("app/config_test.py", True),
    ("tests/unit/helpers.py", True), ("app/tests/x.py", True), ("pkg/conftest.py", True), ("test_dir/app.py", False),
])
def test_default_excludes(path: str, excluded: bool) -> None:
    assert tail_glob_match(path, DEFAULTS, None) is excluded


def test_a_project_under_a_test_named_folder_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "test_checkout" / "proj"
    write(root / "app" / "config.py", "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    debug: bool = True\n")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["check", "test_checkout/proj", "--target", "settings", "--format", "json"], catch_exceptions=False)
    rules = {f["rule_id"] for f in json.loads(res.stdout)["findings"]}
    assert "velro/settings-debug-default" in rules, res.output
