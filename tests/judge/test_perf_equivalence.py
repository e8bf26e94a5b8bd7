"""The speed-ups on the ``lint`` path change nothing but speed.

- the evaluator's per-run caches (rules selecting a key, rules in force per
  environment, verdicts on repeated values) give the findings and the
  "applied" rules that a fresh, cache-less evaluation gives, on every file of
  a benchmark corpus and on the examples;
- the trie regex for dictionary words counts what the flat alternation counts;
- memoised selector matching answers as the matcher does.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from velro_policy.inputs import env as env_source
from velro_policy.judge.evaluate import Evaluator, _applies
from velro_policy.policy.pack import load as load_pack
from velro_policy.values import environments, secret_quality, selectors

REPO = Path(__file__).resolve().parents[2]


def _corpus_documents(tmp_path: Path, count: int) -> list:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import corpus
    finally:
        sys.path.remove(str(REPO / "bench"))
    paths = corpus.generate(str(tmp_path / "corpus"), "env", count, seed=3)
    paths += [str(p) for p in sorted((REPO / "examples").rglob("*")) if p.is_file() and env_source.is_env_file(p.name)]
    settings_ = env_source.EnvSettings(dict(environments.DEFAULT_ALIASES), environments.DEFAULT_KEYS)
    return [env_source.load_file(p, display_path=p, flag_environment=None, settings=settings_) for p in paths]


def test_cached_evaluation_equals_fresh_evaluation(tmp_path: Path) -> None:
    rules = load_pack(None, [], use_cache=False).rules
    from velro_policy.inputs import committed

    docs = committed.mark(_corpus_documents(tmp_path, 300), in_index=True)  # with __git__ entries beyond the columns
    assert any(getattr(d.entries, "extra", ()) for d in docs)
    fast = Evaluator(rules)
    got = [f for doc in docs for f in fast.evaluate(doc)]
    want = []
    applied: set[str] = set()
    for doc in docs:
        for rule in rules:
            if _applies(rule, doc) and doc.target != "code":
                fresh = Evaluator(rules)  # no cache shared with any other file or rule
                want.extend(fresh._evaluate_rule(rule, doc))  # selection the slow way, no verdict memo
                applied |= fresh.applied
    assert got == want
    assert fast.applied == applied
    assert len(got) > 100  # the corpus does violate the policies


WORDS = st.lists(st.sampled_from([*secret_quality._WORDS, "X", "İ", "ſ", "K", "-", "A", "In"]), max_size=8).map("".join)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(WORDS, st.text(max_size=30)))
def test_word_trie_counts_what_the_flat_alternation_counts(value: str) -> None:
    flat = re.compile(secret_quality._word_re_flat(), re.IGNORECASE)
    reference = sum(len(m.group(0)) for m in flat.finditer(value))
    assert secret_quality._words_covered(value) == reference


SELECTORS = st.sampled_from(["DEBUG", "*CORS*ORIGINS", "*_KEY", "SECURITY_HEADERS[\"X-Frame-Options\"]", "**[\"Strict-Transport-Security\"]", "*", "Settings.debug"])
PARTS = st.lists(st.one_of(st.sampled_from(["DEBUG", "debug", "CORS_ORIGINS", "JWT_KEY", "SECURITY_HEADERS", "X-Frame-Options", "Settings", "Strict-Transport-Security"]), st.integers(0, 3)), min_size=1, max_size=3).map(tuple)


@settings(max_examples=1000, deadline=None)
@given(SELECTORS, PARTS)
def test_memoised_selector_matching_answers_as_the_matcher(selector: str, parts: tuple) -> None:
    pattern = selectors.compile_selector(selector)
    assert selectors.matches(pattern, parts) == selectors._matches(pattern, parts)
    assert selectors.matches(pattern, parts) == selectors._matches(pattern, parts)  # second call: from the memo


PLACEHOLDER_BITS = st.lists(st.sampled_from([
    "replace", "with", "me", "Change", "THIS", "your", "here", "key", "Example", "placeholder", "x", "*", ".", "<", ">",
    "{{", "}}", "${", "}", "todo", "TBD", "Secret", "_", "-", "my", "s3cr3t", "Default", "set", "put", "fake", "K", "İ", "ſ",
]), max_size=7).map("".join)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(PLACEHOLDER_BITS, st.text(max_size=30)))
def test_placeholder_test_on_lowered_ascii_answers_as_the_ignorecase_pattern(value: str) -> None:
    v = value.strip()
    assert secret_quality.is_placeholder(value) == (not v or bool(secret_quality.placeholder_pattern(True).match(v)))


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=80))
def test_entropy_formula_equals_the_textbook_one(value: str) -> None:
    import math
    from collections import Counter

    n = len(value)
    textbook = -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if value else 0.0
    assert abs(secret_quality.entropy_per_char(value) - textbook) < 1e-9


def test_project_rules_on_columns_equal_project_rules_on_entries(tmp_path: Path) -> None:
    """The project checks read EnvEntries columns; on plain Entry tuples they must say the same."""
    from velro_policy.judge import project as crossfile

    sys.path.insert(0, str(REPO / "bench"))
    try:
        import corpus
    finally:
        sys.path.remove(str(REPO / "bench"))
    corpus.generate(str(tmp_path / "corpus"), "env", 200, seed=5)
    extra = tmp_path / "corpus" / "odd"  # a folder that trips the template and parity checks
    extra.mkdir()
    (extra / ".env.example").write_text("A=<placeholder>\nUNUSED=https://example.org/x\n")
    (extra / ".env.production").write_text("A=1\nJWT_SECRET_KEY=abc\nDEBUG=false\n")
    (extra / ".env.staging").write_text("export a=2\nDEBUG=false\nRATE_LIMIT_LOGIN=5/minute\n")
    paths = sorted(str(p) for p in (tmp_path / "corpus").rglob("*") if p.is_file() and env_source.is_env_file(p.name))
    settings_ = env_source.EnvSettings(dict(environments.DEFAULT_ALIASES), environments.DEFAULT_KEYS)
    docs = [env_source.load_file(p, display_path=p, flag_environment=None, settings=settings_) for p in paths]
    rules = load_pack(None, [], use_cache=False).rules
    as_tuples = [d._replace(entries=tuple(d.entries)) for d in docs]
    key = b"\0" * 32
    import unittest.mock as mock

    with mock.patch("os.urandom", return_value=key):  # the same MAC key both times
        got = crossfile.evaluate(docs, rules, {})
        want = crossfile.evaluate(as_tuples, rules, {})
    assert got == want
    assert len({f.rule_id for f in got}) >= 3, got  # the corpus does trip project rules


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["DEBUG", "debug", "JWT_SECRET_KEY", "CORS_ORIGINS", "ALLOWED_ORIGINS", "RATE_LIMIT_LOGIN", "X", "SECURITY_HEADERS",
                        "Strict-Transport-Security", "ENVIRONMENT", "SUPABASE_SERVICE_ROLE_KEY", "APP_SECRET", "__git__"]),
       st.sampled_from(["production", "staging", "development", "test", "template"]))
def test_key_index_selects_what_matching_every_selector_selects(key: str, environment: str) -> None:
    rules = _PACK_RULES or _PACK_RULES.extend(load_pack(None, [], use_cache=False).rules) or _PACK_RULES
    ev = Evaluator(rules)
    scope = ("env", environment)
    in_force = [r for r in rules if r.target == "env" and environment in r.environments]
    assert ev._select_key(key, scope, in_force) == ev._select(((key,),), in_force)


_PACK_RULES: list = []


GLOBS = st.lists(st.sampled_from(["test_*.py", "*_test.py", "conftest.py", "tests/*", "test/*", "*/migrations/*", "vendor/**",
                                  "a?c.py", "[ab]*.py", "*.py", "docs", "x/y/*.py"]), max_size=4)
PATHS = st.lists(st.sampled_from(["tests", "test", "app", "a", "b", "x", "y", "migrations", "vendor", "..", ".", "Tests",
                                  "test_a.py", "a_test.py", "conftest.py", "abc.py", "b1.py", "m.py", "..x.py"]),
                 min_size=1, max_size=5).map("/".join)


@settings(max_examples=2000, deadline=None)
@given(PATHS, GLOBS, st.sampled_from([None, "", "/tmp", "/nonexistent/root"]))
def test_one_regex_tail_glob_match_answers_as_fnmatch_over_every_tail(path: str, patterns: list, root) -> None:
    import os
    from fnmatch import fnmatch

    from velro_policy.inputs import _files

    def reference_relative(p: str, r) -> str:
        for base in (r, os.getcwd()):
            if base:
                rel = os.path.relpath(os.path.abspath(p), base)
                if not rel.startswith(".."):
                    return rel.replace(os.sep, "/")
        return os.path.abspath(p).lstrip(os.sep).replace(os.sep, "/")

    assert _files.project_relative(path, root) == reference_relative(path, root)
    parts = reference_relative(path, root).split("/")
    tails = ["/".join(parts[i:]) for i in range(len(parts))]
    # a pattern without "/" matches the file name only (gitignore's rule); one with "/" any tail
    assert _files.tail_glob_match(path, patterns, root) == any(
        fnmatch(parts[-1], p) if "/" not in p else any(fnmatch(t, p) for t in tails) for p in patterns)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="ab_*?", min_size=1, max_size=7), st.text(alphabet="ab_", max_size=9))
def test_segment_globs_without_a_regex_answer_as_fnmatchcase(glob: str, name: str) -> None:
    """`*CORS*ORIGINS`-like globs are matched piece by piece (a regex compile per glob cost
    about a fifth of `lint .env`); the answer is fnmatchcase's for every glob."""
    from fnmatch import fnmatchcase

    assert selectors._segment_matcher(glob)(name) == fnmatchcase(name, glob)
