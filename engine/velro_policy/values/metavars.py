"""Semgrep metavariable names (``$LIMIT``) as they appear in rule messages and selectors."""
from __future__ import annotations

import re

METAVAR = re.compile(r"\$[A-Z_][A-Z0-9_]*")
