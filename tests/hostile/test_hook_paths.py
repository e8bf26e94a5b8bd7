"""Git hook paths (issue 18, item 1's "hooks skip staged files"): what a commit adds is checked,
wherever it is and whatever its name.

A walk skips ``node_modules/``, ``.venv/``, ``.vscode/``... as not the project's; a commit that
adds ``node_modules/.env.production`` is exactly what the hook is for.  Each case uses a real
repository and the real command line (10 s bound).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _harness import check, cli, write

BAD = "ENVIRONMENT=production\nDEBUG=true\n"
GOOD = "ENVIRONMENT=production\nDEBUG=false\n"
FOLDERS = ["node_modules", ".venv", ".vscode", ".idea", ".cache", ".direnv", "venv", "__pycache__", "site-packages"]
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str, check_: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check_,
                          env={**os.environ, **GIT_ENV, "HOME": str(repo)})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    write(tmp_path / ".env.production", GOOD)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    return tmp_path


def stage_everywhere(repo: Path) -> list[str]:
    names = [f"{folder}/.env.production" for folder in FOLDERS] + ["app/node_modules/x/.env.staging"]
    for name in names:
        write(repo / name, BAD.replace("production", "staging") if "staging" in name else BAD)
    git(repo, "add", "-f", *names)
    return names


def test_staged_files_in_skipped_folders_are_checked(repo: Path) -> None:
    names = stage_everywhere(repo)
    res = check(cli(["check", "--staged"], repo), 1)
    for name in names:
        assert f"{name}:2:1: critical velro/debug-disabled" in res.stdout, name


def test_changed_files_in_skipped_folders_are_checked(repo: Path) -> None:
    git(repo, "checkout", "-qb", "feature")
    names = stage_everywhere(repo)
    git(repo, "commit", "-qm", "vendored env files")
    res = check(cli(["check", "--changed-since", "main"], repo), 1)
    for name in names:
        assert f"{name}:2:1: critical velro/debug-disabled" in res.stdout, name


def test_the_config_exclude_still_applies(repo: Path) -> None:
    stage_everywhere(repo)
    write(repo / "velro-policy.yaml", "exclude: [node_modules, '*/node_modules/*', '.*', venv, __pycache__, site-packages]\n")
    check(cli(["check", "--staged"], repo), 0)


def test_a_name_with_a_newline_is_checked_and_shown_escaped(repo: Path) -> None:
    """A newline in a name made it no env file (``.`` stops at a newline), and would start a line of its own
    in the output, one that could pass for a finding or a summary."""
    name = "a\nno findings in 9 files checked\nprod.env"
    write(repo / name, BAD)
    git(repo, "add", name)
    res = check(cli(["check", "--staged"], repo), 1)
    assert "a\\nno findings in 9 files checked\\nprod.env:2:1: critical velro/debug-disabled" in res.stdout
    assert "\nno findings" not in res.stdout


def test_an_unresolved_merge_conflict_is_could_not_check(repo: Path) -> None:
    """Stages 1-3 only: there is no version to commit, and neither side was checked."""
    git(repo, "checkout", "-qb", "other")
    write(repo / ".env.production", BAD)
    git(repo, "commit", "-qam", "debug on")
    git(repo, "checkout", "-q", "main")
    write(repo / ".env.production", GOOD + "X=1\n")
    git(repo, "commit", "-qam", "x")
    git(repo, "merge", "other", check_=False)
    res = check(cli(["check", "--staged"], repo), 2)
    assert ".env.production: has an unresolved merge conflict" in res.stderr


def test_the_plain_hook_refuses_the_commit(repo: Path) -> None:
    """End to end: `velro-policy hooks install`, then a real `git commit` of node_modules/.env.production."""
    res = subprocess.run([sys.executable, "-m", "velro_policy", "hooks", "install"], cwd=repo, capture_output=True, text=True,
                         timeout=10)
    assert res.returncode == 0, res.stderr
    write(repo / "node_modules" / ".env.production", BAD)
    git(repo, "add", "-f", "node_modules/.env.production")
    commit = git(repo, "commit", "-qm", "vendored", check_=False)
    assert commit.returncode != 0
    assert "node_modules/.env.production:2:1: critical velro/debug-disabled" in commit.stdout + commit.stderr
