"""velro/route-rate-limit: sensitive routes of the application model without a limit, or with a
looser one than the guide's (issue 16, item 1), and the route vocabulary (issue 15, item 6).

The app documents are built by hand here (one entry per route, as ``check`` appends them) and
judged through ``judge_documents`` with the shipped policy file."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, cli
from velro_policy.judge.evaluate import judge_documents
from velro_policy.judge.operators.routes import CannotVerify, classify, compile_param, path_words, route_rate_limit, words
from velro_policy.model import Document, Entry, Finding, Location, Route, RouteLimit, Unknown
from velro_policy.policy.load import load_file
from velro_policy.rules import Rule

POLICY = REPO / "policies" / "velro" / "app-rate-limits.yaml"
RULE = "velro/route-rate-limit"
LINE = 10  # every hand-made handler is at app.py:10


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    _, loaded = load_file(POLICY, "policies/velro/app-rate-limits.yaml")
    assert [str(r.id) for r in loaded] == [RULE]
    return loaded


def limit(value: object, source: str = "decorator @limiter.limit") -> RouteLimit:
    return RouteLimit(value, source, Location("app.py", LINE - 1, 1))


def route(method: str, path: str, handler: str, *limits: RouteLimit, gate: str = "") -> Route:
    return Route(method, path, handler, Location("app.py", LINE, 1), tuple(limits), (), gate)


def app_doc(*routes: Route, environment: str = "production") -> Document:
    entries = tuple(
        Entry(f'routes["{r.method} {r.path}"]', r, r.loc, ("routes", f"{r.method} {r.path}")) for r in routes
    )
    return Document("app.py", "app", entries, environment=environment, display_path="app.py")


def judge(rules: list[Rule], *routes: Route, config: dict | None = None, environment: str = "production") -> list[Finding]:
    return judge_documents([app_doc(*routes, environment=environment)], rules, config or {})


def messages(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings]


# --- hits, each with its exact message -------------------------------------------------------------


def test_login_route_without_any_limit(rules: list[Rule]) -> None:
    found = judge(rules, route("POST", "/auth/login", "login"))
    assert messages(found) == ['routes["POST /auth/login"] is a login route with no rate limit (guide: 3/hour) (production)']
    f = found[0]
    assert (f.path, f.line, f.col, f.rule_id, f.severity, f.key) == ("app.py", LINE, 1, RULE, "high", 'routes["POST /auth/login"]')
    assert "slowapi" in f.remediation and "fastapi-limiter" in f.remediation


def test_sign_in_route_looser_than_the_guide(rules: list[Rule]) -> None:
    found = judge(rules, route("POST", "/api/v1/auth/sign-in", "sign_in", limit("10/minute")))
    assert messages(found) == [
        'routes["POST /api/v1/auth/sign-in"] is a login route that allows 10/minute, from decorator @limiter.limit '
        "(guide: at most 3/hour) (production)"
    ]


def test_register_route_with_a_count_seconds_tuple(rules: list[Rule]) -> None:
    found = judge(rules, route("POST", "/auth/register", "register", limit((5, 60), "route dependency RateLimiter")))
    assert messages(found) == [
        'routes["POST /auth/register"] is a registration route that allows 5/minute, from route dependency RateLimiter '
        "(guide: at most 2/hour) (production)"
    ]


def test_generation_route_looser_than_10_per_hour(rules: list[Rule]) -> None:
    found = judge(rules, route("POST", "/generations", "create_generation", limit("20/hour")))
    assert messages(found) == [
        'routes["POST /generations"] is a generation route that allows 20/hour, from decorator @limiter.limit '
        "(guide: at most 10/hour) (production)"
    ]


def test_token_route_of_login_for_access_token_without_limit(rules: list[Rule]) -> None:
    found = judge(rules, route("POST", "/token", "login_for_access_token"))
    assert messages(found) == ['routes["POST /token"] is a login route with no rate limit (guide: 3/hour) (production)']


def test_route_behind_a_gate_is_still_judged(rules: list[Rule]) -> None:
    found = judge(rules, route("POST", "/auth/signup", "signup", gate="settings.ENABLE_SIGNUP"))
    assert messages(found) == ['routes["POST /auth/signup"] is a registration route with no rate limit (guide: 2/hour) (production)']


def test_every_environment_judges_the_route_table(rules: list[Rule]) -> None:
    for env in ("production", "staging", "development", "test"):
        found = judge(rules, route("POST", "/auth/login", "login"), environment=env)
        assert [f.environment for f in found] == [env]


# --- near misses: silent --------------------------------------------------------------------------


def test_forgot_password_at_the_guide_limit_passes(rules: list[Rule]) -> None:
    applied: set[str] = set()
    assert judge_documents([app_doc(route("POST", "/auth/forgot-password", "forgot_password", limit("3/hour")))], rules, {}, applied) == []
    assert applied == {RULE}  # judged, and passed


def test_generation_at_10_per_hour_passes(rules: list[Rule]) -> None:
    assert judge(rules, route("POST", "/generations", "create_generation", limit("10/hour"))) == []


def test_read_only_and_unrelated_routes_pass(rules: list[Rule]) -> None:
    assert judge(
        rules,
        route("GET", "/auth/me", "read_me"),
        route("GET", "/rate-limit/reset-time", "get_reset_time"),
        route("POST", "/rate-limit/reset-time", "reset_time"),
        route("GET", "/auth/login", "login_page"),
        route("GET", "/generations", "list_generations"),
        route("GET", "/auth", "auth_status"),
        route("POST", "/auth/logout", "logout"),
        route("POST", "/auth/refresh", "refresh_token"),
        route("POST", "/generations/{generation_id}/favorite", "favorite"),
        route("POST", "/api-keys/generate", "generate_api_key"),
        route("POST", "/devices/register", "register_device"),
        route("POST", "/chat/sessions", "create_chat_session"),
        route("POST", "/push/token", "save_push_token"),
        route("POST", "/projects", "create_project"),
    ) == []


def test_a_limit_within_the_guide_binds_whatever_else_applies(rules: list[Rule]) -> None:
    # Limits apply together: the middleware's 100/minute does not loosen the decorator's 3/hour.
    assert judge(rules, route("POST", "/auth/login", "login", limit("100/minute", "middleware Throttle"), limit("3/hour"))) == []
    # "10/minute;3/hour" is two limits enforced together (limits library): 3/hour binds.
    assert judge(rules, route("POST", "/auth/login", "login", limit("10/minute;3/hour"))) == []
    # A per-tier table: a client gets one tier, the loosest counts.
    found = judge(rules, route("POST", "/auth/login", "login", limit({"free": "3/hour", "pro": "30/hour"}, "limiter table")))
    assert messages(found) == [
        'routes["POST /auth/login"] is a login route that allows 30/hour, from limiter table (guide: at most 3/hour) (production)'
    ]


# --- Unknown limits: cannot verify ----------------------------------------------------------------


def test_unknown_limit_cannot_be_verified(rules: list[Rule]) -> None:
    found = judge(rules, route("POST", "/auth/login", "login", limit(Unknown("settings.LOGIN_LIMIT"))))
    assert messages(found) == [
        'routes["POST /auth/login"] is a login route; cannot verify its rate limit: decorator @limiter.limit is '
        "<unknown: settings.LOGIN_LIMIT> (guide: at most 3/hour) (production)"
    ]
    # The operator marks the reason (CannotVerify): reported as an Unknown value is, at unknown_severity.
    assert found[0].severity == "low"


def test_unknown_limit_beside_a_compliant_one_passes_and_beside_a_loose_one_cannot_be_verified(rules: list[Rule]) -> None:
    assert judge(rules, route("POST", "/auth/login", "login", limit(Unknown("get_limit()")), limit("2/hour"))) == []
    found = judge(rules, route("POST", "/auth/login", "login", limit("10/minute"), limit(Unknown("get_limit()"), "limiter default_limits")))
    assert messages(found) == [
        'routes["POST /auth/login"] is a login route; cannot verify its rate limit: limiter default_limits is '
        "<unknown: get_limit()> (guide: at most 3/hour) (production)"
    ]


def test_operator_marks_unknown_as_cannot_verify() -> None:
    from velro_policy.judge.operators import Context

    param = _param()
    ctx = Context('routes["POST /login"]', "", "production", {})
    reason = route_rate_limit(route("POST", "/login", "login", limit(Unknown("x"))), param, ctx)
    assert isinstance(reason, CannotVerify)
    plain = route_rate_limit(route("POST", "/login", "login"), param, ctx)
    assert plain is not None and not isinstance(plain, CannotVerify)


def test_malformed_limit_is_a_finding(rules: list[Rule]) -> None:
    found = judge(rules, route("POST", "/auth/login", "login", limit("lots")))
    assert messages(found) == [
        "routes[\"POST /auth/login\"] is a login route whose rate limit 'lots', from decorator @limiter.limit, "
        "is not a valid rate (guide: at most 3/hour) (production)"
    ]


def test_limits_of_a_token_route_are_shown(rules: list[Rule]) -> None:
    # routes["POST /token"] reads like a secret's name; its limit is not a secret.
    found = judge(rules, route("POST", "/token", "login_for_access_token", limit("lots")))
    assert messages(found) == [
        "routes[\"POST /token\"] is a login route whose rate limit 'lots', from decorator @limiter.limit, "
        "is not a valid rate (guide: at most 3/hour) (production)"
    ]


def test_a_value_that_is_not_a_route_cannot_be_evaluated(rules: list[Rule]) -> None:
    doc = Document("app.py", "app", (Entry('routes["POST /login"]', {"path": "/login"}, Location("app.py", 1, 1), ("routes", "POST /login")),))
    problems: list = []
    assert judge_documents([doc], rules, {}, problems=problems) == []
    assert len(problems) == 1 and "could not be evaluated" in problems[0].message


# --- the vocabulary ------------------------------------------------------------------------------


def _param() -> dict:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(POLICY.read_text())
    return data["rules"][0]["check"]["route_rate_limit"]


def kind_of(method: str, path: str, handler: str = "handler") -> str | None:
    kind = classify(method, path, handler, compile_param(_param()))
    return kind.name if kind else None


def test_words() -> None:
    assert path_words("/api/v1/auth/sign-in") == ("api", "v1", "auth", "sign", "in")
    assert path_words("/users/{user_id}/password_reset") == ("users", "password", "reset")
    assert words("loginForAccessToken") == ("login", "for", "access", "token")
    assert words("HTTPLogin") == ("http", "login")


@pytest.mark.parametrize(("method", "path", "handler", "kind"), [
    # login
    ("POST", "/auth/login", "h", "login"),
    ("POST", "/login/access-token", "login_access_token", "login"),
    ("POST", "/api/v1/auth/sign-in", "h", "login"),
    ("POST", "/account/signin", "h", "login"),
    ("POST", "/users/sign_in", "h", "login"),
    ("POST", "/auth/token", "h", "login"),
    ("POST", "/oauth/token", "h", "login"),
    ("POST", "/token", "login_for_access_token", "login"),
    ("POST", "/api/auth", "h", "login"),
    ("POST", "/authenticate", "h", "login"),
    ("POST", "/api/v2/session", "h", "login"),
    ("POST", "/auth/jwt/login", "h", "login"),
    ("POST", "/x", "signIn", "login"),
    ("GET", "/token", "login_for_access_token", None),  # token: POST only
    ("GET", "/auth", "h", None),  # auth alone with GET
    ("POST", "/auth/me", "h", None),
    ("POST", "/auth/logout", "h", None),
    ("POST", "/auth/token/refresh", "h", None),
    ("POST", "/login/test-token", "test_token", None),
    ("POST", "/chat/sessions", "h", None),
    ("DELETE", "/auth/session", "h", None),
    # register
    ("POST", "/auth/register", "h", "register"),
    ("POST", "/signup", "h", "register"),
    ("POST", "/auth/sign-up", "h", "register"),
    ("PUT", "/users/sign_up", "h", "register"),
    ("POST", "/create-account", "h", "register"),
    ("POST", "/x", "create_account", "register"),
    ("POST", "/webhooks/register", "h", None),
    # a prefix the model could not fold is shown as its source text: it is no path parameter, so a
    # sign-up under it is still top level (and its words are unknown, so they decide nothing)
    ("POST", "{settings.API_PREFIX}/auth/register", "h", "register"),
    ("POST", "{get_prefix()}/signup", "h", "register"),
    ("POST", "/orgs/{org_id}/register", "h", None),
    ("POST", "/orgs/{org_id:int}/register", "h", None),
    ("POST", "{settings.API_PREFIX}/token", "h", "login"),
    ("GET", "/auth/register", "register_form", None),
    # password reset
    ("POST", "/auth/forgot-password", "h", "password_reset"),
    ("POST", "/reset-password/", "reset_password", "password_reset"),
    ("POST", "/password-reset", "h", "password_reset"),
    ("POST", "/auth/password/reset", "h", "password_reset"),
    ("POST", "/password-recovery/{email}", "recover_password", "password_reset"),
    ("POST", "/auth/recover", "h", "password_reset"),
    ("POST", "/login/forgot-password", "h", "password_reset"),  # equal limits: the first written
    ("POST", "/rate-limit/reset-time", "reset_time", None),
    ("POST", "/limits/reset", "reset_at", None),
    ("POST", "/reset", "reset_limits", None),
    ("POST", "/backups/recover", "h", None),
    ("GET", "/auth/reset-password", "reset_password_form", None),
    # generation
    ("POST", "/generations", "h", "generation"),
    ("POST", "/api/v1/projects/{pid}/generations", "h", "generation"),
    ("POST", "/generations/create", "h", "generation"),
    ("POST", "/images/generate", "h", "generation"),
    ("POST", "/v1/images/generations", "h", "generation"),
    ("POST", "/ai/video", "generate_video", "generation"),
    ("POST", "/text-to-image", "h", "generation"),
    ("POST", "/api/v1/generations/batch", "h", "generation"),
    ("POST", "/api/v1/generations/{generation_id}/retry", "h", "generation"),
    ("POST", "/v1/chat/completions", "h", "generation"),
    ("POST", "/generations/{id}/cancel", "cancel_generation", None),
    ("GET", "/generations/{id}", "get_generation", None),
    ("POST", "/generations/{id}/favorite", "favorite_generation", None),
    ("POST", "/keys/generate", "h", None),
    ("POST", "/reports/generate", "h", None),
    # a route of several kinds gets the strictest limit: registration (2/hour) over login (3/hour)
    ("POST", "/register-and-login", "h", "register"),
    # methods: '*' / ANY has them all
    ("*", "/auth/login", "h", "login"),
    ("GET,POST", "/auth/login", "h", "login"),
    ("?", "/auth/login", "h", "login"),  # methods the model could not read
    ("WEBSOCKET", "/ws/generate", "h", None),
])
def test_vocabulary(method: str, path: str, handler: str, kind: str | None) -> None:
    assert kind_of(method, path, handler) == kind


# --- the shipped pack ----------------------------------------------------------------------------


def test_policies_list_and_explain_show_the_rule() -> None:
    listed = cli(["policies", "list"])
    assert listed.returncode == 0 and RULE in listed.stdout and " app " in listed.stdout
    explained = cli(["explain", RULE])
    assert explained.returncode == 0, explained.stderr
    assert "target: app" in explained.stdout and "route_rate_limit" in explained.stdout


def test_pack_rules_include_the_route_rule() -> None:
    from velro_policy.policy import pack

    rules = [r for r in pack.load(None, [], use_cache=False).rules if str(r.id) == RULE]
    assert len(rules) == 1 and rules[0].target == "app"
    found = judge_documents([app_doc(route("POST", "/auth/login", "login"))], rules, {})
    assert [f.rule_id for f in found] == [RULE]


def test_a_bad_parameter_is_a_policy_error(tmp_path: Path) -> None:
    bad = POLICY.read_text().replace("limit: 3/hour", "limit: often", 1)
    (tmp_path / "bad.yaml").write_text(bad)
    res = cli(["check", "--policy", str(tmp_path), str(tmp_path)])
    assert res.returncode == 2, res.stdout + res.stderr
    assert "bad.yaml" in res.stderr and "Traceback" not in res.stderr
