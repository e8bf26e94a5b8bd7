"""Defaults in code: what the application runs with wherever the platform does not set a variable.

A settings default (a pydantic-settings field, ``os.getenv("X", "default")``) is what runs when
nothing sets X, and a committed env file is no proof of what a platform sets (Railway and the
like inject variables; a ``.env.production`` in the repository may not be the one deployed).
So a default is judged on its own, in every scope of a run (``lint app/config.py``, ``check .``,
a hook), and no env file can hide it:

- the settings document is judged in full by the settings rules, whatever the env files set;
- for every settings document with env-backed values, a derived document (target
  ``effective``, the settings module's path and environment: production unless the module
  says otherwise) holds those values, so the env rules judge the defaults too
  (``evaluate._applies``): a default ``JWT_BLACKLIST_ENABLED=False`` is a finding of
  ``velro/jwt-blacklist-enabled`` at the settings line, whatever ``.env.production`` says.
  Where a settings rule already reports the same default (same file and line), the judge keeps
  that finding alone (``evaluate.judge_documents``), so a default is reported once.

What an env file sets is judged as that file (the env rules on the env document); it never
removes a finding about a default.  The variables that name an environment (``ENVIRONMENT``,
``APP_ENV``...: ``environment_keys``) are left out: ``ENVIRONMENT: str = "development"`` is how
an app tells a laptop from a deployment, and the rule on them (``velro/environment-name``) is
about an env file naming the environment it is judged as, which a module does not do.  ``effective_pairing: none`` in the config turns the env
rules on defaults off (the settings rules still judge them).

Stdlib only: this runs on every ``lint`` (it returns at once when no settings module is read).
"""
from __future__ import annotations

from typing import Any

from velro_policy.model import Document
from velro_policy.rules import Rule

SOURCE = "defaults in code: what runs wherever the platform does not set the variable"


def derive(documents: list[Document], rules: list[Rule], config: dict[str, Any]) -> list[Document]:
    """The documents, plus one ``effective`` document per settings module with env-backed defaults."""
    if config.get("effective_pairing", "project") == "none" or not any(r.target == "env" for r in rules):
        return documents
    from velro_policy.values.environments import DEFAULT_KEYS

    names = {k.upper() for k in config.get("environment_keys") or DEFAULT_KEYS}
    out = list(documents)
    for doc in documents:
        if doc.target == "settings" and not doc.problems:
            effective = defaults_document(doc, names)
            if effective is not None:
                out.append(effective)
    return out


def defaults_document(settings: Document, environment_keys: set[str] | frozenset[str] = frozenset()) -> Document | None:
    """The env-backed values of a settings module (its defaults), judged by the env rules as its
    environment; not those of the variables that name an environment."""
    entries = tuple(e for e in settings.entries if e.env and not any(n.upper() in environment_keys for n in e.env))
    if not entries:
        return None
    return Document(settings.path, "effective", entries, settings.environment, SOURCE, False, (),
                    settings.display_path, mentions_ignore=settings.mentions_ignore)


__all__ = ["SOURCE", "defaults_document", "derive"]
