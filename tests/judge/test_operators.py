"""Every operator on passing and failing values (env strings and Python values)."""
from __future__ import annotations

from pathlib import Path

import pytest

from velro_policy.judge.checks import run_check as _run_check
from velro_policy.judge.operators import WHERE, Context, all_operators
from velro_policy.model import Location, ValidationFunction
from velro_policy.rules import parse_check


def run_check(spec, value, ctx, environment):  # the policy language's mapping form
    return _run_check(parse_check(spec), value, ctx, environment)


def check(spec: dict, value: object, environment: str = "production") -> str | None:
    ctx = Context("KEY", repr(value), environment, {})
    return run_check(spec, value, ctx, environment)


CASES = [
    # operator spec, passing values, failing values
    ({"equals": "production"}, ["production"], ["Production", "staging", ""]),
    ({"equals": False}, ["false", "0", "OFF", False], ["true", "maybe"]),
    ({"equals": 5}, ["5", 5, " 5 "], ["6", "five"]),
    ({"one_of": ["a", "b"]}, ["a", "b"], ["c"]),
    ({"not_one_of": ["a", "b"]}, ["c"], ["a"]),
    ({"boolean": False}, ["false", "FALSE", "0", "no", "off", "f", "n", False, 0], ["true", "1", "yes", "on", "enabled", "", "fals"]),
    ({"boolean": True}, ["true", "Yes", "1", "ON", True], ["false", "sure"]),
    ({"boolean": "any"}, ["true", "false"], ["enabled"]),
    ({"forbidden": True}, [], ["anything"]),
    ({"called": True}, [ValidationFunction("validate_jwt", "config.py", Location("config.py", 3, 1), 2)],
     [ValidationFunction("validate_jwt", "config.py", Location("config.py", 3, 1), 0)]),
    ({"required": True}, ["x"], []),
    ({"min_length": 5}, ["12345", "123456"], ["1234", ""]),
    ({"max_length": 3}, ["123", ""], ["1234"]),
    ({"int_min": 10}, ["10", 11], ["9", "ten", True]),
    ({"int_max": 10}, ["10", 1], ["11", "1.5"]),
    ({"matches": r"^https://"}, ["https://a"], ["http://a", 5]),
    ({"not_matches": r"(?i)debug"}, ["prod"], ["DEBUG-ON"]),
    ({"min_entropy": 3.0}, ["aB3$kL9#pQ2!"], ["aaaaaaaaaaaa", "abababab"]),
    ({"not_placeholder": True}, ["k9Vq2mX7pL4tR8wZ"],
     ["REPLACE_WITH_PRODUCTION_SECRET", "changeme", "your-secret-here", "<jwt-secret>", "xxxx", "example", "", "${JWT_SECRET}"]),
    ({"not_weak_secret": True}, ["k9Vq2mX7pL4tR8wZa1b2c3"],
     ["abcabcabcabcabcabc", "passwordpasswordpassword", "aaaaabbbbbaaaaabbbbb", "mysupersecretjwtkeyforproduction"]),
    ({"not_real_secret": True}, ["REPLACE_WITH_SECRET", "short", "my-dev-secret-value-x"],
     ["q8Zt3VnR6wXy1Lp4Kd7Hs0Bf2Gj5Mc9Na3Qe6Tu8Wv1Yx4Zb7Ck0Dm2Fn5Hp8Jr1"]),
    # The limits library's grammar (what slowapi applies): "3/h" is rejected there, so the route has
    # no limit at all; in "3/hour;10/minute" every limit applies, and the 3/hour part meets 3/hour.
    ({"rate_at_most": "3/hour"}, ["3/hour", "1/hour", "2 per hour", "3/hour;10/minute", "5/2 hours", (3, 3600), {"requests": 1, "window": 3600}, "3/hour;1/minute"[0:6]],
     ["4/hour", "5/minute", "10 per hour", (10, 60), {"limit": 10, "period": "hour"}, "3/h", "three per hour", "5", ""]),
    ({"rate_at_most": "100/minute"}, ["100/minute", "6000/hour", "1/second"], ["101/minute", "2/second"]),
    ({"no_wildcard": True}, ['["https://a.example"]', "https://a.example,https://b.example", ["https://a.example"]],
     ['["*"]', "*", "https://a.example, *", ["*"], '["https://a"', 42]),
    ({"https_only": True}, ['["https://a.example"]'], ['["http://a.example"]', "https://a.example,http://b.example"]),
    ({"no_localhost": True}, ['["https://a.example"]'],
     ['["http://localhost:3000"]', "https://127.0.0.1:8000", '["http://0.0.0.0"]', "http://[::1]:8000", "http://app.localhost"]),
    ({"hosts_in": ["*.velro.example", "velro.example"]}, ['["https://app.velro.example","https://velro.example"]'],
     ['["https://evil.example"]', '["https://velro.example.evil.com"]']),
    ({"names_environment": True}, ["production", "prod", "PRODUCTION"], ["development", "qa"]),
    ({"all": [{"min_length": 3}, {"max_length": 5}]}, ["abcd"], ["ab", "abcdef"]),
    ({"any": [{"equals": "a"}, {"equals": "b"}]}, ["a", "b"], ["c"]),
    ({"not": {"equals": "a"}}, ["b"], ["a"]),
    ({"min_length": {"by_environment": {"production": 10, "default": 2}}}, ["0123456789"], ["abc"]),
    # settings target (tests/judge/test_settings_operators.py has more)
    ({"header_one_of": ["DENY"]}, ["DENY", "deny", " Deny ", True], ["SAMEORIGIN", "ALLOW-FROM https://x"]),
    ({"header_one_of": ["1; mode=block"]}, ["1; mode=block", "1;mode=block", "1; MODE = block"], ["1", "0"]),
    ({"hsts": {"min_max_age": 31536000, "include_subdomains": True, "preload": True}},
     ["max-age=31536000; includeSubDomains; preload", "max-age=63072000;includesubdomains;preload", 5],
     ["max-age=3600; includeSubDomains; preload", "max-age=31536000; preload", "max-age=31536000; includeSubDomains", "includeSubDomains", "max-age=abc"]),
    ({"csp": {"require": {"default-src": ["'self'", "'none'"]}, "forbid": {"script-src": ["'unsafe-inline'", "'unsafe-eval'", "*", "data:"]}}},
     ["default-src 'self'; script-src 'self'", "default-src 'none'; script-src 'self' https://cdn.example", {"default-src": ["'self'"]}],
     ["default-src 'self'; script-src 'self' 'unsafe-inline'", "default-src 'self' 'unsafe-eval'", "script-src 'self'", "default-src *",
      "default-src 'self'; script-src data:", "", 5, "not a policy at all"]),
    ({"requires_keys": {"keys": ["A", "B"]}}, [{"a": 1, "B": 2}, "not a dict"], [{"a": 1}, {}]),
    ({"requires_keys": {"keys": {"login": ["*login*"], "reset": ["*reset*"], "api": ["api"]}, "recognise": 2}},
     [{"auth_login": 1, "password_reset": 1, "api": 1}, {"auth_login": 1}, {"x": 1}], [{"auth_login": 1, "API": 1}]),
    ({"no_literal": True}, ["", None, True], ["dev-secret", "x", 12345]),
    ({"table_rate_at_most": "3/hour"}, ["3/hour", 10, "standard", {"free": "3/hour", "quota": 100}, (3, 3600)],
     ["10/hour", "5 per minute", {"free": "3/hour", "pro": "10/hour"}, {"requests": 5, "window": 3600}, "3//hour"]),
]


@pytest.mark.parametrize(("spec", "good", "bad"), CASES, ids=[next(iter(c[0])) + f"-{i}" for i, c in enumerate(CASES)])
def test_operator(spec: dict, good: list, bad: list) -> None:
    for value in good:
        assert check(spec, value) is None, f"{spec} should pass {value!r}"
    for value in bad:
        reason = check(spec, value)
        assert reason, f"{spec} should fail {value!r}"


def test_by_environment_resolves_per_environment() -> None:
    spec = {"min_length": {"by_environment": {"production": 96, "development": 64}}}
    value = "x" * 70
    assert check(spec, value, "development") is None
    assert "needs at least 96" in (check(spec, value, "production") or "")
    assert check(spec, value, "staging") is None  # no entry and no default: not checked


# Operators on the application model (its routes, the headers it sets), not one value: their cases are in
# these modules (the operator called directly, or the rule that uses it run on generated apps).
ELSEWHERE = {"route_rate_limit": ("judge/test_route_limits.py", "route_rate_limit("),
             "app_headers": ("inputs/test_headers_everywhere.py", "velro/app-headers-missing")}


def test_every_registered_operator_is_covered() -> None:
    """Every operator of the registry (WHERE), not only the ones this process has imported so far
    (OPERATORS fills on first use, so it held whatever earlier tests in the same worker had loaded)."""
    covered = {op for spec, _, _ in CASES for op in spec}
    assert set(WHERE) <= covered | set(ELSEWHERE), f"operators without tests: {set(WHERE) - covered - set(ELSEWHERE)}"
    tests = Path(__file__).resolve().parents[1]
    for name, (module, named) in ELSEWHERE.items():
        assert named in (tests / module).read_text(encoding="utf-8"), (name, module)


def test_reasons_never_format_the_raw_value() -> None:
    secret = "S3cr3tValueThatMustNotLeak-9f8e7d6c5b4a"
    ctx = Context("JWT_SECRET", "<masked>", "production", {}, True)
    for name, func in all_operators().items():
        for param in (True, False, 5, "3/hour", ["a"], "x"):
            try:
                reason = func(secret, param, ctx)
            except Exception:  # noqa: BLE001 - wrong param type for this operator
                continue
            assert secret not in (reason or ""), name


def test_regex_operator_is_linear_time() -> None:
    # Catastrophic backtracking in a backtracking engine; RE2 answers at once.
    assert check({"matches": r"^(a+)+$"}, "a" * 50_000 + "b") is not None
