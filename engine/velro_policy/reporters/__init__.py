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
    """Write each (format, file-or-None) pair; None means stdout.  Every file is checked before
    anything is written (``outfiles``: a symlink out of the repository is refused)."""
    if any(target for _, target in formats):
        from velro_policy.outfiles import target_of

        for _, target in formats:
            if target:
                target_of(target)
    for name, target in formats:
        reporter = get(name)
        if target is None:
            reporter.report(result, sys.stdout, color=use_color(sys.stdout, color))
            sys.stdout.flush()
        else:
            import io

            from velro_policy.outfiles import write_text

            buffer = io.StringIO()
            reporter.report(result, buffer, color=False)
            write_text(target, buffer.getvalue(), what=f"{name} output")
