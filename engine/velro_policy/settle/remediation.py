"""Remediation text that fits the finding (issue 17): its own key names and its platform.

The policies write one remediation per rule, for the guide's backend: ``JWT_SECRET`` and
``railway variables set``.  A finding about ``JWT_SECRET_KEY`` in a project deployed elsewhere
should not tell its reader to set another variable on a platform they do not use.  Pure: the
platform is found by ``inputs._files.deploy_platform`` (the only part that looks at files).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from velro_policy.model import Finding
from velro_policy.rules import Rule

# `railway variables set KEY=VALUE --environment staging`, the assignment and the flag optional
_RAILWAY_SET = re.compile(r"railway variables set(?: ([A-Za-z_][A-Za-z0-9_]*=(?:\"[^\"]*\"|'[^']*'|[^\s)]+)))?(?: --environment (\w+))?")


def _generic(m: re.Match[str]) -> str:
    assignment, environment = m.group(1), m.group(2)
    where = f" for {environment}" if environment else ""
    return f"set {assignment} in your platform's environment variables{where}" if assignment else \
        f"set it in your platform's environment variables{where}"

_PLAIN_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def fit(findings: Iterable[Finding], rules: Iterable[Rule], platform: str) -> list[Finding]:
    """``findings`` with each remediation naming the finding's key where the rule's text names
    another variable the same rule selects, and, on a project not deployed to Railway, the
    platform's variable settings instead of ``railway variables set``."""
    names = {str(r.id): [s for s in r.select if _PLAIN_NAME.fullmatch(s)] for r in rules}
    out = []
    for f in findings:
        text = f.remediation
        if text:
            if _KEY.fullmatch(f.key or ""):
                for name in sorted(names.get(f.rule_id, ()), key=len, reverse=True):
                    if name != f.key.upper() and re.search(rf"\b{name}\b", text) and not re.search(rf"\b{re.escape(f.key)}\b", text):
                        text = re.sub(rf"\b{name}\b", f.key, text)
            if platform != "railway":
                text = _RAILWAY_SET.sub(_generic, text)
        out.append(f._replace(remediation=text) if text != f.remediation else f)
    return out
