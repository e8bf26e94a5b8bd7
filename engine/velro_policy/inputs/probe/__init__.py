"""``velro-policy probe``: post-deployment checks of a running service.

``plan`` reads the probe plan (which paths to request), ``client`` sends
requests safely (one host only, bounded in count, size and time, no real
credentials, TLS verified), ``runner`` turns the plan into the probe
requests, and ``sources.http`` turns the exchanges into documents that the
``http`` policies judge.  httpx is imported only here, never on the
``lint`` path.
"""
from __future__ import annotations
