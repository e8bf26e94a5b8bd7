"""Parsing Python modules written for a newer Python than the one running velro-policy.

velro-policy reads modules with the running interpreter's ``ast``.  A project on Python 3.12-3.14
uses syntax Python 3.11 rejects, and before this module each such module was "cannot be read":
on one modern backend (a 1,774-module FastAPI server declaring Python 3.14) 62 deployed modules,
so its routes, settings and middleware were invisible.  Most of that syntax says nothing velro-policy
reads (types and exception tuples), so when ``ast.parse`` fails, ``parse`` retries once with
those constructs spelled the 3.11 way, keeping every line number (and columns, except after an
inserted parenthesis on the same line):

- PEP 758 (3.14) ``except A, B:`` -> ``except (A, B):``
- PEP 695/696 (3.12/3.13) type parameters ``def f[T](...)``, ``class C[T]:`` -> blanked
- PEP 695 (3.12) ``type Alias[T] = ...`` -> ``Alias = ...``
- PEP 750 (3.14) template strings ``t"..."`` -> ``f"..."``

Anything else (PEP 701 f-strings with nested quotes, a real syntax error) keeps the original
error: the retry never turns an invalid module into a valid one it is not (the rewritten text
must parse, and the rewrites only apply to constructs the tokenizer recognised).  Under
Python 3.12+ the first ``ast.parse`` succeeds and nothing here runs.
"""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenize import TokenInfo

_TSTRING_PREFIXES = {"t": "f", "T": "F", "tr": "fr", "tR": "fR", "Tr": "Fr", "TR": "FR",
                     "rt": "rf", "Rt": "Rf", "rT": "rF", "RT": "RF"}


def parse(text: str | bytes, path: str) -> ast.Module:
    """``ast.parse``; on a SyntaxError, once more with newer syntax spelled the 3.11 way (module
    docstring).  Raises the original SyntaxError when that does not parse either.  ``bytes`` are
    parsed as ``ast.parse`` reads them (a coding cookie honoured), the retry as UTF-8."""
    try:
        return ast.parse(text, filename=path)
    except SyntaxError as exc:
        try:
            older = as_older_syntax(text if isinstance(text, str) else text.decode("utf-8-sig"))
        except UnicodeDecodeError:
            older = None
        if older is None:
            raise
        try:
            return ast.parse(older, filename=path)
        except SyntaxError:
            raise exc from None


def as_older_syntax(text: str) -> str | None:
    """``text`` with the constructs of the module docstring rewritten, or None when there is none
    (or the text cannot be tokenized)."""
    import io
    import tokenize

    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(text).readline)
                  if t.type not in (tokenize.COMMENT, tokenize.NL)]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []  # (row, start col, end col, replacement), rows 1-based
    statement_start = True
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.type == tokenize.NAME and nxt is not None:
            if tok.string in ("def", "class") and i + 2 < len(tokens) and tokens[i + 2].string == "[" \
                    and nxt.type == tokenize.NAME:
                _blank_brackets(tokens, i + 2, edits, lines)
            elif tok.string == "type" and statement_start and nxt.type == tokenize.NAME and i + 2 < len(tokens) \
                    and tokens[i + 2].string in ("=", "[") and tok.start[0] == nxt.start[0]:
                row, col = tok.start
                end = nxt.end[1]
                edits.append((row, col, end, nxt.string + " " * (end - col - len(nxt.string))))
                if tokens[i + 2].string == "[":
                    _blank_brackets(tokens, i + 2, edits, lines)
            elif tok.string == "except":
                _parenthesize_except(tokens, i, edits)
            elif tok.string in _TSTRING_PREFIXES and nxt.type == tokenize.STRING and nxt.start == tok.end:
                row, col = tok.start
                edits.append((row, col, tok.end[1], _TSTRING_PREFIXES[tok.string]))
        statement_start = tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) or tok.string == ";"
    if not edits:
        return None
    for row, start, end, new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    return "".join(lines)


def _blank_brackets(tokens: list[TokenInfo], open_at: int, edits: list[tuple[int, int, int, str]],
                   lines: list[str]) -> None:
    """Blank ``[...]`` from ``tokens[open_at]`` to its matching ``]``; over several lines, each
    blanked line but the last ends in a backslash, so the statement stays one logical line."""
    depth = 0
    for j in range(open_at, len(tokens)):
        s = tokens[j].string
        if s in ("[", "(", "{"):
            depth += 1
        elif s in ("]", ")", "}"):
            depth -= 1
            if depth == 0:
                (row, start), (end_row, end) = tokens[open_at].start, tokens[j].end
                if row == end_row:
                    edits.append((row, start, end, " " * (end - start)))
                    return
                for r in range(row, end_row):
                    text = lines[r - 1]
                    stop = len(text.rstrip("\r\n"))
                    first = start if r == row else 0
                    edits.append((r, first, stop, " " * max(0, stop - first - 1) + "\\"))
                edits.append((end_row, 0, end, " " * end))
                return


def _parenthesize_except(tokens: list[TokenInfo], at: int, edits: list[tuple[int, int, int, str]]) -> None:
    """``except A, B:`` (PEP 758): parentheses around the exception list when it has a top-level
    comma, no ``as`` and sits on one line."""
    first = at + 1
    if first < len(tokens) and tokens[first].string == "*":
        first += 1
    depth = 0
    comma = False
    for j in range(first, len(tokens)):
        tok = tokens[j]
        s = tok.string
        if tok.start[0] != tokens[at].start[0]:
            return
        if s in ("[", "(", "{"):
            depth += 1
        elif s in ("]", ")", "}"):
            depth -= 1
        elif depth == 0 and s == ",":
            comma = True
        elif depth == 0 and s == "as":
            return
        elif depth == 0 and s == ":":
            if comma and j > first:
                row = tokens[first].start[0]
                edits.append((row, tokens[j - 1].end[1], tokens[j - 1].end[1], ")"))
                edits.append((row, tokens[first].start[1], tokens[first].start[1], "("))
            return
