"""Turns every failure into one line on stderr and exit code 2.

A ``VelroError`` prints its message; anything unexpected prints a short
line naming the exception class (the traceback only with ``--debug`` or
VELRO_POLICY_DEBUG=1).  Exception text is not printed for unexpected errors
because it could carry an input value.  Ctrl-C exits 130.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from velro_policy.errors import VelroError


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
    except KeyboardInterrupt:
        sys.stderr.write("velro-policy: interrupted\n")
        raise SystemExit(130) from None
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
