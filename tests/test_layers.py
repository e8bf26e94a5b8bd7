"""The engine's layers, as folders, with imports that point one way only.

Every import in the package (module level and inside functions) is read
with ``ast`` and checked against the allowed directions; an import circle
between modules at module level fails too.
"""
from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "engine" / "velro_policy"

# layer -> layers it may import (besides itself).  Bottom first.
ALLOWED: dict[str, set[str]] = {
    "base": set(),  # model, rules, posture (the report's records), errors, resources, outfiles (output files), __init__
    "values": {"base"},
    "judge": {"base", "values"},
    "policy": {"base", "values", "judge"},  # validates operator params and project checks against judge's registries
    "inputs": {"base", "values"},
    "settle": {"base", "values", "inputs"},  # inline ignores are read from the files (inputs._files: caps, special files)
    "reporters": {"base", "values"},
    "commands": {"base", "values", "judge", "policy", "inputs", "settle", "reporters"},
    "main": {"base", "values", "commands", "reporters", "policy"},
}
BASE = {"model", "rules", "errors", "resources", "__init__", "error_handler", "posture", "outfiles"}


def layer_of(module: str) -> str:
    parts = module.split(".")[1:]  # drop velro_policy
    if not parts:
        return "base"
    head = parts[0]
    if head in BASE:
        return "base"
    if head in ("main", "__main__", "hookpath"):  # the command lines: click (main) and the hooks' fast path
        return "main"
    return head


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path, *, top_level_only: bool = False) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for n in ast.walk(node)}  # imports for type hints only: no run-time dependency
    nodes = [n for n in (tree.body if top_level_only else ast.walk(tree)) if id(n) not in typing_only]
    out = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("velro_policy"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.append(full if (PKG.parent / full.replace(".", "/")).with_suffix(".py").exists()
                           or (PKG.parent / full.replace(".", "/")).is_dir() else node.module)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names if a.name.startswith("velro_policy"))
    return out


def test_every_module_is_in_a_known_layer() -> None:
    for path in PKG.rglob("*.py"):
        assert layer_of(module_name(path)) in ALLOWED, f"{path} is in no layer; add it to tests/test_layers.py"


def test_imports_point_one_way() -> None:
    wrong = []
    for path in sorted(PKG.rglob("*.py")):
        me = module_name(path)
        mine = layer_of(me)
        for target in imports(path):
            theirs = layer_of(target)
            if theirs != mine and theirs not in ALLOWED[mine]:
                wrong.append(f"{me} ({mine}) imports {target} ({theirs})")
    assert wrong == []


def test_judge_is_pure_of_io_modules() -> None:
    banned = ("subprocess", "tempfile", "shutil", "socket", "httpx")
    found = []
    for path in sorted((PKG / "judge").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in banned]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
                found.append(f"{path.name}:{node.lineno}: open()")
    assert found == []


def test_no_import_circle_at_module_level() -> None:
    graph: dict[str, set[str]] = {}
    for path in PKG.rglob("*.py"):
        graph[module_name(path)] = {t for t in imports(path, top_level_only=True)}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for mod in sorted(graph):
        if mod not in state:
            visit(mod, [mod])
    assert cycles == []
