"""Effective configuration: what each environment actually runs with.

An application reads a variable from its env file when the file sets it and
falls back to the settings default otherwise (pydantic-settings fields,
``os.getenv("X", "default")``).  So for every env file E paired with
settings modules, a derived document (target ``effective``, E's
environment) holds the settings defaults E does not set, each at its
settings line.  Env rules apply to it (``evaluate._applies``), so
``debug: bool = True`` with a ``.env.production`` that omits DEBUG is a
finding at the settings line naming ``.env.production``.

Pairing (config ``effective_pairing``): ``project`` (default) pairs env
files and settings modules under the same project root, the nearest folder
holding one of ``project_markers`` (pyproject.toml, requirements.txt,
.git, ...); ``directory`` pairs those in the same folder; ``run`` pairs
everything checked in one run; ``none`` turns it off.

Double counting is avoided on the settings side: when a production env file
is paired with a settings module, a default that every production file
sets no longer applies in production, and a default an env rule judges is
judged in the effective documents instead; both leave the settings
document.  Defaults of secrets (JWT_SECRET...) always stay: a secret written
in the code is a finding whatever the env files say.  Without a production
env file the settings defaults are what production runs with, and the
settings policies judge them as production.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from velro_policy.model import Document, Entry
from velro_policy.rules import Rule
from velro_policy.values import selectors
from velro_policy.values.masking import is_secret_key

DEFAULT_MARKERS = ["pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Pipfile", "poetry.lock",
                   "package.json", "railway.json", "railway.toml", "Procfile", ".git"]


def project_root(path: str, markers: Iterable[str], cache: dict[str, str]) -> str:
    """The nearest folder above ``path`` holding a project marker ('' if none)."""
    folder = os.path.dirname(os.path.abspath(path))
    seen: list[str] = []
    found = ""
    while True:
        if folder in cache:
            found = cache[folder]
            break
        seen.append(folder)
        if any(os.path.exists(os.path.join(folder, m)) for m in markers):
            found = folder
            break
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    for f in seen:
        cache[f] = found
    return found


def derive(documents: list[Document], rules: list[Rule], config: dict[str, Any]) -> list[Document]:
    """The documents, settings ones adjusted, plus one effective document per paired env file."""
    pairing = config.get("effective_pairing", "project")
    env_docs = [d for d in documents if d.target == "env" and not d.is_template and d.environment != "template"]
    settings_docs = [d for d in documents if d.target == "settings" and any(e.env for e in d.entries)]
    if pairing == "none" or not env_docs or not settings_docs:
        return documents
    markers = config.get("project_markers") or DEFAULT_MARKERS
    cache: dict[str, str] = {}

    def group(doc: Document) -> str:
        if pairing == "run":
            return ""
        if pairing == "directory":
            return os.path.dirname(os.path.abspath(doc.path))
        return project_root(doc.path, markers, cache)

    settings_by_group: dict[str, list[Document]] = {}
    for doc in settings_docs:
        settings_by_group.setdefault(group(doc), []).append(doc)
    env_by_group: dict[str, list[Document]] = {}
    for doc in env_docs:
        env_by_group.setdefault(group(doc), []).append(doc)
    judged = _env_rule_patterns(rules)

    out: list[Document] = []
    with_env = {id(d) for d in settings_docs}
    for doc in documents:
        if id(doc) in with_env:
            production = [e for e in env_by_group.get(group(doc), []) if e.environment == "production"]
            if production:
                doc = _without_overridden(doc, production, judged)
        out.append(doc)
    for env_doc in env_docs:
        paired = settings_by_group.get(group(env_doc), [])
        if paired:
            out.append(effective_document(env_doc, paired))
    return out


def _set_keys(env_doc: Document) -> set[str]:
    return {e.key.upper() for e in env_doc.entries if len(e.parts or (e.key,)) == 1}


def effective_document(env_doc: Document, settings: list[Document]) -> Document:
    """The settings defaults ``env_doc`` does not set, judged as its environment."""
    set_keys = _set_keys(env_doc)
    entries = tuple(
        e for s in settings for e in s.entries
        if e.env and not any(name.upper() in set_keys for name in e.env)
    )
    sources = ", ".join(sorted({s.display_path or s.path for s in settings}))
    return Document(
        env_doc.path, "effective", entries, env_doc.environment,
        f"{env_doc.environment_source}; defaults from {sources} for what it does not set",
        False, (), env_doc.display_path,
    )


def _env_rule_patterns(rules: list[Rule]) -> list[selectors.Pattern]:
    out: list[selectors.Pattern] = []
    for rule in rules:
        if rule.target == "env" and "production" in rule.environments:
            for sel in rule.select:
                if not sel.startswith("!"):
                    try:
                        out.append(selectors.compile_selector(sel))
                    except selectors.SelectorError:
                        continue
    return out


def _without_overridden(doc: Document, production: list[Document], judged: list[selectors.Pattern]) -> Document:
    """The settings document minus defaults production does not run with, or
    that the effective documents judge (secrets always stay)."""
    key_sets = [_set_keys(p) for p in production]

    def drop(entry: Entry) -> bool:
        if not entry.env or any(is_secret_key(n) for n in entry.env):
            return False
        if all(any(n.upper() in keys for n in entry.env) for keys in key_sets):
            return True
        return any(selectors.matches(p, (n,)) for p in judged for n in entry.env)

    kept = tuple(e for e in doc.entries if not drop(e))
    if len(kept) == len(doc.entries):
        return doc
    names = ", ".join(sorted({p.display_path or p.path for p in production}))
    return doc._replace(entries=kept, environment_source=f"settings defaults not set by {names}")
