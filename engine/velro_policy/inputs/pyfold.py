"""Constant folding of Python expressions read with ``ast`` (never executed).

``Folder.fold(node)`` turns an expression into a ``Lit``: its plain value
(a Python literal, or ``model.Unknown(why)`` when it cannot be known
statically) with its ``file:line:col`` and, for containers, its members
with their own locations.  Only constants are computed: literals, names
bound to constants earlier, ``+ - * / // % **`` on them, f-strings and
``str.format``/``%``/``join`` of constants, comparisons, and a few pure
builtins and ``str`` methods.  Anything else (a call, an attribute of an
object, an imported name) is ``Unknown``.

Environment reads are understood, because that is how settings modules
get their values: ``os.getenv("X", "d")``, ``os.environ.get("X", "d")``,
``config("X", default=..., cast=bool)`` (python-decouple, Starlette) and
``env.bool("X", d)`` (environs) fold to the value the application gets
when ``X`` is not set, and the read is recorded so the caller knows the
value is a default that an env file can override.  ``os.environ["X"]`` or
a read without a default is *required*: the application cannot start
without ``X``, so there is no default to judge.
"""
from __future__ import annotations

import ast
import copy
import operator as op
import re
import string
from collections.abc import Callable
from typing import Any, NamedTuple

from velro_policy.model import Location, Unknown
from velro_policy.values.rates import is_rate_word

MAX_DEPTH = 100  # nesting of literals; deeper is reported, not recursed into
MAX_SIZE = 100_000  # largest str/list a folded *, + or f-string may build (A = A + A doubles it each line)
MAX_ITEMS = 5_000  # most items one literal (or one and/or/comparison chain) may have; more is reported, not folded
_TRUE_WORDS = {"1", "on", "t", "true", "y", "yes"}


class Lit(NamedTuple):
    """A folded value with where it was written; ``items`` are the members
    of a dict (by key) or list/tuple/set (by index), each a ``Lit``."""

    value: object
    loc: Location
    items: tuple[tuple[object, Lit], ...] = ()


class TooDeep(Exception):
    """Literals nested deeper than ``MAX_DEPTH``."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class TooLarge(Exception):
    """A literal or operator chain of more than ``MAX_ITEMS`` items (a data table, generated code):
    folding and judging each item would take minutes."""

    def __init__(self, line: int, items: int) -> None:
        super().__init__(line)
        self.line, self.items = line, items


_ITEM_FIELDS = {"List": "elts", "Tuple": "elts", "Set": "elts", "Dict": "keys", "BoolOp": "values", "Compare": "comparators",
                "JoinedStr": "values"}


class Required(Exception):
    """The expression reads an env variable that has no default."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class EnvRead(NamedTuple):
    name: str
    line: int


def is_unknown(value: object) -> bool:
    return isinstance(value, Unknown)


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: op.add, ast.Sub: op.sub, ast.Mult: op.mul, ast.Div: op.truediv, ast.FloorDiv: op.floordiv,
    ast.Mod: op.mod, ast.Pow: op.pow, ast.BitOr: op.or_, ast.BitAnd: op.and_,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: op.eq, ast.NotEq: op.ne, ast.Lt: op.lt, ast.LtE: op.le, ast.Gt: op.gt, ast.GtE: op.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b if a is None or b is None else a == b,
    ast.IsNot: lambda a, b: a is not b if a is None or b is None else a != b,
}
_LIMITS_ITEM = re.compile(r"RateLimitItemPer(Second|Minute|Hour|Day|Month|Year)")  # the limits library's classes
_RATE_WRAPPERS = frozenset({"parse", "parse_many", "limit", "rate_limit", "RateLimit", "Rate"})
_STR_METHODS = frozenset({
    "lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize", "casefold", "split", "rsplit",
    "replace", "startswith", "endswith", "removeprefix", "removesuffix", "splitlines", "join", "format",
})
_BUILTINS: dict[str, Callable[..., Any]] = {
    "str": str, "int": int, "float": float, "list": list, "tuple": tuple, "set": set, "frozenset": frozenset,
    "dict": dict, "len": len, "sorted": sorted, "min": min, "max": max, "abs": abs, "round": round,
}
_GETENV = {"os.getenv", "getenv", "os.environ.get", "environ.get", "os.environ.setdefault"}
_CONFIG_CALLS = {"config", "decouple.config", "env", "environ.Env"}
_ENV_TYPED = {"bool", "int", "float", "str", "list", "dict", "json", "url", "decimal", "path"}


def dotted(node: ast.AST) -> str:
    """``os.environ.get`` for an attribute chain of names, else ''."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _cast(value: object, cast: str) -> object:
    if cast == "bool" and isinstance(value, str):
        return value.strip().lower() in _TRUE_WORDS
    if cast in ("int", "float", "str") and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            return {"int": int, "float": float, "str": str}[cast](value)
        except ValueError:
            return value
    return value


class Folder:
    """Folds expressions of one file.  ``scope`` maps names to the ``Lit``
    they were bound to (the caller updates it as it walks the file)."""

    def __init__(self, path: str, lines: list[bytes]) -> None:
        self.path = path
        self.lines = lines
        self.scope: dict[str, Lit] = {}
        self.env_reads: list[EnvRead] = []
        self._depth = 0

    # -- locations -------------------------------------------------------
    def loc(self, node: ast.AST) -> Location:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        raw = self.lines[line - 1] if 0 < line <= len(self.lines) else b""
        return Location(self.path, line, len(raw[:col].decode("utf-8", "replace")) + 1)

    def unknown(self, node: ast.AST, why: str) -> Lit:
        return Lit(Unknown(why), self.loc(node))

    def source(self, node: ast.AST) -> str:
        """The expression as text for an ``Unknown``'s reason, with string
        literals blanked (they could be secrets: the reason is printed) except
        env-variable-like names (``os.getenv('JWT_SECRET')`` stays readable)."""
        try:
            text = ast.unparse(_Blank().visit(copy.deepcopy(node)))
        except Exception:  # noqa: BLE001 - unparse of odd trees is best-effort
            text = type(node).__name__
        return text if len(text) <= 60 else text[:57] + "..."

    # -- entry point -----------------------------------------------------
    def fold(self, node: ast.AST) -> Lit:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise TooDeep(getattr(node, "lineno", 1))
            kind = type(node).__name__
            field = _ITEM_FIELDS.get(kind)
            if field is not None and len(getattr(node, field)) > MAX_ITEMS:
                raise TooLarge(getattr(node, "lineno", 1), len(getattr(node, field)))
            method = getattr(self, "_fold_" + kind, None)
            if method is None:
                return self.unknown(node, f"{self.source(node)} is not a literal")
            return method(node)
        finally:
            self._depth -= 1

    def _value(self, node: ast.AST) -> object:
        return self.fold(node).value

    # -- literals --------------------------------------------------------
    def _fold_Constant(self, node: ast.Constant) -> Lit:
        if node.value is Ellipsis:
            return self.unknown(node, "...")
        return Lit(node.value, self.loc(node))

    def _seq(self, node: ast.AST, elts: list[ast.expr], kind: type) -> Lit:
        items: list[tuple[object, Lit]] = []
        values: list[object] = []
        unknown: str | None = None
        for elt in elts:
            if isinstance(elt, ast.Starred):
                inner = self.fold(elt.value)
                if isinstance(inner.value, (list, tuple, set, frozenset)) and not is_unknown(inner.value):
                    for _, sub in inner.items:
                        items.append((len(items), sub))
                        values.append(sub.value)
                    continue
                unknown = unknown or f"*{self.source(elt.value)} is not known statically"
                continue
            lit = self.fold(elt)
            if is_unknown(lit.value):
                unknown = unknown or f"item {self.source(elt)} is not a literal"
            items.append((len(items), lit))
            values.append(lit.value)
        loc = self.loc(node)
        if unknown:
            return Lit(Unknown(unknown), loc, tuple(items))
        try:
            value: object = kind(values)
        except TypeError:  # unhashable member of a set
            return Lit(Unknown("set of unhashable values"), loc, tuple(items))
        return Lit(value, loc, tuple(items))

    def _fold_List(self, node: ast.List) -> Lit:
        return self._seq(node, node.elts, list)

    def _fold_Tuple(self, node: ast.Tuple) -> Lit:
        return self._seq(node, node.elts, tuple)

    def _fold_Set(self, node: ast.Set) -> Lit:
        return self._seq(node, node.elts, set)

    def _fold_Dict(self, node: ast.Dict) -> Lit:
        members: dict[object, Lit] = {}
        unknown: str | None = None
        for knode, vnode in zip(node.keys, node.values):
            if knode is None:  # {**other}
                inner = self.fold(vnode)
                if isinstance(inner.value, dict):
                    members.update(dict(inner.items))
                else:
                    unknown = unknown or f"it merges **{self.source(vnode)}, which is not known statically"
                    members.update(dict(inner.items))
                continue
            key = self._key(knode)
            if is_unknown(key.value) or not is_hashable(key.value):
                unknown = unknown or f"key {self.source(knode)} is not a literal"
                continue
            val = self.fold(vnode)
            members.pop(key.value, None)
            members[key.value] = Lit(val.value, key.loc, val.items)
        items = tuple(members.items())
        if unknown:
            return Lit(Unknown(f"dict: {unknown}"), self.loc(node), items)
        return Lit({k: v.value for k, v in items}, self.loc(node), items)

    def _key(self, node: ast.expr) -> Lit:
        """A dict key; an enum member or other attribute (``Bucket.LOGIN``) is
        named by its member name, a tuple of them by a tuple of names."""
        key = self.fold(node)
        if not is_unknown(key.value):
            return key
        if isinstance(node, ast.Attribute) and dotted(node):
            return Lit(node.attr, self.loc(node))
        if isinstance(node, ast.Tuple) and node.elts:
            parts = [self._key(e) for e in node.elts]
            if not any(is_unknown(p.value) for p in parts):
                return Lit(tuple(p.value for p in parts), self.loc(node))
        return key

    def _fold_JoinedStr(self, node: ast.JoinedStr) -> Lit:
        out: list[str] = []
        size = 0
        for part in node.values:
            if isinstance(part, ast.Constant):
                out.append(str(part.value))
                continue
            if not isinstance(part, ast.FormattedValue):
                return self.unknown(node, f"f-string {self.source(node)} is not constant")
            val = self._value(part.value)
            if is_unknown(val) or isinstance(val, (dict, list, set)):
                return self.unknown(node, f"f-string uses {self.source(part.value)}, which is not known statically")
            spec = ""
            if part.format_spec is not None:
                spec_val = self._value(part.format_spec)
                if not isinstance(spec_val, str) or _WIDE_SPEC.search(spec_val):
                    return self.unknown(node, "f-string format spec is not constant")
                spec = spec_val
            conv = {115: str, 114: repr, 97: ascii}.get(part.conversion, None)
            try:
                out.append(format(conv(val) if conv else val, spec))  # type: ignore[operator]  # conv is one of str/repr/ascii or None
            except (ValueError, TypeError):
                return self.unknown(node, "f-string cannot be formatted")
            size += len(out[-1])
            if size > MAX_SIZE:
                return self.unknown(node, "f-string is too large to compute")
        return Lit("".join(out), self.loc(node))

    def _fold_Name(self, node: ast.Name) -> Lit:
        if node.id in self.scope:
            bound = self.scope[node.id]
            return Lit(bound.value, self.loc(node), bound.items)
        if node.id in ("True", "False", "None"):
            return Lit({"True": True, "False": False, "None": None}[node.id], self.loc(node))
        return self.unknown(node, f"{node.id} is not defined as a literal in this file")

    def _fold_UnaryOp(self, node: ast.UnaryOp) -> Lit:
        val = self._value(node.operand)
        if is_unknown(val):
            return self.unknown(node, f"{self.source(node)} is not constant")
        try:
            if isinstance(node.op, ast.Not):
                return Lit(not val, self.loc(node))
            if isinstance(node.op, ast.USub) and isinstance(val, (int, float)):
                return Lit(-val, self.loc(node))
            if isinstance(node.op, ast.UAdd) and isinstance(val, (int, float)):
                return Lit(+val, self.loc(node))
        except TypeError:
            pass
        return self.unknown(node, f"{self.source(node)} is not constant")

    def _fold_BinOp(self, node: ast.BinOp) -> Lit:
        left, right = self._value(node.left), self._value(node.right)
        func = _BINOPS.get(type(node.op))
        if func is None or is_unknown(left) or is_unknown(right):
            return self.unknown(node, f"{self.source(node)} is not constant")
        if not _safe_binop(node.op, left, right):
            return self.unknown(node, f"{self.source(node)} is too large to compute")
        try:
            return Lit(func(left, right), self.loc(node))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, KeyError):
            return self.unknown(node, f"{self.source(node)} cannot be computed")

    def _fold_BoolOp(self, node: ast.BoolOp) -> Lit:
        result: object = None
        for value_node in node.values:
            result = self._value(value_node)
            if is_unknown(result):
                return self.unknown(node, f"{self.source(node)} is not constant")
            if isinstance(node.op, ast.Or) and result:
                break
            if isinstance(node.op, ast.And) and not result:
                break
        return Lit(result, self.loc(node))

    def _fold_Compare(self, node: ast.Compare) -> Lit:
        left = self._value(node.left)
        for cmp, right_node in zip(node.ops, node.comparators):
            right = self._value(right_node)
            if is_unknown(left) or is_unknown(right):
                return self.unknown(node, f"{self.source(node)} is not constant")
            try:
                if not _CMPOPS[type(cmp)](left, right):
                    return Lit(False, self.loc(node))
            except TypeError:
                return self.unknown(node, f"{self.source(node)} cannot be computed")
            left = right
        return Lit(True, self.loc(node))

    def _fold_IfExp(self, node: ast.IfExp) -> Lit:
        test = self._value(node.test)
        if is_unknown(test):
            return self.unknown(node, f"{self.source(node)} depends on a value not known statically")
        return self.fold(node.body if test else node.orelse)

    def _fold_Subscript(self, node: ast.Subscript) -> Lit:
        name = dotted(node.value)
        if name in ("os.environ", "environ"):
            key = self._value(node.slice)
            if isinstance(key, str):
                self.env_reads.append(EnvRead(key, node.lineno))
                raise Required(key)
        base = self.fold(node.value)
        key = self._value(node.slice)
        if isinstance(base.value, (dict, list, tuple, str)) and not is_unknown(base.value) and not is_unknown(key):
            try:
                val = base.value[key]  # type: ignore[call-overload, index]  # folded values are untyped; TypeError is caught below;  type: ignore[index]
            except (KeyError, IndexError, TypeError):
                return self.unknown(node, f"{self.source(node)} is not in the literal")
            member = dict(base.items).get(key) if isinstance(base.value, dict) else None
            return Lit(val, self.loc(node), member.items if member else ())
        return self.unknown(node, f"{self.source(node)} is not constant")

    # -- calls -----------------------------------------------------------
    def _fold_Call(self, node: ast.Call) -> Lit:
        name = dotted(node.func)
        env = self._env_call(node, name)
        if env is not None:
            return env
        if name in _BUILTINS and not any(isinstance(a, ast.Starred) for a in node.args):
            return self._builtin(node, name)
        if isinstance(node.func, ast.Attribute) and node.func.attr in _STR_METHODS:
            return self._str_method(node)
        limit = self._limit_call(node, name.rsplit(".", 1)[-1])
        if limit is not None:
            return limit
        return self.unknown(node, f"{self.source(node)} is a call, not a literal")

    def _limit_call(self, node: ast.Call, last: str) -> Lit | None:
        """Rate limits built by a call: ``RateLimitItemPerHour(3)`` (limits),
        ``parse("3/hour")`` / ``limit("3/hour")``, and constructors whose
        keywords are a rate (``Budget(per_minute=6)``, fastapi-limiter
        ``RateLimiter(times=5, seconds=60)``) as a dict of their keywords."""
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return None
        unit = _LIMITS_ITEM.fullmatch(last)
        if unit and 1 <= len(node.args) <= 2 and not node.keywords:
            nums = [self._value(a) for a in node.args]
            if all(isinstance(n, int) and not isinstance(n, bool) for n in nums):
                mult = f"{nums[1]} " if len(nums) == 2 else ""
                return Lit(f"{nums[0]}/{mult}{unit.group(1).lower()}", self.loc(node))
            return None
        if last in _RATE_WRAPPERS and len(node.args) == 1 and not node.keywords:
            inner = self.fold(node.args[0])
            return inner if isinstance(inner.value, str) else None
        if last[:1].isupper() and not node.args and node.keywords and any(is_rate_word(str(k.arg)) for k in node.keywords):
            members = {str(k.arg): self.fold(k.value) for k in node.keywords}
            if any(is_unknown(v.value) for v in members.values()):
                return None
            return Lit({k: v.value for k, v in members.items()}, self.loc(node), tuple(members.items()))
        return None

    def _kw(self, node: ast.Call, name: str) -> ast.expr | None:
        return next((k.value for k in node.keywords if k.arg == name), None)

    def _env_call(self, node: ast.Call, name: str) -> Lit | None:
        """os.getenv / environ.get / decouple & Starlette config / environs env."""
        typed = ""
        if name in _GETENV:
            default_node = node.args[1] if len(node.args) > 1 else self._kw(node, "default")
            cast_node = None
        elif name in _CONFIG_CALLS or (isinstance(node.func, ast.Attribute) and node.func.attr in _ENV_TYPED
                                        and dotted(node.func.value) in ("env", "environ.Env")):
            if name not in _CONFIG_CALLS:
                typed = node.func.attr  # type: ignore[attr-defined]  # node.func is an ast.Attribute when name is not a config call
            default_node = self._kw(node, "default") or (node.args[1] if len(node.args) > 1 else None)
            cast_node = self._kw(node, "cast")
        else:
            return None
        if not node.args:
            return None
        key = self._value(node.args[0])
        if not isinstance(key, str):
            return self.unknown(node, f"{self.source(node)} reads an env variable whose name is not constant")
        self.env_reads.append(EnvRead(key, node.lineno))
        if default_node is None:
            if name in _GETENV and name != "os.environ.setdefault":
                return Lit(None, self.loc(node))  # os.getenv("X") is None when X is unset
            raise Required(key)
        default = self.fold(default_node)
        cast = typed or (dotted(cast_node) if cast_node is not None else "")
        value = default.value if is_unknown(default.value) else _cast(default.value, cast)
        return Lit(value, default.loc, default.items)

    def _builtin(self, node: ast.Call, name: str) -> Lit:
        args = [self._value(a) for a in node.args]
        kwargs = {k.arg: self._value(k.value) for k in node.keywords if k.arg}
        if any(is_unknown(a) for a in [*args, *kwargs.values()]) or len(kwargs) != len(node.keywords):
            return self.unknown(node, f"{self.source(node)} is not constant")
        if name == "dict":
            return self._dict_call(node)
        try:
            value = _BUILTINS[name](*args, **kwargs)
        except (TypeError, ValueError, OverflowError):
            return self.unknown(node, f"{self.source(node)} cannot be computed")
        if isinstance(value, (list, tuple, set, frozenset)) and len(node.args) == 1:
            inner = self.fold(node.args[0])
            if isinstance(inner.value, (list, tuple, set, frozenset)) and len(inner.items) == len(value):
                return Lit(value, self.loc(node), inner.items)
        return Lit(value, self.loc(node))

    def _dict_call(self, node: ast.Call) -> Lit:
        members: dict[object, Lit] = {}
        for arg in node.args:
            inner = self.fold(arg)
            if not isinstance(inner.value, dict):
                return self.unknown(node, f"{self.source(node)} is not a literal dict")
            members.update(dict(inner.items))
        for kw in node.keywords:
            members[kw.arg] = Lit(self._value(kw.value), self.loc(kw.value), self.fold(kw.value).items)
        return Lit({k: v.value for k, v in members.items()}, self.loc(node), tuple(members.items()))

    def _str_method(self, node: ast.Call) -> Lit:
        func = node.func
        assert isinstance(func, ast.Attribute)
        target = self._value(func.value)
        args = [self._value(a) for a in node.args]
        kwargs = {k.arg: self._value(k.value) for k in node.keywords if k.arg}
        if not isinstance(target, str) or any(is_unknown(a) for a in [*args, *kwargs.values()]):
            return self.unknown(node, f"{self.source(node)} is not constant")
        if func.attr == "format" and not _plain_format(target):
            return self.unknown(node, f"{self.source(node)} uses a format field that is not plain")
        if func.attr == "join" and not (len(args) == 1 and isinstance(args[0], (list, tuple)) and all(isinstance(a, str) for a in args[0])):
            return self.unknown(node, f"{self.source(node)} joins values not known statically")
        try:
            value = getattr(target, func.attr)(*args, **kwargs)
        except (TypeError, ValueError, IndexError, KeyError):
            return self.unknown(node, f"{self.source(node)} cannot be computed")
        if isinstance(value, str) and len(value) > MAX_SIZE:
            return self.unknown(node, f"{self.source(node)} is too large")
        return Lit(value, self.loc(node))


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


class _Blank(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, (str, bytes)) and not (isinstance(node.value, str) and _ENV_NAME.fullmatch(node.value)):
            return ast.copy_location(ast.Constant("…"), node)
        return node


def is_hashable(value: object) -> bool:
    """Can the value be a dict key?"""
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _size(value: object) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 1


def _safe_binop(opnode: ast.operator, left: object, right: object) -> bool:
    """Refuse operations whose result could exhaust memory or time."""
    if isinstance(opnode, ast.Pow):
        return isinstance(right, (int, float)) and abs(right) <= 128 and abs(left) < 2**64  # type: ignore[arg-type]
    if isinstance(opnode, ast.Mult):
        if isinstance(left, int) and not isinstance(left, bool) and isinstance(right, (str, list, tuple)):
            return left * _size(right) <= MAX_SIZE
        if isinstance(right, int) and not isinstance(right, bool) and isinstance(left, (str, list, tuple)):
            return right * _size(left) <= MAX_SIZE
    if isinstance(opnode, ast.Add) and isinstance(left, (str, bytes, list, tuple)):
        return _size(left) + _size(right) <= MAX_SIZE
    if isinstance(opnode, ast.Mod) and isinstance(left, str):
        return _size(left) <= MAX_SIZE and not _WIDE.search(left)
    if isinstance(opnode, (ast.LShift, ast.Pow)):
        return False
    return True


_WIDE = re.compile(r"%[-#0 +]*(\*|\d{5,})")  # '%*d' or '%100000d' in a % template
_WIDE_SPEC = re.compile(r"\d{5,}")  # a format spec asking for a huge width


def _plain_format(template: str) -> bool:
    """Only ``{}``, ``{0}``, ``{name}`` fields: no attribute or index access,
    no huge widths."""
    try:
        for _, field, spec, _ in string.Formatter().parse(template):
            if field and not (field.isidentifier() or field.isdigit()):
                return False
            if spec and (_WIDE_SPEC.search(spec) or "{" in spec):
                return False
    except ValueError:
        return False
    return True
