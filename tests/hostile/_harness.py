"""What every hostile case does (issue 18, item 8): run the real command line in a
child process with a time bound, then check the exit code, that no traceback was
printed and that no 8-character piece of a planted secret reached any output.

The compiled policy pack is cached in one folder per test process (the cache is keyed
by content, so sharing it changes nothing but the time: a cold pack costs ~1 s a run).
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

BOUND = 10.0  # seconds a hostile case may take, start-up included (the "hang" is > 10 s)
_CACHE: list[str] = []


class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def shared_cache() -> str:
    if not _CACHE:
        _CACHE.append(tempfile.mkdtemp(prefix="velro-hostile-cache-"))
        atexit.register(shutil.rmtree, _CACHE[0], True)
    return _CACHE[0]


def _memory_limit(megabytes: int):  # type: ignore[no-untyped-def]
    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (megabytes * 1024 * 1024, megabytes * 1024 * 1024))
    return limit


def cli(args: list[str], cwd: Path | str, *, env: dict[str, str] | None = None, input_text: str | None = None,
        timeout: float = BOUND, python: list[str] | None = None, memory_mb: int | None = None) -> Ran:
    """``python -m velro_policy ARGS`` in ``cwd``; a run past ``timeout`` fails the test as a hang.
    ``memory_mb``: the child's address space is capped (a memory bomb then fails instead of swapping)."""
    full_env = {**os.environ, "VELRO_POLICY_CACHE_DIR": shared_cache(), **(env or {})}
    limit = _memory_limit(memory_mb) if memory_mb and sys.platform.startswith("linux") else None
    start = time.perf_counter()
    try:
        res = subprocess.run([*(python or [sys.executable]), "-m", "velro_policy", *args], cwd=str(cwd), env=full_env,
                             capture_output=True, text=True, timeout=timeout, input=input_text, preexec_fn=limit)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"hang: velro-policy {' '.join(args)} ran past {timeout} s") from None
    return Ran(res.returncode, res.stdout, res.stderr, time.perf_counter() - start)


def pieces(secret: str, size: int = 8) -> set[str]:
    return {secret[i:i + size] for i in range(len(secret) - size + 1)}


def assert_no_leak(secrets: list[str], *texts: str) -> None:
    blob = "\n".join(texts)
    for secret in secrets:
        leaked = sorted(p for p in pieces(secret) if p in blob)
        assert not leaked, f"leak: pieces of a planted secret in the output: {leaked[:3]}"


def check(res: Ran, exit_code: int | tuple[int, ...], *, secrets: tuple[str, ...] | list[str] = (), bound: float = BOUND) -> Ran:
    """The outcome every hostile case asserts: in time, the expected exit, no traceback, no leak."""
    wanted = exit_code if isinstance(exit_code, tuple) else (exit_code,)
    assert res.seconds < bound, f"hang: {res.seconds:.1f} s"
    assert "Traceback (most recent call last)" not in res.stderr + res.stdout, f"traceback:\n{res.stderr[-2000:]}"
    what = "silent pass" if res.returncode == 0 else "wrong exit"
    assert res.returncode in wanted, f"{what} {res.returncode} (wanted {wanted}):\n{res.stdout[-1500:]}\n{res.stderr[-1500:]}"
    assert_no_leak(list(secrets), res.stdout, res.stderr)
    return res


# A stand-in for Semgrep (``VELRO_POLICY_SEMGREP``), driven by FAKE_MODE:
#   ok     a valid report that scans every file given and finds nothing (FAKE_ENV: SEMGREP_* it saw, one a line);
#          a symlink among the files fails the scan, as with the real Semgrep
#   empty  valid JSON without the list of scanned files      fatal  a fatal error in the JSON, exit 0
#   sleep  starts a grandchild in its process group, writes "pid grandchild-pid" to FAKE_PIDS, sleeps 60 s
FAKE_SEMGREP = """#!{python}
import json, os, subprocess, sys, time
if "--version" in sys.argv:
    print("1.90.0")
    sys.exit(0)
mode, files = os.environ.get("FAKE_MODE", "ok"), sys.argv[sys.argv.index("--") + 1:]
if os.environ.get("FAKE_ENV"):
    with open(os.environ["FAKE_ENV"], "w") as fh:
        fh.write("".join(k + "\\n" for k in os.environ if k.startswith("SEMGREP_")))
if mode == "sleep":
    child = subprocess.Popen(["sleep", "60"])
    with open(os.environ["FAKE_PIDS"] + ".tmp", "w") as fh:
        fh.write(f"{{os.getpid()}} {{child.pid}}")
    os.replace(os.environ["FAKE_PIDS"] + ".tmp", os.environ["FAKE_PIDS"])
    time.sleep(60)
report = {{"version": "1.90.0", "results": [], "errors": []}}
links = [f for f in files if os.path.islink(f)]
if links:  # as the real Semgrep does
    report["errors"] = [{{"code": 2, "level": "error", "type": "SemgrepError",
                         "message": f"Invalid scanning root: {{links[0]}} is a symbolic link."}}]
    print(json.dumps(report))
    sys.exit(2)
if mode == "ok":
    report["paths"] = {{"scanned": files}}
elif mode == "fatal":
    report["errors"] = [{{"code": 2, "level": "error", "type": "FatalError", "message": "fatal: out of memory"}}]
print(json.dumps(report))
"""


def fake_semgrep(folder: Path) -> Path:
    path = folder / "semgrep"
    path.write_text(FAKE_SEMGREP.format(python=sys.executable), encoding="utf-8")
    path.chmod(0o755)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
