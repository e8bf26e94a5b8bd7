"""The pre-commit framework against this checkout, shared by tests/commands/test_hooks_precommit.py
and tests/hostile/test_planted_modules.py: a snapshot of the working tree as a git repository and
one PRE_COMMIT_HOME per test session (the hook environments are built once, ~40 s)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO


def hooks() -> dict[str, dict]:
    return {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}


def git_env(home: Path) -> dict[str, str]:
    """Hermetic git: no global/system config (a global core.hooksPath would break
    hook installation), fixed identity."""
    return {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never", "NO_COLOR": "1",
    }


def run(args: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and res.returncode != 0:
        raise AssertionError(f"{args} failed: {res.stdout}\n{res.stderr}")
    return res


def shared_hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """A git repo holding this checkout's files as they are now, its commit, and a
    PRE_COMMIT_HOME; made once per test session, in a folder every xdist worker
    of the session shares (the workers' base temp folders are its children)."""
    from filelock import FileLock  # pre-commit -> virtualenv -> filelock

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    root = base / "velro-policy-hook-repo"
    src, home, done = root / "src", root / "pre-commit-home", root / "commit"
    with FileLock(str(base / "velro-policy-hook-repo.lock")):
        if not done.is_file():
            shutil.rmtree(root, ignore_errors=True)
            home.mkdir(parents=True)
            env = git_env(home)
            listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, env=env,
                                    capture_output=True, check=True).stdout
            for name in filter(None, listed.decode().split("\0")):
                source = REPO / name
                if source.is_file():
                    target = src / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(source.read_bytes())
                    os.chmod(target, source.stat().st_mode)
            run(["git", "init", "-q", "."], src, env)
            run(["git", "add", "-A", "."], src, env)
            run(["git", "commit", "-q", "-m", "snapshot"], src, env)
            done.write_text(run(["git", "rev-parse", "HEAD"], src, env).stdout.strip())
    return src, done.read_text(), home
