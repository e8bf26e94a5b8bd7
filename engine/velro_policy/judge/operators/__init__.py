"""The operator registry.  A new operator: one function in a module here
(decorated with ``@operator(param_schema)``), one line in ``WHERE``,
then ``python -m velro_policy.policy.schema_gen`` to refresh the policy schema.

``all`` / ``any`` / ``not`` combinators are handled by the evaluator.
"""
from __future__ import annotations

from importlib import import_module

from velro_policy.judge.operators._base import Context, OperatorFunc

# operator name -> the module of this package that defines it (a function of the same name).
WHERE: dict[str, str] = {
    "equals": "basic",
    "one_of": "basic",
    "not_one_of": "basic",
    "boolean": "basic",
    "required": "basic",
    "forbidden": "basic",
    "min_length": "basic",
    "max_length": "basic",
    "int_min": "basic",
    "int_max": "basic",
    "matches": "basic",
    "not_matches": "basic",
    "min_entropy": "secrets",
    "not_placeholder": "secrets",
    "not_weak_secret": "secrets",
    "not_real_secret": "secrets",
    "rate_at_most": "rates",
    "no_wildcard": "origins",
    "https_only": "origins",
    "no_localhost": "origins",
    "hosts_in": "origins",
    "names_environment": "environment",
    "header_one_of": "headers",
    "hsts": "headers",
    "csp": "headers",
    "app_headers": "headers",
    "requires_keys": "tables",
    "no_literal": "tables",
    "table_rate_at_most": "tables",
    "route_rate_limit": "routes",
    "called": "validators",
}


class _Operators(dict):
    """name -> operator function, imported on first use: ``lint .env`` never loads the
    header and table operators.  A plain dict once filled (the evaluator's hot lookup);
    an unknown name raises ``KeyError`` as a dict does."""

    def __missing__(self, name: str) -> OperatorFunc:
        func: OperatorFunc = getattr(import_module(f"velro_policy.judge.operators.{WHERE[name]}"), name)
        self[name] = func
        return func


OPERATORS: dict[str, OperatorFunc] = _Operators()


def all_operators() -> dict[str, OperatorFunc]:
    """Every operator, imported (for the policy schema and the docs)."""
    return {name: OPERATORS[name] for name in WHERE}


COMBINATORS: tuple[str, ...] = ("all", "any", "not")

__all__ = ["OPERATORS", "WHERE", "all_operators", "COMBINATORS", "Context", "OperatorFunc"]
