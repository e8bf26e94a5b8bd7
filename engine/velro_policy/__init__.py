"""velro-policy: policy-as-code for application security configuration.

Only the version lives here so that ``import velro_policy`` stays free.
"""
from __future__ import annotations

__version__ = "0.1.0"
