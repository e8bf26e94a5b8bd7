"""``velro-policy --version``: our version and the Semgrep the code rules would run."""
from __future__ import annotations

from velro_policy import __version__


def version_text() -> str:
    from velro_policy.inputs.code import semgrep_version

    return f"velro-policy, version {__version__}\nsemgrep: {semgrep_version()}"
