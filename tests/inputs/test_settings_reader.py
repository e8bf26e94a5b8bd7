"""The ast reader of settings modules (pyread / pyfold), on its own."""
from __future__ import annotations

import textwrap

import pytest

from velro_policy.inputs.pyread import read_module
from velro_policy.model import Unknown


def read(src: str):
    return read_module(textwrap.dedent(src), "mod.py")


def values(src: str) -> dict[str, object]:
    return {b.display: b.lit.value for b in read(src).bindings}


def fields(src: str) -> dict[str, tuple]:
    return {f.name: (f.env, None if f.default is None else f.default.value, f.required) for f in read(src).fields}


# -- pydantic-settings fields ------------------------------------------------

SETTINGS = '''
from typing import ClassVar, Optional
from pydantic import AliasChoices, AliasPath, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VELRO_", env_file=".env")
    debug: bool = True
    port: int = Field(8000)
    host: str = Field(default="0.0.0.0", description="bind address")
    jwt_secret: str
    supabase_url: str = Field(...)
    api_key: str = ...
    sentry_dsn: Optional[str] = None
    origins: list[str] = Field(default_factory=lambda: ["https://app.velro.ai"])
    admins: list[str] = Field(default_factory=list)
    factory: dict = Field(default_factory=make_defaults)
    mode: bool = Field(default=False, validation_alias="DEVELOPMENT_MODE")
    choices: bool = Field(False, validation_alias=AliasChoices("EMERGENCY_AUTH_MODE", "EMERGENCY_MODE"))
    legacy: str = Field("x", env="LEGACY_NAME")
    legacy_many: str = Field("y", env=["FIRST_NAME", "SECOND_NAME"])
    aliased: str = Field("z", alias="ALIASED")
    nested: str = Field("n", validation_alias=AliasPath("outer", "inner"))
    VERSION: ClassVar[str] = "1"
    _private: int = 3
'''


def test_field_env_names_defaults_and_required() -> None:
    got = fields(SETTINGS)
    assert got["debug"] == (("VELRO_DEBUG",), True, False)
    assert got["port"] == (("VELRO_PORT",), 8000, False)
    assert got["host"] == (("VELRO_HOST",), "0.0.0.0", False)
    assert got["jwt_secret"] == (("VELRO_JWT_SECRET",), None, True)
    assert got["supabase_url"][2] is True and got["api_key"][2] is True
    assert got["sentry_dsn"] == (("VELRO_SENTRY_DSN",), None, False)
    assert got["origins"][1] == ["https://app.velro.ai"]
    assert got["admins"][1] == []
    assert isinstance(got["factory"][1], Unknown)
    # aliases are env names as written, without the prefix
    assert got["mode"][0] == ("DEVELOPMENT_MODE",)
    assert got["choices"][0] == ("EMERGENCY_AUTH_MODE", "EMERGENCY_MODE")
    assert got["legacy"][0] == ("LEGACY_NAME",)
    assert got["legacy_many"][0] == ("FIRST_NAME", "SECOND_NAME")
    assert got["aliased"][0] == ("ALIASED",)
    assert got["nested"][0] == ("VELRO_NESTED",)
    assert "VERSION" not in got and "_private" not in got


def test_field_bindings_are_addressable_by_env_name_and_class_field() -> None:
    b = {x.display: x for x in read(SETTINGS).bindings}
    assert b["VELRO_DEBUG"].aliases == (("Settings", "debug"),)
    assert b["EMERGENCY_AUTH_MODE"].aliases == (("Settings", "choices"), ("EMERGENCY_MODE",))
    assert b["VELRO_DEBUG"].env == ("VELRO_DEBUG",)
    assert "VELRO_JWT_SECRET" not in b  # required: no default to judge
    assert b["VELRO_DEBUG"].lit.loc[1:] == (8, 19)


def test_prefix_from_class_config_and_inherited_by_subclasses() -> None:
    got = fields('''
        from pydantic import BaseSettings
        class Base(BaseSettings):
            debug: bool = False
            class Config:
                env_prefix = "APP_"
        class Prod(Base):
            extra: int = 1
        class Other(Prod):
            model_config = {"env_prefix": "OTHER_"}
            more: int = 2
        class Plain:
            not_a_field: bool = True
    ''')
    assert got == {"debug": (("APP_DEBUG",), False, False), "extra": (("APP_EXTRA",), 1, False), "more": (("OTHER_MORE",), 2, False)}


def test_module_prefix_and_imported_base() -> None:
    got = fields('''
        import pydantic_settings
        class S(pydantic_settings.BaseSettings):
            model_config = pydantic_settings.SettingsConfigDict(env_prefix="X_")
            a: int = 1
    ''')
    assert got == {"a": (("X_A",), 1, False)}


# -- constants and folding -----------------------------------------------------

def test_constant_folding() -> None:
    got = values('''
        ONE_YEAR = 60 * 60 * 24 * 365
        HSTS = f"max-age={ONE_YEAR}; includeSubDomains; preload"
        CSP = "; ".join(["default-src 'self'", "script-src 'self'"])
        FMT = "max-age={}".format(ONE_YEAR)
        PCT = "max-age=%d" % ONE_YEAR
        BASE = ["https://a.example"]
        ORIGINS = [*BASE, "https://b.example"] + ["https://c.example"]
        HEADERS = {**{"X-Frame-Options": "DENY"}, "X-Content-Type-Options": "nosniff"}
        MERGED = dict(HEADERS, Extra="1")
        NEG = -5
        TUPLE = (3, 60 * 60)
        FLAG = "TRUE".lower() in ("true", "1")
        PICK = "a" if ONE_YEAR > 10 else "b"
        SLICE = HEADERS["X-Frame-Options"]
    ''')
    assert got["ONE_YEAR"] == 31536000
    assert got["HSTS"] == "max-age=31536000; includeSubDomains; preload"
    assert got["CSP"] == "default-src 'self'; script-src 'self'"
    assert got["FMT"] == got["PCT"] == "max-age=31536000"
    assert got["ORIGINS"] == ["https://a.example", "https://b.example", "https://c.example"]
    assert got["HEADERS"] == {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}
    assert got["MERGED"] == {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Extra": "1"}
    assert (got["NEG"], got["TUPLE"], got["FLAG"], got["PICK"], got["SLICE"]) == (-5, (3, 3600), True, "a", "DENY")


@pytest.mark.parametrize("expr", [
    "compute()", "settings.DEBUG", "IMPORTED", "'x' * 10**9", "2 ** 10000", "'%*d' % (10**9, 1)",
    "'{0.__class__}'.format(1)", "f'{1:100000000}'", "[compute(), 'a']", "{'a': 1, **other}",
])
def test_non_constants_are_unknown_never_guessed(expr: str) -> None:
    got = values(f"from x import IMPORTED\nV = {expr}\n")
    assert isinstance(got["V"], Unknown), got["V"]


def test_env_reads_fold_to_the_default_and_record_the_variable() -> None:
    r = read('''
        import os
        from os import getenv
        from decouple import config
        from environs import Env
        env = Env()
        DEBUG = os.getenv("DEBUG", "False").lower() == "true"
        MOCK = os.environ.get("ENABLE_MOCK_AUTHENTICATION", "1") == "1"
        PLAIN = getenv("LOG_LEVEL", "INFO")
        NOTHING = os.getenv("UNSET_THING")
        ORIGINS = os.getenv("CORS_ORIGINS", "https://a,https://b").split(",")
        SECRET = os.environ["JWT_SECRET"]
        DECOUPLE = config("VERBOSE_ERROR_MESSAGES", default="true", cast=bool)
        REQUIRED = config("SUPABASE_URL")
        ENVIRONS = env.bool("ENABLE_DEBUG_ENDPOINTS", False)
        DERIVED = os.getenv("SUPABASE_HOST", "db") + ":5432"
    ''')
    b = {x.display: x for x in r.bindings}
    assert (b["DEBUG"].lit.value, b["DEBUG"].env) == (False, ("DEBUG",))
    assert (b["MOCK"].lit.value, b["MOCK"].env) == (True, ("ENABLE_MOCK_AUTHENTICATION",))
    assert b["MOCK"].aliases == (("ENABLE_MOCK_AUTHENTICATION",),)  # addressable by the variable it reads
    assert b["PLAIN"].lit.value == "INFO"
    assert b["NOTHING"].lit.value is None  # unset -> None, and the source skips it
    assert b["ORIGINS"].lit.value == ["https://a", "https://b"]
    assert "SECRET" not in b and "REQUIRED" not in b  # required: the app cannot start without them
    assert b["DECOUPLE"].lit.value is True
    assert b["ENVIRONS"].lit.value is False and b["ENVIRONS"].env == ("ENABLE_DEBUG_ENDPOINTS",)
    assert b["DERIVED"].lit.value == "db:5432"


def test_conditional_reassignment_is_unknown_but_sequential_is_last() -> None:
    got = values('''
        import os
        if os.getenv("ENV") == "qa":
            ORIGINS = ["https://app.velro.ai"]
        else:
            ORIGINS = ["http://localhost:3000"]
        LEVEL = "DEBUG"
        LEVEL = "INFO"
        if True:
            ONLY_ONCE = {"X-Frame-Options": "DENY"}
        if __name__ == "__main__":
            MAIN_ONLY = {"a": 1}
    ''')
    assert isinstance(got["ORIGINS"], Unknown) and "depends on a condition" in got["ORIGINS"].why
    assert got["LEVEL"] == "INFO"
    assert got["ONLY_ONCE"] == {"X-Frame-Options": "DENY"}
    assert "MAIN_ONLY" not in got


def test_containers_in_functions_methods_and_self_attributes() -> None:
    r = read('''
        def get_security_headers():
            return {"X-Frame-Options": "DENY"}

        class Middleware:
            LIMITS = {"login": "3/hour"}
            def __init__(self):
                self.security_headers = {"X-Content-Type-Options": "nosniff"}
                count = 5
            async def dispatch(self, request):
                headers = {"Referrer-Policy": "no-referrer"}
                if request:
                    return ["a", "b"]
                return None
    ''')
    got = {(x.parts, x.kind): x.lit.value for x in r.bindings}
    assert got[(("get_security_headers",), "return")] == {"X-Frame-Options": "DENY"}
    assert got[(("Middleware", "LIMITS"), "attribute")] == {"login": "3/hour"}
    assert got[(("Middleware", "security_headers"), "attribute")] == {"X-Content-Type-Options": "nosniff"}
    assert got[(("Middleware", "dispatch", "headers"), "local")] == {"Referrer-Policy": "no-referrer"}
    assert got[(("Middleware", "dispatch"), "return")] == ["a", "b"]
    assert not any(p[-1] == "count" for p, _ in got)  # scalars inside functions are not settings


def test_members_keep_their_own_locations() -> None:
    r = read('''
        HEADERS = {
            "X-Frame-Options": "DENY",
            "Referrer-Policy":
                "no-referrer",
        }
        # é and 𝄞 before a value: columns count characters, not bytes
        U = {"é𝄞": "x", "k": "v"}
    ''')
    b = {x.display: x for x in r.bindings}
    members = dict(b["HEADERS"].lit.items)
    assert members["X-Frame-Options"].loc[1:] == (3, 5)
    assert members["Referrer-Policy"].loc[1:] == (4, 5)  # the key's line: where the entry starts
    assert dict(b["U"].lit.items)["k"].loc[1:] == (8, 17)  # bytes would say 20


def test_syntax_errors_are_problems_with_line() -> None:
    r = read_module('DEBUG = True\nprint "python 2"\n', "old.py")
    assert r.bindings == [] and len(r.problems) == 1
    p = r.problems[0]
    assert (p.path, p.line) == ("old.py", 2) and "not valid Python 3" in p.message


@pytest.mark.parametrize("depth", [150, 5000])
def test_deep_nesting_is_a_problem_not_a_crash(depth: int) -> None:
    r = read_module("X = " + "[" * depth + "]" * depth + "\n", "deep.py")
    assert r.bindings == [] and len(r.problems) == 1
    assert "nest" in r.problems[0].message or "Python 3" in r.problems[0].message


def test_null_bytes_are_a_problem() -> None:
    r = read_module("X = 1\n\0\n", "nul.py")
    assert r.problems and r.bindings == []


def test_unknown_reasons_never_carry_string_literals() -> None:
    got = values('''
        import base64, os
        JWT_SECRET = base64.b64decode("c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==").decode()
        TOKEN = make(os.getenv("API_TOKEN"), "hunter2-literal")
    ''')
    assert "c2VjcmV0" not in got["JWT_SECRET"].why and "…" in got["JWT_SECRET"].why
    assert "hunter2" not in got["TOKEN"].why and "API_TOKEN" in got["TOKEN"].why


def test_annotated_fields() -> None:
    got = fields('''
        from typing import Annotated
        from pydantic import Field
        from pydantic_settings import BaseSettings
        class S(BaseSettings):
            debug: Annotated[bool, Field(validation_alias="DEBUG")] = True
            mode: Annotated[str, "doc", Field(default="x", alias="APP_MODE")]
            plain: Annotated[int, "unit: seconds"] = 5
            needed: Annotated[str, Field(min_length=8)]
    ''')
    assert got == {"debug": (("DEBUG",), True, False), "mode": (("APP_MODE",), "x", False),
                   "plain": (("PLAIN",), 5, False), "needed": (("NEEDED",), None, True)}


def test_later_changes_to_dicts_and_lists_are_followed() -> None:
    r = read('''
        import os
        SECURITY_HEADERS = {"X-Frame-Options": "DENY"}
        SECURITY_HEADERS["Strict-Transport-Security"] = "max-age=31536000"
        SECURITY_HEADERS.update({"Referrer-Policy": "no-referrer"}, **{"X-XSS-Protection": "1; mode=block"})
        SECURITY_HEADERS.update(Extra="x")
        ORIGINS = ["https://a"]
        ORIGINS.append("https://b")
        ORIGINS += ["https://c"]
        PROD_ORIGINS = list(ORIGINS)
        if os.getenv("DEBUG"):
            ORIGINS.append("http://localhost:3000")
            SECURITY_HEADERS["X-Frame-Options"] = "SAMEORIGIN"
            SECURITY_HEADERS["X-Debug"] = "1"

        class Middleware:
            def __init__(self):
                self.headers = {"X-Content-Type-Options": "nosniff"}
                self.headers["X-Frame-Options"] = "DENY"
    ''')
    b = {x.display: x for x in r.bindings}
    headers = b["SECURITY_HEADERS"].lit
    assert headers.value["Strict-Transport-Security"] == "max-age=31536000"
    assert headers.value["X-XSS-Protection"] == "1; mode=block" and headers.value["Extra"] == "x"
    assert isinstance(headers.value["X-Frame-Options"], Unknown)  # changed under a condition
    assert headers.value["X-Debug"] == "1"  # a key added under a condition: its value when present
    lines = {k: m.loc.line for k, m in headers.items}
    assert (lines["Strict-Transport-Security"], lines["Referrer-Policy"], lines["Extra"]) == (4, 5, 6)
    assert b["PROD_ORIGINS"].lit.value == ["https://a", "https://b", "https://c"]
    assert isinstance(b["ORIGINS"].lit.value, Unknown)  # extended under a condition
    assert b["Middleware.headers"].lit.value == {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def production_view(src: str) -> dict[str, object]:
    """The module's values as production runs it: bindings of never-production branches left out."""
    return {b.display: b.lit.value for b in read(src).bindings if not b.outside_production}


@pytest.mark.parametrize("condition, body_outside", [
    ("not settings.PRODUCTION", True),
    ("settings.PRODUCTION", False),
    ("not is_production()", True),
    ("settings.DEBUG", True),
    ("IS_LOCAL", True),
    ('ENV == "development"', True),
    ('ENV != "production"', True),
    ('os.getenv("ENVIRONMENT") == "staging"', True),
    ('ENV in ("dev", "test")', True),
    ('ENV not in ("production", "staging")', True),
    ('settings.DEBUG or ENV == "local"', True),
    ('not settings.PRODUCTION and FEATURE', True),
])
def test_a_value_assigned_only_where_production_never_runs_is_not_a_production_value(condition: str, body_outside: bool) -> None:
    """mealie's shape: `if not settings.PRODUCTION: allowed_origins = ["http://localhost:3000"]`
    was judged as the production value (a false localhost/https finding)."""
    src = f'''
        import os
        if {condition}:
            ORIGINS = ["http://localhost:3000"]
    '''
    assert ("ORIGINS" in production_view(src)) is not body_outside
    assert values(src)["ORIGINS"] == ["http://localhost:3000"]  # kept, flagged: a development document still sees it


@pytest.mark.parametrize("condition", [
    'ENV == "production"', "settings.PRODUCTION", 'ENV in ("production", "staging")', 'ENV != "development"',
])
def test_the_branch_production_runs_is_the_value(condition: str) -> None:
    got = production_view(f'''
        if {condition}:
            ORIGINS = ["https://app.velro.ai"]
        else:
            ORIGINS = ["http://localhost:3000"]
    ''')
    assert got["ORIGINS"] == ["https://app.velro.ai"]


@pytest.mark.parametrize("condition", ['ENV == "qa"', "settings.FEATURE_X", 'ENV', 'ENV == "dev" or FEATURE'])
def test_conditions_that_do_not_say_production_stay_unknown_or_kept(condition: str) -> None:
    """Nothing is dropped on a guess: an alias the table does not know, a flag, a bare ENV."""
    src = f'''
        if {condition}:
            ORIGINS = ["https://app.velro.ai"]
        else:
            ORIGINS = ["http://localhost:3000"]
        if {condition}:
            HOSTS = ["http://localhost:3000"]
    '''
    assert not any(b.outside_production for b in read(src).bindings)
