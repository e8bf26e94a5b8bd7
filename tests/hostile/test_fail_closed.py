"""Hostile inputs, family "fail closed" (issue 18, item 6): what could not be
checked is a problem (exit 2) naming it, never a silent pass.

Each test runs the real command line in a process with a 10 s bound.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

JWT = "q8Zr1Xv9Lm2Kp7Tn4Wb6Yc3Hd5Jf0Gs8Ae1Ru"

# Runs the CLI with one folder unlistable (PermissionError from os.scandir and
# os.open), for a root user that chmod cannot lock out.
_DENY = """
import os, runpy, sys
deny = os.path.abspath(sys.argv.pop(1))
real_scandir, real_open = os.scandir, os.open
def scandir(p="."):
    if os.path.abspath(p) == deny:
        raise PermissionError(13, "Permission denied", p)
    return real_scandir(p)
def op(p, *a, **k):
    if isinstance(p, str) and os.path.abspath(p) == deny:
        raise PermissionError(13, "Permission denied", p)
    return real_open(p, *a, **k)
os.scandir, os.open = scandir, op
sys.argv[0] = "velro-policy"
runpy.run_module("velro_policy", run_name="__main__")
"""


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, locked: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI, as ``tests/conftest.py``'s ``velro()``, bounded to 10 s.  ``locked``: a folder
    the process cannot list (by chmod, or for root by refusing it in the process)."""
    cmd = [sys.executable, "-m", "velro_policy", *args]
    if locked is not None and os.geteuid() == 0:
        cmd = [sys.executable, "-c", _DENY, str(locked), *args]
    return subprocess.run(cmd, cwd=str(cwd), env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=10)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def locked_repo(tmp_path: Path):  # type: ignore[no-untyped-def]
    if not hasattr(os, "geteuid"):
        pytest.skip("POSIX permissions")
    write(tmp_path / "ok" / ".env.production", "ENVIRONMENT=production\nDEBUG=false\n")
    locked = tmp_path / "locked"
    write(locked / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    if os.geteuid() != 0:
        locked.chmod(0)
    yield tmp_path
    locked.chmod(0o755)


def test_an_unreadable_folder_is_a_problem_naming_it(locked_repo: Path) -> None:
    """It was skipped without a word, exit 0: the env file inside was never checked."""
    res = run(["lint", "."], locked_repo, locked=locked_repo / "locked")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "locked: folder cannot be listed (permission denied) and may hold env files" in res.stderr
    assert "1 could not be checked" in res.stdout  # ok/.env.production was still checked


def test_an_excluded_unreadable_folder_is_not_a_problem(locked_repo: Path) -> None:
    write(locked_repo / "velro-policy.yaml", "exclude:\n  - locked\n")
    res = run(["lint", "."], locked_repo, locked=locked_repo / "locked")
    assert res.returncode == 0, res.stdout + res.stderr


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.fixture
def committed_repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    write(tmp_path / ".env.production", f"ENVIRONMENT=production\nDEBUG=false\nJWT_SECRET={JWT}\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".env.production")
    _git(tmp_path, "commit", "-qm", "env")
    return tmp_path


ONLY = ["--only", "velro/env-secret-committed"]


def test_the_committed_secret_is_found(committed_repo: Path) -> None:
    res = run(["lint", *ONLY, ".env.production"], committed_repo)
    assert res.returncode == 1 and "velro/env-secret-committed" in res.stdout, res.stdout + res.stderr


def test_a_bogus_git_dir_is_could_not_check(committed_repo: Path) -> None:
    """It passed silently: git failed, and the file counted as not tracked."""
    res = run(["lint", *ONLY, ".env.production"], committed_repo, env={"GIT_DIR": str(committed_repo / "nowhere")})
    assert res.returncode == 2, res.stdout + res.stderr
    assert ".env.production: could not check whether it is committed to git: git ls-files failed (fatal:" in res.stderr
    assert JWT[:8] not in res.stdout + res.stderr


def test_a_repository_git_refuses_is_could_not_check(committed_repo: Path) -> None:
    """``safe.directory``: a repository owned by someone else.  With more files than the
    index fast path takes, git is asked, refuses, and every file is "could not check"."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to give the repository to another owner")
    for i in range(70):
        (committed_repo / f"m{i}").mkdir()
        shutil.copy(committed_repo / ".env.production", committed_repo / f"m{i}" / ".env.production")
    env = {"GIT_CONFIG_GLOBAL": str(committed_repo / "no-global-config"), "GIT_CONFIG_NOSYSTEM": "1"}
    try:
        for root, dirs, files in os.walk(committed_repo):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), 65534, 65534)
        os.lchown(committed_repo, 65534, 65534)
        res = run(["lint", *ONLY, "."], committed_repo, env=env)
    finally:
        for root, dirs, files in os.walk(committed_repo):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), 0, 0)
        os.lchown(committed_repo, 0, 0)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "could not check whether it is committed to git" in res.stderr
    assert "dubious ownership" in res.stderr


def test_a_non_utf8_file_name_is_shown_escaped(tmp_path: Path) -> None:
    """One such name anywhere made every run exit 2 ("unexpected UnicodeEncodeError")."""
    name = os.fsdecode(b".env.prod\xff")
    try:
        (tmp_path / name).write_text("ENVIRONMENT=production\nDEBUG=true\n")
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses non-UTF-8 names")
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=false\n")
    for fmt in ("text", "json", "sarif", "junit", "github"):
        res = run(["lint", "--target", "env", "-f", fmt, "."], tmp_path)
        assert res.returncode == 1, (fmt, res.stderr)
        assert "UnicodeEncodeError" not in res.stderr
        assert "prod\\xff" in res.stdout or "prod\\\\xff" in res.stdout, fmt


# --- Semgrep that answers but proves nothing (a stand-in: _harness.fake_semgrep) -----------------


@pytest.fixture
def code_repo(tmp_path: Path) -> dict[str, object]:
    from _harness import fake_semgrep

    repo = tmp_path / "repo"
    write(repo / "main.py", "from fastapi import FastAPI\napp = FastAPI(debug=True)\n")
    return {"repo": repo, "env": {"VELRO_POLICY_SEMGREP": str(fake_semgrep(tmp_path)), "FAKE_ENV": str(tmp_path / "seen")},
            "seen": tmp_path / "seen"}


@pytest.mark.parametrize(("mode", "message"), [
    ("empty", "main.py: semgrep's report does not list the files it scanned"),  # was: no findings, exit 0
    ("fatal", "semgrep reported an error: fatal: out of memory"),  # a fatal error in the JSON, exit 0
])
def test_a_semgrep_report_that_proves_nothing_is_could_not_check(code_repo: dict, mode: str, message: str) -> None:
    from _harness import check, cli

    res = check(cli(["check", "--target", "code", "."], code_repo["repo"], env={**code_repo["env"], "FAKE_MODE": mode}), 2)
    assert message in res.stderr


def test_semgrep_runs_without_inherited_semgrep_variables(code_repo: dict) -> None:
    """SEMGREP_BASELINE_COMMIT makes Semgrep report only findings newer than that commit."""
    from _harness import check, cli

    env = {**code_repo["env"], "FAKE_MODE": "ok", "SEMGREP_BASELINE_COMMIT": "HEAD", "SEMGREP_RULES": "x"}
    check(cli(["check", "--target", "code", "."], code_repo["repo"], env=env), 0)
    seen = set(code_repo["seen"].read_text().split())  # type: ignore[attr-defined]
    assert seen == {"SEMGREP_SEND_METRICS", "SEMGREP_ENABLE_VERSION_CHECK"}, seen


def test_a_rule_level_semgrep_paths_filter_is_refused(code_repo: dict) -> None:
    """``paths: {exclude: ["*"]}`` in a rule's semgrep block made the rule pass every file unchecked."""
    from _harness import check, cli

    repo = code_repo["repo"]
    write(repo / "policies" / "own.yaml", """apiVersion: velro-policy/v1
kind: Policy
metadata: {name: acme/own, title: Our own code rules}
target: code
rules:
  - id: acme/no-debug-app
    title: No debug app
    severity: high
    message: debug app
    remediation: Turn debug off.
    semgrep:
      pattern: FastAPI(debug=True)
      paths: {exclude: ["*"]}
""")
    write(repo / "velro-policy.yaml", "policies: [policies]\n")  # type: ignore[operator]
    res = check(cli(["check", "--target", "code", "."], repo, env={**code_repo["env"], "FAKE_MODE": "ok"}), 2)
    assert "rule acme/no-debug-app: a Semgrep `paths:` filter is not supported" in res.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["lint", "--only", "velro/no-such-*", ".env.production"], "--only: velro/no-such-* matches no rule"),
    (["lint", "--skip", "*", ".env.production"], "--only/--skip leave no rule to run"),
    (["lint", "--target", "code", ".env.production"], ".env.production: not checked: --target code does not read it (env does)"),
])
def test_options_that_leave_nothing_to_check_are_errors(tmp_path: Path, args: list[str], message: str) -> None:
    from _harness import check, cli

    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    res = check(cli(args, tmp_path), 2)
    assert message in res.stderr


def test_python_2_code_is_could_not_check_or_a_finding(tmp_path: Path) -> None:
    from _harness import check, cli

    write(tmp_path / "settings.py", 'DEBUG = True\nprint "deployed"\n')
    res = check(cli(["lint", "--target", "settings", "settings.py"], tmp_path), 2)
    assert "settings.py:2:1: is not valid Python 3" in res.stderr
    res = check(cli(["check", "--target", "settings", "."], tmp_path), (1, 2))
    assert "settings.py:2:1: high velro/" in res.stdout


def test_an_empty_pack_is_an_error(tmp_path: Path) -> None:
    """builtin: false and no policy of one's own: "no findings in 1 file checked", exit 0."""
    from _harness import check, cli

    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    write(tmp_path / "velro-policy.yaml", "builtin: false\n")
    res = check(cli(["lint", ".env.production"], tmp_path), 2)
    assert "no rule to run: the built-in pack is off" in res.stderr


def test_an_emptied_cache_entry_is_not_trusted(tmp_path: Path) -> None:
    """A compiled-pack entry whose key still matches but whose rules were emptied made every run pass."""
    import json

    from _harness import check, cli

    cache = tmp_path / "cache"
    write(tmp_path / "repo" / ".env.production", "ENVIRONMENT=production\nDEBUG=true\n")
    env = {"VELRO_POLICY_CACHE_DIR": str(cache)}
    check(cli(["lint", ".env.production"], tmp_path / "repo", env=env), 1)
    entries = sorted(cache.glob("pack-*.json"))
    assert entries
    for entry in entries:
        data = json.loads(entry.read_text())
        data["rules"] = []
        entry.write_text(json.dumps(data))
    res = check(cli(["lint", ".env.production"], tmp_path / "repo", env=env), 1)
    assert "velro/debug-disabled" in res.stdout


def test_a_symlinked_module_is_scanned_as_its_target(tmp_path: Path) -> None:
    """Semgrep refuses a symlink as a scanning root, which failed the whole scan (exit 2 for every run)."""
    from _harness import check, cli, fake_semgrep

    write(tmp_path / "repo" / "app" / "real.py", "x = 1\n")
    (tmp_path / "repo" / "app" / "config.py").symlink_to("real.py")
    (tmp_path / "repo" / "settings.py").symlink_to(Path("app") / "real.py")
    env = {"VELRO_POLICY_SEMGREP": str(fake_semgrep(tmp_path)), "FAKE_MODE": "ok"}
    res = check(cli(["check", "--target", "code", "."], tmp_path / "repo", env=env), 0)
    assert "no findings in 3 files checked" in res.stdout
