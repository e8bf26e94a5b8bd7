"""The ``env`` source: env files read exactly as pydantic-settings reads them.

pydantic-settings reads env files with python-dotenv (``dotenv_values``:
``parse_stream`` then variable interpolation, last assignment wins, keys
case-insensitive by default).  ``parse_env`` gives the same keys and values
with line and column.  Plain lines (the vast majority: ``KEY=value``,
``export KEY=value``, simple quoted values, comments, ``${VAR}`` references)
are taken by one regex pass; from the first line that is anything else
(escapes, multi-line values, spaces around ``=``, unicode whitespace...),
the rest of the file goes to python-dotenv's own parser.  Files are read as
pydantic-settings opens them (UTF-8, one BOM dropped, universal newlines).
``tests/test_env_differential.py`` proves the two paths agree with
python-dotenv: same keys, values and lines.
"""
from __future__ import annotations

import os
import re
from fnmatch import fnmatch
from functools import partial
from itertools import repeat
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple

from velro_policy import environments
from velro_policy.model import Document, Entry, Location, Problem, Unknown
from velro_policy.sources._files import read_text

if TYPE_CHECKING:
    from velro_policy.sources import LoadContext

NAME = "env"
TARGET = "env"
# Basename patterns: `.env`, `.env.<anything>`, `<name>.env`.
FILE_RE = re.compile(r"^(\.env(\..+)?|.+\.env)$")

_KEY = r"[A-Za-z_][A-Za-z0-9_.-]*"
# One row per line of a text without "\r": a plain binding (groups: prefix,
# key, unquoted value, single-quoted value, double-quoted value), a blank or
# comment line (all groups empty), or any other line (last group).  Only the
# shapes where python-dotenv's result is evident are plain: an unquoted value
# without whitespace (only whitespace then "#" starts a comment after it), a
# quoted value without backslashes or newlines (a "#" right after the closing
# quote starts a comment).
_ROWS = re.compile(
    r"^(?:([ \t]*(?:export[ \t]+)?)(" + _KEY + r")="
    r"""(?:([^\s'"]\S*)|'([^'\\\n]*)'[ \t]*(?:#.*)?|"([^"\\\n]*)"[ \t]*(?:#.*)?|)(?:[ \t]+#.*)?[ \t]*"""
    r"|[ \t]*(?:#.*)?|(.+))$",
    re.MULTILINE,
)
_NEWLINE = re.compile(r"\r\n|\n|\r")


class Binding(NamedTuple):
    key: str
    value: str | None
    line: int
    col: int


def is_env_file(basename: str) -> bool:
    return bool(FILE_RE.match(basename))


def _dotenv_bindings(text: str, first_line: int, problems: list[Problem], path: str) -> list[Binding]:
    """python-dotenv's own parser for ``text`` (the rest of a file from line ``first_line``)."""
    import io

    from dotenv.parser import parse_stream

    if text.startswith("\ufeff"):
        # parse_stream drops one leading BOM; this one is content (the file's BOM is gone already).
        text = "\ufeff" + text
    out: list[Binding] = []
    for b in parse_stream(io.StringIO(text)):
        raw = b.original.string
        lead = raw[: len(raw) - len(raw.lstrip())]
        line = b.original.line + first_line - 1 + len(_NEWLINE.findall(lead))
        if b.error:
            problems.append(Problem(path, line, 1, "cannot be parsed as KEY=value (python-dotenv skips it, so the app never sees it); fix the line: quote values that hold spaces, quotes or '#'"))
            continue
        if b.key is None:
            continue
        col = len(_NEWLINE.split(lead)[-1]) + 1
        stripped = raw.lstrip()
        if stripped.startswith("export"):
            m = re.match(r"export[^\S\r\n]+", stripped)
            if m:
                col += m.end()
        out.append(Binding(b.key, b.value, line, col))
    return out


def _line_offset(text: str, line: int) -> int:
    """Offset of the start of 1-based ``line`` (python-dotenv's newlines)."""
    pos = 0
    for _ in range(line - 1):
        m = _NEWLINE.search(text, pos)
        if m is None:
            return len(text)
        pos = m.end()
    return pos


def _scan(text: str, path: str, bom: bool) -> tuple[list[tuple[str, str | None, int, int]], list[Problem]]:
    """(key, value, line, col) per binding, as plain tuples (see ``parse_bindings``)."""
    problems: list[Problem] = []
    if bom and text.startswith("\ufeff"):
        text = text[1:]
    scan = text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
    rows = _ROWS.findall(scan)
    out: list[tuple[str, str | None, int, int]] = [
        (key, bare or single or double, line, len(pre) + 1)
        for line, (pre, key, bare, single, double, other) in enumerate(rows, 1) if key
    ]
    if any(row[5] for row in rows):  # an unusual line: python-dotenv reads from there on
        line = next(i for i, row in enumerate(rows, 1) if row[5])
        out = [b for b in out if b[2] < line]
        rest = scan if scan is text else text
        out.extend(_dotenv_bindings(rest[_line_offset(rest, line):], line, problems, path))
    return out, problems


def parse_bindings(text: str, path: str = "", *, bom: bool = True) -> tuple[list[Binding], list[Problem]]:
    """All bindings in file order (duplicates kept), plus parse problems.

    Plain lines are read by one regex pass; from the first line that is
    anything else, the rest of the file goes to python-dotenv's parser.
    Like python-dotenv, one leading BOM is dropped (``bom=False``: the
    caller has dropped it already, as ``read_text`` does).
    """
    rows, problems = _scan(text, path, bom)
    return [Binding(*row) for row in rows], problems


# python-dotenv's variable syntax (dotenv.variables._posix_variable).
_VARIABLE = re.compile(r"\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}")


def _interpolate(bindings: list[tuple[str, str | None, int, int]]) -> dict[str, object]:
    """dotenv_values' interpolation, against the file's own earlier values only.

    pydantic-settings calls ``dotenv_values`` (``override=True``): a ``${NAME}``
    that an earlier line of the file sets resolves to that value (a bare
    ``NAME`` line counts as ""), whatever the process environment holds.  A
    name the file does not set comes from the process environment at run
    time: the value is ``Unknown``, never guessed (not even its default).
    """
    values: dict[str, object] = {}
    for key, value, _, _ in bindings:
        if value is None or "${" not in value:
            values[key] = value
            continue
        parts: list[str] = []
        pos = 0
        unknown = None
        for m in _VARIABLE.finditer(value):
            name = m.group("name")
            known = values.get(name, _MISSING)
            if known is _MISSING or isinstance(known, Unknown):
                unknown = name
                break
            parts.append(value[pos : m.start()])
            parts.append(known or "")  # type: ignore[arg-type]
            pos = m.end()
        if unknown is not None:
            values[key] = Unknown(f"${{{unknown}}} is not defined in this file (set at run time?)")
        else:
            parts.append(value[pos:])
            values[key] = "".join(parts)
    return values


_MISSING = object()
_new = tuple.__new__
_new_location = partial(tuple.__new__, Location)
_new_entry = partial(tuple.__new__, Entry)
# Entry's fields after (key, value, loc, parts), at their defaults: entries are built
# with tuple.__new__ (a NamedTuple's own __new__ costs a Python call per value).
_ENTRY_REST = tuple(Entry._field_defaults[f] for f in Entry._fields[4:])


# Memory at 10,000 files: one key string and one ``(key,)`` tuple per distinct key,
# one string per distinct short value ("false", "3/hour"...), shared by all files.
_SHARED_PARTS: dict[str, tuple[str]] = {}
_SHORT_VALUES: dict[str, str] = {}
_SHARE_LIMIT = 200_000


def _share_key(key: str) -> tuple[str]:
    parts = (key,)
    if len(_SHARED_PARTS) < _SHARE_LIMIT:
        _SHARED_PARTS[key] = parts
    return parts


def _entries(text: str, path: str, bom: bool = True) -> tuple[tuple[Entry, ...], list[Problem], dict[str, Entry]]:
    """(entries, problems, entries by upper-cased key).  Column-wise, with ``map``
    over C constructors: this loop runs once per value of every file."""
    bindings, problems = _scan(text, path, bom)
    if not bindings:
        return (), problems, {}
    uppers = list(map(str.upper, [b[0] for b in bindings]))
    kept = bindings
    if len(set(uppers)) != len(uppers):  # a key assigned twice: the last assignment wins
        last: dict[str, tuple[str, str | None, int, int]] = {}
        for upper, b in zip(uppers, bindings):
            last.pop(upper, None)
            last[upper] = b
        uppers, kept = list(last), list(last.values())
    keys, values, lines, cols = (list(c) for c in zip(*kept))
    if "${" in text:
        resolved = _interpolate(bindings)
        values = [resolved[k] if v is not None else None for k, v in zip(keys, values)]
    if None in values:  # bare ``KEY`` lines: no value, no entry
        keep = [i for i, v in enumerate(values) if v is not None]
        keys, values, lines, cols, uppers = ([col[i] for i in keep] for col in (keys, values, lines, cols, uppers))
    get = _SHARED_PARTS.get
    parts = [get(k) or _share_key(k) for k in keys]
    short = _SHORT_VALUES
    if len(short) < _SHARE_LIMIT:
        values = [short.setdefault(v, v) if type(v) is str and len(v) <= 24 else v for v in values]
    locs = map(_new_location, zip(repeat(path), lines, cols))
    entries = tuple(map(_new_entry, zip([p[0] for p in parts], values, locs, parts, *map(repeat, _ENTRY_REST))))
    return entries, problems, dict(zip(uppers, entries))


def parse_env(text: str, path: str) -> tuple[tuple[Entry, ...], tuple[Problem, ...]]:
    """Entries as the application sees them: last assignment of a key wins
    (keys compared case-insensitively, as pydantic-settings does)."""
    entries, problems, _ = _entries(text, path)
    return entries, tuple(problems)


def claims(path: str, explicit: bool, config: dict[str, Any]) -> bool:
    """Env files by name; anything named explicitly that no other source claims."""
    base = os.path.basename(path)
    if is_env_file(base):
        return True
    rel = path.replace(os.sep, "/")
    if any(fnmatch(rel, g) or fnmatch(base, g) for g in config.get("env_files", ())):
        return True
    return explicit and not base.endswith((".py", ".pyi", ".probe.json"))  # *.probe.json: the http source


def load(paths: list[str], ctx: "LoadContext") -> Iterator[Document]:
    settings = EnvSettings(
        {**environments.DEFAULT_ALIASES, **ctx.config.get("environment_aliases", {})},
        tuple(ctx.config.get("environment_keys") or environments.DEFAULT_KEYS),
    )
    for path in paths:
        yield load_file(path, display_path=ctx.display(path), flag_environment=ctx.flag_environment, settings=settings)


def load_file(path: str, *, display_path: str, flag_environment: str | None, settings: "EnvSettings") -> Document:
    text, problem = read_text(path)
    if problem is not None:
        return Document(path, TARGET, (), problems=(problem._replace(path=display_path),), display_path=display_path)
    text = text or ""
    if "\r" in text:  # pydantic-settings opens the file in text mode: universal newlines
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    entries, problems, by_upper = _entries(text, display_path, bom=False)
    values = {}
    for key in settings.keys:
        entry = by_upper.get(key)
        if entry is not None and isinstance(entry.value, str):
            values[key] = entry.value
    decision = environments.decide(
        os.path.basename(path), values, flag=flag_environment, aliases=settings.aliases, keys=settings.keys
    )
    source = decision.source + (f"; {decision.conflict}" if decision.conflict else "")
    return Document(
        path, TARGET, entries, decision.environment, source, decision.is_template, tuple(problems), display_path
    )


class EnvSettings(NamedTuple):
    aliases: dict[str, str]
    keys: tuple[str, ...]
