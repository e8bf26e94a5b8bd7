"""Operators on the application model's validation functions (``validators["name"]`` entries)."""
from __future__ import annotations

from typing import Any

from velro_policy.judge.operators._base import Context, operator
from velro_policy.model import ValidationFunction


@operator({"type": "boolean", "const": True, "description": "true: the validation function must be called somewhere"})
def called(value: object, param: Any, ctx: Context) -> str | None:
    """Fail for a settings validation function that nothing in the project calls."""
    if not isinstance(value, ValidationFunction):
        raise TypeError(f"called judges the application model's validation functions, not {type(value).__name__}")
    if value.mentions:
        return None
    return ("is defined in a settings module but nothing in the project calls it (its name appears nowhere else): "
            "the checks in it never run")
