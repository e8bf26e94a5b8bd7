"""The env source reads files exactly as python-dotenv (and so pydantic-settings) does.

``sources/env.py`` takes plain ``KEY=value`` lines with its own scanner and
hands the rest of a file to python-dotenv.  These tests parse generated
files (hypothesis) and the benchmark corpus both ways and demand the same
keys, values and line numbers:

- bindings (every assignment, duplicates included) against python-dotenv's
  ``parse_stream``, lines counted the way its ``Original.line`` does;
- entries (what the application sees) against ``dotenv_values`` with
  interpolation on an empty ``os.environ``, last assignment of a key
  winning case-insensitively as pydantic-settings does.  A value that
  refers to a variable the file does not define is ``Unknown`` on our side
  (it comes from the process environment at run time); the test checks that
  python-dotenv's value does depend on such a variable there.
"""
from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path
from unittest import mock

import pytest
from dotenv import dotenv_values
from dotenv.parser import parse_stream
from dotenv.variables import Variable, parse_variables
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from velro_policy.inputs import env as env_source
from velro_policy.model import Unknown

REPO = Path(__file__).resolve().parents[2]
_NL = re.compile(r"\r\n|\n|\r")


# ------------------------------------------------------------------ oracles


def reference_bindings(text: str) -> tuple[list[tuple[str, str | None, int]], list[int]]:
    """(key, value, line of the key) per binding, and the lines of parse errors."""
    out, errors = [], []
    for b in parse_stream(io.StringIO(text)):
        raw = b.original.string
        lead = re.match(r"\s*", raw).group(0)  # type: ignore[union-attr]
        line = b.original.line + len(_NL.findall(lead))
        if b.error:
            errors.append(line)
        elif b.key is not None:
            out.append((b.key, b.value, line))
    return out, errors


def reference_entries(text: str) -> dict[str, tuple[str, object, int]]:
    """UPPER key -> (key, value, line) as the application sees the file."""
    with mock.patch.dict(os.environ, clear=True):
        values = dotenv_values(stream=io.StringIO(text), interpolate=True)
    bindings, _ = reference_bindings(text)
    last: dict[str, tuple[str, str | None, int]] = {}
    for key, raw, line in bindings:
        last.pop(key.upper(), None)
        last[key.upper()] = (key, raw, line)
    return {u: (key, values[key], line) for u, (key, raw, line) in last.items() if raw is not None}


def ours(text: str) -> tuple[list[tuple[str, str | None, int]], list[int]]:
    bindings, problems = env_source.parse_bindings(text, "f.env")
    return [(b.key, b.value, b.line) for b in bindings], [p.line for p in problems]


def assert_same(text: str) -> None:
    """The whole contract, for one text."""
    assert ours(text) == reference_bindings(text), repr(text)
    fast = env_source._fast_columns(text)
    if fast is not None:  # the one-pass shortcut, where it answers, says what the scanner says
        keys, values, lines, cols = fast
        scanned, problems = env_source._scan(text, "f.env", True)
        assert not problems
        assert list(zip(keys, values, lines, cols or [1] * len(keys))) == scanned, repr(text)
    entries, _ = env_source.parse_env(text, "f.env")
    got = {e.key.upper(): (e.key, e.value, e.loc.line) for e in entries}
    want = reference_entries(text)
    assert got.keys() == want.keys(), repr(text)
    # A value is undetermined when it refers to a variable that no earlier
    # binding sets, or whose latest earlier binding is itself undetermined.
    determined: dict[str, bool] = {}
    undetermined: dict[tuple[str, int], bool] = {}
    for key, raw, line in reference_bindings(text)[0]:
        und = raw is not None and any(
            isinstance(a, Variable) and not determined.get(a.name, False) for a in parse_variables(raw)
        )
        undetermined[(key, line)] = und
        determined[key] = not und
    for upper, (key, value, line) in got.items():
        wkey, wvalue, wline = want[upper]
        assert (key, line) == (wkey, wline), repr(text)
        if isinstance(value, Unknown):
            assert undetermined[(key, line)], (repr(text), key, value)
        else:
            assert not undetermined[(key, line)], (repr(text), key, value)
            assert value == wvalue, repr(text)


# --------------------------------------------------------------- strategies

KEYS = st.sampled_from([
    "A", "B", "a", "DEBUG", "debug", "JWT_SECRET", "export", "K.E-Y", "_X1", "'quoted key'", "KEY WITH SPACE",
    "Ключ", "#notkey", "A#B", "x=y",
])
PREFIXES = st.sampled_from(["", "", "", " ", "\t", "  ", "export ", "export\t", "export  ", "exportX", "\u00a0", "\x0b"])
SEPS = st.sampled_from(["=", "=", "=", " =", "= ", " = ", "=\t", "= \u00a0", ""])
BARE_CHARS = st.sampled_from(list("abcXYZ019_-./:@,;+*?!%&()[]{}<>|~^`") + [
    "#", " ", "\t", "$", "{", "}", "\\", "'", '"', "é", "\u00a0", "\u2028", "\x0b", "\x0c", "\x1f", "\x85", "=",
])
REFS = st.sampled_from(["${A}", "${B}", "${a}", "${A:-dflt}", "${MISSING}", "${MISSING:-x}", "$A", "${DEBUG}", "${}", "${A"])
BARE = st.lists(st.one_of(BARE_CHARS, REFS), max_size=8).map("".join)
QUOTED = st.builds(
    lambda q, body: f"{q}{body}{q}",
    st.sampled_from(["'", '"']),
    st.lists(st.one_of(BARE_CHARS, REFS, st.sampled_from(["\\n", "\\t", "\\\\", "\\'", '\\"', "\\u00e9", "\n", "\r\n", "\\"])), max_size=8).map("".join),
)
SUFFIXES = st.sampled_from(["", "", "", " ", "\t", " # comment", "#c", "  #c", " x", "\u00a0", "'", '"'])


@st.composite
def binding_lines(draw: st.DrawFn) -> str:
    value = draw(st.one_of(BARE, QUOTED, st.just("")))
    return draw(PREFIXES) + draw(KEYS) + draw(SEPS) + value + draw(SUFFIXES)


LINES = st.one_of(
    binding_lines(),
    binding_lines(),
    st.sampled_from(["", "   ", "# a comment", "  # indented comment", "#", "export", "export ", "=novalue", "\u00a0", "KEYONLY"]),
)


@st.composite
def env_texts(draw: st.DrawFn) -> str:
    lines = draw(st.lists(LINES, max_size=12))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r", "mixed"]))
    if newline == "mixed":
        text = "".join(line + draw(st.sampled_from(["\n", "\r\n", "\r"])) for line in lines)
    else:
        text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    return draw(st.sampled_from(["", "", "\ufeff"])) + text


FUZZ = st.lists(st.sampled_from(list("AB=#'\"\\ \t\n\r$_{}:-xé\u00a0\u2028\ufeff") + ["export ", "${A}"]), max_size=40).map("".join)


# -------------------------------------------------------------------- tests


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env_texts())
@example("A=1\nB=${A}\nC=${MISSING}\nD=${C}\n")
@example("A\nB=${A:-x}\n")
@example("KEY=a#b c\nK2=#x y\nK3= #c\n")
@example("\ufeff\ufeffA=1\n")
@example("A=1\n\ufeffB=2\n")
@example("debug=true\nDEBUG=false\n")
@example('X="a\r\nb"\r\nY=2\r\n')
def test_generated_env_files_parse_as_python_dotenv_does(text: str) -> None:
    assert_same(text)


@settings(max_examples=1500, deadline=None)
@given(FUZZ)
def test_random_text_parses_as_python_dotenv_does(text: str) -> None:
    assert_same(text)


@pytest.mark.parametrize("data", [
    b"A=1\r\nB='x\r\ny'\r\nC=3\r\n",
    b"A=1\rB=\"x\ry\"\rC=3",
    b"\xef\xbb\xbfA=1\nB=2\n",
    b"\xef\xbb\xbf\xef\xbb\xbfA=1\n",
    b"export A=1\n  B = 2 # two\nC=\"multi\nline\"\nD=${A}-${B}\n",
])
def test_files_are_read_as_pydantic_settings_reads_them(tmp_path: Path, data: bytes) -> None:
    """File level: bytes, universal newlines and the BOM as dotenv_values(path) sees them."""
    path = tmp_path / ".env.production"
    path.write_bytes(data)
    with mock.patch.dict(os.environ, clear=True):
        want = {k.upper(): v for k, v in dotenv_values(path, encoding="utf8").items() if v is not None}
    doc = env_source.load_file(str(path), display_path="x", flag_environment=None, settings=env_source.EnvSettings({}, ()))
    assert not doc.problems
    assert {e.key.upper(): e.value for e in doc.entries} == want


def test_benchmark_corpus_parses_as_python_dotenv_does(tmp_path: Path) -> None:
    """Every file of a benchmark corpus (comments, quotes, export, CRLF, multi-line values)."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import corpus
    finally:
        sys.path.remove(str(REPO / "bench"))
    for i in range(400):
        _, data = corpus.env_file(0, i)
        text = data.decode("utf-8")
        assert_same(text)
        normalized = text.replace("\r\n", "\n")
        assert_same(normalized)


def test_unusual_lines_fall_back_to_python_dotenv() -> None:
    """The scanner stops at the first line it does not own; python-dotenv reads the rest."""
    text = "A=1\nB = spaced\nC=3\n"
    bindings, problems = env_source.parse_bindings(text)
    assert [(b.key, b.value, b.line, b.col) for b in bindings] == [("A", "1", 1, 1), ("B", "spaced", 2, 1), ("C", "3", 3, 1)]
    assert not problems
    bad = "A=1\nthis is not a binding\nC=3\n"
    bindings, problems = env_source.parse_bindings(bad, "f.env")
    assert [b.key for b in bindings] == ["A", "C"]
    assert [(p.path, p.line) for p in problems] == [("f.env", 2)]


def test_columns_point_at_the_key() -> None:
    bindings, _ = env_source.parse_bindings("  export  DEBUG=true\n\tX=1\n")
    assert [(b.key, b.col) for b in bindings] == [("DEBUG", 11), ("X", 2)]


PLAIN_LINES = st.one_of(
    st.just(""),
    st.sampled_from(["# comment", "#", "# KEY=value", "#\tx 'y' \"z\""]),
    st.builds(
        lambda export, key, value, tail: f"{export}{key}={value}{tail}",
        st.sampled_from(["", "", "export ", "export\t", "export  "]),
        st.sampled_from(["A", "export", "B", "a", "DEBUG", "debug", "K.E-Y", "_X1", "JWT_SECRET"]),
        st.one_of(
            st.lists(st.sampled_from(list("abcXYZ019_-./:@,;+*?!%&()[]{}<>|~^`#$\\é=") + ["${A}", "${B:-x}"]), max_size=6).map("".join),
            st.lists(st.sampled_from(list("ab #$=\t") + ["${A}"]), max_size=6).map(lambda b: "'" + "".join(b) + "'"),
            st.lists(st.sampled_from(list("ab #$='\t") + ["${A}", "${MISSING}"]), max_size=6).map(lambda b: '"' + "".join(b) + '"'),
        ),
        st.sampled_from(["", "", " # c", "\t#c", "  #"]),
    ),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(PLAIN_LINES, max_size=12).map("\n".join), st.sampled_from(["", "\n"]))
@example("A=1\nB='x y' # c\nC=\"${A}\"\n# done", "\n")
def test_plain_files_take_the_one_pass_shortcut_and_parse_as_python_dotenv_does(body: str, end: str) -> None:
    """Files of plain lines only (the common case) are read by ``_fast_columns``, and still agree."""
    text = body + end
    if not text.startswith("="):  # every line is plain, so the shortcut must answer
        assert env_source._fast_columns(text) is not None, repr(text)
    assert_same(text)


def test_anything_unusual_leaves_the_shortcut() -> None:
    for text in (" export A=1\n", " A=1\n", "A=1 \n", "A = 1\n", "A='x\\'y'\n", "A=1\r\nB=2\n", "A\n"):
        assert env_source._fast_columns(text) is None, repr(text)
    assert env_source._fast_columns("A=1\n# c\n\nB='two words' # c\n") == (["A", "B"], ["1", "two words"], [1, 4], None)
    assert env_source._fast_columns("export A=1\nB=2\n") == (["A", "B"], ["1", "2"], [1, 2], [8, 1])
