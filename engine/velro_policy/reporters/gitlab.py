"""GitLab Code Quality report (``artifacts: reports: codequality``).

A JSON array, one issue per active finding: ``description``, ``check_name``
(the rule id), ``fingerprint`` (the finding's own, stable across line moves),
``severity`` (critical -> blocker, high -> critical, medium -> major, low ->
minor, info -> info) and ``location.path`` / ``location.lines.begin``.
GitLab shows them in the merge request widget.  Inputs that could not be
checked are issues too (``velro/could-not-check``, blocker): the merge
request must not look clean when the run was not.  Suppressed findings and
notes are left out.  Messages are already masked.
"""
from __future__ import annotations

import hashlib
import json
from typing import IO

from velro_policy.model import RunResult

NAME = "gitlab"
SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor", "info": "info"}


def report(result: RunResult, out: IO[str], *, color: bool) -> None:
    issues: list[dict[str, object]] = []
    for f in result.findings:
        if f.suppressed:
            continue
        fingerprint = f.fingerprint or hashlib.sha256(f"{f.rule_id}\0{f.path}\0{f.line}\0{f.message}".encode()).hexdigest()
        issues.append({
            "type": "issue",
            "description": f"{f.rule_id}: {f.message}",
            "check_name": f.rule_id,
            "fingerprint": fingerprint,
            "severity": SEVERITY.get(f.severity, "major"),
            "location": {"path": f.path, "lines": {"begin": max(1, f.line)}},
        })
    for p in result.problems:
        fingerprint = hashlib.sha256(f"could-not-check\0{p.path}\0{p.line}\0{p.message}".encode()).hexdigest()
        issues.append({
            "type": "issue",
            "description": f"velro/could-not-check: {p.message}",
            "check_name": "velro/could-not-check",
            "fingerprint": fingerprint,
            "severity": "blocker",
            "location": {"path": p.path, "lines": {"begin": max(1, p.line)}},
        })
    seen: dict[object, int] = {}
    for issue in issues:  # GitLab needs each fingerprint once per report: a repeat gets its occurrence number
        n = seen[issue["fingerprint"]] = seen.get(issue["fingerprint"], 0) + 1
        if n > 1:
            issue["fingerprint"] = hashlib.sha256(f"{issue['fingerprint']}\0{n}".encode()).hexdigest()
    json.dump(issues, out, indent=2, ensure_ascii=False)
    out.write("\n")
