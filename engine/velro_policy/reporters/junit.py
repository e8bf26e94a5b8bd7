"""JUnit XML for CI systems that show test reports (GitLab, Jenkins, Azure).

One ``testcase`` per rule and checked file: ``classname`` is the file,
``name`` the rule id.  A case fails with the findings' messages (already
masked) and the fix; a suppressed finding makes the case ``skipped`` with
the reason; a file that could not be checked is an ``error``.  Rules are
listed for a file when their target and environment apply to it, so passing
cases show what was checked.  Byte-deterministic (no timestamps or times).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import IO

from velro_policy.model import Finding, RunResult
from velro_policy.rules import Rule

NAME = "junit"


def _applies(rule: Rule, target: str, environment: str) -> bool:
    rt = rule.target
    if rt != target and not (rt == "env" and target == "effective"):
        return False
    envs = rule.environments or ()
    return not environment or not envs or environment in envs


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters; replace them."""
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "\ufffd" for c in text)


def build(result: RunResult) -> ET.Element:
    by_case: dict[tuple[str, str], list[Finding]] = {}
    for f in result.findings:
        by_case.setdefault((f.path, f.rule_id), []).append(f)
    for s in result.files:
        for rule in result.rules:
            if _applies(rule, s.target, s.environment):
                by_case.setdefault((s.path, str(rule.id)), [])
    problem_ids = {f"velro/{p.kind}" for p in result.problems}
    suites = ET.Element("testsuites", name="velro-policy")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    by_file: dict[str, list[str]] = {}
    for path, rid in by_case:
        by_file.setdefault(path, []).append(rid)
    for path in sorted(by_file):
        suite = ET.SubElement(suites, "testsuite", name=_clean(path))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for rid in sorted(by_file[path]):
            found = by_case[(path, rid)]
            case = ET.SubElement(suite, "testcase", classname=_clean(path), name=rid)
            counts["tests"] += 1
            active = [f for f in found if not f.suppressed]
            if active and rid in problem_ids:
                el = ET.SubElement(case, "error", message=_clean(active[0].message), type=rid)
                el.text = _clean("\n".join(f"{f.path}:{f.line}:{f.col}: {f.message}" for f in active))
                counts["errors"] += 1
            elif active:
                worst = active[0]
                el = ET.SubElement(case, "failure", message=_clean(worst.message), type=worst.severity)
                lines = []
                for f in active:
                    lines.append(f"{f.path}:{f.line}:{f.col}: {f.severity} {f.rule_id}: {f.message}")
                if worst.remediation:
                    lines.append(f"fix: {worst.remediation}")
                el.text = _clean("\n".join(lines))
                counts["failures"] += 1
            elif found:
                ET.SubElement(case, "skipped", message=_clean("suppressed: " + "; ".join(sorted({f.suppressed for f in found}))))
                counts["skipped"] += 1
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        suites.set(k, str(v))
    return suites


def report(result: RunResult, out: IO[str], *, color: bool) -> None:
    root = build(result)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
