"""Rate limits in every shape they come in, normalised to requests per window.

**Strings** follow the grammar of the ``limits`` library, which slowapi
(and flask-limiter) apply at run time (``limits.util.parse_many``)::

    [count] [/|per] [n] [second|minute|hour|day|month|year][s]

case-insensitive, spaces optional around each token (``"10 per hour"``,
``"10/hour"``, ``"5/5minutes"``, ``"10/2 hours"``), several limits joined by
``;``, ``,`` or ``|`` (``"3/hour;10/day"``, ``"100/day, 500/7days"``).  Like
the library, a month is 30 days and a year 360 days, and a multiple of 0 is
read as 1.  Anything else is what the library rejects (``"2/h"``,
``"10/min"``, ``"5 per week"``, ``"3 hour"``, ``"3/hour;"``): slowapi logs
"Failed to configure throttling" and applies **no** limit, so it is a
``RateError`` here, never a guess.

**Several limits in one string** (or a list of them, as slowapi's
``default_limits`` or stacked decorators) all apply: a request must pass
every one.  Over any long stretch the route therefore gets no more than its
strictest part allows, and a group is judged by that part (``"10/minute;
3/hour"`` is 3/hour).  Alternatives (per-tier tables: ``{"free": ...,
"pro": ...}``) are the opposite: an attacker picks the loosest tier.

Other shapes (settings and middleware tables): ``(count, window_seconds)``
tuples, ``{"requests": 5, "window": 300}``, ``{"limit": 10, "period":
"hour"}``, ``{"times": 5, "seconds": 60}`` (fastapi-limiter), unit-bearing
keys (``{"requests_per_minute": 150}``, ``{"per_minute": 6}``, ``{"max_per_hour":
25}``) and bare counts whose *name* carries the unit
(``GENERATION_RATE_LIMIT_PER_HOUR = 25``: ``rates_named``).  Windows in such
dicts may be seconds or words (``"hour"``, ``"1h"``, ``"15 minutes"``).
"""
from __future__ import annotations

import re
from typing import NamedTuple

UNIT_SECONDS: dict[str, int] = {}
for _names, _secs in (
    (("s", "sec", "secs", "second", "seconds"), 1),
    (("m", "min", "mins", "minute", "minutes"), 60),
    (("h", "hr", "hrs", "hour", "hours"), 3600),
    (("d", "day", "days"), 86400),
    (("w", "week", "weeks"), 604800),
    (("mo", "month", "months"), 2592000),
    (("y", "year", "years"), 31536000),
):
    for _n in _names:
        UNIT_SECONDS[_n] = _secs

# The limits library's granularities (limits/limits.py TIME_TYPES).
LIMITS_GRANULARITY: dict[str, int] = {
    "second": 1, "minute": 60, "hour": 3600, "day": 86400, "month": 86400 * 30, "year": 86400 * 30 * 12,
}

# limits/util.py, verbatim: SINGLE_EXPR, SEPARATORS and EXPR (its "(:?" is a
# group starting with an optional colon, so "1/hour:;2/day" is accepted too).
_SINGLE = r"""
    \s*([0-9]+)
    \s*(/|\s*per\s*)
    \s*([0-9]+)?
    \s*([a-z]+)
    \s*
    """
_SINGLE_RE = re.compile(_SINGLE, re.IGNORECASE | re.VERBOSE)
_SEPARATORS = re.compile(r"[,;|]{1}")
_EXPR = re.compile(rf"^{_SINGLE}(:?{_SEPARATORS.pattern}{_SINGLE})*$", re.IGNORECASE | re.VERBOSE)

_COUNT_KEYS = ("requests", "limit", "count", "max_requests", "calls", "max", "times", "rate", "max_calls", "attempts",
               "max_attempts", "requests_limit", "request_limit", "num_requests", "amount")
_WINDOW_KEYS = ("window", "period", "per", "window_seconds", "seconds", "interval", "duration", "time_window", "window_size",
                "period_seconds", "window_sec", "window_secs", "timeframe", "expire", "expires")
# A count whose unit is in its name: requests_per_minute, per_hour, max_per_hour,
# LOGIN_RATE_LIMIT_PER_HOUR, RATE_PER_MINUTE, ..._PER_DAY.  Quotas per month/year
# (generations_per_month) are not rate limits.
_NAMED_UNIT = re.compile(r"(?:^|[_\W])per_?(second|sec|minute|min|hour|hr|day)s?$", re.IGNORECASE)
_NAMED_SECONDS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "day": 86400}


_DURATION_KEYS = {"milliseconds": 0.001, "seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def is_rate_word(name: str) -> bool:
    """A keyword or key that makes a mapping a rate limit (``per_minute``,
    ``times``, ``requests``, ``window``...)."""
    low = name.lower()
    return low in _COUNT_KEYS or low in _WINDOW_KEYS or low in _DURATION_KEYS or named_unit(low) is not None


class Rate(NamedTuple):
    """``count`` requests per ``seconds``."""

    count: int  # type: ignore[assignment]  # a NamedTuple field named count shadows tuple.count on purpose
    seconds: int

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    def __str__(self) -> str:
        for unit, secs in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if self.seconds % secs == 0:
                mult = self.seconds // secs
                return f"{self.count}/{unit}" if mult == 1 else f"{self.count}/{mult} {unit}s"
        return f"{self.count}/second" if self.seconds == 1 else f"{self.count}/{self.seconds} seconds"


class RateError(ValueError):
    """A value that is meant to be a rate but cannot be read as one."""


def _window(value: object) -> int:
    if isinstance(value, bool):
        raise RateError(f"window {value!r} is not a duration")
    if isinstance(value, (int, float)) and value >= 1:  # (5, 0.5) would be an empty window
        return int(value)
    if isinstance(value, str):
        text = value.strip().lower()
        m = re.fullmatch(r"(\d+)?\s*([a-z]+)", text)
        if m and m.group(2) in UNIT_SECONDS:
            return int(m.group(1) or 1) * UNIT_SECONDS[m.group(2)]
        if text.isdigit() and int(text) > 0:
            return int(text)
    raise RateError(f"window {value!r} is not a duration")


def _granularity(word: str) -> int | None:
    word = word.lower()
    for name, secs in LIMITS_GRANULARITY.items():
        if word in (name, name + "s"):
            return secs
    return None


def parse_many(text: str) -> list[Rate]:
    """A limits-library rate string (one limit or several joined by ``;`` ``,``
    ``|``), exactly as ``limits.parse_many`` reads it.  Raises ``RateError``
    for what the library rejects."""
    if not isinstance(text, str) or not _EXPR.match(text):
        raise RateError(f"{text!r} is not a rate the limits library accepts (write it like '3/hour' or '100 per minute')")
    found = []
    for part in _SEPARATORS.split(text):
        m = _SINGLE_RE.match(part)
        if not m:  # pragma: no cover - _EXPR matched, so every part does
            raise RateError(f"{text!r} is not a rate")
        amount, _, multiples, unit = m.groups()
        secs = _granularity(unit)
        if secs is None:
            raise RateError(f"{text!r}: '{unit}' is not a unit the limits library knows (second, minute, hour, day, month, year)")
        found.append(Rate(int(amount), (int(multiples or 0) or 1) * secs))  # the library reads a multiple of 0 as 1
    return found


def parse_one(text: str) -> Rate:
    """One limits-library rate (``"3/hour"``, ``"10 per 2 hours"``)."""
    found = parse_many(text)
    if len(found) != 1:
        raise RateError(f"{text!r} is several rates, not one")
    return found[0]


_PARAM = re.compile(r"^\s*(\d+)\s*(?:/|per|\s)\s*(\d+)?\s*([a-zA-Z]+)\s*$", re.IGNORECASE)


def parse_limit_param(text: str) -> Rate:
    """A policy's limit (``rate_at_most: 3/hour``): the limits grammar, and for
    policies written before it the short units the schema allows (``3/h``,
    ``100/min``).  The *values* judged are held to the library's grammar."""
    try:
        return parse_one(text)
    except RateError:
        m = _PARAM.match(text)
        if not m or m.group(3).lower() not in UNIT_SECONDS:
            raise
        return Rate(int(m.group(1)), int(m.group(2) or 1) * UNIT_SECONDS[m.group(3).lower()])


def strictest(rates: list[Rate]) -> Rate:
    """The effective rate of limits that all apply (a request must pass each):
    the slowest of them."""
    return min(rates, key=lambda r: (r.per_second, r.seconds))


def _number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def named_unit(name: str) -> int | None:
    """Seconds of the unit a name carries at its end (``..._PER_HOUR``,
    ``requests_per_minute``), or None."""
    m = _NAMED_UNIT.search(name.strip().strip("\"'[]"))
    return _NAMED_SECONDS[m.group(1).lower()] if m else None


def _unit_keyed(value: dict[object, object]) -> list[Rate]:
    found = []
    for key, member in value.items():
        secs = named_unit(str(key))
        if secs is None:
            continue
        count = _number(member)
        if count is None:
            raise RateError(f"{key!r} is not a count")
        found.append(Rate(count, secs))
    return found


def _groups(value: object) -> list[list[Rate]]:
    """The alternatives a value declares, each a group of limits that all apply."""
    if isinstance(value, str):
        return [parse_many(value)]
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value
    ):
        count, window = value
        if isinstance(count, str):
            if not count.strip().isdigit():
                # ("3/hour", "10/day"): several limits that all apply
                return [[r for item in value for g in _groups(item) for r in g]]
            count = int(count)
        return [[Rate(int(count), _window(window))]]
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, str) for v in value):
        return [[r for item in value for r in parse_many(item)]]  # default_limits=[...]: all apply
    if isinstance(value, dict):
        lowered = {str(k).lower(): v for k, v in value.items()}
        count = next((lowered[k] for k in _COUNT_KEYS if k in lowered), None)
        window = next((lowered[k] for k in _WINDOW_KEYS if k in lowered), None)
        if isinstance(count, str) and window is None:
            return _groups(count)
        durations = [(_number(lowered[k]), secs) for k, secs in _DURATION_KEYS.items() if k in lowered]
        explicit = any(k in lowered for k in _WINDOW_KEYS if k != "seconds")
        times = _number(count)
        if times is not None and durations and not explicit and all(n is not None for n, _ in durations):
            # fastapi-limiter RateLimiter(times=5, minutes=1, seconds=30): the window is their sum
            return [[Rate(times, _window(sum((n or 0) * secs for n, secs in durations)))]]
        if isinstance(count, (int, float)) and not isinstance(count, bool) and window is not None:
            return [[Rate(int(count), _window(window))]]
        unit_keyed = _unit_keyed(value)
        if unit_keyed:
            return [unit_keyed]  # {"per_minute": 6, "per_hour": 100}: one budget, both apply
        if count is None and window is None and value:
            # A per-tier table ({"free": "3/hour", "pro": "10/hour"}): every tier counts.
            return [g for tier in value.values() for g in _groups(tier)]
        raise RateError(f"{value!r} has no recognisable count and window")
    raise RateError(f"{value!r} is not a rate")


def parse_rates(value: object) -> list[Rate]:
    """Every rate a value declares.  Raises ``RateError`` for a malformed one."""
    return [r for group in _groups(value) for r in group]


def effective_rates(value: object) -> list[Rate]:
    """One effective rate per alternative the value declares (per tier; a
    group of limits that all apply counts as its strictest part)."""
    return [strictest(group) for group in _groups(value) if group]


def loosest(value: object) -> Rate:
    """The most permissive rate a value lets through (what an attacker gets):
    the loosest alternative, each group of limits judged by its strictest part."""
    found = effective_rates(value)
    if not found:
        raise RateError(f"{value!r} declares no rate")
    return max(found, key=lambda r: r.per_second)


def rates_named(value: object, name: str) -> object:
    """A bare count whose name carries the unit (``LOGIN_RATE_LIMIT_PER_HOUR
    = 25``, ``"requests_per_minute": 150``) as a ``(count, seconds)`` pair;
    any other value unchanged."""
    secs = named_unit(name)
    count = _number(value)
    if secs is not None and count is not None:
        return (count, secs)
    return value
