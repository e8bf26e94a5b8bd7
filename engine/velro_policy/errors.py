"""Errors that stop a run.  Each becomes one line on stderr and exit code 2.

Raise them deep with a message that names ``file:line:col`` when there is
one and says what to do; ``error_handler`` turns them into output.
Findings are data, never exceptions.
"""
from __future__ import annotations


class VelroError(Exception):
    """Base: the run could not check what it was asked to check."""

    def __init__(self, message: str, *, path: str = "", line: int = 0, col: int = 0) -> None:
        self.path, self.line, self.col = path, line, col
        where = path + (f":{line}" if line else "") + (f":{col}" if line and col else "")
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(VelroError):
    """The project config (velro-policy.yaml / pyproject.toml) is invalid."""


class PolicyError(VelroError):
    """A policy file is invalid (YAML, schema, operator, regex)."""


class InputError(VelroError):
    """An input file could not be read at all (missing path, unreadable)."""


class ScanError(VelroError):
    """An external scanner (Semgrep, git) failed or is missing."""
