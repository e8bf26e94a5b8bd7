"""Judging whether a string is a placeholder, a weak secret or a real one.

Shared by the ``not_placeholder`` / ``min_entropy`` / ``not_weak_secret``
operators, the template rule and masking.  Stdlib only.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from functools import cache
from operator import mul

_PLACEHOLDER_SOURCE = (
    r"""^(
        replace[_-]?(with|me)(\b|_).* | .*\breplace[_-]?with[_-].* | change[_-]?(me|this|it)(\b|_).* | .*changeme.*
      | your[_-].*[_-]?(here|key|secret|token|password)? | .*[_-]here$ | <[^>]*> | \{\{.*\}\} | \$\{[^}]*\}
      | x{3,} | \*{3,} | \.{3,} | todo | tbd | fixme | placeholder.* | .*[_-]placeholder
      | example.* | .*[_-]example | sample.* | dummy.* | fake.* | test | secret | password | none | null
      | insert[_-].* | put[_-].* | set[_-]?(me|this)(\b|_).* | enter[_-].* | add[_-]your.* | generate[_-].*
      | (super[_-]?)?secret[_-]?key | my[_-]?secret.* | s3cr3t | default | undefined
    )$"""
)


@cache
def placeholder_pattern(ignorecase: bool) -> re.Pattern[str]:
    """Compiled on first use (it costs ~1 ms, a fifth of a one-file lint's own work).
    ``ignorecase=False`` is for ASCII text lowered first: IGNORECASE makes every
    ``.*`` alternative several times slower, and the project rules test every
    secret value of every file."""
    return re.compile(_PLACEHOLDER_SOURCE, (re.IGNORECASE if ignorecase else 0) | re.VERBOSE)

_WORDS = (
    "password", "secret", "changeme", "change", "admin", "letmein", "welcome", "qwerty",
    "default", "token", "jwt", "key", "test", "development", "production", "staging",
    "velro", "supabase", "super", "my", "your", "dev", "prod", "local", "example", "sample",
    "abc", "123", "1234", "12345", "123456", "this", "is", "a", "very", "long", "string",
    "random", "insecure", "unsafe", "not", "do", "use", "in", "app", "api", "the", "for",
)


def _trie_pattern(words: tuple[str, ...]) -> str:
    """One regex for "the longest of these words at this position", as a trie.

    Equivalent to the alternation of the words longest first, but a flat
    alternation makes the regex engine try every word at every position
    (about 100 us for a 128-character secret); the trie tries only the words
    that start with the character at hand.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word.lower():
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        if "" in node:  # a word ends here; a longer one is tried first (greedy)
            return "(?:" + "|".join(alts) + ")?"
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return build(trie)


@cache
def _word_pattern(ignorecase: bool) -> re.Pattern[str]:
    """The trie regex, built on first use; ``ignorecase=False`` for ASCII text lowered first
    (20x faster than IGNORECASE)."""
    return re.compile(_trie_pattern(_WORDS), re.IGNORECASE if ignorecase else 0)


def _word_re_flat() -> str:
    """The plain alternation the trie must equal (the reference of the tests)."""
    return "|".join(sorted((re.escape(w) for w in _WORDS), key=len, reverse=True))


def _words_covered(value: str) -> int:
    """How many characters of ``value`` dictionary words cover (longest word at each position)."""
    if value.isascii():
        return sum(map(len, _word_pattern(False).findall(value.lower())))
    return sum(map(len, _word_pattern(True).findall(value)))


def is_placeholder(value: str) -> bool:
    """REPLACE_WITH_..., changeme, your-...-here, <...>, xxx, example, ..."""
    v = value.strip()
    if not v:
        return True
    if v.isascii():
        return bool(placeholder_pattern(False).match(v.lower()))
    return bool(placeholder_pattern(True).match(v))


def entropy_per_char(value: str) -> float:
    """Shannon entropy of the character distribution, in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    counts = list(Counter(value).values())
    # -sum(c/n * log2(c/n)) rearranged so the loop runs in C (map), not in a generator.
    return max(0.0, math.log2(n) - math.fsum(map(mul, counts, map(math.log2, counts))) / n)


def entropy_bits(value: str) -> float:
    """Estimated total entropy: bits per character times length."""
    return entropy_per_char(value) * len(value)


def repeated_unit(value: str) -> str | None:
    """The short unit a value repeats (``abcabcabc`` -> ``abc``), if any."""
    n = len(value)
    for size in range(1, n // 2 + 1):
        if n % size == 0 and value[:size] * (n // size) == value:
            return value[:size]
    return None


def weakness(value: str) -> str | None:
    """Why a secret is weak (repeated, few distinct characters, dictionary words), or None."""
    if not value:
        return "it is empty"
    if repeated_unit(value) is not None:
        return "it repeats a short pattern"
    if len(set(value)) < min(10, max(2, len(value) // 2)):
        return f"it uses only {len(set(value))} distinct characters"
    covered = _words_covered(value)
    letters = sum(map(str.isalnum, value))
    if letters and covered / letters > 0.5:
        return "it is made mostly of dictionary words"
    return None


def url_password(value: str) -> str | None:
    """The password of a ``scheme://user[:password]@host`` value ("" when its userinfo
    has none), or None when the value is not a URL with userinfo."""
    start = value.find("://")
    if start < 0 or any(c.isspace() for c in value[:start]):
        return None
    rest = value[start + 3:]
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, cut)
    if at < 0:
        return None  # no userinfo: judged whole (a token in the path of a webhook URL)
    _, colon, password = rest[:at].partition(":")
    return password if colon else ""


def looks_like_real_secret(value: str, *, min_length: int = 20, min_bits_per_char: float = 3.0) -> bool:
    """A long, random-looking, non-placeholder value: what must not be in a template or in git.

    A URL is judged by its password alone: ``postgresql://u:${POSTGRES_PASSWORD}@db/app``
    (a reference, resolved at run time) or ``postgresql://u:@db/app`` (an empty one)
    holds no secret, however random its host and database names look.  A URL
    without userinfo is judged whole."""
    v = value.strip()
    password = url_password(v) if "://" in v else None
    if password is not None:
        if not password or "${" in password or is_placeholder(password):
            return False
        return len(password) >= 8 and weakness(password) is None and entropy_per_char(password) >= 2.5
    if len(v) < min_length or is_placeholder(v) or " " in v:
        return False
    if weakness(v) is not None:
        return False
    return entropy_per_char(v) >= min_bits_per_char
