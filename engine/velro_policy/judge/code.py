"""Semgrep matches -> findings: the judge of code rules.

``inputs.code`` runs Semgrep once and turns each match into an entry whose
value is a ``CodeMatch`` (matched code and metavariables as source text);
here each match is judged by its rule: a metavariable named in ``select``
is folded to a literal and given to the rule's ``check``; a rule without a
check reports every match.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from velro_policy.judge.checks import run_check
from velro_policy.judge.operators import Context
from velro_policy.model import SEVERITY_RANK, CodeMatch, Document, Finding, Unknown, fingerprint
from velro_policy.rules import All, Rule
from velro_policy.values.metavars import METAVAR


def literal(text: str) -> object:
    """A metavariable's source text as a value: a Python literal when it is one
    (``"10/minute"`` -> ``10/minute``), else ``Unknown`` naming the expression."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        short = " ".join(text.split())
        return Unknown(short if len(short) <= 60 else short[:57] + "...")


def rule_findings(rule: Rule, doc: Document, cache: dict[str, object], unknown_severity: str = "low") -> Iterator[Finding]:
    """Findings of one code rule in one document (the evaluator's code branch)."""
    rid = str(rule.id)
    secret = bool(rule.secret)
    check = rule.check
    select = [s for s in rule.select or () if s.startswith("$")]
    seen: dict[str, int] = {}
    for entry in doc.entries:
        if entry.key != rid or not isinstance(entry.value, CodeMatch):
            continue
        match: CodeMatch = entry.value
        bound = [(name, text) for name, text in match.metavars if text != name]  # Semgrep leaves unbound ones as-is
        values = {name: literal(text) for name, text in bound}
        shown = {name: _show(name, values[name], text, secret) for name, text in bound}
        message = _message(rule, shown)
        severity = str(rule.severity)
        if select and not (isinstance(check, All) and not check.items):
            reasons, unknowns = [], []
            for var in select:
                value = values.get(var, Unknown(f"{var} was not captured"))
                if isinstance(value, Unknown):
                    unknowns.append("cannot verify it: not a literal value (the value it has at run time is not checked here)")
                    continue
                reason = run_check(check, value, Context(var, shown[var], doc.environment, cache, secret), doc.environment)
                if reason:
                    reasons.append(reason if len(select) == 1 else f"{var[1:]} {reason}")
            if not reasons:
                # Only values that cannot be known statically: said for high/critical rules, at unknown_severity.
                if not unknowns or SEVERITY_RANK[severity] < SEVERITY_RANK["high"]:
                    continue
                message, severity = f"{message}: {unknowns[0]}", unknown_severity
            elif not str(rule.message or "").strip():
                message = f"{message}: {'; '.join(reasons)}"  # a rule's own message says it all
        n = seen.get(match.code, 0)
        seen[match.code] = n + 1
        yield Finding(
            path=entry.loc.path, line=entry.loc.line, col=entry.loc.col, rule_id=rid,
            severity=severity, message=message, key="", environment="", title=str(rule.title), remediation=str(rule.remediation),
            fingerprint=fingerprint(rid, entry.loc.path, match.code, *((n,) if n else ())),
            guide_section=str(rule.guide_section),
        )


def _show(name: str, value: object, text: str, secret: bool) -> str:
    """A metavariable for a message: a literal as a value, an expression as `code`;
    both through ``masking.show`` (a secret-looking piece of code is masked too)."""
    from velro_policy.values import masking

    if not isinstance(value, Unknown):
        return masking.show(name, value, secret=secret)
    code = " ".join(text.split())
    if not secret and not re.search(r"[\"'0-9]", code) and len(code) <= 80:
        return f"`{code}`"  # names, attributes, calls without literals: code, never a credential
    shown = masking.show(name, code, secret=secret)
    return f"`{code}`" if shown == repr(code) else shown


def _message(rule: Rule, shown: dict[str, str]) -> str:
    template = str(rule.message or "").strip()
    if not template:
        return str(rule.title)
    return METAVAR.sub(lambda m: shown.get(m.group(0), m.group(0)), " ".join(template.split()))
