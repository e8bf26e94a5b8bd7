"""Typed rules: what a policy file compiles to, and what every later layer reads.

A ``Rule`` is a frozen record; its ``check`` is a small tree:

- ``Op(name, param)``: one operator of ``judge.operators`` with its parameter
  (``{"min_length": 96}``; a parameter may be ``{"by_environment": {...}}``);
- ``All(items)``: every item passes (a mapping with several operators is an ``All``);
- ``AnyOf(items)``: at least one item passes;
- ``Not(item)``: the item fails.

``required`` is an operator like the others (``{"required": true}``), and it
composes like them: whether a rule demands that its key be present is
computed from the whole tree by ``absent_verdict`` (three-valued: a missing
key fails ``required: true``, passes ``required: false`` and is not judged by
any other operator), so ``all: [{required: true}, {min_length: 96}]`` reports
a missing key exactly as a top-level ``required: true`` does.

Stdlib only: this module is on the ``lint .env`` path, so the records are
NamedTuples (immutable, typed, and free to define: frozen dataclasses cost
several milliseconds of start-up).  Compare checks by ``isinstance``, not by
``==`` across kinds (``All(x) == AnyOf(x)`` as tuples).  Rules round-trip
through plain data (``to_data``/``from_data``) for the compiled pack cache.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple


class Op(NamedTuple):
    """One operator and its parameter."""

    name: str
    param: object


class All(NamedTuple):
    items: tuple[Check, ...]


class AnyOf(NamedTuple):
    items: tuple[Check, ...]


class Not(NamedTuple):
    item: Check


Check = Op | All | AnyOf | Not
NO_CHECK: Check = All(())

# The roles a setting can play in the application, found by use (``inputs.app``): the name of
# a role -> what puts a setting in it.  A policy selects by role with ``select: [{role: NAME}]``.
# Adding a role: one line here (the policy schema's enum is generated from it) and the use that
# assigns it in ``inputs/app`` (facts.py records the expressions, ``_ROLE_ORDER`` names them).
ROLES: dict[str, str] = {
    "jwt-signing-key": "reaches the key argument of jwt.encode/jwt.decode (PyJWT, python-jose, authlib)",
    "cors-origins": "reaches CORSMiddleware(allow_origins=...)",
    "debug-flag": "reaches FastAPI(debug=...), or decides whether the docs URLs are served",
}


def role_selector(item: str) -> tuple[str, str]:
    """A compiled role selector -> (the key it sits under, or "", role name).

    ``jwt-signing-key`` picks a top-level value whose variable plays the role;
    ``__git__:jwt-signing-key`` (``{role: jwt-signing-key, under: __git__}``) picks
    ``__git__["X"]`` when variable X plays it."""
    under, _, role = item.rpartition(":")
    return under, role


def parse_check(data: object) -> Check:
    """The policy language's mapping form -> a ``Check`` tree."""
    if not isinstance(data, dict) or not data:
        return NO_CHECK
    parts: list[Check] = []
    for key, param in data.items():
        if key == "all":
            parts.append(All(tuple(parse_check(d) for d in param)))
        elif key == "any":
            parts.append(AnyOf(tuple(parse_check(d) for d in param)))
        elif key == "not":
            parts.append(Not(parse_check(param)))
        else:
            parts.append(Op(str(key), param))
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def check_data(check: Check) -> dict[str, Any]:
    """A ``Check`` tree -> the policy language's mapping form (inverse of ``parse_check``)."""
    if isinstance(check, Op):
        return {check.name: check.param}
    if isinstance(check, Not):
        return {"not": check_data(check.item)}
    if isinstance(check, AnyOf):
        return {"any": [check_data(c) for c in check.items]}
    if len(check.items) != 1 and all(isinstance(c, Op) for c in check.items) \
            and len({c.name for c in check.items}) == len(check.items):  # type: ignore[union-attr]
        return {c.name: c.param for c in check.items}  # type: ignore[union-attr]
    return {"all": [check_data(c) for c in check.items]}


def resolve(param: object, environment: str) -> object:
    """A parameter for one environment: ``{"by_environment": {...}}`` picks the
    environment's entry (else ``default``, else None: the operator is skipped)."""
    if isinstance(param, dict) and set(param) == {"by_environment"}:
        table = param["by_environment"]
        return table.get(environment, table.get("default"))
    return param


def ops(check: Check) -> Iterator[Op]:
    """Every operator of the tree, in order."""
    if isinstance(check, Op):
        yield check
    elif isinstance(check, Not):
        yield from ops(check.item)
    else:
        for c in check.items:
            yield from ops(c)


def absent_verdict(check: Check, environment: str) -> bool | None:
    """How the tree judges a key that is not set: False fails, True passes, None: not judged.

    Only ``required`` judges absence; every other operator has no value to
    look at.  ``All`` fails when an item fails; ``AnyOf`` passes when an item
    passes and fails when every judging item fails; ``Not`` inverts.
    """
    if isinstance(check, Op):
        if check.name != "required":
            return None
        wanted = resolve(check.param, environment)
        if wanted is None:
            return None
        return not bool(wanted)
    if isinstance(check, Not):
        inner = absent_verdict(check.item, environment)
        return None if inner is None else not inner
    verdicts = [absent_verdict(c, environment) for c in check.items]
    if isinstance(check, All):
        if False in verdicts:
            return False
        return True if True in verdicts else None
    if True in verdicts:
        return True
    return False if False in verdicts else None


def mentions_required(check: Check) -> bool:
    """Whether any environment could demand presence (cheap pre-filter for the evaluator)."""
    return any(op.name == "required" for op in ops(check))


class Rule(NamedTuple):
    """One compiled rule of a policy file (after the project config's overrides)."""

    id: str
    title: str
    severity: str
    target: str
    remediation: str = ""
    description: str = ""
    environments: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # role selectors (``role_selector``): values picked by the role their variable plays
    check: Check = NO_CHECK
    semgrep: dict[str, Any] | None = None
    semgrep_file: str | None = None
    message: str = ""
    guide_section: str = ""
    secret: bool = False
    suppressible: bool = True
    examples: dict[str, str] = {}  # shared default, never mutated
    policy: str = ""
    file: str = ""
    line: int = 0

    def required_in(self, environment: str) -> bool:
        """The key must be set in this environment (a missing key is a finding)."""
        return absent_verdict(self.check, environment) is False

    def with_severity(self, severity: str) -> Rule:
        return self._replace(severity=severity)

    def to_data(self) -> dict[str, Any]:
        data = self._asdict()
        data["check"] = check_data(self.check)
        data["environments"] = list(self.environments)
        data["select"] = list(self.select)
        data["roles"] = list(self.roles)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Rule:
        known = set(cls._fields)
        values = {k: v for k, v in data.items() if k in known}
        values["check"] = parse_check(data.get("check") or {})
        values["environments"] = tuple(data.get("environments") or ())
        values["select"] = tuple(data.get("select") or ())
        values["roles"] = tuple(data.get("roles") or ())
        return cls(**values)


__all__ = ["ROLES", "All", "AnyOf", "Check", "Not", "Op", "Rule", "role_selector", "absent_verdict", "check_data", "ops", "parse_check", "resolve"]
