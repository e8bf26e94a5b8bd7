"""What a route's handler reaches: AI/generation SDK calls, directly or through the project's
own functions and methods (a bounded call graph over the deployed modules' trees).

A route is of kind ``generation`` when its handler, or a project function/method it calls (at
most ``MAX_DEPTH`` calls down, background tasks it enqueues included; a call that stays in the
same object or function, ``self.m()`` or a nested function, is not counted), makes a generation
call:

- a generation method of a known SDK (``fal_client.submit``, ``client.images.generate``,
  ``client.chat.completions.create``, ``replicate.run``, ``client.messages.create``,
  ``model.generate_content``, a LangChain/LangGraph runnable's ``invoke``, ...), where the
  receiver is *traced* to the SDK's import: through assignments (module, function, enclosing
  function), ``self.x`` attributes set in the class, a function's return, ``lambda: Client()``;
- a POST (``httpx``/``requests``/``aiohttp``/any client ``.post``) to a known generation API host.

Read-only calls of the same SDKs (``fal_client.result``/``status``, ``client.files.retrieve``,
embeddings) are not generation.  Calls are resolved to project functions exactly: by name and
import, ``self.m()`` in the class (and its project bases), ``x.m()`` where ``x`` is built from
a project class or annotated with one (``svc: GenService = Depends(...)``); an ``x.m()`` whose
receiver is unknown only when every project method named ``m`` reaches a generation call.
Classes flow through values: a receiver that may be one of several classes (``A if flag else B``,
an element of a list/tuple/dict of classes iterated or indexed, ``REGISTRY.get(key, Default)``, what
a project function returns) runs each one's method, and any that generates makes the route one;
an inherited method run on a subclass calls the subclass's overrides (``self.m()``).
The reason names the call and its place, and the helpers on the way:
``calls fal_client.submit (app/services/gen.py:42) via GenService.start()``.
"""
from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, NamedTuple

from velro_policy.inputs.app.facts import Facts
from velro_policy.inputs.pyfold import dotted

if TYPE_CHECKING:
    from velro_policy.inputs.app import _Graph

# Project functions between the handler and the SDK call, calls on self and nested functions not
# counted.  5 reaches mealie's bulk import (handler -> task -> create_from_html -> scraper -> strategy
# -> service); 6-10 find nothing more on the 8 real repositories and cost more (bench/realworld.md).
MAX_DEPTH = 5
_MAX_HOPS = 6  # assignments / imports followed to trace one receiver

# SDK (top-level import name, or a prefix ending with "*") -> generation call chains: the last
# attributes of the call, after the receiver traced to the SDK (``client.chat.completions.create``
# with ``client = OpenAI()`` is ``OpenAI.chat.completions.create``: it ends with ``chat.completions.create``).
_OPENAI = ("chat.completions.create", "chat.completions.parse", "chat.completions.stream", "completions.create",
           "images.generate", "images.edit", "images.create_variation", "responses.create", "responses.stream",
           "audio.speech.create", "videos.create", "ChatCompletion.create", "ChatCompletion.acreate",
           "Completion.create", "Completion.acreate", "Image.create", "Image.acreate")
_RUNNABLE = ("invoke", "ainvoke", "stream", "astream", "astream_events", "batch", "abatch", "predict", "apredict")
SDKS: dict[str, tuple[str, ...]] = {
    "openai": _OPENAI,
    "groq": _OPENAI,
    "together": _OPENAI,
    "anthropic": ("messages.create", "messages.stream", "completions.create"),
    "fal_client": ("submit", "submit_async", "run", "run_async", "subscribe", "subscribe_async", "stream", "stream_async"),
    "replicate": ("run", "async_run", "stream", "async_stream", "predictions.create", "predictions.async_create"),
    "google.generativeai": ("generate_content", "generate_content_async", "send_message", "send_message_async"),
    "google.genai": ("generate_content", "generate_content_stream", "generate_images", "generate_videos"),
    "vertexai": ("generate_content", "generate_content_async", "generate_images", "send_message"),
    "mistralai": ("chat.complete", "chat.complete_async", "chat.stream", "chat.stream_async", "chat", "chat_stream"),
    "cohere": ("chat", "chat_stream", "generate"),
    "litellm": ("completion", "acompletion", "image_generation", "aimage_generation", "text_completion", "atext_completion"),
    "huggingface_hub": ("text_generation", "text_to_image", "text_to_video", "image_to_image", "chat_completion",
                        "chat.completions.create"),
    "ollama": ("chat", "generate"),
    "elevenlabs": ("generate", "text_to_speech.convert", "text_to_speech.stream"),
    "stability_sdk": ("generate",),
    "langchain*": _RUNNABLE,
    "langgraph": _RUNNABLE,
    "llama_index": ("complete", "acomplete", "chat", "achat", "stream_complete", "stream_chat"),
    "instructor": _OPENAI,  # a patched OpenAI/Anthropic client
    # Agent frameworks: an agent built on a chat model answers each run with model calls.
    "mcp_use": ("run", "astream", "stream"),
    "pydantic_ai": ("run", "run_sync", "run_stream", "iter"),
    "crewai": ("kickoff", "kickoff_async", "kickoff_for_each", "kickoff_for_each_async"),
    "smolagents": ("run",),
    "agno": ("run", "arun", "print_response"),
    "autogen_agentchat": ("run", "run_stream", "on_messages"),
    "autogen": ("initiate_chat", "a_initiate_chat", "generate_reply", "a_generate_reply"),
}
# Hosts of generation APIs: a POST whose URL is on one of them (or a subdomain) is a generation call.
GENERATION_HOSTS = ("api.openai.com", "openai.azure.com", "api.anthropic.com", "fal.run", "api.replicate.com",
                    "generativelanguage.googleapis.com", "aiplatform.googleapis.com", "api.stability.ai", "api.groq.com",
                    "api.mistral.ai", "api.together.xyz", "api.together.ai", "api.cohere.ai", "api.cohere.com", "openrouter.ai",
                    "api.deepseek.com", "api-inference.huggingface.co", "router.huggingface.co", "api.elevenlabs.io",
                    "api.runwayml.com", "api.dev.runwayml.com", "api.lumalabs.ai", "api.perplexity.ai", "api.x.ai",
                    "api.fireworks.ai", "api.ideogram.ai", "api.bfl.ml", "api.bfl.ai", "api.leonardo.ai", "api.segmind.com")
_NOT_GENERATION_PATH = re.compile(r"/(embeddings|moderations|files|uploads|models|status|batches|fine_tuning|audio/(transcriptions|translations)|"
                                  r"requests/[^/]+/(status|response))\b")
# LangChain/LlamaIndex pieces that are not a model: retrievers, vector stores, embeddings, loaders, splitters.
_NOT_GENERATION_CHAIN = re.compile(r"retriev|vectorstore|vector_store|embedding|loader|splitter|similarity|\bindex\b|chroma|faiss|pinecone|"
                                   r"qdrant|weaviate|pgvector", re.IGNORECASE)
_URL = re.compile(r"https?://([A-Za-z0-9.-]+)")
# Calls that run a function they are given (a background task, a thread, a queue): an edge to it.
_ENQUEUE = frozenset({"add_task", "enqueue", "enqueue_call", "run_in_executor", "to_thread", "run_in_threadpool", "run_sync",
                      "submit", "start_soon", "create_task", "ensure_future", "Thread", "Process", "Timer"})
_TASK_METHODS = frozenset({"delay", "apply_async", "send", "kiq", "spawn", "spawn_async"})  # celery/dramatiq/taskiq/modal
_TASK_BY_NAME = frozenset({"enqueue_job", "send_task"})  # arq, celery: the task's name as a string
_EACH = "*each*"  # the key of a loop variable's element node (``ITEMS[*each*]``)
_PICK = frozenset({"get", "pop", "setdefault"})  # TABLE.get(key, Default): one of the values, or the default
_SAME = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed", "dict", "copy", "values"})  # the same elements


class Hit(NamedTuple):
    what: str  # "fal_client.submit", "openai chat.completions.create", "POST fal.run"
    where: str  # "app/services/gen.py:42"


class _Fn:
    """A function or method of the project, with its scope."""

    def __init__(self, mod: _Mod, node: ast.FunctionDef | ast.AsyncFunctionDef, cls: _Cls | None, outer: _Fn | None) -> None:
        self.mod, self.node, self.cls, self.outer = mod, node, cls, outer
        self.name = f"{cls.name}.{node.name}" if cls is not None else node.name
        self.locals: dict[str, list[object]] = {}  # name -> exprs assigned, _Fn (a nested def), ("param", annotation)
        self.returns: list[ast.expr] = []
        self.calls: list[ast.Call] = []
        args = node.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            self.locals.setdefault(a.arg, []).append(("param", a.annotation))
        for star in (args.vararg, args.kwarg):
            if star is not None:
                self.locals.setdefault(star.arg, []).append(("param", None))


class _Cls:
    def __init__(self, mod: _Mod, name: str, bases: list[ast.expr]) -> None:
        self.mod, self.name, self.bases = mod, name, bases
        self.methods: dict[str, _Fn] = {}
        self.attrs: dict[str, list[tuple[ast.expr, _Fn | None]]] = {}  # self.x = expr (in a method) / x = expr (class body)


class _Mod:
    """One module's functions, classes and module-level bindings."""

    def __init__(self, facts: Facts, tree: ast.Module) -> None:
        self.facts = facts
        self.binds: dict[str, list[object]] = {}  # module-level name -> exprs, _Fn, _Cls
        self.by_node: dict[int, _Fn] = {}
        self.functions: list[_Fn] = []
        self.made: dict[int, ast.expr] = {}  # the loop variables' element nodes by id: memo keys are node ids, they must live
        self.stars: list[tuple[str, int]] = []  # from m import *: (module, level)
        self._block(tree.body, None, None)

    def _block(self, body: list[ast.stmt], fn: _Fn | None, cls: _Cls | None) -> None:
        for stmt in body:
            self._stmt(stmt, fn, cls)

    def _bind(self, fn: _Fn | None, cls: _Cls | None, name: str, value: object) -> None:
        if fn is not None:
            fn.locals.setdefault(name, []).append(value)
        elif cls is not None:
            if isinstance(value, ast.expr):
                cls.attrs.setdefault(name, []).append((value, None))
        else:
            self.binds.setdefault(name, []).append(value)

    def _stmt(self, stmt: ast.stmt, fn: _Fn | None, cls: _Cls | None) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            new = _Fn(self, stmt, cls if fn is None else None, fn)
            self.by_node[id(stmt)] = new
            self.functions.append(new)
            if fn is None and cls is not None:
                cls.methods[stmt.name] = new
            else:
                self._bind(fn, None, stmt.name, new)
            self._block(stmt.body, new, None)
            return
        if isinstance(stmt, ast.ClassDef):
            new_cls = _Cls(self, stmt.name, list(stmt.bases))
            if fn is None and cls is None:
                self.binds.setdefault(stmt.name, []).append(new_cls)
            elif fn is not None:
                fn.locals.setdefault(stmt.name, []).append(new_cls)
            self._block(stmt.body, None, new_cls)
            return
        self._header(stmt, fn, cls)
        for node in _own_nodes(stmt):
            if isinstance(node, ast.comprehension):
                self._loop(node.target, node.iter, fn, cls)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    self._target(t, node.value, fn, cls)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                self._target(node.optional_vars, node.context_expr, fn, cls)
            elif isinstance(node, ast.Return) and node.value is not None and fn is not None:
                fn.returns.append(node.value)
            elif isinstance(node, ast.Call) and fn is not None:
                fn.calls.append(node)
        for block in _blocks(stmt):
            self._block(block, fn, cls)

    def _header(self, stmt: ast.stmt, fn: _Fn | None, cls: _Cls | None) -> None:
        """A ``for`` statement's variable; a module's ``from m import *``."""
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._loop(stmt.target, stmt.iter, fn, cls)
        elif isinstance(stmt, ast.ImportFrom) and fn is None and cls is None and any(a.name == "*" for a in stmt.names):
            self.stars.append((stmt.module or "", stmt.level))

    def _loop(self, target: ast.expr, it: ast.expr, fn: _Fn | None, cls: _Cls | None) -> None:
        """``for x in ITEMS`` binds ``x`` to an element of ITEMS (``ITEMS[*]``, an ``_EACH`` subscript):
        ``for strategy in STRATEGIES: strategy(...).run()`` runs every class the list holds.
        ``for k, v in TABLE.items()`` binds ``v`` to an element of ``TABLE.values()``, ``for i, v in
        enumerate(ITEMS)`` to one of ITEMS.  Iterating a dict itself gives its keys."""
        if isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(it, ast.Call) and it.args \
                and dotted(it.func) == "enumerate":
            target, it = target.elts[1], it.args[0]
        elif isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(it, ast.Call) \
                and isinstance(it.func, ast.Attribute) and it.func.attr == "items":
            target, it = target.elts[1], ast.Call(func=ast.Attribute(value=it.func.value, attr="values", ctx=ast.Load()),
                                                  args=[], keywords=[])
        if not isinstance(target, ast.Name):
            return
        each = ast.Subscript(value=it, slice=ast.Constant(_EACH), ctx=ast.Load())
        ast.copy_location(each, it)
        self.made[id(each)] = each  # (a made .values() call lives as its value)
        self._bind(fn, cls, target.id, each)

    def _target(self, target: ast.expr, value: ast.expr, fn: _Fn | None, cls: _Cls | None) -> None:
        if isinstance(target, ast.Name):
            self._bind(fn, cls, target.id, value)
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self" \
                and fn is not None:
            owner = fn
            while owner.outer is not None:
                owner = owner.outer
            if owner.cls is not None:
                owner.cls.attrs.setdefault(target.attr, []).append((value, fn))


def _own_nodes(stmt: ast.stmt) -> list[ast.AST]:
    """The nodes of one statement, without its nested statement blocks (walked separately) and
    without the bodies of lambdas, comprehensions aside (they run where they are)."""
    out: list[ast.AST] = []
    stack: list[ast.AST] = [stmt]
    skip = {id(s) for block in _blocks(stmt) for s in block}
    while stack:
        node = stack.pop()
        if id(node) in skip or isinstance(node, ast.Lambda):
            continue
        out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return []
    out = [getattr(stmt, "body", []), getattr(stmt, "orelse", []), getattr(stmt, "finalbody", [])]
    out.extend(h.body for h in getattr(stmt, "handlers", []))
    out.extend(c.body for c in getattr(stmt, "cases", []))
    return [b for b in out if isinstance(b, list) and b and isinstance(b[0], ast.stmt)]


def _sdk_of(module: str) -> str:
    for key in SDKS:
        if key.endswith("*"):
            if module.split(".")[0].startswith(key[:-1]):
                return key
        elif module == key or module.startswith(key + "."):
            return key
    return ""


class _Sdk(NamedTuple):
    key: str  # the SDKS key
    module: str  # the module imported ("openai", "langchain_openai")
    chain: tuple[str, ...]  # attributes from the module to the value
    direct: bool  # the receiver is the module itself (fal_client.submit), not an object built from it


class Reach:
    """Generation calls reached from route handlers, over the deployed modules."""

    def __init__(self, facts: list[Facts], graph: _Graph) -> None:
        self.graph = graph
        self.mods: dict[str, _Mod] = {}
        self.methods_by_name: dict[str, list[_Fn]] = {}
        self.functions_by_name: dict[str, list[_Fn]] = {}
        for f in facts:
            tree = graph.project.parse(f.path).tree
            if tree is None:
                continue
            try:
                mod = _Mod(f, tree)
            except RecursionError:
                continue
            self.mods[f.path] = mod
            for fn in mod.functions:
                if fn.cls is not None:
                    self.methods_by_name.setdefault(fn.node.name, []).append(fn)
                elif fn.outer is None:
                    self.functions_by_name.setdefault(fn.node.name, []).append(fn)
        self._memo: dict[tuple[int, int, int], tuple[Hit, tuple[str, ...]] | None] = {}
        self._traced: dict[tuple[int, int, int], _Sdk | None] = {}
        self._typed: dict[tuple[int, int, int, int], list[_Cls]] = {}
        self._held_memo: dict[tuple[int, int, int, int, bool], list[_Cls]] = {}
        self._keep: list[ast.AST] = []
        self._active: set[int] = set()

    # -- the entry point ------------------------------------------------------------------------
    def route(self, f: Facts, handler: ast.FunctionDef | ast.AsyncFunctionDef | None, func: str) -> str:
        """The reason the route's handler is a generation route ("" when it is not)."""
        try:
            fn = self._handler(f, handler, func)
            found = self._reach(fn, MAX_DEPTH, None) if fn is not None else None
        except RecursionError:  # a hostile nesting of values: no reason rather than a traceback
            return ""
        if found is None:
            return ""
        hit, via = found
        return f"calls {hit.what} ({hit.where})" + (f" via {' -> '.join(n + '()' for n in via)}" if via else "")

    def _handler(self, f: Facts, handler: ast.AST | None, func: str) -> _Fn | None:
        mod = self.mods.get(f.path)
        if mod is None:
            return None
        if handler is not None:
            return mod.by_node.get(id(handler))
        if not func:  # add_api_route(path, endpoint): the endpoint by name
            return None
        try:
            node = ast.parse(func, mode="eval").body
        except SyntaxError:
            return None
        self._keep.append(node)  # memo keys are node ids: the node must outlive the build
        targets = self._callees(node, None, mod, None)
        return targets[0][0] if len(targets) == 1 else None

    def _reach(self, fn: _Fn, depth: int, ctx: _Cls | None) -> tuple[Hit, tuple[str, ...]] | None:
        """``ctx``: the class of the object ``self`` is in ``fn`` (a subclass of the method's class when
        the method is inherited): ``self.m()`` then runs the subclass's override of ``m``."""
        key = (id(fn), depth, id(ctx))
        if key in self._memo:
            return self._memo[key]
        if id(fn) in self._active:
            return None
        self._active.add(id(fn))
        try:
            result = self._reach_uncached(fn, depth, ctx)
        finally:
            self._active.discard(id(fn))
        self._memo[key] = result
        return result

    def _reach_uncached(self, fn: _Fn, depth: int, ctx: _Cls | None) -> tuple[Hit, tuple[str, ...]] | None:
        for call in fn.calls:
            hit = self._generation_call(call, fn)
            if hit is not None:
                return hit, ()
        for call in fn.calls:
            for group, cost in self._edges(call, fn, ctx, depth > 0):
                if cost > depth:
                    continue
                found = [self._reach(g, depth - cost, c) for g, c in group]
                if found and all(x is not None for x in found):
                    hit, via = found[0]  # type: ignore[misc]
                    first, cls = group[0]
                    return hit, (f"{cls.name}.{first.node.name}" if cls is not None and first.cls is not None else first.name, *via)
        return None

    def direct_helpers(self, f: Facts, handler: ast.FunctionDef | ast.AsyncFunctionDef | None, func: str,
                       levels: int) -> list[tuple[_Fn, tuple[str, ...]]]:
        """The project functions the handler calls itself (not in a background task), and those they
        call, ``levels`` calls down, resolved exactly (never by a method's name alone), each with the
        helpers on the way: where a limiter the handler relies on may run."""
        try:
            fn = self._handler(f, handler, func)
        except RecursionError:
            return []
        if fn is None:
            return []
        out: dict[int, tuple[_Fn, tuple[str, ...]]] = {}
        frontier: list[tuple[_Fn, _Cls | None, tuple[str, ...]]] = [(fn, None, ())]
        for _ in range(levels):
            nxt: list[tuple[_Fn, _Cls | None, tuple[str, ...]]] = []
            for cur, ctx, via in frontier:
                for call in cur.calls:
                    try:
                        targets = self._callees(call.func, cur, cur.mod, ctx)
                    except RecursionError:
                        continue
                    for target, tctx in targets:
                        if target is fn or id(target) in out:
                            continue
                        out[id(target)] = (target, (*via, target.name))
                        nxt.append((target, tctx, (*via, target.name)))
            frontier = nxt
        return list(out.values())

    # -- generation calls -----------------------------------------------------------------------
    def _generation_call(self, call: ast.Call, fn: _Fn) -> Hit | None:
        where = f"{fn.mod.facts.display}:{call.lineno}"
        if isinstance(call.func, ast.Name):  # submit(...): only an SDK function imported by name, not what a helper returns
            targets = self._lookup(call.func.id, fn, fn.mod, 0)
            sdk = next((t for t in targets if isinstance(t, _Sdk)), None) if len(targets) == 1 else None
        else:
            sdk = self._trace(call.func, fn, fn.mod, 0)
        if sdk is not None:
            if _NOT_GENERATION_CHAIN.search(".".join((sdk.module, *sdk.chain))):
                return None
            for pattern in SDKS[sdk.key]:
                parts = tuple(pattern.split("."))
                if sdk.chain[-len(parts):] == parts and len(sdk.chain) >= len(parts):
                    what = f"{sdk.module}.{pattern}" if sdk.direct and len(sdk.chain) == len(parts) else f"{sdk.module} {pattern}"
                    return Hit(what, where)
            return None
        host = self._post_host(call, fn)
        return Hit(f"POST {host}", where) if host else None

    def _post_host(self, call: ast.Call, fn: _Fn) -> str:
        name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        if name == "post":
            url = call.args[0] if call.args else kw.get("url")
        elif name in ("request", "stream", "build_request") and call.args and isinstance(call.args[0], ast.Constant) \
                and str(call.args[0].value).upper() == "POST":
            url = call.args[1] if len(call.args) > 1 else kw.get("url")
        else:
            return ""
        if url is None:
            return ""
        text = "".join(self._strings(url, fn, fn.mod, 0))
        m = _URL.search(text)
        if m is None or _NOT_GENERATION_PATH.search(text[m.end():]):
            return ""
        host = m.group(1).lower().rstrip(".")
        return host if any(host == h or host.endswith("." + h) for h in GENERATION_HOSTS) else ""

    def _strings(self, node: ast.expr, fn: _Fn | None, mod: _Mod, hops: int) -> list[str]:
        """The literal text an expression is built from (f-string parts, ``+`` parts, names followed)."""
        if hops > _MAX_HOPS:
            return []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr):
            return [s for v in node.values for s in self._strings(v, fn, mod, hops + 1)]
        if isinstance(node, ast.FormattedValue):
            return self._strings(node.value, fn, mod, hops + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._strings(node.left, fn, mod, hops + 1) + self._strings(node.right, fn, mod, hops + 1)
        if isinstance(node, ast.Name):
            for target in self._lookup(node.id, fn, mod, hops):
                if isinstance(target, tuple) and len(target) == 3 and isinstance(target[0], ast.expr):
                    got = self._strings(target[0], target[1], target[2], hops + 1)
                    if got:
                        return got
            return []
        if isinstance(node, ast.Attribute):  # settings.FAL_URL: a class attribute's literal default
            values = {v.value for m in self.mods.values() if node.attr in m.facts.class_attrs
                      for v in [m.facts.class_attrs[node.attr]] if isinstance(v.value, str)}
            return [next(iter(values))] if len(values) == 1 else []
        return []

    # -- tracing a receiver to an SDK -----------------------------------------------------------
    def _trace(self, node: ast.expr, fn: _Fn | None, mod: _Mod, hops: int) -> _Sdk | None:
        """The SDK an expression's value comes from, with the attribute chain down to it
        (memoised per expression and scope: names assigned many times would branch without end)."""
        if hops > _MAX_HOPS:
            return None
        key = (id(node), id(fn), id(mod))
        if key in self._traced:
            return self._traced[key]
        self._traced[key] = None  # in progress: a cycle (x = x.y) is no SDK
        got = self._trace_uncached(node, fn, mod, hops)
        self._traced[key] = got
        return got

    def _trace_uncached(self, node: ast.expr, fn: _Fn | None, mod: _Mod, hops: int) -> _Sdk | None:
        node, attrs = _strip(node)
        if isinstance(node, (ast.BinOp, ast.IfExp)):  # prompt | llm (a LangChain pipe); a if c else b
            sides = (node.left, node.right) if isinstance(node, ast.BinOp) else (node.body, node.orelse)
            for side in sides:
                got = self._trace(side, fn, mod, hops + 1)
                if got is not None:
                    return got._replace(chain=got.chain + tuple(attrs), direct=False)
            return None
        if not isinstance(node, ast.Name):
            return None
        if _is_self(node, fn) and fn is not None and attrs:
            cls = _class_of(fn)
            if cls is None:
                return None
            for value, where in self._attr_values(cls, attrs[0], 0):
                got = self._trace(value, where, cls.mod, hops + 1)
                if got is not None:
                    return got._replace(chain=got.chain + tuple(attrs[1:]), direct=False)
            return None
        return self._trace_name(node.id, tuple(attrs), fn, mod, hops)

    def _trace_name(self, name: str, attrs: tuple[str, ...], fn: _Fn | None, mod: _Mod, hops: int) -> _Sdk | None:
        for target in self._lookup(name, fn, mod, hops):
            if isinstance(target, _Sdk):
                return target._replace(chain=target.chain + attrs)
            if isinstance(target, tuple) and len(target) == 3 and isinstance(target[0], ast.expr):
                got = self._trace(target[0], target[1], target[2], hops + 1)
                if got is not None:
                    return got._replace(chain=got.chain + attrs, direct=False)
            elif isinstance(target, _Fn):  # get_client().chat...: what the function returns
                for value in target.returns:
                    got = self._trace(value, target, target.mod, hops + 1)
                    if got is not None:
                        return got._replace(chain=got.chain + attrs, direct=False)
            elif isinstance(target, _Mod) and attrs:  # a project module: its attribute
                return self._trace_name(attrs[0], attrs[1:], None, target, hops + 1)
        return None

    def _attr_values(self, cls: _Cls, attr: str, depth: int) -> list[tuple[ast.expr, _Fn | None]]:
        """What ``self.attr`` is set to in the class or its project bases (a property: what it returns)."""
        if depth > 5:
            return []
        out = list(cls.attrs.get(attr, []))
        method = cls.methods.get(attr)
        if method is not None and any(dotted(d) in ("property", "cached_property", "functools.cached_property")
                                      for d in method.node.decorator_list):
            out += [(r, method) for r in method.returns]
        for base in self._bases(cls):
            out += self._attr_values(base, attr, depth + 1)
        return out

    def _bases(self, cls: _Cls) -> list[_Cls]:
        out: list[_Cls] = []
        for b in cls.bases:
            name = dotted(b)
            if not name:
                continue
            got = self._resolve_dotted(name, None, cls.mod, 0)
            out.extend(t for t in got if isinstance(t, _Cls) and t is not cls)
        return out

    # -- names ----------------------------------------------------------------------------------
    def _lookup(self, name: str, fn: _Fn | None, mod: _Mod, hops: int) -> list[object]:
        """What a name denotes where it is used: (expr, scope fn, module) for an assigned value,
        ``_Fn``, ``_Cls``, ``_Mod`` (a project module), ``_Sdk`` (an SDK import),
        ("param", annotation, fn) for a parameter.  The innermost scope that binds it."""
        scope = fn
        while scope is not None:
            if name in scope.locals:
                return [(v, scope, mod) if isinstance(v, ast.expr) else (("param", v[1], scope) if isinstance(v, tuple) else v)
                        for v in scope.locals[name]]
            scope = scope.outer
        if name in mod.binds:
            return [(v, None, mod) if isinstance(v, ast.expr) else v for v in mod.binds[name]]
        sym = mod.facts.symbols.get(name)
        if hops > _MAX_HOPS:
            return []
        if sym is None:  # from .impl import *: a package re-exporting what a module defines
            for module, level in mod.stars:
                other = self.mods.get(self.graph.module_of(mod.facts.path, module, level) or "")
                if other is not None and other is not mod:
                    got = self._lookup(name, None, other, hops + 1)
                    if got:
                        return got
            return []
        module, level, attr = sym
        if level == 0 and self.graph.module_of(mod.facts.path, module, 0) is None:
            key = _sdk_of(module)
            if key:
                return [_Sdk(key, module, (attr,) if attr else (), True)]
            key = _sdk_of(f"{module}.{attr}") if attr else ""
            if key:  # from google import genai
                return [_Sdk(key, f"{module}.{attr}", (), True)]
        path = self.graph.module_of(mod.facts.path, module, level)
        other = self.mods.get(path or "")
        if not attr:
            # import a.b.c binds "a": the package; its attributes are walked by the caller
            return [other] if other is not None else []
        if other is not None and other is not mod:
            got = self._lookup(attr, None, other, hops + 1)
            if got:
                return got
        sub = self.graph.module_of(mod.facts.path, f"{module}.{attr}" if module else attr, level)
        sub_mod = self.mods.get(sub or "")
        return [sub_mod] if sub_mod is not None else []

    def _resolve_dotted(self, name: str, fn: _Fn | None, mod: _Mod, hops: int) -> list[object]:
        head, *rest = name.split(".")
        targets = self._lookup(head, fn, mod, hops)
        for part in rest:
            nxt: list[object] = []
            for t in targets:
                if isinstance(t, _Mod):
                    nxt.extend(self._lookup(part, None, t, hops + 1))
                elif isinstance(t, _Cls) and part in t.methods:
                    nxt.append(t.methods[part])
            targets = nxt
        return targets

    # -- calls to project functions -------------------------------------------------------------
    def _edges(self, call: ast.Call, fn: _Fn, ctx: _Cls | None, deeper: bool) -> list[tuple[list[tuple[_Fn, _Cls | None]], int]]:
        """The project functions a call may run, as groups with what the step costs against
        ``MAX_DEPTH``: a group counts when every member reaches a generation call (one member,
        except a method found by its name only).  A call that stays in the same object or function
        (``self.m()``, ``cls.m()``, a function defined in this one) costs nothing: it is the same
        unit of code split up, resolved exactly.  ``deeper`` False: those free steps only."""
        out: list[tuple[list[tuple[_Fn, _Cls | None]], int]] = []
        own = isinstance(call.func, ast.Attribute) and _is_self(call.func.value, fn)
        if not deeper and not own and not isinstance(call.func, ast.Name):
            return out
        exact = self._callees(call.func, fn, fn.mod, ctx)
        for target, tctx in exact:
            free = own or target.outer is not None
            if free or deeper:
                out.append(([(target, tctx)], 0 if free else 1))
        if not deeper:
            return out
        name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id if isinstance(call.func, ast.Name) else ""
        if name in _ENQUEUE:
            refs = [*call.args, *(k.value for k in call.keywords if k.arg in ("target", "func", "fn", "function"))]
            for arg in refs:
                if isinstance(arg, (ast.Name, ast.Attribute)):
                    out.extend(([t], 1) for t in self._callees(arg, fn, fn.mod, ctx))
        elif name in _TASK_METHODS and isinstance(call.func, ast.Attribute):
            out.extend(([t], 1) for t in self._callees(call.func.value, fn, fn.mod, ctx))
        elif name in _TASK_BY_NAME and call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
            named = self.functions_by_name.get(call.args[0].value.split(".")[-1], [])
            if len(named) == 1:
                out.append(([(named[0], None)], 1))
        if not exact and isinstance(call.func, ast.Attribute) and not self._known_receiver(call.func.value, fn) \
                and self._trace(call.func.value, fn, fn.mod, 0) is None:  # self.client.embeddings.create: the SDK's, not ours
            same = self.methods_by_name.get(call.func.attr, [])
            if same and not call.func.attr.startswith("__"):
                out.append(([(m, None) for m in same], 1))
        return out

    def _known_receiver(self, node: ast.expr, fn: _Fn) -> bool:
        """The receiver is something else than an unknown object: an SDK, a module, a project class."""
        root = node
        while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript, ast.Await)):
            root = root.func if isinstance(root, ast.Call) else root.value
        if not isinstance(root, ast.Name):
            return False
        if _is_self(root, fn):
            return not isinstance(node, ast.Attribute)  # self.m() is resolved exactly; self.repo.m() is not
        targets = self._lookup(root.id, fn, fn.mod, 0)
        if not targets:
            return True  # a builtin or an unresolved global: not a project object
        return any(isinstance(t, (_Sdk, _Mod)) for t in targets) or (
            root is node and any(isinstance(t, (_Cls, _Fn)) or self._foreign(t) for t in targets))

    def _foreign(self, target: object) -> bool:
        """A parameter annotated with a class that is not the project's (``db: Session``), or a value built
        by calling an imported name that is not the project's (``store = Redis()``): a library object."""
        if not (isinstance(target, tuple) and len(target) == 3):
            return False
        if target[0] == "param":
            ann, fn = target[1], target[2]
            if ann is None:
                return False
            name = dotted(ann.value if isinstance(ann, ast.Subscript) else ann)
            return bool(name) and name.split(".")[-1] not in ("Any", "object", "Optional", "Union", "Annotated") \
                and not self._annotation(ann, fn, 0)
        value, fn, mod = target
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call) or not dotted(value.func):
            return False
        head = dotted(value.func).split(".")[0]
        sym = mod.facts.symbols.get(head)
        if sym is None or fn is not None and head in fn.locals or head in mod.binds:
            return False
        return self.graph.module_of(mod.facts.path, sym[0], sym[1]) is None and not _sdk_of(sym[0])

    def _callees(self, func: ast.expr, fn: _Fn | None, mod: _Mod, ctx: _Cls | None) -> list[tuple[_Fn, _Cls | None]]:
        """The project functions a called expression runs, each with the class ``self`` is in it.
        A receiver whose value may be one of several classes (``A if flag else B``, an element of a
        list of classes, ``REGISTRY.get(key, Default)``) gives one callee per class."""
        if isinstance(func, ast.Name):
            return [(t, ctx if t.outer is not None else None) for t in self._lookup(func.id, fn, mod, 0) if isinstance(t, _Fn)]
        if not isinstance(func, ast.Attribute):
            return []
        method = func.attr
        recv = func.value
        if _is_self(recv, fn) and fn is not None:
            cls = self._self_class(fn, ctx)
            found = self._method(cls, method, 0) if cls is not None else None
            return [(found, cls)] if found is not None else []
        out: list[tuple[_Fn, _Cls | None]] = []
        for cls in self._types(recv, fn, mod, 0, ctx):
            found = self._method(cls, method, 0)
            if found is not None:
                out.append((found, cls))
        if out:
            return out
        name = dotted(func)
        if name:
            return [(t, None) for t in self._resolve_dotted(name, fn, mod, 0) if isinstance(t, _Fn)]
        return []

    def _self_class(self, fn: _Fn, ctx: _Cls | None) -> _Cls | None:
        """The class of ``self`` in ``fn``: the context class when it is the method's own class or
        one of its project subclasses, else the method's class."""
        own = _class_of(fn)
        if ctx is None or own is None or ctx is own:
            return own
        return ctx if self._inherits(ctx, own, 0) else own

    def _inherits(self, cls: _Cls, base: _Cls, depth: int) -> bool:
        if depth > 5:
            return False
        return any(b is base or self._inherits(b, base, depth + 1) for b in self._bases(cls))

    def _method(self, cls: _Cls, name: str, depth: int) -> _Fn | None:
        if name in cls.methods:
            return cls.methods[name]
        if depth > 5:
            return None
        for base in self._bases(cls):
            found = self._method(base, name, depth + 1)
            if found is not None:
                return found
        return None

    def _types(self, node: ast.expr, fn: _Fn | None, mod: _Mod, hops: int, ctx: _Cls | None = None) -> list[_Cls]:
        """The project classes an expression's value is an instance of (or the class itself), memoised.
        ``ctx``: the class of ``self`` in ``fn`` when known (an inherited method run on a subclass)."""
        if hops > _MAX_HOPS:
            return []
        key = (id(node), id(fn), id(mod), id(ctx))
        if key in self._typed:
            return self._typed[key]
        self._typed[key] = []
        got = list(dict.fromkeys(self._types_uncached(node, fn, mod, hops, ctx)))
        self._typed[key] = got
        return got

    def _types_uncached(self, node: ast.expr, fn: _Fn | None, mod: _Mod, hops: int, ctx: _Cls | None) -> list[_Cls]:
        if isinstance(node, ast.Await):
            return self._types(node.value, fn, mod, hops, ctx)
        if isinstance(node, ast.IfExp):  # A if flag else B: either class
            return self._types(node.body, fn, mod, hops, ctx) + self._types(node.orelse, fn, mod, hops, ctx)
        if isinstance(node, ast.BoolOp):  # given or Default
            return [c for v in node.values for c in self._types(v, fn, mod, hops, ctx)]
        if isinstance(node, ast.Subscript):  # REGISTRY[key], STRATEGIES[0], a loop variable: any element
            return self._held(node.value, fn, mod, hops, ctx, id(node) in mod.made)
        if isinstance(node, ast.Call):
            return self._types_of_call(node, fn, mod, hops, ctx)
        if isinstance(node, ast.Attribute) and _is_self(node.value, fn) and fn is not None:
            cls = self._self_class(fn, ctx)
            if cls is None:
                return []
            return [c for value, where in self._attr_values(cls, node.attr, 0)
                    for c in self._types(value, where, cls.mod, hops + 1, ctx if where is not None else None)]
        if isinstance(node, ast.Attribute):  # module.Class
            name = dotted(node)
            return [t for t in self._resolve_dotted(name, fn, mod, hops) if isinstance(t, _Cls)] if name else []
        if isinstance(node, ast.Name):
            out: list[_Cls] = []
            for target in self._lookup(node.id, fn, mod, hops):
                if isinstance(target, _Cls):
                    out.append(target)
                elif isinstance(target, tuple) and len(target) == 3 and target[0] == "param":
                    out.extend(self._annotation(target[1], target[2], hops + 1))
                elif isinstance(target, tuple) and len(target) == 3 and isinstance(target[0], ast.expr):
                    out.extend(self._types(target[0], target[1], target[2], hops + 1, ctx if target[1] is fn else None))
            return out
        return []

    def _types_of_call(self, node: ast.Call, fn: _Fn | None, mod: _Mod, hops: int, ctx: _Cls | None) -> list[_Cls]:
        """What a call makes: a project class instantiated, what a project function returns, a class
        held in a variable, a container or an attribute and then called."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _PICK and node.args:
            held = self._held(func.value, fn, mod, hops, ctx)
            if held:  # REGISTRY.get(key, Default)
                return held + (self._types(node.args[1], fn, mod, hops, ctx) if len(node.args) > 1 else [])
        name = dotted(func)
        if not name:  # REGISTRY[key](...), pick()(...): what the called value is, instantiated
            return self._types(func, fn, mod, hops, ctx)
        parts = name.split(".")
        if _is_self(ast.Name(parts[0]), fn):  # self.strategy(...): a class held in an attribute, instantiated
            return self._types(func, fn, mod, hops, ctx) if len(parts) == 2 else []
        out: list[_Cls] = []
        for t in self._resolve_dotted(name, fn, mod, hops):
            if isinstance(t, _Cls):
                out.append(t)
            elif isinstance(t, _Fn):  # make_parser(...): what the project function returns
                out.extend(c for r in t.returns for c in self._types(r, t, t.mod, hops + 1))
            elif isinstance(t, tuple) and len(t) == 3 and isinstance(t[0], ast.expr):  # Chosen(...), Chosen = A if f else B
                out.extend(self._types(t[0], t[1], t[2], hops + 1))
        return out

    def _held(self, node: ast.expr, fn: _Fn | None, mod: _Mod, hops: int, ctx: _Cls | None, each: bool = False) -> list[_Cls]:
        """The project classes (or instances) a container holds: a list/tuple/set's elements, a dict's
        values (its keys when ``each``: what iterating it gives), through names, ``self.x``, ``+``,
        ``or`` and ``list(...)``-like copies (memoised)."""
        if hops > _MAX_HOPS:
            return []
        key = (id(node), id(fn), id(mod), id(ctx), each)
        if key in self._held_memo:
            return self._held_memo[key]
        self._held_memo[key] = []
        got = list(dict.fromkeys(self._held_uncached(node, fn, mod, hops, ctx, each)))
        self._held_memo[key] = got
        return got

    def _held_uncached(self, node: ast.expr, fn: _Fn | None, mod: _Mod, hops: int, ctx: _Cls | None, each: bool) -> list[_Cls]:
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [c for e in node.elts for c in (self._held(e.value, fn, mod, hops, ctx, each) if isinstance(e, ast.Starred)
                                                   else self._types(e, fn, mod, hops, ctx))]
        if isinstance(node, ast.Dict):
            return [c for k, v in zip(node.keys, node.values)
                    for c in (self._held(v, fn, mod, hops, ctx, each) if k is None else
                              self._types(k if each else v, fn, mod, hops, ctx))]
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.BitOr)):
            return self._held(node.left, fn, mod, hops, ctx, each) + self._held(node.right, fn, mod, hops, ctx, each)
        if isinstance(node, ast.BoolOp):
            return [c for v in node.values for c in self._held(v, fn, mod, hops, ctx, each)]
        if isinstance(node, ast.IfExp):
            return self._held(node.body, fn, mod, hops, ctx, each) + self._held(node.orelse, fn, mod, hops, ctx, each)
        if isinstance(node, ast.Call):
            name = dotted(node.func).split(".")[-1]
            if name in _SAME and isinstance(node.func, ast.Attribute) and not node.args:  # TABLE.values(), ITEMS.copy()
                return self._held(node.func.value, fn, mod, hops, ctx, each and name != "values")
            if name in _SAME and isinstance(node.func, ast.Name):  # list(ITEMS) (a dict's keys), dict(a=A)
                return [c for a in node.args for c in self._held(a, fn, mod, hops, ctx, each or name != "dict")] + \
                    [c for k in node.keywords for c in self._types(k.value, fn, mod, hops, ctx)]
            return []
        if isinstance(node, ast.Attribute) and _is_self(node.value, fn) and fn is not None:
            cls = self._self_class(fn, ctx)
            if cls is None:
                return []
            return [c for value, where in self._attr_values(cls, node.attr, 0)
                    for c in self._held(value, where, cls.mod, hops + 1, ctx if where is not None else None, each)]
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = dotted(node)
            if not name:
                return []
            targets = self._lookup(name, fn, mod, hops) if isinstance(node, ast.Name) else self._resolve_dotted(name, fn, mod, hops)
            return [c for t in targets if isinstance(t, tuple) and len(t) == 3 and isinstance(t[0], ast.expr)
                    for c in self._held(t[0], t[1], t[2], hops + 1, ctx if t[1] is fn else None, each)]
        return []

    def _annotation(self, ann: ast.expr | None, fn: _Fn, hops: int) -> list[_Cls]:
        """``svc: GenService``, ``Annotated[GenService, Depends(...)]``, ``GenService | None``, ``Optional[GenService]``."""
        if ann is None:
            return []
        if isinstance(ann, ast.Subscript):
            head = dotted(ann.value).split(".")[-1]
            elts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            if head == "Annotated":
                return self._annotation(elts[0], fn, hops) if elts else []
            if head in ("Optional", "Union"):
                return [c for e in elts for c in self._annotation(e, fn, hops)]
            return []
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            return self._annotation(ann.left, fn, hops) + self._annotation(ann.right, fn, hops)
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value, mode="eval").body
            except SyntaxError:
                return []
            self._keep.append(ann)
        name = dotted(ann)
        if not name:
            return []
        return [t for t in self._resolve_dotted(name, fn.outer, fn.mod, hops) if isinstance(t, _Cls)]


def _strip(node: ast.expr) -> tuple[ast.expr, list[str]]:
    """``self.get_client().chat.completions.create`` -> (``self``, [get_client, chat, completions, create]):
    the root of an attribute chain, through calls, awaits, subscripts and a lambda's body."""
    attrs: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            attrs.insert(0, node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, (ast.Await, ast.Subscript, ast.Starred)):
            node = node.value
        elif isinstance(node, ast.Lambda):
            node = node.body
        else:
            return node, attrs


def _is_self(node: ast.expr, fn: _Fn | None) -> bool:
    """``self``/``cls`` as the first parameter of the method ``fn`` is (or is nested in), not a
    variable of that name (``for cls in KINDS``)."""
    if not (isinstance(node, ast.Name) and node.id in ("self", "cls")) or fn is None:
        return False
    while fn.outer is not None and fn.cls is None:
        if node.id in fn.locals:
            return False  # a parameter or variable of the nested function, not the method's self
        fn = fn.outer
    if fn.cls is None:
        return False
    args = [*fn.node.args.posonlyargs, *fn.node.args.args]
    return bool(args) and args[0].arg == node.id and all(isinstance(v, tuple) for v in fn.locals.get(node.id, []))


def _class_of(fn: _Fn) -> _Cls | None:
    while fn.outer is not None and fn.cls is None:
        fn = fn.outer
    return fn.cls
