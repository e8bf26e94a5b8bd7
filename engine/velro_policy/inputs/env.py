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
``tests/inputs/test_env_differential.py`` proves the two paths agree with
python-dotenv: same keys, values and lines.
"""
from __future__ import annotations

import os
import re
import sys
from bisect import bisect_left
from collections.abc import Iterator
from fnmatch import fnmatch
from functools import cache
from itertools import compress, repeat
from operator import add, contains, is_, itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from velro_policy.inputs._files import read_text, shown_name
from velro_policy.model import IGNORE_MARKER, Document, Entries, Entry, Problem, Unknown
from velro_policy.values import environments

if TYPE_CHECKING:
    from velro_policy.inputs import LoadContext

NAME = "env"
TARGET = "env"
# Basename patterns: `.env`, `.env.<anything>`, `<name>.env`.
FILE_RE = re.compile(r"^(\.env(\..+)?|.+\.env)\Z", re.DOTALL)  # a newline in the name too (git can stage one)

_KEY = r"[A-Za-z_][A-Za-z0-9_.-]*"
# One row per line of a text without "\r": a plain binding (groups: prefix,
# key, unquoted value, single-quoted value, double-quoted value), a blank or
# comment line (all groups empty), or any other line (last group).  Only the
# shapes where python-dotenv's result is evident are plain: an unquoted value
# without whitespace (only whitespace then "#" starts a comment after it), a
# quoted value without backslashes or newlines (a "#" right after the closing
# quote starts a comment).
@cache
def _rows_pattern() -> re.Pattern[str]:
    """Compiled on first use: a file of plain lines never needs it (the shortcut reads it)."""
    return re.compile(
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
    rows = _rows_pattern().findall(scan)
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


def _refs_by_line(text: str, lines: list[int]) -> list[int]:
    """Positions of the bindings whose value holds ``${``, found from the text (for files
    the shortcut read: one binding per line, so a line number names one binding)."""
    out: list[int] = []
    pos = text.find("${")
    line, at = 1, 0
    while pos >= 0:
        line += text.count("\n", at, pos)
        at = pos
        i = bisect_left(lines, line)
        if i < len(lines) and lines[i] == line and (not out or out[-1] != i):
            out.append(i)
        pos = text.find("${", pos + 2)
    return out


# Most variables one env file may set (real ones set a few hundred).
MAX_KEYS = 20_000

# A value longer than this after ${VAR} interpolation is not built: lines like
# ``A=${A}${A}`` double it each time (26 lines: 64 M characters).  It becomes a
# problem naming the key (exit 2) instead.
MAX_INTERPOLATED = 64 * 1024
MAX_INTERPOLATED_FILE = 8 * 1024 * 1024  # all the values built by interpolation in one file (A{n}=${A{n-1}}x grows it n^2)


def _interpolate(keys: list[str], values: list[str | None], refs: list[int] | None = None,
                 oversized: list[int] | None = None) -> list[object]:
    """dotenv_values' interpolation, against the file's own earlier values only.

    pydantic-settings calls ``dotenv_values`` (``override=True``): a ``${NAME}``
    that an earlier line of the file sets resolves to that value (a bare
    ``NAME`` line counts as ""), whatever the process environment holds.  A
    name the file does not set comes from the process environment at run
    time: the value is ``Unknown``, never guessed (not even its default).
    ``keys``/``values``: every binding in file order.  Only the few values
    holding ``${`` are visited (found with C-speed ``map``).  A value that would
    exceed ``MAX_INTERPOLATED`` characters is ``Unknown`` and its position is
    appended to ``oversized``.
    """
    out: list[object] = list(values)
    if refs is not None:
        refs = [i for i in refs if "${" in values[i]]  # type: ignore[operator]  # not a "${" in a comment after the value
    elif None in values:
        refs = [i for i, v in enumerate(values) if v is not None and "${" in v]
    else:
        refs = list(compress(range(len(values)), map(contains, values, repeat("${"))))  # type: ignore[arg-type]  # None is excluded by the branch above
    known: dict[str, object] = {}
    done = 0
    built = 0  # characters built so far in this file
    for i in refs:
        known.update(zip(keys[done:i], out[done:i]))  # the latest earlier binding of each name
        done = i
        value: str = values[i]  # type: ignore[assignment]
        parts: list[str] = []
        pos = 0
        size = len(value)
        unknown = None
        too_big = False
        for m in _VARIABLE.finditer(value):
            name = m.group("name")
            got = known.get(name, _MISSING)
            if got is _MISSING or isinstance(got, Unknown):
                unknown = name
                break
            parts.append(value[pos : m.start()])
            parts.append(got or "")  # type: ignore[arg-type]
            size += len(got or "")  # type: ignore[arg-type]
            if size > MAX_INTERPOLATED or built + size > MAX_INTERPOLATED_FILE:
                too_big = True
                break
            pos = m.end()
        if too_big:
            out[i] = Unknown(f"longer than {MAX_INTERPOLATED // 1024} KiB after ${{VAR}} interpolation (not checked)")
            if oversized is not None:
                oversized.append(i)
        elif unknown is not None:
            out[i] = Unknown(f"${{{unknown}}} is not defined in this file (set at run time?)")
        else:
            parts.append(value[pos:])
            out[i] = "".join(parts)
            built += size
    return out


_MISSING = object()

# The common case in one C-speed pass: every line is a comment, blank, or
# ``[export ]KEY=value`` with an unquoted value without whitespace (optionally
# followed by whitespace and a comment) or a simply quoted value.  No
# indentation, no trailing blanks: anything else makes a line fail to match,
# the row count differs from the line count, and ``_scan`` reads the file.
_FAST = re.compile(
    r"^(?:(export[ \t]+)?(" + _KEY + r""")=(?:([^\s'"]\S*)|'([^'\\\n]*)'|"([^"\\\n]*)"|)(?:[ \t]+#[^\n]*)?|#[^\n]*|)$""",
    re.MULTILINE,
)
_intern = sys.intern


def _fast_columns(text: str) -> tuple[list[str], list[str], list[int], list[int] | None] | None:
    """(keys, values, lines, cols or None when all are 1) of a file whose lines all
    have the simplest shapes, else None.

    Equal to ``_scan`` wherever it answers (``tests/inputs/test_env_differential.py``)."""
    if "\r" in text:
        return None
    rows = _FAST.findall(text)
    if len(rows) != text.count("\n") + 1:
        return None
    raw_keys = list(map(itemgetter(1), rows))
    keys = list(filter(None, raw_keys))
    kept = list(compress(rows, raw_keys))
    lines = list(compress(range(1, len(rows) + 1), raw_keys))
    # One of the three value groups (bare, single-quoted, double-quoted) is set: their sum is the value.
    values = list(map(add, map(add, map(itemgetter(2), kept), map(itemgetter(3), kept)), map(itemgetter(4), kept)))
    cols = list(map(add, map(len, map(itemgetter(0), kept)), repeat(1))) if "export" in text else None
    return keys, values, lines, cols


_NO_PROBLEMS: list[Problem] = []  # the shortcut's answer: no problems, no bare keys (never mutated)


def _all_text(values: list[object]) -> bool:
    """Is every value a ``str`` (no ``Unknown``)?  At C speed."""
    return all(map(is_, map(type, values), repeat(str)))


def _columns(text: str, path: str, bom: bool) -> tuple[list[str], list[str | None], list[int], list[int] | None, list[Problem]]:
    """(keys, values, lines, cols or None when every column is 1, problems) of every binding in file order."""
    fast = None if bom and text.startswith("\ufeff") else _fast_columns(text)
    if fast is not None:
        return (*fast, _NO_PROBLEMS)  # type: ignore[return-value]
    bindings, problems = _scan(text, path, bom)
    if not bindings:
        return [], [], [], [], problems
    keys, values, lines, cols = (list(c) for c in zip(*bindings))
    return keys, values, lines, cols, problems


def _pick(column: list, keep: list[int]) -> list:
    """``[column[i] for i in keep]`` at C speed."""
    if len(keep) < 2:
        return [column[i] for i in keep]  # itemgetter needs an item, and returns a bare value for one
    return list(itemgetter(*keep)(column))


def _entries(text: str, path: str, bom: bool = True) -> tuple[Entries, list[Problem]]:
    """The file's entries (column-wise) and parse problems.  Built with C-speed
    ``map``/``compress``/``zip`` where possible: this runs for every value of every file."""
    keys, values, lines, cols, problems = _columns(text, path, bom)
    if not keys:
        return Entries.columns(path, [], [], [], []), problems
    if len(keys) > MAX_KEYS:  # judging costs ~0.1 ms per distinct key: a million took minutes
        return Entries.columns(path, [], [], [], []), [*problems, Problem(
            path, lines[MAX_KEYS], 1, f"sets {len(keys):,} variables (more than {MAX_KEYS:,} from this line on), too many to "
            "judge in time (generated?); velro-policy does not check it: split it or exclude it", "parse-error")]
    joined = "\n".join(keys)
    if joined.isascii():  # nearly always: for ASCII, upper() merges exactly the keys lower() merges
        uppers = keys if joined == joined.upper() else list(map(str.upper, keys))
    else:
        uppers = list(map(app_key, keys))
    interpolated = "${" in text
    if interpolated:
        refs = _refs_by_line(text, lines) if problems is _NO_PROBLEMS else None
        oversized: list[int] = []
        values = _interpolate(keys, values, refs, oversized)  # type: ignore[assignment]
        if oversized:
            problems = [*problems, *(
                Problem(path, lines[i], cols[i] if cols is not None else 1,
                        f"{keys[i]} is longer than {MAX_INTERPOLATED // 1024} KiB after ${{VAR}} interpolation (or the file's "
                        f"values than {MAX_INTERPOLATED_FILE // (1024 * 1024)} MiB in all) "
                        "(each line doubles it?); velro-policy does not check it: shorten it or exclude the file",
                        "parse-error")
                for i in oversized[:5])]
            if len(oversized) > 5:  # one line for the rest: a file of such lines must not flood the output
                i = oversized[5]
                problems.append(Problem(path, lines[i], 1, f"{len(oversized) - 5:,} more values from this line on are too long "
                                        "after ${VAR} interpolation; velro-policy does not check them", "parse-error"))
    if len(set(uppers)) != len(uppers):  # a key assigned twice: the last assignment wins
        keep = sorted(dict(zip(uppers, range(len(uppers)))).values())
        keys, values, lines, uppers = (_pick(col, keep) for col in (keys, values, lines, uppers))
        cols = _pick(cols, keep) if cols is not None else None
    if problems is not _NO_PROBLEMS and None in values:  # bare ``KEY`` lines (only ``_scan`` reads them): no value, no entry
        keep = [i for i, v in enumerate(values) if v is not None]
        keys, values, lines, uppers = (_pick(col, keep) for col in (keys, values, lines, uppers))
        cols = _pick(cols, keep) if cols is not None else None
    # Memory at 10,000 files: key strings and repeated values ("false", "3/hour"...) are shared.
    keys = list(map(_intern, keys))
    uppers = keys if uppers is keys or uppers == keys else list(map(_intern, uppers))
    if interpolated and not _all_text(values):  # type: ignore[arg-type]  # list invariance: str | None values are objects
        values = [_intern(v) if type(v) is str else v for v in values]
    else:
        values = list(map(_intern, values))  # type: ignore[arg-type]
    return Entries.columns(path, keys, uppers, values, lines, cols), problems  # type: ignore[arg-type]  # list invariance: str | None values are objects


def app_key(key: str) -> str:
    """The key as the application's loader names it, in upper case: pydantic-settings (case-insensitive,
    the default) compares ``key.lower()``, so two keys are one exactly when their ``lower()`` is.
    ``JWT_\u017fECRET`` (long s) is not ``JWT_SECRET`` for it, nor ``ENABLE_MOCK_AUTHENTICAT\u0131ON`` (dotless i)
    ``ENABLE_MOCK_AUTHENTICATION``, though ``upper()`` makes them equal; ``\u212aEY`` (Kelvin sign) is
    ``KEY``.  A key whose ``lower()`` is not ASCII keeps that form: no ASCII name equals it."""
    if key.isascii():
        return key.upper()
    low = key.lower()
    return low.upper() if low.isascii() else low


def parse_env(text: str, path: str) -> tuple[tuple[Entry, ...], tuple[Problem, ...]]:
    """Entries as the application sees them: last assignment of a key wins
    (keys compared case-insensitively, as pydantic-settings does)."""
    entries, problems = _entries(text, path)
    return tuple(entries), tuple(problems)


def claims(path: str, explicit: bool, config: dict[str, Any]) -> bool:
    """Env files by name; anything named explicitly that no other source claims (``load``
    then refuses it unless it is an env file by name, by an ``env_files`` glob or ``--as env``)."""
    if named_as_env(path, config):
        return True
    return explicit and not path.endswith((".py", ".pyi", ".probe.json"))  # *.probe.json: the http source


def named_as_env(path: str, config: dict[str, Any]) -> bool:
    """An env file by its name (``.env``, ``.env.*``, ``*.env``) or by an ``env_files`` glob of the config."""
    base = os.path.basename(path)
    if is_env_file(base):
        return True
    rel = path.replace(os.sep, "/")
    return any(fnmatch(rel, g) or fnmatch(base, g) for g in config.get("env_files", ()))


def settings_for(config: dict[str, Any]) -> EnvSettings:
    """How the config says an env file's environment is told (aliases, keys)."""
    return EnvSettings(
        {**environments.DEFAULT_ALIASES, **config.get("environment_aliases", {})},
        tuple(config.get("environment_keys") or environments.DEFAULT_KEYS),
    )


def load(paths: list[str], ctx: LoadContext) -> Iterator[Document]:
    settings = settings_for(ctx.config)
    for path in paths:
        if not named_as_env(path, ctx.config) and not os.path.isdir(path):  # named, but nothing says it is an env file
            # (a folder here is one discovery could not list: its read below says so)
            shown = ctx.display(path)
            problem = Problem(shown, 0, 0, "is not an env file by its name (.env, .env.*, *.env); read it as one with "
                              "--as env, or add a glob to env_files in the config", "not-env-file")
            yield Document(path, TARGET, (), problems=(problem,), display_path=shown)
            continue
        yield load_file(path, display_path=ctx.display(path), flag_environment=ctx.flag_environment, settings=settings)


def load_file(path: str, *, display_path: str, flag_environment: str | None, settings: EnvSettings) -> Document:
    display_path = shown_name(display_path)
    text, problem = read_text(path)
    if problem is not None:
        return Document(path, TARGET, (), problems=(problem._replace(path=display_path),), display_path=display_path)
    return read_document(text or "", path, display_path=display_path, flag_environment=flag_environment, settings=settings)


def read_document(text: str, path: str, *, display_path: str, flag_environment: str | None, settings: EnvSettings) -> Document:
    """The document of an env file whose text is ``text`` (decoded, one BOM dropped, as ``read_text``
    gives it): what ``load_file`` reads from disk, and what ``fix`` judges after each edit in memory,
    so both judge a file as the application reads it."""
    if "\r" in text:  # pydantic-settings opens the file in text mode: universal newlines
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    entries, problems = _entries(text, display_path, bom=False)
    values = {}
    uppers = entries.uppers
    for key in settings.keys:
        if uppers is entries.keys and key not in text:
            continue  # keys as written are all upper case, so a key the text lacks is not set (C-speed test)
        if key in uppers:
            value = entries.values[uppers.index(key)]
            if isinstance(value, str):
                values[key] = value
    decision = environments.decide(
        os.path.basename(path), values, flag=flag_environment, aliases=settings.aliases, keys=settings.keys
    )
    source = decision.source + (f"; {decision.conflict}" if decision.conflict else "")
    return Document(
        path, TARGET, entries, decision.environment, source, decision.is_template, tuple(problems), display_path,
        IGNORE_MARKER in text,
    )


class EnvSettings(NamedTuple):
    aliases: dict[str, str]
    keys: tuple[str, ...]
