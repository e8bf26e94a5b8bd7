"""Which exception classes a project defines itself, for code rules that treat them apart.

An app's own exception class (``class BookingError(AppError)``, raised with the app's
own text) carries messages written for its clients: ``exc.message`` of one is no leak
of internals, while ``str(e)`` of a library's exception is.  Semgrep sees one file at a
time and cannot tell the two apart when the class is defined in another module, so a
rule names the caught exception's variable (``$E``) and the code source asks this module
whether, where the match is, that variable holds only project classes and is read only
through their attributes.

Read with ``ast`` from the files the scan covers, lazily (only when a marked match
exists); a name counts as the project's when the matched module defines it or imports it
from a module of the project that defines it (re-exports followed a few steps), never
by its name alone: ``from pydantic import ValidationError`` is not the project's
``ValidationError``.
"""
from __future__ import annotations

import ast
import os
import re

from velro_policy.inputs.pysyntax import parse

# A base class that makes a class an exception: a builtin or library exception by its name's
# ending (BaseException, ValueError, SQLAlchemyError, HTTPException, SystemExit, UserWarning ...).
_EXCEPTION_BASE = re.compile(r"^(BaseException|\w*(Error|Exception|Exit|Interrupt|Warning))$")
_MAX_HOPS = 4


class _Module:
    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.classes: dict[str, tuple[str, ...]] = {}  # class name -> last names of its bases
        self.imports: dict[str, tuple[str, int, str]] = {}  # local name -> (module, level, imported name or "")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                self.classes.setdefault(node.name, tuple(_last(b) for b in node.bases))
        for node in tree.body if isinstance(tree, ast.Module) else ():
            self._imports(node)

    def _imports(self, node: ast.stmt) -> None:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    self.imports[alias.asname or alias.name] = (node.module or "", node.level, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.imports[alias.asname] = (alias.name, 0, "")
                else:
                    self.imports.setdefault(alias.name.split(".")[0], (alias.name.split(".")[0], 0, ""))
        elif isinstance(node, (ast.If, ast.Try)):  # try: from x import E / except ImportError
            for child in [*node.body, *getattr(node, "handlers", ()), *node.orelse]:
                if isinstance(child, ast.ExceptHandler):
                    for sub in child.body:
                        self._imports(sub)
                else:
                    self._imports(child)


def _start(node: ast.AST) -> tuple[int, int]:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _around(node: ast.AST, at: tuple[int, int]) -> bool:
    """``node``'s source span holds position ``at`` (line, 0-based byte column)."""
    end = (getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None))
    if end[0] is None or not hasattr(node, "lineno"):
        return False
    return _start(node) <= at < (end[0], end[1] or 0)


def _handled_by(func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> list[ast.expr | None]:
    """The class an exception handler function receives as parameter ``name``: the argument of
    its ``@x.exception_handler(Cls)`` decorator, else the parameter's annotation."""
    params = [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]
    param = next((a for a in params if a.arg == name), None)
    if param is None:
        return []
    for deco in func.decorator_list:
        if isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr == "exception_handler" \
                and len(deco.args) == 1:
            return [deco.args[0]]
    return [param.annotation] if param.annotation is not None else []


# Attributes that hold another error or a trace, not the class's own text.
_WRAPPED = re.compile(r"^(args|__\w+__|(orig|original|inner|wrapped|underlying|root)(_\w+)?|\w*(exc|exception|cause|traceback|trace|stack)\w*|err|error)$")


def _attributes_only(scope: ast.AST, name: str) -> bool:
    """Every read of ``name`` in ``scope`` is an attribute of it that is the class's own
    (``exc.message``, ``exc.code``), none the exception itself (``str(exc)``, ``f"{exc}"``,
    ``raise X from exc``, ``err = exc``) or what it wraps (``exc.args``, ``exc.original_error``)."""
    through: set[int] = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name:
            if _WRAPPED.match(node.attr):
                return False
            through.add(id(node.value))
    return all(id(node) in through for node in ast.walk(scope)
               if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load))


def _reads_no_wrapped(scope: ast.AST, name: str) -> bool:
    return not any(isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name
                   and _WRAPPED.match(node.attr) and node.attr != "args" for node in ast.walk(scope))


_TRACE_CALLS = re.compile(r"^(format_exc|format_exception|print_exc|exc_info|format_tb)$")


def _raises_own_text(tree: ast.AST, family: set[str]) -> bool:
    """No ``raise Cls(...)`` of ``family`` in ``tree`` passes a caught exception (a name bound by an
    ``except ... as`` of its function) or a traceback: its message is text the app wrote."""
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]
    for scope in scopes:
        caught = {h.name for h in ast.walk(scope) if isinstance(h, ast.ExceptHandler) and h.name}
        for node in ast.walk(scope):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and _last(node.exc.func) in family):
                continue
            for sub in ast.walk(node.exc):
                if isinstance(sub, ast.Name) and sub.id in caught:
                    return False
                if isinstance(sub, ast.Call) and _TRACE_CALLS.match(_last(sub.func)):
                    return False
    return True


def _last(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript):  # Generic[T]-style bases
        return _last(node.value)
    return ""


class OwnExceptions:
    """The project's exception classes over ``paths`` (the Python files of the scan)."""

    def __init__(self, paths: list[str]) -> None:
        self._paths = {os.path.normpath(os.path.abspath(p)) for p in paths}
        self._modules: dict[str, _Module | None] = {}
        self._raw: dict[str, bytes | None] = {}
        self._exception_names: set[str] | None = None

    def module(self, path: str) -> _Module | None:
        path = os.path.normpath(os.path.abspath(path))
        if path not in self._modules:
            raw = self.raw(path)
            try:  # Python 3.12-3.14 syntax too, read as the settings reader and the app model do
                tree = parse(raw, path) if raw is not None else None
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                tree = None
            self._modules[path] = _Module(tree) if tree is not None else None
        return self._modules[path]

    def raw(self, path: str) -> bytes | None:
        """The file's bytes (cached): a module is parsed only when its text may matter, since
        parsing every module of a large project again costs seconds."""
        if path not in self._raw:
            from velro_policy.inputs._files import read_capped

            self._raw[path] = read_capped(path)
        return self._raw[path]

    def _mentions(self, path: str, words: set[str]) -> bool:
        raw = self.raw(path)
        return raw is not None and any(w.encode() in raw for w in words)

    def _names(self) -> set[str]:
        """Names of the classes the project defines that are exceptions (bases followed by name
        within the project: class A(Exception), class B(A))."""
        if self._exception_names is None:
            bases: dict[str, set[str]] = {}
            for path in sorted(self._paths):
                mod = self.module(path) if self._mentions(path, {"class "}) else None
                for name, of in (mod.classes.items() if mod is not None else ()):
                    bases.setdefault(name, set()).update(of)
            found = {n for n, of in bases.items() if any(_EXCEPTION_BASE.match(b) for b in of)}
            grew = True
            while grew:
                more = {n for n, of in bases.items() if n not in found and of & found}
                found |= more
                grew = bool(more)
            self._exception_names = found
        return self._exception_names

    def _module_file(self, here: str, module: str, level: int) -> str | None:
        """The project file an import names (relative to ``here``, or by the dotted path's suffix)."""
        parts = [p for p in module.split(".") if p]
        if level:
            base = os.path.dirname(here)
            for _ in range(level - 1):
                base = os.path.dirname(base)
            stem = os.path.join(base, *parts)
            for cand in (stem + ".py", os.path.join(stem, "__init__.py")):
                if os.path.normpath(cand) in self._paths:
                    return os.path.normpath(cand)
            return None
        if not parts:
            return None
        tails = (os.sep + os.path.join(*parts) + ".py", os.sep + os.path.join(*parts, "__init__.py"))
        found = sorted(p for p in self._paths if p.endswith(tails))
        return found[0] if len(found) == 1 else None  # two modules of that name: which one runs is unknown

    def _defines(self, path: str, name: str, hops: int = 0) -> bool:
        """Module ``path`` defines exception class ``name`` or imports it from a project module that does."""
        mod = self.module(path)
        if mod is None or hops > _MAX_HOPS:
            return False
        if name in mod.classes:
            return name in self._names()
        if name in mod.imports:
            module, level, attr = mod.imports[name]
            target = self._module_file(path, module, level) if attr else None
            return target is not None and self._defines(target, attr, hops + 1)
        return False

    def own_text_only(self, path: str, line: int, col: int, name: str) -> bool:
        """At ``line``:``col`` (1-based, as Semgrep gives) of module ``path``, the exception
        ``name`` can only be of classes the project defines, and nothing of it is read but their
        attributes.  What binds it: the innermost ``except ... as name`` around the position,
        else every such clause of its function, else the exception handler the function is
        (``@app.exception_handler(AppError)``, or its parameter annotated so)."""
        path = os.path.normpath(os.path.abspath(path))
        mod = self.module(path)
        if mod is None:
            return False
        at = (line, col - 1)
        func: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        handler: ast.ExceptHandler | None = None
        for node in ast.walk(mod.tree):
            if not _around(node, at):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (func is None or _around(func, _start(node))):
                func = node
            elif isinstance(node, ast.ExceptHandler) and node.name == name and (handler is None or _around(handler, _start(node))):
                handler = node
        scopes: list[ast.AST]
        if handler is not None:
            caught: list[ast.expr | None] = [handler.type]
            scopes = [handler]
        elif func is not None:
            handlers = [h for h in ast.walk(func) if isinstance(h, ast.ExceptHandler) and h.name == name]
            caught, scopes = [h.type for h in handlers], list(handlers)
            if not handlers:
                caught, scopes = _handled_by(func, name), [func]
        else:
            return False
        if not (caught and all(c is not None and self._own_expr(path, c) for c in caught)):
            return False
        if all(_attributes_only(scope, name) for scope in scopes):
            return True
        # str(exc) / f"{exc}" of a project class is its message: the app's own text when every
        # `raise Cls(...)` of the caught classes (and their project subclasses) passes no caught
        # exception nor traceback; what it wraps (exc.__cause__, exc.original_error) still is not.
        names = {_last(item) for c in caught if c is not None for item in (c.elts if isinstance(c, ast.Tuple) else [c])}
        return all(_reads_no_wrapped(scope, name) for scope in scopes) and self._raised_with_own_text(names)

    def _raised_with_own_text(self, names: set[str]) -> bool:
        family = set(names)
        bases: dict[str, set[str]] = {}
        for path in self._paths:
            mod = self.module(path) if self._mentions(path, {"class "}) else None
            for cls, of in (mod.classes.items() if mod is not None else ()):
                bases.setdefault(cls, set()).update(of)
        grew = True
        while grew:
            more = {n for n, of in bases.items() if n not in family and of & family}
            family |= more
            grew = bool(more)
        for path in sorted(self._paths):
            mod = self.module(path) if self._mentions(path, family) else None
            if mod is not None and not _raises_own_text(mod.tree, family):
                return False
        return True

    def _own_expr(self, path: str, node: ast.expr) -> bool:
        items = node.elts if isinstance(node, ast.Tuple) else [node]
        return bool(items) and all(self._own_item(path, item) for item in items)

    def _own_item(self, path: str, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return self._defines(path, node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):  # errors.AppError
            mod = self.module(path)
            bound = mod.imports.get(node.value.id) if mod is not None else None
            if bound is None:
                return False
            module, level, attr = bound
            target = self._module_file(path, f"{module}.{attr}" if attr and module else (attr or module), level)
            return target is not None and self._defines(target, node.attr)
        return False

