"""Marking env files that git holds, so a policy can forbid committed secrets.

The guide's production env files say "DO NOT commit".  Policies judge values,
not git state, so this step makes the git state addressable: for every
production or staging env file that git tracks or has staged, each value is
repeated as an entry under the ``__git__`` prefix (``__git__["JWT_SECRET"]``),
keyed ``JWT_SECRET (in the git index)``.  The policy
``policies/velro/env-committed-secrets.yaml`` selects those entries and
checks them with ``not_real_secret``.  Nothing else selects ``__git__``.

Cost: git is asked only when some production/staging env file holds a
real-looking value under a secret-looking key, with one ``git ls-files``
for all of them; ``lint .env`` with placeholders never starts git.  Under
``--staged`` every checked file is in the index by definition: no git call.
"""
from __future__ import annotations

from typing import Callable, Optional

from velro_policy.masking import is_secret_key
from velro_policy.model import Document, Entry
from velro_policy.secret_quality import looks_like_real_secret

GIT_PREFIX = "__git__"
KEY_SUFFIX = " (in the git index)"
ENVIRONMENTS = ("production", "staging")


def _candidate(doc: Document) -> bool:
    return (
        doc.target == "env" and not doc.is_template and doc.environment in ENVIRONMENTS and not doc.problems
        and any(isinstance(e.value, str) and is_secret_key(e.key) and looks_like_real_secret(e.value) for e in doc.entries)
    )


def mark(documents: list[Document], *, in_index: Optional[bool] = None,
         real_path: Callable[[str], str] = lambda p: p) -> list[Document]:
    """Documents, with git-held candidates given their ``__git__`` entries.

    ``in_index=True`` (``--staged``) skips the git call: every file is staged.
    """
    candidates = [i for i, d in enumerate(documents) if _candidate(d)]
    if not candidates:
        return documents
    if in_index:
        held = {i for i in candidates}
    else:
        import os

        from velro_policy import gitrepo

        index = gitrepo.tracked([real_path(documents[i].path) for i in candidates])
        held = {i for i in candidates if os.path.realpath(real_path(documents[i].path)) in index}
    out = list(documents)
    for i in held:
        doc = documents[i]
        extra = tuple(
            Entry(e.key + KEY_SUFFIX, e.value, e.loc, (GIT_PREFIX, e.key))
            for e in doc.entries if isinstance(e.value, str)
        )
        out[i] = doc._replace(entries=doc.entries + extra)
    return out
