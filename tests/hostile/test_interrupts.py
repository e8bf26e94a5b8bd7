"""Determinism and interrupts (issue 18, item 7): real processes, real signals.

SIGTERM (a CI job cancelled, a hook killed) used to end velro-policy at once:
Semgrep, which runs in its own process group, kept running; its temporary folder
and, under ``--staged``, the staged copy of ``.env.production`` (secret included)
stayed behind; a ``--jobs`` run printed multiprocessing tracebacks.  Now SIGINT,
SIGTERM and SIGHUP raise, every cleanup runs, one line is printed and the exit
code is 128 + the signal.  SIGKILL cannot be caught: its one promise is that the
``--jobs`` workers die with the parent, silently.

Semgrep is a stand-in (``_harness.fake_semgrep``, mode sleep) that starts a grandchild
in its process group and sleeps, so the signal always lands during the Semgrep step.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _harness import BOUND, assert_no_leak, cli, fake_semgrep, shared_cache, write

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find child processes")

SECRET = "q8Zr1Xv9Lm2Kp7Tn4Wb6Yc3Hd5Jf0Gs8Ae1Ru"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, f"hang: {what} never happened"
        time.sleep(0.005)


@pytest.fixture
def semgrep_repo(tmp_path: Path) -> dict[str, object]:
    repo, tmp = tmp_path / "repo", tmp_path / "tmp"
    tmp.mkdir()
    write(repo / ".env.production", f"ENVIRONMENT=production\nDEBUG=true\nJWT_SECRET={SECRET}\n")
    write(repo / "main.py", "from fastapi import FastAPI\napp = FastAPI(debug=True)\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    fake = fake_semgrep(tmp_path)
    pids = tmp_path / "pids"
    env = {**os.environ, "VELRO_POLICY_SEMGREP": str(fake), "FAKE_MODE": "sleep", "FAKE_PIDS": str(pids), "TMPDIR": str(tmp),
           "VELRO_POLICY_CACHE_DIR": shared_cache()}
    return {"repo": repo, "tmp": tmp, "pids": pids, "env": env}


@pytest.mark.parametrize(("args", "sig"), [
    (["check", "--target", "code", "."], signal.SIGTERM),
    (["check", "--target", "code", "."], signal.SIGINT),
    (["check", "--staged"], signal.SIGTERM),
    (["check", "--staged"], signal.SIGHUP),
], ids=["code-SIGTERM", "code-SIGINT", "staged-SIGTERM", "staged-SIGHUP"])
def test_a_signal_during_semgrep_cleans_up(semgrep_repo: dict, args: list[str], sig: signal.Signals) -> None:
    repo, tmp, pids = semgrep_repo["repo"], semgrep_repo["tmp"], semgrep_repo["pids"]
    proc = subprocess.Popen([sys.executable, "-m", "velro_policy", *args], cwd=repo, env=semgrep_repo["env"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(pids.exists, "semgrep started")  # type: ignore[attr-defined]
        held = sorted(os.listdir(tmp))  # type: ignore[arg-type]
        assert any(n.startswith("velro-semgrep-") for n in held), held
        if "--staged" in args:  # the staged copies, secret included, are on disk while Semgrep runs
            assert any(n.startswith("velro-policy-staged-") for n in held), held
        semgrep, grandchild = map(int, pids.read_text().split())  # type: ignore[attr-defined]
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=BOUND)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, err
    assert err.strip().splitlines() == [f"velro-policy: interrupted{'' if sig == signal.SIGINT else f' ({sig.name})'}; nothing was checked"]
    assert "Traceback" not in out + err
    wait_for(lambda: not alive(semgrep) and not alive(grandchild), "semgrep's process group ended")
    assert os.listdir(tmp) == []  # type: ignore[arg-type]  # Semgrep's rules and the staged copies are gone
    assert_no_leak([SECRET], out, err)


@pytest.fixture(scope="module")
def many_env_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top = tmp_path_factory.mktemp("jobs")
    body = "ENVIRONMENT=production\nDEBUG=true\n" + "".join(f"KEY_{j}=value-{j}\n" for j in range(60))
    for i in range(3000):
        folder = top / f"svc{i:04d}"
        folder.mkdir()
        (folder / ".env.production").write_text(body)
    return top


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_a_killed_jobs_run_prints_no_traceback(many_env_files: Path, sig: signal.Signals) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "velro_policy", "lint", "--jobs", "2", "."], cwd=many_env_files,
                            env={**os.environ, "VELRO_POLICY_CACHE_DIR": shared_cache()},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(children(proc.pid)) >= 2 or proc.poll() is not None, "workers started")
        workers = children(proc.pid)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=BOUND)  # stderr ends when the workers, which share it, have gone too
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == (-sig if sig == signal.SIGKILL else 128 + sig), (proc.returncode, err[-2000:])
    assert "Traceback" not in err and "Error" not in err, err[-3000:]
    wait_for(lambda: not any(alive(w) for w in workers), "the workers ended")


def test_two_runs_give_the_same_bytes(tmp_path: Path) -> None:
    """Determinism: hash seeds and set orders do not reach the output."""
    write(tmp_path / ".env.production", "ENVIRONMENT=production\nDEBUG=true\nJWT_SECRET=changeme\nCORS_ORIGINS=*,http://a,http://b\n")
    write(tmp_path / ".env.staging", "ENVIRONMENT=staging\nDEBUG=true\nJWT_SECRET=changeme\n")
    runs = [cli(["lint", "--target", "env", "-f", "json", "."], tmp_path, env={"PYTHONHASHSEED": seed}) for seed in ("1", "2")]
    assert runs[0].returncode == runs[1].returncode == 1
    assert runs[0].stdout == runs[1].stdout
