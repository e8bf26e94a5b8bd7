"""What every operator is: a pure function ``(value, param, ctx) -> reason | None``.

``None`` means the value passes.  A reason is a short phrase that completes
"<KEY> ..." and must show the value only through ``ctx.shown`` (the masked
rendering), never by formatting ``value`` itself: that is how secrets stay
out of the output.  ``@operator(schema)`` attaches the JSON Schema of the
parameter; ``schemas/policy.schema.json`` is generated from these.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol


class Context(NamedTuple):
    key: str
    shown: str
    environment: str
    compiled: dict[str, object]  # per-run cache for compiled regexes etc.
    secret: bool = False  # the value is a secret: show nothing of it but ctx.shown

    def quote(self, part: str) -> str:
        """Show a piece of the value (an origin in a list...) unless it is secret; a URL password
        or a secret-looking literal inside it is masked (``masking.scrub``)."""
        if self.secret:
            return "<masked>"
        from velro_policy.values.masking import scrub

        return scrub(repr(part))


class OperatorFunc(Protocol):
    param_schema: dict[str, object]
    __name__: str
    __doc__: str | None

    def __call__(self, value: object, param: object, ctx: Context) -> str | None: ...


def operator(param_schema: dict[str, object]) -> Callable[[Callable[..., str | None]], OperatorFunc]:
    def wrap(func: Callable[..., str | None]) -> OperatorFunc:
        func.param_schema = param_schema  # type: ignore[attr-defined]
        return func  # type: ignore[return-value]

    return wrap


TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE_WORDS = frozenset({"0", "off", "f", "false", "n", "no"})


def as_bool(value: object) -> bool | None:
    """Env semantics as pydantic applies them; None when not a boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


class WrongType(Exception):
    """A value of a type the operator cannot judge (a policy/input mismatch)."""


class CannotVerify(str):
    """A reason that says the value could not be judged (part of it is ``Unknown``), not that it is wrong.

    It reads like any other reason.  The evaluator reports it as it reports an
    ``Unknown`` value: only for high/critical rules, at ``unknown_severity``.  A
    combinator that rewrites reasons (``any``) loses the marker, and the reason
    is then reported at the rule's severity (fail closed)."""
