"""The operator registry.  A new operator: one function in a module here
(decorated with ``@operator(param_schema)``), one line in ``OPERATORS``,
then ``python -m velro_policy.schema_gen`` to refresh the policy schema.

``all`` / ``any`` / ``not`` combinators are handled by the evaluator.
"""
from __future__ import annotations

from velro_policy.operators import basic, environment, headers, origins, rates, secrets, tables
from velro_policy.operators._base import Context, OperatorFunc

OPERATORS: dict[str, OperatorFunc] = {
    "equals": basic.equals,
    "one_of": basic.one_of,
    "not_one_of": basic.not_one_of,
    "boolean": basic.boolean,
    "required": basic.required,
    "forbidden": basic.forbidden,
    "min_length": basic.min_length,
    "max_length": basic.max_length,
    "int_min": basic.int_min,
    "int_max": basic.int_max,
    "matches": basic.matches,
    "not_matches": basic.not_matches,
    "min_entropy": secrets.min_entropy,
    "not_placeholder": secrets.not_placeholder,
    "not_weak_secret": secrets.not_weak_secret,
    "not_real_secret": secrets.not_real_secret,
    "rate_at_most": rates.rate_at_most,
    "no_wildcard": origins.no_wildcard,
    "https_only": origins.https_only,
    "no_localhost": origins.no_localhost,
    "hosts_in": origins.hosts_in,
    "names_environment": environment.names_environment,
    "header_one_of": headers.header_one_of,
    "hsts": headers.hsts,
    "csp": headers.csp,
    "requires_keys": tables.requires_keys,
    "no_literal": tables.no_literal,
    "table_rate_at_most": tables.table_rate_at_most,
}

COMBINATORS: tuple[str, ...] = ("all", "any", "not")

__all__ = ["OPERATORS", "COMBINATORS", "Context", "OperatorFunc"]
