"""The source registry.  A new input source: one module here that satisfies
``Source`` and one line in ``TARGETS``.

A source claims files (by name, or because they were named explicitly) and
turns them into ``Document``s whose entries the policies select.  ``load``
receives all of its files at once so a source can batch (Semgrep runs once).
"""
from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module
from typing import Any, NamedTuple, Protocol

from velro_policy.model import Document
from velro_policy.rules import Rule


class LoadContext(NamedTuple):
    """What a source may need besides its files."""

    config: dict[str, Any]
    rules: list[Rule]  # rules in force (a source may use its target's rules)
    flag_environment: str | None
    root: str
    display: Any  # callable(path) -> display path
    explicit: frozenset[str] = frozenset()  # files named on the command line (normalised paths)
    # absolute path -> (text, ast tree) of a module the run parsed already (the application model), or None:
    # a Python module is parsed once per run, whichever input reads it first.
    parsed: Any = None


class Source(Protocol):
    @property
    def NAME(self) -> str: ...  # noqa: N802

    @property
    def TARGET(self) -> str: ...  # noqa: N802

    def claims(self, path: str, explicit: bool, config: dict[str, Any]) -> bool: ...

    def load(self, paths: list[str], ctx: LoadContext) -> Iterator[Document]: ...


# source name -> the target its documents have (each module's NAME and TARGET; a test keeps them equal).
TARGETS: dict[str, str] = {"env": "env", "code": "code", "settings": "settings", "http": "http"}


class _Sources(dict):
    """name -> source module, imported on first use (a hook run with ``--target env``
    never loads the settings, code and http sources)."""

    def __missing__(self, name: str) -> Source:
        if name not in TARGETS:
            raise KeyError(name)
        module: Source = import_module(f"velro_policy.inputs.{name}")
        self[name] = module
        return module


SOURCES: dict[str, Source] = _Sources()


def sources_for(targets: Iterator[str] | list[str] | tuple[str, ...] | None) -> dict[str, Source]:
    """The sources of these targets (None: every source), in registry order."""
    wanted = None if targets is None else set(targets)
    return {name: SOURCES[name] for name, target in TARGETS.items() if wanted is None or target in wanted}
