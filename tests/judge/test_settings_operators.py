"""The CSP parser, the header and table operators, per-tier rates."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from velro_policy.judge.checks import run_check as _run_check
from velro_policy.judge.operators import OPERATORS, Context
from velro_policy.model import Unknown
from velro_policy.rules import parse_check
from velro_policy.values import csp
from velro_policy.values.rates import RateError, loosest, parse_rates


def run_check(spec, value, ctx, environment):  # the policy language's mapping form
    return _run_check(parse_check(spec), value, ctx, environment)

GUIDE_CSP = {"csp": {"require": {"default-src": ["'self'", "'none'"]},
                     "forbid": {"script-src": ["'unsafe-inline'", "'unsafe-eval'", "*", "data:"]}}}


def check(spec: dict, value: object) -> str | None:
    return run_check(spec, value, Context("KEY", "<shown>", "production", {}), "production")


def test_csp_parse_directives_case_and_duplicates() -> None:
    p = csp.parse("Default-Src 'self';  SCRIPT-SRC 'self' https://cdn.example ; script-src *;;")
    assert p.directives == {"default-src": ("'self'",), "script-src": ("'self'", "https://cdn.example")}  # first wins


def test_csp_fallback_follows_the_browser() -> None:
    p = csp.parse("default-src 'self' 'unsafe-inline'; style-src 'self'")
    assert p.effective("script-src") == ("default-src", ("'self'", "'unsafe-inline'"))
    assert p.effective("script-src-elem") == ("default-src", ("'self'", "'unsafe-inline'"))
    assert p.effective("style-src-attr") == ("style-src", ("'self'",))
    assert csp.parse("img-src *").effective("script-src") is None


def test_csp_dict_and_list_forms() -> None:
    assert csp.parse({"default_src": ["'self'"], "script-src": "'self' https://x"}).directives == {
        "default-src": ("'self'",), "script-src": ("'self'", "https://x")}
    assert csp.parse(["default-src 'self'", "script-src 'self'"]).directives["script-src"] == ("'self'",)
    for bad in ("", ";;", 42, {"default-src": 5}, "not a policy", {"x": Unknown("settings.csp")}):
        with pytest.raises(csp.CSPError):
            csp.parse(bad)


@pytest.mark.parametrize(("value", "words"), [
    ("default-src 'self'; script-src 'self' 'UNSAFE-INLINE'", ["'UNSAFE-INLINE' in script-src"]),
    ("default-src 'self' 'unsafe-eval'", ["'unsafe-eval' in script-src (through default-src"]),
    ("script-src 'self'", ["has no default-src"]),
    ("default-src https:; script-src 'self'", ["default-src without 'self' or 'none'"]),
    ("img-src 'self'", ["has no default-src", "does not restrict script-src"]),
    ("default-src 'self'; script-src 'self' DATA: *", ["DATA:, * in script-src"]),
])
def test_csp_operator_reasons(value: str, words: list[str]) -> None:
    reason = check(GUIDE_CSP, value) or ""
    for w in words:
        assert w in reason, reason


def test_csp_nonce_does_not_excuse_unsafe_inline_in_config() -> None:
    # CSP2 browsers ignore 'unsafe-inline' next to a nonce, CSP1 browsers do not: the config is still flagged.
    assert check(GUIDE_CSP, "default-src 'self'; script-src 'self' 'nonce-abc' 'unsafe-inline'")


@pytest.mark.parametrize(("value", "ok"), [
    ("max-age=31536000; includeSubDomains; preload", True),
    ('max-age="31536000"; includesubdomains; PRELOAD', True),
    ("max-age=31535999; includeSubDomains; preload", False),
    ("includeSubDomains; preload", False),
    ("max-age=-1; includeSubDomains; preload", False),
    ("max-age=31536000 includeSubDomains preload", False),
])
def test_hsts(value: str, ok: bool) -> None:
    spec = {"hsts": {"min_max_age": 31536000, "include_subdomains": True, "preload": True}}
    assert (check(spec, value) is None) is ok


def test_header_one_of_normalises_spacing_and_case() -> None:
    spec = {"header_one_of": ["1; mode=block"]}
    assert check(spec, " 1 ; Mode = BLOCK ") is None
    assert check(spec, "1;mode=block;") is None
    assert check(spec, "1") and check(spec, "1; report=/x")


def test_requires_keys_recognises_tables_by_their_keys() -> None:
    spec = {"requires_keys": {"keys": {"login": ["*login*"], "register": ["*regist*"], "reset": ["*reset*"]}, "recognise": 2}}
    assert check(spec, {"auth_login": "3/hour"}) is None  # one group: not a rate-limit table
    assert check(spec, {"AUTH_LOGIN": "3/hour", "Registration": "2/hour"}) == "has no entry for reset"
    headers = {"requires_keys": {"keys": ["X-Frame-Options", "Referrer-Policy", "X-Content-Type-Options"], "recognise": 2, "text_values": True}}
    assert check(headers, {"x-frame-options": "DENY", "referrer-policy": "no-referrer"}) == "has no entry for X-Content-Type-Options"
    assert check(headers, {"X-Frame-Options": True, "Referrer-Policy": False}) is None  # flags, not headers


def test_no_literal_masks_nothing_itself_but_uses_the_shown_value() -> None:
    ctx = Context("JWT_SECRET", "*** (6 chars, masked)", "production", {}, True)
    reason = run_check({"no_literal": True}, "s3cret", ctx, "production") or ""
    assert "s3cret" not in reason and "masked" in reason


def test_per_tier_rates_hold_every_tier() -> None:
    assert str(loosest({"free": "3/hour", "pro": (10, 3600), "team": {"requests": 5, "window": "hour"}})) == "10/hour"
    assert [str(r) for r in parse_rates({"free": {"limit": 3, "period": "hour"}})] == ["3/hour"]
    with pytest.raises(RateError):
        parse_rates({"free": "3/hour", "pro": "unlimited"})
    with pytest.raises(RateError):
        parse_rates({})


# -- any Python literal a settings module can hold: operators answer, never raise ----------


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=40), st.sampled_from(["3/hour", "10 per minute", "max-age=31536000", "default-src 'self'", "*", "DENY"]),
                     st.builds(Unknown, st.text(max_size=10)))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(["requests", "window", "limit", "period", "default-src", "free"])), inner, max_size=4)),
    max_leaves=12)
_SETTINGS_CHECKS = [
    {"header_one_of": ["DENY"]}, {"hsts": {"min_max_age": 31536000, "include_subdomains": True, "preload": True}}, GUIDE_CSP,
    {"requires_keys": {"keys": {"login": ["*login*"], "api": ["api"]}, "recognise": 1, "text_values": True}},
    {"table_rate_at_most": "3/hour"}, {"no_literal": True},
]


@pytest.mark.parametrize("value", [(3, float("inf")), (float("nan"), 60), (3, float("nan")), {"requests": float("inf"), "window": 60}, (10**400, 60)])
def test_absurd_numbers_in_rate_tables_are_findings_not_crashes(value: object) -> None:
    reason = check({"table_rate_at_most": "3/hour"}, value)  # raised OverflowError/ValueError before
    assert reason is None or "rate" in reason
    assert check({"table_rate_at_most": "3/hour"}, (3, float("inf"))) == "is <shown>, which is not a usable rate"


@hsettings(max_examples=300, deadline=None)
@given(_VALUES)
def test_settings_operators_never_raise(value: object) -> None:
    for spec in _SETTINGS_CHECKS:
        assert next(iter(spec)) in OPERATORS
        reason = check(spec, value)
        assert reason is None or isinstance(reason, str)
