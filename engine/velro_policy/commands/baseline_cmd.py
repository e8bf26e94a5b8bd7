"""``velro-policy baseline create`` / ``update``: record today's findings so only new ones fail."""
from __future__ import annotations

import sys

from velro_policy.commands.run import Options, collect
from velro_policy.settle import baseline


def create(paths: list[str], output: str, *, targets: list[str] | None, policies: list[str],
           environment: str | None, config: str | None, use_cache: bool) -> int:
    """Write the baseline; exit 2 when some file could not be checked (a baseline
    made from a partial run would hide findings in the files that failed)."""
    from velro_policy.outfiles import target_of

    target_of(output)  # a symlink out of the repository is refused before the run
    result = collect(Options(paths=paths, policies=policies, environment=environment, config=config,
                             targets=targets, use_cache=use_cache, formats=[], use_baseline=False))
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


def update(paths: list[str], output: str | None, *, targets: list[str] | None, policies: list[str],
           environment: str | None, config: str | None, use_cache: bool) -> int:
    """Rewrite the baseline in use (``--output``, the config's ``baseline``, else the default file)
    from today's findings: new ones added, fixed ones dropped; says how many of each."""
    import os

    from velro_policy.commands.run import load_pack

    if output is None:
        opts = Options(paths=paths, policies=policies, config=config, use_cache=use_cache)
        pack = load_pack(opts)
        root = os.path.abspath(paths[0] if len(paths) == 1 and os.path.isdir(paths[0]) else ".")
        output = baseline.resolve(None, pack.config, pack.config_path, root) or \
            os.path.join(baseline.project_folder(pack.config_path, root), baseline.DEFAULT_NAME)
    before = {e["fingerprint"] for e in baseline.read(output)} if os.path.isfile(output) else set()
    code = create(paths, output, targets=targets, policies=policies, environment=environment, config=config, use_cache=use_cache)
    if code == 0:
        after = {e["fingerprint"] for e in baseline.read(output)}
        sys.stdout.write(f"{len(after - before)} added, {len(before - after)} dropped (fixed), {len(after & before)} kept\n")
    return code
