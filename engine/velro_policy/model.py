"""Plain records shared by sources, operators, the evaluator and reporters.

Everything here is stdlib-only on purpose: this module sits on the path of
``velro-policy lint .env``, which runs on every commit.  NamedTuples keep the
records immutable, cheap and sortable (the field order of ``Finding`` is the
output order).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from hashlib import sha256
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypeVar, overload

if TYPE_CHECKING:
    from velro_policy.rules import Rule

SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}


def fingerprint(*parts: object) -> str:
    """Stable identity of a finding: what it is about, never its line."""
    return sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogateescape")).hexdigest()[:32]


IGNORE_MARKER = "velro-policy:"  # starts every inline ignore comment (see ``suppress``)


class Location(NamedTuple):
    """Where a value was read: 1-based line and column."""

    path: str
    line: int
    col: int


class Unknown(NamedTuple):
    """A value that could not be determined statically (never guessed).

    ``why`` says what was there instead, e.g. ``os.getenv('X')`` or
    ``${RAILWAY_SECRET} is not defined in the file``.
    """

    why: str


class Entry(NamedTuple):
    """One addressable value of a document.

    ``key`` is the selector path of the value (``DEBUG`` for an env file,
    ``SECURITY_HEADERS["X-Frame-Options"]`` for a settings module);
    ``parts`` is the same path split into segments, the first being the
    variable name.  ``value`` is a ``str`` for env files and any Python
    literal (or ``Unknown``) for settings modules.  ``aliases`` are other
    paths of the same value (a settings field is ``DEBUG`` and
    ``Settings.debug``); ``env`` names the env variables that override a
    settings default (empty for env files and for constants).
    """

    key: str
    value: object
    loc: Location
    parts: tuple[str | int, ...] = ()
    aliases: tuple[tuple[str | int, ...], ...] = ()
    env: tuple[str, ...] = ()


Address: TypeAlias = "str | tuple[tuple[str | int, ...], ...]"  # see Entries.addresses


class Entries(Sequence[Entry]):
    """The entries of one document: the one type every ``Document`` holds.

    Why one type with a few operations instead of a plain tuple: a run over
    10,000 env files reads ~700,000 values, and most are only ever looked at by
    key (is any rule selecting ``SERVICE_NAME``?  is this value one a rule has
    passed already?).  So an env file's entries are kept as columns (key, upper
    key, value, line, column; ``Entries.columns``) and an ``Entry`` is made only
    when something asks for one.  Every other source (settings modules, code
    matches, the app model, probe responses) has few entries, each with its own
    parts, aliases and location: they are kept as ``Entry`` objects
    (``Entries.of``).  Readers never need to know which: they iterate ``Entry``
    objects, or read the columns ``keys``/``uppers``/``values`` with ``entry(i)``,
    ``addresses()`` (what selectors match) and ``key_value(i)``.

    The columns hold the document's own entries; ``extra`` holds entries added
    after reading (``with_extra``: the ``__git__`` copies of ``inputs.committed``),
    which come after them in iteration and positions but are not in the columns.
    An ``Entries`` compares equal to a tuple of the same ``Entry`` objects.
    """

    __slots__ = ("path", "keys", "uppers", "values", "_lines", "_cols", "_objects", "extra", "_addresses")

    path: str  # where the columns' entries were read (unused when built from Entry objects)
    keys: list[str]  # own entries' keys, in document order
    uppers: list[str]  # the same, as the application compares them (may be the very list ``keys``)
    values: list[object]  # own entries' values
    extra: tuple[Entry, ...]

    def __init__(self, path: str, keys: list[str], uppers: list[str], values: list[object], lines: list[int],
                 cols: list[int] | None, objects: tuple[Entry, ...] | None = None, extra: tuple[Entry, ...] = ()) -> None:
        """Use ``Entries.columns`` or ``Entries.of``."""
        self.path = path
        self.keys = keys
        self.uppers = uppers
        self.values = values
        self._lines = lines  # unused when built from Entry objects
        self._cols = cols  # None: every column is 1
        self._objects = objects  # None: entries are made from the columns
        self.extra = extra
        self._addresses: Sequence[Address] | None = None

    @classmethod
    def columns(cls, path: str, keys: list[str], uppers: list[str], values: list[object], lines: list[int],
                cols: list[int] | None = None) -> Entries:
        """Top-level ``KEY=value`` entries read from ``path`` (an env file), as columns.
        ``uppers`` may be ``keys`` itself when every key is upper case; ``cols`` None: all 1."""
        return cls(path, keys, uppers, values, lines, cols)

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Entries:
        """Entries made of ``Entry`` objects (any source; an ``Entries`` is returned as it is)."""
        if isinstance(entries, Entries):
            return entries
        objects = tuple(entries)
        keys = [e.key for e in objects]
        return cls("", keys, [k.upper() for k in keys], [e.value for e in objects], [], None, objects)

    def with_extra(self, extra: tuple[Entry, ...]) -> Entries:
        """These entries followed by ``extra`` (not added to the columns)."""
        return Entries(self.path, self.keys, self.uppers, self.values, self._lines, self._cols, self._objects, self.extra + extra)

    def entry(self, i: int) -> Entry:
        """The entry at position ``i`` (0 <= i < len)."""
        n = len(self.keys)
        if i >= n:
            return self.extra[i - n]
        if self._objects is not None:
            return self._objects[i]
        key = self.keys[i]
        return Entry(key, self.values[i], Location(self.path, self._lines[i], self._cols[i] if self._cols is not None else 1), (key,))

    def key_value(self, i: int) -> tuple[str, object]:
        """(key, value) at position ``i``, without making an ``Entry`` for an own entry."""
        if i >= len(self.keys):
            e = self.extra[i - len(self.keys)]
            return e.key, e.value
        return self.keys[i], self.values[i]

    def addresses(self) -> Sequence[Address]:
        """What a selector is matched against, per position: the key alone for a top-level
        value known by no other name (every env variable: selection is then a lookup by
        name), else every path of the value (its parts, then its aliases).  Computed once."""
        if self._addresses is None:
            if self._objects is None:
                self._addresses = self.keys if not self.extra else [*self.keys, *map(_address, self.extra)]
            else:
                self._addresses = [*map(_address, self._objects), *map(_address, self.extra)]
        return self._addresses

    def __len__(self) -> int:
        return len(self.keys) + len(self.extra)

    @overload
    def __getitem__(self, i: int) -> Entry: ...

    @overload
    def __getitem__(self, i: slice) -> tuple[Entry, ...]: ...

    def __getitem__(self, i: int | slice) -> Entry | tuple[Entry, ...]:
        if isinstance(i, slice):
            return tuple(map(self.entry, range(len(self))[i]))
        return self.entry(range(len(self))[i])

    def __iter__(self) -> Iterator[Entry]:
        if self._objects is not None:
            return iter(self._objects + self.extra if self.extra else self._objects)
        return map(self.entry, range(len(self)))

    def __add__(self, other: Iterable[Entry]) -> tuple[Entry, ...]:
        return (*self, *other)

    def __radd__(self, other: Iterable[Entry]) -> tuple[Entry, ...]:
        return (*other, *self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (tuple, Entries)) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Entries({tuple(self)!r})"


def _address(e: Entry) -> Address:
    """``Entries.addresses`` of one entry."""
    if not e.aliases and (not e.parts or e.parts == (e.key,)):
        return e.key
    return (e.parts or (e.key,), *e.aliases)


class CodeMatch(NamedTuple):
    """One Semgrep match: normalised matched code (for the fingerprint, never
    printed) and the metavariables the rule asked for, as source text."""

    code: str
    metavars: tuple[tuple[str, str], ...]


class Problem(NamedTuple):
    """Something that stopped a file or policy from being checked (exit 2)."""

    path: str
    line: int
    col: int
    message: str
    kind: str = "parse-error"


class _DocumentFields(NamedTuple):
    path: str
    target: str
    entries: Entries
    environment: str = "production"
    environment_source: str = "unknown"
    is_template: bool = False
    problems: tuple[Problem, ...] = ()
    display_path: str = ""
    # Does the file's text hold IGNORE_MARKER?  None: not known, so the suppress step reads
    # the file again to find inline ignores; a source that had the text says so and saves that.
    mentions_ignore: bool | None = None
    # Env variable names a Python module reads (upper-cased), with a line reading each: pydantic-settings
    # fields, os.getenv/os.environ reads, config("X") calls, including reads without a default.
    env_reads: tuple[tuple[str, int], ...] = ()


class Document(_DocumentFields):
    """A parsed input file, ready for the evaluator.

    ``environment`` is the environment whose rules apply; ``environment_source``
    says how it was decided (``flag``, ``key ENVIRONMENT``, ``file name``,
    ``unknown: held to production rules``) so the output can say so.

    ``entries`` is always an ``Entries``: entries given as any other iterable of
    ``Entry`` (a tuple, a list) are wrapped when the document is made or
    ``_replace``d, so no reader ever has to ask which kind it holds.
    """

    __slots__ = ()

    def __new__(cls, path: str, target: str, entries: Iterable[Entry], environment: str = "production",
                environment_source: str = "unknown", is_template: bool = False, problems: tuple[Problem, ...] = (),
                display_path: str = "", mentions_ignore: bool | None = None,
                env_reads: tuple[tuple[str, int], ...] = ()) -> Document:
        return super().__new__(cls, path, target, Entries.of(entries), environment, environment_source, is_template,
                               problems, display_path, mentions_ignore, env_reads)

    @classmethod
    def _make(cls: type[_D], iterable: Iterable[Any]) -> _D:  # type: ignore[override]  # the same signature; mypy cannot match a NamedTuple self-type
        """What ``_replace`` calls: through ``__new__``, so a replaced ``entries`` is an ``Entries`` too."""
        return cls(*iterable)


_D = TypeVar("_D", bound=Document)


class Finding(NamedTuple):
    """One rule violation.  Never holds a secret value: messages are built
    from masked renderings only (see ``masking``)."""

    path: str
    line: int
    col: int
    rule_id: str
    severity: str
    message: str
    key: str = ""
    environment: str = ""
    title: str = ""
    remediation: str = ""
    fingerprint: str = ""
    guide_section: str = ""
    related: tuple[str, ...] = ()
    suppressed: str = ""

    def as_dict(self) -> dict[str, object]:
        data = self._asdict()
        data["related"] = list(self.related)
        return data


class FileSummary(NamedTuple):
    """What was checked and how: shown so a user knows which rules applied."""

    path: str
    target: str
    environment: str = ""
    environment_source: str = ""


class RunResult(NamedTuple):
    """Everything a reporter needs; reporters import nothing else."""

    findings: tuple[Finding, ...]
    problems: tuple[Problem, ...]
    files: tuple[FileSummary, ...]
    rules: tuple[Rule, ...]  # compiled rules that were in force
    root: str  # paths in findings are relative to this (for SARIF/JUnit)
    fail_on: str = "low"
    notes: tuple[str, ...] = ()
    fixed: tuple[dict[str, str], ...] = ()  # baseline entries no longer found
    applied: tuple[str, ...] = ()  # rule ids that judged at least one value
    show_suppressed: bool = False  # the text output lists suppressed findings (else counts them)


# --- the application model (inputs/app builds it; judges and `velro-policy app` read it) -------------


class RouteLimit(NamedTuple):
    """One rate limit that applies to a route, as read from the code.

    ``value`` is what the code says, folded statically: a limits-library string
    (``"3/hour"``, ``"10 per minute"``), a ``(count, seconds)`` tuple (fastapi-limiter
    ``RateLimiter(times=3, seconds=3600)``), or ``Unknown(why)`` when it cannot be
    folded (never guessed).  ``source`` says where it comes from, for the output:
    ``"decorator @limiter.limit"``, ``"route dependency RateLimiter"``, ``"router dependency"``,
    ``"limiter default_limits"``, ``"middleware <Name>"``.
    """

    value: object
    source: str
    loc: Location


class Route(NamedTuple):
    """One HTTP (or websocket) route of the deployed app.

    ``path`` is the full path, router prefixes included; ``gate`` is the
    condition the route's router is mounted under (``"settings.DEBUG"``), empty
    when it is always mounted; ``limits`` every rate limit that applies (empty:
    none found); ``dependencies`` the source text of ``Depends(...)`` at route and
    router level (auth dependencies among them).  ``kind`` is what the model tells
    from what the handler calls (``"generation"``: it reaches an AI/generation SDK
    call, directly or through project helpers), empty when nothing; ``kind_reason``
    says why (``"calls fal_client.submit (app/gen.py:42) via start_job()"``).
    """

    method: str
    path: str
    handler: str
    loc: Location
    limits: tuple[RouteLimit, ...] = ()
    dependencies: tuple[str, ...] = ()
    gate: str = ""
    kind: str = ""
    kind_reason: str = ""


class Middleware(NamedTuple):
    """One middleware of the app, in the order it is added."""

    name: str
    loc: Location
    gate: str = ""
    options: tuple[tuple[str, object], ...] = ()  # keyword arguments, folded (Unknown when not literal)


class Setting(NamedTuple):
    """One setting the deployed app reads: env variable name, default (Unknown if not
    foldable, None if there is none), where it is read, and the role it plays by use
    (``jwt-signing-key``, ``cors-origins``, ``debug-flag``, ``rate-limit``, ``header``; empty if none)."""

    env: str
    default: object
    loc: Location
    role: str = ""


class HeaderSet(NamedTuple):
    """One place the deployed app sets one of the guide's security headers.

    ``header`` is the canonical name (``X-Frame-Options``); ``value`` what it is set to,
    folded (``Unknown`` when not literal, None when the model only knows the header is set);
    ``source`` says how (``code``, ``header dict SECURITY_HEADERS``, ``secure
    Secure.with_default_headers()``, ``middleware SecurityHeaders option csp``).
    ``judged`` marks values only the application model sees (a library's defaults and
    builders, middleware options): the app rules judge those; values written in code and
    header dicts are judged by the code and settings rules.
    """

    header: str
    value: object
    loc: Location
    source: str
    judged: bool = False


class HeaderCoverage(NamedTuple):
    """Which of the guide's security headers the deployed app sets, and where.

    ``app`` is where the app object is created (``app = FastAPI(...)``); ``unsure`` names
    places that may set headers the model cannot name (a computed header name, a
    header-setting middleware from a package, a library whose version decides its
    defaults); ``unused`` names code that sets headers but that nothing in the deployed
    app uses (a middleware class never added).  ``complete`` is the model's.
    """

    app: Location
    sets: tuple[HeaderSet, ...] = ()
    unsure: tuple[str, ...] = ()
    unused: tuple[str, ...] = ()
    complete: bool = True


class AppModel(NamedTuple):
    """What is deployed and how, read statically (the app is never imported).

    ``deployed`` holds the display paths of the modules reachable from the
    entry point; ``complete`` is False when the entry point was not found or an
    import could not be followed statically (then every module counts as
    deployed: never fail open), and ``notes`` say why.
    """

    entry: str
    entry_reason: str
    deployed: frozenset[str]
    complete: bool
    routes: tuple[Route, ...] = ()
    middleware: tuple[Middleware, ...] = ()
    settings: tuple[Setting, ...] = ()
    notes: tuple[str, ...] = ()
    headers: HeaderCoverage | None = None  # None: no app object found

    def is_deployed(self, display_path: str) -> bool:
        return not self.complete or display_path in self.deployed


class ValidationFunction(NamedTuple):
    """A validation function of a settings module (issue 15), with how often its name appears
    elsewhere in the project: 0 means nothing calls it and the checks it holds never run."""

    name: str
    module: str  # display path of the module defining it
    loc: Location
    mentions: int  # occurrences of its name in the project's Python files besides its definition(s)
