"""Plain records shared by sources, operators, the evaluator and reporters.

Everything here is stdlib-only on purpose: this module sits on the path of
``velro-policy lint .env``, which runs on every commit.  NamedTuples keep the
records immutable, cheap and sortable (the field order of ``Finding`` is the
output order).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from hashlib import sha256
from typing import TYPE_CHECKING, NamedTuple

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


class EnvEntries(Sequence[Entry]):
    """The entries of an env file, stored column-wise; ``Entry`` objects are made on demand.

    Why: a run over 10,000 env files reads ~700,000 values, and most are only
    ever looked at by key (is any rule selecting ``SERVICE_NAME``?  is this
    value one a rule already passed?).  Four flat lists cost a fraction of
    the time and memory of one ``Entry`` + ``Location`` per value.  Hot
    consumers (the evaluator, the project rules, the committed-secrets step)
    read the columns; everything else iterates ``Entry`` objects as before.
    Keys are unique case-insensitively (last assignment wins), in file order.
    """

    __slots__ = ("path", "keys", "uppers", "values", "lines", "cols", "extra")

    def __init__(self, path: str, keys: list[str], uppers: list[str], values: list[object], lines: list[int], cols: list[int],
                 extra: tuple[Entry, ...] = ()) -> None:
        self.path = path
        self.keys = keys
        self.uppers = uppers  # the same list as ``keys`` when every key is upper case already
        self.values = values
        self.lines = lines
        self.cols = cols
        # Entries that are not the file's own variables, after them (the ``__git__`` copies of
        # ``committed``); the columns stay the file's own variables only.
        self.extra = extra

    def with_extra(self, extra: tuple[Entry, ...]) -> EnvEntries:
        return EnvEntries(self.path, self.keys, self.uppers, self.values, self.lines, self.cols, self.extra + extra)

    def key_value(self, i: int) -> tuple[str, object]:
        """(key, value) at position ``i``, without making an ``Entry`` for the file's own variables."""
        if i >= len(self.keys):
            e = self.extra[i - len(self.keys)]
            return e.key, e.value
        return self.keys[i], self.values[i]

    def entry(self, i: int) -> Entry:
        if i >= len(self.keys):
            return self.extra[i - len(self.keys)]
        key = self.keys[i]
        return Entry(key, self.values[i], Location(self.path, self.lines[i], self.cols[i]), (key,))

    def __len__(self) -> int:
        return len(self.keys) + len(self.extra)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(map(self.entry, range(len(self))[i]))
        return self.entry(range(len(self))[i])

    def __iter__(self) -> Iterator[Entry]:
        return map(self.entry, range(len(self)))

    def __add__(self, other: object) -> tuple[Entry, ...]:
        return tuple(self) + tuple(other)  # type: ignore[arg-type]

    def __radd__(self, other: object) -> tuple[Entry, ...]:
        return tuple(other) + tuple(self)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (tuple, EnvEntries)) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"EnvEntries({tuple(self)!r})"


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


class Document(NamedTuple):
    """A parsed input file, ready for the evaluator.

    ``environment`` is the environment whose rules apply; ``environment_source``
    says how it was decided (``flag``, ``key ENVIRONMENT``, ``file name``,
    ``unknown: held to production rules``) so the output can say so.
    """

    path: str
    target: str
    entries: tuple[Entry, ...] | EnvEntries
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
