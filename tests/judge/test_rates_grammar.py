"""Rate strings read with the limits library's grammar (what slowapi applies),
several limits judged by their strictest part, tiers by their loosest, and
counts whose unit is in a key or a name."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from velro_policy.judge.operators._base import Context
from velro_policy.judge.operators.rates import rate_at_most
from velro_policy.judge.operators.tables import table_rate_at_most
from velro_policy.values.rates import (
    Rate,
    RateError,
    effective_rates,
    loosest,
    named_unit,
    parse_many,
    parse_one,
    parse_rates,
    rates_named,
    strictest,
)

HOUR, DAY = 3600, 86400

# Each verified against limits 5.8.0 (limits.parse_many: amount and get_expiry()),
# the version slowapi 0.1.9 resolves to; None = the library raises ValueError.
LIMITS_LIBRARY = [
    ("3/hour", [(3, HOUR)]),
    ("10 per hour", [(10, HOUR)]),
    ("10/HOURS", [(10, HOUR)]),
    ("5/5minutes", [(5, 300)]),
    ("10/2 hours", [(10, 2 * HOUR)]),
    ("3 per 1 hour", [(3, HOUR)]),
    (" 3 / hour ", [(3, HOUR)]),
    ("10perhour", [(10, HOUR)]),
    ("3/hour;10/day", [(3, HOUR), (10, DAY)]),
    ("3/hour|10/day", [(3, HOUR), (10, DAY)]),
    ("100/day, 500/7days", [(100, DAY), (500, 7 * DAY)]),
    ("1/hour:;2/day", [(1, HOUR), (2, DAY)]),  # the library's "(:?" group allows a colon before a separator
    ("5/0 minutes", [(5, 60)]),  # a multiple of 0 is read as 1
    ("0/minute", [(0, 60)]),
    ("1/month", [(1, 30 * DAY)]),
    ("1/year", [(1, 360 * DAY)]),  # the library's year is 12 months of 30 days
    ("2/h", None),
    ("10/min", None),
    ("10/m", None),
    ("5 per week", None),
    ("3 hour", None),
    ("3/hour;", None),
    (";3/hour", None),
    ("3/hour;;10/day", None),
    ("-1/hour", None),
    ("3.5/hour", None),
    ("three per hour", None),
    ("", None),
    ("unlimited", None),
    ("3/hourly", None),
]


@pytest.mark.parametrize(("text", "expected"), LIMITS_LIBRARY)
def test_the_limits_library_grammar(text: str, expected: list[tuple[int, int]] | None) -> None:
    if expected is None:
        with pytest.raises(RateError):
            parse_many(text)
    else:
        assert [(r.count, r.seconds) for r in parse_many(text)] == expected


_TOKENS = ["3", "10", "0", " ", "/", "per", " per ", "hour", "hours", "h", "min", "minute", "Minutes", "day",
           "week", "month", "year", "s", ";", ",", "|", ":", "2", "x", "\t", "-", "second", "HOUR"]


@hsettings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=7).map("".join))
def test_same_answer_as_the_limits_library(text: str) -> None:
    import limits  # a test extra: the differential check always runs
    try:
        theirs = [(item.amount, item.get_expiry()) for item in limits.parse_many(text)]
    except ValueError:
        theirs = None
    try:
        ours = [(r.count, r.seconds) for r in parse_many(text)]
    except RateError:
        ours = None
    assert ours == theirs


def test_parse_one_is_one_limit() -> None:
    assert parse_one("3/hour") == Rate(3, HOUR)
    assert parse_one("100 per minute") == Rate(100, 60)
    with pytest.raises(RateError):
        parse_one("3/hour;10/day")
    with pytest.raises(RateError):
        parse_one("5/h")


def test_several_limits_all_apply_so_the_strictest_counts() -> None:
    # a request must pass every limit: over any long stretch the slowest one bounds the route
    assert loosest("10/minute;3/hour") == Rate(3, HOUR)
    assert loosest("3/hour;10/day") == Rate(10, DAY)
    assert loosest(["100/minute", "1000/hour"]) == Rate(1000, HOUR)  # default_limits=[...]
    assert loosest(("3/hour", "10/day")) == Rate(10, DAY)
    assert strictest([Rate(10, 60), Rate(3, HOUR), Rate(500, DAY)]) == Rate(3, HOUR)
    assert parse_rates("10/minute;3/hour") == [Rate(10, 60), Rate(3, HOUR)]  # every part is still listed


def test_tiers_are_alternatives_so_the_loosest_counts() -> None:
    tiers = {"free": "3/hour", "pro": "10/minute;20/hour", "team": {"requests": 5, "window": "hour"}}
    assert effective_rates(tiers) == [Rate(3, HOUR), Rate(20, HOUR), Rate(5, HOUR)]
    assert loosest(tiers) == Rate(20, HOUR)


@pytest.mark.parametrize(("value", "expected"), [
    ((3, 3600), Rate(3, HOUR)),
    ({"requests": 100, "window": 60}, Rate(100, 60)),
    ({"limit": 10, "period": "hour"}, Rate(10, HOUR)),
    ({"limit": 10, "period": 3600}, Rate(10, HOUR)),
    ({"times": 5, "seconds": 60}, Rate(5, 60)),  # fastapi-limiter RateLimiter(times=5, seconds=60)
    ({"times": 5, "minutes": 1}, Rate(5, 60)),
    ({"times": 5, "minutes": 1, "seconds": 30}, Rate(5, 90)),
    ({"times": 3, "hours": 1}, Rate(3, HOUR)),
    ({"requests_per_minute": 150}, Rate(150, 60)),
    ({"per_minute": 6}, Rate(6, 60)),  # Budget(per_minute=6)
    ({"max_per_hour": 25}, Rate(25, HOUR)),
    ({"per_minute": 60, "per_hour": 3}, Rate(3, HOUR)),  # one budget, both apply
    ({"limit": "3/hour"}, Rate(3, HOUR)),
])
def test_shapes(value: object, expected: Rate) -> None:
    assert loosest(value) == expected


@pytest.mark.parametrize("value", [
    "2/h", {"requests_per_minute": "many"}, {"requests": 5}, {}, [], None, True, (3, 0), {"free": "unlimited"},
])
def test_malformed_shapes_are_rate_errors(value: object) -> None:
    with pytest.raises(RateError):
        loosest(value)


def test_units_from_names() -> None:
    assert named_unit("LOGIN_RATE_LIMIT_PER_HOUR") == HOUR
    assert named_unit('RATE_LIMITS["free"]["requests_per_minute"]') == 60
    assert named_unit("max_per_day") == DAY
    assert named_unit("generations_per_month") is None  # a quota, not a rate limit
    assert named_unit("LOGIN_RATE_LIMIT_PER_IP") is None
    assert named_unit("RATE_LIMIT_LOGIN") is None
    assert rates_named(25, "GENERATION_RATE_LIMIT_PER_HOUR") == (25, HOUR)
    assert rates_named("25", "LOGIN_RATE_LIMIT_PER_MINUTE") == (25, 60)
    assert rates_named("3/hour", "LOGIN_RATE_LIMIT_PER_MINUTE") == "3/hour"  # a rate string keeps its own unit
    assert rates_named(25, "LOGIN_RATE_LIMIT") == 25


def _ctx(key: str = "KEY", shown: str = "<shown>") -> Context:
    return Context(key, shown, "production", {})


def test_rate_at_most_with_the_strictest_rule_and_compliant_twins() -> None:
    for good in ["3/hour", "3 per hour", "1/20minutes", "10/minute;3/hour", "3/hour|100/day", "0/minute", (3, 3600), {"times": 3, "hours": 1}]:
        assert rate_at_most(good, "3/hour", _ctx()) is None, good
    for bad, allows in [("4/hour", "4/hour"), ("10/minute;30/hour", "30/hour"), ("30/hour|100/day", "100/day"), ({"per_minute": 6}, "6/minute")]:
        assert rate_at_most(bad, "3/hour", _ctx()) == f"allows {allows}; must be at most 3/hour"


def test_what_the_library_rejects_is_not_a_valid_rate() -> None:
    reason = rate_at_most("2/h", "3/hour", _ctx(shown="'2/h'"))
    assert reason is not None and reason.startswith("is '2/h', which is not a valid rate")
    assert "applies no limit" in reason
    assert rate_at_most("10/min", "100/minute", _ctx()) is not None
    assert rate_at_most({"requests": 5}, "3/hour", _ctx()) == "is <shown>, which is not a valid rate (write it like '3/hour' or '100 per minute')"


def test_counts_named_with_their_unit() -> None:
    assert rate_at_most("25", "3/hour", _ctx("LOGIN_RATE_LIMIT_PER_HOUR")) == "allows 25/hour; must be at most 3/hour"
    assert rate_at_most("3", "3/hour", _ctx("LOGIN_RATE_LIMIT_PER_HOUR")) is None
    assert rate_at_most("72", "3/hour", _ctx("MAX_SIGNIN_ATTEMPTS_PER_DAY")) is None
    assert table_rate_at_most(150, "100/minute", _ctx('LIMIT_TIERS["free"]["requests_per_minute"]')) == "allows 150/minute; must be at most 100/minute"
    assert table_rate_at_most(100, "100/minute", _ctx('LIMIT_TIERS["free"]["requests_per_minute"]')) is None
    # not rate-shaped in a table: a quota, a per-IP count, a reset time
    assert table_rate_at_most(500, "10/hour", _ctx('PLAN_LIMITS["free"]["generations_per_month"]')) is None
    assert table_rate_at_most(50, "3/hour", _ctx("LOGIN_RATE_LIMIT_PER_IP")) is None
    assert table_rate_at_most(3600, "3/hour", _ctx('RATE_LIMITS["reset_time"]')) is None
    # a malformed string in a table is still judged
    assert table_rate_at_most("2/h", "3/hour", _ctx()) is not None


def test_a_tier_of_endpoints_is_judged_entry_by_entry_not_as_one_limit() -> None:
    # {"free": {"api": ..., "auth_login": ...}}: the api and login rules judge each entry at its line
    assert table_rate_at_most({"api": "1000/minute", "auth_login": "3/hour"}, "100/minute", _ctx('RATE_LIMITS["free"]')) is None
    # a tier that is itself one limit is judged, other keys (a monthly quota) aside
    tier = {"requests_per_minute": 150, "generations_per_month": 10}
    assert table_rate_at_most(tier, "100/minute", _ctx('PLAN_LIMITS["basic"]')) == "allows 150/minute; must be at most 100/minute"
    # tiers of one endpoint are alternatives: the loosest counts
    assert table_rate_at_most({"free": "3/hour", "enterprise": "30/hour"}, "3/hour", _ctx('LIMITS["auth_login"]')) == "allows 30/hour; must be at most 3/hour"


def test_a_policy_limit_may_use_short_units_the_schema_allows() -> None:
    assert rate_at_most("4/hour", "3/h", _ctx()) == "allows 4/hour; must be at most 3/hour"
    assert rate_at_most("3/h", "3/h", _ctx()) is not None  # the value is still held to the library's grammar
    assert rate_at_most("100/minute", "100/min", _ctx()) is None
