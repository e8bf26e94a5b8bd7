"""The guide's security headers in the deployed app: where each is set, read with ``ast``.

A header counts as set by the app when deployed code that runs sets it:

- in code: ``response.headers["X-Frame-Options"] = ...``, ``headers.setdefault/append/update``,
  ``set_header``, ``headers={...}`` of a ``*Response(...)``, raw ASGI pairs
  ``(b"x-frame-options", b"DENY")``, ``HEADERS["Name"] = ...``;
- by a header dict (``SECURITY_HEADERS = {...}``, ``self.security_headers = {...}``, a
  function returning one) that the app uses somewhere (its name is read);
- by the ``secure`` package (``Secure(...)``, ``Secure.with_default_headers()``,
  ``Secure.from_preset(...)``) with its builders folded (``XFrameOptions().deny()``,
  ``StrictTransportSecurity().max_age(31536000).include_subdomains().preload()``,
  ``ContentSecurityPolicy().default_src("'self'")``);
- by middleware options named for a header (``add_middleware(X, csp="...", x_frame_options=...)``,
  ``headers={...}``).

Code counts only where it runs: at module level, in a decorated function (a route, an
``@app.middleware``), or in a function or class the deployed code refers to by name (a
middleware class that is never added, a helper never called, a header dict never read do
not count; they are listed as ``unused``).  What may set headers the model cannot name
(a computed header name with no header dict in sight, a header-setting middleware from a
package, ``Secure()`` whose defaults depend on the installed version) is listed as
``unsure``: the judge then cannot say a header is missing.
"""
from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, NamedTuple

from velro_policy.inputs.app.facts import Facts, MiddlewareDecl, _src
from velro_policy.inputs.pyfold import dotted
from velro_policy.model import HeaderCoverage, HeaderSet, Location, Unknown

if TYPE_CHECKING:
    from velro_policy.inputs.app import _Graph

HSTS = "Strict-Transport-Security"
CSP = "Content-Security-Policy"
XCTO = "X-Content-Type-Options"
XFO = "X-Frame-Options"
XXSS = "X-XSS-Protection"
REFERRER = "Referrer-Policy"
GUIDE_HEADERS = (HSTS, CSP, XCTO, XFO, XXSS, REFERRER)
_CANON = {h.lower(): h for h in GUIDE_HEADERS}

# middleware option (lower case, letters and digits only) -> the header it sets
_OPTIONS = {
    "csp": CSP, "contentsecuritypolicy": CSP, "csppolicy": CSP, "cspheader": CSP, "cspvalue": CSP, "cspdirectives": CSP,
    "hsts": HSTS, "stricttransportsecurity": HSTS, "hstspolicy": HSTS, "hstsheader": HSTS, "hstsvalue": HSTS,
    "xframeoptions": XFO, "frameoptions": XFO, "xfo": XFO,
    "xcontenttypeoptions": XCTO, "contenttypeoptions": XCTO, "xcto": XCTO,
    "xxssprotection": XXSS, "xssprotection": XXSS, "xxp": XXSS,
    "referrerpolicy": REFERRER, "referrer": REFERRER,
}
_DICT_OPTIONS = frozenset({"headers", "securityheaders", "customheaders", "extraheaders", "responseheaders"})
# A middleware from a package whose name says it may set security headers.
_HEADERISH = re.compile(r"(?i)secur|header|helmet|talisman|csp|hsts|armor")
_NOT_HEADERS = frozenset({"ProxyHeadersMiddleware", "TrustedHostMiddleware", "HTTPSRedirectMiddleware", "CORSMiddleware",
                          "GZipMiddleware", "SessionMiddleware", "AuthenticationMiddleware"})

# -- the secure package (https://github.com/TypeError/secure) -------------------------
_SECURE_KW = {"csp": CSP, "hsts": HSTS, "xfo": XFO, "xxp": XXSS, "referrer": REFERRER, "xcto": XCTO, "content": XCTO}
_BUILDERS = {"ContentSecurityPolicy": CSP, "StrictTransportSecurity": HSTS, "XFrameOptions": XFO, "XXSSProtection": XXSS,
             "ReferrerPolicy": REFERRER, "XContentTypeOptions": XCTO}
# a builder with no directive called: (secure 0.x, secure 1.x+); None: no such builder/default in that version
_BUILDER_DEFAULTS: dict[str, tuple[str | None, str | None]] = {
    HSTS: ("max-age=63072000; includeSubdomains", "max-age=31536000"),
    XFO: ("SAMEORIGIN", "SAMEORIGIN"),
    XXSS: ("0", None),
    REFERRER: ("no-referrer, strict-origin-when-cross-origin", "strict-origin-when-cross-origin"),
    CSP: ("script-src 'self'; object-src 'self'", "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"),
    XCTO: ("nosniff", "nosniff"),
}
# Secure() with no argument for a header: secure 0.x sets these defaults, 1.x+ sets nothing
_SECURE0_DEFAULTS = {"hsts": HSTS, "xfo": XFO, "xxp": XXSS, "content": XCTO, "referrer": REFERRER}
# Secure.with_default_headers() (1.x and 2.x; HSTS gained includeSubDomains in 2.x: the better value is
# recorded, so what is reported is wrong in every version)
_WITH_DEFAULTS = {
    CSP: "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'",
    HSTS: "max-age=31536000; includeSubDomains",
    REFERRER: "strict-origin-when-cross-origin",
    XCTO: "nosniff",
    XFO: "SAMEORIGIN",
}
_PRESET_HEADERS = {"STRICT": (CSP, HSTS, REFERRER, XCTO, XFO), "BASIC": (HSTS, REFERRER, XCTO, XFO)}
_PRESET_XFO = {"STRICT": "DENY", "BASIC": "SAMEORIGIN"}
_V1_ATTRS = frozenset({"set_headers", "set_headers_async", "with_default_headers", "from_preset"})


def canonical(name: object) -> str:
    """The guide header a literal names ('' if none): ``"x-frame-options"``, ``b"X-Frame-Options"``."""
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return _CANON.get(name.strip().lower(), "") if isinstance(name, str) else ""


def _lit_name(node: ast.AST | None) -> str:
    return canonical(node.value) if isinstance(node, ast.Constant) else ""


def _computed(node: ast.AST | None) -> bool:
    """A header name that is not written out (``response.headers[name]``); a literal other header is not."""
    return not (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)))


def _is_headers(node: ast.AST) -> bool:
    """``response.headers``, ``headers``, ``self._headers``: something named like a header map."""
    name = dotted(node).split(".")[-1] if dotted(node) else ""
    return name.lower().strip("_").endswith("headers")


class _Set(NamedTuple):
    header: str
    node: ast.expr | None
    loc: Location
    owner: str  # outermost function/class name; "" at module level


class _Dynamic(NamedTuple):
    loc: Location
    owner: str
    text: str


class _Binding(NamedTuple):
    headers: tuple[str, ...]
    merges: tuple[str, ...]  # {**OTHER, ...}
    loc: Location
    values: tuple[tuple[str, ast.expr], ...] = ()  # (header, value node) of the dict's own entries


class _SecureObj(NamedTuple):
    call: ast.Call
    names: tuple[str, ...]  # what it is bound to ("" inline)
    owner: str
    loc: Location


class _Module:
    """One deployed module, one walk."""

    def __init__(self, facts: Facts, tree: ast.Module) -> None:
        self.f = facts
        tracker = _FunctionTracker()
        tracker.visit(tree)
        self._returns = tracker.of  # id(return statement) -> its function
        self.sets: list[_Set] = []
        self.dynamic: list[_Dynamic] = []
        self.dicts: dict[str, _Binding] = {}
        self.secure: list[_SecureObj] = []
        self.refs: set[str] = set()  # names and attributes read anywhere
        self.owner_refs: dict[str, set[str]] = {}  # outermost owner -> names read in it
        self.decorated: set[str] = set()
        self.owners: dict[str, Location] = {}
        self.assigned: dict[str, ast.expr] = {}  # plain name -> the last value bound to it (builders)
        self._owner = ""
        self._stmts(tree.body)

    # -- walking -----------------------------------------------------------------
    def _stmts(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self._stmt(stmt)

    def _stmt(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._def(stmt)
            return
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                self._target(t, stmt.value)
            self._expr(stmt.value, bound=tuple(_bound_name(t) for t in targets if _bound_name(t)))
            return
        if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Dict) and self._function_name(stmt):
            self._dict_binding((self._function_name(stmt),), stmt.value)
        for node in ast.iter_child_nodes(stmt):
            if isinstance(node, ast.expr):
                self._expr(node)
            elif isinstance(node, ast.stmt):
                self._stmt(node)
            elif isinstance(node, ast.ExceptHandler):
                if node.type is not None:
                    self._expr(node.type)
                self._stmts(node.body)
            elif type(node).__name__ == "match_case":
                self._stmts(node.body)  # type: ignore[attr-defined]

    def _def(self, stmt: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        top = not self._owner
        if top:
            self._owner = stmt.name
            self.owners[stmt.name] = self.f.loc(stmt)
            if stmt.decorator_list:
                self.decorated.add(stmt.name)
        for deco in stmt.decorator_list:
            self._expr(deco)
        if isinstance(stmt, ast.ClassDef):
            for base in [*stmt.bases, *(k.value for k in stmt.keywords)]:
                self._expr(base)
        else:
            for d in [*stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d is not None)]:
                self._expr(d)
        self._stmts(stmt.body)
        if top:
            self._owner = ""

    def _function_name(self, stmt: ast.stmt) -> str:
        return self._returns.get(id(stmt), "")

    def _target(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Subscript):
            header = _lit_name(target.slice)
            if header:
                self._record(header, value, target)
            elif _is_headers(target.value) and _computed(target.slice):
                self.dynamic.append(_Dynamic(self.f.loc(target), self._owner, _src(target)))
            self._expr(target.value)
            self._expr(target.slice)
        elif isinstance(target, ast.Name):
            self.assigned[target.id] = value
        elif isinstance(target, ast.Attribute):
            self._expr(target.value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self._target(t, value)
        if isinstance(value, ast.Dict) and _bound_name(target):
            self._dict_binding((_bound_name(target),), value)

    def _expr(self, node: ast.expr, bound: tuple[str, ...] = ()) -> None:
        owner_refs = self.owner_refs.setdefault(self._owner, set()) if self._owner else None
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                self.refs.add(sub.id)
                if owner_refs is not None:
                    owner_refs.add(sub.id)
            elif isinstance(sub, ast.Attribute):
                if isinstance(sub.ctx, ast.Load):
                    self.refs.add(sub.attr)
                if owner_refs is not None:
                    owner_refs.add(sub.attr)
            elif isinstance(sub, ast.Call):
                self._call(sub, bound if sub is node else ())
            elif isinstance(sub, ast.Tuple) and len(sub.elts) == 2 and _lit_name(sub.elts[0]):
                self._record(_lit_name(sub.elts[0]), sub.elts[1], sub)  # raw ASGI header pairs
            elif isinstance(sub, ast.Dict) and sub is not node:
                self._inline_dict(sub)
        if isinstance(node, ast.Dict) and not bound:
            self._inline_dict(node)

    def _inline_dict(self, node: ast.Dict) -> None:
        for k, v in zip(node.keys, node.values):
            header = _lit_name(k)
            if header:
                self._record(header, v, k if k is not None else node)

    def _call(self, call: ast.Call, bound: tuple[str, ...]) -> None:
        func = call.func
        name = dotted(func)
        last = name.split(".")[-1] if name else (func.attr if isinstance(func, ast.Attribute) else "")
        if isinstance(func, ast.Attribute):
            on_headers = _is_headers(func.value)
            if func.attr in ("setdefault", "append", "add", "__setitem__") and on_headers and call.args:
                header = _lit_name(call.args[0])
                if header:
                    self._record(header, call.args[1] if len(call.args) > 1 else None, call)
                elif not isinstance(call.args[0], ast.Tuple) and _computed(call.args[0]):
                    self.dynamic.append(_Dynamic(self.f.loc(call), self._owner, _src(call)))
            elif func.attr == "set_header" and call.args:
                header = _lit_name(call.args[0])
                if header:
                    self._record(header, call.args[1] if len(call.args) > 1 else None, call)
            elif func.attr == "update" and on_headers and (call.args or call.keywords):
                arg = call.args[0] if call.args else None
                if not isinstance(arg, ast.Dict):
                    self.dynamic.append(_Dynamic(self.f.loc(call), self._owner, _src(call)))
        if last.endswith("Response"):
            for k in call.keywords:
                if k.arg == "headers" and not isinstance(k.value, (ast.Dict, ast.Constant)):
                    self.dynamic.append(_Dynamic(self.f.loc(k.value), self._owner, f"{last}(headers={_src(k.value)})"))
        if self._is_secure(call):
            self.secure.append(_SecureObj(call, bound, self._owner, self.f.loc(call)))

    def _is_secure(self, call: ast.Call) -> bool:
        name = dotted(call.func)
        parts = name.split(".")
        if not name or not ({"Secure"} & set(parts)) or parts[-1] not in ("Secure", "with_default_headers", "from_preset"):
            return False
        sym = self.f.symbols.get(parts[0])
        return sym is not None and sym[0].split(".")[0] == "secure"

    def _record(self, header: str, value: ast.expr | None, node: ast.AST) -> None:
        self.sets.append(_Set(header, value, self.f.loc(node), self._owner))

    def _dict_binding(self, names: tuple[str, ...], node: ast.Dict) -> None:
        headers = tuple(h for h in (_lit_name(k) for k in node.keys) if h)
        merges = tuple(_bound_name(v) for k, v in zip(node.keys, node.values) if k is None and _bound_name(v))
        values = tuple((h, v) for k, v in zip(node.keys, node.values) for h in [_lit_name(k)] if h)
        if headers or merges:
            for n in names:
                self.dicts[n] = _Binding(headers, merges, self.f.loc(node), values)


def _bound_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


class _FunctionTracker(ast.NodeVisitor):
    """Which function each ``return {...}`` belongs to (by node id)."""

    def __init__(self) -> None:
        self.of: dict[int, str] = {}
        self._stack: list[str] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._stack.append(node.name)
        self.generic_visit(node)
        self._stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Return(self, node: ast.Return) -> None:
        if self._stack:
            self.of[id(node)] = self._stack[-1]


# -- the secure package -----------------------------------------------------------------
def _version(mods: list[_Module]) -> str:
    """'0' (secure 0.x: ``.framework.fastapi(response)``), '1' (1.x+: ``set_headers``), '' unknown."""
    if not any(m.secure for m in mods):
        return ""
    refs = set().union(*(m.refs for m in mods))
    old, new = "framework" in refs, bool(_V1_ATTRS & refs)
    return "0" if old and not new else "1" if new and not old else ""


def _fold_text(m: _Module, node: ast.expr) -> object:
    lit = m.f.fold(node)
    if isinstance(lit.value, (str, int)) and not isinstance(lit.value, bool):
        return lit.value
    # the folder's reason (it never quotes a literal: "'…' + suffix is not constant"), not the source text,
    # which may hold a secret (a report-uri token joined to a variable)
    return lit.value if isinstance(lit.value, Unknown) else Unknown(f"{type(node).__name__} is not a text")


def _builder(m: _Module, node: ast.expr | None, version: str, depth: int = 0) -> tuple[str, object] | None:
    """A secure builder chain -> (header, value); None when ``node`` is not one (or a report-only CSP)."""
    if node is None or depth > 3:
        return None
    if isinstance(node, ast.Name) and node.id in m.assigned:
        return _builder(m, m.assigned[node.id], version, depth + 1)
    chain: list[tuple[str, list[ast.expr]]] = []
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr not in _BUILDERS:
        chain.append((node.func.attr, list(node.args)))
        node = node.func.value
    if not isinstance(node, ast.Call):
        return None
    header = _BUILDERS.get(dotted(node.func).split(".")[-1])
    if header is None:
        return None
    chain.reverse()
    return _builder_value(m, header, chain, version)


def _builder_value(m: _Module, header: str, chain: list[tuple[str, list[ast.expr]]], version: str) -> tuple[str, object] | None:
    parts: list[str] = []
    for method, args in chain:
        folded = [_fold_text(m, a) for a in args]
        if any(isinstance(a, Unknown) for a in folded):
            return header, Unknown(f"{method}({', '.join(_src(a) for a in args)}) is not literal")
        words = [str(a) for a in folded]
        if method == "report_only":
            return None  # Content-Security-Policy-Report-Only enforces nothing
        if method == "set":
            parts = [*parts, *words] if header in (HSTS, REFERRER) else words
        elif header == CSP:
            directive = words[0] if method == "custom_directive" and words else method.replace("_", "-")
            parts.append(" ".join([directive, *(words[1:] if method == "custom_directive" else words)]))
        elif header == HSTS:
            parts.append({"max_age": f"max-age={words[0] if words else ''}", "include_subdomains": "includeSubDomains",
                          "preload": "preload"}.get(method, method))
        elif header in (XFO, XCTO):
            parts = [method.upper() if header == XFO else method]
        elif header == REFERRER:
            parts.append(method.replace("_", "-"))
    if parts:
        return header, ("; " if header in (CSP, HSTS) else ", ").join(parts)
    old, new = _BUILDER_DEFAULTS[header]
    value = old if version == "0" else new if version == "1" else old if old == new else None
    return header, value if value is not None else Unknown(f"the default of {header} depends on the installed secure version")


def _secure_sets(m: _Module, obj: _SecureObj, version: str) -> tuple[list[HeaderSet], list[str]]:
    call = obj.call
    what = _src(call)
    method = dotted(call.func).split(".")[-1]
    sets: list[HeaderSet] = []
    unsure: list[str] = []
    source = f"secure {what if len(what) <= 60 else what[:57] + '...'}"
    if method == "with_default_headers":
        return [HeaderSet(h, v, obj.loc, source, True) for h, v in _WITH_DEFAULTS.items()], []
    if method == "from_preset":
        preset = dotted(call.args[0]).split(".")[-1] if call.args else ""
        if preset not in _PRESET_HEADERS:
            return [], [f"{m.f.display}:{obj.loc.line}: {what}: which headers this preset sets is not known"]
        for h in _PRESET_HEADERS[preset]:
            value: object = _PRESET_XFO[preset] if h == XFO else Unknown(f"the {preset} preset's value depends on the secure version")
            sets.append(HeaderSet(h, value, obj.loc, source, True))
        rest = [h for h in GUIDE_HEADERS if h not in _PRESET_HEADERS[preset]]
        unsure.append(f"{m.f.display}:{obj.loc.line}: {what}: secure 2.x presets may also set {', '.join(rest)}")
        return sets, unsure
    given = {k.arg: k.value for k in call.keywords if k.arg}
    if any(k.arg is None for k in call.keywords):
        unsure.append(f"{m.f.display}:{obj.loc.line}: {what} takes **options the model cannot read")
    for kw, node in given.items():
        header = _SECURE_KW.get(kw)
        if header is None or (isinstance(node, ast.Constant) and node.value is None):
            continue
        built = _builder(m, node, version)
        if built is None:
            sets.append(HeaderSet(header, Unknown(f"{kw}={_src(node)}"), obj.loc, source, False))
        else:
            sets.append(HeaderSet(built[0], built[1], m.f.loc(node), source, True))
    missing = [(kw, h) for kw, h in _SECURE0_DEFAULTS.items() if kw not in given and not (kw == "content" and "xcto" in given)]
    if version == "0":
        for _, h in missing:
            old = _BUILDER_DEFAULTS[h][0]
            sets.append(HeaderSet(h, old, obj.loc, f"{source} (secure 0.x default)", True))
    elif version == "" and missing:
        unsure.append(f"{m.f.display}:{obj.loc.line}: {what}: secure 0.x also sets {', '.join(h for _, h in missing)} by default "
                      "(1.x does not), and the installed version is not known")
    return sets, unsure


# -- middleware options --------------------------------------------------------------------
def _option_sets(mw: MiddlewareDecl) -> list[HeaderSet]:
    out: list[HeaderSet] = []
    name, options, loc = mw.name, mw.options, mw.loc
    for key, value in options:
        norm = re.sub(r"[^a-z0-9]", "", key.lower())
        header = _OPTIONS.get(norm)
        source = f"middleware {name} option {key}"
        if header:
            if value is False or value is None:
                continue
            if value is True:
                out.append(HeaderSet(header, None, loc, source, False))
            elif isinstance(value, Unknown):
                out.append(HeaderSet(header, value, loc, source, False))
            elif isinstance(value, (str, dict, list, tuple)):
                out.append(HeaderSet(header, value, loc, source, True))
        elif norm in _DICT_OPTIONS and isinstance(value, dict):
            for k, v in value.items():
                h = canonical(k)
                if h:
                    out.append(HeaderSet(h, v, loc, f"middleware {name} option {key}", isinstance(v, str)))
    return out


# -- the whole app -----------------------------------------------------------------------------
def top_app(facts: list[Facts], graph: _Graph) -> Location | None:
    """Where the app that runs is created: the entry's attribute if it names an app object,
    else the first app object that is not mounted in another one."""
    from velro_policy.inputs.app.routes import _Resolver

    res = _Resolver(facts, graph)
    targeted = {res.ref(f, dotted(inc.target)) for f in facts for inc in f.includes if dotted(inc.target)}
    apps = [(f, name, o) for f in facts for name, o in f.objects.items() if o.kind == "app" and (f.path, name) not in targeted]
    for e in graph.entries:
        for f, name, o in apps:
            if f.path == e.path and name == e.attr:
                return o.loc
    entry_paths = {e.path for e in graph.entries}
    for f, _, o in apps:
        if f.path in entry_paths:
            return o.loc
    return apps[0][2].loc if apps else None


def read(facts: list[Facts], graph: _Graph, complete: bool) -> HeaderCoverage | None:
    """Where the deployed app sets each guide header (None when no app object is found)."""
    app = top_app(facts, graph)
    if app is None:
        return None
    mods: list[_Module] = []
    for f in facts:
        tree = graph.project.parse(f.path).tree
        if tree is not None:
            mods.append(_Module(f, tree))
    acc = _Acc(set().union(*(m.refs for m in mods)) if mods else set())
    for m in mods:
        for name, b in m.dicts.items():
            acc.dicts.setdefault(name, (m, b))
    for m in mods:
        _code_sets(m, acc)
    for name, (m, b) in acc.dicts.items():
        headers = _dict_headers(name, acc.dicts, set())
        if name in acc.refs:
            values = _dict_values(name, acc.dicts, set())
            acc.sets.extend(HeaderSet(h, values.get(h), b.loc, f"header dict {name}") for h in headers)
        elif headers:
            acc.unused[f"{name} ({m.f.display}:{b.loc.line})"] = None
    version = _version(mods)
    for m in mods:
        for obj in m.secure:
            if obj.names and not set(obj.names) & acc.refs:
                acc.unused[f"{obj.names[0]} ({m.f.display}:{obj.loc.line})"] = None
            elif obj.names or acc.used(m, obj.owner):
                got, why = _secure_sets(m, obj, version)
                acc.sets.extend(got)
                acc.unsure.extend(why)
    _middleware_sets(facts, acc)
    return HeaderCoverage(app, tuple(acc.sets), tuple(dict.fromkeys(acc.unsure)), tuple(acc.unused), complete)


class _Acc:
    def __init__(self, refs: set[str]) -> None:
        self.refs = refs
        self.dicts: dict[str, tuple[_Module, _Binding]] = {}
        self.sets: list[HeaderSet] = []
        self.unsure: list[str] = []
        self.unused: dict[str, None] = {}

    def used(self, m: _Module, owner: str) -> bool:
        """Module-level code, a decorated function or class, or one the deployed code names."""
        return not owner or owner in m.decorated or owner in self.refs


def _code_sets(m: _Module, acc: _Acc) -> None:
    for s in m.sets:
        if acc.used(m, s.owner):
            value = m.f.fold(s.node).value if s.node is not None else None
            acc.sets.append(HeaderSet(s.header, value, s.loc, "code"))
        else:
            acc.unused[f"{s.owner} ({m.f.display}:{m.owners[s.owner].line})"] = None
    for d in m.dynamic:
        if acc.used(m, d.owner) and not (m.owner_refs.get(d.owner, m.refs) & set(acc.dicts)):
            acc.unsure.append(f"{d.loc.path}:{d.loc.line}: {d.text} sets headers whose names are computed")


def _middleware_sets(facts: list[Facts], acc: _Acc) -> None:
    project_names = set().union(*(set(f.classes) | f.functions for f in facts)) if facts else set()
    for f in facts:
        for mw in f.middleware:
            got = _option_sets(mw)
            acc.sets.extend(got)
            if mw.name in project_names or mw.name in _NOT_HEADERS or not _HEADERISH.search(mw.name):
                continue
            if any(k == "secure" for k, _ in mw.options):
                continue  # secure 2.x's middleware applies a Secure object (read above)
            if {s.header for s in got} != set(GUIDE_HEADERS):
                acc.unsure.append(f"{mw.loc.path}:{mw.loc.line}: {mw.name} comes from a package and may set headers the model cannot see")


def _dict_values(name: str, dicts: dict[str, tuple[_Module, _Binding]], seen: set[str]) -> dict[str, object]:
    """Header -> the value a header dict gives it, folded in the dict's module (``Unknown`` when not literal):
    its own entries over those of the dicts it merges (``{**BASE, "X-Frame-Options": "DENY"}``)."""
    if name in seen or name not in dicts:
        return {}
    seen.add(name)
    m, b = dicts[name]
    out: dict[str, object] = {}
    for other in b.merges:
        out.update(_dict_values(other, dicts, seen))
    for header, node in b.values:
        out[header] = m.f.fold(node).value  # as for a value set in code: the folder's Unknown never quotes a literal
    return out


def _dict_headers(name: str, dicts: dict[str, tuple[_Module, _Binding]], seen: set[str]) -> tuple[str, ...]:
    if name in seen or name not in dicts:
        return ()
    seen.add(name)
    b = dicts[name][1]
    out = list(b.headers)
    for other in b.merges:
        out.extend(_dict_headers(other, dicts, seen))
    return tuple(dict.fromkeys(out))

