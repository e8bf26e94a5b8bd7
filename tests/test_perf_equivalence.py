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

from velro_policy import environments, secret_quality, selectors
from velro_policy.evaluate import Evaluator, _applies
from velro_policy.pack import load as load_pack
from velro_policy.sources import env as env_source

REPO = Path(__file__).resolve().parents[1]


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
    docs = _corpus_documents(tmp_path, 300)
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
    flat = re.compile(secret_quality._WORD_RE_FLAT, re.IGNORECASE)
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
