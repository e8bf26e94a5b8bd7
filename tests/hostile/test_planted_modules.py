"""No code from the scanned repository can ever run (issue 18, item 2).

git starts hooks at the top of the work tree, and pre-commit runs its hooks
from there too. A repository can hold a module named like a dependency of
velro-policy (click.py, a velro_policy/ package, ...); a hook that started
`python -m velro_policy` there put that folder first on sys.path and imported
it. These tests plant such modules, each of which appends to a marker file in
a folder outside the repository and exits 99 when imported, at the top of the
repository and in every folder on the way to the staged file, then commit (or
push) with the real git, the plain hooks (`velro-policy hooks install`) and the
real pre-commit, and check that the commit is refused for its finding and that
no marker exists. A control first shows that every planted module does run
once its folder is on sys.path, so "no marker" is not an accident.

Findings documented here (test names say which):
- the plain hooks run the recorded Python with -I (isolated: no current folder,
  no PYTHON* variables, no user site) and unset PYTHONPATH, so Semgrep, which
  velro-policy starts and which is Python too, does not see it either;
- pre-commit (`language: python`) runs the entry with its own virtualenv's bin
  folder first on PATH. Its `velro-policy` console script puts its own folder,
  not the current one, on sys.path, but honours PYTHONPATH (PYTHONSAFEPATH does
  not change that), so the entries are `python -I -m velro_policy ...`;
- pre-commit's own git hook script runs `python -mpre_commit` from the top of
  the work tree, so pre-commit itself imports a planted yaml.py or json.py
  before any hook runs. That is pre-commit's to fix (and a repository that
  uses pre-commit already chooses, in .pre-commit-config.yaml, what runs); the
  pre-commit tests here start pre-commit with -I to test velro-policy's part;
- with PYTHONPATH=. in the user's environment, Semgrep (a Python program started
  by the code hook) gets an environment without PYTHONPATH, PYTHONSTARTUP and
  inherited SEMGREP_* variables (inputs/code.semgrep_environment).
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write
from hookrepo import git_env as precommit_env
from hookrepo import run, shared_hook_repo

BAD = "ENVIRONMENT=production\nDEBUG=true\n"
STAGED = "app/config/.env.production"
FINDING = f"{STAGED}:2:1: critical velro/debug-disabled"
PLANT_DIRS = ["", "app", "app/config"]  # the top and every folder on the way to STAGED
BIN = Path(sys.executable).parent
VELRO = BIN / "velro-policy"  # the console script, as users run it (python -m would import from the repo)

# Standard-library modules velro-policy (or its dependencies) imports after start-up, so
# a folder first on sys.path shadows them (frozen ones such as runpy and os cannot be).
STDLIB = ["json", "subprocess", "shlex", "tempfile", "argparse", "typing", "dataclasses", "hashlib", "fnmatch",
          "ast", "textwrap", "string", "shutil", "difflib", "sitecustomize", "usercustomize"]

PLANTED = '''import sys
with open({marker!r}, "a", encoding="utf-8") as fh:
    fh.write(repr(sys.orig_argv) + "\\n")
raise SystemExit(99)
'''


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_modules() -> list[str]:
    """Top-level import names of every distribution velro-policy needs at run time: the
    whole requirement closure of the installed package (click, dotenv, pydantic,
    pydantic_core, typing_extensions, ruamel, jsonschema, re2, httpx, semgrep, ...)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = ["velro-policy"]
    while todo:
        name = todo.pop()
        if _norm(name) in seen:
            continue
        seen.add(_norm(name))
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional dependency that is not installed
        for spec in requires:
            req = Requirement(spec)
            # run-time requirements and the `code` extra (Semgrep, which the code hooks install)
            if req.marker is None or any(req.marker.evaluate({"extra": extra}) for extra in ("", "code")):
                todo.append(req.name)
    tops = {top for top, dists in importlib.metadata.packages_distributions().items()
            if any(_norm(d) in seen for d in dists)}
    return sorted(t for t in tops if t.isidentifier() and t != "velro_policy")


NAMES = dependency_modules()


def test_the_planted_names_cover_the_declared_dependencies() -> None:
    for name in ("click", "dotenv", "pydantic", "pydantic_core", "typing_extensions", "ruamel", "jsonschema",
                 "re2", "httpx", "semgrep"):
        assert name in NAMES, name


def markers_of(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def plant(root: Path, markers: Path) -> int:
    """Plant a module for every name (and a velro_policy package) in each folder of
    PLANT_DIRS; returns how many importable things were planted."""
    count = 0
    for folder in PLANT_DIRS:
        where = root / folder
        tag = folder.replace("/", "_") or "top"
        for name in [*NAMES, *STDLIB]:
            write(where / f"{name}.py", PLANTED.format(marker=str(markers / f"{tag}.{name}")))
            count += 1
        pkg = PLANTED.format(marker=str(markers / f"{tag}.velro_policy"))
        for module in ("__init__", "__main__", "main"):
            write(where / "velro_policy" / f"{module}.py", pkg)
        count += 1
    return count


CONTROL = r'''
import importlib, json, sys
folders, names = json.loads(sys.argv[1])
fired = 0
for folder in folders:
    for name in names:
        saved = sys.modules.pop(name, None)
        sys.path.insert(0, folder)
        importlib.invalidate_caches()
        try:
            importlib.import_module(name)
        except SystemExit as exc:
            fired += exc.code == 99
        finally:
            sys.path.pop(0)
            sys.modules.pop(name, None)
            if saved is not None:
                sys.modules[name] = saved
print(fired)
'''


def plain_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return {**env, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "NO_COLOR": "1", **extra}


def sh(args: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and res.returncode != 0:
        raise AssertionError(f"{args} failed: {res.stdout}\n{res.stderr}")
    return res


@pytest.fixture()
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    """A repository with the modules planted and committed (as a cloned repository
    would have them), and the empty marker folder outside it."""
    root, markers = tmp_path / "repo", tmp_path / "markers"
    root.mkdir()
    markers.mkdir()
    env = plain_env()
    sh(["git", "init", "-q", "."], root, env)
    planted = plant(root, markers)
    sh(["git", "add", "-A", "."], root, env)
    sh(["git", "commit", "-q", "--no-verify", "-m", "hostile"], root, env)
    # control: each planted module runs (marker, exit 99) once its folder is first on sys.path
    arg = json.dumps([[str(root / d) for d in PLANT_DIRS], [*NAMES, *STDLIB, "velro_policy"]])
    res = sh([sys.executable, "-I", "-c", CONTROL, arg], tmp_path, env)
    assert int(res.stdout) == planted and len(markers_of(markers)) == planted, res.stdout + res.stderr
    for marker in markers.iterdir():
        marker.unlink()
    write(root / STAGED, BAD)
    sh(["git", "add", STAGED], root, env)
    return root, markers


ENVIRONMENTS = {
    "clean": {},
    "PYTHONPATH": {"PYTHONPATH": os.pathsep.join([".", "app", "app/config"])},
    "PYTHONSTARTUP": {"PYTHONSTARTUP": "click.py"},
}


def _environment(root: Path, which: str) -> dict[str, str]:
    extra = dict(ENVIRONMENTS[which])
    if "PYTHONSTARTUP" in extra:
        extra["PYTHONSTARTUP"] = str(root / extra["PYTHONSTARTUP"])
    return extra


# -- the plain git hooks -------------------------------------------------------


@pytest.mark.parametrize("which", list(ENVIRONMENTS))
def test_plain_pre_commit_hook_imports_nothing_from_the_repository(hostile: tuple[Path, Path], which: str) -> None:
    root, markers = hostile
    res = sh([str(VELRO), "hooks", "install"], root, plain_env())
    assert "installed pre-commit hook" in res.stdout
    hook = root / ".git" / "hooks" / "pre-commit"
    assert "VELRO_POLICY_ISOLATE=-I " in hook.read_text()
    env = plain_env(**_environment(root, which))
    res = sh(["git", "commit", "-m", "bad"], root, env, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 1 and FINDING in out and "Traceback" not in out, out
    direct = sh([str(hook)], root, env, check=False)  # the hook's own exit: 1 (findings), not 99 nor 2
    assert direct.returncode == 1 and FINDING in direct.stdout, direct.stdout + direct.stderr
    assert markers_of(markers) == {}


def test_plain_hook_keeps_pythonpath_from_semgrep_too(hostile: tuple[Path, Path]) -> None:
    """A staged Python file: velro-policy starts Semgrep (Python as well), with PYTHONPATH=. in the environment."""
    root, markers = hostile
    assert sh([str(VELRO), "hooks", "install"], root, plain_env()).returncode == 0
    write(root / "app" / "main.py", "from fastapi import FastAPI\n\napp = FastAPI(debug=True)\n")
    env = plain_env(**_environment(root, "PYTHONPATH"))
    sh(["git", "add", "app/main.py"], root, env)
    res = sh(["git", "commit", "-m", "bad"], root, env, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 1 and FINDING in out and "app/main.py:3:" in out and "velro/code-fastapi-debug" in out, out
    assert markers_of(markers) == {}


def test_hand_copied_hook_takes_velro_policy_from_an_absolute_path_folder_only(hostile: tuple[Path, Path]) -> None:
    """No recorded Python: the console script on PATH. `.` first on PATH, and a
    velro-policy executable at the top of the repository: it is not run."""
    from velro_policy.resources import hooks_dir

    root, markers = hostile
    fake = write(root / "velro-policy", f"#!/bin/sh\necho fake >> {markers / 'top.velro-policy-exe'}\nexit 99\n")
    fake.chmod(0o755)
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_bytes((hooks_dir() / "pre-commit").read_bytes())
    hook.chmod(0o755)
    path = os.pathsep.join([".", "app", str(BIN), os.environ.get("PATH", "")])
    env = plain_env(PATH=path, **_environment(root, "PYTHONPATH"))
    res = sh(["git", "commit", "-m", "bad"], root, env, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 1 and FINDING in out, out
    assert markers_of(markers) == {}


def test_plain_pre_push_hook_imports_nothing_from_the_repository(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    root, markers = hostile
    env = plain_env(**_environment(root, "PYTHONPATH"))
    remote = tmp_path / "remote.git"
    sh(["git", "init", "-q", "--bare", str(remote)], tmp_path, env)
    sh(["git", "remote", "add", "origin", str(remote)], root, env)
    sh(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], root, env)  # the planted modules, no hook yet
    sh(["git", "commit", "-q", "--no-verify", "-m", "bad"], root, env)
    assert sh([str(VELRO), "hooks", "install", "--hook", "pre-push"], root, plain_env()).returncode == 0
    res = sh(["git", "push", "origin", "HEAD:refs/heads/main"], root, env, check=False)
    out = res.stdout + res.stderr
    assert res.returncode != 0 and FINDING in out and "Traceback" not in out, out
    assert markers_of(markers) == {}


# -- the pre-commit framework --------------------------------------------------


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    return shared_hook_repo(tmp_path_factory)  # the same snapshot and hook virtualenv as tests/commands/test_hooks_precommit.py


def precommit_project(root: Path, hook_repo: tuple[Path, str, Path], hook_ids: list[str]) -> dict[str, str]:
    """.pre-commit-config.yaml with these hooks of this checkout; pre-commit installed into
    git, its hook script started with -I (see the module docstring), the hook env built."""
    src, sha, home = hook_repo
    env = {k: v for k, v in precommit_env(home).items() if not k.startswith("PYTHON")}
    hooks = "".join(f"      - id: {h}\n" for h in hook_ids)
    write(root / ".pre-commit-config.yaml", f"repos:\n  - repo: {src.as_posix()}\n    rev: {sha}\n    hooks:\n{hooks}")
    run(["git", "add", ".pre-commit-config.yaml"], root, env)
    run([sys.executable, "-I", "-m", "pre_commit", "install"], root, env)
    hook = root / ".git" / "hooks" / "pre-commit"
    text = hook.read_text()
    assert text.count(' -mpre_commit "') == 1
    hook.write_text(text.replace(' -mpre_commit "', ' -I -mpre_commit "'))
    run([sys.executable, "-I", "-m", "pre_commit", "install-hooks"], root, env)
    return env


@pytest.mark.parametrize("which", list(ENVIRONMENTS))
def test_pre_commit_framework_hook_imports_nothing_from_the_repository(
        hostile: tuple[Path, Path], hook_repo: tuple[Path, str, Path], which: str) -> None:
    root, markers = hostile
    env = {**precommit_project(root, hook_repo, ["velro-policy-env"]), **_environment(root, which)}
    res = run(["git", "commit", "-m", "bad"], root, env, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 1 and "velro-policy (env files)" in out and "Failed" in out, out
    assert "- exit code: 1" in out and FINDING in out and "Traceback" not in out, out
    assert markers_of(markers) == {}


def _hook_env_bin(home: Path) -> Path:
    found = sorted(home.glob("*/py_env-*/bin/velro-policy"))
    assert len(found) == 1, found
    return found[0].parent


def test_console_script_ignores_the_current_folder_but_honours_pythonpath(
        hostile: tuple[Path, Path], hook_repo: tuple[Path, str, Path]) -> None:
    """Why the entries are `python -I -m velro_policy`, not the `velro-policy` console
    script: in the hook's virtualenv, as pre-commit starts it, from the top of the repository."""
    root, markers = hostile
    env = precommit_project(root, hook_repo, ["velro-policy-env"])
    bin_dir = _hook_env_bin(hook_repo[2])
    env = {**env, "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}", "VIRTUAL_ENV": str(bin_dir.parent)}

    res = run(["velro-policy", "--version"], root, env, check=False)
    assert res.returncode == 0 and markers_of(markers) == {}, res.stderr  # sys.path[0] is bin/, not "."
    for extra in ({"PYTHONPATH": "."}, {"PYTHONPATH": ".", "PYTHONSAFEPATH": "1"}):
        res = run(["velro-policy", "--version"], root, {**env, **extra}, check=False)
        # the planted sitecustomize.py runs first, while site starts up (a fatal error, exit 1)
        fired = markers_of(markers)
        assert res.returncode != 0 and "top.sitecustomize" in fired and "velro-policy" in fired["top.sitecustomize"], (
            extra, res.stderr)
        for marker in markers.iterdir():
            marker.unlink()
    entry = hooks_manifest_entry("velro-policy-env").split()
    res = run([*entry, "--help"], root, {**env, "PYTHONPATH": ".", "PYTHONSAFEPATH": ""}, check=False)
    assert res.returncode == 0 and entry[:3] == ["python", "-I", "-m"] and markers_of(markers) == {}, res.stderr


def hooks_manifest_entry(hook_id: str) -> str:
    from hookrepo import hooks

    return str(hooks()[hook_id]["entry"])


def test_pre_commit_itself_imports_from_the_top_of_the_work_tree(hostile: tuple[Path, Path], tmp_path: Path) -> None:
    """Not velro-policy's: pre-commit's own hook script runs `python -mpre_commit` with
    the top of the work tree as the current folder. If this ever fails, pre-commit
    starts isolated and precommit_project() can stop adding -I."""
    root, markers = hostile
    env = {k: v for k, v in precommit_env(tmp_path / "home").items() if not k.startswith("PYTHON")}
    write(root / ".pre-commit-config.yaml",
          "repos:\n  - repo: local\n    hooks:\n      - {id: t, name: t, entry: 'true', language: system}\n")
    run(["git", "add", ".pre-commit-config.yaml"], root, env)
    run([sys.executable, "-I", "-m", "pre_commit", "install"], root, env)
    res = run(["git", "commit", "-m", "x"], root, env, check=False)
    assert res.returncode != 0 and any(m.startswith("top.") for m in markers_of(markers)), res.stdout + res.stderr
    assert all("-mpre_commit" in text for text in markers_of(markers).values())


def test_pre_commit_code_hook_keeps_pythonpath_from_semgrep(
        hostile: tuple[Path, Path], hook_repo: tuple[Path, str, Path]) -> None:
    root, markers = hostile
    env = precommit_project(root, hook_repo, ["velro-policy-code"])
    write(root / "app" / "main.py", "from fastapi import FastAPI\n\napp = FastAPI(debug=True)\n")
    run(["git", "add", "app/main.py"], root, env)
    res = run(["git", "commit", "-m", "bad"], root, {**env, **_environment(root, "PYTHONPATH")}, check=False)
    out = res.stdout + res.stderr
    assert markers_of(markers) == {}, (markers_of(markers), out)
    assert res.returncode == 1 and "velro/code-fastapi-debug" in out and "- exit code: 1" in out, out
