"""Which environment's rules apply to an env file, and why.

Order: ``--environment`` flag, then the file's own ENVIRONMENT (or
RAILWAY_ENVIRONMENT, APP_ENV, ...; configurable), then its name
(``.env.production``, ``.env.staging.secure``, ``prod.env``...).  When the
key and the name disagree, the stricter environment wins and the
disagreement is reported, so a ``.env.production`` that says
``ENVIRONMENT=development`` cannot buy itself development rules.  A file
whose environment cannot be told is held to production rules.
"""
from __future__ import annotations

import re
from typing import NamedTuple

ENVIRONMENTS: tuple[str, ...] = ("production", "staging", "test", "development", "template")
REAL_ENVIRONMENTS: tuple[str, ...] = ("production", "staging", "test", "development")
STRICTNESS: dict[str, int] = {"development": 0, "test": 1, "staging": 2, "production": 3}

DEFAULT_ALIASES: dict[str, str] = {
    "production": "production", "prod": "production", "prd": "production", "live": "production", "main": "production",
    "staging": "staging", "stage": "staging", "stg": "staging", "preprod": "staging", "pre-prod": "staging",
    "preproduction": "staging", "uat": "staging",
    "development": "development", "dev": "development", "develop": "development", "local": "development",
    "test": "test", "testing": "test", "ci": "test",
}
TEMPLATE_WORDS: frozenset[str] = frozenset({"example", "sample", "template", "dist", "tmpl", "tpl", "defaults-example"})
DEFAULT_KEYS: tuple[str, ...] = ("ENVIRONMENT", "RAILWAY_ENVIRONMENT", "RAILWAY_ENVIRONMENT_NAME", "APP_ENV", "ENV", "APP_ENVIRONMENT")


class Decision(NamedTuple):
    environment: str
    source: str
    is_template: bool = False
    conflict: str = ""  # non-empty when key and name disagree


def _name_tokens(basename: str) -> list[str]:
    return [t for t in re.split(r"[._\s]+", basename.lower()) if t and t != "env"]


def from_name(basename: str, aliases: dict[str, str]) -> tuple[str | None, bool]:
    tokens = _name_tokens(basename)
    if any(t in TEMPLATE_WORDS for t in tokens):
        return None, True
    for token in tokens:
        for part in [token, *token.split("-")]:
            if part in aliases:
                return aliases[part], False
    return None, False


def decide(
    basename: str,
    values: dict[str, str],
    *,
    flag: str | None = None,
    aliases: dict[str, str] | None = None,
    keys: tuple[str, ...] = DEFAULT_KEYS,
) -> Decision:
    """Decide the environment of one env file (``values``: upper-cased keys)."""
    aliases = aliases or DEFAULT_ALIASES
    by_name, is_template = from_name(basename, aliases)
    if flag:
        return Decision(aliases.get(flag.lower(), flag.lower()), "--environment", flag.lower() == "template")
    if is_template:
        return Decision("template", "file name (template)", True)
    by_key, key_name, raw = None, "", ""
    for key in keys:
        raw = values.get(key, "")
        if isinstance(raw, str) and raw.strip():
            key_name = key
            by_key = aliases.get(raw.strip().lower())
            if by_key is None:
                by_key = "production"
                key_name = f"{key} (unrecognised value {raw.strip()[:30]!r}: held to production rules)"
            break
    if by_key and by_name and by_key != by_name:
        strict = max(by_key, by_name, key=STRICTNESS.__getitem__)
        return Decision(
            strict,
            f"stricter of key {key_name} ({by_key}) and file name ({by_name})",
            False,
            f"{key_name.split(' ')[0]} says {by_key!r} but the file name says {by_name!r}",
        )
    if by_key:
        return Decision(by_key, f"key {key_name}")
    if by_name:
        return Decision(by_name, "file name")
    return Decision("production", "unknown: held to production rules")
