"""Suppression: inline ignores and config exceptions, under governance.

Runs once per run after evaluation (``commands.run.collect``).  Stdlib only:
it is on the ``lint .env`` path.

- Inline: ``# velro-policy: ignore[RULE_ID] reason`` on the finding's line,
  or alone on the line above it, in env files and Python.  Several ids are
  separated by commas.  A reason is required: an ignore without one is itself
  a finding (``velro/invalid-ignore``) and suppresses nothing, as is one naming
  a rule that does not exist.  An ignore that suppressed nothing is reported
  (``velro/unused-ignore``, info) so dead ignores do not pile up.
- Config: ``exceptions: [{rule, path, reason, expires}]`` in velro-policy.yaml.
  ``rule`` and ``path`` are globs (``path`` relative to the config file).
  After ``expires`` (YYYY-MM-DD) the exception stops working and is itself a
  finding (``velro/expired-exception``); one that matched nothing is reported
  in the notes.
- Governance: findings of rules marked ``suppressible: false`` (the shipped
  critical rules) and of velro-policy's own checks cannot be suppressed; an
  attempt is reported in the notes.  ``--no-inline-ignores`` disregards
  inline ignores altogether (CI gates), and says so in the notes.

A suppressed finding keeps its place in every output with ``suppressed``
set to where the suppression came from and why; it does not fail the run.
Files are read once each, and only when they mention ``velro-policy:``.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import datetime as _dt

from velro_policy.model import IGNORE_MARKER, Document, Finding, fingerprint
from velro_policy.rules import Rule

MARKER = IGNORE_MARKER.encode()
_IGNORE = re.compile(r"#\s*velro-policy:\s*ignore\[([^\]]*)\]?(.*)$")
_REASON_TRIM = " \t:-—–"
_LINES = re.compile(r"\r\n|\r|\n")

INVALID = "velro/invalid-ignore"
UNUSED = "velro/unused-ignore"
EXPIRED = "velro/expired-exception"
OWN_RULES = {
    INVALID: ("Inline ignore is not valid", "medium",
              "Write the reason after the ignore, e.g. `# velro-policy: ignore[velro/cors-no-wildcard] public read-only API`, and name an existing rule id (velro-policy policies list)."),
    UNUSED: ("Inline ignore suppresses nothing", "info",
             "Remove the ignore: the finding it was written for is gone."),
    EXPIRED: ("Config exception has expired", "medium",
              "Fix the findings the exception covered, or renew it with a new `expires:` date and a reason that still holds."),
}


class Ignore(NamedTuple):
    path: str  # display path
    line: int
    col: int
    rules: tuple[str, ...]
    reason: str
    own_line: bool  # the comment is alone on its line (so it also covers the next line)


def parse_ignores(text: str, display: str) -> list[Ignore]:
    """Every ``# velro-policy: ignore[...]`` comment of a file.  Lines end where python-dotenv and
    Python end them (``\\n``, ``\\r\\n``, ``\\r``), not at U+2028 and the other breaks ``str.splitlines``
    knows: a U+2028 in a value above an ignore moved it onto a later finding."""
    out = []
    for n, line in enumerate(_LINES.split(text), 1):
        if "velro-policy:" not in line:
            continue
        m = _IGNORE.search(line)
        if not m:
            continue
        rules = tuple(r.strip() for r in m.group(1).split(",") if r.strip())
        reason = m.group(2).strip(_REASON_TRIM)
        out.append(Ignore(display, n, m.start() + 1, rules, reason, line[: m.start()].strip() == ""))
    return out


def _own(rule_id: str, path: str, line: int, col: int, message: str, key: str) -> Finding:
    title, severity, fix = OWN_RULES[rule_id]
    return Finding(path, line, col, rule_id, severity, message, key=key, title=title, remediation=fix,
                   fingerprint=fingerprint(rule_id, path, key))


def _read(path: str) -> str | None:
    """The text of a file that mentions the marker.  Read with the limits of every
    other read (``read_capped``: regular files of at most 64 MiB): a special or
    oversized file was reported by its source already."""
    from velro_policy.inputs._files import read_capped

    data = read_capped(path)
    if data is None or MARKER not in data:
        return None
    return data.decode("utf-8-sig", "replace")


class Suppressor:
    """One run's suppression state; ``apply`` returns the findings and notes."""

    def __init__(self, rules: list[Rule], known_ids: Iterable[str], config: dict[str, Any], *,
                 config_path: str | None = None, inline: bool = True, today: _dt.date | None = None) -> None:
        self.rules = {str(r.id): r for r in rules}
        self.known = set(known_ids) | set(self.rules)
        self.config = config
        self.config_path = config_path
        self.inline = inline
        self._today = today  # datetime is imported only when a config exception has an expiry
        self.notes: list[str] = []

    @property
    def today_(self) -> _dt.date:
        if self._today is None:
            import datetime as _dt

            self._today = _dt.date.today()
        return self._today

    def suppressible(self, rule_id: str) -> bool:
        rule = self.rules.get(rule_id)
        return rule is not None and rule.suppressible is not False

    def apply(self, findings: list[Finding], documents: list[Document]) -> tuple[list[Finding], list[str]]:
        extra: list[Finding] = []
        findings = self._exceptions(findings, extra)
        if self.inline:
            findings = self._inline(findings, documents, extra)
        else:
            self.notes.append("inline ignores disregarded (--no-inline-ignores or inline_ignores: false in the config): every finding counts unless a config exception or the baseline covers it")
        return findings + extra, self.notes

    # -- inline ------------------------------------------------------------

    def _inline(self, findings: list[Finding], documents: list[Document], extra: list[Finding]) -> list[Finding]:  # noqa: C901  a later refactor
        read_path: dict[str, str] = {}
        for doc in documents:
            if doc.mentions_ignore is not False:  # False: its source saw the whole text, without a marker
                read_path.setdefault(doc.display_path or doc.path, doc.path)
        ignores: dict[str, list[Ignore]] = {}
        for display, path in sorted(read_path.items()):
            text = _read(path)
            if text is not None:
                ignores[display] = parse_ignores(text, display)
        if not ignores:
            return findings
        valid: dict[tuple[str, int], list[Ignore]] = {}
        for display, items in ignores.items():
            for ig in items:
                unknown = [r for r in ig.rules if r not in self.known]
                if not ig.rules or not ig.reason or unknown:
                    what = ("names no rule id" if not ig.rules else
                            f"names unknown rule {unknown[0]}" if unknown else
                            f"of {', '.join(ig.rules)} has no reason")
                    extra.append(_own(INVALID, display, ig.line, ig.col,
                                      f"inline ignore {what}; it suppresses nothing", ",".join(ig.rules) or "ignore"))
                    continue
                valid.setdefault((display, ig.line), []).append(ig)
                if ig.own_line:
                    valid.setdefault((display, ig.line + 1), []).append(ig)
        used: set[tuple[Ignore, str]] = set()
        refused: set[tuple[Ignore, str]] = set()
        out = []
        for f in findings:
            if not f.suppressed:
                for ig in valid.get((f.path, f.line), ()):
                    if f.rule_id in ig.rules:
                        if self.suppressible(f.rule_id):
                            f = f._replace(suppressed=f"inline ignore: {ig.reason}")
                            used.add((ig, f.rule_id))
                        else:
                            refused.add((ig, f.rule_id))
                        break
            out.append(f)
        for ig, rid in sorted(refused):
            self.notes.append(f"{ig.path}:{ig.line}: inline ignore of {rid} disregarded: the rule is not suppressible (suppressible: false)")
        for items in ignores.values():
            for ig in items:
                if not ig.rules or not ig.reason or any(r not in self.known for r in ig.rules):
                    continue
                for rid in ig.rules:
                    if rid in self.rules and (ig, rid) not in used and (ig, rid) not in refused:
                        extra.append(_own(UNUSED, ig.path, ig.line, ig.col,
                                          f"inline ignore of {rid} suppresses nothing: no such finding on this line"
                                          + (" or the next" if ig.own_line else ""), rid))
        return out

    # -- config exceptions ---------------------------------------------------

    def _exceptions(self, findings: list[Finding], extra: list[Finding]) -> list[Finding]:
        entries = self.config.get("exceptions") or []
        if not entries:
            return findings
        base = self.config.get("root") or "."
        where = _display(self.config_path) if self.config_path else "config"
        live = []
        for i, exc in enumerate(entries):
            line = int(exc.get("line", 0) or 0)
            try:
                import datetime as _dt

                expires = _dt.date.fromisoformat(str(exc["expires"])) if exc.get("expires") else None
            except ValueError:
                expires = None  # the schema's pattern already refused malformed dates
            if expires is not None and expires < self.today_:
                extra.append(_own(EXPIRED, where, line or 1, 1,
                                  f"exception for {exc['rule']} on {exc.get('path', '**')} expired on {expires.isoformat()}; "
                                  "the findings it covered count again", f"exceptions[{i}]"))
                continue
            live.append((i, exc))
        used: set[int] = set()
        refused: set[int] = set()
        out = []
        for f in findings:
            if not f.suppressed:
                rel = _relative(f.path, base)
                for i, exc in live:
                    if fnmatchcase(f.rule_id, str(exc["rule"])) and _path_matches(str(exc.get("path", "**")), rel, f.path):
                        if self.suppressible(f.rule_id):
                            f = f._replace(suppressed=f"config exception: {exc['reason']}")
                            used.add(i)
                        else:
                            refused.add(i)
                        break
            out.append(f)
        for i, exc in live:
            loc = f"{where}:{exc.get('line') or 1}"
            if i in refused:
                self.notes.append(f"{loc}: exception for {exc['rule']} disregarded: the rule is not suppressible (suppressible: false)")
            elif i not in used:
                self.notes.append(f"{loc}: exception for {exc['rule']} on {exc.get('path', '**')} matched no finding; remove it")
        return out


def _display(path: str) -> str:
    rel = os.path.relpath(path)
    return (rel if not rel.startswith("..") else os.path.abspath(path)).replace(os.sep, "/")


def _relative(path: str, base: str) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.abspath(base)).replace(os.sep, "/")


def _path_matches(pattern: str, rel: str, display: str) -> bool:
    pattern = pattern.replace("\\", "/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if pattern in ("**", "*"):
        return True
    if fnmatchcase(rel, pattern) or fnmatchcase(display, pattern):
        return True
    return "/" not in pattern and fnmatchcase(os.path.basename(rel), pattern)  # a bare name matches at any depth


def settle(findings: list[Finding], documents: list[Document], files: Iterable[Any], *, rules: list[Rule],
           known_ids: Iterable[str], config: dict[str, Any], config_path: str | None, inline: bool = True,
           baseline_path: str | None = None) -> tuple[list[Finding], list[str], list[dict[str, str]]]:
    """The run's suppression step: exceptions, inline ignores, then the baseline.

    Returns (findings, notes, fixed baseline entries).
    """
    suppressor = Suppressor(rules, known_ids, config, config_path=config_path, inline=inline)
    findings, notes = suppressor.apply(findings, documents)
    fixed: list[dict[str, str]] = []
    if baseline_path:
        from velro_policy.settle import baseline

        findings, fixed, more = baseline.apply(findings, baseline_path, rules, files)
        notes = notes + more
    return findings, notes, fixed
