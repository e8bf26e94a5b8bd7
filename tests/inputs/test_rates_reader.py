"""The settings reader on rate-limit shapes: enum and tuple keys, constructor
values, helper functions, env defaults in methods, and every literal branch
of a conditional assignment (findings at their lines: settings.test.yaml)."""
from __future__ import annotations

import textwrap
from pathlib import Path

from velro_policy.inputs.pyread import read_module
from velro_policy.model import Unknown
from velro_policy.values.rates import loosest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "settings"


def bindings(src: str) -> list[tuple[str, object, int]]:
    return [(b.display, b.lit.value, b.lit.loc.line) for b in read_module(textwrap.dedent(src), "mod.py").bindings]


def values(src: str) -> dict[str, object]:
    return {d: v for d, v, _ in bindings(src)}


def test_enum_and_tuple_keys_are_named_by_their_members() -> None:
    got = values('''
        from enum import Enum
        class Bucket(str, Enum):
            LOGIN_ATTEMPTS = "login_attempts"
        LIMITS = {Bucket.LOGIN_ATTEMPTS: "10/minute", plans.Plan.PRO: "1/hour"}
        BUDGETS = {(Plan.BASIC, Bucket.LOGIN_ATTEMPTS): "6/minute", ("free", Bucket.GENERATION): "10/hour"}
        NAME = "login"
        BY_NAME = {NAME: "3/hour"}
    ''')
    assert got["LIMITS"] == {"LOGIN_ATTEMPTS": "10/minute", "PRO": "1/hour"}
    assert got["BUDGETS"] == {("BASIC", "LOGIN_ATTEMPTS"): "6/minute", ("free", "GENERATION"): "10/hour"}
    assert got["BY_NAME"] == {"login": "3/hour"}  # a name bound to a literal keeps its value


def test_constructor_values_and_limit_calls() -> None:
    got = values('''
        BUDGETS = {
            "login": Budget(per_minute=6),
            "signup": RateLimiter(times=5, seconds=60),
            "reset": RateLimiter(times=3, hours=1),
            "generation": RateLimitItemPerHour(10),
            "api": limits.RateLimitItemPerMinute(100, 2),
            "parsed": parse("3/hour"),
            "other": Thing(name="x"),
            "dynamic": Budget(per_minute=compute()),
        }
    ''')
    table = got["BUDGETS"]
    assert isinstance(table, dict)
    assert table["login"] == {"per_minute": 6} and table["generation"] == "10/hour" and table["parsed"] == "3/hour"
    assert isinstance(table["other"], Unknown) and isinstance(table["dynamic"], Unknown)  # not rates / not literals
    members = {d: v for d, v, _ in bindings('''
        LOGIN = Budget(per_minute=6)
        SIGNUP = RateLimiter(times=5, seconds=60)
        RESET = RateLimiter(times=3, hours=1)
        GENERATION = RateLimitItemPerHour(10)
        API = limits.RateLimitItemPerMinute(100, 2)
        PARSED = parse("3/hour")
        OTHER = Thing(name="x")
        DYNAMIC = Budget(per_minute=compute())
    ''')}
    assert members["LOGIN"] == {"per_minute": 6}
    assert members["SIGNUP"] == {"times": 5, "seconds": 60}
    assert members["GENERATION"] == "10/hour"
    assert members["API"] == "100/2 minute"
    assert members["PARSED"] == "3/hour"
    assert isinstance(members["OTHER"], Unknown) and isinstance(members["DYNAMIC"], Unknown)
    assert [str(loosest(members[k])) for k in ("LOGIN", "SIGNUP", "RESET", "GENERATION", "API", "PARSED")] == [
        "6/minute", "5/minute", "3/hour", "10/hour", "100/2 minutes", "3/hour"]


def test_helper_functions_returning_a_limit_and_return_of_a_local() -> None:
    got = bindings('''
        import os

        def login_limit():
            return "15/minute"

        def signup_rate_limit():
            value = "10/hour"
            return value

        def generation_limit():
            return limit("20/hour")

        def greeting():
            return "hello"

        def plan_limits():
            base = int(os.getenv("BASE_REQS_PER_MINUTE", "150"))
            return {"basic": {"requests_per_minute": base}}
    ''')
    assert ("login_limit()", "15/minute", 5) in got
    assert ("signup_rate_limit()", "10/hour", 9) in got
    assert ("generation_limit()", "20/hour", 12) in got
    assert not any(d == "greeting()" for d, _, _ in got)  # not named for a limit
    assert ("plan_limits()", {"basic": {"requests_per_minute": 150}}, 19) in got


def test_env_defaults_in_plain_class_methods() -> None:
    read = read_module(textwrap.dedent('''
        import os

        class Limits:
            def __init__(self):
                self.SIGNIN_RATE_LIMIT = os.getenv("SIGNIN_RATE_LIMIT", "25/minute")
                self.name = "limits"
    '''), "mod.py")
    found = [(b.parts, b.lit.value, b.env, b.aliases) for b in read.bindings]
    assert found == [(("Limits", "SIGNIN_RATE_LIMIT"), "25/minute", ("SIGNIN_RATE_LIMIT",), (("SIGNIN_RATE_LIMIT",),))]


def test_every_literal_branch_of_a_conditional_assignment() -> None:
    src = '''
        import os

        _raw = os.getenv("LOGIN_LIMITS", "")
        if _raw:
            LOGIN_RATE_LIMIT = _raw.split(",")
        else:
            LOGIN_RATE_LIMIT = ["20/minute",
                                "100/day"]
        REGISTER_RATE_LIMIT = "1/hour" if os.getenv("STRICT") else "10/hour"
        PICK = "3/hour" if 2 > 1 else "30/hour"
        if os.getenv("ENVIRONMENT") == "production":
            RESET_PASSWORD_RATE_LIMIT = "3/hour"
        else:
            RESET_PASSWORD_RATE_LIMIT = "30/hour"
    '''
    got = bindings(src)
    login = [(v, line) for d, v, line in got if d == "LOGIN_RATE_LIMIT"]
    assert login == [(["20/minute", "100/day"], 8)]  # the fallback; the env branch is the variable's value
    assert [(v, line) for d, v, line in got if d == "REGISTER_RATE_LIMIT"] == [("1/hour", 10), ("10/hour", 10)]
    assert [v for d, v, _ in got if d == "PICK"] == ["3/hour"]  # decided before run time: one value
    reset = [(b.lit.value, b.outside_production) for b in read_module(textwrap.dedent(src), "mod.py").bindings
             if b.display == "RESET_PASSWORD_RATE_LIMIT"]
    assert sorted(reset) == [("3/hour", False), ("30/hour", True)]  # chosen by environment: production runs the first


def test_fixtures_fold_to_the_limits_they_declare() -> None:
    bad = {b.display: b.lit.value for b in read_module((FIXTURES / "rate_shapes_bad.py").read_text(), "bad.py").bindings}
    good = {b.display: b.lit.value for b in read_module((FIXTURES / "rate_shapes_good.py").read_text(), "good.py").bindings}
    assert bad["BUDGETS"] == {("BASIC", "LOGIN_ATTEMPTS"): {"per_minute": 6}}
    assert good["BUDGETS"] == {("BASIC", "LOGIN_ATTEMPTS"): {"per_hour": 3}}
    assert str(loosest(bad["LIMITER_DEPS"]["login"])) == "5/minute"  # type: ignore[index]
    assert str(loosest(good["LIMITER_DEPS"]["login"])) == "3/hour"  # type: ignore[index]
    assert bad["generation_limit()"] == "1/minute" and good["generation_limit()"] == "10/hour"
