"""Typed rules: the check tree, and ``required`` composing like every other operator."""
from __future__ import annotations

import pytest

from helpers import findings
from velro_policy.rules import All, AnyOf, Not, Op, Rule, absent_verdict, check_data, parse_check

POLICY = """\
apiVersion: velro-policy/v1
kind: Policy
metadata: {{name: t/p, title: t}}
target: env
rules:
  - id: t/jwt
    title: JWT secret
    severity: critical
    remediation: set it
    select: [JWT_SECRET]
    check:
{check}
"""


def policy(check: str) -> str:
    return POLICY.format(check="\n".join("      " + line for line in check.strip().splitlines()))


@pytest.mark.parametrize("check", [
    "required: true",
    "all:\n  - required: true\n  - min_length: 96",
    "all:\n  - min_length: 96\n  - all:\n      - required: true",
    "any:\n  - required: true",
    "not:\n  not:\n    required: true",
])
def test_a_missing_key_is_a_finding_wherever_required_sits(check: str) -> None:
    assert findings(".env.production", "DEBUG=false\n", policy(check)) == [(1, "t/jwt")]


@pytest.mark.parametrize("check", [
    "min_length: 96",
    "any:\n  - required: true\n  - not:\n      required: true",
    "not:\n  required: true",
    "not:\n  all:\n    - required: true\n    - min_length: 1",
])
def test_a_missing_key_passes_when_no_branch_demands_it(check: str) -> None:
    assert findings(".env.production", "DEBUG=false\n", policy(check)) == []


def test_required_nested_still_judges_a_present_value() -> None:
    check = "all:\n  - required: true\n  - min_length: 96"
    assert findings(".env.production", "JWT_SECRET=short\n", policy(check)) == [(1, "t/jwt")]
    assert findings(".env.production", "X=1\nJWT_SECRET=" + "a1B2" * 30 + "\n", policy(check)) == []


def test_not_required_means_the_key_must_be_absent() -> None:
    assert findings(".env.production", "A=1\nJWT_SECRET=x\n", policy("not:\n  required: true")) == [(2, "t/jwt")]


def test_absent_verdict_is_three_valued() -> None:
    req, opt, length = Op("required", True), Op("required", False), Op("min_length", 96)
    assert absent_verdict(req, "production") is False
    assert absent_verdict(opt, "production") is True
    assert absent_verdict(length, "production") is None
    assert absent_verdict(All((length, req)), "production") is False
    assert absent_verdict(AnyOf((length, req)), "production") is False
    assert absent_verdict(AnyOf((opt, req)), "production") is True
    assert absent_verdict(Not(length), "production") is None
    assert absent_verdict(Not(opt), "production") is False


def test_check_tree_round_trips_through_the_policy_form() -> None:
    data = {"all": [{"required": True}, {"any": [{"min_length": 96}, {"not": {"equals": "x"}}]}]}
    assert check_data(parse_check(data)) == data
    assert parse_check({"min_length": 1, "max_length": 9}) == All((Op("min_length", 1), Op("max_length", 9)))


def test_rule_round_trips_through_the_cache_form() -> None:
    rule = Rule(id="a/b", title="t", severity="high", target="env", select=("X",),
                check=parse_check({"all": [{"required": True}]}), environments=("production",))
    assert Rule.from_data(rule.to_data()) == rule
    assert rule.required_in("production")
