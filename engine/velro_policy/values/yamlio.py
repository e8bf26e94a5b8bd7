"""YAML reading with positions (ruamel.yaml round-trip), safely.

Heavy: imported only when a policy pack or config must be (re)validated.
Round-trip loading builds no Python objects from tags (``!!python/...`` is
an error), and ``check_size`` refuses alias bombs before anything walks
the expanded tree.
"""
from __future__ import annotations

from typing import Any

from velro_policy.errors import PolicyError

MAX_NODES = 200_000
MAX_BYTES = 2 * 1024 * 1024
# Counted on the text before ruamel reads it, which costs ~50 µs per item and ~1 ms per level of nesting
# (a 900 KB flow list took 26 s): lines and flow items, and flow brackets.  The shipped pack's largest file
# has about 1,100 and 160.
MAX_ITEMS = 20_000
MAX_BRACKETS = 2_000


def load(text: str, path: str, error: type[PolicyError] = PolicyError) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if len(text) > MAX_BYTES:
        raise error(f"is larger than {MAX_BYTES // 1024 // 1024} MiB; a policy file should be small", path=path, line=1, col=1)
    brackets = text.count("[") + text.count("{")
    if text.count("\n") + text.count(",") + brackets > MAX_ITEMS or brackets > MAX_BRACKETS:
        raise error(f"has more than {MAX_ITEMS:,} lines and items (or {MAX_BRACKETS:,} brackets); a policy or config file "
                    "should be small", path=path, line=1, col=1)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p).replace("\n", " ")
        raise error(f"invalid YAML: {what}", path=path, line=line, col=col) from None
    except YAMLError as exc:
        raise error(f"invalid YAML: {str(exc).splitlines()[0]}", path=path, line=1, col=1) from None
    except RecursionError:
        raise error("YAML nested too deeply", path=path, line=1, col=1) from None
    check_size(data, path, error)
    return data


def check_size(data: Any, path: str, error: type[PolicyError]) -> None:
    """Count nodes as a consumer would see them (aliases expanded), up to a cap."""
    count = 0
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES or depth > 100:
            raise error("too large or too deeply nested once aliases are expanded (alias bomb?); simplify the file", path=path, line=1, col=1)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def locate(root: Any, path: list[Any] | tuple[Any, ...]) -> tuple[int, int]:
    """1-based line and column of the node at ``path`` (as deep as it exists)."""
    line, col = 1, 1
    lc = getattr(root, "lc", None)
    if lc is not None:
        line, col = lc.line + 1, lc.col + 1
    node = root
    for part in path:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, dict) and part in node:
                if lc is not None:
                    pos = lc.value(part) if not isinstance(node[part], (dict, list)) else lc.key(part)
                    line, col = pos[0] + 1, pos[1] + 1
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                if lc is not None:
                    pos = lc.item(part)
                    line, col = pos[0] + 1, pos[1] + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line, col


def plain(node: Any) -> Any:
    """ruamel containers -> plain dict/list/scalars (for jsonschema and caching)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return str(node)
