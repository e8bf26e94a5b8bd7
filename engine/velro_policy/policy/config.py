"""The project config: ``velro-policy.yaml`` (or ``.velro-policy.yaml``) or
``[tool.velro-policy]`` in ``pyproject.toml``.

``find`` is cheap (a few ``stat`` calls walking up to the repository root)
and runs every time; ``parse`` (YAML/TOML + jsonschema) runs only when the
compiled pack cache misses, since the config's bytes are part of its key.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from velro_policy.errors import ConfigError

CONFIG_NAMES = ("velro-policy.yaml", ".velro-policy.yaml", "velro-policy.yml")

DEFAULTS: dict[str, Any] = {
    "policies": [],
    "builtin": True,
    "disable": [],
    "severity": {},
    "environment_aliases": {},
    "environment_keys": [],
    "env_files": [],
    "exclude": [],
    "fail_on": "low",
    "unknown_severity": "low",
    "settings_modules": ["settings.py", "config.py", "config/*.py", "settings/*.py", "*_settings.py"],
    "scan_python": True,
    "python_exclude": ["test_*.py", "*_test.py", "conftest.py", "tests/*", "test/*"],
    "effective_pairing": "project",
    "project_markers": [],
    "downgrade_problems": [],
    "parity_keys": [],
    "fix": {},
    "code_exclude": ["test_*.py", "*_test.py", "conftest.py", "tests/*", "test/*"],
    "semgrep_timeout": 300,
    "exceptions": [],
    "baseline": None,  # None: .velro-policy-baseline.json in the project folder when present; false: none
    "inline_ignores": True,
    "probe_plan": None,
    "probe_allowed_origins": [],
}


MAX_BYTES = 2 * 1024 * 1024  # a config (pyproject.toml included) or policy file; larger is refused unread
MAX_ITEMS = 1_000  # most items one config setting may list (300,000 exclude globs made every file cost seconds)


def read_bounded(path: Path, limit: int = MAX_BYTES) -> bytes | None:
    """The bytes of ``path``, or None when it holds more than ``limit`` (not read past it)."""
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    return None if len(data) > limit else data


def find(start: str) -> Path | None:
    """The nearest config file from ``start`` up to the repository root."""
    here = Path(start).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                with open(pyproject, "rb") as fh:  # at most the cap: parse refuses a larger one by name
                    head = fh.read(MAX_BYTES + 1)
                if b"tool.velro-policy" in head or len(head) > MAX_BYTES:  # too large to tell: refused, never ignored
                    return pyproject
            except OSError:
                pass
        if (folder / ".git").exists():
            break
    return None


def parse(path: Path) -> dict[str, Any]:
    """Read and validate a config file.  Errors name file:line."""
    from velro_policy.policy.load import schema_errors

    display = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    try:
        raw = read_bounded(path)
    except OSError as exc:
        raise ConfigError(f"cannot read config ({exc.strerror})", path=display) from None
    if raw is None:
        raise ConfigError(f"is larger than {MAX_BYTES // (1024 * 1024)} MiB; a config should be small", path=display, line=1, col=1)
    root: Any
    if path.name == "pyproject.toml":
        try:
            import tomllib  # type: ignore[import-not-found]
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        try:
            doc = tomllib.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"invalid TOML: {exc}", path=display) from None
        data = doc.get("tool", {}).get("velro-policy", {})
        root = None
        excs = data.get("exceptions") if isinstance(data, dict) else None
        for exc in excs if isinstance(excs, list) else []:  # type: ignore[misc]  # a loop variable, unrelated to the except-block name;  a TOML date literal means YYYY-MM-DD
            if isinstance(exc, dict) and hasattr(exc.get("expires"), "isoformat"):
                exc["expires"] = exc["expires"].isoformat()
    else:
        from velro_policy.values import yamlio

        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ConfigError("config is not UTF-8", path=display, line=1) from None
        root = yamlio.load(text, display, ConfigError)  # type: ignore[arg-type]
        data = yamlio.plain(root) if root is not None else {}
    if not isinstance(data, dict):
        raise ConfigError("config must be a mapping of settings", path=display, line=1, col=1)
    errors = schema_errors(data, "config.schema.json")
    if errors:
        from velro_policy.values import yamlio
        from velro_policy.values.masking import scrub

        where, msg = errors[0]
        msg = scrub(msg)  # the schema's message quotes the bad value, which may be a secret pasted in the wrong place
        line, col = yamlio.locate(root, where) if root is not None else (0, 0)
        dotted = ".".join(str(p) for p in where) or "(top level)"
        raise ConfigError(f"{dotted}: {msg}; fix the config (schema: config.schema.json)", path=display, line=line, col=col)
    for key, value in data.items():
        if isinstance(value, (list, dict)) and len(value) > MAX_ITEMS:
            raise ConfigError(f"{key}: {len(value):,} items, more than {MAX_ITEMS:,}; a config lists a few "
                              "(globs match many files)", path=display, line=1, col=1)
    merged = {**DEFAULTS, **data}
    if root is not None:  # exceptions remember their line, for findings about them (suppress)
        from velro_policy.values import yamlio

        merged["exceptions"] = [{**e, "line": yamlio.locate(root, ["exceptions", i])[0]} for i, e in enumerate(merged["exceptions"])]
    base = path.parent
    merged["policies"] = [str((base / p).resolve()) for p in merged["policies"]]
    merged["root"] = str(base)
    return merged
