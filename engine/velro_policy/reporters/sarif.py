"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

Valid against the official schema (tests/fixtures/sarif-schema-2.1.0.json).
``tool.driver.rules`` lists every rule in force plus velro-policy's own
checks that produced a result; each result has ``ruleId``/``ruleIndex``, a
level, the (already masked) message, a location whose URI is relative to
the scanned root (``uriBaseId: %SRCROOT%``), and the stable fingerprint as
``partialFingerprints`` so code scanning tracks an alert across line moves.
Suppressed findings stay in the log with a ``suppressions`` entry
(``inSource`` for inline ignores, ``external`` for config exceptions and
the baseline).  Byte-deterministic: sorted, no timestamps, no absolute
paths except the root's own URI.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from velro_policy import __version__
from velro_policy.model import Finding, RunResult
from velro_policy.rules import Rule

NAME = "sarif"
SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/velro/velro-policy"
FINGERPRINT_KEY = "velroPolicy/v1"

LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub reads properties.security-severity (0-10): >9 critical, 7-8.9 high, 4-6.9 medium, <4 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def _artifact(path: str, root: str) -> dict[str, str]:
    """A file relative to %SRCROOT%; a URL (a probed endpoint) as the absolute URI it is."""
    if "://" in path:
        return {"uri": path}
    return {"uri": _uri(path, root), "uriBaseId": "%SRCROOT%"}


def _uri(path: str, root: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), root).replace(os.sep, "/")
    return rel


def _rule(rule: Rule) -> dict[str, Any]:
    rid = str(rule.id)
    title = str(rule.title or rid)
    desc = str(rule.description or "").strip() or title
    fix = str(rule.remediation or "").strip()
    severity = str(rule.severity or "medium")
    tags = ["security", str(rule.target or "config")]
    if rule.policy:
        tags.append(str(rule.policy))
    help_text = fix or title
    markdown = f"**{title}**\n\n{desc}\n\n**Fix:** {fix}" if fix else f"**{title}**\n\n{desc}"
    if rule.guide_section:
        help_text += f"\n\nGuide: {rule.guide_section}"
        markdown += f"\n\n*Guide:* {rule.guide_section}"
    props: dict[str, Any] = {"security-severity": SECURITY_SEVERITY.get(severity, "5.5"), "tags": tags,
                             "severity": severity, "suppressible": rule.suppressible is not False}
    return {
        "id": rid,
        "name": _pascal(rid),
        "shortDescription": {"text": title},
        "fullDescription": {"text": desc},
        "help": {"text": help_text, "markdown": markdown},
        "defaultConfiguration": {"level": LEVEL.get(severity, "warning")},
        "properties": props,
    }


def _pascal(rule_id: str) -> str:
    """SARIF rule names are identifiers: velro/debug-disabled -> VelroDebugDisabled."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in rule_id).split() if w]
    return "".join(w[:1].upper() + w[1:] for w in words) or "Rule"


def _from_finding(f: Finding) -> Rule:
    """A rule record for velro-policy's own findings (problems, ignores), which no policy file defines."""
    return Rule(id=f.rule_id, title=f.title or f.rule_id, description=f.title or f.rule_id, remediation=f.remediation,
                severity=f.severity, target="velro-policy", guide_section=f.guide_section, suppressible=False)


def _suppression(reason: str) -> dict[str, Any]:
    kind = "inSource" if reason.startswith("inline ignore") else "external"
    return {"kind": kind, "status": "accepted", "justification": reason}


def _result(f: Finding, index: int, root: str) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(f.line, 1)}
    if f.col > 0:
        region["startColumn"] = f.col
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": LEVEL.get(f.severity, "warning"),
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(f.path, root),
                                            "region": region}}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"severity": f.severity, "key": f.key, "environment": f.environment},
    }
    if f.related:
        result["relatedLocations"] = [
            {"id": i + 1, "physicalLocation": {"artifactLocation": _artifact(p, root)}}
            for i, p in enumerate(f.related)
        ]
    if f.suppressed:
        result["suppressions"] = [_suppression(f.suppressed)]
    return result


def build(result: RunResult) -> dict[str, Any]:
    root = os.path.abspath(result.root)
    rules: dict[str, dict[str, Any]] = {}
    for r in result.rules:
        rules.setdefault(str(r.id), _rule(r))
    for f in result.findings:
        if f.rule_id not in rules:
            rules[f.rule_id] = _rule(_from_finding(f))
    ordered = sorted(rules)
    index = {rid: i for i, rid in enumerate(ordered)}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "velro-policy", "version": __version__, "semanticVersion": __version__,
                            "informationUri": INFO_URI, "rules": [rules[r] for r in ordered]}},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(root).as_uri().rstrip("/") + "/"}},
        "results": [_result(f, index[f.rule_id], root) for f in result.findings],
        "invocations": [{
            "executionSuccessful": not result.problems,
            "toolExecutionNotifications": [{"level": "note", "message": {"text": n}} for n in result.notes],
        }],
        "columnKind": "unicodeCodePoints",
        "properties": {"failOn": result.fail_on, "fixed": list(result.fixed),
                       "filesChecked": sorted({s.path for s in result.files})},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def report(result: RunResult, out: IO[str], *, color: bool) -> None:
    json.dump(build(result), out, indent=2, sort_keys=True, ensure_ascii=False)
    out.write("\n")
