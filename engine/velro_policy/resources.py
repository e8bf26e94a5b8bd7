"""Where shipped data lives, from a checkout, an editable or a wheel install."""
from __future__ import annotations

import importlib
from pathlib import Path


def _dir(package: str) -> Path:
    # The data packages are plain directories with an empty __init__.py (wheel and
    # editable installs alike); importing one is cheaper than importlib.resources
    # (about 2 ms on every run of ``lint``).
    return Path(importlib.import_module(package).__path__[0])


def builtin_policies_dir() -> Path:
    return _dir("velro_policy.policies")


def schemas_dir() -> Path:
    return _dir("velro_policy.schemas")


def hooks_dir() -> Path:
    return _dir("velro_policy.hooks")


def schema_path(name: str) -> Path:
    return schemas_dir() / name
