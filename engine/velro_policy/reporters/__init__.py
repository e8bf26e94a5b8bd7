"""The reporter registry.  A new output format: one module here with
``NAME`` and ``report(result, out, *, color)``, and one line in ``REPORTERS``.

Reporters receive a ``RunResult`` (plain data) and import nothing from the
engine but ``model``; several formats can be written in one run.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import IO, Protocol

from velro_policy.model import RunResult

# name -> module; modules are imported only when their format is used.
REPORTERS: dict[str, str] = {
    "text": "velro_policy.reporters.text",
    "json": "velro_policy.reporters.json_",
    "sarif": "velro_policy.reporters.sarif",
    "junit": "velro_policy.reporters.junit",
    "github": "velro_policy.reporters.github",
    "gitlab": "velro_policy.reporters.gitlab",
}


class Reporter(Protocol):
    NAME: str

    def report(self, result: RunResult, out: IO[str], *, color: bool) -> None: ...


def get(name: str) -> Reporter:
    return importlib.import_module(REPORTERS[name])


def use_color(out: IO[str], forced: bool | None) -> bool:
    if forced is not None:
        return forced
    if os.environ.get("FORCE_COLOR"):  # https://force-color.org: CI logs that render colour
        return True
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(out, "isatty", lambda: False)())


def emit(result: RunResult, formats: list[tuple[str, str | None]], *, color: bool | None = None) -> None:
    """Write each (format, file-or-None) pair; None means stdout."""
    for name, target in formats:
        reporter = get(name)
        if target is None:
            reporter.report(result, sys.stdout, color=use_color(sys.stdout, color))
            sys.stdout.flush()
        else:
            from velro_policy.errors import InputError

            try:
                with open(target, "w", encoding="utf-8", newline="\n") as fh:
                    reporter.report(result, fh, color=False)
            except OSError as exc:
                raise InputError(f"cannot write {name} output ({exc.strerror}); check the path", path=target) from None
