"""Rate limits in every shape they come in, normalised to requests per second.

Accepted: ``"3/hour"``, ``"100/minute"``, ``"10 per hour"``, ``"5/h"``,
``"5/15minutes"``, ``"10/2 hours"``, ``"3 per 1 hour"``, limits-library lists
(``"10/minute;100/hour"``, every part counted), ``(count, window_seconds)``
tuples, per-tier dicts (``{"free": "3/hour", "pro": "10/hour"}``) and dicts such as ``{"requests": 5, "window": 300}`` or
``{"limit": 10, "period": "hour"}``.
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

_RATE = re.compile(
    r"^\s*(?P<count>\d+)\s*(?:/|per|every|\s)\s*(?P<mult>\d+)?\s*(?P<unit>[a-zA-Z]+)\s*$",
    re.IGNORECASE,
)

_COUNT_KEYS = ("requests", "limit", "count", "max_requests", "calls", "max", "times", "rate", "max_calls", "attempts")
_WINDOW_KEYS = ("window", "period", "per", "window_seconds", "seconds", "interval", "duration", "time_window", "window_size")


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
        return f"{self.count}/{self.seconds} seconds"


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


def parse_one(text: str) -> Rate:
    m = _RATE.match(text)
    if not m or m.group("unit").lower() not in UNIT_SECONDS:
        raise RateError(f"{text!r} is not a rate such as '3/hour' or '100 per minute'")
    count = int(m.group("count"))
    seconds = int(m.group("mult") or 1) * UNIT_SECONDS[m.group("unit").lower()]
    if seconds <= 0:
        raise RateError(f"{text!r} has an empty window")
    return Rate(count, seconds)


def parse_rates(value: object) -> list[Rate]:
    """Every rate a value declares.  Raises ``RateError`` for a malformed one."""
    if isinstance(value, str):
        parts = [p for p in re.split(r"[;,]", value) if p.strip()]
        if not parts:
            raise RateError("empty rate")
        return [parse_one(p) for p in parts]
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in value
    ):
        count, window = value
        if isinstance(count, str):
            if not count.strip().isdigit():
                return [r for item in value for r in parse_rates(item)]
            count = int(count)
        return [Rate(int(count), _window(window))]
    if isinstance(value, dict):
        lowered = {str(k).lower(): v for k, v in value.items()}
        count = next((lowered[k] for k in _COUNT_KEYS if k in lowered), None)
        window = next((lowered[k] for k in _WINDOW_KEYS if k in lowered), None)
        if isinstance(count, str) and window is None:
            return parse_rates(count)
        if isinstance(count, (int, float)) and not isinstance(count, bool) and window is not None:
            return [Rate(int(count), _window(window))]
        if count is None and window is None and value:
            # A per-tier table ({"free": "3/hour", "pro": "10/hour"}): every tier counts.
            return [r for tier in value.values() for r in parse_rates(tier)]
        raise RateError(f"{value!r} has no recognisable count and window")
    raise RateError(f"{value!r} is not a rate")


def loosest(value: object) -> Rate:
    """The most permissive of the rates a value declares (what an attacker gets)."""
    return max(parse_rates(value), key=lambda r: r.per_second)
