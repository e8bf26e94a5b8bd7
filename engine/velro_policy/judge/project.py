"""Project-wide (cross-file) rules: checks that see every env file and
settings module of a project at once.

A policy with ``target: project`` declares them like any rule (id,
severity, remediation, ``select``, can be disabled); its ``check`` names one
of the project checks in ``CHECKS``:

- ``distinct_secrets``: the same secret value is used by two environments.
  Values are compared by a keyed hash (BLAKE2b in keyed mode, a MAC) under a key drawn at random for each
  run, so no digest can be looked up or compared across runs, and the value
  itself is never shown;
- ``template_lists_keys``: keys that a production or staging env file sets
  are missing from the template (``.env.example`` and friends) beside it: one
  summary finding per env file, naming the keys;
- ``template_keys_used``: template keys that no environment beside it sets: one
  summary finding per template.  A template is compared only with the env
  files of its own environment (``.env.production.example`` with production
  files; ``.env.example`` with those no template of their own covers);
- ``environment_parity``: the environments named by the parameter (production
  and staging) define the same set of security keys (the rule's ``select``,
  or the config's ``parity_keys`` when set);
- ``settings_read``: a variable an env file sets that the application never
  reads (``ALLOWED_ORIGINS`` set while the app reads ``CORS_ORIGINS``): the
  setting silently has no effect.  With the application model (``AppView``,
  a directory run whose entry point and imports were followed): what a
  *deployed* module reads, one finding per variable across the project, the
  near name the app reads and where, and the check's ``near_role_severity``
  when that near name plays a role (the JWT key, the CORS origins, the debug
  flag).  Without it: what the settings modules in or below the env file's
  folder read.  Only where such modules exist.

How files form a project: env files are grouped by their directory (the
template lives beside the files it describes); the settings modules of a
group are the ones in that directory or below it.  Secrets are compared
across every env file of the run.

Partial runs (files named on the command line, ``--staged``, ``--changed-since``,
the pre-commit framework passing filenames): ``context_documents`` reads the
other env files and settings modules of the project (see its docstring) and
only findings that involve at least one of the checked files are reported.

Stdlib only: ``lint .env`` pays for one dictionary pass over its entries.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import compress
from typing import Any, NamedTuple

from velro_policy.model import Document, Entries, Entry, Finding
from velro_policy.rules import Op, Rule
from velro_policy.values import selectors
from velro_policy.values.environments import DEFAULT_ALIASES, TEMPLATE_WORDS
from velro_policy.values.paths import parent_folders

ENV_TARGETS = ("env",)
SETTINGS_TARGET = "settings"


Where = tuple[Document, Entry | None]  # a file involved, and the line of the key in it when it has one


class Hit(NamedTuple):
    """What a project check reports: the file and entry to point at, the key,
    the message, and every other file involved (``severity``: the rule's when empty)."""

    doc: Document
    entry: Entry | None
    key: str
    message: str
    others: tuple[Where, ...]
    severity: str = ""


class AppView(NamedTuple):
    """What the application model tells the project checks, as data (``commands`` builds it
    from ``inputs.app`` for a directory run whose model is complete)."""

    reads: dict[str, str]  # UPPER env name -> "path:line" where a deployed module reads it
    roles: dict[str, frozenset[str]]  # UPPER env name -> the roles it plays
    modules: tuple[str, ...]  # display paths of the deployed modules
    role_names: dict[str, tuple[str, ...]] = {}  # role -> the usual names of its variable (name selectors of the rules selecting it)


class Project(NamedTuple):
    env: list[Document]  # env files (templates included) that parsed cleanly
    settings: list[Document]  # settings modules that parsed cleanly
    config: dict[str, Any]
    groups: dict[str, list[Document]] = {}  # folder -> env documents in it
    app: AppView | None = None  # the application model, when the run has a complete one
    app_docs: tuple[Document, ...] = ()  # the application model's document (whole-directory runs: CORS middleware options)
    consumed: dict[str, str] = {}  # UPPER env name -> "file:line" of a deployment or env file naming it ($X, ${X}, {$X}, env.X)

    @staticmethod
    def of(doc: Document) -> Entries:
        """A document's entries: the project checks compare key sets across thousands of files, so they read
        the columns (``keys``, ``uppers``, ``values``: the file's own variables, not the ``__git__`` copies)
        and make an ``Entry`` (``entry(i)``) only for what they report."""
        return doc.entries


def shown(doc: Document) -> str:
    return doc.display_path or doc.path


def _where(doc: Document, entry: Entry | None) -> str:
    return f"{shown(doc)}:{entry.loc.line}" if entry else shown(doc)


class Picker:
    """A rule's ``select`` (with ``!`` exclusions) over env entries."""

    def __init__(self, select: Sequence[str]) -> None:
        self.include = [selectors.compile_selector(s) for s in select if not s.startswith("!")]
        self.exclude = [selectors.compile_selector(s[1:]) for s in select if s.startswith("!")]
        self._verdicts: dict[str, bool] = {}  # key -> picked (keys repeat in every file)

    def mask(self, keys: list[str]) -> list[bool]:
        """``[self(k) for k in keys]``, at C speed once the keys have been seen."""
        flags = list(map(self._verdicts.get, keys))
        if None in flags:
            flags = [self(k) if f is None else f for k, f in zip(keys, flags)]
        return flags  # type: ignore[return-value]

    def picked(self, keys: list[str]) -> Iterator[int]:
        """Positions of the picked keys."""
        return compress(range(len(keys)), self.mask(keys))

    def __call__(self, key: str) -> bool:
        hit = self._verdicts.get(key)
        if hit is None:
            parts = (key,)
            hit = self._verdicts[key] = (
                any(selectors.matches(p, parts) for p in self.include) and not any(selectors.matches(p, parts) for p in self.exclude)
            )
        return hit


def _groups(docs: Iterable[Document]) -> dict[str, list[Document]]:
    """Absolute folder -> its documents (``abspath`` once per folder, not per file)."""
    out: dict[str, list[Document]] = {}
    folders: dict[str, str] = {}
    for d in docs:
        rel = os.path.dirname(shown(d))
        folder = folders.get(rel)
        if folder is None:
            folder = folders[rel] = os.path.abspath(rel) if rel else os.getcwd()
        out.setdefault(folder, []).append(d)
    return out


_TOKENS = re.compile(r"[._\s]+")


def template_environment(doc: Document, aliases: dict[str, str] | None = None) -> str:
    """The environment a template is for, from its name (``.env.production.example`` ->
    production), or "" for a template of every environment (``.env.example``)."""
    aliases = aliases or DEFAULT_ALIASES
    tokens = [t for t in _TOKENS.split(os.path.basename(shown(doc)).lower()) if t and t != "env" and t not in TEMPLATE_WORDS]
    for token in tokens:
        for part in (token, *token.split("-")):
            if part in aliases:
                return aliases[part]
    return ""


def _template_groups(project: Project, rule: Rule) -> Iterator[tuple[list[Document], list[Document]]]:
    """(templates, the real env files of the rule's environments they describe), per folder and
    environment: a template named for an environment is compared with that environment's files
    only; a template of every environment with the files no template of their own covers."""
    envs = set(rule.environments)
    for _, docs in sorted(project.groups.items()):
        templates = [d for d in docs if d.is_template]
        real = [d for d in docs if not d.is_template and d.environment in envs]
        if not templates or not real:
            continue
        by_env: dict[str, list[Document]] = {}
        aliases = {**DEFAULT_ALIASES, **{str(k).lower(): str(v) for k, v in (project.config.get("environment_aliases") or {}).items()}}
        for t in templates:
            by_env.setdefault(template_environment(t, aliases), []).append(t)
        for env, mine in sorted(by_env.items()):
            described = [d for d in real if d.environment == env] if env else [d for d in real if d.environment not in by_env]
            if described:
                yield mine, described


def _listed(keys: list[str], limit: int = 8) -> str:
    return ", ".join(keys[:limit]) + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _names(docs: Iterable[Document]) -> str:
    return ", ".join(shown(d) for d in docs)


# --- the checks ------------------------------------------------------------

def distinct_secrets(rule: Rule, project: Project, pick: Picker, param: Any, applied: Callable[[], None]) -> Iterator[Hit]:
    """The same secret value must not serve two environments."""
    from velro_policy.values.secret_quality import is_placeholder

    try:  # a keyed BLAKE2b from the interpreter itself: hmac/hashlib load OpenSSL (about 3 ms a run)
        from _blake2 import blake2b
    except ImportError:
        from hashlib import blake2b

    key = os.urandom(32)  # per run: digests mean nothing outside it (secrets.token_bytes, without importing hmac)
    envs = set(rule.environments)
    seen: dict[bytes, list[tuple[Document, int]]] = {}
    for doc in project.env:
        if doc.is_template or doc.environment not in envs:
            continue
        v = project.of(doc)
        for i in pick.picked(v.keys):
            value = v.values[i]
            if isinstance(value, str):
                digest = blake2b(value.encode("utf-8", "surrogatepass"), key=key).digest()
                seen.setdefault(digest, []).append((doc, i))

    def real(uses: list[tuple[Document, int]]) -> bool:
        """Not empty, not a placeholder: asked once per distinct value, and only where it matters
        (equal digests, equal values: one answer holds for every use)."""
        d, i = uses[0]
        value: str = project.of(d).values[i]  # type: ignore[assignment]
        return bool(value.strip()) and not is_placeholder(value)

    resolved: dict[bytes, list[tuple[Document, Entry]]] = {
        digest: [(d, project.of(d).entry(i)) for d, i in uses] for digest, uses in seen.items()
        if len(uses) > 1 and len({d.environment for d, _ in uses}) > 1 and real(uses)
    }
    if (resolved or any(real(uses) for uses in seen.values())) and \
            len({d.environment for d in project.env if not d.is_template and d.environment in envs}) > 1:
        applied()
    for uses in resolved.values():
        uses.sort(key=lambda u: (-_STRICT.get(u[0].environment, 0), shown(u[0]), u[1].loc.line))
        doc, entry = uses[0]
        others = [(d, e) for d, e in uses[1:]]
        where = "; ".join(f"{e.key} in {_where(d, e)} ({d.environment})" for d, e in others)
        message = (f"{entry.key} in {_where(doc, entry)} ({doc.environment}) has the same value as {where}; "
                   "each environment needs its own secret (compared by keyed hash, value not shown)")
        yield Hit(doc, entry, entry.key, message, tuple((d, e) for d, e in others))


_STRICT = {"production": 3, "staging": 2, "test": 1, "development": 0}
# Modules a deployment runs besides the app, whatever imports it: Alembic's env.py (`alembic upgrade head`).
_TOOL_MODULE = re.compile(r"(^|/)(alembic|migrations?)/env\.py$")


def template_lists_keys(rule: Rule, project: Project, pick: Picker, param: Any, applied: Callable[[], None]) -> Iterator[Hit]:
    """The keys of a production/staging env file are listed in the template of its environment:
    one summary finding per env file, at its first missing key."""
    for templates, real in _template_groups(project, rule):
        applied()
        listed = set().union(*(project.of(t).uppers for t in templates))
        for doc in sorted(real, key=lambda d: (-_STRICT.get(d.environment, 0), shown(d))):
            v = project.of(doc)
            if listed.issuperset(v.uppers):  # the usual case: no loop over the keys
                continue
            missing = [i for i, k in enumerate(v.uppers) if k not in listed and pick(v.keys[i])]
            if not missing:
                continue
            first = v.entry(missing[0])
            names = [v.keys[i] for i in missing]
            what = f"{first.key} is" if len(names) == 1 else f"{len(names)} keys are"
            message = (f"{what} set in {_where(doc, first)} but missing from the template {_names(templates)}: {_listed(names)}; "
                       "add them with a placeholder (KEY=<placeholder>) so every environment set up from the template knows they exist")
            yield Hit(doc, first, first.key, message, tuple((t, None) for t in templates))


def template_keys_used(rule: Rule, project: Project, pick: Picker, param: Any, applied: Callable[[], None]) -> Iterator[Hit]:
    """Every template key is set by at least one env file of its environment: one summary
    finding per template, at its first unused key.

    A key whose template value is empty or a placeholder is one the platform
    injects (railway variables set JWT_SECRET=...): not reported."""
    from velro_policy.values.secret_quality import is_placeholder

    for templates, real in _template_groups(project, rule):
        applied()
        used = set().union(*(project.of(d).uppers for d in real))
        for t in templates:
            v = project.of(t)
            if used.issuperset(v.uppers):
                continue
            unused = []
            for i, k in enumerate(v.uppers):
                value = v.values[i]
                if k in used or not pick(v.keys[i]) or not isinstance(value, str) or not value.strip() or is_placeholder(value):
                    continue
                unused.append(i)
            if not unused:
                continue
            first = v.entry(unused[0])
            names = [v.keys[i] for i in unused]
            what = f"{first.key} is" if len(names) == 1 else f"{len(names)} keys are"
            message = (f"{what} in the template {_where(t, first)} but no env file of its environment beside it sets "
                       f"{'it' if len(names) == 1 else 'them'} ({_names(real)}): {_listed(names)}; "
                       "remove stale keys from the template, or set them where they are needed")
            yield Hit(t, first, first.key, message, tuple((d, None) for d in real))


def environment_parity(rule: Rule, project: Project, pick: Picker, param: Any, applied: Callable[[], None]) -> Iterator[Hit]:
    """The environments named by ``param`` define the same set of security keys."""
    names = list(param) if isinstance(param, list) else ["production", "staging"]
    keys = project.config.get("parity_keys") or []
    if keys:
        pick = Picker(list(keys))
    for _, docs in sorted(project.groups.items()):
        by_env = {n: [d for d in docs if not d.is_template and d.environment == n] for n in names}
        if not all(by_env.values()):
            continue
        applied()
        # environment -> UPPER key -> (document, position); a later file of the same environment wins, as before
        sets: dict[str, dict[str, tuple[Document, int]]] = {}
        for n in names:
            table: dict[str, tuple[Document, int]] = {}
            for d in by_env[n]:
                v = project.of(d)
                table.update((v.uppers[i], (d, i)) for i in pick.picked(v.keys))
            sets[n] = table
        common = set(sets[names[0]]).intersection(*(sets[m] for m in names[1:]))
        for n in names:
            for k in sorted(set(sets[n]).difference(common)):  # keys some other environment lacks
                doc, i = sets[n][k]
                e = project.of(doc).entry(i)
                lacking = [m for m in names if m != n and k not in sets[m]]
                if not lacking:
                    continue
                other = [d for m in lacking for d in by_env[m]]
                message = (f"{e.key} is set for {n} in {_where(doc, e)} but not for {', '.join(lacking)} in {_names(other)}; "
                           "production and staging must define the same security keys")
                yield Hit(doc, e, e.key, message, tuple((d, None) for d in other))


# Words that make a module worth a closer look; plain substring tests (C speed), since a
# case-insensitive regex alternation costs ~0.2 ms per module and the hook reads thousands.
def settings_reads(doc: Document, cache: dict[str, dict[str, int]]) -> dict[str, int]:
    """Env variable names a Python module reads (upper-cased) -> a line reading it:
    the env names of its entries, then what the settings input found in its text
    (``Document.env_reads``: also reads without a default, which have no entry)."""
    if doc.path in cache:
        return cache[doc.path]
    out: dict[str, int] = {}
    for e in doc.entries:
        for name in getattr(e, "env", ()) or ():
            out.setdefault(str(name).upper(), e.loc.line)
    for name, line in doc.env_reads:
        out.setdefault(name, line)
    cache[doc.path] = out
    return out


def settings_read(rule: Rule, project: Project, pick: Picker, param: Any, applied: Callable[[], None]) -> Iterator[Hit]:
    """Every variable an env file sets is read by the application."""
    if project.app is not None:
        yield from _read_by_app(rule, project, project.app, pick, param, applied)
        return
    cache: dict[str, dict[str, int]] = {}
    below: dict[str, list[Document]] = {}  # folder -> settings modules in it or below it
    for d in project.settings:
        folder = os.path.dirname(os.path.abspath(shown(d)))
        for f in (folder, *parent_folders(folder)):
            below.setdefault(f, []).append(d)
    envs = set(rule.environments) | {"template"}
    for folder, docs in sorted(project.groups.items()):
        mine = [(d, r) for d in below.get(folder, ()) for r in (settings_reads(d, cache),) if r]
        if not mine:
            continue
        read = {k for _, r in mine for k in r}
        relevant = [d for d in docs if d.environment in envs or d.is_template]
        if not relevant:
            continue
        applied()
        setters: dict[str, list[tuple[Document, Entry]]] = {}
        for doc in sorted(relevant, key=lambda d: (d.is_template, -_STRICT.get(d.environment, 0), shown(d))):
            v = project.of(doc)
            for i in pick.picked(v.keys):
                if v.uppers[i] not in read and v.uppers[i] not in project.consumed:
                    setters.setdefault(v.uppers[i], []).append((doc, v.entry(i)))
        modules = [d for d, _ in mine]
        for k, uses in sorted(setters.items()):
            doc, entry = uses[0]
            others = uses[1:]
            near = ", ".join(_near_miss(k, read)[:3])
            hint = f" (the app reads {near}: rename the variable?)" if near else ""
            also = f" (also set in {_names(d for d, _ in others)})" if others else ""
            message = (f"{entry.key} is set in {_where(doc, entry)}{also} but no settings module reads it "
                       f"({_names(modules)}){hint}; the setting has no effect")
            yield Hit(doc, entry, entry.key, message, tuple(others) + tuple((m, None) for m in modules))


def _read_by_app(rule: Rule, project: Project, app: AppView, pick: Picker, param: Any, applied: Callable[[], None]) -> Iterator[Hit]:
    """``settings_read`` on the application model: a variable no deployed module reads, once per
    variable across the env files of the folders the app lives in (anchored in the strictest)."""
    folders = {os.path.dirname(os.path.abspath(m)) for m in app.modules}
    served = {f for m in folders for f in (m, *parent_folders(m))}  # folders whose env files the app may load
    envs = set(rule.environments) | {"template"}
    relevant = [d for folder, docs in sorted(project.groups.items()) if folder in served
                for d in docs if d.environment in envs or d.is_template]
    if not relevant or not app.reads:
        return
    applied()
    # Consumed without the app: named by a deployment file, or interpolated in an env file (DATABASE_URL=...${POSTGRES_PASSWORD}@db),
    # or read by the migration tool's module (alembic/env.py runs at deploy, outside the app's imports)
    cache: dict[str, dict[str, int]] = {}
    consumed = {**{k: shown(d) for d in project.settings if _TOOL_MODULE.search(shown(d)) for k in settings_reads(d, cache)},
                **project.consumed}
    setters: dict[str, list[tuple[Document, Entry]]] = {}
    for doc in sorted(relevant, key=lambda d: (d.is_template, -_STRICT.get(d.environment, 0), shown(d))):
        v = project.of(doc)
        for i in pick.picked(v.keys):
            if v.uppers[i] not in app.reads and v.uppers[i] not in consumed:
                setters.setdefault(v.uppers[i], []).append((doc, v.entry(i)))
    raised = str(param.get("near_role_severity", "")) if isinstance(param, dict) else ""
    usual = {role: Picker(names) for role, names in app.role_names.items() if names}
    playing = {role: sorted(n for n in app.reads if role in app.roles.get(n, ())) for role in usual}
    for k, uses in sorted(setters.items()):
        doc, entry = uses[0]
        others = uses[1:]
        also = f" (also set in {_names(d for d, _ in others)})" if others else ""
        # JWT_SECRET is set, but the app signs its tokens with AUTH_SIGNING_KEY: the usual name of a role
        meant = [(role, n) for role, pick_usual in usual.items() if pick_usual(k) for n in playing[role]]
        if meant:
            reads = ", ".join(f"{n} ({app.reads[n]})" for _, n in meant[:3])
            message = (f"{entry.key} is set in {_where(doc, entry)}{also}; the app reads its {meant[0][0]} from {reads}, "
                       f"not {entry.key}: set that variable instead; until then the app runs with its default")
            yield Hit(doc, entry, entry.key, message, tuple(others), raised)
            continue
        near = _near_miss(k, set(app.reads))[:3]
        roles = sorted({r for n in near for r in app.roles.get(n, ())})
        if near:
            reads = ", ".join(f"{n} ({app.reads[n]}" + (f", {'/'.join(sorted(app.roles[n]))}" if app.roles.get(n) else "") + ")"
                              for n in near)
            tail = f"; the app reads {reads}, not {entry.key}: rename the variable? Until then the app runs with its default"
        else:
            tail = "; no deployed module reads it, so it has no effect on the app (stale, or read by something else)"
        message = f"{entry.key} is set in {_where(doc, entry)}{also}{tail}"
        yield Hit(doc, entry, entry.key, message, tuple(others), raised if roles and raised else "")


# Last words too common to tell two variables apart (POSTGRES_PASSWORD is not a misspelt SMTP_PASSWORD).
_GENERIC_LAST = frozenset({"NAME", "PASSWORD", "PASS", "PWD", "KEY", "URL", "URI", "HOST", "PORT", "USER", "USERNAME", "EMAIL",
                           "TOKEN", "SECRET", "PATH", "DIR", "FILE", "ENDPOINT", "LEVEL", "MODE", "ENABLED", "TIMEOUT", "SIZE",
                           "COUNT", "REGION", "VERSION", "TYPE", "ID", "DSN", "DB", "DATABASE", "BUCKET", "PREFIX", "LIMIT"})


def _near_miss(key: str, read: set[str]) -> list[str]:
    """Read variables a setter may have meant, nearest first: one that ends with the same
    distinctive word (ALLOWED_ORIGINS ~ CORS_ORIGINS; not a generic one such as PASSWORD or
    NAME), or whose words hold all of the key's or are all held by it, sharing a word of 4+
    letters (JWT_SECRET ~ JWT_SECRET_KEY, DEBUG ~ APP_DEBUG)."""
    words = set(key.split("_")) - {""}
    last = key.rsplit("_", 1)[-1]
    distinctive = len(last) >= 4 and last not in _GENERIC_LAST and "_" in key
    out = []
    for r in read:
        if r == key:
            continue
        theirs = set(r.split("_")) - {""}
        common = words & theirs
        if (distinctive and "_" in r and r.rsplit("_", 1)[-1] == last) or \
                ((words < theirs or theirs < words) and any(len(w) >= 4 for w in common)):
            out.append(r)
    return sorted(out, key=lambda r: (-len(words & set(r.split("_"))), len(r), r))


_CREDENTIALS = Picker(["*CORS*CREDENTIALS*", "ALLOW_CREDENTIALS", "*_ALLOW_CREDENTIALS"])


def cors_credentials(rule: Rule, project: Project, pick: Picker, param: Any, applied: Callable[[], None]) -> Iterator[Hit]:
    """Credentials allowed while the origin list is a wildcard, with the two halves in different files.

    For every env file of the rule's environments, the origins are what it sets (an origin key of
    ``select`` whose list has ``*``), else the settings default it leaves unset; credentials are on
    when the env file sets a credentials switch true, else when the settings default of one is true,
    else when the app adds ``CORSMiddleware(allow_credentials=True, allow_origins=<not a literal>)``
    reading that origin key.  Written together in one call (``allow_origins=["*"], allow_credentials=True``)
    it is the code rule's (velro/code-cors-credentials-wildcard)."""
    from velro_policy.model import Middleware, Unknown
    from velro_policy.values import origins

    def wildcard(value: object) -> bool:
        try:
            return any(origins.is_wildcard(o) for o in origins.parse_origins(value))
        except (origins.OriginError, TypeError, ValueError):
            return False

    defaults: dict[str, tuple[Document, Entry]] = {}  # UPPER env name -> its settings default
    for d in project.settings:
        for e in d.entries:
            for name in getattr(e, "env", ()) or ():
                defaults.setdefault(str(name).upper(), (d, e))
    cors_mw = [(e, e.value) for d in project.app_docs for e in d.entries
               if isinstance(e.value, Middleware) and e.value.name == "CORSMiddleware"]
    envs = set(rule.environments)
    reported: set[tuple[int, int]] = set()
    for doc in sorted(project.env, key=lambda d: (-_STRICT.get(d.environment, 0), shown(d))):
        if doc.is_template or doc.environment not in envs:
            continue
        applied()
        v = project.of(doc)
        own = set(v.uppers)
        found: list[tuple[Document, Entry]] = [(doc, v.entry(i)) for i in pick.picked(v.keys) if wildcard(v.values[i])]
        found += [(d, e) for k, (d, e) in sorted(defaults.items()) if k not in own and pick(k) and wildcard(e.value)]
        if not found:
            continue
        why = _credentials_on(doc, v, defaults)
        for odoc, oentry in found:
            if odoc is not doc:
                if (id(odoc), oentry.loc.line) in reported:
                    continue  # a default is reported once, naming the first env file that leaves it unset
                reported.add((id(odoc), oentry.loc.line))
            reason = why
            key = oentry.key.upper()
            for e, mw in cors_mw if not reason else ():
                opts = dict(mw.options)
                src = opts.get("allow_origins")
                if opts.get("allow_credentials") is True and isinstance(src, Unknown) and \
                        (key.lower() in src.why.lower() or key.lower().endswith(src.why.lower().rsplit(".", 1)[-1])):
                    reason = f"CORSMiddleware(allow_credentials=True, allow_origins={src.why}) at {e.loc.path}:{e.loc.line}"
            if not reason:
                continue
            where = "" if odoc is doc else f" (the default {shown(doc)} leaves unset)"
            message = (f"{oentry.key} allows every origin ('*') in {_where(odoc, oentry)}{where} while credentials are allowed: "
                       f"{reason}; any site can make authenticated requests as the user ({doc.environment})")
            others = ((doc, None),) if odoc is not doc else ()
            yield Hit(odoc, oentry, oentry.key, message, others)


def _credentials_on(doc: Document, v: Entries, defaults: dict[str, tuple[Document, Entry]]) -> str:
    """Where credentials are switched on for ``doc``: its own switch, else the settings default it leaves unset ('' if neither)."""
    from velro_policy.judge.operators._base import as_bool

    for i in _CREDENTIALS.picked(v.keys):
        if as_bool(v.values[i]) is True:
            return f"{v.keys[i]}=true in {_where(doc, v.entry(i))}"
    own = set(v.uppers)
    for k, (d, e) in sorted(defaults.items()):
        if k not in own and _CREDENTIALS(k) and as_bool(e.value) is True:
            return f"{k} defaults to true in {_where(d, e)} ({shown(doc)} does not set it)"
    return ""


CheckFunc = Callable[[Rule, Project, Picker, Any, Callable[[], None]], Iterator[Hit]]

# name -> (function, JSON Schema of its parameter).  One line per check.
CHECKS: dict[str, tuple[CheckFunc, dict[str, object]]] = {
    "distinct_secrets": (distinct_secrets, {"const": True, "description": "project target: no secret value (selected keys) is shared by two environments; compared by keyed hash, never shown."}),
    "template_lists_keys": (template_lists_keys, {"const": True, "description": "project target: every selected key of an env file of the rule's environments is listed in the template beside it."}),
    "template_keys_used": (template_keys_used, {"const": True, "description": "project target: every selected template key is set by some env file (of the rule's environments) beside it."}),
    "environment_parity": (environment_parity, {"type": "array", "items": {"enum": ["production", "staging", "test", "development"]}, "minItems": 2, "uniqueItems": True,
                                                "description": "project target: these environments define the same set of selected keys (config parity_keys overrides select)."}),
    "cors_credentials": (cors_credentials, {"const": True, "description": "project target: no env file (or the settings default it leaves unset) gives a wildcard origin list (selected keys) while credentials are allowed by a credentials switch, its settings default, or CORSMiddleware(allow_credentials=True) reading that list."}),
    "settings_read": (settings_read, {
        "anyOf": [{"const": True}, {"type": "object", "additionalProperties": False, "properties": {
            "near_role_severity": {"enum": ["info", "low", "medium", "high", "critical"],
                                   "description": "With the application model: the severity of a finding whose near name the app reads plays a role (JWT key, CORS origins, debug flag)."}}}],
        "description": "project target: every selected key an env file sets is read by the application: with the application model, "
                       "by a deployed module (one finding per variable); else by a settings module in or below its folder (only where such modules exist)."}),
}


# --- running ---------------------------------------------------------------

def project_rules(rules: Iterable[Rule]) -> list[Rule]:
    return [r for r in rules if r.target == "project"]


def evaluate(documents: Iterable[Document], rules: list[Rule], config: dict[str, Any], *,
             primary: set[str] | None = None, applied: set[str] | None = None, app: AppView | None = None,
             consumed: dict[str, str] | None = None) -> list[Finding]:
    """Findings of the project rules over ``documents``.

    ``primary``: display paths of the files the run checks; when given, only
    findings involving one of them are kept (partial runs and hooks).
    ``app``: what the application model says (a directory run with a complete model).
    ``consumed``: env names deployment files consume themselves (``inputs.deploy.references``).
    """
    from velro_policy.model import fingerprint

    docs = [d for d in documents if not d.problems]
    env = [d for d in docs if d.target in ENV_TARGETS]
    project = Project(env, [d for d in docs if d.target == SETTINGS_TARGET], config, _groups(env),
                      app=app, app_docs=tuple(d for d in docs if d.target == "app"), consumed=consumed or {})
    out: list[Finding] = []
    for rule in project_rules(rules):
        assert isinstance(rule.check, Op), "a project rule's check is one project check (policy.load)"
        name, param = rule.check.name, rule.check.param
        func = CHECKS[name][0]
        rid = str(rule.id)

        def mark(rid: str = rid) -> None:
            if applied is not None:
                applied.add(rid)

        for hit in func(rule, project, Picker(rule.select or ["*"]), param, mark):
            involved = [(hit.doc, hit.entry), *hit.others]
            paths = list(dict.fromkeys(shown(d) for d, _ in involved))
            if primary is not None and not primary & set(paths):
                continue  # a partial run (hook) reports only findings that involve a checked file
            # Always anchored where a whole-project run anchors it: the same file,
            # environment and fingerprint in a hook as in the baseline.
            doc, entry = hit.doc, hit.entry
            path = shown(doc)
            loc = entry.loc if entry else None
            out.append(Finding(
                path=path, line=loc.line if loc else 1, col=loc.col if loc else 1,
                rule_id=rid, severity=hit.severity or str(rule.severity), message=hit.message, key=hit.key,
                environment=doc.environment, title=str(rule.title), remediation=str(rule.remediation),
                fingerprint=fingerprint(rid, hit.key, *sorted(paths)),
                guide_section=str(rule.guide_section), related=tuple(p for p in paths if p != path),
            ))
    return out
