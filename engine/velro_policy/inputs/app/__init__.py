"""The application model: what the deployed app is, read statically (never imported).

``build(root, config)`` finds the entry point (``entry``), follows imports from
it through the project's modules (``project``), and reads every deployed
module once (``facts``) for routes, middleware, settings and the roles
settings play.  When the entry point is not found or an import of the project
cannot be followed, ``complete`` is False and every module counts as deployed
(never fail open); ``notes`` say why.
"""
from __future__ import annotations

import ast
import os
from collections.abc import Callable
from typing import Any, NamedTuple

from velro_policy.inputs.app.entry import Entry as EntryPoint
from velro_policy.inputs.app.entry import find as find_entry
from velro_policy.inputs.app.facts import Facts, value_nodes
from velro_policy.inputs.app.headers import read as read_headers
from velro_policy.inputs.app.project import Project
from velro_policy.inputs.app.routes import assemble
from velro_policy.model import AppModel, Location, Problem, Setting, Unknown, ValidationFunction


class AppBuild(NamedTuple):
    """The model and what a run needs besides it."""

    model: AppModel
    modules: frozenset[str]  # display paths of every Python module of the project
    unparseable: tuple[Problem, ...]  # deployed modules that could not be parsed
    references: Callable[[], dict[str, str]] = dict  # env names the deployment files name -> "file:line" (read on call)
    # A module the model parsed already (absolute path -> (text, tree), None if it did not): the settings
    # source reuses the tree instead of parsing the module a second time in the same run.
    parsed: Callable[[str], tuple[str, Any] | None] = lambda _path: None
    validators: tuple[ValidationFunction, ...] = ()  # settings validation functions, with their mentions (inputs.app.validators)


def build(root: str, config: dict[str, Any] | None = None, display: Callable[[str], str] | None = None) -> AppModel:
    return build_details(root, config, display).model


def build_details(root: str, config: dict[str, Any] | None = None, display: Callable[[str], str] | None = None) -> AppBuild:
    project = Project(root)
    shown = display or project.rel
    cfg_app = (config or {}).get("app")
    found = find_entry(project, cfg_app if isinstance(cfg_app, str) else None)
    notes: list[str] = list(found.notes) if found else []
    modules = frozenset(shown(p) for p in project.files)
    if not found or not found.entries:
        notes.append("no entry point found (no Procfile, railway, Dockerfile, nixpacks, start.sh, uvicorn line or FastAPI() module); "
                     "every module counts as deployed")
        model = AppModel("", "", modules, False, notes=tuple(notes))
        return AppBuild(model, modules, (), lambda: project.deploy_references(shown), validators=_validation_functions(project, shown))
    graph = _Graph(project, shown, found.entries)
    graph.run()
    notes.extend(graph.notes)
    complete = not graph.incomplete and not found.guess
    deployed = frozenset(shown(p) for p in graph.order) if complete else modules
    facts = [graph.facts[p] for p in graph.order if p in graph.facts]
    routes, middleware, route_notes = assemble(facts, graph)
    settings = _settings(facts, graph)
    for f in facts:
        notes.extend(f.notes)
    notes.extend(route_notes)
    unparseable = tuple(graph.unparseable)
    if unparseable:
        notes.append("deployed modules that could not be parsed (counted as deployed; their routes and settings are missing): "
                     + ", ".join(p.path for p in unparseable))
    headers = read_headers(facts, graph, complete)
    model = AppModel(found.spec, found.reason, deployed, complete, tuple(routes), tuple(middleware), tuple(settings), tuple(notes),
                     headers)
    return AppBuild(model, modules, unparseable, lambda: project.deploy_references(shown), project.parsed_already,
                    _validation_functions(project, shown))


def _validation_functions(project: Project, shown: Callable[[str], str]) -> tuple[ValidationFunction, ...]:
    """Validation functions of the project's settings-like modules (velro/app-validation-never-called)."""
    from velro_policy.inputs.app.validators import is_settings_like, validation_functions

    modules = []
    for path in project.files:
        if is_settings_like(path, project.text(path)):
            parsed = project.parse(path)
            if parsed.tree is not None:
                modules.append((path, parsed.text, parsed.tree))
    return tuple(validation_functions(modules, lambda: (project.text(p) for p in project.files), shown))


class _Graph:
    """Deployed modules: breadth-first from the entry modules along static imports."""

    def __init__(self, project: Project, shown: Callable[[str], str], entries: tuple[EntryPoint, ...]) -> None:
        self.project = project
        self.shown = shown
        self.entries = entries
        self.roots: list[str] = []
        for e in entries:
            for r in e.roots:
                if r not in self.roots:
                    self.roots.append(r)
        for r in (project.root, os.path.join(project.root, "src")):
            if r not in self.roots:
                self.roots.append(r)
        self.order: list[str] = []
        self.facts: dict[str, Facts] = {}
        self.unparseable: list[Problem] = []
        self.incomplete: list[str] = []
        self.notes: list[str] = []

    def run(self) -> None:
        queue: list[str] = []
        seen: set[str] = set()
        for e in self.entries:
            for path in self._with_packages(e.path):
                if path not in seen:
                    seen.add(path)
                    queue.append(path)
        while queue:
            path = queue.pop(0)
            self.order.append(path)
            for nxt in self._visit(path):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)

    def _with_packages(self, path: str) -> list[str]:
        """The entry module and the ``__init__`` of every package above it (up to a sys.path root);
        the folder above the top package becomes a sys.path root (``app/main.py`` importing ``app.config``)."""
        out = []
        here = os.path.dirname(path)
        while here.startswith(self.project.root):
            init = os.path.join(here, "__init__.py")
            if not self.project.is_file(init):
                break
            out.append(init)
            here = os.path.dirname(here)
        if out and here not in self.roots:
            self.roots.append(here)
        return [*reversed(out), path]

    def _visit(self, path: str) -> list[str]:
        parsed = self.project.parse(path)
        if parsed.tree is None:
            line, col, msg = parsed.error or (1, 1, "cannot be parsed")
            self.unparseable.append(Problem(self.shown(path), line, col, msg, "unparseable-module"))
            return []
        facts = Facts(path, self.shown(path), parsed.tree, parsed.text)
        self.facts[path] = facts
        for line, source in facts.dynamic:
            self.incomplete.append(path)
            what = "changes the import path" if "path" in source.split("(")[0] else "imports a module whose name is computed"
            self.notes.append(f"{self.shown(path)}:{line}: {source} {what}; imports cannot be followed "
                              "statically, so every module counts as deployed")
        out: list[str] = []
        for imp in facts.imports:
            out.extend(self.resolve(path, imp.module, imp.level, imp.names))
        return out

    def resolve(self, path: str, module: str, level: int, names: tuple[str, ...] = ()) -> list[str]:
        """Project files an import runs (``from m import n`` also runs submodule ``m.n``)."""
        if level:
            base = os.path.dirname(path)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            roots = [base]
            if not module:
                out = [os.path.join(base, "__init__.py")] if self.project.is_file(os.path.join(base, "__init__.py")) else []
                for n in names:
                    out.extend(self.project.find_module(n, roots))
                return out
        else:
            roots = self.roots
        found = self.project.find_module(module, roots)  # [] also for a namespace package
        out = list(found)
        for n in names:
            sub = self.project.find_module(f"{module}.{n}", roots)
            out.extend(s for s in sub if s not in found)
        return out

    def module_of(self, path: str, module: str, level: int) -> str | None:
        """The file of ``module`` (imported from ``path``), for symbol lookups."""
        if level:
            base = os.path.dirname(path)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            if not module:
                init = os.path.join(base, "__init__.py")
                return init if self.project.is_file(init) else None
            return self.project.module_file(module, [base])
        return self.project.module_file(module, self.roots)


# -- settings and roles -------------------------------------------------------------
_ROLE_ORDER = (("jwt-signing-key", "jwt_refs"), ("cors-origins", "cors_refs"), ("debug-flag", "debug_refs"))


def _settings(facts: list[Facts], graph: _Graph) -> list[Setting]:
    by_path = {f.path: f for f in facts}
    refs = {role: _expand({_binding(r, by_path, graph) for f in facts for r in getattr(f, attr)}, facts) for role, attr in _ROLE_ORDER}
    out: dict[tuple[str, Location], Setting] = {}
    classes = _settings_classes(facts)
    for f in facts:
        for read in f.env_reads:
            role = _role({read.env, *read.names}, refs)
            key = (read.env, read.loc)
            if key not in out:
                out[key] = Setting(read.env, read.default, read.loc, role)
        if f.has_settings or classes.intersection(f.classes):
            for setting in _fields(f, graph, refs, classes):
                out.setdefault((setting.env, setting.loc), setting)
    return sorted(out.values(), key=lambda s: (s.env, s.loc.path, s.loc.line))


def _binding(ref: str, by_path: dict[str, Facts], graph: _Graph) -> str:
    """A qualified name reference -> the module-level binding it denotes, through imports
    (``from app.config import SECRET_KEY``); a name bound nowhere in the project stays plain."""
    if "\0" not in ref:
        return ref
    path, name = ref.split("\0", 1)
    for _ in range(5):
        f = by_path.get(path)
        if f is None:
            break
        if name in f.bound:
            return f.qualified(name)
        sym = f.symbols.get(name)
        if sym is None or not sym[2]:
            break
        target = graph.module_of(path, sym[0], sym[1])
        if target is None:
            break
        path, name = target, sym[2]
    return name


def _expand(names: set[str], facts: list[Facts]) -> set[str]:
    """Names, plus those used by methods/properties of the same name (``settings.all_cors_origins``),
    except in what the method only tests (``if self.ENVIRONMENT == "local":``)."""
    out = {n.upper() for n in names}
    for f in facts:
        for method, defs in f.methods.items():
            if method in names:
                out |= {u.upper() for d in defs for u in _used_names(d)}
    return out


def _used_names(defn: ast.AST) -> set[str]:
    """Names and attributes of a function body, leaving out conditions (``if``/``while`` tests,
    comparisons, ``IfExp`` tests, comprehension filters): what the result can be made of."""
    out: set[str] = set()
    stack: list[ast.AST] = [defn]
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.If, ast.While)):
            stack += [*n.body, *n.orelse]
            continue
        if isinstance(n, ast.Assert):
            continue
        if isinstance(n, ast.expr):
            for sub in value_nodes(n):
                if isinstance(sub, ast.Name):
                    out.add(sub.id)
                elif isinstance(sub, ast.Attribute):
                    out.add(sub.attr)
            continue
        stack.extend(ast.iter_child_nodes(n))
    return out


def _role(names: set[str], refs: dict[str, set[str]]) -> str:
    upper = {n.upper() for n in names if n}
    for role, _ in _ROLE_ORDER:
        if upper & refs[role]:
            return role
    return ""


def _settings_classes(facts: list[Facts]) -> set[str]:
    """Names of pydantic-settings classes of the deployed modules, also subclasses of ones in other modules."""
    known = {"BaseSettings"}
    grew = True
    while grew:
        grew = False
        for f in facts:
            for name, bases in f.classes.items():
                if name not in known and known.intersection(bases):
                    known.add(name)
                    grew = True
    known.discard("BaseSettings")
    return known


def _fields(f: Facts, graph: _Graph, refs: dict[str, set[str]], classes: set[str]) -> list[Setting]:
    """pydantic-settings fields, read by the settings reader on the already parsed tree."""
    from velro_policy.inputs import pyread

    parsed = graph.project.parse(f.path)
    lines = [line.encode("utf-8", "surrogateescape") for line in parsed.text.split("\n")]
    reader = pyread._Reader(f.display, lines)  # noqa: SLF001 - the same reader as the settings source, on our tree
    for name in classes.difference(f.classes):  # settings classes of other modules this one may subclass
        reader._prefixes.setdefault(name, "")  # noqa: SLF001
    try:
        assert parsed.tree is not None
        reader.block(parsed.tree.body, (), conditional=False)
    except (pyread.TooDeep, RecursionError):
        return []
    out = []
    for field in reader.fields:
        default: object = None if field.default is None else field.default.value
        raw = lines[field.line - 1].decode("utf-8", "replace") if 0 < field.line <= len(lines) else ""
        col = len(raw) - len(raw.lstrip()) + 1
        role = _role({*field.env, field.name}, refs)
        out.append(Setting(field.env[0], default, Location(f.display, field.line, col), role))
    return out


__all__ = ["AppBuild", "build", "build_details", "Unknown"]
