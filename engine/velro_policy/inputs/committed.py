"""Marking env files that git holds, so a policy can forbid committed secrets.

The guide's production env files say "DO NOT commit".  Policies judge values,
not git state, so this step makes the git state addressable: for every
production or staging env file that git tracks or has staged, each value is
repeated as an entry under the ``__git__`` prefix (``__git__["JWT_SECRET"]``),
keyed ``JWT_SECRET (in the git index)``.  The policy
``policies/velro/env-committed-secrets.yaml`` selects those entries and
checks them with ``not_real_secret``.  Nothing else selects ``__git__``.

Cost: with a few production/staging env files, git is asked only when one
of them holds a real-looking value under a secret-looking key, with one
``git ls-files`` for all of them; ``lint .env`` with placeholders never
starts git.  With many (a monorepo), git is asked first, once, and only the
files it holds are searched for real-looking secrets.  Under ``--staged``
every checked file is in the index by definition: no git call.

Fail closed: when git refuses to answer for a candidate (``safe.directory``,
a bogus ``GIT_DIR``, git missing inside a repository), the file gets an
``io-error`` problem "could not check whether it is committed" (exit 2)
instead of passing as untracked.
"""
from __future__ import annotations

from collections.abc import Callable
from itertools import compress

from velro_policy.errors import ScanError
from velro_policy.model import Document, Entry, Problem
from velro_policy.values.masking import is_secret_key
from velro_policy.values.secret_quality import looks_like_real_secret

GIT_PREFIX = "__git__"
KEY_SUFFIX = " (in the git index)"
ENVIRONMENTS = ("production", "staging")


def _in_scope(doc: Document) -> bool:
    return doc.target == "env" and not doc.is_template and doc.environment in ENVIRONMENTS and not doc.problems


def _holds_real_secret(doc: Document) -> bool:
    """A secret-looking key holds a real-looking value (the key test is a cached verdict per key name)."""
    ents = doc.entries
    return any(isinstance(v, str) and looks_like_real_secret(v) for v in compress(ents.values, map(is_secret_key, ents.keys)))


# With more production/staging files than this, git is asked first (one call, ~10 ms)
# and only the files it holds are searched for real-looking secrets (~50 µs a file).
ASK_GIT_FIRST = 32


def git_index(paths: list[str], real_path: Callable[[str], str] = lambda p: p) -> set[str]:
    """Real paths of those of ``paths`` that git holds (one git call): what ``mark``
    asks itself, asked up front for workers (``parallel``)."""
    import os

    from velro_policy.inputs import git as gitrepo

    failures: list[str] = []
    held = gitrepo.tracked([os.path.realpath(real_path(p)) for p in paths], resolved=True, failures=failures)
    if failures:
        raise ScanError(f"could not check whether env files are committed: {failures[0]}")
    return held


def mark(documents: list[Document], *, in_index: bool | None = None,
         real_path: Callable[[str], str] = lambda p: p, index: set[str] | None = None) -> list[Document]:
    """Documents, with git-held candidates given their ``__git__`` entries.

    ``in_index=True`` (``--staged``) skips the git call: every file is staged.
    ``index``: the real paths git holds, when already known (``git_index``).
    """
    pool = [i for i, d in enumerate(documents) if _in_scope(d)]
    if not pool:
        return documents
    if in_index:
        held = [i for i in pool if _holds_real_secret(documents[i])]
    elif index is not None:
        import os

        held = [i for i in pool if os.path.realpath(real_path(documents[i].path)) in index and _holds_real_secret(documents[i])]
    else:
        import os

        if len(pool) <= ASK_GIT_FIRST:
            pool = [i for i in pool if _holds_real_secret(documents[i])]
            if not pool:
                return documents  # `lint .env` with placeholders never starts git
        from velro_policy.inputs import git as gitrepo

        real = {i: os.path.realpath(real_path(documents[i].path)) for i in pool}
        failures: list[str] = []
        index = gitrepo.tracked(list(real.values()), resolved=True, failures=failures)
        held = [i for i in pool if real[i] in index and (len(pool) <= ASK_GIT_FIRST or _holds_real_secret(documents[i]))]
        if failures:
            unsure = [i for i in pool if real[i] not in index and (len(pool) <= ASK_GIT_FIRST or _holds_real_secret(documents[i]))]
            if unsure:
                documents = list(documents)
                for i in unsure:
                    doc = documents[i]
                    problem = Problem(doc.display_path or doc.path, 0, 0,
                                      f"could not check whether it is committed to git: {failures[0]}", "io-error")
                    documents[i] = doc._replace(problems=(*doc.problems, problem))
    if not held:
        return documents
    out = list(documents)
    for i in held:
        doc = documents[i]
        extra = tuple(
            Entry(e.key + KEY_SUFFIX, e.value, e.loc, (GIT_PREFIX, e.key))
            for e in doc.entries if isinstance(e.value, str)
        )
        out[i] = doc._replace(entries=doc.entries.with_extra(extra))
    return out
