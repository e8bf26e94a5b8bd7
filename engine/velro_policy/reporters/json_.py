"""Machine output, described by ``schemas/findings.schema.json``.

Byte-stable: keys sorted, findings in their sorted order, no timestamps.
"""
from __future__ import annotations

import json
from typing import IO

from velro_policy import __version__
from velro_policy.model import SEVERITIES, RunResult

NAME = "json"


def report(result: RunResult, out: IO[str], *, color: bool) -> None:
    active = [f for f in result.findings if not f.suppressed]
    doc = {
        "version": "1",
        "tool": {"name": "velro-policy", "version": __version__},
        "fail_on": result.fail_on,
        "findings": [f.as_dict() for f in result.findings],
        "problems": [p._asdict() for p in result.problems],
        "files": [s._asdict() for s in result.files],
        "fixed": list(result.fixed),
        "notes": list(result.notes),
        "summary": {
            "findings": len(active),
            "by_severity": {s: sum(1 for f in active if f.severity == s) for s in SEVERITIES},
            "files": len(result.files),
            "problems": len(result.problems),
        },
    }
    json.dump(doc, out, indent=2, sort_keys=True, ensure_ascii=False)
    out.write("\n")
