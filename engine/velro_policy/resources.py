"""Where shipped data lives, from a checkout, an editable or a wheel install."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _dir(package: str) -> Path:
    return Path(str(files(package)))


def builtin_policies_dir() -> Path:
    return _dir("velro_policy.policies")


def schemas_dir() -> Path:
    return _dir("velro_policy.schemas")


def hooks_dir() -> Path:
    return _dir("velro_policy.hooks")


def schema_path(name: str) -> Path:
    return schemas_dir() / name
