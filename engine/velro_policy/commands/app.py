"""``velro-policy app [DIR]``: print the application model (entry point, routes,
middleware, settings, notes) as text or JSON (schemas/app.schema.json).

Secret-looking defaults are only ever shown through ``masking.show``.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

from velro_policy.errors import InputError
from velro_policy.inputs.code import SEMGREP_PARSE
from velro_policy.model import AppModel, Document, Entry, Finding, Problem, Route, RouteLimit, Setting, Unknown, fingerprint
from velro_policy.rules import Rule
from velro_policy.values import masking

_AUTH_WORDS = ("auth", "user", "token", "login", "verify", "jwt", "api_key", "apikey", "security", "permission",
               "admin", "bearer", "oauth", "session", "current", "scope", "role")


def app(directory: str, fmt: str = "text", config_path: str | None = None) -> int:
    if not os.path.isdir(directory):
        raise InputError("directory not found", path=directory)
    from velro_policy.inputs.app import build

    model = build(directory, _config(directory, config_path))
    sys.stdout.write(render_json(model) if fmt == "json" else render_text(model))
    return 0


def _config(directory: str, config_path: str | None) -> dict[str, Any]:
    from pathlib import Path

    from velro_policy.policy import config as config_mod

    path = Path(config_path) if config_path else config_mod.find(directory)
    return config_mod.parse(path) if path else {}


# -- rendering ------------------------------------------------------------------
def auth_dependency(route: Route) -> str:
    for dep in route.dependencies:
        low = dep.lower()
        if "ratelimiter" not in low and any(w in low for w in _AUTH_WORDS):
            return dep
    return ""


def limit_text(limit: RouteLimit) -> str:
    value = limit.value
    if isinstance(value, Unknown):
        shown = f"unknown ({value.why})"
    elif isinstance(value, tuple) and len(value) == 2:
        shown = f"{value[0]} per {value[1]}s"
    else:
        shown = str(value)
    return f"{shown} [{limit.source}]"


def is_secret(setting: Setting) -> bool:
    return masking.is_secret_key(setting.env) or setting.role == "jwt-signing-key"


def _masked(setting: Setting) -> bool:
    """Secret by name or role, or a value the masking rule hides whatever its name."""
    return is_secret(setting) or "masked" in masking.show(setting.env, setting.default) or "placeholder" in masking.show(setting.env, setting.default)


def _option(key: str, value: object) -> object:
    shown = masking.show(key, value)
    return shown if masking.is_secret_key(key) or "masked" in shown else _jsonable(value)


def default_text(setting: Setting) -> str:
    if setting.default is None:
        return "(none: required or None)"
    return masking.show(setting.env, setting.default, secret=is_secret(setting))


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [min(max(len(r[i]) for r in [header, *rows]), 60) for i in range(len(header))]
    out = ["  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    for r in rows:
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return out


def render_text(model: AppModel) -> str:
    lines = [f"Entry point: {model.entry or '(none found)'}"]
    if model.entry_reason:
        lines.append(f"  why: {model.entry_reason}")
    lines.append(f"Deployed modules: {len(model.deployed)}" + ("" if model.complete else " (incomplete: every module counts as deployed)"))
    lines.append("")
    lines.append(f"Routes ({len(model.routes)}):")
    rows = [[r.method, r.path, f"{r.handler} {r.loc.path}:{r.loc.line}", auth_dependency(r) or "-",
             "; ".join(limit_text(lim) for lim in r.limits) or "none", r.gate or ""] for r in model.routes]
    lines.extend(_table(rows, ["METHOD", "PATH", "HANDLER", "AUTH", "RATE LIMIT", "GATE"]) if rows else ["  (none found)"])
    kinds = [r for r in model.routes if r.kind]
    if kinds:
        lines.append("")
        lines.append(f"Routes by what their handler calls ({len(kinds)}):")
        lines.extend(f"  {r.method} {r.path}: {r.kind}: {r.kind_reason}" for r in kinds)
    lines.append("")
    lines.append(f"Middleware ({len(model.middleware)}, in the order added):")
    for n, m in enumerate(model.middleware, 1):
        opts = ", ".join(f"{k}={masking.show(k, v)}" for k, v in m.options)
        gate = f" [if {m.gate}]" if m.gate else ""
        lines.append(f"  {n}. {m.name} {m.loc.path}:{m.loc.line}{gate}" + (f" ({opts})" if opts else ""))
    if not model.middleware:
        lines.append("  (none found)")
    lines.append("")
    lines.append(f"Settings ({len(model.settings)}):")
    rows = [[s.env, default_text(s), s.role or "-", f"{s.loc.path}:{s.loc.line}"] for s in model.settings]
    lines.extend(_table(rows, ["ENV", "DEFAULT", "ROLE", "WHERE"]) if rows else ["  (none found)"])
    if model.headers is not None:
        cover = model.headers
        lines.append("")
        lines.append(f"Security headers (app created at {cover.app.path}:{cover.app.line}):")
        rows = [[s.header, "set" if s.value is None else masking.show(s.header, s.value), s.source, f"{s.loc.path}:{s.loc.line}"]
                for s in cover.sets]
        lines.extend(_table(rows, ["HEADER", "VALUE", "SOURCE", "WHERE"]) if rows else ["  (none set)"])
        missing = missing_headers(model)
        if missing:
            lines.append(f"  not set: {', '.join(missing)}" + (" (unsure: see below)" if cover.unsure else ""))
        lines.extend(f"  unsure: {u}" for u in cover.unsure)
        lines.extend(f"  unused: {u} sets headers but nothing in the deployed app uses it" for u in cover.unused)
    if model.notes:
        lines.append("")
        lines.append("Notes:")
        lines.extend(f"  - {n}" for n in model.notes)
    return "\n".join(lines) + "\n"


def _jsonable(value: object) -> object:
    if isinstance(value, Unknown):
        return {"unknown": value.why}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _loc(loc: Any) -> dict[str, object]:
    return {"path": loc.path, "line": loc.line, "col": loc.col}


def model_data(model: AppModel) -> dict[str, object]:
    return {
        "entry": model.entry,
        "entry_reason": model.entry_reason,
        "complete": model.complete,
        "deployed": sorted(model.deployed),
        "routes": [{
            "method": r.method, "path": r.path, "handler": r.handler, "loc": _loc(r.loc), "gate": r.gate,
            "dependencies": list(r.dependencies), "auth": auth_dependency(r) or None,
            "kind": r.kind, "kind_reason": r.kind_reason,
            "limits": [{"value": _jsonable(lim.value), "source": lim.source, "loc": _loc(lim.loc)} for lim in r.limits],
        } for r in model.routes],
        "middleware": [{
            "name": m.name, "loc": _loc(m.loc), "gate": m.gate,
            "options": {k: _option(k, v) for k, v in m.options},
        } for m in model.middleware],
        "settings": [{
            "env": s.env, "role": s.role, "loc": _loc(s.loc), "masked": _masked(s),
            "default": None if _masked(s) else _jsonable(s.default),
            "default_shown": default_text(s),
        } for s in model.settings],
        "notes": list(model.notes),
        "headers": _headers_data(model),
    }


def _headers_data(model: AppModel) -> dict[str, object] | None:
    cover = model.headers
    if cover is None:
        return None
    return {
        "app": _loc(cover.app),
        "sets": [{"header": s.header, "value": _option(s.header, s.value), "loc": _loc(s.loc), "source": s.source, "judged": s.judged}
                 for s in cover.sets],
        "missing": missing_headers(model),
        "unsure": list(cover.unsure),
        "unused": list(cover.unused),
    }


def missing_headers(model: AppModel) -> list[str]:
    from velro_policy.inputs.app.headers import GUIDE_HEADERS

    have = {s.header for s in model.headers.sets} if model.headers else set()
    return [h for h in GUIDE_HEADERS if h not in have]


def render_json(model: AppModel) -> str:
    return json.dumps(model_data(model), indent=2) + "\n"


# -- the app step of `check` (commands/run.collect) ------------------------------------------
class AppStep:
    """The model of a directory run: the ``app`` document (one entry per route) and the
    filter that keeps findings of modules the app never imports out of the way."""

    def __init__(self, model: AppModel, modules: frozenset[str], unparseable: tuple[Problem, ...], root: str,
                 references: Any = dict, parsed: Any = None, partial: bool = False, validators: tuple[Any, ...] = ()) -> None:
        self.model = model
        self.partial = partial  # built for a partial run: app findings only for the files it checks
        self.parsed = parsed  # absolute path -> (text, tree) the model parsed (inputs.app.AppBuild.parsed)
        self.references = references  # () -> env names the deployment files name (compose, Dockerfile, scripts, CI)
        self.modules = modules
        self.unparseable = unparseable
        self.document = Document(root, "app", (
            *(Entry(f'routes["{r.method} {r.path}"]', r, r.loc, ("routes", f"{r.method} {r.path}")) for r in model.routes),
            *header_entries(model), *cors_entries(model),
            *(Entry(f"{v.name}()", v, v.loc, ("validators", v.name)) for v in validators)),
            environment="production", environment_source="application model", display_path=root, mentions_ignore=False)
        self.dropped: dict[str, int] = {}
        self.kept: dict[str, int] = {}
        self.skipped_unparseable: list[str] = []
        self.declared_python: tuple[tuple[int, int], str] | None = None  # (version, file) the project says it runs on

    @classmethod
    def build(cls, root: str, config: dict[str, Any], display: Any, *, partial: bool = False) -> AppStep:
        from velro_policy.inputs._files import declared_python
        from velro_policy.inputs.app import build_details

        built = build_details(root, config, display)
        step = cls(built.model, built.modules, built.unparseable, display(root), built.references, built.parsed, partial,
                   built.validators)
        step.declared_python = declared_python(root)
        return step

    def roles(self) -> dict[str, frozenset[str]]:
        """Env variable name (upper case) -> the roles it plays in the deployed app, for role selectors."""
        out: dict[str, set[str]] = {}
        for s in self.model.settings:
            if s.role:
                out.setdefault(s.env.upper(), set()).add(s.role)
        return {k: frozenset(v) for k, v in out.items()}

    def project_view(self, rules: list[Rule]) -> Any:
        """What the project checks learn from the model (``judge.project.AppView``): the env names the
        deployed modules read, with where, and their roles, and the usual names of each role (the
        name selectors of the rules that select it); None when the model is incomplete (then what
        is read is not known for sure, and the checks use the settings modules)."""
        if not self.model.complete:
            return None
        from velro_policy.judge.project import AppView
        from velro_policy.rules import role_selector

        reads: dict[str, str] = {}
        for s in self.model.settings:
            reads.setdefault(s.env.upper(), f"{s.loc.path}:{s.loc.line}")
        names: dict[str, list[str]] = {}
        for r in rules:
            for under, role in map(role_selector, r.roles):
                if not under:
                    names.setdefault(role, []).extend(s for s in r.select if s.startswith("!") or "[" not in s and "." not in s)
        role_names = {role: tuple(dict.fromkeys(sels)) for role, sels in names.items() if any(not s.startswith("!") for s in sels)}
        return AppView(reads, self.roles(), tuple(sorted(self.model.deployed)), role_names)

    def _undeployed(self, path: str) -> bool:
        return path in self.modules and not self.model.is_deployed(path)

    def settle_problems(self, problems: list[Problem], findings: list[Finding]) -> list[Problem]:
        """Syntax errors: skipped (counted) outside the deployed app, a finding inside it (not exit 2).
        A partial run keeps them as they are: a file named on the command line (or staged) that
        cannot be read is an error there (exit 2), and other modules are not its to report."""
        if self.partial:
            return problems
        out: list[Problem] = []
        done: set[str] = set()
        for p in problems:
            if p.kind == "scan-error" and SEMGREP_PARSE in p.message and p.path in self.modules:
                if self._undeployed(p.path):
                    self.skipped_unparseable.append(p.path)  # as a syntax error there: nothing of it is reported
                else:
                    out.append(self._semgrep_parse_problem(p))
            elif p.kind != "parse-error" or p.path not in self.modules:
                out.append(p)
            elif self._undeployed(p.path):
                self.skipped_unparseable.append(p.path)
            elif p.path not in done:
                done.add(p.path)
                findings.append(unparseable_finding(p, self.declared_python))
        for p in self.unparseable:
            if p.path not in done:
                done.add(p.path)
                findings.append(unparseable_finding(p, self.declared_python))
        return out

    def _semgrep_parse_problem(self, p: Problem) -> Problem:
        """Semgrep cannot parse a deployed module: still "could not check" (exit 2), but in a project
        that declares a newer Python than velro-policy runs on, that syntax is the likely cause
        (3.14's ``except A, B, C:``), and "fix the file" would be wrong advice."""
        import sys

        declared = self.declared_python
        if declared is None or declared[0] <= sys.version_info[:2]:
            return p
        version = ".".join(map(str, declared[0]))
        what = p.message.split("; fix the file")[0]
        return p._replace(message=f"{what}; the project declares Python {version} ({declared[1]}), whose newer syntax "
                                  "Semgrep may not parse yet: exclude the file (code_exclude) to accept that it is not checked")

    def settle_findings(self, findings: list[Finding], include: bool, checked: set[str] | None = None,
                        own_rules: set[str] | frozenset[str] = frozenset()) -> list[Finding]:
        """Findings in undeployed modules dropped (or kept at info); in a partial run (``checked``: the
        files it checks) the model's own findings (routes, headers, unparseable modules) are kept
        for those files only, as a whole run would give them."""
        out = []
        for f in findings:
            if checked is not None and f.path not in checked and (f.rule_id in own_rules or f.rule_id == UNPARSEABLE):
                continue
            if not self._undeployed(f.path):
                out.append(f)
            elif include:
                self.kept[f.path] = self.kept.get(f.path, 0) + 1
                out.append(f._replace(severity="info"))
            else:
                self.dropped[f.path] = self.dropped.get(f.path, 0) + 1
        return out

    def notes(self) -> list[str]:
        m = self.model
        out = []
        if m.entry:
            out.append(f"app: entry point {m.entry} ({m.entry_reason}); "
                       f"{len(m.deployed) if m.complete else len(self.modules)} of {len(self.modules)} Python modules deployed")
        if not m.complete:
            reasons = [n for n in m.notes if "every module counts as deployed" in n]
            why = "; ".join(reasons[:2]) or "the app model is incomplete"
            if len(reasons) > 2:
                why += f" (and {len(reasons) - 2} more: see `velro-policy app`)"
            out.append(f"app: no finding is dropped as undeployed: {why}")
        if self.dropped:
            out.append(f"{sum(self.dropped.values())} findings in {len(self.dropped)} module(s) that are not deployed "
                       f"({_some(self.dropped)}) not shown; --include-undeployed shows them")
        if self.kept:
            out.append(f"{sum(self.kept.values())} findings in {len(self.kept)} module(s) that are not deployed ({_some(self.kept)}) "
                       "are shown at info (--include-undeployed)")
        if self.skipped_unparseable:
            files = sorted(set(self.skipped_unparseable))
            out.append(f"{len(files)} module(s) that are not deployed cannot be parsed (by Python or Semgrep) and were skipped ({_some(dict.fromkeys(files, 1))})")
        return out


def header_entries(model: AppModel) -> list[Entry]:
    """The ``app`` entry (the headers the app sets, at its construction) and one ``headers["Name"]``
    entry per value only the model sees (a library's defaults and builders, middleware options)."""
    cover = model.headers
    if cover is None:
        return []
    out = [Entry("app", cover, cover.app, ("app",))]
    out.extend(Entry(f'headers["{s.header}"]', s.value, s.loc, ("headers", s.header)) for s in cover.sets if s.judged)
    return out


def cors_entries(model: AppModel) -> list[Entry]:
    """``middleware["CORSMiddleware"]`` entries (the middleware record), for the project check that
    pairs its allow_credentials with the origins an env file gives."""
    return [Entry(f'middleware["{m.name}"]', m, m.loc, ("middleware", m.name)) for m in model.middleware if m.name == "CORSMiddleware"]


def _some(paths: dict[str, int]) -> str:
    names = sorted(paths)
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


UNPARSEABLE = "velro/unparseable-module"


def unparseable_finding(p: Problem, declared: tuple[tuple[int, int], str] | None = None) -> Finding:
    """A deployed module that cannot be parsed.  When the project declares a newer Python than the
    one running velro-policy (``declared``), the syntax is most likely that Python's (3.14's
    ``except A, B:``): not a bug of the app but a module this run cannot check, so "cannot verify"
    at low, with how to check it, instead of a high "fix the syntax error"."""
    import sys

    running = sys.version_info[:2]
    if declared is not None and declared[0] > running and p.message.startswith("is not valid Python"):
        version = ".".join(map(str, declared[0]))
        reason = p.message.split(";")[0].split("(", 1)[-1].rstrip(")")
        message = (f"{p.path} cannot be read by Python {running[0]}.{running[1]}, which runs velro-policy ({reason}); the "
                   f"project declares Python {version} ({declared[1]}); cannot verify: the app imports it, so it is "
                   "deployed, and its code and settings are not checked")
        return Finding(p.path, p.line, p.col, UNPARSEABLE, "low", message,
                       fingerprint=fingerprint(UNPARSEABLE, p.path), title="Deployed module cannot be parsed",
                       remediation=f"Run velro-policy with Python {version} (install it into a Python {version} "
                                   "environment), so this module is read.")
    message = (f"{p.path} {p.message.split(';')[0]}; the app imports it, so it is deployed, "
               "and its code and settings could not be checked")
    return Finding(p.path, p.line, p.col, UNPARSEABLE, "high", message,
                   fingerprint=fingerprint(UNPARSEABLE, p.path), title="Deployed module cannot be parsed",
                   remediation="Fix the syntax error (the app will not start with it), or stop importing the module.")
