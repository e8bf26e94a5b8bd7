"""Static reading of Python settings modules with ``ast`` (never imported).

``read_module(text, path)`` returns the values a module declares, each with
``file:line:col``:

- module-level and class-level assignments (``SECURITY_HEADERS = {...}``,
  ``class RateLimiter: LIMITS = {...}``), folded to constants by
  ``pyfold.Folder``;
- pydantic / pydantic-settings classes (subclasses of ``BaseSettings``,
  also through a subclass defined in the same file): each field's env
  variable names (``env_prefix`` from ``model_config = SettingsConfigDict(...)``
  or ``class Config``; ``alias``, ``validation_alias``, ``AliasChoices``,
  ``Field(env=...)``), its default (``= value``, ``Field(value)``,
  ``Field(default=...)``, a literal ``default_factory``) and whether it is
  required;
- container literals inside functions and methods: returned dicts
  (``def get_security_headers(): return {...}``), local dicts and
  ``self.limits = {...}``, because middleware keeps its header and
  rate-limit tables there.

A name assigned in several places of which one is under a condition
(``if ENV == "production": ORIGINS = [...] else: ORIGINS = [...]``) is
``Unknown``: which one runs is not known statically, so it is not guessed.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from velro_policy.inputs.pyfold import MAX_ITEMS, Folder, Lit, Required, TooDeep, TooLarge, dotted, is_hashable
from velro_policy.model import Location, Problem, Unknown

_LINE_END = re.compile(r"\r\n|\r|\n")
_CONTAINER_NODES = (ast.Dict, ast.List, ast.Tuple, ast.Set)
_LIMIT_HELPER = re.compile(r"limit|throttl|quota|(?:^|_)rates?(?:$|_)", re.IGNORECASE)  # helpers whose scalar return is a limit
_BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)


class Binding(NamedTuple):
    """One value the module declares.

    ``parts`` is its primary selector path (``("DEBUG",)``, ``("RateLimiter",
    "LIMITS")``, ``("get_security_headers",)``); ``aliases`` are other paths
    that address the same value (a settings field is ``DEBUG`` and
    ``Settings.debug``); ``env`` names the env variables that override it
    (empty for a constant); ``kind`` is constant, field, attribute, return
    or local.
    """

    parts: tuple[str, ...]
    display: str
    lit: Lit
    env: tuple[str, ...] = ()
    aliases: tuple[tuple[str, ...], ...] = ()
    kind: str = "constant"
    outside_production: bool = False  # assigned only in branches that never run in production (``if not PRODUCTION:``)


class FieldInfo(NamedTuple):
    """A pydantic-settings field as the application's environment sees it."""

    cls: str
    name: str
    env: tuple[str, ...]  # env variable names, upper-cased; the first is the primary one
    default: Lit | None  # None when required
    required: bool
    annotation: str
    line: int


class ModuleRead(NamedTuple):
    bindings: list[Binding]
    fields: list[FieldInfo]
    settings_classes: list[str]
    problems: list[Problem]


def read_module(text: str, path: str, tree: ast.Module | None = None) -> ModuleRead:
    """Parse and read one module.  Never raises for bad input: a syntax
    error or absurd nesting is a ``Problem``.  ``tree``: the module's text parsed
    already in this run (the application model's), which the reader does not change."""
    try:
        if tree is None:
            from velro_policy.inputs.pysyntax import parse

            tree = parse(text, path)
    except SyntaxError as exc:
        line, col = exc.lineno or 1, exc.offset or 1
        msg = exc.msg or "invalid syntax"
        return ModuleRead([], [], [], [Problem(
            path, line, col,
            f"is not valid Python 3 ({msg}); velro-policy reads settings without running them and cannot read this file: fix it or exclude it")])
    except (RecursionError, MemoryError):
        return ModuleRead([], [], [], [Problem(path, 1, 1, "is nested too deeply for the Python parser; simplify it or exclude it")])
    except ValueError as exc:  # e.g. NUL bytes
        return ModuleRead([], [], [], [Problem(path, 1, 1, f"cannot be parsed as Python ({exc}); fix it or exclude it")])
    reader = _Reader(path, [line.encode("utf-8", "surrogateescape") for line in _LINE_END.split(text)])
    try:
        reader.block(tree.body, (), conditional=False)
    except TooDeep as exc:
        return ModuleRead([], [], [], [Problem(
            path, exc.line, 1, "nests literals too deeply to check (more than 100 levels); flatten the value or exclude the file")])
    except TooLarge as exc:
        return ModuleRead([], [], [], [Problem(
            path, exc.line, 1, f"has a literal (or an and/or/comparison chain) of {exc.items:,} items (more than {MAX_ITEMS:,}), too large to check (a data "
            "table, generated code?); move it out of the settings or exclude the file (python_exclude)")])
    except RecursionError:
        return ModuleRead([], [], [], [Problem(path, 1, 1, "nests code too deeply to check; simplify it or exclude the file")])
    return ModuleRead(reader.finish(), reader.fields, reader.settings_classes, [])


class _Pending(NamedTuple):
    binding: Binding
    conditional: bool
    literal: bool = False  # a known value not derived from an env read
    by_env: bool = False  # under a condition that names the environment (ENV == "production")
    outside_production: bool = False  # in a branch that never runs in production (``_production_branches``)


class _Reader:
    def __init__(self, path: str, lines: list[bytes]) -> None:
        self.folder = Folder(path, lines)
        self.pending: dict[tuple[str, ...], list[_Pending]] = {}  # keyed by what is assigned  # module/class level, deduplicated at the end
        self.direct: list[Binding] = []  # inside functions: every one counts
        self.fields: list[FieldInfo] = []
        self.settings_classes: list[str] = []
        self._prefixes: dict[str, str] = {}  # settings class -> env_prefix (inherited by subclasses)
        self._plain: set[str] = set()  # classes of this module that are not settings classes
        self._where: dict[str, tuple[str, object]] = {}  # name -> its binding (pending key or direct index)
        self._by_env = 0  # depth of enclosing ifs whose condition names the environment
        self._outside_production = 0  # depth of enclosing branches that never run in production
        self._env_names: set[str] = set()  # module names whose value comes from an env read

    # -- results ---------------------------------------------------------
    def finish(self) -> list[Binding]:
        out: list[Binding] = []
        for group in self.pending.values():
            outside = [p for p in group if p.outside_production]
            if outside:
                rest = [p for p in group if not p.outside_production]
                out.extend(p.binding._replace(outside_production=True) for p in outside)
                if not rest:
                    continue
                if len(rest) == 1 and (not rest[0].conditional or rest[0].by_env):
                    out.append(rest[0].binding)  # the one value production runs (``if PROD: X = a else: X = b``)
                    continue
                group = rest
            last = group[-1].binding
            literal = [p.binding for p in group if p.literal]
            if len(group) > 1 and any(p.conditional for p in group) and literal and not any(p.by_env for p in group):
                # if _raw: X = _raw.split(",") else: X = [...]; X = a if cond else b: every
                # literal branch is judged at its own line (a branch computed from an env
                # variable is that variable's value, judged where it is set)
                out.extend(literal)
                continue
            if len(group) > 1 and any(p.conditional for p in group):
                lines = ", ".join(str(p.binding.lit.loc.line) for p in group)
                why = f"assigned at lines {lines}; which value applies depends on a condition"
                env = tuple(dict.fromkeys(e for p in group for e in p.binding.env))
                last = last._replace(lit=Lit(Unknown(why), last.lit.loc), env=env)
            out.append(last)
        out.extend(self.direct)
        return sorted(out, key=lambda b: (b.lit.loc.line, b.lit.loc.col))

    def _fold(self, node: ast.AST) -> tuple[Lit | None, tuple[str, ...]]:
        """(folded value or None when required, env variables read)."""
        self.folder.env_reads = []
        try:
            lit: Lit | None = self.folder.fold(node)
        except Required:
            lit = None
        return lit, tuple(dict.fromkeys(r.name for r in self.folder.env_reads))

    def _runtime(self, test: ast.expr) -> bool:
        """A condition decided only at run time: unknown here, or read from the environment."""
        lit, env = self._fold(test)
        return lit is None or isinstance(lit.value, Unknown) or bool(env) or any(
            isinstance(n, ast.Name) and n.id in self._env_names for n in ast.walk(test))

    def _pend(self, binding: Binding, conditional: bool, literal: bool = False) -> None:
        # A field is keyed by its class and name: a module constant DEBUG and a
        # field whose env variable is DEBUG are two different values.
        key = (binding.kind, *(binding.aliases[0] if binding.kind == "field" else binding.parts))
        self.pending.setdefault(key, []).append(_Pending(binding, conditional, literal, self._by_env > 0,
                                                         self._outside_production > 0))
        if binding.kind == "constant":
            self._where[binding.parts[-1]] = ("pending", key)

    # -- later changes: HEADERS["X"] = ..., HEADERS.update(...), ORIGINS.append(...) --
    def _mutation(self, stmt: ast.stmt, conditional: bool) -> bool:
        """Apply a change to a dict or list bound earlier; True when ``stmt`` was one."""
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Subscript):
            target = stmt.targets[0]
            name = dotted(target.value)
            if name not in self._where:
                return False
            key, _ = self._fold(target.slice)
            value, _ = self._fold(stmt.value)
            self._change(name, stmt.lineno, conditional, lambda lit: _set_member(lit, key, value, self.folder.loc(target.slice), conditional))
            return True
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, (ast.Add, ast.BitOr)):
            name = dotted(stmt.target)
            if name not in self._where:
                return False
            other, _ = self._fold(stmt.value)
            self._change(name, stmt.lineno, conditional, lambda lit: _extend(lit, other, conditional, stmt.lineno))
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute):
            call = stmt.value
            name, method = dotted(call.func.value), call.func.attr  # type: ignore[attr-defined]
            if name not in self._where or method not in ("update", "append", "extend", "setdefault"):
                return False
            if method == "update":
                keys: list[ast.expr | None] = [None] * len(call.args)
                keys += [None if k.arg is None else ast.copy_location(ast.Constant(k.arg), k.value) for k in call.keywords]
                merged = ast.Dict(keys=keys, values=[*call.args, *(k.value for k in call.keywords)])
                other, _ = self._fold(ast.copy_location(merged, call))
                self._change(name, stmt.lineno, conditional, lambda lit: _extend(lit, other, conditional, stmt.lineno))
            elif method == "setdefault" and len(call.args) == 2:
                key, _ = self._fold(call.args[0])
                value, _ = self._fold(call.args[1])
                self._change(name, stmt.lineno, conditional, lambda lit: lit if key is not None and isinstance(lit.value, dict)
                             and key.value in lit.value else _set_member(lit, key, value, self.folder.loc(call.args[0]), conditional))
            elif method in ("append", "extend") and len(call.args) == 1:
                other, _ = self._fold(call.args[0] if method == "extend" else ast.copy_location(ast.List(elts=[call.args[0]]), call))
                self._change(name, stmt.lineno, conditional, lambda lit: _extend(lit, other, conditional, stmt.lineno))
            return True
        return False

    def _change(self, name: str, line: int, conditional: bool, change: Callable[[Lit], Lit]) -> None:
        where, key = self._where[name]
        if where == "pending":
            group = self.pending[key]  # type: ignore[index]
            old = group[-1].binding
            group[-1] = group[-1]._replace(binding=old._replace(lit=change(old.lit)))
            new = group[-1].binding.lit
        else:
            old = self.direct[key]  # type: ignore[call-overload]  # key is an int index into a list when not a str key
            self.direct[key] = old._replace(lit=change(old.lit))  # type: ignore[call-overload]  # key is an int index into a list when not a str key
            new = self.direct[key].lit  # type: ignore[call-overload]  # key is an int index into a list when not a str key
        if name in self.folder.scope:
            self.folder.scope[name] = new

    # -- statements ------------------------------------------------------
    def block(self, body: Iterable[ast.stmt], owner: tuple[str, ...], *, conditional: bool) -> None:
        """Module level (owner ()) or a class body (owner (ClassName,))."""
        for stmt in body:
            if not owner and self._mutation(stmt, conditional):
                continue
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                self._assign(stmt, owner, conditional)
            elif isinstance(stmt, ast.ClassDef):
                self._class(stmt, owner)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt, (*owner, stmt.name), owner)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for alias in stmt.names:
                    self.folder.scope.pop((alias.asname or alias.name).split(".")[0], None)
            elif isinstance(stmt, ast.If) and _is_main_guard(stmt.test):
                continue
            elif isinstance(stmt, ast.If) and (_names_environment(stmt.test) or any(_production_branches(stmt.test))):
                self._by_env += 1
                try:
                    for sub, outside in zip((stmt.body, stmt.orelse), _production_branches(stmt.test)):
                        self._outside_production += outside
                        try:
                            self.block(sub, owner, conditional=True)
                        finally:
                            self._outside_production -= outside
                finally:
                    self._by_env -= 1
            elif isinstance(stmt, _BLOCKS):
                for sub in _sub_blocks(stmt):
                    self.block(sub, owner, conditional=True)

    def _assign(self, stmt: ast.Assign | ast.AnnAssign, owner: tuple[str, ...], conditional: bool) -> None:
        if stmt.value is None:
            return
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names:
            return
        value = stmt.value
        if isinstance(value, ast.IfExp) and not _names_environment(value.test) and self._runtime(value.test):
            # X = a if cond else b, cond known only at run time: each branch is a value X can have
            for branch in (value.body, value.orelse):
                self._assign(ast.copy_location(ast.Assign(targets=list(targets), value=branch), branch), owner, True)
            return
        if owner and isinstance(value, ast.Call) and dotted(value.func).split(".")[-1] == "Field":
            # a pydantic BaseModel field: its default, like a settings field's
            default, factory, _ = _field_call(value)
            if factory is not None:
                lit, env = self._factory(factory), ()
            elif default is None or _is_ellipsis(default):
                return  # required
            else:
                lit, env = self._fold(default)  # type: ignore[assignment]  # the variables are declared by their first, narrower assignment
        else:
            lit, env = self._fold(value)  # type: ignore[assignment]  # the variables are declared by their first, narrower assignment
        derived = bool(env) or any(isinstance(n, ast.Name) and n.id in self._env_names for n in ast.walk(value))
        if _is_container(stmt.value):
            env = ()  # an env read inside a literal dict/list backs a member, not the whole value
        for name in names:
            if derived and not owner:
                self._env_names.add(name)
            if lit is None:
                self.folder.scope.pop(name, None)
                continue
            self.folder.scope[name] = lit
            parts = (*owner, name)
            kind = "attribute" if owner else "constant"
            # DEBUG = os.getenv("DEBUG_MODE", "false") == "true" is also addressable as DEBUG_MODE.
            aliases = tuple((e,) for e in env if (e.upper(),) != tuple(p.upper() for p in parts)) if len(env) == 1 else ()
            literal = not derived and not isinstance(lit.value, Unknown)
            self._pend(Binding(parts, ".".join(parts), lit, env, aliases, kind), conditional, literal)

    # -- classes ---------------------------------------------------------
    def _class(self, node: ast.ClassDef, owner: tuple[str, ...]) -> None:
        bases = [dotted(b) for b in node.bases]
        local_base = next((b for b in bases if b in self._prefixes), None)
        # A base of another module named *Settings (class AppSettings(BaseAppSettings), the base being a
        # BaseSettings subclass elsewhere) is taken as a settings class: its fields read the environment.
        is_settings = local_base is not None or any(
            b.split(".")[-1] == "BaseSettings" or (b.split(".")[-1].endswith("Settings") and b not in self._plain) for b in bases)
        saved = dict(self.folder.scope)
        try:
            if is_settings:
                prefix = _env_prefix(node, self.folder)
                if prefix is None:
                    prefix = self._prefixes.get(local_base or "", "")
                self._prefixes[node.name] = prefix
                self.settings_classes.append(node.name)
                self._settings_body(node, (*owner, node.name), prefix)
            else:
                self._plain.add(node.name)
                self.block(node.body, (*owner, node.name), conditional=False)
        finally:
            self.folder.scope = saved

    def _settings_body(self, node: ast.ClassDef, parts: tuple[str, ...], prefix: str) -> None:
        for stmt in node.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and _is_field(stmt):
                self._field(stmt, parts, prefix)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                if not any(isinstance(t, ast.Name) and t.id == "model_config" for t in getattr(stmt, "targets", [getattr(stmt, "target", None)])):
                    self._assign(stmt, parts, False)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt, (*parts, stmt.name), parts)
            elif isinstance(stmt, ast.ClassDef) and stmt.name != "Config":
                self._class(stmt, parts)

    def _field(self, stmt: ast.AnnAssign, parts: tuple[str, ...], prefix: str) -> None:
        assert isinstance(stmt.target, ast.Name)
        name = stmt.target.id
        default_node, factory, names = _field_call(stmt.value)
        annotated = _annotated_field(stmt.annotation)  # debug: Annotated[bool, Field(alias="DEBUG")] = True
        if annotated is not None:
            a_default, a_factory, a_names = _field_call(annotated)
            names = names or a_names
            if stmt.value is None:
                default_node, factory = a_default, a_factory
        env = tuple(n.upper() for n in names) or ((prefix + name).upper(),)
        lit: Lit | None = None
        if factory is not None:
            lit = self._factory(factory)
        elif default_node is not None and not _is_ellipsis(default_node):
            lit, _ = self._fold(default_node)
        if lit is not None:
            self.folder.scope[name] = lit
        annotation = ast.unparse(stmt.annotation) if stmt.annotation is not None else ""
        self.fields.append(FieldInfo(parts[-1], name, env, lit, lit is None, annotation, stmt.lineno))
        if lit is None:
            return
        aliases = ((*parts, name), *((e,) for e in env[1:]))
        self._pend(Binding((env[0],), env[0], lit, env, aliases, "field"), False)

    def _factory(self, node: ast.expr) -> Lit:
        if isinstance(node, ast.Name) and node.id in ("list", "dict", "set", "tuple", "frozenset"):
            return Lit({"list": [], "dict": {}, "set": set(), "tuple": (), "frozenset": frozenset()}[node.id], self.folder.loc(node))
        if isinstance(node, ast.Lambda):
            lit, _ = self._fold(node.body)
            if lit is not None:
                return lit
        return self.folder.unknown(node, f"default_factory {self.folder.source(node)} is not a literal")

    # -- functions -------------------------------------------------------
    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, parts: tuple[str, ...], cls: tuple[str, ...]) -> None:
        saved, saved_where = dict(self.folder.scope), dict(self._where)
        try:
            self._function_body(node.body, parts, cls)
        finally:
            self.folder.scope, self._where = saved, saved_where

    def _function_body(self, body: Iterable[ast.stmt], parts: tuple[str, ...], cls: tuple[str, ...], conditional: bool = False) -> None:
        for stmt in body:
            if self._mutation(stmt, conditional):
                continue
            if isinstance(stmt, ast.Return) and stmt.value is not None and _is_container(stmt.value):
                lit, _ = self._fold(stmt.value)
                if lit is not None:
                    self.direct.append(Binding(parts, ".".join(parts) + "()", lit, (), (), "return"))
            elif isinstance(stmt, ast.Return) and stmt.value is not None and _LIMIT_HELPER.search(parts[-1]):
                self._limit_return(stmt.value, parts)
            elif (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and not _is_container(stmt.value)
                  and isinstance(stmt.targets[0], (ast.Name, ast.Attribute))):
                self._scalar_local(stmt.targets[0], stmt.value, cls, conditional)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None and _is_container(stmt.value):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                lit, _ = self._fold(stmt.value)
                if lit is None:
                    continue
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.folder.scope[target.id] = lit
                        self.direct.append(Binding((*parts, target.id), ".".join((*parts, target.id)), lit, (), (), "local"))
                        self._where[target.id] = ("direct", len(self.direct) - 1)
                    elif isinstance(target, ast.Attribute) and dotted(target.value) == "self" and cls:
                        self.direct.append(Binding((*cls, target.attr), ".".join((*cls, target.attr)), lit, (), (), "attribute"))
                        self._where["self." + target.attr] = ("direct", len(self.direct) - 1)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt, (*parts, stmt.name), cls)
            elif isinstance(stmt, _BLOCKS):
                for sub in _sub_blocks(stmt):
                    self._function_body(sub, parts, cls, True)


    def _limit_return(self, value: ast.expr, parts: tuple[str, ...]) -> None:
        """def login_limit(): return "15/minute" (or limit("15/minute"), or a local holding it)."""
        lit, env = self._fold(value)
        if lit is not None and isinstance(lit.value, (str, int)) and not isinstance(lit.value, bool):
            self.direct.append(Binding(parts, ".".join(parts) + "()", Lit(lit.value, self.folder.loc(value), lit.items), env, (), "return"))

    def _scalar_local(self, target: ast.expr, value: ast.expr, cls: tuple[str, ...], conditional: bool) -> None:
        """``base = int(os.getenv("BASE_REQS_PER_MINUTE", "150"))`` inside a
        function is known to later expressions; ``self.X = os.getenv("X", "d")``
        in a method is a setting of the class (``Limits.X``, also ``X``)."""
        lit, env = self._fold(value)
        if isinstance(target, ast.Name):
            if lit is None or conditional:
                self.folder.scope.pop(target.id, None)
            else:
                self.folder.scope[target.id] = lit
        elif isinstance(target, ast.Attribute) and dotted(target.value) == "self" and cls and env and lit is not None:
            parts = (*cls, target.attr)
            self.direct.append(Binding(parts, ".".join(parts), lit, env, ((target.attr,),), "attribute"))


# -- helpers -----------------------------------------------------------------
def _set_member(lit: Lit, key: Lit | None, value: Lit | None, key_loc: Location, conditional: bool) -> Lit:
    """``lit`` with ``key`` set to ``value`` (a dict); anything unreadable makes it Unknown."""
    if not isinstance(lit.value, dict):
        return lit if isinstance(lit.value, Unknown) else Lit(Unknown("changed by an item assignment"), lit.loc, lit.items)
    members = dict(lit.items)
    if key is None or isinstance(key.value, Unknown) or not is_hashable(key.value):
        return Lit(Unknown(f"dict: a key set at line {key_loc.line} is not a literal"), lit.loc, lit.items)
    if value is None:
        value = Lit(Unknown("read from a required env variable"), key_loc)
    if conditional and key.value in members:
        value = Lit(Unknown(f"set again under a condition at line {key_loc.line}; which value applies is not known"), key_loc)
    members.pop(key.value, None)
    members[key.value] = Lit(value.value, key_loc, value.items)
    return Lit({k: v.value for k, v in members.items()}, lit.loc, tuple(members.items()))


def _extend(lit: Lit, other: Lit | None, conditional: bool, line: int) -> Lit:
    """``lit`` extended by ``other`` (dict update, list extend/append, ``+=``)."""
    if isinstance(lit.value, Unknown):
        return lit
    if other is None or isinstance(other.value, Unknown):
        return Lit(Unknown(f"changed at line {line} by a value not known statically"), lit.loc, lit.items)
    if isinstance(lit.value, dict) and isinstance(other.value, dict):
        result = lit
        for key, member in other.items:
            result = _set_member(result, Lit(key, member.loc), member, member.loc, conditional)
        return result
    if isinstance(lit.value, list) and isinstance(other.value, (list, tuple)):
        if conditional:
            return Lit(Unknown(f"extended under a condition at line {line}; which items apply is not known"), lit.loc, lit.items)
        items = [*lit.items, *((len(lit.items) + i, m) for i, (_, m) in enumerate(other.items))]
        return Lit([m.value for _, m in items], lit.loc, tuple(items))
    return Lit(Unknown(f"changed at line {line} in a way not followed statically"), lit.loc, lit.items)


def _sub_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    out = [getattr(stmt, "body", []), getattr(stmt, "orelse", []), getattr(stmt, "finalbody", [])]
    out.extend(h.body for h in getattr(stmt, "handlers", []))
    return out


_ENV_WORD = re.compile(r"(?:^|_)(?:env|environment)(?:$|_)|^(?:prod|production|staging|stage|dev|development|local|test|testing|debug)$", re.IGNORECASE)


def _names_environment(test: ast.expr) -> bool:
    """A condition that chooses by environment (``ENV == "production"``,
    ``settings.DEBUG``): its branches are values for different environments."""
    for node in ast.walk(test):
        word = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else (
            node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else "")
        if word and _ENV_WORD.search(word):
            return True
    return False


_PRODUCTION_NAME = re.compile(r"^(?:is_?|in_?)?(?:prod|production|live)(?:_?(?:mode|env|environment))?$", re.IGNORECASE)
_NOT_PRODUCTION_NAME = re.compile(r"^(?:is_?|in_?)?(?:dev|development|local|debug|testing|staging)(?:_?mode)?$", re.IGNORECASE)


def _production_branches(test: ast.expr) -> tuple[bool, bool]:
    """(the body never runs in production, the else branch never does) for an ``if`` that
    chooses by environment.  ``PRODUCTION``/``is_production()``/``ENV == "production"`` hold
    exactly in production; ``DEBUG``, ``IS_LOCAL``, ``ENV == "development"`` and
    ``ENV in ("dev", "test")`` never do (the guide keeps debug off there); ``not`` swaps the
    branches.  Anything else is (False, False): both may run in production, as before."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        body, orelse = _production_branches(test.operand)
        return orelse, body
    if isinstance(test, ast.BoolOp):
        parts = [_production_branches(v) for v in test.values]
        if isinstance(test.op, ast.And):  # a conjunct that never holds in production: neither does the whole
            return any(b for b, _ in parts), False
        return all(b for b, _ in parts), any(o for _, o in parts)  # not (a or b): an else that needs not-a
    name = dotted(test.func) if isinstance(test, ast.Call) and not test.args else dotted(test)
    if name:
        last = name.rsplit(".", 1)[-1]
        if _PRODUCTION_NAME.match(last):
            return False, True
        if _NOT_PRODUCTION_NAME.match(last):
            return True, False
        return False, False
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        from velro_policy.values.environments import DEFAULT_ALIASES

        sides = (test.left, test.comparators[0])
        consts = [n for n in sides if isinstance(n, (ast.Constant, ast.Tuple, ast.List, ast.Set))]
        if len(consts) != 1:
            return False, False
        node = consts[0]
        items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
        words = [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
        if not words or len(words) != len(items):
            return False, False
        kinds = {DEFAULT_ALIASES.get(w.strip().lower()) for w in words}
        if None in kinds:
            return False, False  # a name the alias table does not know: not guessed
        op = test.ops[0]
        holds_only_outside = "production" not in kinds  # ENV == "dev", ENV in ("dev", "test")
        exactly_production = kinds == {"production"}
        if isinstance(op, (ast.Eq, ast.In)):
            return holds_only_outside, exactly_production or not holds_only_outside and isinstance(op, ast.In)
        if isinstance(op, (ast.NotEq, ast.NotIn)):
            return exactly_production or not holds_only_outside and isinstance(op, ast.NotIn), holds_only_outside
    return False, False


def _is_main_guard(test: ast.expr) -> bool:
    return isinstance(test, ast.Compare) and dotted(test.left) == "__name__"


def _is_container(node: ast.expr) -> bool:
    if isinstance(node, _CONTAINER_NODES):
        return True
    return isinstance(node, ast.Call) and dotted(node.func) in ("dict", "list", "tuple", "set", "frozenset") and bool(node.args or node.keywords)


def _is_ellipsis(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _is_field(stmt: ast.AnnAssign) -> bool:
    """A pydantic field: annotated, public, not ClassVar, not model_config."""
    assert isinstance(stmt.target, ast.Name)
    name = stmt.target.id
    if name.startswith("_") or name == "model_config":
        return False
    ann = ast.unparse(stmt.annotation)
    return not re.match(r"^(typing\.)?ClassVar\b", ann)


def _strings(node: ast.expr | None) -> list[str]:
    """Env names from an alias value: 'X', AliasChoices('A', 'B'), ['A', 'B']."""
    if node is None:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Call) and dotted(node.func).split(".")[-1] == "AliasChoices":
        return [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def _field_call(value: ast.expr | None) -> tuple[ast.expr | None, ast.expr | None, list[str]]:
    """(default node, default_factory node, env names) of a field's value."""
    if value is None:
        return None, None, []
    if not (isinstance(value, ast.Call) and dotted(value.func).split(".")[-1] == "Field"):
        return value, None, []
    kw = {k.arg: k.value for k in value.keywords if k.arg}
    default = value.args[0] if value.args else kw.get("default")
    names = _strings(kw.get("validation_alias")) or _strings(kw.get("alias")) or _strings(kw.get("env"))
    return default, kw.get("default_factory"), names


def _annotated_field(annotation: ast.expr | None) -> ast.Call | None:
    """The ``Field(...)`` inside ``Annotated[T, Field(...)]``, if any."""
    if isinstance(annotation, ast.Subscript) and dotted(annotation.value).split(".")[-1] == "Annotated":
        elts = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
        for elt in elts[1:]:
            if isinstance(elt, ast.Call) and dotted(elt.func).split(".")[-1] == "Field":
                return elt
    return None


def _env_prefix(node: ast.ClassDef, folder: Folder) -> str | None:
    """env_prefix from ``model_config = SettingsConfigDict(...)`` / a dict, or
    ``class Config: env_prefix = ...``; None when the class does not set it."""
    for stmt in node.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                value = stmt.value
                if isinstance(value, ast.Call):
                    for k in value.keywords:
                        if k.arg == "env_prefix":
                            folded = folder.fold(k.value).value
                            return folded if isinstance(folded, str) else ""
                elif isinstance(value, ast.Dict):
                    folded = folder.fold(value).value
                    if isinstance(folded, dict) and isinstance(folded.get("env_prefix"), str):
                        return folded["env_prefix"]
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
            for sub in stmt.body:
                if isinstance(sub, (ast.Assign, ast.AnnAssign)) and sub.value is not None:
                    targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                    if any(isinstance(t, ast.Name) and t.id == "env_prefix" for t in targets):
                        folded = folder.fold(sub.value).value
                        return folded if isinstance(folded, str) else ""
    return None


__all__ = ["Binding", "FieldInfo", "Lit", "ModuleRead", "read_module", "Location"]
