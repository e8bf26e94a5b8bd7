"""The source registry.  A new input source: one module here that satisfies
``Source`` and one line in ``SOURCES``.

A source claims files (by name, or because they were named explicitly) and
turns them into ``Document``s whose entries the policies select.  ``load``
receives all of its files at once so a source can batch (Semgrep runs once).
"""
from __future__ import annotations

from typing import Any, Iterator, NamedTuple, Protocol

from velro_policy.model import Document
from velro_policy.sources import code, env, http, settings


class LoadContext(NamedTuple):
    """What a source may need besides its files."""

    config: dict[str, Any]
    rules: list[dict[str, Any]]  # rules in force (a source may use its target's rules)
    flag_environment: str | None
    root: str
    display: Any  # callable(path) -> display path
    explicit: frozenset[str] = frozenset()  # files named on the command line (normalised paths)


class Source(Protocol):
    @property
    def NAME(self) -> str: ...  # noqa: N802

    @property
    def TARGET(self) -> str: ...  # noqa: N802

    def claims(self, path: str, explicit: bool, config: dict[str, Any]) -> bool: ...

    def load(self, paths: list[str], ctx: LoadContext) -> Iterator[Document]: ...


SOURCES: dict[str, Source] = {
    env.NAME: env,
    code.NAME: code,
    settings.NAME: settings,
    http.NAME: http,
}
