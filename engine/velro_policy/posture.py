"""Plain records of a security posture report (``velro-policy report``).

``commands/posture.py`` builds a ``Posture`` from one ``check`` run (its
findings, the documents it read and the application model) and, when given, a
recorded probe; ``reporters/posture_html.py`` and ``reporters/posture_markdown.py``
render it.  Nothing here computes anything: every verdict was decided by the
run's findings, and every value is already a masked rendering
(``values.masking.show``), never a raw value.

A module of its own (not ``model.py``) so that ``lint`` does not pay for defining
these records on every commit.  Stdlib only.
"""
from __future__ import annotations

from typing import NamedTuple

from velro_policy.model import Finding

# Verdicts of a cell, a route, a header or a checklist item.
PASS = "pass"  # judged by the rules in force here, no finding
FAIL = "fail"  # at least one finding
WARN = "warn"  # only findings of cross-file (project) rules, or findings suppressed in the config
UNSET = "unset"  # not set here (nor by a default), and no rule asks for it here
NOT_JUDGED = "not-judged"  # set, but no rule judges it in this environment (the guide allows any value)
NOT_CHECKABLE = "not-checkable"  # a checklist item no static check (or no probe) can decide
NOT_PROBED = "not-probed"  # a post-deployment item without a probe recording

VERDICTS = (PASS, FAIL, WARN, UNSET, NOT_JUDGED, NOT_CHECKABLE, NOT_PROBED)


class Column(NamedTuple):
    """One environment found: an env file, or a settings module's defaults."""

    label: str  # ".env.production", "defaults: app/config.py"
    path: str  # display path of the file
    kind: str  # "env file" | "template" | "settings defaults"
    environment: str  # the environment whose rules judged it
    environment_source: str  # how that was decided
    guide_column: str  # the guide's column it is held to: Production, Staging, Development, or "" (templates)


class Cell(NamedTuple):
    """The effective value of one variable in one column."""

    shown: str  # masked rendering ("" when not set)
    verdict: str
    guide: str  # what the guide's matrix asks in this column
    origin: str  # "set here", "default from app/config.py:10", "not set"
    where: str  # "path:line" of the value, "" when not set
    refs: tuple[int, ...] = ()  # indexes into Posture.findings
    judged_by: tuple[str, ...] = ()  # ids of the rules that apply to this cell


class MatrixRow(NamedTuple):
    variable: str
    role: str  # "" for a row of the guide's matrix; else the role that brought the variable in
    description: str
    cells: tuple[Cell, ...]  # one per Posture.columns


class RouteRow(NamedTuple):
    method: str
    path: str
    handler: str
    where: str
    auth: str  # the first dependency that looks like authentication, "" when none
    limits: tuple[str, ...]  # each limit that applies, as text with its source
    kind: str  # login, registration, ... ("" when not a sensitive route)
    guide_limit: str  # the guide's limit for the kind
    verdict: str
    gate: str = ""
    refs: tuple[int, ...] = ()
    kind_reason: str = ""  # why the model made it its kind from what the handler calls ("calls fal_client.submit (...)")


class Place(NamedTuple):
    """Where a header or a rate limit is set, with what, and the verdict there."""

    where: str
    source: str  # "settings", "env file", "code", "probe"
    label: str  # the key or variable ("SECURITY_HEADERS", "AUTH_RATE_LIMIT_LOGIN")
    environment: str
    shown: str
    verdict: str
    refs: tuple[int, ...] = ()


class GuideRow(NamedTuple):
    """One row of a guide table (a header, an entry of RATE_LIMITS) and where the project sets it."""

    name: str
    guide: str  # the guide's value
    verdict: str  # over every place
    places: tuple[Place, ...]
    refs: tuple[int, ...] = ()  # findings about the row with no place (a header missing from a set)
    note: str = ""


class OriginList(NamedTuple):
    """The CORS origins one environment allows."""

    column: str
    variable: str
    where: str
    origins: tuple[str, ...]  # each masked
    verdict: str
    refs: tuple[int, ...] = ()


class ChecklistItem(NamedTuple):
    text: str  # the guide's words
    verdict: str  # PASS (ticked), FAIL (crossed), NOT_CHECKABLE, NOT_PROBED, UNSET (rules in force judged nothing)
    rules: tuple[str, ...]  # ids of the rules behind it
    why: str = ""
    refs: tuple[int, ...] = ()


class Posture(NamedTuple):
    """Everything a posture report shows."""

    title: str
    root: str
    version: str
    columns: tuple[Column, ...]
    matrix: tuple[MatrixRow, ...]
    routes: tuple[RouteRow, ...]
    rate_limits: tuple[GuideRow, ...]
    headers: tuple[GuideRow, ...]
    origins: tuple[OriginList, ...]
    pre_deployment: tuple[ChecklistItem, ...]
    post_deployment: tuple[ChecklistItem, ...]
    findings: tuple[Finding, ...]  # every finding of the run (and of the probe recording), numbered from 1 in output
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # what could not be checked (path: message)
    probe: str = ""  # the recording shown, with its base URL; "" when none
    app_entry: str = ""  # the app's entry point, "" when no app model
