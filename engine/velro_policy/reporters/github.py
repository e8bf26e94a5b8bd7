"""GitHub Actions workflow commands: one annotation per finding.

``::error file=PATH,line=N,col=N,title=RULE::MESSAGE`` (``warning`` for
medium, ``notice`` for low and info), which Actions shows on the pull
request's diff.  Paths are as displayed (relative to the working
directory, which in Actions is the checkout).  Suppressed findings are not
annotated; notes become one ``notice`` each.  Values in messages are
already masked; the command syntax is escaped as GitHub documents
(``%``, CR, LF everywhere; ``:`` and ``,`` in properties).
"""
from __future__ import annotations

from typing import IO

from velro_policy.model import SEVERITIES, RunResult

NAME = "github"
COMMAND = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def report(result: RunResult, out: IO[str], *, color: bool) -> None:
    for f in result.findings:
        if f.suppressed:
            continue
        props = [f"file={escape_property(f.path)}"]
        if f.line > 0:
            props.append(f"line={f.line}")
            if f.col > 0:
                props.append(f"col={f.col}")
        props.append(f"title={escape_property(f'{f.rule_id} ({f.severity})')}")
        body = f.message + (f"\nfix: {f.remediation.splitlines()[0]}" if f.remediation else "")
        out.write(f"::{COMMAND.get(f.severity, 'warning')} {','.join(props)}::{escape_data(body)}\n")
    for note in result.notes:
        out.write(f"::notice title=velro-policy::{escape_data(note)}\n")
    active = [f for f in result.findings if not f.suppressed]
    counts = ", ".join(f"{n} {s}" for s in reversed(SEVERITIES) if (n := sum(1 for f in active if f.severity == s)))
    suppressed = len(result.findings) - len(active)
    summary = f"velro-policy: {len(active)} finding(s)" + (f" ({counts})" if counts else "")
    if suppressed:
        summary += f", {suppressed} suppressed"
    if result.fixed:
        summary += f", {len(result.fixed)} fixed since the baseline"
    out.write(summary + f" in {len({s.path for s in result.files})} file(s)\n")
