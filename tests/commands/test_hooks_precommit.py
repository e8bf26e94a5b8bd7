"""The pre-commit framework hooks (.pre-commit-hooks.yaml), run by the real
pre-commit against a temporary clone of this checkout (working tree included).

pre-commit builds the hook's virtualenv (``language: python``: pip installs
this package and its dependencies, about 40 s) once per test session: the
snapshot and PRE_COMMIT_HOME are shared by every xdist worker and every module
that uses them (tests/hostile/ too; tests/hookrepo.py), and pre-commit's own store lock lets one
process build while the others wait.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, write
from hookrepo import git_env, hooks, run, shared_hook_repo


@pytest.mark.parametrize("path", [
    ".env", ".env.production", "deploy/.env.staging.secure", "a/b/.env.example", "prod.env", "config/railway.env", ".env.local",
])
def test_env_hook_files_pattern_matches_env_files(path: str) -> None:
    assert re.search(hooks()["velro-policy-env"]["files"], path)


@pytest.mark.parametrize("path", [
    "docs/index.en.md", ".envrc", "environment.py", "env", "src/env/config.py", ".env/", "x.env.bak", "README.env.md",
    "docs/.environment", "notes.envelope",
])
def test_env_hook_files_pattern_rejects_everything_else(path: str) -> None:
    assert not re.search(hooks()["velro-policy-env"]["files"], path)
    assert "\\.env*" not in hooks()["velro-policy-env"]["files"]


def test_hook_manifest_is_valid_and_multi_file_hooks_run_serially() -> None:
    from pre_commit.clientlib import load_manifest

    loaded = {h["id"]: h for h in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))}
    assert set(loaded) == {"velro-policy-env", "velro-policy-settings", "velro-policy-code", "velro-policy"}
    for hid in ("velro-policy-env", "velro-policy-settings", "velro-policy-code", "velro-policy"):
        assert loaded[hid]["require_serial"] is True, hid
    # the hook environment's Python, isolated: nothing from the repository on sys.path (tests/hostile/)
    assert all(h["entry"].startswith("python -I -m velro_policy lint") and h["pass_filenames"] for h in loaded.values())
    assert loaded["velro-policy-code"]["types"] == ["python"]


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    return shared_hook_repo(tmp_path_factory)


@pytest.fixture()
def project(tmp_path: Path, hook_repo: tuple[Path, str, Path]) -> tuple[Path, dict[str, str]]:
    src, sha, home = hook_repo
    env = git_env(home)
    root = tmp_path / "project"
    root.mkdir()
    run(["git", "init", "-q", "."], root, env)
    write(root / ".pre-commit-config.yaml",
          f"repos:\n  - repo: {src.as_posix()}\n    rev: {sha}\n    hooks:\n      - id: velro-policy-env\n")
    run(["git", "add", ".pre-commit-config.yaml"], root, env)
    run([sys.executable, "-m", "pre_commit", "install"], root, env)
    return root, env


BAD = "ENVIRONMENT=production\nDEBUG=true\n"
GOOD = "ENVIRONMENT=production\nDEBUG=false\n"


def commit(root: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    return run(["git", "commit", "-m", message], root, env, check=False)


def test_commit_of_a_bad_production_env_file_fails_and_a_compliant_one_passes(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    write(root / ".env.production", BAD)
    run(["git", "add", ".env.production"], root, env)
    res = commit(root, env, "bad")
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "velro-policy (env files)" in out and "Failed" in out
    assert ".env.production:2:1: critical velro/debug-disabled: DEBUG is 'true'; must be false (production)" in out
    write(root / ".env.production", GOOD)
    run(["git", "add", ".env.production"], root, env)
    res = commit(root, env, "good")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Passed" in res.stdout + res.stderr


def test_the_staged_content_is_judged_not_the_working_tree(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    # staged fix, working tree still bad: passes (pre-commit stashes unstaged changes)
    write(root / ".env.production", GOOD)
    run(["git", "add", ".env.production"], root, env)
    write(root / ".env.production", BAD)
    res = commit(root, env, "staged fix")
    assert res.returncode == 0, res.stdout + res.stderr
    assert (root / ".env.production").read_text() == BAD  # the unstaged change is given back
    # the reverse: bad staged, good working tree: fails
    run(["git", "add", ".env.production"], root, env)
    write(root / ".env.production", GOOD + "# edited\n")
    res = commit(root, env, "staged bad")
    assert res.returncode != 0
    assert "velro/debug-disabled" in res.stdout + res.stderr


def test_files_that_are_not_env_files_are_not_checked(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    write(root / "docs" / "index.en.md", "DEBUG=true\n")
    run(["git", "add", "docs/index.en.md"], root, env)
    res = commit(root, env, "docs")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "(no files to check)" in res.stdout + res.stderr


def test_a_real_secret_in_a_production_env_file_blocks_the_commit(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    secret = "q8Zt3VnR6wXy1Lp4Kd7Hs0Bf2Gj5Mc9Na3Qe6Tu8Wv1Yx4Zb7Ck0Dm2Fn5Hp8Jr1"
    write(root / "deploy" / ".env.production", GOOD + f"SUPABASE_SERVICE_ROLE_KEY={secret}\n")
    run(["git", "add", "deploy/.env.production"], root, env)
    res = commit(root, env, "secret")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "velro/env-secret-committed" in out and "git rm --cached" in out
    assert secret not in out and secret[4:-4] not in out


def test_the_env_hook_installs_without_semgrep_and_light(project: tuple[Path, dict[str, str]]) -> None:
    """`pip install velro-policy` (no `code` extra) is what the env hook's environment holds:
    no Semgrep, under 60 MB of packages, and it judges env files (the commit above ran in it)."""
    root, env = project
    write(root / ".env.production", BAD)
    run(["git", "add", ".env.production"], root, env)
    assert commit(root, env, "bad").returncode != 0
    home = Path(env["PRE_COMMIT_HOME"])
    light = [p for p in home.glob("*/py_env-*") if (p / "bin" / "velro-policy").is_file() and not (p / "bin" / "semgrep").exists()]
    assert light, sorted(home.glob("*/py_env-*"))
    site = next(light[0].glob("lib/python*/site-packages"))
    assert not (site / "semgrep").exists()
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file() and not f.is_symlink()
               and not f.relative_to(site).parts[0].startswith(("pip", "setuptools", "_distutils_hack")))
    assert size < 60 * 1024 * 1024, f"{size / 2**20:.1f} MB"
    py = light[0] / "bin" / "python"
    (root / "app.py").write_text("app = 1\n")
    path = os.pathsep.join(d for d in env.get("PATH", "").split(os.pathsep) if not (Path(d) / "semgrep").exists())
    res = subprocess.run([str(py), "-I", "-m", "velro_policy", "lint", "app.py"], cwd=root, capture_output=True, text=True,
                         env={**env, "PATH": path})
    assert res.returncode == 2 and "pip install 'velro-policy[code]'" in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_one_baseline_for_the_pre_commit_hook_the_plain_hook_and_ci(project: tuple[Path, dict[str, str]]) -> None:
    """The project's baseline is found by every entry with no flag: baselined findings do not
    block the pre-commit commit, the plain hook's command or the CI command; a new one does."""
    from conftest import velro

    root, env = project
    known = "ENVIRONMENT=production\nDEBUG=false\nENABLE_DEBUG_ENDPOINTS=true\nAUTH_RATE_LIMIT_LOGIN=1000/minute\n"
    write(root / ".env.production", known)
    assert velro(["baseline", "create", "--target", "env", "."], cwd=root).returncode == 0
    run(["git", "add", ".env.production", ".velro-policy-baseline.json"], root, env)
    res = commit(root, env, "known findings, baselined")
    assert res.returncode == 0, res.stdout + res.stderr
    for ci in (["check", "--target", "env", "."], ["check", "--staged", "--target", "env"]):  # CI; the plain git hook
        assert velro(ci, cwd=root).returncode == 0, ci
    write(root / ".env.production", known + "VERBOSE_ERROR_MESSAGES=true\n")
    run(["git", "add", ".env.production"], root, env)
    res = commit(root, env, "a new finding")
    assert res.returncode != 0 and "velro/verbose-errors-disabled" in res.stdout + res.stderr
    for ci in (["check", "--target", "env", "."], ["check", "--staged", "--target", "env"]):
        res = velro(ci, cwd=root)
        assert res.returncode == 1 and "velro/verbose-errors-disabled" in res.stdout, ci
