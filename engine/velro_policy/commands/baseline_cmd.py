"""``velro-policy baseline create``: record today's findings so only new ones fail."""
from __future__ import annotations

import sys

from velro_policy.commands.run import Options, collect
from velro_policy.settle import baseline


def create(paths: list[str], output: str, *, targets: list[str] | None, policies: list[str],
           environment: str | None, config: str | None, use_cache: bool) -> int:
    """Write the baseline; exit 2 when some file could not be checked (a baseline
    made from a partial run would hide findings in the files that failed)."""
    result = collect(Options(paths=paths, policies=policies, environment=environment, config=config,
                             targets=targets, use_cache=use_cache, formats=[]))
    if result.problems:
        for p in result.problems:
            sys.stderr.write(f"velro-policy: error: {p.path}:{p.line}:{p.col}: {p.message}\n")
        sys.stderr.write("velro-policy: error: baseline not written: fix or exclude the files above first\n")
        return 2
    doc, left_out = baseline.build(result.findings, list(result.rules), output)
    baseline.write(doc, output)
    n = len(doc["entries"])
    sys.stdout.write(f"wrote {output}: {n} finding{'s' if n != 1 else ''} baselined (fingerprints, rule ids and paths only)\n")
    if left_out:
        sys.stdout.write(f"{left_out} finding(s) of non-suppressible rules were not baselined: fix them (velro-policy check shows them)\n")
    return 0
