"""Shared fixtures: a policy cache of the tests' own, and helpers that run the CLI (in a child process, or in this one)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


# Every --target but code: for tests about env files, settings modules or the application model whose
# projects hold Python files. A code run starts Semgrep (about 1.5 s of start-up, 3 s of CPU); the code
# target's own tests (tests/inputs/test_code_source.py, tests/policy/test_code_*.py) and the scope tests
# (tests/test_scope_equivalence.py) run it for real.
NO_CODE = ("--target", "env", "--target", "settings", "--target", "app")


# The modules that take longest (each a sum of its tests' durations, measured: pytest --durations=0), longest
# first.  pytest-xdist hands out work in collection order (addopts: --dist loadgroup --no-loadscope-reorder),
# so these start first and the end of a run is the short tests, spread over both workers: a 30 s test
# handed out last would leave the other worker idle.  Whole modules move (their tests stay together).
# Only the order changes; every test still runs.
LONGEST_FIRST = (
    "tests/commands/test_hooks_precommit.py",  # with test_planted_modules: one work unit (SAME_WORKER)
    "tests/hostile/test_planted_modules.py",
    "tests/inputs/test_code_source.py",
    "tests/judge/test_perf_equivalence.py",
    "tests/reporters/test_report.py",
    "tests/policy/test_policy_tests.py",
    "tests/inputs/test_env_differential.py",
    "tests/test_scope_equivalence.py",
    "tests/test_bench_smoke.py",
    "tests/commands/test_parallel.py",
    "tests/policy/test_code_rules.py",
    "tests/test_cli.py",
    "tests/hostile/test_governance.py",
    "tests/inputs/test_app_model.py",
    "tests/hostile/test_budgets.py",
    "tests/reporters/test_report_defaults_headers.py",
    "tests/hostile/test_fail_closed.py",
    "tests/policy/test_pack_cache.py",
    "tests/test_hookpath.py",
    "tests/judge/test_defaults.py",
    "tests/test_packaging.py",
    "tests/policy/test_code_value_rules.py",
)

# xdist work units: a module's tests run on one worker, together (as --dist loadfile): a module-scoped
# fixture (a Semgrep scan, a 400-file tree run twice) is made once, not once per worker that gets one of
# its tests.  The two pre-commit modules are one unit: the hook environment they share (~40 s to build) is
# built by the worker that runs them both, and the other worker never sits waiting on its lock.
SAME_WORKER = {
    "tests/commands/test_hooks_precommit.py": "pre-commit",
    "tests/hostile/test_planted_modules.py": "pre-commit",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: the rest keep their order


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadgroup: a work unit per module, the modules of SAME_WORKER one unit.  (xdist's own
    xdist_group marks do nothing under pytest 9.2: xdist names a group by rewriting ``item._nodeid``,
    which pytest no longer reads; so the groups are named here, where the work is split.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleGroups(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::")[0]
            return SAME_WORKER.get(module, module)

    return ModuleGroups(config, log)


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compiled-pack cache per test process: the cache is keyed by the content of every policy
    and config file (tests/policy/test_pack_cache.py), so sharing it changes nothing but the time (a cold
    pack costs ~1 s of CPU a run; the user's own ~/.cache is never touched)."""
    return tmp_path_factory.mktemp("velro-cache")


@pytest.fixture(autouse=True)
def _shared_cache(_session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VELRO_POLICY_CACHE_DIR", str(_session_cache))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return _session_cache


@pytest.fixture(scope="session")
def insecure_check(tmp_path_factory: pytest.TempPathFactory, _session_cache: Path) -> subprocess.CompletedProcess[str]:
    """``check examples/insecure -f json`` (the CLI in-process, from the tests' folder), run once per test
    session for the tests that assert on that run (each run is a Semgrep scan of the example): under
    pytest-xdist the workers share one folder of the session, taking turns by a lock."""
    import fcntl
    import json

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    saved = root / "insecure-check.json"
    with open(root / "insecure-check.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.exists():
            res = cli(["check", str(EXAMPLES / "insecure"), "-f", "json"], env={"VELRO_POLICY_CACHE_DIR": str(_session_cache)})
            saved.write_text(json.dumps([res.returncode, res.stdout, res.stderr]), encoding="utf-8")
    code, out, err = json.loads(saved.read_text(encoding="utf-8"))
    return subprocess.CompletedProcess(["check", str(EXAMPLES / "insecure"), "-f", "json"], code, out, err)


def semgrep_once(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """From now on (until ``monkeypatch`` is undone), a Semgrep scan this process has already made is not
    made again: the same rules, the same path arguments from the same folder, the same bytes in every
    file and the same config give the first scan's report (a copy).  Every distinct scan is still a real
    Semgrep run; for the tests that run one project many ways (the scope tests), where several runs
    hand Semgrep exactly the same input.  Returns the path arguments of each real scan, in order."""
    import copy
    import hashlib
    import json

    from velro_policy.inputs import code

    made: dict[tuple[str, ...], dict[str, Any]] = {}
    scans: list[tuple[str, ...]] = []
    real = code.SemgrepRun

    class Once(real):  # type: ignore[valid-type, misc]
        def __init__(self, semgrep_rules: list[dict[str, Any]], paths: list[str], config: dict[str, Any]) -> None:
            contents = [hashlib.sha256(Path(p).read_bytes()).hexdigest() if os.path.isfile(p) else "" for p in paths]
            self._key = (json.dumps(semgrep_rules, sort_keys=True), json.dumps(config, sort_keys=True, default=str),
                         os.getcwd(), *paths, "\0", *contents)
            if self._key in made:
                self._merged, self._proc, self._tmp = copy.deepcopy(made[self._key]), None, None
                return
            scans.append(tuple(paths))
            super().__init__(semgrep_rules, paths, config)

        def result(self) -> dict[str, Any]:
            data: dict[str, Any] = super().result()
            made.setdefault(self._key, copy.deepcopy(data))
            return data

    monkeypatch.setattr(code, "SemgrepRun", Once)
    return scans


@pytest.fixture()
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache of the test's own, for the tests about the cache itself."""
    cache = tmp_path_factory.mktemp("velro-cache")
    monkeypatch.setenv("VELRO_POLICY_CACHE_DIR", str(cache))
    return cache


def velro(args: Sequence[str], cwd: Path | str | None = None, env: dict[str, str] | None = None,
          input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a child process (as users and hooks do)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "velro_policy", *args],
        cwd=str(cwd) if cwd else None, env=full_env, capture_output=True, text=True, timeout=300, input=input_text,
    )


def cli(args: Sequence[str], cwd: Path | str | None = None, env: dict[str, str] | None = None,
        input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    """The same command line in this process (click's CliRunner): the same parsing, run and
    exit code as ``velro()`` without the ~0.3 s of a new interpreter.  For behaviour; what
    needs a real process (signals, isolation, hooks, -m start-up, colour from a terminal)
    uses ``velro()``.  An unexpected exception is raised into the test, not turned into exit 2."""
    from click.testing import CliRunner

    from velro_policy.inputs import _files, git
    from velro_policy.main import cli as command

    # what one process remembers about folders (a new process starts empty; a test may `git init` between runs)
    git._WORK_TREES.clear()
    _files._RELATIVE_FOLDERS.clear()
    here = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(command, list(args), input=input_text, env=env, prog_name="velro-policy",
                                    catch_exceptions=False)
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def files(root: Path, tree: dict[str, str]) -> Path:
    """A made-up project: each file's text dedented (written as an indented triple-quoted string)."""
    for name, text in tree.items():
        write(root / name, textwrap.dedent(text).lstrip("\n"))
    return root
