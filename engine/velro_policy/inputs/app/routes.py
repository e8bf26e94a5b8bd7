"""Routes and middleware of the app: routers followed from the app objects
through ``include_router``/``mount`` (prefixes concatenated, dependencies and
``if`` gates inherited), with the rate limits that apply to each route."""
from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, NamedTuple

from velro_policy.inputs.app.facts import LIMITING_MIDDLEWARE, Facts, Include, RouteDecl, _and, _src, own_nodes
from velro_policy.inputs.app.reach import Reach
from velro_policy.inputs.pyfold import dotted, is_hashable
from velro_policy.model import Location, Middleware, Route, RouteLimit, Unknown

if TYPE_CHECKING:
    from velro_policy.inputs.app import _Graph

Ref = tuple[str, str]  # (module path, variable)
_MAX_HOPS = 8
_SLOWAPI_MIDDLEWARE = ("SlowAPIMiddleware", "SlowAPIASGIMiddleware")


class _Acc(NamedTuple):
    prefix: str
    deps: tuple[str, ...]
    dep_nodes: tuple[tuple[Facts, ast.expr], ...]
    gate: str


class _Resolver:
    def __init__(self, facts: list[Facts], graph: _Graph) -> None:
        self.by_path = {f.path: f for f in facts}
        self.graph = graph
        self._facts = facts
        self._reach: Reach | None = None
        self._callers: dict[tuple[str, str], list[tuple[Facts, dict[str, ast.expr], str]]] = {}

    @property
    def reach(self) -> Reach:
        """What route handlers call (built on first use: the headers reader needs none of it)."""
        if self._reach is None:
            self._reach = Reach(self._facts, self.graph)
        return self._reach

    def ref(self, f: Facts, expr: str, hops: int = 0) -> Ref | None:
        """The app/router object a dotted name in module ``f`` denotes."""
        if not expr or hops > _MAX_HOPS:
            return None
        if expr in f.objects:  # `router`, or a controller class's `Controller.router`
            return (f.path, expr)
        head, _, rest = expr.partition(".")
        sym = f.symbols.get(head)
        if sym is None:
            return None
        module, level, attr = sym
        if attr:
            target = self.graph.module_of(f.path, module, level)
            other = self.by_path.get(target or "")
            if other is not None and other is not f and (attr in other.objects or attr in other.symbols
                                                          or f"{attr}.{rest}" in other.objects):
                return self.ref(other, attr + ("." + rest if rest else ""), hops + 1)
            sub = self.graph.module_of(f.path, f"{module}.{attr}" if module else attr, level)
            if sub is not None and sub in self.by_path and rest:
                return self._in_module(self.by_path[sub], rest, hops)
            return None
        # import a.b.c (as x): walk down to the module that holds the object
        parts = [*module.split("."), *(rest.split(".") if rest else [])]
        for i in range(len(parts) - 1, 0, -1):
            path = self.graph.module_of(f.path, ".".join(parts[:i]), 0)
            if path is not None and path in self.by_path:
                return self._in_module(self.by_path[path], ".".join(parts[i:]), hops)
        return None

    def _in_module(self, f: Facts, name: str, hops: int) -> Ref | None:
        return self.ref(f, name, hops + 1)

    def facts_of(self, ref: Ref) -> Facts:
        return self.by_path[ref[0]]

    def const(self, f: Facts, node: ast.expr, hops: int = 0) -> object:
        """A literal, folded in its module, through imported names and settings attributes."""
        lit = f.fold(node)
        if not isinstance(lit.value, Unknown):
            return lit.value
        if isinstance(node, ast.Name) and node.id in f.symbols and hops < _MAX_HOPS:
            module, level, attr = f.symbols[node.id]
            target = self.graph.module_of(f.path, module, level) if attr else None
            other = self.by_path.get(target or "")
            if other is not None:
                if attr in other.consts:
                    return other.consts[attr].value
                if attr in other.symbols:
                    return self.const(other, ast.Name(attr), hops + 1)
        if isinstance(node, ast.Attribute):
            values = {repr(g.class_attrs[node.attr].value): g.class_attrs[node.attr].value
                      for g in self.by_path.values() if node.attr in g.class_attrs}
            if len(values) == 1:
                return next(iter(values.values()))
        # f"{settings.API_V1_STR}/auth" and settings.API_V1_STR + "/auth": the module's own folder
        # knows no settings attribute or imported constant, so each piece is looked up here.
        if isinstance(node, ast.JoinedStr) and hops < _MAX_HOPS:
            parts: list[str] = []
            for piece in node.values:
                if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                    parts.append(piece.value)
                    continue
                if not (isinstance(piece, ast.FormattedValue) and piece.conversion == -1 and piece.format_spec is None):
                    return lit.value
                got = self.const(f, piece.value, hops + 1)
                if not isinstance(got, str):
                    return lit.value
                parts.append(got)
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and hops < _MAX_HOPS:
            left, right = self.const(f, node.left, hops + 1), self.const(f, node.right, hops + 1)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
        return lit.value

    def function(self, f: Facts, func: ast.expr, hops: int = 0) -> tuple[Facts, str] | None:
        """The module and name of the project function a called name denotes: ``make()`` defined
        here or imported (``from m import make``), ``m.make()`` of an imported module."""
        name = dotted(func)
        if not name or hops > _MAX_HOPS:
            return None
        head, _, rest = name.rpartition(".")
        if not head:
            if name in f.functions and name not in f.symbols:
                return (f, name)
            sym = f.symbols.get(name)
            if sym is None or not sym[2]:
                return None
            other = self.by_path.get(self.graph.module_of(f.path, sym[0], sym[1]) or "")
            if other is None or other is f:
                return None
            return (other, sym[2]) if sym[2] in other.functions else self.function(other, ast.Name(sym[2]), hops + 1)
        sym = f.symbols.get(head.split(".")[0])
        if sym is None:
            return None
        module = ".".join(p for p in (sym[0], sym[2], *head.split(".")[1:]) if p)
        other = self.by_path.get(self.graph.module_of(f.path, module, sym[1]) or "")
        return (other, rest) if other is not None and rest in other.functions else None

    def callers(self, f: Facts, function: str) -> list[tuple[Facts, dict[str, ast.expr], str]]:
        """Where the project calls ``function`` of module ``f`` (``setup(app)``): the calling module,
        the function's parameters bound to the call's arguments, and the call's gate."""
        key = (f.path, function)
        found = self._callers.get(key)
        if found is None:
            found = []
            params = f.params.get(function, ())
            for g in self._facts:
                for call, gate in g.calls:
                    if dotted(call.func).rpartition(".")[2] != function:
                        continue
                    called = self.function(g, call.func)
                    if called is None or called[0] is not f or called[1] != function:
                        continue
                    bound = {params[i]: a for i, a in enumerate(call.args) if i < len(params) and not isinstance(a, ast.Starred)}
                    bound.update({k.arg: k.value for k in call.keywords if k.arg})
                    found.append((g, bound, gate))
            self._callers[key] = found
        return found

    def through_argument(self, g: Facts, bound: dict[str, ast.expr], expr: str) -> Ref | None:
        """The app/router a parameter-rooted name (``app``, ``api.router``) denotes at one call site."""
        head, _, rest = expr.partition(".")
        arg = bound.get(head)
        if arg is None:
            return None
        name = dotted(arg)
        if name:
            found = self.ref(g, name + ("." + rest if rest else ""))
            return found if found is not None or rest else self.factory(g, arg)
        return None if rest else self.factory(g, arg)

    def factory(self, f: Facts, target: ast.expr) -> Ref | None:
        """The router a factory function returns: ``include_router(make_router())``, or
        ``r = make_router(db)`` / ``public, admin = make_routers()`` then ``include_router(r)``;
        or a controller object's router: ``c = AuthController()`` then ``include_router(c.router)``."""
        if isinstance(target, ast.Attribute):
            base = target.value
            made = base.func if isinstance(base, ast.Call) else (
                f.call_binds[base.id][0] if isinstance(base, ast.Name) and f.call_binds.get(base.id, (None, 0))[1] == -1 else None)
            return self.ref(f, f"{dotted(made)}.{target.attr}") if made is not None and dotted(made) else None
        if isinstance(target, ast.Call):
            func, index = target.func, -1
        elif isinstance(target, ast.Name) and target.id in f.call_binds:
            func, index = f.call_binds[target.id]
        else:
            return None
        found = self.function(f, func)
        if found is None:
            return None
        other, name = found
        returned = other.returns.get(name, ())
        if index < 0 and len(returned) == 1:
            return self.ref(other, returned[0])
        if 0 <= index < len(returned) and len(returned) > 1:
            return self.ref(other, returned[index])
        return None

    def is_function(self, f: Facts, node: ast.expr) -> bool:
        return isinstance(node, ast.Lambda) or (isinstance(node, ast.Name) and node.id in f.functions and node.id not in f.consts)


def assemble(facts: list[Facts], graph: _Graph) -> tuple[list[Route], list[Middleware], list[str]]:
    res = _Resolver(facts, graph)
    notes: list[str] = []
    edges: dict[Ref, list[tuple[Facts, Include, Ref]]] = {}
    targeted: set[Ref] = set()
    for f in facts:
        for owner, target, inc in (edge for plain in f.includes for edge in _include_edges(res, f, plain)):
            if owner is None:
                continue
            if target is None:
                if inc.kind == "include":
                    notes.append(f"{f.display}:{inc.loc.line}: include_router({_src(inc.target)}) names a router that cannot be "
                                 "followed statically; its routes are not listed")
                continue
            edges.setdefault(owner, []).append((f, inc, target))
            targeted.add(target)
    routes_of: dict[Ref, list[tuple[Facts, RouteDecl]]] = {}
    for f in facts:
        for r in f.routes:
            owner = res.ref(f, r.owner)
            if owner is not None:
                routes_of.setdefault(owner, []).append((f, r))
    apps = [(f.path, name) for f in facts for name, o in f.objects.items() if o.kind == "app" and (f.path, name) not in targeted]
    middleware = [Middleware(m.name, m.loc, m.gate, m.options) for f in facts for m in f.middleware]
    defaults = _default_limits(facts, middleware, notes)
    out: list[Route] = []
    for app in apps:
        _collect(res, app, _Acc("", (), (), ""), edges, routes_of, defaults, out, set())
    return out, middleware, notes


def _include_edges(res: _Resolver, f: Facts, inc: Include) -> list[tuple[Ref | None, Ref | None, Include]]:
    """(app/router, included router, the include) for one ``include_router``/``mount``.  Inside a
    project function whose parameter is the app or the router (``def setup(app):
    app.include_router(items.router)``, ``add_versioned_routers(app, api_router)``), one edge per
    call of that function, through its arguments, under the call's gate."""
    owner = res.ref(f, inc.owner)
    name = dotted(inc.target)
    target = res.ref(f, name) if name else None
    if target is None and inc.kind == "include":
        target = res.factory(f, inc.target)
    params = set(f.params.get(inc.function, ())) if inc.function else set()
    if (owner is not None and target is not None) or not ({inc.owner.partition(".")[0], name.partition(".")[0]} & params):
        return [(owner, target, inc)]
    edges = [(owner or res.through_argument(g, bound, inc.owner), target or res.through_argument(g, bound, name),
              inc._replace(gate=_and(gate, inc.gate) if inc.gate else gate))
             for g, bound, gate in res.callers(f, inc.function)]
    return edges or [(owner, target, inc)]


def _collect(res: _Resolver, ref: Ref, acc: _Acc, edges: dict, routes_of: dict, defaults: tuple[RouteLimit, ...],
             out: list[Route], stack: set[Ref]) -> None:
    if ref in stack:
        return
    f = res.facts_of(ref)
    obj = f.objects[ref[1]]
    own = _path_text(res, f, obj.prefix) if obj.prefix is not None else ""
    acc = acc._replace(prefix=acc.prefix + own, deps=acc.deps + obj.deps,
                       dep_nodes=acc.dep_nodes + tuple((f, n) for n in obj.dep_nodes))
    for rf, decl in routes_of.get(ref, []):
        out.extend(_routes(res, rf, decl, acc, defaults))
    for inc_f, inc, target in edges.get(ref, []):
        prefix = _path_text(res, inc_f, inc.prefix) if inc.prefix is not None else ""
        gate = f"{acc.gate} and {inc.gate}" if acc.gate and inc.gate else acc.gate or inc.gate
        sub = _Acc(acc.prefix + prefix, acc.deps + inc.deps, acc.dep_nodes + tuple((inc_f, n) for n in inc.dep_nodes), gate)
        _collect(res, target, sub, edges, routes_of, defaults, out, stack | {ref})


def _routes(res: _Resolver, f: Facts, decl: RouteDecl, acc: _Acc, defaults: tuple[RouteLimit, ...]) -> list[Route]:
    path = _path_text(res, f, decl.path) if decl.path is not None else ""
    deps = tuple(dict.fromkeys(d for d in (*acc.deps, *(_alias_deps(res, f, d) for d in decl.deps)) for d in ([d] if isinstance(d, str) else d)))
    limits = [_decorator_limit(res, f, arg, how, loc) for arg, how, loc in decl.limits]
    limits += [lim for node in decl.dep_nodes for lim in _rate_limiter(res, f, node, "route dependency")]
    limits += [lim for g, node in acc.dep_nodes for lim in _rate_limiter(res, g, node, "router dependency")]
    limits += _handler_limits(res, f, decl)
    if not decl.limits and not decl.exempt:
        limits += defaults
    reason = res.reach.route(f, decl.handler, decl.func)
    kind = "generation" if reason else ""
    return [Route(m, acc.prefix + path, decl.func, decl.loc, tuple(limits), deps, acc.gate, kind, reason)
            for m in (decl.methods or ("GET",))]


def _alias_deps(res: _Resolver, f: Facts, dep: str) -> tuple[str, ...]:
    if not dep.startswith("@"):
        return (dep,)
    name = dep[1:]
    if name in f.annotated:
        return f.annotated[name]
    sym = f.symbols.get(name)
    if sym and sym[2]:
        target = res.graph.module_of(f.path, sym[0], sym[1])
        other = res.by_path.get(target or "")
        if other is not None and sym[2] in other.annotated:
            return other.annotated[sym[2]]
    return ()


def _path_text(res: _Resolver, f: Facts, node: ast.expr | None) -> str:
    value = res.const(f, node) if node is not None else ""
    if isinstance(value, str):
        return value
    return "{" + _src(node) + "}"


def _decorator_limit(res: _Resolver, f: Facts, arg: ast.expr | None, how: str, loc: Location) -> RouteLimit:
    if arg is None:
        return RouteLimit(Unknown("the decorator names no limit"), how, loc)
    if res.is_function(f, arg):
        return RouteLimit(Unknown(f"a function decides the limit: {_src(arg)}"), how, loc)
    value = res.const(f, arg)
    if isinstance(value, Unknown):
        value = Unknown(f"{_src(arg)} is not a literal")
    elif not isinstance(value, str):
        value = Unknown(f"{_src(arg)} is not a limit string")
    return RouteLimit(value, how, loc)


def _rate_limiter(res: _Resolver, f: Facts, node: ast.expr, where: str) -> list[RouteLimit]:
    out = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and dotted(sub.func).split(".")[-1] == "RateLimiter":
            kw = {k.arg: k.value for k in sub.keywords if k.arg}
            times = res.const(f, kw["times"]) if "times" in kw else (res.const(f, sub.args[0]) if sub.args else 1)
            seconds = 0.0
            unknown = isinstance(times, Unknown) or not isinstance(times, int)
            for unit, factor in (("milliseconds", 0.001), ("seconds", 1), ("minutes", 60), ("hours", 3600)):
                if unit in kw:
                    v = res.const(f, kw[unit])
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        seconds += v * factor
                    else:
                        unknown = True
            value: object = Unknown(f"{_src(sub)} is not literal") if unknown else (times, int(seconds) if seconds == int(seconds) else seconds)
            out.append(RouteLimit(value, f"{where} RateLimiter", f.loc(sub)))
    return out


_LIMIT_CALL = re.compile(r"rate_?limit|throttl", re.IGNORECASE)
# "log" as a word (log_hit, logger.warning), not inside one: check_login_rate_limit is a limiter.
_NOT_LIMIT_CALL = re.compile(r"exceed|reset|clear|header|handler|remaining|status|info|stats|key|(?:^|_)log(?:_|$|ger|ging)", re.IGNORECASE)
_COUNT_NAME = re.compile(r"max|limit|times|count|calls|requests|attempts|quota|^n$", re.IGNORECASE)
_WINDOW_NAME = re.compile(r"window|second|minute|hour|day|period|interval|duration|(?:^|_)per(?:_|$)|expire|ttl", re.IGNORECASE)
_UNITS = (("milli", 0.001), ("ms", 0.001), ("minute", 60), ("hour", 3600), ("day", 86400))


_HELPER_LEVELS = 2  # calls down from the handler where a limiter it relies on is looked for


def _handler_limits(res: _Resolver, f: Facts, decl: RouteDecl) -> list[RouteLimit]:
    """Limiters the handler calls in its own body, and those its project helpers call (one or two
    calls down, resolved exactly: ``reply = await answer(user, text)`` where ``answer`` checks a
    per-user limiter before calling a model): a request runs them as surely as the handler's own.
    A helper named for a limiter (``check_rate_limit``) is the limiter whose call was counted
    already: what it calls inside is not counted again."""
    if decl.handler is None:
        return []
    out = _body_limits(res, f, decl.handler, "handler call {name}()")
    try:
        helpers = res.reach.direct_helpers(f, decl.handler, decl.func, _HELPER_LEVELS)
    except RecursionError:
        helpers = []
    for helper, via in helpers:
        if any(_LIMIT_CALL.search(step.rpartition(".")[2]) for step in via):
            continue
        text = " -> ".join(v + "()" for v in via)
        out += _body_limits(res, helper.mod.facts, helper.node, "call {name}() in helper " + text)
    return out


def _body_limits(res: _Resolver, f: Facts, func: ast.FunctionDef | ast.AsyncFunctionDef, source: str) -> list[RouteLimit]:
    """A limiter a function calls in its own body (``if not rate_limit(key, 5, 60): ...``): the
    count and the window from the arguments named (or, for a project function, whose parameters
    are named) for them, through the function's locals (``n, window = LIMITS["login"]``).  A call
    whose numbers cannot be told apart or folded is an ``Unknown`` limit: never a guess."""
    nodes = own_nodes(func)
    local: dict[str, tuple[ast.expr, int]] = {}
    for node in nodes:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    local.setdefault(t.id, (node.value, -1))
                elif isinstance(t, (ast.Tuple, ast.List)):
                    for i, elt in enumerate(t.elts):
                        if isinstance(elt, ast.Name):
                            local.setdefault(elt.id, (node.value, i))
    out = []
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        last = name.rpartition(".")[2]
        if not name or not _LIMIT_CALL.search(name) or _NOT_LIMIT_CALL.search(last):
            continue
        found = res.function(f, node.func)
        params = found[0].params.get(found[1], ()) if found else ()
        named = [(params[i] if i < len(params) else "", a) for i, a in enumerate(node.args)]
        named += [(k.arg, k.value) for k in node.keywords if k.arg]
        values = [(n, _local_value(res, f, a, local)) for n, a in named]
        out.append(RouteLimit(_count_window(values, _src(node)), source.format(name=name), f.loc(node)))
    return out


def _local_value(res: _Resolver, f: Facts, node: ast.expr, local: dict[str, tuple[ast.expr, int]], depth: int = 0) -> object:
    if depth > _MAX_HOPS:
        return Unknown("nested too deeply")
    if isinstance(node, ast.Name) and node.id in local:
        src, index = local[node.id]
        value = _local_value(res, f, src, local, depth + 1)
        if index < 0:
            return value
        return value[index] if isinstance(value, (list, tuple)) and index < len(value) else Unknown(_src(node))
    if isinstance(node, ast.Subscript):
        base = _local_value(res, f, node.value, local, depth + 1)
        key = _local_value(res, f, node.slice, local, depth + 1)
        if isinstance(base, dict) and is_hashable(key) and key in base:
            return base[key]
        if isinstance(base, (list, tuple)) and isinstance(key, int) and -len(base) <= key < len(base):
            return base[key]
        return Unknown(_src(node))
    return res.const(f, node)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count_window(values: list[tuple[str, object]], text: str) -> object:
    """(count, seconds) from a limiter call's arguments, else ``Unknown``."""
    count = next((v for n, v in values if n and _COUNT_NAME.search(n) and not _WINDOW_NAME.search(n)), None)
    window = next(((n, v) for n, v in values if n and _WINDOW_NAME.search(n)), None)
    if count is None and window is None:
        numbers = [(n, v) for n, v in values if _number(v)]
        if len(numbers) == 2 and not any(isinstance(v, Unknown) for _, v in values):
            count, window = numbers[0][1], ("", numbers[1][1])
    if not _number(count) or window is None or not _number(window[1]) or window[1] <= 0:  # type: ignore[operator]
        return Unknown(f"{text}: its count and window cannot be folded")
    factor = next((x for unit, x in _UNITS if unit in window[0].lower()), 1)
    seconds = window[1] * factor  # type: ignore[operator]
    return (count, int(seconds) if seconds == int(seconds) else seconds)


def _default_limits(facts: list[Facts], middleware: list[Middleware], notes: list[str]) -> tuple[RouteLimit, ...]:
    state = {n.split(".")[-1] for f in facts for n in f.state_limiter}
    has_mw = any(m.name in _SLOWAPI_MIDDLEWARE for m in middleware)
    for f in facts:
        for name, (lit, loc) in f.limiters.items():
            if lit is None or name not in state:
                continue
            if not has_mw:
                notes.append(f"{f.display}:{loc.line}: Limiter(default_limits=...) is set but SlowAPIMiddleware is not added; "
                             "the default limits apply to no route")
                continue
            values = lit.value if isinstance(lit.value, (list, tuple)) else [lit.value]
            return tuple(RouteLimit(v, "limiter default_limits", loc) for v in values)
    return tuple(RouteLimit(Unknown(f"{m.name} may limit it: a rate-limiting middleware whose rules are not read"),
                            f"middleware {m.name}", m.loc)
                 for m in middleware if m.name.split(".")[-1] not in _SLOWAPI_MIDDLEWARE and LIMITING_MIDDLEWARE.search(m.name))[:1]
