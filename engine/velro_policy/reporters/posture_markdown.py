"""The posture report as GitHub-flavoured markdown (``velro-policy report --format markdown``),
for a pull-request comment or a job summary (``>> $GITHUB_STEP_SUMMARY``).

Values are text, never markup: ``&``, ``<`` and ``>`` become entities (GitHub renders HTML in
markdown) and markdown's punctuation is backslash-escaped, so a value can neither open a tag,
a link or an image nor break a table.  Findings are numbered ``F1``, ``F2``... (``#1`` would
link an issue).  At most ``MAX_FINDINGS`` findings are listed: a comment holds 65,536 characters.

Reads nothing but a ``Posture`` (plain data, values already masked).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from velro_policy.model import SEVERITIES
from velro_policy.posture import FAIL, NOT_CHECKABLE, NOT_JUDGED, NOT_PROBED, PASS, UNSET, WARN, ChecklistItem, GuideRow, Posture

MAX_FINDINGS = 100
MARK = {PASS: "✅", FAIL: "❌", WARN: "⚠️", UNSET: "➖", NOT_JUDGED: "▫️", NOT_CHECKABLE: "❔", NOT_PROBED: "⏳"}
WORD = {PASS: "pass", FAIL: "fail", WARN: "warning", UNSET: "not set", NOT_JUDGED: "not judged",
        NOT_CHECKABLE: "not checkable statically", NOT_PROBED: "not probed"}
_PUNCT = re.compile(r"([\\`*_\[\]|~#@])")


def esc(value: object) -> str:
    """Text for a markdown table cell: entities for ``& < >``, backslashes for punctuation, one line."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = " ".join(text.split())
    return _PUNCT.sub(r"\\\1", text)


def _mark(verdict: str) -> str:
    return f"{MARK.get(verdict, '?')} {WORD.get(verdict, verdict)}"


def _refs(refs: Iterable[int]) -> str:
    shown = [f"F{i + 1}" for i in refs]
    return f" ({', '.join(shown)})" if shown else ""


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows), ""]


def render(posture: Posture) -> str:
    counts = {s: sum(1 for f in posture.findings if f.severity == s and not f.suppressed) for s in SEVERITIES}
    total = sum(counts.values())
    lines = [f"## Security posture of {esc(posture.root)}", "",
             f"{total} finding{'' if total == 1 else 's'}"
             + (" (" + ", ".join(f"{n} {s}" for s in reversed(SEVERITIES) if (n := counts[s])) + ")" if total else "")
             + f", against the Enterprise Security Deployment Guide (velro-policy {esc(posture.version)})."
             + (f" **{len(posture.problems)} could not be checked.**" if posture.problems else ""), ""]
    lines += _matrix(posture)
    lines += _routes(posture)
    lines += ["### Security headers", "", *_guide(posture.headers)]
    lines += _origins(posture)
    lines += ["### Pre-deployment checklist", "", *_checklist(posture.pre_deployment)]
    lines += ["### Post-deployment checklist", ""]
    if posture.probe:
        lines += [f"From the probe recording {esc(posture.probe)}.", ""]
    else:
        lines += ["Not probed: record a probe with `velro-policy probe URL --record FILE.probe.json` and pass it with "
                  "`--probe-recording`.", ""]
    lines += _checklist(posture.post_deployment)
    lines += _findings(posture)
    if posture.problems or posture.notes:
        lines += ["### Notes", ""]
        lines += [f"- could not be checked: {esc(p)}" for p in posture.problems]
        lines += [f"- {esc(n)}" for n in posture.notes]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _matrix(posture: Posture) -> list[str]:
    out = ["### Environment variables", ""]
    if not posture.columns:
        return [*out, "No env file and no settings module with defaults was found.", ""]
    header = ["Variable", *(f"{esc(c.label)} ({esc(c.environment)})" for c in posture.columns)]
    rows = []
    for row in posture.matrix:
        cells = [esc(row.variable) + (f" ({esc(row.role)})" if row.role else "")]
        for cell in row.cells:
            value = esc(cell.shown) if cell.shown else "not set"
            guide = f"; guide: {esc(cell.guide)}" if cell.guide else ""
            cells.append(f"{MARK.get(cell.verdict, '?')} {value}{guide}{_refs(cell.refs)}")
        rows.append(cells)
    return [*out, *_table(header, rows)]


def _routes(posture: Posture) -> list[str]:
    out = ["### Routes", ""]
    if not posture.routes:
        out += ["No route found.", ""]
    else:
        rows = [[esc(f"{r.method} {r.path}"), esc(r.handler), esc(r.auth) or "-", "; ".join(esc(t) for t in r.limits) or "none",
                 (esc(r.kind) + (f" ({esc(r.kind_reason)})" if r.kind_reason else "")) if r.kind else "other", esc(r.guide_limit), _mark(r.verdict) + _refs(r.refs)] for r in posture.routes]
        out += _table(["Route", "Handler", "Auth", "Rate limit", "Kind", "Guide", "Verdict"], rows)
    return [*out, "### Rate-limit table", "", *_guide(posture.rate_limits)]


def _guide(rows: tuple[GuideRow, ...]) -> list[str]:
    body = []
    for row in rows:
        places = "; ".join(f"{MARK.get(p.verdict, '?')} {esc(p.source)} {esc(p.label)} {esc(p.where)}"
                           + (f" ({esc(p.environment)})" if p.environment else "") + (f": {esc(p.shown)}" if p.shown else "")
                           + _refs(p.refs) for p in row.places)
        if row.refs:
            places += ("; " if places else "") + f"{MARK[FAIL]} missing{_refs(row.refs)}"
        body.append([esc(row.name), esc(row.guide), places or esc(row.note or "not set"), _mark(row.verdict)])
    return _table(["Name", "Guide", "Where set", "Verdict"], body)


def _origins(posture: Posture) -> list[str]:
    out = ["### CORS origins", ""]
    if not posture.origins:
        return [*out, "No CORS origin list found.", ""]
    rows = [[esc(o.column), esc(o.variable), ", ".join(esc(x) for x in o.origins), _mark(o.verdict) + _refs(o.refs)]
            for o in posture.origins]
    return [*out, *_table(["Where", "Variable", "Origins", "Verdict"], rows)]


def _checklist(items: tuple[ChecklistItem, ...]) -> list[str]:
    box = {PASS: "[x]", FAIL: "[ ] ❌"}
    out = []
    for item in items:
        state = box.get(item.verdict, f"[ ] {MARK.get(item.verdict, '?')} {WORD.get(item.verdict, item.verdict)}:")
        rules = f" ({', '.join(esc(r) for r in item.rules)})" if item.rules else ""
        why = f"; {esc(item.why)}" if item.why else ""
        out.append(f"- {state} {esc(item.text)}{_refs(item.refs)}{rules}{why}")
    return [*out, ""]


def _findings(posture: Posture) -> list[str]:
    if not posture.findings:
        return ["### Findings", "", "No findings.", ""]
    rows = []
    for n, f in enumerate(posture.findings[:MAX_FINDINGS], 1):
        where = f"{f.path}:{f.line}" if f.line else f.path
        rows.append([f"F{n}", esc(f.severity) + (" (suppressed)" if f.suppressed else ""), esc(f.rule_id), esc(where), esc(f.message)])
    out = ["### Findings", "", *_table(["#", "Severity", "Rule", "Where", "Finding"], rows)]
    if len(posture.findings) > MAX_FINDINGS:
        out += [f"... and {len(posture.findings) - MAX_FINDINGS} more: see the HTML report (--html FILE).", ""]
    return out
