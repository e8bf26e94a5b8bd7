"""Judging whether a string is a placeholder, a weak secret or a real one.

Shared by the ``not_placeholder`` / ``min_entropy`` / ``not_weak_secret``
operators, the template rule and masking.  Stdlib only.
"""
from __future__ import annotations

import math
import re
from collections import Counter

_PLACEHOLDER = re.compile(
    r"""^(
        replace[_-]?(with|me)\b.* | .*\breplace[_-]?with[_-].* | change[_-]?(me|this|it)\b.* | .*changeme.*
      | your[_-].*[_-]?(here|key|secret|token|password)? | .*[_-]here$ | <[^>]*> | \{\{.*\}\} | \$\{[^}]*\}
      | x{3,} | \*{3,} | \.{3,} | todo | tbd | fixme | placeholder.* | .*[_-]placeholder
      | example.* | .*[_-]example | sample.* | dummy.* | fake.* | test | secret | password | none | null
      | insert[_-].* | put[_-].* | set[_-]?(me|this)\b.* | enter[_-].* | add[_-]your.* | generate[_-].*
      | (super[_-]?)?secret[_-]?key | my[_-]?secret.* | s3cr3t | default | undefined
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

_WORDS = (
    "password", "secret", "changeme", "change", "admin", "letmein", "welcome", "qwerty",
    "default", "token", "jwt", "key", "test", "development", "production", "staging",
    "velro", "supabase", "super", "my", "your", "dev", "prod", "local", "example", "sample",
    "abc", "123", "1234", "12345", "123456", "this", "is", "a", "very", "long", "string",
    "random", "insecure", "unsafe", "not", "do", "use", "in", "app", "api", "the", "for",
)
_WORD_RE = re.compile("|".join(sorted((re.escape(w) for w in _WORDS), key=len, reverse=True)), re.IGNORECASE)


def is_placeholder(value: str) -> bool:
    """REPLACE_WITH_..., changeme, your-...-here, <...>, xxx, example, ..."""
    v = value.strip()
    return not v or bool(_PLACEHOLDER.match(v))


def entropy_per_char(value: str) -> float:
    """Shannon entropy of the character distribution, in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


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
    covered = sum(len(m.group(0)) for m in _WORD_RE.finditer(value))
    letters = sum(1 for ch in value if ch.isalnum())
    if letters and covered / letters > 0.5:
        return "it is made mostly of dictionary words"
    return None


def looks_like_real_secret(value: str, *, min_length: int = 20, min_bits_per_char: float = 3.0) -> bool:
    """A long, random-looking, non-placeholder value: what must not be in a template or in git."""
    v = value.strip()
    if len(v) < min_length or is_placeholder(v) or " " in v:
        return False
    if weakness(v) is not None:
        return False
    return entropy_per_char(v) >= min_bits_per_char
