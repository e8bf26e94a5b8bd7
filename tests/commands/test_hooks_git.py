"""Plain git hooks (hooks/), `velro-policy hooks install|uninstall`, --staged,
--changed-since and the committed-secrets rule, with real git in temp repos."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli as in_process
from conftest import write

BAD = "ENVIRONMENT=production\nDEBUG=true\n"
GOOD = "ENVIRONMENT=production\nDEBUG=false\n"
SECRET = "q8Zt3VnR6wXy1Lp4Kd7Hs0Bf2Gj5Mc9Na3Qe6Tu8Wv1Yx4Zb7Ck0Dm2Fn5Hp8Jr1"


def git_env() -> dict[str, str]:
    return {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "NO_COLOR": "1"}


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(["git", *args], cwd=root, env=git_env(), capture_output=True, text=True, timeout=300)
    if check and res.returncode != 0:
        raise AssertionError(f"git {args}: {res.stdout}{res.stderr}")
    return res


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line in process (git, and the hooks a commit starts, are real processes)."""
    return in_process(list(args), cwd=root, env=git_env())


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", ".")
    write(root / "README.md", "app\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "init")
    return root


# -- hooks install / uninstall -------------------------------------------------

def test_plain_pre_commit_hook_blocks_a_bad_commit_and_passes_a_good_one(repo: Path) -> None:
    res = cli(repo, "hooks", "install")
    assert res.returncode == 0 and "installed pre-commit hook: .git/hooks/pre-commit" in res.stdout
    hook = repo / ".git" / "hooks" / "pre-commit"
    assert os.access(hook, os.X_OK) and f"VELRO_POLICY_PYTHON={sys.executable}" in hook.read_text()
    # isolated: the top of the work tree (the hook's current folder) never on sys.path (tests/hostile/)
    assert "VELRO_POLICY_ISOLATE=-I " in hook.read_text()
    write(repo / ".env.production", BAD)
    git(repo, "add", ".env.production")
    res = git(repo, "commit", "-m", "bad", check=False)
    assert res.returncode != 0
    assert ".env.production:2:1: critical velro/debug-disabled" in res.stdout + res.stderr
    write(repo / ".env.production", GOOD)
    git(repo, "add", ".env.production")
    assert git(repo, "commit", "-q", "-m", "good", check=False).returncode == 0


def test_plain_hook_judges_the_index_not_the_working_tree(repo: Path) -> None:
    assert cli(repo, "hooks", "install").returncode == 0
    write(repo / ".env.production", BAD)
    git(repo, "add", ".env.production")
    git(repo, "commit", "-q", "--no-verify", "-m", "bad, committed before the hook")
    # a staged fix while the working tree is still bad: passes
    write(repo / ".env.production", GOOD)
    git(repo, "add", ".env.production")
    write(repo / ".env.production", BAD + "# still bad here\n")
    res = git(repo, "commit", "-m", "staged fix", check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    # the reverse: bad staged, fixed working tree: fails
    git(repo, "add", ".env.production")
    write(repo / ".env.production", GOOD)
    res = git(repo, "commit", "-m", "staged bad", check=False)
    assert res.returncode != 0 and "velro/debug-disabled" in res.stdout + res.stderr


def test_the_shipped_script_works_when_copied_by_hand(repo: Path) -> None:
    from velro_policy.resources import hooks_dir

    bin_dir = Path(sys.executable).parent
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_bytes((hooks_dir() / "pre-commit").read_bytes())
    hook.chmod(0o755)
    env = {**git_env(), "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    write(repo / "prod.env", BAD)
    git(repo, "add", "prod.env")
    res = subprocess.run(["git", "commit", "-m", "bad"], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode != 0 and "prod.env:2:1: critical velro/debug-disabled" in res.stdout + res.stderr


def test_install_respects_core_hooks_path_and_refuses_foreign_hooks(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", ".githooks")
    res = cli(repo, "hooks", "install", "--hook", "pre-commit", "--hook", "pre-push")
    assert res.returncode == 0, res.stderr
    assert (repo / ".githooks" / "pre-commit").is_file() and (repo / ".githooks" / "pre-push").is_file()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert cli(repo, "hooks", "install").returncode == 0  # reinstalling our own hook is fine

    foreign = repo / ".githooks" / "pre-commit"
    foreign.write_text("#!/bin/sh\necho team hook\n")
    res = cli(repo, "hooks", "install")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "did not write is already installed; rerun with --force" in res.stderr
    assert foreign.read_text() == "#!/bin/sh\necho team hook\n"
    res = cli(repo, "hooks", "uninstall", "--hook", "pre-commit")
    assert "was not written by velro-policy; left in place" in res.stderr and foreign.exists()

    assert cli(repo, "hooks", "install", "--force").returncode == 0
    assert "velro-policy-hook:" in foreign.read_text()
    assert (repo / ".githooks" / "pre-commit.pre-velro-policy").read_text() == "#!/bin/sh\necho team hook\n"
    res = cli(repo, "hooks", "uninstall")
    assert res.returncode == 0 and "restored the previous one" in res.stdout
    assert foreign.read_text() == "#!/bin/sh\necho team hook\n"
    assert not (repo / ".githooks" / "pre-push").exists()


def _fake_python(folder: Path, body: str) -> str:
    exe = write(folder / "python", f"#!/bin/sh\n{body}\n")
    exe.chmod(0o755)
    return str(exe)


def test_isolation_flags_probe_the_recorded_python(tmp_path: Path) -> None:
    from velro_policy.commands.hooks import isolation_flags
    from velro_policy.errors import InputError

    assert isolation_flags() == ["-I"]  # a virtualenv: -I still finds velro-policy
    # a --user install: -I leaves the user site-packages out; -E -P keeps it and still
    # leaves the current folder and PYTHONPATH out (Python 3.11+)
    user_site = _fake_python(tmp_path / "user", 'case "$1" in -I) echo "ModuleNotFoundError: velro_policy" >&2; exit 1 ;; esac\nexit 0')
    if sys.version_info >= (3, 11):
        assert isolation_flags(user_site) == ["-E", "-P"]
    broken = _fake_python(tmp_path / "broken", 'echo "ModuleNotFoundError: No module named velro_policy" >&2\nexit 1')
    with pytest.raises(InputError) as err:
        isolation_flags(broken)
    message = str(err.value)
    assert "cannot import velro-policy when run isolated (-I: ModuleNotFoundError: No module named velro_policy)" in message
    assert "must never import modules from the repository" in message and "virtualenv" in message


def test_hooks_install_outside_a_repository_is_one_line_exit_2(tmp_path: Path) -> None:
    res = cli(tmp_path, "hooks", "install")
    assert res.returncode == 2 and res.stderr.startswith("velro-policy: error: git rev-parse failed")
    assert res.stderr.count("\n") == 1


def test_pre_push_hook_checks_files_changed_against_the_remote(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    write(repo / "legacy" / ".env.staging", "ENVIRONMENT=staging\nVERBOSE_ERROR_MESSAGES=true\n")  # old debt
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "legacy")
    git(repo, "push", "-q", "origin", "HEAD:refs/heads/main")
    assert cli(repo, "hooks", "install", "--hook", "pre-push").returncode == 0
    write(repo / "README.md", "app, documented\n")
    git(repo, "commit", "-q", "-am", "docs")
    res = git(repo, "push", "origin", "HEAD:refs/heads/main", check=False)
    assert res.returncode == 0, res.stdout + res.stderr  # the legacy file did not change
    write(repo / ".env.production", BAD)
    git(repo, "add", ".env.production")
    git(repo, "commit", "-q", "-m", "bad")
    res = git(repo, "push", "origin", "HEAD:refs/heads/main", check=False)
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert ".env.production:2:1: critical velro/debug-disabled" in out and "legacy/.env.staging" not in out


# -- --staged and --changed-since ----------------------------------------------

def test_staged_reads_index_blobs_and_names_real_paths(repo: Path) -> None:
    write(repo / "deploy" / ".env.production", BAD)
    write(repo / "docs" / "index.en.md", "DEBUG=true\n")
    git(repo, "add", ".")
    write(repo / "deploy" / ".env.production", GOOD)
    res = cli(repo, "lint", "--staged", "-f", "json")
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert [(f["path"], f["rule_id"]) for f in doc["findings"]] == [("deploy/.env.production", "velro/debug-disabled")]
    assert [s["path"] for s in doc["files"]] == ["deploy/.env.production"]
    # only what is under the paths given
    res = cli(repo, "lint", "--staged", "docs")
    assert res.returncode == 0 and "nothing was checked" in res.stdout


def test_changed_since_checks_only_changed_files(repo: Path) -> None:
    write(repo / "old" / ".env.staging", "ENVIRONMENT=staging\nVERBOSE_ERROR_MESSAGES=true\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "old")
    git(repo, "branch", "base")
    write(repo / "new" / ".env.production", BAD)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "new")
    write(repo / "wip" / ".env.production", BAD)  # untracked: not part of the diff
    res = cli(repo, "check", "--changed-since", "base", "-f", "json")
    assert res.returncode == 1, res.stderr
    assert {f["path"] for f in json.loads(res.stdout)["findings"]} == {"new/.env.production"}
    res = cli(repo, "check", "--changed-since", "no-such-branch")
    assert res.returncode == 2 and "check that 'no-such-branch' is a branch, tag or commit" in res.stderr
    res = cli(repo, "check", "--changed-since", "base", "--staged")
    assert res.returncode == 2 and "cannot be combined" in res.stderr


def test_staged_outside_a_repository_fails_closed(tmp_path: Path) -> None:
    write(tmp_path / ".env.production", BAD)
    res = cli(tmp_path, "lint", "--staged")
    assert res.returncode == 2 and "--staged needs a git repository" in res.stderr and "Traceback" not in res.stderr


# -- committed secrets ---------------------------------------------------------

def test_a_tracked_production_env_file_with_a_real_secret_is_a_finding(repo: Path) -> None:
    write(repo / ".env.production", GOOD + f"SUPABASE_SERVICE_ROLE_KEY={SECRET}\n")
    write(repo / "ignored" / ".env.production", GOOD + f"SUPABASE_SERVICE_ROLE_KEY={SECRET}\n")
    write(repo / ".gitignore", "ignored/\n")
    res = cli(repo, "check", ".", "-f", "json")
    committed = [f for f in json.loads(res.stdout)["findings"] if f["rule_id"] == "velro/env-secret-committed"]
    assert committed == []  # nothing is tracked yet
    git(repo, "add", ".env.production", ".gitignore")
    res = cli(repo, "check", ".", "-f", "json")
    doc = json.loads(res.stdout)
    committed = [f for f in doc["findings"] if f["rule_id"] == "velro/env-secret-committed"]
    assert [(f["path"], f["line"], f["severity"]) for f in committed] == [(".env.production", 3, "critical")]
    assert "git rm --cached" in committed[0]["remediation"] and "rotate" in committed[0]["remediation"]
    assert SECRET not in res.stdout
    git(repo, "rm", "-q", "--cached", ".env.production")
    res = cli(repo, "check", ".", "-f", "json")
    assert not [f for f in json.loads(res.stdout)["findings"] if f["rule_id"] == "velro/env-secret-committed"]


def test_lint_of_an_env_file_without_real_secrets_never_starts_git(tmp_path: Path) -> None:
    write(tmp_path / ".env", "ENVIRONMENT=production\nDEBUG=false\nJWT_SECRET=REPLACE_WITH_PRODUCTION_SECRET\n")
    code = ("import sys\nfrom velro_policy.main import main\nrc = main(['lint', '.env', '-f', 'json'])\n"
            "print('GIT' if 'velro_policy.inputs.git' in sys.modules else 'NOGIT', file=sys.stderr)\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.stderr.strip().endswith("NOGIT"), res.stderr
    write(tmp_path / ".env", f"ENVIRONMENT=production\nJWT_SECRET={SECRET}{SECRET}\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.stderr.strip().endswith("GIT"), res.stderr  # a real-looking secret: git is asked, once


def test_staged_secret_blocks_the_plain_hook_without_asking_git_about_tracking(repo: Path) -> None:
    assert cli(repo, "hooks", "install").returncode == 0
    write(repo / "deploy" / ".env.staging", f"ENVIRONMENT=staging\nJWT_SECRET_KEY={SECRET}\n")
    git(repo, "add", "deploy/.env.staging")
    res = git(repo, "commit", "-m", "secret", check=False)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "deploy/.env.staging:2:1: critical velro/env-secret-committed: JWT_SECRET_KEY (in the git index) holds what looks like a real secret" in out
    assert SECRET not in out
    git(repo, "rm", "-q", "--cached", "deploy/.env.staging")
    write(repo / ".gitignore", "deploy/.env.staging\n")
    git(repo, "add", ".gitignore")
    res = git(repo, "commit", "-m", "ignore it", check=False)
    assert res.returncode == 0, res.stdout + res.stderr
