"""``--jobs N``: env files read and judged by N worker processes.

Why only env files: they are the bulk of a monorepo run (thousands of small
files, each parsed and judged on its own), while settings modules and code
go through steps that see them together (effective configuration, one
Semgrep process).  Each worker takes a contiguous slice of the sorted env
files and does for it what a serial run does per file: load, mark the
git-held ones (``committed``, from an index listing made once by the parent
before the workers start), evaluate.  The parent concatenates the slices in
order, then runs every cross-file step itself, exactly as a serial run.

Output is byte-identical to ``--jobs 1``: the evaluator is a pure function
of (rule, document); findings, problems and applied rules are sorted or
set-valued before anything is printed; the worker count only changes who
computes them (``tests/commands/test_parallel.py`` compares the bytes of every format).

Workers are forked (POSIX); where fork is unavailable the run is serial and
says so in its notes.  Below ``MIN_FILES`` env files a pool costs more than
it saves (~30 ms to start), so the run stays serial.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from velro_policy.model import Document, Finding, Problem
from velro_policy.rules import Rule

MIN_FILES = 200
FILES_PER_WORKER = 100  # fewer workers than asked when there are fewer files than this per worker


class Slice(NamedTuple):
    """What one worker hands back for its env files."""

    documents: list[Document]
    findings: list[Finding]
    applied: set[str]
    problems: list[Problem]


# Set by the parent right before forking; the children inherit it (nothing to pickle but the results).
_WORK: dict[str, Any] = {}


def worker_count(jobs: int) -> int:
    """``--jobs 0``: one worker per available CPU."""
    if jobs > 0:
        return jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def fork_available() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _quiet_worker() -> None:
    """A worker is stopped by its parent, never by a signal of its own: Ctrl-C (sent to the whole
    terminal group) is the parent's to handle, SIGTERM (the pool's terminate, or the parent's
    death on Linux) ends it at once.  Either way no worker prints a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    parent = _WORK.get("parent")
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG: die with the parent
        except (OSError, AttributeError):
            pass
    if parent is not None and os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    if hasattr(signal, "pthread_sigmask"):  # forked while the parent held its signals (_signals_held)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {getattr(signal, n) for n in _HELD if hasattr(signal, n)})


_HELD = ("SIGINT", "SIGTERM", "SIGHUP")


@contextmanager
def _signals_held() -> Iterator[None]:
    """Interrupts wait (blocked, then delivered) while a pool is built: raised inside ``Pool()``
    they left forked workers and handler threads that nothing stopped.  The workers inherit the
    mask and lift it in ``_quiet_worker``."""
    import signal

    held = {getattr(signal, name) for name in _HELD if hasattr(signal, name)}
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _stop_workers(pool: Any) -> None:
    """Every worker gone before the interrupted parent exits.  ``Pool.terminate`` alone is not
    enough: a signal can land while the pool is being built, or while its handler thread replaces
    a worker, and a worker nobody stops waits for tasks forever while the exiting interpreter joins
    it (a run that printed "interrupted" and never ended, 1 in ~40 under test)."""
    import multiprocessing

    if pool is not None:
        pool.terminate()
    for child in multiprocessing.active_children():  # every process this one started, from any thread
        child.kill()
        child.join(5)


def _judge(bounds: tuple[int, int]) -> Slice:
    from velro_policy.inputs import SOURCES, committed
    from velro_policy.judge.evaluate import judge_documents

    paths, ctx, rules, config, index = (_WORK[k] for k in ("paths", "ctx", "rules", "config", "index"))
    docs = list(SOURCES["env"].load(paths[bounds[0]:bounds[1]], ctx))
    docs = committed.mark(docs, in_index=_WORK["in_index"], index=index, real_path=_WORK["real_path"])
    applied: set[str] = set()
    problems: list[Problem] = []
    findings = judge_documents(docs, rules, config, applied, problems, roles=_WORK["roles"])
    return Slice(docs, findings, applied, problems)


def judge_env_files(paths: list[str], ctx: Any, rules: list[Rule], config: dict[str, Any], jobs: int, *,
                    in_index: bool, real_path: Callable[[str], str], roles: Mapping[str, frozenset[str]] | None = None) -> Slice:
    """Load, mark and evaluate ``paths`` (env files, sorted) over ``jobs`` forked workers;
    the slices come back in order."""
    import multiprocessing

    from velro_policy.inputs import committed

    index: set[str] | None = None if in_index else committed.git_index(paths, real_path)
    _WORK.update(paths=paths, ctx=ctx, rules=rules, config=config, index=index, in_index=in_index, real_path=real_path,
                 roles=roles, parent=os.getpid())
    size = -(-len(paths) // jobs)
    bounds = [(i, min(i + size, len(paths))) for i in range(0, len(paths), size)]
    pool = None
    try:
        with _signals_held():  # an interrupt lands once the pool exists, never inside its construction
            pool = multiprocessing.get_context("fork").Pool(len(bounds), initializer=_quiet_worker)
        slices = pool.map(_judge, bounds, chunksize=1)
    except BaseException:  # Ctrl-C, SIGTERM (raised by error_handler.signals_raise), an error
        _stop_workers(pool)
        raise
    else:
        pool.terminate()
    finally:
        _WORK.clear()
    out = Slice([], [], set(), [])
    for s in slices:
        out.documents.extend(s.documents)
        out.findings.extend(s.findings)
        out.applied.update(s.applied)
        out.problems.extend(s.problems)
    return out
