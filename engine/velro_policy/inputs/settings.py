"""The ``settings`` source: Python settings modules, read with ``ast`` and
never imported (importing runs code; reading does not).

Which files:
- every ``.py`` file named on the command line (unless ``python_exclude``d);
- in a directory: settings modules (``settings_modules`` globs, default
  ``settings.py``, ``config.py``, ``config/*.py``, ``settings/*.py``,
  ``*_settings.py``, and any module defining a ``BaseSettings`` subclass)
  and, unless ``scan_python`` is false, every other Python module, for the
  structures the settings policies recognise (header dicts, rate-limit
  tables, origin lists) and env reads (``os.getenv("DEBUG", "true")``).
  ``python_exclude`` globs (default: tests folders and test files) are
  skipped, also when named on the command line.

Cheap by design: a module that is not a settings module is parsed only when
its text contains a word that a settings rule's selector needs (``limit``,
``x-frame-options``, ``origins``...) or an env read; the others cost one
regex search.

Entries: module constants (``SECURITY_HEADERS``), class attributes
(``RateLimiter.LIMITS``), dicts returned by functions
(``get_security_headers``), and pydantic-settings fields under their env
variable name (``DEBUG``, with ``Settings.debug`` as an alias).  Every
member of a dict is an entry of its own
(``SECURITY_HEADERS["X-Frame-Options"]``), so a finding points at its line;
so is every dict or list inside a list (``RULES[0]["limit"]``), while scalar
list items are judged with their list (an origin list, a ``(3, 3600)`` rate).
In modules other than settings modules only containers and env-backed
values are kept (a scalar ``DEBUG = settings.debug`` in a router is not a
setting).
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from fnmatch import fnmatch
from typing import TYPE_CHECKING, Any

from velro_policy.inputs._files import tail_glob_match
from velro_policy.model import Document, Entry, Problem, Unknown
from velro_policy.rules import Rule

if TYPE_CHECKING:
    from velro_policy.inputs import LoadContext
    from velro_policy.inputs.pyfold import Lit
    from velro_policy.inputs.pyread import Binding, ModuleRead

NAME = "settings"
TARGET = "settings"
DEFAULT_MODULES = ["settings.py", "config.py", "config/*.py", "settings/*.py", "*_settings.py"]
DEFAULT_EXCLUDE = ["test_*.py", "*_test.py", "conftest.py", "tests/*", "test/*"]
ENVIRONMENT_SOURCE = "settings defaults: what production runs with wherever the platform does not set the variable"
_MODULE_WORDS = frozenset({"settings", "config", "conf", "configuration", "env"})


def module_environment(path: str) -> tuple[str, str]:
    """(environment, source) of a settings module: the environment its file name is for
    (``settings/development.py``, ``config_dev.py``, ``test_settings.py``...), else production,
    the defaults being what runs wherever the platform does not set a variable."""
    from velro_policy.values.environments import DEFAULT_ALIASES

    stem = os.path.basename(path).rsplit(".", 1)[0].lower()
    words = [w for w in re.split(r"[._-]+", stem) if w]
    named = [w for w in words if w not in _MODULE_WORDS]
    if len(named) == 1 and len(words) <= 2 and named[0] in DEFAULT_ALIASES and named[0] not in ("main", "live"):
        return DEFAULT_ALIASES[named[0]], f"file name ({os.path.basename(path)}): the settings of that environment"
    return "production", ENVIRONMENT_SOURCE
# Words that make any module worth parsing, whatever the policies select.
_ALWAYS = ("basesettings", "getenv", "environ", "decouple", "environs", "starlette.config")


def claims(path: str, explicit: bool, config: dict[str, Any]) -> bool:
    """Python files minus ``python_exclude`` (test files by default).

    As for the code target's ``code_exclude``: a glob matches the path
    relative to the project (the config's folder, else the current
    directory) or any tail of it, so ``tests/*`` excludes tests folders at
    any depth; it applies to files named on the command line too, because
    pre-commit names every staged file.
    """
    if not path.endswith(".py"):
        return False
    patterns = config.get("python_exclude", DEFAULT_EXCLUDE)
    if patterns and tail_glob_match(path, patterns, config.get("root")):
        return False
    return explicit or bool(config.get("scan_python", True)) or is_settings_path(path, config)


def is_settings_path(path: str, config: dict[str, Any]) -> bool:
    """Does the path match a ``settings_modules`` glob (matched against its
    last components: ``config/*.py`` matches ``app/config/base.py``)?"""
    parts = path.replace(os.sep, "/").split("/")
    for pattern in config.get("settings_modules", DEFAULT_MODULES):
        depth = pattern.count("/") + 1
        if fnmatch("/".join(parts[-depth:]), pattern):
            return True
    return False


def _markers(rules: Iterable[Rule]) -> re.Pattern[str] | None:
    """A regex of the words a module must contain for a settings rule to
    possibly match in it (None: some rule matches anything, parse all)."""
    from velro_policy.rules import check_data
    from velro_policy.values import selectors

    words = set(_ALWAYS)
    for rule in rules:
        if rule.target != TARGET:
            continue
        keyed = _key_words(check_data(rule.check))
        for sel in rule.select:
            if sel.startswith("!"):
                continue
            try:
                segments = selectors.compile_selector(sel)
            except selectors.SelectorError:
                return None
            fragments = _fragments(segments)
            if fragments:
                words.add(max(fragments, key=len))
            elif keyed:  # selects any value, but only dicts holding one of these keys can fail
                words.update(keyed)
            else:
                return None
    # Matched against the lower-cased text: much faster than re.IGNORECASE on an alternation.
    return re.compile("|".join(re.escape(w.lower()) for w in sorted(words)))


def _fragments(globs: Iterable[str]) -> list[str]:
    return [f for g in globs for f in re.split(r"[*?\[\]]+", g.lower()) if len(f) >= 3]


def _key_words(check: object) -> list[str]:
    """For a ``requires_keys`` check that recognises dicts by their keys, one
    literal word of every key (a module without any of them holds no such dict)."""
    if not isinstance(check, dict):
        return []
    spec = check.get("requires_keys")
    if not isinstance(spec, dict) or int(spec.get("recognise", 0) or 0) < 1:
        return []
    keys = spec.get("keys")
    groups = list(keys.values()) if isinstance(keys, dict) else [[k] for k in keys or []]
    words = []
    for globs in groups:
        fragments = _fragments(globs)
        if len(fragments) < len(globs):
            return []  # a key glob without a literal word: cannot pre-filter
        words.extend(fragments)
    return words


def read_python(path: str) -> tuple[str | None, Problem | None]:
    """The module as Python reads it: UTF-8 like every file, or the encoding a PEP 263 cookie
    declares, even when the bytes are valid UTF-8 too (``# coding: utf-7`` hid ``+AAo-DEBUG = True``,
    a second line to Python, inside a comment)."""
    from velro_policy.inputs._files import read_capped, read_text

    text, problem = read_text(path)
    if problem is None and not _declares_encoding(text or ""):
        return text, problem
    if problem is not None and "UTF-8" not in problem.message:
        return text, problem
    data = read_capped(path)
    encoding = declared_encoding(data) if data is not None else None
    if data is None or encoding is None:
        return text, problem
    try:
        return data.decode(encoding), None
    except (LookupError, UnicodeDecodeError):
        return None, Problem(path, 1, 1, f"declares the encoding {encoding} (PEP 263) but is not valid {encoding}; "
                             "re-save it as UTF-8", "parse-error")


_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)


def _declares_encoding(text: str) -> bool:
    """A coding cookie on the first two lines (cheap: most modules have none)."""
    head = text[:400].split("\n", 2)[:2]
    return "coding" in "".join(head) and bool(_COOKIE.search("\n".join(head)))


def declared_encoding(data: bytes) -> str | None:
    """The encoding a PEP 263 cookie declares, when it is not UTF-8 (None: UTF-8 or no cookie)."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return None
    return None if encoding.replace("-", "_").lower() in ("utf_8", "utf_8_sig") else encoding


_READ_HINTS = ("basesettings", "getenv", "environ", "decouple", "starlette.config")
# An env read anywhere in a module: os.getenv("X"), os.environ["X"], environ.get("X"), config("X").
_ENV_CALL_SOURCE = r"""(?:getenv|environ\.get|environ\[|\bconfig|\benv(?:\.\w+)?)\s*\(?\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""


def env_reads(text: str, display_path: str, read: ModuleRead | None = None) -> tuple[tuple[str, int], ...]:
    """Env variable names a module reads (upper-cased), each with the first line reading it.

    Includes what has no value and so no entry: a required pydantic-settings
    field, ``os.getenv("X")`` without a default (the project rule
    ``settings_read`` needs every name the application reads).
    """
    out: dict[str, int] = {}
    if "BaseSettings" in text:  # fields need the class read; other reads the regex finds
        if read is None:
            from velro_policy.inputs.pyread import read_module

            read = read_module(text, display_path)
        for f in read.fields:
            for name in f.env:
                out.setdefault(name.upper(), f.line)
        for b in read.bindings:
            for name in b.env:
                out.setdefault(name.upper(), b.lit.loc.line)
    lowered = text.lower()
    if any(word in lowered for word in _READ_HINTS):
        for m in re.finditer(_ENV_CALL_SOURCE, text):  # compiled once, on first use, by re's cache
            out.setdefault(m.group(1).upper(), text.count("\n", 0, m.start()) + 1)
    return tuple(out.items())


def env_reads_document(path: str, display_path: str) -> Document:
    """A settings document holding only what the module reads from the environment
    (the rest of a project in a partial run: only the project rules look at it)."""
    text, _ = read_python(path)
    return Document(path, TARGET, (), display_path=display_path, env_reads=env_reads(text or "", display_path))


def load(paths: list[str], ctx: LoadContext) -> Iterator[Document]:
    markers = _markers(ctx.rules)
    for path in paths:
        yield load_file(path, display_path=ctx.display(path), config=ctx.config, markers=markers, parsed=ctx.parsed)


def load_file(path: str, *, display_path: str, config: dict[str, Any], markers: re.Pattern[str] | None = None,
              parsed: Callable[[str], tuple[str, Any] | None] | None = None) -> Document:
    """One module as a settings document.  ``parsed``: the run's modules parsed already (absolute
    path -> (text, tree)); a tree is reused only for the very same text."""
    text, problem = read_python(path)
    environment, source = module_environment(path)
    if problem is not None:
        return Document(path, TARGET, (), environment, source, problems=(problem._replace(path=display_path),), display_path=display_path)
    assert text is not None
    settings_module = is_settings_path(path, config)
    if not settings_module and markers is not None and not markers.search(text.lower()):
        return Document(path, TARGET, (), environment, source, display_path=display_path,
                        env_reads=env_reads(text, display_path))
    if len(text) > MAX_PYTHON_CHARS:
        return Document(path, TARGET, (), environment, source, display_path=display_path, problems=(Problem(
            display_path, 1, 1, f"is larger than {MAX_PYTHON_CHARS // (1024 * 1024)} MiB of Python, too large for the settings "
            "reader (a data table, generated code?); exclude it (python_exclude)", "parse-error"),))
    from velro_policy.inputs.pyread import read_module

    hit = parsed(os.path.abspath(path)) if parsed is not None else None
    read = read_module(text, display_path, tree=hit[1] if hit is not None and hit[0] == text else None)
    settings_module = settings_module or bool(read.settings_classes)
    entries = tuple(e for b in read.bindings if _keep(b, settings_module)
                    and not (b.outside_production and environment == "production") for e in _entries(b))
    if len(entries) > MAX_VALUES:
        line = entries[MAX_VALUES].loc.line
        return Document(path, TARGET, (), environment, source, display_path=display_path, problems=(Problem(
            display_path, line, 1, f"holds {len(entries):,} values (more than {MAX_VALUES:,} from this line on), too many to "
            "judge in time (a data table, generated code?); exclude it (python_exclude)", "parse-error"),))
    return Document(path, TARGET, entries, environment, source, problems=tuple(read.problems), display_path=display_path,
                    env_reads=env_reads(text, display_path, read))


# Budgets of the settings reader (issue 18): parsing and folding cost ~30 µs per statement and judging
# ~1 ms per value, so a generated module of a million lines took minutes and gigabytes.
MAX_PYTHON_CHARS = 2 * 1024 * 1024  # a module read with ast (settings modules and ones a rule's words appear in)
MAX_VALUES = 5_000  # values (bindings and their members) one module may hand to the rules


def _keep(binding: Binding, settings_module: bool) -> bool:
    value = binding.lit.value
    if binding.env and value is None:
        return False  # os.getenv("X") with no default: nothing is set until the env sets it
    if settings_module or binding.env:
        return True
    if isinstance(value, Unknown):  # before the tuple test: Unknown is a NamedTuple
        return bool(binding.lit.items)
    return isinstance(value, (dict, list, tuple, set, frozenset))


def _entries(binding: Binding) -> Iterator[Entry]:
    """The binding and each of its members, recursively."""
    yield from _walk(binding.display, binding.lit, binding.parts, binding.aliases, binding.env)


def _segment(key: object) -> str | int:
    return key if isinstance(key, (str, int)) and not isinstance(key, bool) else str(key)


def _walk(display: str, lit: Lit, parts: tuple[Any, ...], aliases: tuple[tuple[Any, ...], ...], env: tuple[str, ...]) -> Iterator[Entry]:
    yield Entry(display, lit.value, lit.loc, parts, aliases, env)
    sequence = not isinstance(lit.value, dict) and not (isinstance(lit.value, Unknown) and lit.value.why.startswith("dict"))
    for key, child in lit.items:
        if sequence and not child.items:
            continue  # a scalar list item is judged with its list (an origin list, a (count, window) tuple)
        seg = _segment(key)
        shown = f'["{seg}"]' if isinstance(seg, str) else f"[{seg}]"
        yield from _walk(display + shown, child, (*parts, seg), tuple((*a, seg) for a in aliases), env)
