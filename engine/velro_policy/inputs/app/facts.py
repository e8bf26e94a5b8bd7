"""What one module says about the app, read from its tree in one walk.

Imports (static and dynamic), app and router objects, route decorators,
``add_api_route``, ``include_router``/``mount`` edges (with the ``if`` they are
under), middleware, slowapi limiters, env reads and the expressions that feed
a JWT key, CORS origins and ``FastAPI(debug=...)``.
"""
from __future__ import annotations

import ast
import re
from typing import NamedTuple

from velro_policy.inputs.pyfold import Folder, Lit, Required, TooDeep, dotted
from velro_policy.model import Location, Unknown

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
ROUTE_METHODS = frozenset({*HTTP_METHODS, "api_route", "websocket", "route", "websocket_route"})
_APP_CLASSES = frozenset({"FastAPI", "Starlette"})
_ENV_FUNCS = frozenset({"os.getenv", "getenv", "os.environ.get", "environ.get", "os.environ.setdefault"})
_CONFIG_FUNCS = frozenset({"config", "decouple.config", "env"})
_DYNAMIC = frozenset({"importlib.import_module", "import_module", "__import__", "importlib.__import__"})
_LIMIT_DECORATORS = frozenset({"limit", "shared_limit"})
# A middleware whose name says it limits requests (asgi-ratelimit's RateLimitMiddleware, a project's
# ThrottleMiddleware, a `rate_limit.get_middleware` factory); routes.py: "cannot verify" for the routes
# it may cover, never "no rate limit".
LIMITING_MIDDLEWARE = re.compile(r"(?i)rate_?limit|ratelimit|throttl|limiter")
_FOLDABLE_CALLS = _ENV_FUNCS | _CONFIG_FUNCS | {"str", "int", "float", "bool", "list", "tuple", "set", "frozenset", "dict", "len",
                                                 "sorted", "min", "max", "abs", "round"}


class ImportRef(NamedTuple):
    module: str  # absolute dotted name, or "" for a relative import's package itself
    level: int
    names: tuple[str, ...]  # from-import names (possible submodules)
    line: int


class RouteDecl(NamedTuple):
    owner: str  # the app/router variable
    method: str
    path: ast.expr | None
    func: str
    loc: Location
    deps: tuple[str, ...]
    dep_nodes: tuple[ast.expr, ...]
    limits: tuple[tuple[ast.expr | None, str, Location], ...]  # (limit argument, how, where)
    exempt: bool
    methods: tuple[str, ...] = ()
    handler: ast.FunctionDef | ast.AsyncFunctionDef | None = None  # its body: limiter calls made there


class Include(NamedTuple):
    owner: str
    target: ast.expr
    prefix: ast.expr | None
    deps: tuple[str, ...]
    dep_nodes: tuple[ast.expr, ...]
    gate: str
    loc: Location
    kind: str  # include | mount
    function: str = ""  # the function whose body holds it (its owner may be a parameter: ``def setup(app)``)


class ObjDecl(NamedTuple):
    kind: str  # app | router
    prefix: ast.expr | None
    deps: tuple[str, ...]
    dep_nodes: tuple[ast.expr, ...]
    loc: Location
    call: ast.Call


class MiddlewareDecl(NamedTuple):
    owner: str
    name: str
    options: tuple[tuple[str, object], ...]
    gate: str
    loc: Location


class EnvRead(NamedTuple):
    env: str
    default: object
    loc: Location
    names: tuple[str, ...]  # variables/attributes it is bound to


class Facts:
    def __init__(self, path: str, display: str, tree: ast.Module, text: str) -> None:
        self.path = path
        self.display = display
        self.folder = Folder(display, [line.encode("utf-8", "surrogateescape") for line in text.split("\n")])
        self.imports: list[ImportRef] = []
        self.dynamic: list[tuple[int, str]] = []  # (line, source) of imports whose name is computed
        self.symbols: dict[str, tuple[str, int, str]] = {}  # local name -> (module, level, attr or "")
        self.objects: dict[str, ObjDecl] = {}
        self.routes: list[RouteDecl] = []
        self.includes: list[Include] = []
        self.middleware: list[MiddlewareDecl] = []
        self.limiters: dict[str, tuple[Lit | None, Location]] = {}
        self.state_limiter: list[str] = []
        self.env_reads: list[EnvRead] = []
        self.jwt_refs: set[str] = set()
        self.cors_refs: set[str] = set()
        self.debug_refs: set[str] = set()
        self.methods: dict[str, list[ast.AST]] = {}  # method/property name -> its definitions (names read on demand)
        self.functions: set[str] = set()  # every function defined in the module
        self.consts: dict[str, Lit] = {}  # module-level names bound to literals
        self.class_attrs: dict[str, Lit] = {}  # class-level attribute -> literal (prefixes via settings.X)
        self.annotated: dict[str, tuple[str, ...]] = {}  # X = Annotated[T, Depends(f)] -> ("Depends(f)",)
        self.notes: list[str] = []
        self.has_settings = "BaseSettings" in text
        self.classes: dict[str, tuple[str, ...]] = {}  # class -> the last names of its bases
        self.returns: dict[str, tuple[str, ...]] = {}  # function -> the names its first `return a` / `return a, b` gives
        self.params: dict[str, tuple[str, ...]] = {}  # function -> its positional parameter names
        self.call_binds: dict[str, tuple[ast.expr, int]] = {}  # x = f(...) -> (f, -1); a, b = f(...) -> (f, 0), (f, 1)
        self.calls: list[tuple[ast.Call, str]] = []  # statement calls with arguments (``setup(app)``) and their gate
        self._open_functions: list[str] = []  # functions whose body is being walked (innermost last)
        self._assigns: dict[str, ast.expr] = {}
        self._bind: tuple[str, ...] = ()
        self._open_classes: list[str] = []  # classes whose body is being walked: `self.router` in them is `Class.router`
        self.bound: set[str] = set()  # names assigned at module level
        self._walk(tree.body, "", {})

    # -- locations / folding --------------------------------------------------
    def loc(self, node: ast.AST) -> Location:
        return self.folder.loc(node)

    def fold(self, node: ast.expr) -> Lit:
        self.folder.env_reads = []
        try:
            return self.folder.fold(node)
        except Required as exc:
            return Lit(Unknown(f"required env variable {exc.name}"), self.loc(node))
        except (TooDeep, RecursionError):
            return Lit(Unknown("nested too deeply"), self.loc(node))

    # -- statements -----------------------------------------------------------
    def _walk(self, body: list[ast.stmt], gate: str, local: dict[str, ast.expr], module_level: bool = True) -> None:
        for stmt in body:
            self._stmt(stmt, gate, local, module_level)

    def _stmt(self, stmt: ast.stmt, gate: str, local: dict[str, ast.expr], module_level: bool) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self._import(stmt)
        elif isinstance(stmt, ast.If):
            self._exprs(stmt.test, local)
            cond = _src(stmt.test)
            if module_level and _is_main_guard(stmt.test):
                cond = "__name__ == '__main__'"
            self._walk(stmt.body, _and(gate, cond), local, module_level)
            self._walk(stmt.orelse, _and(gate, f"not ({cond})"), local, module_level)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._function(stmt, gate, local)
        elif isinstance(stmt, ast.ClassDef):
            self._class(stmt, gate, local)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            self._assign(stmt, gate, local, module_level)
        elif isinstance(stmt, (ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)) or type(stmt).__name__ == "TryStar":
            for node in ast.iter_child_nodes(stmt):
                if isinstance(node, ast.expr):
                    self._exprs(node, local)
            for sub in _blocks(stmt):
                self._walk(sub, gate, local, module_level)
        else:
            self._expr_stmt(stmt, gate, local)

    def _import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                self.imports.append(ImportRef(alias.name, 0, (), stmt.lineno))
                if alias.asname:
                    self.symbols[alias.asname] = (alias.name, 0, "")
                else:
                    top = alias.name.split(".")[0]
                    self.symbols[top] = (top, 0, "")
            return
        names = tuple(a.name for a in stmt.names if a.name != "*")
        self.imports.append(ImportRef(stmt.module or "", stmt.level, names, stmt.lineno))
        for alias in stmt.names:
            if alias.name != "*":
                self.symbols[alias.asname or alias.name] = (stmt.module or "", stmt.level, alias.name)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, gate: str, local: dict[str, ast.expr]) -> None:
        self.functions.add(node.name)
        self.params.setdefault(node.name, tuple(a.arg for a in [*node.args.posonlyargs, *node.args.args]))
        returned = _returned_names(node)
        if returned:
            self.returns.setdefault(node.name, returned)
        routes = self._decorators(node)
        if not routes:
            for deco in node.decorator_list:
                self._exprs(deco, local)
        for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
            if arg.annotation is not None:
                self._exprs(arg.annotation, local)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self._exprs(default, local)
        self._open_functions.append(node.name)
        try:
            self._walk(node.body, gate, dict(local), module_level=False)
        finally:
            self._open_functions.pop()

    def _class(self, node: ast.ClassDef, gate: str, local: dict[str, ast.expr]) -> None:
        self.classes[node.name] = tuple(dotted(b).split(".")[-1] for b in node.bases)
        own: dict[str, str] = {}  # this class's string fields so far, for f"/api/{API_VERSION}"
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.methods.setdefault(stmt.name, []).append(stmt)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and isinstance(_field_default(stmt.value), ast.Constant):
                lit = self.fold(_field_default(stmt.value))  # type: ignore[arg-type]
                if not isinstance(lit.value, Unknown):
                    self.class_attrs.setdefault(stmt.target.id, lit)
                    if isinstance(lit.value, str):
                        own[stmt.target.id] = lit.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and isinstance(stmt.value, ast.JoinedStr):
                text = _class_fstring(stmt.value, own)
                if text is not None:
                    self.class_attrs.setdefault(stmt.target.id, Lit(text, self.loc(stmt.value)))
                    own[stmt.target.id] = text
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                lit = self.fold(stmt.value)
                for t in stmt.targets:
                    if isinstance(t, ast.Name) and not isinstance(lit.value, Unknown):
                        self.class_attrs.setdefault(t.id, lit)
        self._open_classes.append(node.name)
        try:
            self._walk(node.body, gate, local, module_level=False)
        finally:
            self._open_classes.pop()

    def _assign(self, stmt: ast.Assign | ast.AnnAssign, gate: str, local: dict[str, ast.expr], module_level: bool) -> None:
        if stmt.value is None:
            return
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        # A module-level name is bound in this module only (qualified by its path); an attribute
        # (self.secret, settings.X) is matched by its name; a function's local is followed by _refs.
        names = tuple(self.qualified(t.id) if isinstance(t, ast.Name) else t.attr for t in targets
                      if (isinstance(t, ast.Name) and module_level) or isinstance(t, ast.Attribute))
        value = stmt.value
        if isinstance(value, ast.Call):  # a router made by a factory: router = make_router(db)
            for t in targets:
                if isinstance(t, ast.Name):
                    self.call_binds[t.id] = (value.func, -1)
                elif isinstance(t, (ast.Tuple, ast.List)):
                    for i, elt in enumerate(t.elts):
                        if isinstance(elt, ast.Name):
                            self.call_binds[elt.id] = (value.func, i)
        for t in targets:
            if isinstance(t, ast.Name):
                if module_level:
                    self.bound.add(t.id)
                local[t.id] = value
                self._object(t.id, value)
                if module_level:
                    self._const(t.id, value)
            elif isinstance(t, ast.Attribute) and t.attr == "limiter" and dotted(t.value).endswith(".state"):
                self.state_limiter.append(dotted(value) or _src(value))
            elif isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" and self._open_classes:
                self._object(f"{self._open_classes[-1]}.{t.attr}", value)  # a controller class: self.router = APIRouter(...)
        saved, self._bind = self._bind, names
        try:
            self._exprs(value, local)
        finally:
            self._bind = saved

    def _const(self, name: str, value: ast.expr) -> None:
        if isinstance(value, ast.Subscript) and dotted(value.value).split(".")[-1] == "Annotated":
            elts = value.slice.elts if isinstance(value.slice, ast.Tuple) else []
            deps = tuple(_src(e) for e in elts[1:] if _is_depends(e))
            if deps:
                self.annotated[name] = deps
            return
        if isinstance(value, ast.Call) and dotted(value.func) not in _FOLDABLE_CALLS and not isinstance(value.func, ast.Attribute):
            self.folder.scope.pop(name, None)  # router = APIRouter(...): not a constant; folding it would cost an unparse
            return
        lit = self.fold(value)
        if isinstance(lit.value, Unknown):
            self.folder.scope.pop(name, None)
        else:
            self.folder.scope[name] = lit
            self.consts[name] = lit

    def _object(self, name: str, value: ast.expr) -> None:
        if not isinstance(value, ast.Call):
            return
        cls = dotted(value.func).split(".")[-1]
        kind = "app" if cls in _APP_CLASSES else "router" if cls.endswith("Router") else ""
        if kind:
            kw = _kwargs(value)
            deps, nodes = _dep_list(kw.get("dependencies"))
            self.objects[name] = ObjDecl(kind, kw.get("prefix"), deps, nodes, self.loc(value), value)
            if kind == "app":
                self._app_call(value)
        elif cls == "Limiter":
            kw = _kwargs(value)
            default = kw.get("default_limits")
            self.limiters[name] = (self.fold(default) if default is not None else None, self.loc(value))

    def _app_call(self, call: ast.Call) -> None:
        kw = _kwargs(call)
        if "debug" in kw:
            self.debug_refs |= self._flag_refs(kw["debug"])
        for docs in ("docs_url", "redoc_url", "openapi_url"):  # docs_url="/docs" if settings.DEBUG else None
            node = kw.get(docs)
            if isinstance(node, ast.IfExp):
                self.debug_refs |= self._flag_refs(node.test)
        for item in getattr(kw.get("middleware"), "elts", []):
            if isinstance(item, ast.Call) and dotted(item.func).split(".")[-1] == "Middleware" and item.args:
                self._add_middleware("", item.args[0], item, "")

    # -- expressions ------------------------------------------------------------
    def _expr_stmt(self, stmt: ast.stmt, gate: str, local: dict[str, ast.expr]) -> None:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self._call_stmt(stmt.value, gate)
        for node in ast.iter_child_nodes(stmt):
            if isinstance(node, ast.expr):
                self._exprs(node, local)

    def _call_stmt(self, call: ast.Call, gate: str) -> None:
        func = call.func
        if call.args or call.keywords:
            self.calls.append((call, gate))  # may be a project function that includes routers into its argument
        if not isinstance(func, ast.Attribute):
            return
        owner = self._owner(dotted(func.value))
        kw = _kwargs(call)
        inside = self._open_functions[-1] if self._open_functions else ""
        if func.attr == "include_router" and call.args:
            deps, nodes = _dep_list(kw.get("dependencies"))
            self.includes.append(Include(owner, call.args[0], kw.get("prefix"), deps, nodes, gate, self.loc(call), "include", inside))
        elif func.attr == "mount" and len(call.args) >= 2:
            self.includes.append(Include(owner, call.args[1], call.args[0], (), (), gate, self.loc(call), "mount", inside))
        elif func.attr == "add_middleware" and call.args:
            self._add_middleware(owner, call.args[0], call, gate)
        elif func.attr in ("add_api_route", "add_api_websocket_route") and len(call.args) >= 2:
            self._add_route(owner, call, kw)

    def _owner(self, name: str) -> str:
        """The app/router a decorator or call names: ``self.router`` inside class C is ``C.router``."""
        if name.startswith("self.") and self._open_classes:
            return f"{self._open_classes[-1]}.{name[5:]}"
        return name

    def _add_route(self, owner: str, call: ast.Call, kw: dict[str, ast.expr]) -> None:
        methods: tuple[str, ...] = ("WEBSOCKET",) if call.func.attr == "add_api_websocket_route" else ("GET",)  # type: ignore[attr-defined]
        mnode = kw.get("methods")
        if mnode is not None:
            lit = self.fold(mnode)
            methods = tuple(str(m).upper() for m in lit.value) if isinstance(lit.value, (list, tuple, set)) else ("?",)
        deps, nodes = _dep_list(kw.get("dependencies"))
        func = call.args[1]
        self.routes.append(RouteDecl(owner, "", call.args[0], dotted(func) or _src(func), self.loc(call), deps, nodes, (), False, methods))

    def _add_middleware(self, owner: str, cls: ast.expr, call: ast.Call, gate: str) -> None:
        name = dotted(cls) or _src(cls)
        options: list[tuple[str, object]] = []
        for k in call.keywords:
            if k.arg is None:
                options.append(("**", Unknown(f"**{_src(k.value)}")))
                continue
            lit = self.fold(k.value)
            value = lit.value if not isinstance(lit.value, Unknown) else Unknown(_src(k.value))
            options.append((k.arg, value))
            if k.arg == "allow_origins" and name.split(".")[-1] == "CORSMiddleware":
                self.cors_refs |= self._refs(k.value)
        short = name.split(".")[-1]
        # `rate_limit.get_middleware`: the module's name is what says the factory limits requests
        shown = name if LIMITING_MIDDLEWARE.search(name) and not LIMITING_MIDDLEWARE.search(short) else short
        self.middleware.append(MiddlewareDecl(owner, shown, tuple(options), gate, self.loc(call)))

    def _exprs(self, node: ast.expr, local: dict[str, ast.expr]) -> None:
        """Env reads, JWT calls, dynamic imports and app creations anywhere in an expression."""
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                self._call(sub, local)
            elif isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Load) and dotted(sub.value) in ("os.environ", "environ"):
                key = sub.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    self.env_reads.append(EnvRead(key.value, None, self.loc(sub), self._bind))

    def _call(self, call: ast.Call, local: dict[str, ast.expr]) -> None:
        name = dotted(call.func)
        if name in _ENV_FUNCS or name in _CONFIG_FUNCS or (name.startswith("env.") and name.count(".") == 1):
            self._env_call(call, name)
        elif name in _DYNAMIC and call.args:
            arg = call.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                self.imports.append(ImportRef(arg.value.lstrip("."), len(arg.value) - len(arg.value.lstrip(".")), (), call.lineno))
            else:
                self.dynamic.append((call.lineno, _src(call)))
        elif name in ("sys.path.insert", "sys.path.append", "sys.path.extend", "site.addsitedir"):
            self.dynamic.append((call.lineno, _src(call)))
        elif name.split(".")[-1] in ("encode", "decode") and "jwt" in name.lower():
            key = call.args[1] if len(call.args) > 1 else _kwargs(call).get("key")
            if key is not None:
                self.jwt_refs |= self._refs(key, local)
        elif name.split(".")[-1] in _APP_CLASSES:
            self._app_call(call)

    def _env_call(self, call: ast.Call, name: str) -> None:
        if not call.args or not (isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)):
            return
        env = call.args[0].value
        default: object = None
        has_default = len(call.args) > 1 or any(k.arg == "default" for k in call.keywords)
        if has_default:
            lit = self.fold(call)
            default = lit.value
        self.env_reads.append(EnvRead(env, default, self.loc(call), self._bind))

    def qualified(self, name: str) -> str:
        """A plain name as a reference: qualified by this module's path (resolved to its binding later)."""
        return f"{self.path}\0{name}"

    def _refs(self, node: ast.expr, local: dict[str, ast.expr] | None = None) -> set[str]:
        """Names (qualified) and attributes the value of an expression is made of, one assignment
        back for plain names.  What is only tested (``if``'s condition, a comparison, a
        comprehension's filter) is not part of the value: in ``["*"] if settings.DEBUG else
        settings.ORIGINS`` DEBUG decides, ORIGINS is the origin list."""
        out: set[str] = set()
        nodes = list(value_nodes(node))
        for sub in nodes:
            if isinstance(sub, ast.Name):
                out.add(self.qualified(sub.id))
            elif isinstance(sub, ast.Attribute):
                out.add(sub.attr)
        for sub in nodes:
            if isinstance(sub, ast.Call) and dotted(sub.func) in _ENV_FUNCS | _CONFIG_FUNCS and sub.args:
                arg = sub.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    out.add(arg.value)
        if local and isinstance(node, ast.Name) and node.id in local and local[node.id] is not node:
            out |= self._refs(local[node.id])
        return out

    def _flag_refs(self, node: ast.expr) -> set[str]:
        """The names whose truth an on/off expression is: ``settings.DEBUG``, ``not X``, ``X and Y``,
        ``os.getenv("DEBUG", "false").lower() == "true"``; not what is compared with another word
        (``settings.ENVIRONMENT != "production"`` names an environment, it is not a switch)."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self._flag_refs(node.operand)
        if isinstance(node, ast.BoolOp):
            return set().union(*(self._flag_refs(v) for v in node.values))
        if isinstance(node, ast.IfExp):
            return self._flag_refs(node.body) | self._flag_refs(node.orelse)
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            words = [c for side in sides for c in _constants(side)]
            if words and all(str(w).lower() in _TRUE_WORDS for w in words):
                return set().union(*(self._refs(side) for side in sides if not _constants(side)))
            return set()
        return self._refs(node)

    # -- decorators -------------------------------------------------------------
    def _decorators(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        decos = node.decorator_list
        route_at = [i for i, d in enumerate(decos) if _route_decorator(d)]
        limits: list[tuple[ast.expr | None, str, Location]] = []
        exempt = False
        for i, deco in enumerate(decos):
            target = deco.func if isinstance(deco, ast.Call) else deco
            attr = target.attr if isinstance(target, ast.Attribute) else ""
            if attr == "exempt":
                exempt = True
            if attr in _LIMIT_DECORATORS and isinstance(deco, ast.Call) and not _route_decorator(deco):
                if route_at and i < min(route_at):
                    self.notes.append(f"{self.display}:{deco.lineno}: @{dotted(target)}(...) is above the route decorator of {node.name}; "
                                      "slowapi applies a limit only when it is below the route decorator, so it is not counted")
                    continue
                arg = deco.args[0] if deco.args else _kwargs(deco).get("limit_value")
                limits.append((arg, f"decorator @{dotted(target) or 'limit'}", self.loc(deco)))
            if isinstance(deco, ast.Call) and isinstance(target, ast.Attribute) and attr == "middleware" and deco.args:
                self.middleware.append(MiddlewareDecl(dotted(target.value), node.name, (), "", self.loc(deco)))
        for i in route_at:
            self._route(node, decos[i], tuple(limits), exempt)
        return bool(route_at)

    def _route(self, node: ast.FunctionDef | ast.AsyncFunctionDef, deco: ast.expr, limits: tuple, exempt: bool) -> None:
        assert isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
        kw = _kwargs(deco)
        method = deco.func.attr
        methods: tuple[str, ...] = ()
        if method in ("api_route", "route"):
            mnode = kw.get("methods")
            lit = self.fold(mnode) if mnode is not None else Lit(["GET"], self.loc(deco))
            methods = tuple(str(m).upper() for m in lit.value) if isinstance(lit.value, (list, tuple, set)) else ("?",)
        elif method in ("websocket", "websocket_route"):
            methods = ("WEBSOCKET",)
        else:
            methods = (method.upper(),)
        deps, nodes = _dep_list(kw.get("dependencies"))
        param_nodes = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
        param_deps = [d for d in param_nodes if _is_depends(d)]
        ann_deps: list[str] = []
        for arg in [*node.args.args, *node.args.kwonlyargs]:
            ann_deps.extend(self._annotation_deps(arg.annotation))
        all_deps = (*deps, *(_src(d) for d in param_deps), *ann_deps)
        path = deco.args[0] if deco.args else kw.get("path")
        self.routes.append(RouteDecl(self._owner(dotted(deco.func.value)), "", path, node.name, self.loc(deco), all_deps,
                                     (*nodes, *param_deps), limits, exempt, methods, node))

    def _annotation_deps(self, ann: ast.expr | None) -> list[str]:
        if ann is None:
            return []
        if isinstance(ann, ast.Subscript) and dotted(ann.value).split(".")[-1] == "Annotated":
            elts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else []
            return [_src(e) for e in elts[1:] if _is_depends(e)]
        if isinstance(ann, ast.Name):
            return [f"@{ann.id}"]  # an alias: resolved against the module's Annotated aliases later
        return []


# -- helpers ---------------------------------------------------------------------
_TRUE_WORDS = frozenset({"true", "1", "yes", "on", "y", "t", "false", "0", "no", "off", "n", "f", "none"})


def value_nodes(node: ast.AST) -> list[ast.AST]:
    """The nodes of an expression that make its value: an ``IfExp``'s branches (not its test),
    no comparison (its result is a bool), a comprehension's iterable (not its filters)."""
    out: list[ast.AST] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Compare):
            continue
        if isinstance(n, ast.IfExp):
            stack += [n.body, n.orelse]
            continue
        if isinstance(n, ast.comprehension):
            stack.append(n.iter)
            continue
        out.append(n)
        stack.extend(ast.iter_child_nodes(n))
    return out


def _constants(node: ast.expr) -> list[object]:
    """The literal words of a comparison side: ``"true"``, ``("1", "true")``; [] for anything else."""
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts and all(isinstance(e, ast.Constant) for e in node.elts):
        return [e.value for e in node.elts]  # type: ignore[attr-defined]
    return []


def _route_decorator(deco: ast.expr) -> bool:
    return isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr in ROUTE_METHODS \
        and bool(dotted(deco.func.value)) and (bool(deco.args) or any(k.arg == "path" for k in deco.keywords))


def _is_depends(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and dotted(node.func).split(".")[-1] in ("Depends", "Security")


def _dep_list(node: ast.expr | None) -> tuple[tuple[str, ...], tuple[ast.expr, ...]]:
    if not isinstance(node, (ast.List, ast.Tuple)):
        return ((_src(node),), ()) if node is not None else ((), ())
    return tuple(_src(e) for e in node.elts), tuple(node.elts)


def _kwargs(call: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in call.keywords if k.arg}


def _class_fstring(value: ast.JoinedStr, fields: dict[str, str]) -> str | None:
    """A settings field's f-string default built from fields above it in the class
    (``API_V1_STR: str = f"/api/{API_VERSION}"``): the class body sees them as plain names."""
    parts: list[str] = []
    for piece in value.values:
        if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
            parts.append(piece.value)
        elif (isinstance(piece, ast.FormattedValue) and piece.conversion == -1 and piece.format_spec is None
              and isinstance(piece.value, ast.Name) and piece.value.id in fields):
            parts.append(fields[piece.value.id])
        else:
            return None
    return "".join(parts)


def _field_default(value: ast.expr | None) -> ast.expr | None:
    if isinstance(value, ast.Call) and dotted(value.func).split(".")[-1] == "Field":
        if value.args:
            return value.args[0]
        return _kwargs(value).get("default", ast.Constant(...))
    return value


def own_nodes(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of a function's body, not those of the functions, lambdas and classes it defines."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = list(reversed(func.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        out.append(node)
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return out


def _returned_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    """``return router`` -> ("router",), ``return public, admin`` -> ("public", "admin"): the first
    return of the function itself (not of the handlers it defines) that gives names.  Statements
    only: a return is never inside an expression."""
    stack: list[ast.stmt] = list(reversed(func.body))
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            elts = stmt.value.elts if isinstance(stmt.value, (ast.Tuple, ast.List)) else [stmt.value]
            names = tuple(dotted(e) for e in elts)
            if all(names):
                return names
        elif not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for block in reversed(_blocks(stmt)):
                stack.extend(reversed(block))
    return ()


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    out = [getattr(stmt, "body", []), getattr(stmt, "orelse", []), getattr(stmt, "finalbody", [])]
    out.extend(h.body for h in getattr(stmt, "handlers", []))
    return out


def _is_main_guard(test: ast.expr) -> bool:
    return isinstance(test, ast.Compare) and dotted(test.left) == "__name__"


def _and(gate: str, cond: str) -> str:
    return f"{gate} and {cond}" if gate else cond


def _src(node: ast.AST | None) -> str:
    if node is None:
        return ""
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - unparse of odd trees is best-effort
        return type(node).__name__
    return text if len(text) <= 120 else text[:117] + "..."
