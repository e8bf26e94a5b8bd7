"""The ``code`` source: Python files judged by Semgrep, run once per run.

Every selected rule with target ``code`` is written into ONE Semgrep config
(a temp file), and Semgrep scans all claimed files in ONE process.  Nothing
starts when no code rule is selected or no Python file is in scope, so
``velro-policy lint .env`` never pays Semgrep's start-up (about 1.5 s).

Mapping results back: a rule's Semgrep id is its velro id with ``/`` as
``.`` (so ``# nosemgrep: code-fastapi-debug`` works); Semgrep may prefix it
with the config's dotted directory, so ids are matched on their dotted tail.
Semgrep's JSON no longer carries metavariable values for anonymous users,
but it still interpolates them into the message, so the message we give
Semgrep is the list of metavariables we need, separated by U+001E; the
user-facing message is built here, with values shown only through
``masking.show``.  Fingerprints hash the rule id, the path and the
whitespace-normalised matched code, never the line.

Scope: discovery's files (.gitignore'd folders, ``exclude``), minus
``code_exclude`` (test files by default) and files git ignores unless named
on the command line.  One Semgrep process per run; the file list is split
only if it would overflow one command line.

A velro rule may also ``select`` metavariables (``$LIMIT``) and ``check``
them with the ordinary operators: the match is a finding only when the check
fails (``rate_at_most: 3/hour`` on a limiter decorator's argument).

Fail closed: Semgrep missing, a rule Semgrep rejects (named with its policy
file), an error for a file, a timeout, unreadable output or an unsupported
Semgrep version stop the run (exit 2) or mark the file as not checked.
"""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from velro_policy.errors import PolicyError, ScanError
from velro_policy.inputs._files import tail_glob_match
from velro_policy.model import CodeMatch, Document, Entry, Location, Problem
from velro_policy.rules import Rule
from velro_policy.values.metavars import METAVAR as _METAVAR

if TYPE_CHECKING:
    from velro_policy.inputs import LoadContext

NAME = "code"
TARGET = "code"

SUPPORTED = ((1, 80), (2, 0))  # Semgrep versions: at least 1.80, below 2.0
DEFAULT_TIMEOUT = 300  # seconds for the whole Semgrep run (config: semgrep_timeout)
FILE_TIMEOUT = 30  # seconds per rule and file, passed to Semgrep's --timeout
DEFAULT_EXCLUDE = ("test_*.py", "*_test.py", "conftest.py", "tests/*", "test/*")
ENV_EXECUTABLE = "VELRO_POLICY_SEMGREP"  # an env var, not a config key: a repo must not pick the binary we run
SEP = "\x1e"
SEMGREP_PARSE = "could not parse it as Python"  # starts a problem's reason; the app step recognises it (commands/app.py)

_STRIP_KEYS = ("id", "message", "severity")




def claims(path: str, explicit: bool, config: dict[str, Any]) -> bool:
    """Python files, minus ``code_exclude`` globs (test files by default).

    A glob matches the file's path relative to the project (the config's
    folder, else the current directory) or any tail of it, so ``tests/*``
    excludes ``tests/`` folders at any depth.  The globs apply to files
    named explicitly too: pre-commit passes every staged file by name.
    """
    if not path.endswith(".py"):
        return False
    patterns = config.get("code_exclude", DEFAULT_EXCLUDE)
    if not patterns:
        return True
    return not tail_glob_match(path, patterns, config.get("root"))


def load(paths: list[str], ctx: LoadContext) -> Iterator[Document]:
    yield from start(paths, ctx)()


def start(paths: list[str], ctx: LoadContext) -> StartedScan:
    """Start the scan now and return what yields its documents later.

    Semgrep runs in a process of its own, so a run starts it before reading
    anything else (``commands.run.collect``): the env files, the settings
    modules and the application model are read while Semgrep scans, instead
    of before it.  Calling the result waits for the scan; ``cancel`` on it
    (always safe) stops a scan whose documents are no longer wanted.
    """
    rules = [r for r in ctx.rules if r.target == TARGET]
    # A file named on the command line is scanned even when git ignores it.
    ignored = _git_ignored([p for p in paths if os.path.normpath(p) not in ctx.explicit]) if rules else set()
    paths = [p for p in paths if p not in ignored]
    if not rules or not paths:
        return StartedScan([], None, [], {}, {}, ctx)
    config_rules, by_id = build_config(rules)
    unreadable = _not_for_semgrep(paths)
    unreadable.update(_misread_by_semgrep([p for p in paths if p not in unreadable]))
    paths = [p for p in paths if p not in unreadable]
    problems = [Document(path, TARGET, (), "production", "code", False, (problem._replace(path=ctx.display(path)),), ctx.display(path))
                for path, problem in unreadable.items()]
    if not paths:
        return StartedScan(problems, None, [], {}, by_id, ctx)
    scan, back = _through_links(paths)
    return StartedScan(problems, SemgrepRun(config_rules, scan, ctx.config), paths, back, by_id, ctx)


class StartedScan:
    """A code source run whose Semgrep scan is in flight (``start``)."""

    def __init__(self, problems: list[Document], run: SemgrepRun | None, paths: list[str], back: dict[str, list[str]],
                 by_id: dict[str, Rule], ctx: LoadContext) -> None:
        self._problems, self._run, self._paths, self._back, self._by_id, self._ctx = problems, run, paths, back, by_id, ctx

    def __call__(self) -> Iterator[Document]:
        yield from self._problems
        if self._run is None:
            return
        data = self._run.result()
        if self._back:
            data = _renamed(data, self._back)
        yield from _documents(data, self._paths, self._by_id, self._ctx)

    def cancel(self) -> None:
        if self._run is not None:
            self._run.cancel()


def _through_links(paths: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Semgrep refuses a symlink as a scanning root ("Invalid scanning root", the whole scan fails): each
    link is scanned as the file it points to, once however many names in scope lead to it, and ``back``
    (scanned path, normalised -> the names in scope) gives its results to every one of them."""
    if not any(os.path.islink(p) for p in paths):
        return paths, {}
    scan: list[str] = []
    names: dict[str, list[str]] = {}
    for path in paths:
        target = os.path.relpath(os.path.realpath(path)) if os.path.islink(path) else path
        norm = os.path.normpath(target)
        if norm not in names:
            names[norm] = []
            scan.append(target)
        names[norm].append(path)
    return scan, {norm: group for norm, group in names.items() if group != [norm]}


def _renamed(data: dict[str, Any], back: dict[str, list[str]]) -> dict[str, Any]:
    """Semgrep's report with each scanned target of links given to every name leading to it (``_through_links``)."""
    def each(items: Any, key: str = "path") -> list[Any]:
        out: list[Any] = []
        for item in items or ():
            group = back.get(os.path.normpath(str(item.get(key)))) if isinstance(item, dict) and item.get(key) else None
            out.extend(dict(item, **{key: name}) for name in group) if group else out.append(item)
        return out

    out = dict(data)
    out["results"] = each(data.get("results"))
    out["errors"] = each(data.get("errors"))
    listing = data.get("paths")
    if isinstance(listing, dict) and isinstance(listing.get("scanned"), list):
        scanned: list[str] = []
        for p in listing["scanned"]:
            scanned.extend(back.get(os.path.normpath(str(p)), [p]))
        out["paths"] = {**listing, "scanned": scanned}
    return out


def _not_for_semgrep(paths: list[str]) -> dict[str, Problem]:
    """Files no scan may be handed: a FIFO (Semgrep would block on it), a device, a file over the
    size every other read stops at (Semgrep runs with no size limit of its own)."""
    from velro_policy.inputs._files import MAX_BYTES, special_kind

    out: dict[str, Problem] = {}
    for path in paths:
        kind = special_kind(path)
        if kind is not None:
            out[path] = Problem(path, 0, 0, f"is {kind}, not a regular file; not read (exclude it or name a regular file)", "io-error")
            continue
        try:
            size = os.path.getsize(path)
        except OSError:
            continue  # Semgrep reports what it cannot read
        if size > MAX_BYTES:
            out[path] = Problem(path, 0, 0, f"is larger than {MAX_BYTES // (1024 * 1024)} MiB; exclude it", "io-error")
    return out


def _misread_by_semgrep(paths: list[str]) -> dict[str, Problem]:
    """Modules whose PEP 263 cookie declares an encoding that reads them differently from UTF-8
    (``# coding: utf-7``: ``+AAo-`` is a line break to Python): Semgrep reads UTF-8, so it would
    judge other code than Python runs.  Only the first bytes of each file are read, the rest only
    when a cookie names another encoding."""
    out: dict[str, Problem] = {}
    for path in paths:
        try:
            with open(path, "rb") as fh:
                head = fh.read(512)
        except OSError:
            continue  # Semgrep reports what it cannot read
        if b"coding" not in head:
            continue
        from velro_policy.inputs._files import read_capped
        from velro_policy.inputs.settings import declared_encoding

        data = read_capped(path)
        encoding = declared_encoding(data) if data is not None else None
        if data is None or encoding is None:
            continue
        try:
            as_python = data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            as_python = ""
        as_semgrep = data.decode("utf-8", "replace")
        if [c for c in as_python if c < "\x80"] != [c for c in as_semgrep if c < "\x80"]:
            out[path] = Problem(path, 1, 1, f"declares the encoding {encoding} (PEP 263), in which Python reads other code "
                                "than Semgrep does (UTF-8), so its code rules were not checked; re-save it as UTF-8", "scan-error")
    return out


def _git_ignored(paths: list[str]) -> set[str]:
    """Files git ignores (discovery already skips ignored folders; this catches single
    ignored files such as generated modules).  Outside a work tree: none."""
    if not paths:
        return set()
    import subprocess

    try:
        out = subprocess.run(["git", "check-ignore", "-z", "--stdin"], input="\0".join(paths).encode("utf-8", "surrogateescape") + b"\0",
                             capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if out.returncode not in (0, 1):  # 128: not a work tree, or a path outside it
        return set()
    return {p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


# --- the Semgrep config -----------------------------------------------------


# A key of an inline Semgrep body that velro-policy reads and Semgrep never sees:
#   unless-own-exception: $E
# a match is not reported when what binds the exception $E where the match is (the except clauses
# of its function, or the exception handler it is) catches only exception classes the project
# defines, and nothing of $E is read there but their attributes (exc.message), or its message too
# when no raise of those classes wraps a caught exception: that is the app's own text
# (inputs.own_exceptions).  Read from the module, not from Semgrep's bindings: a
# pattern-inside `try: ... except $T as $E:` spans the whole try, every clause of it.
OWN_EXCEPTION_KEY = "unless-own-exception"


def _own_exception_var(rule: Rule) -> str | None:
    spec = (rule.semgrep or {}).get(OWN_EXCEPTION_KEY)
    if spec is None:
        return None
    if not (isinstance(spec, str) and _METAVAR.fullmatch(spec)):
        raise PolicyError(f"rule {rule.id}: `{OWN_EXCEPTION_KEY}` names one metavariable, the caught exception ($E)",
                          path=f"{rule.file}:{rule.line}")
    return spec


def metavariables(rule: Rule) -> list[str]:
    """Metavariables a rule's message and select need, in order, unique."""
    found = _METAVAR.findall(str(rule.message or ""))
    found += [s for s in rule.select or () if s.startswith("$")]
    found += [v for v in (_own_exception_var(rule),) if v]
    return list(dict.fromkeys(found))


def _bodies(rule: Rule) -> list[dict[str, Any]]:
    """The Semgrep rule bodies of a velro rule: inline, or every rule of its file."""
    if rule.semgrep:
        return [dict(rule.semgrep)]
    path = rule.semgrep_file
    where = f"{rule.file}:{rule.line}"
    if not path:
        raise PolicyError(f"rule {rule.id} has neither `semgrep` nor `semgrep_file`; add one", path=where)
    from velro_policy.inputs._files import read_capped
    from velro_policy.values import yamlio

    raw = read_capped(path)  # a regular file under the cap, else None (a FIFO or /dev/zero would never end)
    try:
        if raw is None:
            raise OSError("not a regular file of a sane size")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"rule {rule.id}: cannot read its semgrep_file {path} ({exc.__class__.__name__}); fix the path", path=where) from None
    data = yamlio.plain(yamlio.load(text, path))
    items = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise PolicyError(f"semgrep_file of rule {rule.id} must be a Semgrep rule file (`rules:` with at least one rule); fix it", path=path)
    return [dict(i) for i in items]


def build_config(rules: list[Rule]) -> tuple[list[dict[str, Any]], dict[str, Rule]]:
    """(Semgrep rules, Semgrep id -> velro rule).

    A rule's Semgrep id is its velro id with ``/`` as ``.`` (Semgrep allows
    only ``[a-zA-Z0-9._-]``), so ``# nosemgrep: velro.code-fastapi-debug`` or
    just ``# nosemgrep: code-fastapi-debug`` silences one rule.  The rules of
    a ``semgrep_file`` get ``<id>.<their own id>``.
    """
    out: list[dict[str, Any]] = []
    by_id: dict[str, Rule] = {}
    for rule in rules:
        wanted = metavariables(rule)
        message = "m" + "".join(SEP + v for v in wanted)
        base = re.sub(r"[^a-zA-Z0-9._-]", ".", str(rule.id).replace("/", "."))
        bodies = _bodies(rule)
        for index, body in enumerate(bodies):
            own = re.sub(r"[^a-zA-Z0-9_-]", "-", str(body.get("id") or index))
            sid = base if rule.semgrep else f"{base}.{own}"
            while sid in by_id:
                sid += "-"
            if "paths" in body:  # Semgrep would skip files silently: which files a run checks is velro-policy's to say
                raise PolicyError(f"rule {rule.id}: a Semgrep `paths:` filter is not supported (files it excludes would "
                                  "pass unchecked); scope code rules with code_exclude in the config",
                                  path=f"{rule.file}:{rule.line}" if rule.semgrep else str(rule.semgrep_file))
            for key in _STRIP_KEYS:
                body.pop(key, None)
            if rule.semgrep:
                _own_exception_var(rule)  # a malformed key is a policy error before any scan
                body.pop(OWN_EXCEPTION_KEY, None)
            body.setdefault("languages", ["python"])
            out.append({"id": sid, "message": message, "severity": "WARNING", **body})
            by_id[sid] = rule
    return out, by_id


# --- running Semgrep ----------------------------------------------------------


def find_semgrep() -> str:
    """VELRO_POLICY_SEMGREP, else the semgrep installed next to this Python, else PATH."""
    import shutil

    override = os.environ.get(ENV_EXECUTABLE)
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise ScanError(f"{ENV_EXECUTABLE}={override} is not an executable file; fix or unset it")
    beside = os.path.join(os.path.dirname(sys.executable), "semgrep")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("semgrep")
    if found:
        return found
    raise ScanError(
        "code rules need Semgrep, but `semgrep` is not installed next to this Python nor on PATH; "
        "pip install 'velro-policy[code]' (adds semgrep), or run only other targets (--target env --target settings)"
    )


def semgrep_version() -> str:
    """The version of the Semgrep that code rules would run, with its path, or why there is none."""
    import subprocess

    try:
        exe = find_semgrep()
    except ScanError:
        return "not installed (pip install 'velro-policy[code]' for the code rules)"
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60, env=semgrep_environment(os.environ))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{exe} does not run ({exc.__class__.__name__})"
    version = (out.stdout.strip().splitlines() or ["?"])[-1]
    return f"{version} ({exe})" if out.returncode == 0 else f"{exe} failed (exit {out.returncode})"


def _check_version(version: str) -> None:
    try:
        parts = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        raise ScanError(f"semgrep reported an unreadable version {version!r}; install semgrep>=1.80,<2") from None
    low, high = SUPPORTED
    if not (low <= parts < high):
        raise ScanError(f"semgrep {version} is not supported; install semgrep>=1.80,<2 (pip install 'semgrep>=1.80,<2')")


def _timeout(config: dict[str, Any]) -> int:
    return int(config.get("semgrep_timeout") or DEFAULT_TIMEOUT)


ARG_BYTES = 1_000_000  # stay well under the OS limit on one command line (Linux: 2 MiB)


def _batches(paths: list[str]) -> list[list[str]]:
    """All paths in one batch, unless they would overflow one command line."""
    out: list[list[str]] = [[]]
    size = 0
    for path in paths:
        n = len(os.fsencode(path)) + 1
        if out[-1] and size + n > ARG_BYTES:
            out.append([])
            size = 0
        out[-1].append(path)
        size += n
    return out


# One scan shared by many runs (``velro-policy test``: 30 cases, one Semgrep start instead of 30).
# Semgrep OSS judges each file on its own (taint too), so a file's results do not depend on the
# other files of the scan; a run whose files were all in the shared scan takes its slice.
_shared: dict[str, tuple[set[str], dict[str, Any]]] = {}


@contextmanager
def shared_scan(semgrep_rules: list[dict[str, Any]], paths: list[str], config: dict[str, Any]) -> Iterator[None]:
    """Scan ``paths`` once now; inside the block, a run with the same rules over a subset of them
    reuses that scan.  If the shared scan fails, each run scans for itself (and fails as it would)."""
    import json

    key = json.dumps(semgrep_rules, sort_keys=True)
    try:
        data = run_semgrep(semgrep_rules, paths, config)
    except ScanError:
        yield
        return
    _shared[key] = ({os.path.normpath(p) for p in paths}, data)
    try:
        yield
    finally:
        _shared.pop(key, None)


def _slice_of_shared(semgrep_rules: list[dict[str, Any]], paths: list[str]) -> dict[str, Any] | None:
    import json

    if not _shared:
        return None
    found = _shared.get(json.dumps(semgrep_rules, sort_keys=True))
    wanted = {os.path.normpath(p): p for p in paths}
    if found is None or not set(wanted) <= found[0]:
        return None
    data = found[1]

    def ours(item: dict[str, Any]) -> bool:
        return os.path.normpath(str(item.get("path"))) in wanted

    scanned = (data.get("paths") or {}).get("scanned")
    return {
        "results": [dict(r, path=wanted[os.path.normpath(r["path"])]) for r in data["results"] if ours(r)],
        # errors without a path are about the rules: every run sees them
        "errors": [e for e in data.get("errors") or () if not e.get("path") or ours(e)],
        "paths": {"scanned": [wanted[os.path.normpath(p)] for p in scanned if os.path.normpath(p) in wanted]}
        if isinstance(scanned, list) else None,
        "version": data.get("version", ""),
    }


def run_semgrep(semgrep_rules: list[dict[str, Any]], paths: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """Run Semgrep over all files (one process; more only past the command-line limit)."""
    return SemgrepRun(semgrep_rules, paths, config).result()


class SemgrepRun:
    """One Semgrep scan, started on creation and collected by ``result()``.

    Between the two the caller does its other work: Semgrep is a process of its
    own, so a whole-repository run overlaps its reading and judging with the scan.
    The file list is split only past the command-line limit; the batches run one
    after another.  ``cancel()`` kills a scan still running (its process group)
    and removes the temporary rules file.
    """

    def __init__(self, semgrep_rules: list[dict[str, Any]], paths: list[str], config: dict[str, Any]) -> None:
        import json
        import tempfile
        import time

        self._merged: dict[str, Any] | None = _slice_of_shared(semgrep_rules, paths)
        self._proc: Any = None
        self._tmp: Any = None
        if self._merged is not None:
            return
        self._exe = find_semgrep()
        self._timeout = _timeout(config)
        self._deadline = time.monotonic() + self._timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="velro-semgrep-")
        self._cfg = os.path.join(self._tmp.name, "rules.yaml")
        with open(self._cfg, "w", encoding="utf-8") as fh:
            # Each rule a JSON (= YAML flow) mapping on its own line: rule N is on line N + 2, so the
            # line of a schema error names its rule.
            fh.write("rules:\n" + "".join(f"- {json.dumps(r, ensure_ascii=False)}\n" for r in semgrep_rules))
        self._batches = _batches(paths)
        try:
            self._proc = _launch(self._exe, self._cfg, self._batches.pop(0), self._timeout)
        except BaseException:
            self.cancel()
            raise

    def result(self) -> dict[str, Any]:
        """Wait for the scan (and any further batch); the merged Semgrep report."""
        import time

        if self._merged is not None:
            return self._merged
        merged: dict[str, Any] = {"results": [], "errors": [], "paths": {"scanned": []}, "version": ""}
        try:
            while True:
                data = _collect(self._proc, max(1, int(self._deadline - time.monotonic())), self._timeout)
                self._proc = None
                merged["results"] += data["results"]
                merged["errors"] += data.get("errors") or []
                merged["version"] = data.get("version", "")
                scanned = (data.get("paths") or {}).get("scanned")
                if isinstance(scanned, list) and isinstance(merged["paths"], dict):
                    merged["paths"]["scanned"] += scanned
                else:
                    merged["paths"] = None  # a report that does not list them: every file is "could not check"
                if not self._batches:
                    break
                self._proc = _launch(self._exe, self._cfg, self._batches.pop(0), self._timeout)
        finally:
            self.cancel()
        self._merged = merged
        return merged

    def cancel(self) -> None:
        if self._proc is not None:
            _kill_group(self._proc)
            self._proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


# Inherited variables that would make Semgrep (a Python program) import code from the scanned
# repository, or change what it reports (SEMGREP_BASELINE_COMMIT reports only new findings).
_UNSAFE_ENV = ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONINSPECT")


def semgrep_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment Semgrep runs with: ours, minus what could run scanned code or hide findings."""
    env = {k: v for k, v in environ.items() if k not in _UNSAFE_ENV and not k.startswith("SEMGREP_")}
    env.update(SEMGREP_SEND_METRICS="off", SEMGREP_ENABLE_VERSION_CHECK="0")
    return env


def _launch(exe: str, cfg: str, paths: list[str], timeout: int) -> Any:
    import subprocess

    cmd = [
        exe, "scan", "--config", cfg, "--json", "--metrics=off", "--disable-version-check",
        # Scope is decided by discovery (.gitignore, exclude, code_exclude); Semgrep scans what it is given.
        "--no-git-ignore", "--max-target-bytes", "0",
        "--timeout", str(max(1, min(FILE_TIMEOUT, timeout))),
        "--", *paths,
    ]
    env = semgrep_environment(os.environ)
    try:
        # Its own process group: on timeout, semgrep-core and any wrapper go too (no orphan holding the pipes).
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    except OSError as exc:
        raise ScanError(f"cannot start semgrep ({exe}): {exc.strerror or exc}; reinstall it (pip install semgrep)") from None


def _collect(proc: Any, remaining: int, timeout: int) -> dict[str, Any]:
    import json
    import subprocess

    try:
        stdout, stderr = proc.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise ScanError(f"semgrep did not finish within {timeout} s; raise semgrep_timeout in the config or exclude large files (code_exclude)") from None
    except BaseException:
        _kill_group(proc)
        raise
    try:
        data = json.loads(stdout.decode("utf-8", "replace"))
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise ValueError
    except ValueError:
        raise ScanError(f"semgrep failed (exit {proc.returncode}) without a report: {_last_line(stderr)}; rerun with the same files to see why") from None
    _check_version(str(data.get("version", "")))
    if proc.returncode not in (0, 1) and not data.get("errors"):
        raise ScanError(f"semgrep failed (exit {proc.returncode}): {_last_line(stderr)}")
    return data


def _kill_group(proc: Any) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        proc.kill()
    proc.communicate()


def _last_line(raw: bytes) -> str:
    lines = [ln.strip() for ln in raw.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no message"


# --- results -> documents ---------------------------------------------------------


def _rule_of(check_id: str, by_id: dict[str, Rule]) -> Rule | None:
    """The velro rule of a Semgrep check id (Semgrep may prefix the config's dotted path)."""
    parts = check_id.split(".")
    for i in range(len(parts)):
        rule = by_id.get(".".join(parts[i:]))
        if rule is not None:
            return rule
    return None


def _rule_errors(data: dict[str, Any], by_id: dict[str, Rule]) -> None:
    """A rule Semgrep rejects stops the run, naming the policy file and line."""
    line_rule = dict(enumerate(by_id.values(), start=2))  # config line -> rule (one rule per line)
    for err in data.get("errors") or ():
        if err.get("path"):
            continue  # about one file (a parse error, a timeout, an engine error): that file was not checked
        rule = _rule_of(str(err.get("rule_id") or ""), by_id) if err.get("rule_id") else None
        if rule is None and not err.get("path"):
            for span in err.get("spans") or ():
                if isinstance(span, dict) and str(span.get("file", "")).endswith("rules.yaml"):
                    rule = line_rule.get(int((span.get("start") or {}).get("line") or 0))
        if rule is None:
            continue
        text = err.get("long_msg") or err.get("message") or err.get("short_msg") or err.get("type") or "rejected"
        first = " ".join(str(text).split())[:200]
        raise ScanError(
            f"rule {rule.id}: semgrep rejected it: {first}; fix the rule's `semgrep` block"
            + (f" or its semgrep_file {rule.semgrep_file}" if rule.semgrep_file else ""),
            path=str(rule.file), line=int(rule.line or 0),
        )


def _file_problems(data: dict[str, Any], paths: list[str], by_id: dict[str, Rule]) -> dict[str, list[Problem]]:
    out: dict[str, list[Problem]] = {}
    known = {os.path.normpath(p): p for p in paths}
    for err in data.get("errors") or ():
        path = err.get("path")
        if path and os.path.normpath(path) in known:
            kind = err.get("type") or "error"
            spans = err.get("spans") or (kind[1] if isinstance(kind, list) and len(kind) > 1 and isinstance(kind[1], list) else None) or [{}]
            line = int(((spans[0] if isinstance(spans[0], dict) else {}).get("start") or {}).get("line") or 0)
            kind = str(kind[0] if isinstance(kind, list) and kind else kind)  # e.g. ["PartialParsing", [spans]]
            if "timeout" in kind.lower():
                what = "took too long on this file"
            elif "pars" in kind.lower() or "syntax" in kind.lower():
                what = f"{SEMGREP_PARSE} ({kind}), so its code rules were not fully checked"
            else:
                what = f"could not analyse it ({kind})"
            rule = _rule_of(str(err.get("rule_id") or ""), by_id) if err.get("rule_id") else None
            if rule is not None:
                what += f" with rule {rule.id}"
            out.setdefault(known[os.path.normpath(path)], []).append(
                Problem(path, line, 1 if line else 0, f"semgrep: {what}; fix the file or exclude it (code_exclude)", "scan-error"))
        elif path or not err.get("rule_id"):
            what = " ".join(str(err.get("message") or err.get("long_msg") or err.get("type")).split())[:200]
            raise ScanError(f"semgrep reported an error{f' for {path}' if path else ''}: {what}")
    listing = data.get("paths") or {}
    if isinstance(listing, dict) and isinstance(listing.get("scanned"), list):
        scanned = {os.path.normpath(p) for p in listing["scanned"]}
        for norm, path in known.items():
            if norm not in scanned and path not in out:
                why = "check the file type or exclude it"
                if not _utf8_name(path):  # Semgrep mangles such a name and scans nothing, without an error
                    why = "its name is not valid UTF-8, which Semgrep cannot open: rename it"
                out[path] = [Problem(path, 0, 0, f"semgrep skipped this file, so its code rules were not checked; {why}", "scan-error")]
    else:  # every supported Semgrep lists what it scanned: a report without the list proves nothing was
        for path in known.values():
            out.setdefault(path, []).append(Problem(
                path, 0, 0, "semgrep's report does not list the files it scanned, so this file's code rules cannot be "
                "known to have run; check which semgrep runs (velro-policy --version)", "scan-error"))
    return out


def _utf8_name(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _documents(data: dict[str, Any], paths: list[str], by_id: dict[str, Rule], ctx: LoadContext) -> Iterator[Document]:
    _rule_errors(data, by_id)
    problems = _file_problems(data, paths, by_id)
    known = {os.path.normpath(p): p for p in paths}
    own = _LazyOwn(paths)
    results: dict[str, list[dict[str, Any]]] = {}
    for res in data["results"]:
        path = known.get(os.path.normpath(str(res.get("path"))))
        if path is not None and _rule_of(str(res.get("check_id")), by_id) is not None:
            results.setdefault(path, []).append(res)
    for path in paths:
        display = ctx.display(path)
        entries: list[Entry] = []
        if results.get(path):
            try:
                with open(path, "rb") as fh:
                    raw = fh.read()
            except OSError:
                raw = b""
            spans: set[tuple[str, object, object]] = set()
            for res in results[path]:
                rule = _rule_of(str(res["check_id"]), by_id)
                if rule is None:
                    continue
                if _own_exception_attribute(res, rule, path, own):
                    continue
                span = (str(rule.id), (res.get("start") or {}).get("offset"), (res.get("end") or {}).get("offset"))
                if span not in spans:  # one finding per rule and matched code, however many ways it matched
                    spans.add(span)
                    entries.append(_entry(res, rule, raw, display))
        file_problems = tuple(p._replace(path=display) for p in problems.get(path, ()))
        yield Document(path, TARGET, tuple(entries), "production", "code", False, file_problems, display)


class _LazyOwn:
    """The project's exception classes, read only when a match asks (most runs never do)."""

    def __init__(self, paths: list[str]) -> None:
        self._paths = paths
        self._own: Any = None

    def own_text_only(self, path: str, line: int, col: int, name: str) -> bool:
        if self._own is None:
            from velro_policy.inputs.own_exceptions import OwnExceptions

            self._own = OwnExceptions(self._paths)
        return bool(self._own.own_text_only(path, line, col, name))


def _own_exception_attribute(res: dict[str, Any], rule: Rule, path: str, own: _LazyOwn) -> bool:
    """The match is about the project's own exception text (see OWN_EXCEPTION_KEY)."""
    wanted = _own_exception_var(rule)
    if wanted is None:
        return False
    values = dict(zip(metavariables(rule), str((res.get("extra") or {}).get("message") or "").split(SEP)[1:]))
    name = values.get(wanted, wanted)
    if name == wanted or not name.isidentifier():  # unbound
        return False
    start = res.get("start") or {}
    return own.own_text_only(path, int(start.get("line") or 0), int(start.get("col") or 0), name)


def _entry(res: dict[str, Any], rule: Rule, raw: bytes, display: str) -> Entry:
    start, end = res.get("start") or {}, res.get("end") or {}
    line = int(start.get("line") or 1)
    byte_col = int(start.get("col") or 1)
    line_start = int(start.get("offset") or 0) - (byte_col - 1)
    col = len(raw[max(0, line_start): max(0, line_start) + byte_col - 1].decode("utf-8", "replace")) + 1 if raw else byte_col
    code = raw[int(start.get("offset") or 0): int(end.get("offset") or 0)].decode("utf-8", "replace")
    wanted = metavariables(rule)
    values = str((res.get("extra") or {}).get("message") or "").split(SEP)[1:]
    metavars = tuple(zip(wanted, values)) if len(values) == len(wanted) else ()
    return Entry(str(rule.id), CodeMatch(" ".join(code.split()), metavars), Location(display, line, col), (str(rule.id),))
