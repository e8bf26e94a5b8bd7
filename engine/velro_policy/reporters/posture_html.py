"""The posture report as one self-contained HTML page (``velro-policy report --html FILE``).

No script, no external stylesheet, font or image: one inline ``<style>``, allowed by its
hash in the page's Content-Security-Policy (``default-src 'none'``), so even a value that
slipped past escaping could neither run nor load anything.  Every value goes through
``html.escape`` (``esc``): a value is data, never markup.  Verdicts are shown with a
symbol and a word as well as a colour (print, colour blindness); finding numbers link to the
findings table, and each cell's ``title`` repeats its findings for a hover.  A print
stylesheet keeps the colours and drops the navigation.

Reads nothing but a ``Posture`` (plain data, values already masked).
"""
from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable

from velro_policy.model import SEVERITIES, Finding
from velro_policy.posture import (
    FAIL,
    NOT_CHECKABLE,
    NOT_JUDGED,
    NOT_PROBED,
    PASS,
    UNSET,
    WARN,
    ChecklistItem,
    GuideRow,
    Posture,
)

MARK = {PASS: "✓", FAIL: "✗", WARN: "!", UNSET: "–", NOT_JUDGED: "·", NOT_CHECKABLE: "?", NOT_PROBED: "…"}
WORD = {PASS: "pass", FAIL: "fail", WARN: "warning", UNSET: "not set", NOT_JUDGED: "not judged",
        NOT_CHECKABLE: "not checkable statically", NOT_PROBED: "not probed"}
CHECK_WORD = {PASS: "ticked", FAIL: "crossed", UNSET: "nothing to judge", NOT_CHECKABLE: "not checkable statically",
              NOT_PROBED: "not probed", WARN: "warning", NOT_JUDGED: "not judged"}

CSS = """
:root{--pass:#137333;--pass-bg:#e6f4ea;--fail:#a50e0e;--fail-bg:#fce8e6;--warn:#7a4f00;--warn-bg:#fef3d6;
--grey:#4d5156;--grey-bg:#f1f3f4;--line:#dadce0}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0 auto;
max-width:1400px;padding:1.2rem 1.5rem 3rem;color:#202124;line-height:1.4;font-size:15px}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin:2rem 0 .5rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
code,.val{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.88em;word-break:break-word}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}
th,td{border:1px solid var(--line);padding:.35rem .5rem;vertical-align:top;text-align:left}
thead th{background:#f8f9fa;font-weight:600}
th small,td small{display:block;color:var(--grey);font-weight:400;font-size:.8em}
.meta{color:var(--grey);margin:.2rem 0}
nav ol{margin:.3rem 0;padding-left:1.2rem;columns:2}
.legend span{margin-right:.8rem;white-space:nowrap}
.pass{background:var(--pass-bg);color:var(--pass)}.fail{background:var(--fail-bg);color:var(--fail)}
.warn{background:var(--warn-bg);color:var(--warn)}.unset,.not-judged,.not-checkable,.not-probed{background:var(--grey-bg);color:var(--grey)}
td.pass .val,td.fail .val,td.warn .val{color:#202124}
.mark{font-weight:700;display:inline-block;min-width:1em}
.guide{display:block;color:var(--grey);font-size:.8em}
.refs{font-size:.8em;white-space:nowrap}.refs a{color:inherit}
.sev{font-weight:600;text-transform:uppercase;font-size:.75em}
.sev-critical,.sev-high{color:var(--fail)}.sev-medium{color:var(--warn)}.sev-low,.sev-info{color:var(--grey)}
ul.plain{list-style:none;padding-left:0;margin:0}ul.plain li{padding:.1rem .25rem;margin:.1rem 0}
.muted{color:var(--grey)}
tr.suppressed td{opacity:.6}
@media print{
@page{size:A4 landscape;margin:10mm}
body{max-width:none;padding:0;font-size:9pt}
nav{display:none}
a{color:inherit;text-decoration:none}
h2{break-after:avoid}
tr,li{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
""".strip()

STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")
CSP = f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'none'; base-uri 'none'; form-action 'none'"


def esc(value: object) -> str:
    """Text as HTML text or attribute value: every value is data, never markup."""
    return html.escape(str(value), quote=True)


def render(posture: Posture) -> str:
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(posture.title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
    ]
    parts += _header(posture)
    parts.append("<main>")
    parts += _matrix(posture)
    parts += _routes(posture)
    parts += _headers_and_cors(posture)
    parts += _checklists(posture)
    parts += _findings(posture)
    parts += _notes(posture)
    parts += ["</main>", "</body>", "</html>"]
    return "\n".join(parts) + "\n"


# -- pieces ----------------------------------------------------------------------------------------------------

def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        if not f.suppressed:
            counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


def _finding_title(posture: Posture, refs: Iterable[int]) -> str:
    lines = []
    for i in refs:
        f = posture.findings[i]
        where = f"{f.path}:{f.line}" if f.line else f.path
        lines.append(f"[{i + 1}] {f.rule_id} ({f.severity}{', suppressed' if f.suppressed else ''}): {f.message} ({where})")
    return "\n".join(lines)


def _refs(refs: Iterable[int]) -> str:
    links = [f'<a href="#f{i + 1}">{i + 1}</a>' for i in refs]
    return f' <span class="refs">[{", ".join(links)}]</span>' if links else ""


def _verdict(verdict: str, words: dict[str, str] = WORD) -> str:
    return f'<span class="mark" aria-hidden="true">{esc(MARK.get(verdict, "?"))}</span> <span class="word">{esc(words.get(verdict, verdict))}</span>'


def _header(posture: Posture) -> list[str]:
    counts = _counts(posture.findings)
    total = sum(counts.values())
    shown = ", ".join(f'<span class="sev sev-{esc(s)}">{n} {esc(s)}</span>' for s in reversed(SEVERITIES) if (n := counts[s]))
    out = [
        "<header>",
        f"<h1>Security posture of <code>{esc(posture.root)}</code></h1>",
        f'<p class="meta">Measured against the Enterprise Security Deployment Guide by velro-policy {esc(posture.version)}'
        + (f"; entry point <code>{esc(posture.app_entry)}</code>" if posture.app_entry else "")
        + (f"; probe recording <code>{esc(posture.probe)}</code>" if posture.probe else "") + ".</p>",
        f'<p class="counts" id="summary"><strong><a href="#findings">{total} finding{"" if total == 1 else "s"}</a></strong>'
        + (f" ({shown})" if shown else "") + (f'; <strong class="fail">{len(posture.problems)} could not be checked</strong>'
                                              if posture.problems else "") + "</p>",
        '<nav aria-label="Contents"><ol>'
        '<li><a href="#matrix">Environment variables</a></li><li><a href="#routes">Routes and rate limits</a></li>'
        '<li><a href="#headers">Security headers and CORS</a></li><li><a href="#checklists">Checklists</a></li>'
        '<li><a href="#findings">Findings</a></li><li><a href="#notes">Notes</a></li></ol></nav>',
        '<p class="legend">' + "".join(f'<span class="{esc(v)}">{_verdict(v)}</span>' for v in (PASS, FAIL, WARN, UNSET, NOT_JUDGED))
        + "</p>",
        "</header>",
    ]
    return out


def _matrix(posture: Posture) -> list[str]:
    out = ['<section id="matrix">', "<h2>1. Environment variables</h2>",
           "<p>The guide's table of critical environment variables, and the variables that play a role it names "
           "(JWT signing key, CORS origins, debug flags, rate limits), with the value each environment runs with: "
           "the env file's, else the settings default. Secrets are masked: length and at most two characters at each end.</p>"]
    if not posture.columns:
        out += ['<p class="muted">No env file and no settings module with defaults was found.</p>', "</section>"]
        return out
    out.append('<table class="matrix">')
    head = ['<tr><th scope="col">Variable</th>']
    for col in posture.columns:
        sub = f"{col.kind}, judged as {col.environment}" if col.kind != "template" else "template"
        head.append(f'<th scope="col" data-column="{esc(col.label)}" title="{esc(col.path)}: {esc(col.environment_source)}">'
                    f"<code>{esc(col.label)}</code><small>{esc(sub)}</small></th>")
    out += ["<thead>", "".join(head) + "</tr>", "</thead>", "<tbody>"]
    for row in posture.matrix:
        label = f"<code>{esc(row.variable)}</code><small>{esc(row.description)}" + (f" · role: {esc(row.role)}" if row.role else "") + "</small>"
        cells = [f'<tr data-variable="{esc(row.variable)}"><th scope="row">{label}</th>']
        for col, cell in zip(posture.columns, row.cells):
            title = "\n".join(t for t in (
                f"{cell.origin}" + (f" ({cell.where})" if cell.where else ""),
                f"guide: {cell.guide}" if cell.guide else "",
                f"judged by: {', '.join(cell.judged_by)}" if cell.judged_by else "no rule judges it here",
                _finding_title(posture, cell.refs)) if t)
            value = f'<code class="val">{esc(cell.shown)}</code>' if cell.shown else '<span class="muted">not set</span>'
            guide = f'<span class="guide">guide: {esc(cell.guide)}</span>' if cell.guide else ""
            if cell.shown and cell.origin not in ("set in this file", "default"):
                guide = f'<span class="guide">{esc(cell.origin)}</span>' + guide
            cells.append(f'<td class="{esc(cell.verdict)}" data-column="{esc(col.label)}" data-verdict="{esc(cell.verdict)}" '
                         f'title="{esc(title)}"><span class="mark" aria-label="{esc(WORD.get(cell.verdict, cell.verdict))}">'
                         f"{esc(MARK.get(cell.verdict, '?'))}</span> {value}{_refs(cell.refs)}{guide}</td>")
        out.append("".join(cells) + "</tr>")
    out += ["</tbody>", "</table>", "</section>"]
    return out


def _routes(posture: Posture) -> list[str]:
    out = ['<section id="routes">', "<h2>2. Routes and rate limits</h2>"]
    if not posture.routes:
        out.append('<p class="muted">No route found: no application model (no Python entry point read), or the app has no routes.</p>')
    else:
        out += ["<p>Every route of the deployed app with the rate limits that apply to it; sensitive routes "
                "(login, registration, password reset, generation) without a limit first.</p>",
                '<table class="routes"><thead><tr><th scope="col">Route</th><th scope="col">Handler</th><th scope="col">Auth</th>'
                '<th scope="col">Rate limit</th><th scope="col">Kind</th><th scope="col">Guide</th><th scope="col">Verdict</th></tr></thead><tbody>']
        for r in posture.routes:
            limits = "<br>".join(f"<code>{esc(t)}</code>" for t in r.limits) or '<span class="muted">none</span>'
            gate = f"<small>mounted if <code>{esc(r.gate)}</code></small>" if r.gate else ""
            auth = f"<code>{esc(r.auth)}</code>" if r.auth else '<span class="muted">-</span>'
            kind = esc(r.kind) if r.kind else '<span class="muted">other</span>'
            if r.kind and r.kind_reason:
                kind += f"<small>{esc(r.kind_reason)}</small>"
            out.append(
                f'<tr data-route="{esc(r.method)} {esc(r.path)}"><td><code>{esc(r.method)} {esc(r.path)}</code>{gate}</td>'
                f"<td><code>{esc(r.handler)}</code><small>{esc(r.where)}</small></td>"
                f"<td>{auth}</td><td>{limits}</td><td>{kind}</td><td>{esc(r.guide_limit)}</td>"
                f'<td class="{esc(r.verdict)}" data-verdict="{esc(r.verdict)}" title="{esc(_finding_title(posture, r.refs))}">'
                f"{_verdict(r.verdict)}{_refs(r.refs)}</td></tr>")
        out.append("</tbody></table>")
    out += ["<h3>The guide's rate-limit table</h3>", _guide_table(posture, posture.rate_limits, "Limit", "rate"), "</section>"]
    return out


def _guide_table(posture: Posture, rows: tuple[GuideRow, ...], what: str, kind: str) -> str:
    body = [f'<table class="{esc(kind)}"><thead><tr><th scope="col">Name</th><th scope="col">Guide</th>'
            f'<th scope="col">Where set (value, verdict)</th><th scope="col">{esc(what)} verdict</th></tr></thead><tbody>']
    for row in rows:
        places = []
        for p in row.places:
            label = f"<code>{esc(p.label)}</code> " if p.label else ""
            env = f" ({esc(p.environment)})" if p.environment else ""
            value = f"= <code class='val'>{esc(p.shown)}</code>" if p.shown else ""
            places.append(f'<li class="{esc(p.verdict)}" data-verdict="{esc(p.verdict)}" title="{esc(_finding_title(posture, p.refs))}">'
                          f"{_verdict(p.verdict)}: {esc(p.source)} {label}{value}{_refs(p.refs)}<small>{esc(p.where)}{env}</small></li>")
        if row.refs:
            places.append(f'<li class="{FAIL}" title="{esc(_finding_title(posture, row.refs))}">{_verdict(FAIL)} '
                          f"{esc('; '.join(posture.findings[i].message for i in row.refs))}{_refs(row.refs)}</li>")
        where = f'<ul class="plain">{"".join(places)}</ul>' if places else f'<span class="muted">{esc(row.note or "not set")}</span>'
        body.append(f'<tr data-name="{esc(row.name)}"><th scope="row"><code>{esc(row.name)}</code></th>'
                    f'<td><code>{esc(row.guide)}</code></td><td>{where}</td>'
                    f'<td class="{esc(row.verdict)}" data-verdict="{esc(row.verdict)}">{_verdict(row.verdict)}</td></tr>')
    body.append("</tbody></table>")
    return "".join(body)


def _headers_and_cors(posture: Posture) -> list[str]:
    out = ['<section id="headers">', "<h2>3. Security headers and CORS</h2>",
           "<h3>The guide's six headers</h3>",
           _guide_table(posture, posture.headers, "Header", "headers"),
           "<h3>CORS origins per environment</h3>"]
    if not posture.origins:
        out.append('<p class="muted">No CORS origin list found (no ALLOWED_ORIGINS-like variable, no CORSMiddleware).</p>')
    else:
        out.append('<table class="origins"><thead><tr><th scope="col">Where</th><th scope="col">Variable</th>'
                   '<th scope="col">Origins</th><th scope="col">Verdict</th></tr></thead><tbody>')
        for o in posture.origins:
            origins = "".join(f"<li><code>{esc(x)}</code></li>" for x in o.origins)
            out.append(f'<tr data-column="{esc(o.column)}"><th scope="row"><code>{esc(o.column)}</code><small>{esc(o.where)}</small></th>'
                       f"<td><code>{esc(o.variable)}</code></td><td><ul class=\"plain\">{origins}</ul></td>"
                       f'<td class="{esc(o.verdict)}" data-verdict="{esc(o.verdict)}" title="{esc(_finding_title(posture, o.refs))}">'
                       f"{_verdict(o.verdict)}{_refs(o.refs)}</td></tr>")
        out.append("</tbody></table>")
    out.append("</section>")
    return out


def _checklist(posture: Posture, items: tuple[ChecklistItem, ...], name: str) -> str:
    rows = [f'<table class="checklist" data-checklist="{esc(name)}"><thead><tr><th scope="col">Item</th><th scope="col">State</th>'
            '<th scope="col">Rules behind it</th></tr></thead><tbody>']
    for item in items:
        rules = ", ".join(f"<code>{esc(r)}</code>" for r in item.rules) or '<span class="muted">none</span>'
        why = f"<small>{esc(item.why)}</small>" if item.why else ""
        rows.append(f'<tr data-item="{esc(item.text)}"><td>{esc(item.text)}{why}</td>'
                    f'<td class="{esc(item.verdict)}" data-verdict="{esc(item.verdict)}" title="{esc(_finding_title(posture, item.refs))}">'
                    f"{_verdict(item.verdict, CHECK_WORD)}{_refs(item.refs)}</td><td><small>{rules}</small></td></tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _checklists(posture: Posture) -> list[str]:
    post = ("Filled from the probe recording " + f"<code>{esc(posture.probe)}</code>." if posture.probe else
            "No probe recording given: record one with <code>velro-policy probe URL --record FILE.probe.json</code> "
            "and pass it with <code>--probe-recording</code>.")
    return ['<section id="checklists">', "<h2>4. Checklists</h2>",
            "<h3>Pre-deployment security validation</h3>",
            "<p>Ticked when the rules behind an item judged the project and found nothing; crossed when they found something.</p>",
            _checklist(posture, posture.pre_deployment, "pre"),
            "<h3>Post-deployment verification</h3>", f"<p>{post}</p>",
            _checklist(posture, posture.post_deployment, "post"), "</section>"]


def _findings(posture: Posture) -> list[str]:
    out = ['<section id="findings">', f"<h2>5. Findings ({len(posture.findings)})</h2>"]
    if not posture.findings:
        out += ['<p class="pass">No findings.</p>', "</section>"]
        return out
    out.append('<table class="findings"><thead><tr><th scope="col">#</th><th scope="col">Severity</th><th scope="col">Rule</th>'
               '<th scope="col">Where</th><th scope="col">Finding and fix</th></tr></thead><tbody>')
    for n, f in enumerate(posture.findings, 1):
        where = f"{f.path}:{f.line}" if f.line else f.path
        fix = f"<small>fix: {esc(f.remediation.splitlines()[0])}</small>" if f.remediation else ""
        sup = f"<small>suppressed: {esc(f.suppressed)}</small>" if f.suppressed else ""
        out.append(f'<tr id="f{n}" class="{"suppressed" if f.suppressed else ""}" data-rule="{esc(f.rule_id)}"><td>{n}</td>'
                   f'<td class="sev sev-{esc(f.severity)}">{esc(f.severity)}</td><td><code>{esc(f.rule_id)}</code></td>'
                   f"<td><code>{esc(where)}</code></td><td>{esc(f.message)}{fix}{sup}</td></tr>")
    out += ["</tbody></table>", "</section>"]
    return out


def _notes(posture: Posture) -> list[str]:
    out = ['<section id="notes">', "<h2>6. Notes</h2>"]
    if posture.problems:
        out.append('<p class="fail"><strong>Could not be checked</strong> (the report is incomplete for these):</p><ul>')
        out += [f"<li><code>{esc(p)}</code></li>" for p in posture.problems]
        out.append("</ul>")
    if posture.notes:
        out.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in posture.notes) + "</ul>")
    elif not posture.problems:
        out.append('<p class="muted">None.</p>')
    out.append("</section>")
    return out
