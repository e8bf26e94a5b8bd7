"""Turns every failure into one line on stderr and exit code 2.

A ``VelroError`` prints its message; anything unexpected prints a short
line naming the exception class (the traceback only with ``--debug`` or
VELRO_POLICY_DEBUG=1).  Exception text is not printed for unexpected errors
because it could carry an input value.  Ctrl-C exits 130, SIGTERM 143 and
SIGHUP 129, after the cleanups (``signals_raise``).
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from velro_policy.errors import VelroError


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C's KeyboardInterrupt so that every cleanup runs on the
    way out: Semgrep's process group is killed (``inputs.code``), temporary folders (Semgrep's
    rules, the staged copies of ``--staged``) are removed, ``--jobs`` workers are stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise (``KeyboardInterrupt`` / ``Terminated``) once; a second
    signal during the cleanup that follows is ignored, so it cannot cut the cleanup short
    (SIGKILL still ends the process).  The previous handlers come back afterwards."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]
    fired: list[int] = []

    def handler(signum: int, _frame: Any) -> None:
        if fired:
            return
        fired.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signum)

    previous = {}
    for sig in wanted:
        try:
            previous[sig] = signal.signal(sig, handler)
        except (OSError, ValueError):
            pass
    try:
        yield
    finally:
        for sig, old in previous.items():
            try:
                signal.signal(sig, old)
            except (OSError, ValueError, TypeError):
                pass


@contextlib.contextmanager
def error_handler(debug: bool = False) -> Iterator[None]:
    try:
        yield
    except VelroError as exc:
        sys.stderr.write(f"velro-policy: error: {exc}\n")
        raise SystemExit(2) from None
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): the output is incomplete, so not a pass.
        try:
            sys.stderr.write("velro-policy: output closed early (broken pipe); the report is incomplete\n")
        finally:
            raise SystemExit(2) from None
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Terminated) else 2
        sys.stderr.write("velro-policy: interrupted" + (" (SIGTERM)" if signum == 15 else " (SIGHUP)" if signum == 1 else "")
                         + "; nothing was checked\n")
        raise SystemExit(128 + signum) from None
    except RecursionError:
        sys.stderr.write("velro-policy: error: input nested too deeply to check; simplify it or exclude the file\n")
        raise SystemExit(2) from None
    except MemoryError:
        sys.stderr.write("velro-policy: error: out of memory; exclude very large files\n")
        raise SystemExit(2) from None
    except Exception as exc:  # noqa: BLE001 - the gate must fail closed, never crash
        if debug or os.environ.get("VELRO_POLICY_DEBUG"):
            raise
        sys.stderr.write(
            f"velro-policy: error: unexpected {exc.__class__.__name__}; nothing was checked. "
            "Rerun with --debug for the traceback and report it.\n"
        )
        raise SystemExit(2) from None
