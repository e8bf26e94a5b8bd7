"""The baseline: adopt velro-policy on an old codebase without fixing everything first.

``velro-policy baseline create`` writes ``.velro-policy-baseline.json``: one
entry per finding with its fingerprint, rule id and path (relative to the
baseline file) and nothing else, so never a value.  With ``--baseline FILE``
a finding whose fingerprint is in the baseline is marked suppressed
("baseline") and does not fail the run; entries no finding matched any more
are reported as fixed.

Fingerprints are keyed by what a finding is about (rule, file, config key or
code construct, environment), never by line number: inserting lines above a
baselined finding does not make it new (detect-secrets' baseline keys on
line numbers, its most common complaint).  Paths in the fingerprint are taken
relative to the baseline file's folder, so a run from another directory
matches the same entries.  Entries are matched as a multiset: two identical
findings need two entries.

Findings of ``suppressible: false`` rules are never baselined: a critical
rule is fixed, not grandfathered.  Stdlib only.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

from velro_policy.errors import InputError
from velro_policy.model import FileSummary, Finding, fingerprint
from velro_policy.rules import Rule

DEFAULT_NAME = ".velro-policy-baseline.json"
VERSION = 1


def _rel(path: str, base_dir: str) -> str:
    return os.path.relpath(os.path.abspath(path), base_dir).replace(os.sep, "/")


def identity(f: Finding, base_dir: str) -> str:
    """The finding's fingerprint with its path taken relative to ``base_dir``.

    Equals ``Finding.fingerprint`` when velro-policy runs from the baseline's
    folder.  A finding fingerprinted by another scheme (e.g. a source of its
    own) keeps that fingerprint as a component.
    """
    rel = _rel(f.path, base_dir)
    for variant in ("", "unknown"):
        if f.fingerprint == fingerprint(f.rule_id, f.path, f.key, f.environment, variant):
            return fingerprint(f.rule_id, rel, f.key, f.environment, variant)
    return fingerprint(f.rule_id, rel, f.key, f.environment, f.fingerprint)


def eligible(f: Finding, rules: dict[str, Rule]) -> bool:
    """Only active findings of suppressible policy rules go into a baseline."""
    rule = rules.get(f.rule_id)
    return not f.suppressed and rule is not None and rule.suppressible is not False


def build(findings: Iterable[Finding], rules: list[Rule], path: str) -> tuple[dict[str, Any], int]:
    """(baseline document, number of findings left out because they cannot be baselined)."""
    base_dir = os.path.dirname(os.path.abspath(path))
    by_id = {str(r.id): r for r in rules}
    entries = []
    left_out = 0
    for f in findings:
        if eligible(f, by_id):
            entries.append({"fingerprint": identity(f, base_dir), "rule_id": f.rule_id, "path": _rel(f.path, base_dir)})
        elif not f.suppressed:
            left_out += 1
    entries.sort(key=lambda e: (e["path"], e["rule_id"], e["fingerprint"]))
    return {"version": VERSION, "tool": "velro-policy", "entries": entries}, left_out


def write(doc: dict[str, Any], path: str) -> None:
    """Atomically, never through a symlink out of the repository (``outfiles``)."""
    from velro_policy.outfiles import write_text

    write_text(path, json.dumps(doc, indent=2, sort_keys=True) + "\n", what="the baseline")


MAX_BYTES = 16 * 1024 * 1024  # a baseline of ~100,000 findings; larger is refused unread


def read(path: str) -> list[dict[str, str]]:
    """The entries of a baseline file; any defect is an InputError (exit 2)."""
    from velro_policy.inputs._files import special_kind

    try:
        if special_kind(path) is not None:  # found by itself in the repository: a FIFO or /dev/zero must not hang the run
            raise OSError("not a regular file")
        with open(path, encoding="utf-8") as fh:
            text = fh.read(MAX_BYTES + 1)
        if len(text) > MAX_BYTES:
            raise OSError("larger than 16 MiB")
    except FileNotFoundError:
        raise InputError("baseline file not found; create it with `velro-policy baseline create`", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the baseline ({exc.__class__.__name__}); recreate it with `velro-policy baseline create`", path=path) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"baseline is not valid JSON ({exc.msg}); recreate it with `velro-policy baseline create`",
                         path=path, line=exc.lineno, col=exc.colno) from None
    entries = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list) or doc.get("version") != VERSION or not all(
        isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("fingerprint", "rule_id", "path")) for e in entries
    ):
        raise InputError(f"not a velro-policy baseline (version {VERSION} with entries of fingerprint, rule_id, path); "
                         "recreate it with `velro-policy baseline create`", path=path, line=1)
    return entries


def apply(
    findings: list[Finding],
    path: str,
    rules: list[Rule],
    files: Iterable[FileSummary],
) -> tuple[list[Finding], list[dict[str, str]], list[str]]:
    """(findings with baselined ones suppressed, fixed entries, notes).

    An entry counts as fixed only when its file was checked in this run and
    its rule was in force: a run over one file says nothing about the others.
    """
    entries = read(path)
    base_dir = os.path.dirname(os.path.abspath(path))
    by_id = {str(r.id): r for r in rules}
    left = Counter(e["fingerprint"] for e in entries)
    out: list[Finding] = []
    refused = 0
    for f in findings:
        if not f.suppressed:
            fp = identity(f, base_dir)
            if left[fp] > 0:
                if eligible(f, by_id):
                    left[fp] -= 1
                    f = f._replace(suppressed="baseline")
                else:
                    refused += 1
        out.append(f)
    checked = {_rel(s.path, base_dir) for s in files}
    fixed: list[dict[str, str]] = []
    for e in entries:
        if left[e["fingerprint"]] > 0 and e["path"] in checked and e["rule_id"] in by_id:
            left[e["fingerprint"]] -= 1
            fixed.append({"rule_id": e["rule_id"], "path": e["path"], "fingerprint": e["fingerprint"]})
    notes = [f"baseline {_display(path)}: {sum(1 for f in out if f.suppressed == 'baseline')} known finding(s) not failing the run"]
    if fixed:
        notes.append(f"baseline: {len(fixed)} finding(s) fixed since the baseline was made; "
                     "run `velro-policy baseline create` to drop them: "
                     + ", ".join(f"{e['rule_id']} in {e['path']}" for e in fixed[:10]) + (" ..." if len(fixed) > 10 else ""))
    if refused:
        notes.append(f"baseline: {refused} finding(s) of non-suppressible rules still fail the run")
    return out, fixed, notes


def _display(path: str) -> str:
    rel = os.path.relpath(path)
    return (rel if not rel.startswith("..") else os.path.abspath(path)).replace(os.sep, "/")


def default_path(start: str | None = None) -> str:
    return os.path.join(start or ".", DEFAULT_NAME)


def project_folder(config_path: str | None, root: str) -> str:
    """Where the project's baseline lives: the config file's folder, else the nearest folder
    at or above ``root`` holding ``.git``, else ``root``."""
    if config_path:
        return os.path.dirname(os.path.abspath(config_path))
    from velro_policy.inputs._files import repository_top

    return repository_top(root) or os.path.abspath(root)


def resolve(cli_path: str | None, config: dict[str, Any], config_path: str | None, root: str) -> str | None:
    """The baseline a run uses: ``--baseline FILE``, else the config's ``baseline`` (relative to
    the config file; it must exist), else ``.velro-policy-baseline.json`` in the project folder
    when there is one.  One rule for every entry (CLI, git hooks, pre-commit, CI), so a finding
    baselined locally is baselined in the pull request too.  ``baseline: false`` turns it off."""
    if cli_path:
        return cli_path
    configured = config.get("baseline")
    folder = project_folder(config_path, root)
    if configured is False:
        return None
    if isinstance(configured, str) and configured:
        path = os.path.join(folder, configured)
        if not os.path.isfile(path):
            raise InputError(f"the config's baseline {configured!r} does not exist; create it with "
                             "`velro-policy baseline create` or remove the key", path=config_path or path)
        return path
    path = os.path.join(folder, DEFAULT_NAME)
    return path if os.path.isfile(path) else None
