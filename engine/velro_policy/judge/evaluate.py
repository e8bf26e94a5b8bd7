"""Documents x compiled rules -> findings.  Stdlib only (it is on the
``lint .env`` path): rules arrive as plain dicts from the compiled pack.

A check is a tree: ``{"op": param}`` leaves (several keys = all of them),
``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``.  A parameter
written ``{"by_environment": {"production": 96, "default": 64}}`` is
resolved for the document's environment before the operator sees it.

A rule selects values by name (``select``) and, when the run knows the
application, by role (``Rule.roles``): ``roles`` maps an env variable name
(upper case) to the roles it plays in the deployed app (``jwt-signing-key``...),
built by the caller from the application model.  The judge never reads the
app itself; without the mapping (a named file, ``--staged``, ``lint .env``)
role selectors pick nothing and names alone decide.  A value picked by both
is judged once.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import compress
from typing import Any, NamedTuple

from velro_policy.judge.checks import run_check
from velro_policy.judge.operators import Context
from velro_policy.judge.operators._base import CannotVerify
from velro_policy.model import SEVERITY_RANK, Document, Entries, Entry, Finding, Problem, Unknown, fingerprint
from velro_policy.rules import Rule, mentions_required, role_selector
from velro_policy.values import masking, selectors

CANNOT_VERIFY_MIN_SEVERITY = "high"  # rules at or above this report unknown values


def _applies(rule: Rule, doc: Document) -> bool:
    if rule.target != doc.target and not (rule.target == "env" and doc.target == "effective"):
        return False
    envs = rule.environments
    return doc.environment in envs


class InForce(NamedTuple):
    """The rules in force for one (target, environment), and what the evaluator derives from them once."""

    rules: list[Rule]
    order: dict[str, int]  # rule id -> position in ``rules``
    required: frozenset[str]  # ids of the rules that demand their key here (``Rule.required_in``)


class Evaluator:
    """Holds per-run caches (compiled selectors and regexes)."""

    def __init__(self, rules: list[Rule], *, unknown_severity: str = "low", aliases: dict[str, str] | None = None,
                 roles: Mapping[str, frozenset[str]] | None = None) -> None:
        self.rules = rules
        self.roles = roles or {}  # UPPER env variable name -> the roles it plays (empty: select by name only)
        self._role_sels: dict[str, tuple[tuple[str, str], ...]] = {}  # rule id -> ((under, role), ...), see _by_role
        self.unknown_severity = unknown_severity
        self.cache: dict[str, object] = {"aliases": aliases or {}}
        self._selectors: dict[str, tuple[list[selectors.Pattern], list[selectors.Pattern]]] = {}
        self.applied: set[str] = set()  # rules that judged at least one value (for `velro-policy test`)
        self.problems: list[Problem] = []  # rules that could not be evaluated (fail closed: exit 2)
        # Speed (10,000 files a second): which rules select a value, which rules apply to a
        # (target, environment), and whether a rule passes a (key, text value) are computed
        # once per run.  Keys and values repeat across files; operators are pure functions.
        # (target, environment) -> address (``Entries.addresses``) -> ids of the rules in force there that select it
        self._selecting: dict[tuple[str, str], dict[object, tuple[str, ...]]] = {}
        self._in_force: dict[tuple[str, str], InForce] = {}
        self._deep: dict[int, tuple[list[Rule], list[Rule]]] = {}  # see _deep_capable
        self._settled: dict[tuple[str, str], dict[tuple[object, object], bool]] = {}  # see _picks
        self._key_indexes: dict[tuple[str, str], tuple[dict[str, list[int]], selectors.GlobTable, list[tuple[selectors.Pattern, int]], list[int]]] = {}  # see _select_key
        self._passes: dict[tuple[str, str, str, str], bool] = {}

    def _patterns(self, rule: Rule) -> tuple[list[selectors.Pattern], list[selectors.Pattern]]:
        """(include, exclude) patterns; a selector starting with ``!`` excludes."""
        rid = str(rule.id)
        if rid not in self._selectors:
            sels: list[str] = rule.select  # type: ignore[assignment]
            self._selectors[rid] = (
                [selectors.compile_selector(s) for s in sels if not s.startswith("!")],
                [selectors.compile_selector(s[1:]) for s in sels if s.startswith("!")],
            )
        return self._selectors[rid]

    def _role_selectors(self, rule: Rule) -> tuple[tuple[str, str], ...]:
        """The rule's role selectors as (UNDER or "", role); none when the run knows no roles."""
        if not self.roles or not rule.roles:
            return ()
        rid = str(rule.id)
        got = self._role_sels.get(rid)
        if got is None:
            got = self._role_sels[rid] = tuple((u.upper(), r) for u, r in map(role_selector, rule.roles))
        return got

    def _by_role(self, rule: Rule, paths: tuple[tuple[object, ...], ...]) -> bool:
        """A path names a variable playing one of the rule's roles: ``(X,)`` for a plain
        selector, ``(UNDER, X)`` for one with ``under``."""
        for under, role in self._role_selectors(rule):
            for p in paths:
                if under:
                    if len(p) != 2 or str(p[0]).upper() != under:
                        continue
                    name = p[1]
                elif len(p) == 1:
                    name = p[0]
                else:
                    continue
                if role in self.roles.get(str(name).upper(), ()):
                    return True
        return False

    def _select(self, paths: tuple[tuple[object, ...], ...], rules: list[Rule]) -> tuple[str, ...]:
        out = []
        if all(len(p) > 1 for p in paths):  # a nested path: one-segment selectors (DEBUG, *_KEY) cannot pick it
            rules = self._deep_capable(rules)
        for rule in rules:
            include, exclude = self._patterns(rule)
            if (any(selectors.matches(p, q) for p in include for q in paths) or self._by_role(rule, paths)) and \
                    not any(selectors.matches(p, q) for p in exclude for q in paths):
                out.append(str(rule.id))
        return tuple(out)

    def _deep_capable(self, rules: list[Rule]) -> list[Rule]:
        """The rules with a selector that can pick a path of several segments (cached per rule list)."""
        got = self._deep.get(id(rules))
        if got is None or got[0] is not rules:
            picked = [r for r in rules if any(len(p) > 1 or p == ("**",) for p in self._patterns(r)[0])
                      or any(under for under, _ in self._role_selectors(r))]
            got = self._deep[id(rules)] = (rules, picked)
        return got[1]

    def _select_key(self, key: str, scope: tuple[str, str], rules: list[Rule]) -> tuple[str, ...]:
        """``_select(((key,),), rules)`` for a top-level key, through an index: plain names
        (``DEBUG``) are looked up in a dict; one-segment globs (``*_SECRET*``) are tried only when
        the key holds their literal piece (``selectors.GlobTable``); of the multi-segment selectors
        only those that can pick one segment (``**["X"]``) are tried; role rules ask the roles.  A
        one-file lint meets every key for the first time, so this is its selection cost."""
        index = self._key_indexes.get(scope)
        if index is None:
            literal: dict[str, list[int]] = {}
            globs: dict[str, list[int]] = {}
            deep: list[tuple[selectors.Pattern, int]] = []
            by_role: list[int] = []
            for pos, rule in enumerate(rules):
                if self._role_selectors(rule):
                    by_role.append(pos)
                for p in self._patterns(rule)[0]:
                    if len(p) == 1:
                        table = globs if any(c in p[0] for c in "*?[") else literal
                        table.setdefault(p[0], []).append(pos)
                    elif sum(seg != "**" for seg in p) <= 1:  # `**`, `**["X"]`: zero or more segments, then one
                        deep.append((p, pos))
            index = self._key_indexes[scope] = (literal, selectors.GlobTable(globs), deep, by_role)
        literal, glob_table, deep, by_role = index
        parts = (key,)
        candidates = set(literal.get(key.lower(), ()))
        for positions in glob_table.matching(key.lower()):
            candidates.update(positions)
        candidates.update(pos for p, pos in deep if selectors.matches(p, parts))
        candidates.update(pos for pos in by_role if self._by_role(rules[pos], (parts,)))
        return tuple(
            str(rules[pos].id) for pos in sorted(candidates)
            if not any(selectors.matches(p, parts) for p in self._patterns(rules[pos])[1])
        )

    def _picks(self, ents: Entries, scope: tuple[str, str], in_force: InForce) -> dict[str, list[int]]:
        """Rule id -> positions of the entries it selects, in document order (rules in force only),
        leaving out values every selecting rule is known to pass already.  At C speed
        (map/compress) once the addresses have been seen: no ``Entry`` is made here."""
        picks: dict[str, list[int]] = {}
        by_address = self._selecting.get(scope)
        if by_address is None:
            by_address = self._selecting[scope] = {}
        addresses = ents.addresses()
        found = list(map(by_address.get, addresses))
        if None in found:
            rules = in_force.rules
            for i, address in enumerate(addresses):
                if found[i] is None:
                    found[i] = by_address[address] = (
                        self._select_key(address, scope, rules) if isinstance(address, str)  # a top-level name: through the index
                        else self._select(address, rules))
        # (address, text value) -> True once every rule selecting the address passed that value here:
        # then no rule needs it again (the common case: "DEBUG=false" in every file).
        settled = self._settled.setdefault(scope, {})
        passes, environment, required = self._passes, scope[1], in_force.required
        keys, values, own = ents.keys, ents.values, len(ents.keys)
        for i in compress(range(len(addresses)), found):  # values some rule selects
            ids = found[i]
            key, value = (keys[i], values[i]) if i < own else ents.key_value(i)
            if type(value) is str:
                memo = (addresses[i], value)
                if settled.get(memo):
                    continue
                if all(passes.get((rid, environment, key, value)) for rid in ids) and required.isdisjoint(ids):  # type: ignore[union-attr, arg-type]  # ids is never None on this path
                    settled[memo] = True
                    continue
            for rid in ids:  # type: ignore[union-attr]  # ids is never None on this path
                if rid in picks:
                    picks[rid].append(i)
                else:
                    picks[rid] = [i]
        return picks

    def _known_to_pass(self, rid: str, environment: str, pairs: Iterable[tuple[str, object]]) -> bool:
        """Every picked (key, value) is text this rule already passed in this environment."""
        passes = self._passes
        for key, value in pairs:
            if type(value) is not str or not passes.get((rid, environment, key, value)):
                return False
        return True

    def evaluate(self, doc: Document) -> Iterator[Finding]:
        scope = (doc.target, doc.environment)
        in_force = self._in_force.get(scope)
        if in_force is None:
            rules = [r for r in self.rules if _applies(r, doc)]
            in_force = self._in_force[scope] = InForce(
                rules, {str(r.id): n for n, r in enumerate(rules)},
                frozenset(r.id for r in rules if mentions_required(r.check) and r.required_in(doc.environment)
                          and doc.target != "effective"))  # a settings module's defaults need not hold every key
        rules = in_force.rules
        ents = doc.entries
        picks: dict[str, list[int]] = {}
        if doc.target == "code":  # Semgrep matches: every rule in force judges the whole file
            todo = rules
        elif rules:  # only rules with something to judge, and rules that require a key (in rule order)
            picks = self._picks(ents, scope, in_force)
            todo = [rules[n] for n in sorted(map(in_force.order.__getitem__, set(picks).union(in_force.required)))]
        else:
            todo = []
        for rule in todo:
            try:
                if doc.target == "code":
                    from velro_policy.judge.code import rule_findings  # Semgrep matches, judged by their rule

                    found = list(rule_findings(rule, doc, self.cache, self.unknown_severity))
                    self.applied.add(str(rule.id))  # Semgrep judged the whole file
                else:
                    rid = str(rule.id)
                    positions = picks.get(rid)
                    picked: list[Entry] = []
                    if positions is not None:
                        if self._known_to_pass(rid, doc.environment, map(ents.key_value, positions)):
                            self.applied.add(rid)
                            continue
                        picked = [ents.entry(i) for i in positions]
                    # else: the rule requires a key this document does not set
                    found = list(self._evaluate_rule(rule, doc, picked))
            except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as exc:
                # A policy/input mismatch (e.g. a value of a type the operator cannot
                # judge): the rule was not checked, so the run must not pass.
                self.problems.append(Problem(
                    doc.display_path or doc.path, 1, 1,
                    f"rule {rule.id} ({rule.file}) could not be evaluated ({exc.__class__.__name__}); "
                    "fix the policy's selector or operator for this kind of value",
                    "evaluation-error",
                ))
                continue
            yield from found

    def _evaluate_rule(self, rule: Rule, doc: Document, picked: list[Entry] | None = None) -> Iterator[Finding]:
        if picked is None:
            picked = self._select_all(rule, doc)
        check = rule.check
        required = mentions_required(check) and rule.required_in(doc.environment)
        if picked or required:
            self.applied.add(str(rule.id))
        if not picked:
            if required:
                names = ", ".join([*(s for s in rule.select if not s.startswith("!")),
                                   *(f"the {role_selector(r)[1]} variable" for r in rule.roles)])
                yield self._finding(rule, doc, None, f"{names} is not set; it is required in {doc.environment}")
            return
        rid = str(rule.id)
        for entry in picked:
            memo = (rid, doc.environment, entry.key, entry.value) if type(entry.value) is str else None
            if memo is not None and self._passes.get(memo):
                continue
            secret = bool(rule.secret) or masking.is_secret_key(entry.key)
            if memo is not None:
                # The masked rendering is made only for a failing value (it costs more than most checks).
                quick = run_check(check, entry.value, Context(entry.key, "", doc.environment, self.cache, secret), doc.environment)
                self._passes[memo] = quick is None
                if quick is None:
                    continue
            ctx = Context(entry.key, masking.show(entry.key, entry.value, secret=secret), doc.environment, self.cache, secret)
            # A default that cannot be folded is not reported again by env rules: the settings rules say so, once.
            reports_unknown = doc.target != "effective" and SEVERITY_RANK[str(rule.severity)] >= SEVERITY_RANK[CANNOT_VERIFY_MIN_SEVERITY]
            if isinstance(entry.value, Unknown):
                if reports_unknown:
                    yield self._finding(rule, doc, entry, f"cannot verify {entry.key}: its value is {ctx.shown}", unknown=True)
                continue
            reason = run_check(check, entry.value, ctx, doc.environment)
            if isinstance(reason, CannotVerify):  # part of the value is Unknown: as an Unknown value
                if reports_unknown:
                    yield self._finding(rule, doc, entry, f"{entry.key} {reason} ({doc.environment})", unknown=True)
                continue
            if reason:
                yield self._finding(rule, doc, entry, f"{entry.key} {reason} ({doc.environment}{_default_note(doc, entry)})")

    def _select_all(self, rule: Rule, doc: Document) -> list[Entry]:
        """The entries of ``doc`` the rule selects (by name or role, minus its exclusions)."""
        include, exclude = self._patterns(rule)
        return [
            e for e in doc.entries
            if (any(selectors.matches(p, q) for p in include for q in (e.parts or (e.key,), *e.aliases))
                or self._by_role(rule, (e.parts or (e.key,), *e.aliases)))
            and not any(selectors.matches(p, q) for p in exclude for q in (e.parts or (e.key,), *e.aliases))
        ]

    def _finding(self, rule: Rule, doc: Document, entry: Entry | None, message: str, *, unknown: bool = False) -> Finding:
        path = doc.display_path or doc.path
        loc = entry.loc if entry else None
        key = entry.key if entry else ",".join(rule.select)
        rule_id = str(rule.id)
        return Finding(
            path=loc.path if loc else path,
            line=loc.line if loc else 1,
            col=loc.col if loc else 1,
            rule_id=rule_id,
            severity=self.unknown_severity if unknown else str(rule.severity),
            message=message,
            key=key,
            environment=doc.environment,
            title=str(rule.title),
            remediation=str(rule.remediation),
            fingerprint=fingerprint(rule_id, loc.path if loc else path, key, doc.environment, "unknown" if unknown else ""),
            guide_section=str(rule.guide_section),
            related=(path,) if loc and loc.path != path else (),
        )


def _default_note(doc: Document, entry: Entry) -> str:
    """What a finding on a settings default (target effective) adds to its message."""
    if doc.target != "effective":
        return ""
    names = "/".join(dict.fromkeys(entry.env)) or entry.key
    return f"; a default in code: it runs wherever the platform does not set {names}, whatever a committed env file says"


def problem_findings(problems: Iterable[Problem]) -> list[Finding]:
    """Problems shown as findings too, so every format carries them."""
    return [
        Finding(p.path, p.line, p.col, f"velro/{p.kind}", "high", p.message,
                fingerprint=fingerprint(f"velro/{p.kind}", p.path, p.line), title="File could not be checked")
        for p in problems
    ]


def exit_code(findings: Iterable[Finding], problems: Iterable[Problem], fail_on: str) -> int:
    """2 when something could not be checked, 1 when a finding reaches ``fail_on``, else 0."""
    if any(True for _ in problems):
        return 2
    threshold = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK[f.severity] >= threshold and not f.suppressed for f in findings) else 0


def judge_documents(documents: Iterable[Document], rules: list[Rule], config: dict[str, Any],
                    applied: set[str] | None = None, problems: list[Problem] | None = None, *,
                    roles: Mapping[str, frozenset[str]] | None = None) -> list[Finding]:
    """Findings of every document under the config's evaluation settings; ``applied``
    collects the ids of rules that judged a value, ``problems`` the rules that could not be evaluated;
    ``roles`` (UPPER env name -> roles it plays in the app) lets role selectors pick values.
    The findings of ``judge_each``, in one list: those on settings defaults (target effective) last."""
    documents = list(documents)
    per_document = judge_each(documents, rules, config, applied, problems, roles=roles)
    findings = [f for doc, found in zip(documents, per_document) if doc.target != "effective" for f in found]
    findings.extend(f for doc, found in zip(documents, per_document) if doc.target == "effective" for f in found)
    return findings


def judge_each(documents: Iterable[Document], rules: list[Rule], config: dict[str, Any],
               applied: set[str] | None = None, problems: list[Problem] | None = None, *,
               roles: Mapping[str, frozenset[str]] | None = None) -> list[list[Finding]]:
    """The judge step of every command: the findings of each document, in document order
    (``probe`` merges a rule's findings across responses, so it needs them per document).
    One evaluator for all of them, so its per-run caches serve every document.  A finding on
    a settings default (target effective) that a settings rule reports already at the same
    place is left out: the default is reported once, by that rule."""
    evaluator = Evaluator(rules, unknown_severity=config.get("unknown_severity", "low"),
                          aliases={**config.get("environment_aliases", {})} or None, roles=roles)
    documents = list(documents)
    per_document = [list(evaluator.evaluate(doc)) for doc in documents]
    defaults = [i for i, doc in enumerate(documents) if doc.target == "effective" and per_document[i]]
    if defaults:
        seen = {(f.path, f.line) for doc, found in zip(documents, per_document) if doc.target != "effective" for f in found}
        for i in defaults:
            per_document[i] = [f for f in per_document[i] if (f.path, f.line) not in seen]
    if applied is not None:
        applied.update(evaluator.applied)
    if problems is not None:
        problems.extend(evaluator.problems)
    return per_document
