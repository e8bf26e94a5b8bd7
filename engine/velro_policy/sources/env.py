"""The ``env`` source: env files read exactly as pydantic-settings reads them.

pydantic-settings reads env files with python-dotenv (``dotenv_values``:
``parse_stream`` then variable interpolation, last assignment wins, keys
case-insensitive by default).  ``parse_env`` gives the same keys and values
with line and column.  Plain ``KEY=value`` lines (the vast majority) are
taken by a line scanner; from the first line that is anything else (quotes,
``export`` with odd spacing, ``$`` interpolation, multi-line values...),
the rest of the file goes to python-dotenv's own parser.  A differential
test proves the two paths agree.
"""
from __future__ import annotations

import os
import re
from fnmatch import fnmatch
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

_SIMPLE = re.compile(r"[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)=([^\s'\"#$\\`]*)[ \t]*")
_SKIP = re.compile(r"[ \t]*(?:#.*)?")
_NEWLINE = re.compile(r"\r\n|\n|\r")


class Binding(NamedTuple):
    key: str
    value: str | None
    line: int
    col: int


def is_env_file(basename: str) -> bool:
    return bool(FILE_RE.match(basename))


def _dotenv_bindings(text: str, first_line: int, problems: list[Problem], path: str) -> list[Binding]:
    import io

    from dotenv.parser import parse_stream

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


def parse_bindings(text: str, path: str = "") -> tuple[list[Binding], list[Problem]]:
    """All bindings in file order (duplicates kept), plus parse problems."""
    problems: list[Problem] = []
    out: list[Binding] = []
    pos = 0
    line = 1
    n = len(text)
    while pos < n:
        m = _NEWLINE.search(text, pos)
        end = m.start() if m else n
        nxt = m.end() if m else n
        simple = _SIMPLE.fullmatch(text, pos, end)
        if simple:
            out.append(Binding(simple.group(1), simple.group(2), line, simple.start(1) - pos + 1))
        elif not _SKIP.fullmatch(text, pos, end):
            out.extend(_dotenv_bindings(text[pos:], line, problems, path))
            break
        pos, line = nxt, line + 1
    return out, problems


def _interpolate(bindings: list[Binding]) -> dict[str, object]:
    """dotenv_values' interpolation, against the file's own earlier values only.

    A reference to a variable the file does not define comes from the process
    environment at run time: the value is ``Unknown``, never guessed.
    """
    values: dict[str, object] = {}
    plain: dict[str, str | None] = {}
    for b in bindings:
        if b.value is None:
            values[b.key] = None
            plain[b.key] = None
            continue
        if "$" not in b.value:
            values[b.key] = plain[b.key] = b.value
            continue
        from dotenv.variables import Variable, parse_variables

        atoms = list(parse_variables(b.value))
        missing = [a.name for a in atoms if isinstance(a, Variable) and plain.get(a.name) is None]
        if missing:
            values[b.key] = Unknown(f"${{{missing[0]}}} is not defined in this file (set at run time?)")
            plain[b.key] = None
        else:
            values[b.key] = plain[b.key] = "".join(a.resolve(plain) for a in atoms)  # type: ignore[arg-type]
    return values


def parse_env(text: str, path: str) -> tuple[tuple[Entry, ...], tuple[Problem, ...]]:
    """Entries as the application sees them: last assignment of a key wins
    (keys compared case-insensitively, as pydantic-settings does)."""
    bindings, problems = parse_bindings(text, path)
    values = _interpolate(bindings)
    last: dict[str, Binding] = {}
    for b in bindings:
        last.pop(b.key.upper(), None)
        last[b.key.upper()] = b
    entries = tuple(
        Entry(b.key, values.get(b.key), Location(path, b.line, b.col), (b.key,))
        for b in sorted(last.values(), key=lambda b: b.line)
        if b.value is not None
    )
    return entries, tuple(problems)


def claims(path: str, explicit: bool, config: dict[str, Any]) -> bool:
    """Env files by name; anything named explicitly that no other source claims."""
    base = os.path.basename(path)
    if is_env_file(base):
        return True
    rel = path.replace(os.sep, "/")
    if any(fnmatch(rel, g) or fnmatch(base, g) for g in config.get("env_files", ())):
        return True
    return explicit and not base.endswith((".py", ".pyi"))


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
    entries, problems = parse_env(text or "", display_path)
    values = {e.key.upper(): e.value for e in entries if isinstance(e.value, str)}
    decision = environments.decide(
        os.path.basename(path), values, flag=flag_environment, aliases=settings.aliases, keys=settings.keys
    )
    source = decision.source + (f"; {decision.conflict}" if decision.conflict else "")
    return Document(
        path, TARGET, entries, decision.environment, source, decision.is_template, problems, display_path
    )


class EnvSettings(NamedTuple):
    aliases: dict[str, str]
    keys: tuple[str, ...]
