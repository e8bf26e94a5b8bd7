"""Settings validation that never runs: a function that nothing calls (issue 15, item 5).

A settings module may hold ``def validate_production_settings(): ...`` or a
``check_jwt_secret()`` method on its settings class, and the guide's rules rely
on it; if no code calls it, the app starts with whatever the environment says.
Found statically: a function (module level, or a method of a class) of a
settings module, named like a check (validate / check / verify / ensure /
assert) of configuration or secrets, with no decorator (a decorator registers
it: pydantic validators, startup hooks), whose name appears nowhere else in the
project's Python files, not even in a string (``__all__``, ``getattr``): only a
name that is truly never mentioned counts, so a dynamic call is never reported.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable

from velro_policy.model import Location, ValidationFunction

_CHECK_VERB = re.compile(r"^_?(validate|check|verify|ensure|assert)(_|[A-Z]|$)")
# Words of configuration, not of a request: verify_token / check_password / validate_api_key check what a
# client sends (a helper nothing calls there is dead code, not a validation that never runs).
_CONFIG_WORDS = ("secret", "setting", "config", "production", "prod", "environ", "env", "cors", "origin", "security", "debug")
_SETTINGS_HINT = re.compile(r"BaseSettings|os\.getenv|os\.environ|environ\.get")


def is_settings_like(path: str, text: str) -> bool:
    """A module that configures the app: named like settings, or reading the environment."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return base.startswith(("settings", "config", "conf")) or bool(_SETTINGS_HINT.search(text))


def _candidates(tree: ast.Module) -> Iterable[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from (n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))


def _looks_like_config_check(name: str) -> bool:
    low = name.lower()
    return bool(_CHECK_VERB.match(name)) and any(w in low for w in _CONFIG_WORDS)


def validation_functions(modules: Iterable[tuple[str, str, ast.Module]], all_texts: Callable[[], Iterable[str]],
                         shown: Callable[[str], str]) -> list[ValidationFunction]:
    """The validation functions of the settings-like ``modules`` ((path, text, tree) each), each with
    how often its name appears elsewhere in ``all_texts`` (every Python module's text in the project,
    read only when some candidate exists)."""
    found: list[tuple[str, str, int, int]] = []
    for path, _text, tree in modules:
        for fn in _candidates(tree):
            if not fn.decorator_list and _looks_like_config_check(fn.name):
                found.append((fn.name, path, fn.lineno, fn.col_offset + 1))
    if not found:
        return []
    mentions: dict[str, int] = {name: 0 for name, *_ in found}
    words = re.compile(r"\b(" + "|".join(sorted(map(re.escape, mentions), key=len, reverse=True)) + r")\b")
    for text in all_texts():
        for m in words.finditer(text):
            mentions[m.group(1)] += 1
    defined: dict[str, int] = {}
    for name, *_ in found:
        defined[name] = defined.get(name, 0) + 1
    return [ValidationFunction(name, shown(path), Location(shown(path), line, col), max(0, mentions[name] - defined[name]))
            for name, path, line, col in found]
