"""The data of ``velro-policy report``: a ``Posture`` built from one ``check`` run.

Nothing is judged here.  Verdicts come from the run's findings (``commands.run.collect``,
the same pipeline as ``check``): a cell, route, header or checklist item is red when a
finding points at it, green when a rule in force judged it and found nothing.  What this
module adds is the layout of the guide (its tables, drawn as the guide draws them) and the
values beside the verdicts, each rendered by ``values.masking.show``: no raw value leaves here.

How a finding is attached to a cell: a finding at the file and line of the value (env files,
settings defaults), or naming the variable when the value is absent (a required key).  A
settings default an env file does not set is its effective value; findings at the default's
line in that file's environment belong to that cell.
"""
from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable
from typing import NamedTuple

from velro_policy.model import SEVERITY_RANK, AppModel, Document, Entry, Finding, Location, Route, RunResult, Unknown
from velro_policy.posture import (
    FAIL,
    NOT_CHECKABLE,
    NOT_JUDGED,
    NOT_PROBED,
    PASS,
    UNSET,
    WARN,
    Cell,
    ChecklistItem,
    Column,
    GuideRow,
    MatrixRow,
    OriginList,
    Place,
    Posture,
    RouteRow,
)
from velro_policy.rules import Rule
from velro_policy.values import masking, selectors

# -- the guide, as it draws its tables -------------------------------------------------------------

ENV_TO_GUIDE = {"production": "Production", "staging": "Staging", "development": "Development", "test": "Development"}
_GUIDE_INDEX = {"Production": 0, "Staging": 1, "Development": 2}

# "Critical Environment Variables": variable, (production, staging, development), description.
MATRIX: tuple[tuple[str, tuple[str, str, str], str], ...] = (
    ("ENVIRONMENT", ("production", "staging", "development"), "Environment identifier"),
    ("DEBUG", ("false", "false", "true"), "Debug mode (NEVER true in prod)"),
    ("DEVELOPMENT_MODE", ("false", "false", "true"), "Development features"),
    ("EMERGENCY_AUTH_MODE", ("false", "false", "false"), "Emergency auth bypass"),
    ("JWT_SECRET", ("96+ chars", "96+ chars", "64+ chars"), "JWT signing secret"),
    ("ENABLE_MOCK_AUTHENTICATION", ("false", "false", "false"), "Mock authentication"),
    ("ENABLE_DEBUG_ENDPOINTS", ("false", "false", "true"), "Debug endpoints"),
    ("VERBOSE_ERROR_MESSAGES", ("false", "false", "true"), "Detailed error messages"),
)

# Rows by role: the app model's role of a setting, the rules whose selectors bring env variables in,
# and the guide's cell per column.
JWT_ROLE = "JWT signing key"
CORS_ROLE = "CORS origins"
DEBUG_ROLE = "debug flag"
RATE_ROLE = "rate limit"
ROLES: tuple[tuple[str, str, tuple[str, ...], tuple[str, str, str]], ...] = (
    (JWT_ROLE, "jwt-signing-key", ("velro/jwt-secret-strength",), ("96+ chars", "96+ chars", "64+ chars")),
    (CORS_ROLE, "cors-origins", ("velro/cors-no-wildcard",),
     ("exact https origins, no *, no localhost", "exact origins, no *", "any")),
    (DEBUG_ROLE, "debug-flag", (), ("false", "false", "true")),
    (RATE_ROLE, "", ("velro/rate-limit-*",), ("", "", "any")),
)

# "Rate Limiting Rules": name, limit, env rule, settings rule.
RATE_LIMITS: tuple[tuple[str, str, str, str], ...] = (
    ("auth_login", "3/hour", "velro/rate-limit-login", "velro/rate-table-login"),
    ("auth_register", "2/hour", "velro/rate-limit-register", "velro/rate-table-register"),
    ("generation_create", "10/hour", "velro/rate-limit-generation", "velro/rate-table-generation"),
    ("api_standard", "100/minute", "velro/rate-limit-api", "velro/rate-table-api"),
    ("password_reset", "3/hour", "velro/rate-limit-password-reset", "velro/rate-table-password-reset"),
)

# "Security Headers Configuration": header, value, the rules of each layer (settings, code, probe).
HEADERS: tuple[tuple[str, str, str], ...] = (
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains; preload", "hsts"),
    ("Content-Security-Policy", "default-src 'self'; script-src 'self'", "csp"),
    ("X-Content-Type-Options", "nosniff", "content-type-options"),
    ("X-Frame-Options", "DENY", "frame-options"),
    ("X-XSS-Protection", "1; mode=block", "xss-protection"),
    ("Referrer-Policy", "strict-origin-when-cross-origin", "referrer-policy"),
)

# "Security Checklist": the guide's words, the rules behind each item (id globs), and why an item
# cannot be decided statically (then it is NOT_CHECKABLE whatever the rules say).
PRE_DEPLOYMENT: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("JWT secret is 96+ characters and cryptographically secure",
     ("velro/jwt-secret-*", "velro/settings-jwt-secret-*", "velro/code-jwt-secret-*", "velro/code-jwt-hardcoded-key",
      "velro/template-real-secret", "velro/env-secret-committed", "velro/project-shared-secret"), ""),
    ("All debug modes and development features are disabled",
     ("velro/debug-*", "velro/development-mode-*", "velro/settings-debug-*", "velro/settings-development-mode-*",
      "velro/code-debug-*", "velro/code-fastapi-debug", "velro/code-uvicorn-reload"), ""),
    ("Mock authentication is completely disabled",
     ("velro/mock-auth-*", "velro/emergency-auth-*", "velro/settings-mock-auth-*", "velro/settings-emergency-auth-*",
      "velro/code-auth-*"), ""),
    ("CORS is configured with specific domains only", ("velro/cors-*", "velro/settings-cors-*", "velro/code-cors-*"), ""),
    ("Security headers are enabled and properly configured", ("velro/header-*", "velro/env-header-*", "velro/code-header-*"), ""),
    ("Rate limiting is active and tested",
     ("velro/rate-limit-*", "velro/rate-table-*", "velro/route-rate-limit", "velro/code-rate-limit-*"), ""),
    ("Error messages don't leak sensitive information",
     ("velro/verbose-errors-*", "velro/settings-verbose-errors-*", "velro/code-error-*"), ""),
    ("All environment variables are properly set",
     ("velro/environment-name", "velro/jwt-blacklist-*", "velro/project-template-*", "velro/project-environment-parity",
      "velro/project-unread-variable"), ""),
    ("Security validation script passes all checks", (),
     "the project's own validation script runs against the deployment; `velro-policy check` is its static part"),
)
POST_DEPLOYMENT: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Security headers are present in all responses", ("velro/http-header-*",), ""),
    ("Rate limiting is functioning correctly", ("velro/http-rate-limit-*",), ""),
    ("Authentication endpoints reject invalid tokens", ("velro/http-auth-*",), ""),
    ("Error responses don't expose system information", ("velro/http-error-*",), ""),
    ("CORS policies are enforced", ("velro/http-cors-*",), ""),
    ("Monitoring and logging are operational", (), "only the team's monitoring shows it"),
    ("Security incident response is configured", (), "a process, not a setting"),
)
_ITEM_NOTES = {
    "Rate limiting is active and tested": "\"tested\" needs a running service: `velro-policy probe --rate-limit-check`",
}

_ENV_ORDER = {"production": 0, "staging": 1, "development": 2, "test": 3, "template": 4}


class Run(NamedTuple):
    """What one ``collect`` produced, with what it read on the way (``collect(..., seen=)``)."""

    result: RunResult
    loaded: list[Document]  # documents as read
    documents: list[Document]  # documents as judged (settings adjusted, effective ones added)
    app: AppModel | None


# -- the builder ------------------------------------------------------------------------------------

class _Index:
    """The findings, numbered, and looked up by where they point."""

    def __init__(self, findings: list[Finding], rules: Iterable[Rule]) -> None:
        self.findings = findings
        self.targets = {r.id: r.target for r in rules}
        self.by_line: dict[tuple[str, int], list[int]] = {}
        self.by_key: dict[tuple[str, str], list[int]] = {}
        for i, f in enumerate(findings):
            self.by_line.setdefault((f.path, f.line), []).append(i)
            self.by_key.setdefault((f.path, _key_name(f.key)), []).append(i)

    def at(self, path: str, line: int) -> list[int]:
        return list(self.by_line.get((path, line), ()))

    def named(self, path: str, name: str) -> list[int]:
        return list(self.by_key.get((path, name.upper()), ()))

    def of_rules(self, ids: Iterable[str]) -> list[int]:
        wanted = set(ids)
        return [i for i, f in enumerate(self.findings) if f.rule_id in wanted]

    def verdict(self, refs: Iterable[int], *, judged: bool, present: bool = True) -> str:
        active = [self.findings[i] for i in refs if not self.findings[i].suppressed]
        if any(self.targets.get(f.rule_id, "") != "project" for f in active):
            return FAIL
        if active or any(True for _ in refs):
            return WARN
        if not present:
            return UNSET
        return PASS if judged else NOT_JUDGED


def _key_name(key: str) -> str:
    """The variable a finding's key names: ``JWT_SECRET (in the git index)`` -> ``JWT_SECRET``."""
    return key.split(" ", 1)[0].split("[", 1)[0].upper()


def _where(path: str, line: int) -> str:
    return f"{path}:{line}" if line else path


def _entries(doc: Document) -> list[Entry]:
    return list(doc.entries)


class _Selector:
    """A rule's ``select`` list, compiled once (``!`` excludes)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.take: list[selectors.Pattern] = []
        self.drop: list[selectors.Pattern] = []
        for sel in rule.select:
            try:
                (self.drop if sel.startswith("!") else self.take).append(selectors.compile_selector(sel.lstrip("!")))
            except selectors.SelectorError:
                continue

    def picks(self, parts: tuple[object, ...]) -> bool:
        return any(selectors.matches(p, parts) for p in self.take) and not any(selectors.matches(p, parts) for p in self.drop)


def _matching(rules: Iterable[Rule], globs: Iterable[str]) -> list[Rule]:
    pats = list(globs)
    return [r for r in rules if any(fnmatch.fnmatchcase(r.id, g) for g in pats)]


def build(run: Run, *, root: str, version: str, probe: Run | None = None, probe_label: str = "") -> Posture:
    result = run.result
    findings = list(result.findings)
    if probe is not None:
        findings += list(probe.result.findings)
    rules = list(result.rules) + (list(probe.result.rules) if probe is not None else [])
    index = _Index(findings, rules)
    sel = {r.id: _Selector(r) for r in rules}
    env_docs = sorted((d for d in run.loaded if d.target == "env"),
                      key=lambda d: (_ENV_ORDER.get(d.environment, 9), _shown(d)))
    all_settings = [d for d in run.loaded if d.target == "settings"]
    settings_loaded = [d for d in all_settings if d.env_reads or any(e.env for e in d.entries)]
    judged_settings = {_shown(d): d for d in run.documents if d.target == "settings"}
    kept = {e.loc for d in judged_settings.values() for e in _entries(d)}  # defaults production runs with
    # the environment each settings module's defaults were judged as (the effective document's, else production)
    effective = {_shown(d): d.environment for d in run.documents if d.target == "effective"}
    columns = [_env_column(d, root) for d in env_docs] + [_settings_column(d, root) for d in settings_loaded]
    matrix = _matrix(columns, env_docs, settings_loaded, judged_settings, effective, run.app, rules, sel, index)
    routes = _routes(run.app, rules, index)
    rate_rows = _rate_limits(env_docs + all_settings, kept, sel, index)
    headers = _headers(all_settings + env_docs, kept, probe.loaded if probe else [], sel, index, run.app, set(result.applied))
    origins = _origins(matrix, columns, env_docs, settings_loaded, run.app, index)
    pre = tuple(_item(text, globs, why, list(result.rules), set(result.applied), index) for text, globs, why in PRE_DEPLOYMENT)
    if probe is None:
        post = tuple(ChecklistItem(text, NOT_CHECKABLE if not globs else NOT_PROBED, (), why)  # the report says how to probe
                     for text, globs, why in POST_DEPLOYMENT)
    else:
        post = tuple(_item(text, globs, why, list(probe.result.rules), set(probe.result.applied), index)
                     for text, globs, why in POST_DEPLOYMENT)
    problems = tuple(f"{_where(p.path, p.line)}: {p.message}" for p in result.problems)
    if probe is not None:
        problems += tuple(f"{_where(p.path, p.line)}: {p.message}" for p in probe.result.problems)
    notes = tuple(result.notes) + (tuple(probe.result.notes) if probe is not None else ())
    return Posture(
        title=f"Security posture of {root}",
        root=root,
        version=version,
        columns=tuple(columns),
        matrix=tuple(matrix),
        routes=routes,
        rate_limits=rate_rows,
        headers=headers,
        origins=origins,
        pre_deployment=pre,
        post_deployment=post,
        findings=tuple(findings),
        notes=notes,
        problems=problems,
        probe=probe_label,
        app_entry=run.app.entry if run.app is not None else "",
    )


def _shown(doc: Document) -> str:
    return doc.display_path or doc.path


def _label(path: str, root: str) -> str:
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if root not in ("", ".") and path.startswith(prefix) else path


def _env_column(doc: Document, root: str) -> Column:
    template = doc.is_template or doc.environment == "template"
    return Column(_label(_shown(doc), root), _shown(doc), "template" if template else "env file", doc.environment,
                  doc.environment_source, "" if template else ENV_TO_GUIDE.get(doc.environment, "Production"))


def _settings_column(doc: Document, root: str) -> Column:
    return Column(f"defaults: {_label(_shown(doc), root)}", _shown(doc), "settings defaults", "production",
                  "what production runs with when no env file sets the variable", "Production")


# -- the matrix ----------------------------------------------------------------------------------------

class _Row(NamedTuple):
    variable: str
    role: str
    description: str
    guide: tuple[str, str, str]
    secret: bool


def _rows(env_docs: list[Document], settings: list[Document], app: AppModel | None, rules: list[Rule],
          sel: dict[str, _Selector]) -> list[_Row]:
    rows = [_Row(v, "", d, g, masking.is_secret_key(v)) for v, g, d in MATRIX]
    roles_of: dict[str, str] = {}
    if app is not None:
        for s in app.settings:
            roles_of.setdefault(s.env.upper(), s.role)
    spelled: dict[str, str] = {}  # upper-cased name -> as first written (env names compare case-insensitively)
    for doc in env_docs:
        for e in _entries(doc):
            if len(e.parts or (e.key,)) == 1:
                spelled.setdefault(e.key.upper(), e.key)
    for doc in settings:
        for n in [n for e in _entries(doc) for n in e.env] + [n for n, _ in doc.env_reads]:
            spelled.setdefault(n.upper(), n)
    for n in roles_of:
        spelled.setdefault(n, n)
    seen = {r.variable for r in rows}
    for role, app_role, globs, guide in ROLES:
        role_rules = _matching(rules, globs)
        for name in spelled:
            by_app = bool(app_role) and roles_of.get(name) == app_role
            by_rule = any(sel[r.id].picks((name,)) for r in role_rules if r.target == "env")
            if not (by_app or by_rule):
                continue
            if name in seen:
                rows = [r._replace(role=r.role or role) if r.variable == name else r for r in rows]
                continue
            seen.add(name)
            row_guide = guide
            if role == RATE_ROLE:
                limit = next((lim for _, lim, env_rule, _ in RATE_LIMITS if sel.get(env_rule) and sel[env_rule].picks((name,))), "")
                row_guide = (f"at most {limit}", f"at most {limit}", "any") if limit else ("", "", "any")
            description = {JWT_ROLE: "signs the JWTs (by its use in the code)" if by_app else "JWT signing secret",
                           CORS_ROLE: "allowed CORS origins", DEBUG_ROLE: "turns the app's debug mode on",
                           RATE_ROLE: "a rate limit of the guide's table"}[role]
            rows.append(_Row(spelled[name], role, description, row_guide, role == JWT_ROLE or masking.is_secret_key(name)))
    return rows


def _guide_cell(row: _Row, col: Column) -> str:
    if col.kind == "template":
        return "a placeholder" if row.secret else ""
    return row.guide[_GUIDE_INDEX.get(col.guide_column, 0)]


def _judged_by(rules: list[Rule], sel: dict[str, _Selector], name: str, targets: tuple[str, ...], environment: str) -> tuple[str, ...]:
    return tuple(r.id for r in rules if r.target in targets and environment in r.environments and sel[r.id].picks((name,)))


def _env_lookup(doc: Document, name: str) -> Entry | None:
    found = None
    for e in _entries(doc):
        if len(e.parts or (e.key,)) == 1 and e.key.upper() == name.upper():
            found = e  # the last assignment wins, as the app reads it
    return found


def _default_lookup(doc: Document | None, name: str) -> Entry | None:
    if doc is None:
        return None
    return next((e for e in _entries(doc) if any(n.upper() == name.upper() for n in e.env) and len(e.parts) <= 1), None)


def _matrix(columns: list[Column], env_docs: list[Document], settings: list[Document], judged_settings: dict[str, Document],
            effective: dict[str, str], app: AppModel | None, rules: list[Rule], sel: dict[str, _Selector],
            index: _Index) -> list[MatrixRow]:
    rows = _rows(env_docs, settings, app, rules, sel)
    paired = {id(d): _paired_settings(d, settings) for d in env_docs}
    environments = {r.id: r.environments for r in rules}
    out = []
    for row in rows:
        cells: list[Cell] = []
        for col, doc in zip(columns, [*env_docs, *settings]):
            guide = _guide_cell(row, col)
            if col.kind == "settings defaults":
                cells.append(_settings_cell(row, doc, judged_settings.get(_shown(doc)), guide, rules, sel, index))
            else:
                cells.append(_env_cell(row, col, doc, paired[id(doc)], effective, environments, guide, rules, sel, index))
        out.append(MatrixRow(row.variable, row.role, row.description, tuple(cells)))
    return out


def _show(name: str, value: object, secret: bool = False) -> str:
    """``masking.show``, after masking secret-looking pieces of a longer text first: show keeps
    the first 57 characters of a value it does not take for a secret, and a token inside one
    (``report-uri https://r.example/?t=sk_live_...``) must not reach the page in part."""
    if isinstance(value, str) and not secret and not masking.is_secret_key(name):
        value = masking.scrub(value)
    return masking.show(name, value, secret=secret)


def _paired_settings(env_doc: Document, settings: list[Document]) -> list[Document]:
    """The settings modules whose defaults an env file's app falls back to: those in the env file's
    folder or below it (``.env.production`` beside ``app/config.py``), else those in a folder above it
    (``deploy/.env.production`` under the project of ``config.py``)."""
    folder = posixpath.dirname(_shown(env_doc))
    below = [s for s in settings if _inside(_shown(s), folder)]
    return below or [s for s in settings if _inside(_shown(env_doc), posixpath.dirname(_shown(s)))]


def _inside(path: str, folder: str) -> bool:
    return folder in ("", ".") or path.startswith(folder.rstrip("/") + "/")


def _env_cell(row: _Row, col: Column, doc: Document, paired: list[Document], effective: dict[str, str],
              environments: dict[str, tuple[str, ...]], guide: str, rules: list[Rule], sel: dict[str, _Selector],
              index: _Index) -> Cell:
    name = row.variable
    judged = _judged_by(rules, sel, name, ("env",), col.environment)
    entry = _env_lookup(doc, name)
    if entry is not None:
        refs = sorted(set(index.at(col.path, entry.loc.line) + index.named(col.path, name)))
        return Cell(_show(name, entry.value, row.secret), index.verdict(refs, judged=bool(judged)), guide, "set in this file",
                    _where(col.path, entry.loc.line), tuple(refs), judged)
    found = next(((s, e) for s in paired for e in [_default_lookup(s, name)] if e is not None), None)
    if found is not None and col.kind != "template":
        return _default_in_env_cell(row, col, found[0], found[1], effective, environments, guide, rules, sel, index)
    refs = index.named(col.path, name)
    return Cell("", index.verdict(refs, judged=bool(judged), present=False), guide, "not set", "", tuple(refs), judged)


def _default_in_env_cell(row: _Row, col: Column, settings: Document, default: Entry, effective: dict[str, str],
                         environments: dict[str, tuple[str, ...]], guide: str, rules: list[Rule], sel: dict[str, _Selector],
                         index: _Index) -> Cell:
    """An env file that does not set a variable runs with the settings default: the default's value,
    and the verdict of the findings at its line whose rule applies in this column's environment.  The
    default is judged once, as its module's environment (production unless the module says otherwise):
    in another column, no finding is a pass only when a rule of that environment would judge it the
    same way, which the run did not check, so it is "not judged" there."""
    name = row.variable
    where = _where(default.loc.path, default.loc.line)
    refs = sorted(i for i in set(index.at(default.loc.path, default.loc.line))
                  if col.environment in environments.get(index.findings[i].rule_id, (col.environment,)))
    judged_as = effective.get(_shown(settings), "production")
    judged = _judged_by(rules, sel, name, ("env", "settings"), col.environment) if col.environment == judged_as else ()
    origin = f"default from {where}" + ("" if col.environment == judged_as else f" (judged as {judged_as})")
    return Cell(_show(name, default.value, row.secret), index.verdict(refs, judged=bool(judged)), guide, origin, where,
                tuple(refs), judged)


def _settings_cell(row: _Row, doc: Document, judged_doc: Document | None, guide: str, rules: list[Rule],
                   sel: dict[str, _Selector], index: _Index) -> Cell:
    name = row.variable
    path = _shown(doc)
    judged = _judged_by(rules, sel, name, ("settings",), "production")
    entry = _default_lookup(doc, name)
    if entry is None:
        line = next((ln for n, ln in doc.env_reads if n.upper() == name.upper()), 0)
        if not line:
            return Cell("", UNSET, guide, "not read by this module", "")
        refs = sorted(set(index.at(path, line)))
        return Cell("(no default)", index.verdict(refs, judged=bool(judged)), guide,
                    "read without a default: the app needs it set", _where(path, line), tuple(refs), judged)
    refs = sorted(set(index.at(entry.loc.path, entry.loc.line)))
    where = _where(entry.loc.path, entry.loc.line)
    kept = judged_doc is not None and any(e.loc == entry.loc for e in _entries(judged_doc))
    if not kept and not refs:
        return Cell(_show(name, entry.value, row.secret), NOT_JUDGED, guide,
                    "overridden by every production env file", where, (), judged)
    return Cell(_show(name, entry.value, row.secret), index.verdict(refs, judged=bool(judged)), guide, "default", where,
                tuple(refs), judged)


# -- routes -----------------------------------------------------------------------------------------------

def _routes(app: AppModel | None, rules: list[Rule], index: _Index) -> tuple[RouteRow, ...]:
    if app is None:
        return ()
    from velro_policy.commands.app import auth_dependency, limit_text
    from velro_policy.judge.operators.routes import classify, compile_param
    from velro_policy.rules import ops

    rule = next((r for r in rules if r.id == "velro/route-rate-limit"), None)
    vocabulary = None
    if rule is not None:
        op = next((o for o in ops(rule.check) if o.name == "route_rate_limit"), None)
        if op is not None and isinstance(op.param, dict):
            vocabulary = compile_param(op.param)
    rows = []
    for r in app.routes:
        kind = classify(r.method, r.path, r.handler, vocabulary, r.kind) if vocabulary else None
        key = f'routes["{r.method} {r.path}"]'
        refs = sorted({i for i, f in enumerate(index.findings) if f.key == key}
                      | {i for i in index.at(r.loc.path, r.loc.line) if "rate-limit" in index.findings[i].rule_id})
        verdict = index.verdict(refs, judged=kind is not None)
        rows.append(_route_row(r, kind.label if kind else "", str(kind.limit) if kind else "", verdict, refs,
                               auth_dependency(r), [limit_text(lim) for lim in r.limits]))
    order = {FAIL: 0, WARN: 1, PASS: 2}
    rows.sort(key=lambda x: (0 if x.kind and not x.limits else 1 if x.kind else 2, order.get(x.verdict, 3), x.path, x.method))
    return tuple(rows)


def _route_row(r: Route, kind: str, guide: str, verdict: str, refs: list[int], auth: str, limits: list[str]) -> RouteRow:
    return RouteRow(  # code, shown as `velro-policy app` shows it; limits through masking (limit_text)
        method=r.method, path=r.path, handler=r.handler, where=_where(r.loc.path, r.loc.line), auth=auth, limits=tuple(limits),
        kind=kind, guide_limit=guide or "100/minute (api_standard; not checked per route)", verdict=verdict,
        gate=r.gate, refs=tuple(refs), kind_reason=r.kind_reason if kind and r.kind else "")


# -- guide tables: rate limits and headers -------------------------------------------------------------------

def _places(docs: list[Document], rule_ids: Iterable[str], kept: set[Location], sel: dict[str, _Selector], index: _Index,
            guide: str = "") -> list[Place]:
    """Every value of ``docs`` that the rules ``rule_ids`` select, with its verdict.  A settings
    default that every production env file overrides (not in ``kept``) is not judged.  A value
    equal to the guide's (``guide``) is the guide's published text: shown as is, not masked
    (``strict-origin-when-cross-origin`` looks random enough to be masked as a secret)."""
    chosen = [sel[i] for i in rule_ids if i in sel]
    ids = set(index.of_rules(s.rule.id for s in chosen))
    out: list[Place] = []
    for doc in docs:
        for e in _entries(doc):
            parts = e.parts or (e.key,)
            mine = [s for s in chosen if s.rule.target == doc.target and (s.picks(parts) or any(s.picks(a) for a in e.aliases))]
            if not mine:
                continue
            refs = sorted(set(index.at(e.loc.path, e.loc.line)) & ids)
            judged = any(doc.environment in s.rule.environments for s in mine)
            if doc.target == "settings" and e.loc not in kept:
                judged = False  # production never runs with this default
            source = "env file" if doc.target == "env" else "settings"
            environment = doc.environment if doc.target == "env" else "default"
            shown = repr(guide) if guide and e.value == guide else _show(str(parts[-1]), e.value)
            out.append(Place(_where(e.loc.path, e.loc.line), source, e.key, environment, shown,
                             index.verdict(refs, judged=judged), tuple(refs)))
    return out


def _rollup(places: Iterable[Place], refs: list[int], index: _Index) -> str:
    """A guide row's verdict: the worst of its places (and of findings about the row itself)."""
    verdicts = {p.verdict for p in places} | ({index.verdict(refs, judged=False)} if refs else set())
    return next((v for v in (FAIL, WARN, PASS, NOT_JUDGED) if v in verdicts), UNSET)


def _rate_limits(docs: list[Document], kept: set[Location], sel: dict[str, _Selector], index: _Index) -> tuple[GuideRow, ...]:
    complete = index.of_rules(["velro/rate-table-complete"])
    out = []
    for name, limit, env_rule, settings_rule in RATE_LIMITS:
        places = _places(docs, [env_rule, settings_rule], kept, sel, index)
        refs = [i for i in complete if name in index.findings[i].message]
        out.append(GuideRow(name, limit, _rollup(places, refs, index), tuple(places), tuple(refs)))
    return tuple(out)


def _headers(docs: list[Document], kept: set[Location], probe_docs: list[Document], sel: dict[str, _Selector],
             index: _Index, app: AppModel | None = None, applied: set[str] | None = None) -> tuple[GuideRow, ...]:
    complete = index.of_rules(["velro/header-set-complete"])
    out = []
    for header, value, slug in HEADERS:
        settings_rules = [f"velro/header-{slug}", f"velro/env-header-{slug}"] + (
            ["velro/header-hsts-max-age", "velro/header-hsts-flags"] if slug == "hsts" else [])
        places = _places(docs, settings_rules, kept, sel, index, guide=value)
        code_refs = index.of_rules([f"velro/code-header-{slug}"])
        places += _model_header_places(app, header, value, slug, places, applied or set(), index)
        shown_at = {p.where for p in places}
        for i in code_refs:  # Semgrep found it where the application model did not: no value to show
            f = index.findings[i]
            if _where(f.path, f.line) not in shown_at:
                places.append(Place(_where(f.path, f.line), "code", "", "", "", FAIL, (i,)))
        probe_place = _probe_place(header, value, slug, probe_docs, index)
        if probe_place is not None:
            places.append(probe_place)
        refs = [i for i in complete if header.lower() in index.findings[i].message.lower()]
        note = "" if places else ("not set by the deployed app's code, a settings module or an env file read (a proxy may add it: "
                                  "probe to see)")
        out.append(GuideRow(header, value, _rollup(places, refs, index), tuple(places), tuple(refs), note))
    return tuple(out)


def _model_header_places(app: AppModel | None, header: str, guide: str, slug: str, existing: list[Place],
                         applied: set[str], index: _Index) -> list[Place]:
    """Where the deployed app sets the header in code, as the application model read it (``response.headers[...] =``,
    a header dict the code uses, the ``secure`` package, middleware options), with the value it read: the
    verdict from the findings at that line (the code rule, or the app rule for values only the model sees).
    A place a settings module already shows (a header dict) is not repeated."""
    if app is None or app.headers is None:
        return []
    rules = {f"velro/code-header-{slug}", f"velro/app-header-{slug}"} | (
        {"velro/app-header-hsts-max-age", "velro/app-header-hsts-flags"} if slug == "hsts" else set())
    taken = {p.where for p in existing}
    # header dicts a settings module already shows, entry by entry: (file, dict name)
    dicts = {(p.where.rsplit(":", 1)[0], p.label.split("[", 1)[0]) for p in existing if "[" in p.label}
    out: list[Place] = []
    for s in app.headers.sets:
        where = _where(s.loc.path, s.loc.line)
        if s.header != header or where in taken:
            continue
        if s.source.startswith("header dict ") and (s.loc.path, s.source.split()[-1]) in dicts:
            continue
        taken.add(where)
        refs = sorted(i for i in set(index.at(s.loc.path, s.loc.line)) if index.findings[i].rule_id in rules)
        if s.value is None:
            shown = "(set; value not read)"
        elif isinstance(s.value, Unknown):
            shown = "(not a literal)"  # not the expression: its source text may hold a secret
        else:
            shown = repr(guide) if s.value == guide else _show(header, s.value)
        judged = bool(applied & ({f"velro/app-header-{slug}"} if s.judged else {f"velro/code-header-{slug}"}))
        verdict = index.verdict(refs, judged=judged and s.value is not None and not isinstance(s.value, Unknown))
        out.append(Place(where, "code", "" if s.source == "code" else s.source, "", shown, verdict, tuple(refs)))
    return out


def _probe_place(header: str, guide: str, slug: str, docs: list[Document], index: _Index) -> Place | None:
    if not docs:
        return None
    pages = [d for d in docs if d.target == "http"]
    values: list[str] = []
    present = 0
    for d in pages:
        got = next((e.value for e in _entries(d) if e.parts == ("headers", header)), None)
        if got is not None:
            present += 1
            values.append(repr(got) if got == guide else _show(header, got))
    refs = index.of_rules([f"velro/http-header-{slug}"])
    shown = "; ".join(dict.fromkeys(values)) if values else "(absent)"
    where = f"{present} of {len(pages)} responses"
    return Place(where, "probe", header, pages[0].environment if pages else "", shown,
                 index.verdict(refs, judged=True, present=bool(pages)), tuple(refs))


# -- CORS origins per environment ------------------------------------------------------------------------------

def _origins(matrix: list[MatrixRow], columns: list[Column], env_docs: list[Document], settings: list[Document],
             app: AppModel | None, index: _Index) -> tuple[OriginList, ...]:
    from velro_policy.values.origins import OriginError, parse_origins

    docs = [*env_docs, *settings]
    out = []
    for row in matrix:
        if row.role != CORS_ROLE:
            continue
        for col, doc, cell in zip(columns, docs, row.cells):
            if not cell.where:
                continue
            entry = _env_lookup(doc, row.variable) if col.kind != "settings defaults" else None
            if entry is None:
                entry = _default_lookup(doc, row.variable) if col.kind == "settings defaults" else None
            raw = entry.value if entry is not None else None
            if raw is None:  # a default from the settings module (effective value)
                shown: tuple[str, ...] = (cell.shown,)
            else:
                try:
                    shown = tuple(_show("origin", o) for o in parse_origins(raw)) or ("(empty list)",)
                except OriginError:
                    shown = (cell.shown,)
            out.append(OriginList(col.label, row.variable, cell.where, shown, cell.verdict, cell.refs))
    if app is not None:
        for m in app.middleware:
            if m.name != "CORSMiddleware":
                continue
            options = dict(m.options)
            where = _where(m.loc.path, m.loc.line)
            refs = [i for i in index.at(m.loc.path, m.loc.line) if "cors" in index.findings[i].rule_id]
            value = options.get("allow_origins")
            regex = options.get("allow_origin_regex")
            if isinstance(value, (list, tuple)) and all(isinstance(o, str) for o in value):
                shown = tuple(_show("origin", o) for o in value) or ("(empty list)",)
            elif value is None and regex is None:
                shown = ("(none: no allow_origins)",)
            else:
                shown = (masking.show("allow_origins", value if value is not None else regex),)
            if isinstance(value, Unknown):
                shown = (f"read at run time: {masking.scrub(value.why)}",)
            label = "code: CORSMiddleware" + (f" (if {masking.scrub(m.gate)})" if m.gate else "")
            out.append(OriginList(label, "allow_origins", where, shown, index.verdict(refs, judged=True), tuple(refs)))
    return tuple(out)


# -- checklists --------------------------------------------------------------------------------------------------

def _item(text: str, globs: tuple[str, ...], why: str, rules: list[Rule], applied: set[str], index: _Index) -> ChecklistItem:
    if not globs:
        return ChecklistItem(text, NOT_CHECKABLE, (), why)
    ids = tuple(r.id for r in _matching(rules, globs))
    if not ids:
        return ChecklistItem(text, NOT_CHECKABLE, (), "no rule in force checks it")
    refs = [i for i in index.of_rules(ids) if not index.findings[i].suppressed]
    refs.sort(key=lambda i: (-SEVERITY_RANK.get(index.findings[i].severity, 0), i))
    note = _ITEM_NOTES.get(text, "")
    if refs:
        return ChecklistItem(text, FAIL, ids, note, tuple(refs))
    if applied & set(ids):
        return ChecklistItem(text, PASS, ids, note)
    return ChecklistItem(text, UNSET, ids, "the rules behind it found nothing to judge here" + (f"; {note}" if note else ""))
