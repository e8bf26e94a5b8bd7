"""How the app starts: the entry point, read from deployment files (never run).

Order: the config's ``app:``; ``Procfile`` (``web:``); ``railway.toml`` /
``railway.json`` (startCommand); ``Dockerfile`` CMD/ENTRYPOINT (exec and shell
form, a script it runs followed); ``nixpacks.toml``; ``start.sh``; a
``uvicorn.run("pkg.main:app")`` in a module; ``[project.scripts]``; else the
modules that create ``FastAPI()``/``Starlette()``.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from typing import NamedTuple

from velro_policy.inputs.app.project import Project

_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*(\(\))?$")
_SERVERS = ("uvicorn", "gunicorn", "hypercorn", "granian", "daphne")
_FASTAPI_DEFAULTS = ("main.py", "app.py", "api.py", "app/main.py", "app/app.py", "app/api.py")
_APP_CREATE = re.compile(r"^[ \t]*(\w+)\s*(?::[^=\n]+)?=\s*(?:fastapi\.|starlette\.applications\.)?(FastAPI|Starlette)\(", re.M)
_DEPLOY_NAMES = ("Procfile", "railway.toml", "railway.json", "Dockerfile", "nixpacks.toml", "start.sh")
_RUN_CALL = re.compile(r"""uvicorn\.run\(\s*["']([\w.]+:\w+)["']""")
_TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)(test_[^/]*|[^/]*_test|conftest)\.py$")


class Entry(NamedTuple):
    """One entry: the module file (resolved), the app attribute, extra sys.path roots."""

    path: str
    attr: str
    roots: tuple[str, ...] = ()


class Found(NamedTuple):
    spec: str  # "app.main:app" (as written)
    reason: str
    entries: tuple[Entry, ...]
    notes: tuple[str, ...] = ()
    guess: bool = False  # several candidate apps, none named by a deployment file


def find(project: Project, config_app: str | None) -> Found | None:
    notes: list[str] = []
    if config_app:
        config_app = config_app if ":" in config_app else config_app + ":app"
        found = _from_command(project, f"uvicorn {config_app}", project.root, f"config app: {config_app!r}", notes)
        if found:
            return found
        notes.append(f"config app: {config_app!r} names no module of the project")
    for finder in (_procfile, _railway, _dockerfile, _nixpacks, _start_sh, _run_call, _scripts):
        found = finder(project, notes)
        if found:
            return found._replace(notes=tuple(notes) + found.notes)
    found = _creators(project)
    if found:
        return found._replace(notes=tuple(notes) + found.notes)
    return Found("", "", (), tuple(notes)) if notes else None


def _deploy_files(project: Project, name: str) -> list[str]:
    """Files named ``name`` at the root or up to 3 folders deep (shallowest first)."""
    out = []
    for d in sorted(project.dirs, key=lambda p: (p.count(os.sep), p)):
        if d.count(os.sep) - project.root.count(os.sep) > 3:
            break
        path = os.path.join(d, name)
        if os.path.isfile(path):
            out.append(path)
    return out


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(256 * 1024)
    except OSError:
        return ""


# -- commands -> entries ------------------------------------------------------
def _tokens(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


def _from_command(project: Project, command: str, cwd: str, reason: str, notes: list[str], depth: int = 0) -> Found | None:
    """An entry from one shell command line (``&&``/``;`` chains read in order)."""
    for part in re.split(r"&&|\|\||;|\n", command):
        tokens = [t for t in _tokens(part) if t not in ("exec", "sudo")]
        if len(tokens) > 2 and os.path.basename(tokens[0]) in ("sh", "bash") and tokens[1] == "-c" and depth < 2:
            found = _from_command(project, tokens[2], cwd, reason, notes, depth + 1)  # sh -c "uvicorn ..."
            if found:
                return found
            continue
        found = _server_spec(project, tokens, cwd, reason) or _python_run(project, tokens, cwd, reason)
        if found:
            return found
        if depth < 2 and tokens:
            script = _script(tokens)
            if script:
                path = _resolve_file(project, script, cwd)
                if path and not path.endswith(".py"):
                    found = _script_file(project, path, reason + f" -> {project.rel(path)}", notes, depth + 1)
                    if found:
                        return found
    return None


def _script(tokens: list[str]) -> str:
    if tokens[0] in ("sh", "bash", "/bin/sh", "/bin/bash") and len(tokens) > 1:
        return tokens[1]
    return tokens[0] if tokens[0].endswith(".sh") or tokens[0].startswith(("./", "/")) else ""


def _script_file(project: Project, path: str, reason: str, notes: list[str], depth: int) -> Found | None:
    text = _read(path)
    lines = text.replace("\\\n", " ").splitlines()
    for n, line in enumerate(lines, 1):
        if line.lstrip().startswith("#"):
            continue
        found = _from_command(project, line, os.path.dirname(path), f"{reason} line {n}: {line.strip()[:80]}", notes, depth)
        if found:
            return found
    return None


def _server_spec(project: Project, tokens: list[str], cwd: str, reason: str) -> Found | None:
    server = next((i for i, t in enumerate(tokens) if os.path.basename(t) in _SERVERS or t in ("fastapi",)), None)
    if server is None:
        if "-m" in tokens:
            i = tokens.index("-m")
            if i + 1 < len(tokens) and tokens[i + 1] in _SERVERS:
                server = i + 1
        if server is None:
            return None
    args = tokens[server + 1:]
    roots = [cwd]
    for flag in ("--app-dir", "--chdir"):
        if flag in args and args.index(flag) + 1 < len(args):
            roots.insert(0, os.path.normpath(os.path.join(cwd, args[args.index(flag) + 1])))
    if os.path.basename(tokens[server]) == "fastapi":
        return _fastapi_cli(project, args, cwd, reason)
    for tok in args:
        tok = tok.split("=", 1)[-1]
        if _SPEC.match(tok):
            return _spec_entry(project, tok, roots, reason)
    return None


def _fastapi_cli(project: Project, args: list[str], cwd: str, reason: str) -> Found | None:
    paths = [a for a in args[1:] if not a.startswith("-") and a.endswith(".py")]
    candidates = paths or list(_FASTAPI_DEFAULTS)
    for cand in candidates:
        path = _resolve_file(project, cand, cwd)
        if path:
            return Found(f"{project.rel(path)}:app", reason, (Entry(path, "app", (cwd,)),))
    return None


def _python_run(project: Project, tokens: list[str], cwd: str, reason: str) -> Found | None:
    if not tokens or not re.match(r"^(.*/)?python[\d.]*$", tokens[0]):
        return None
    args = tokens[1:]
    if "-m" in args:
        i = args.index("-m")
        if i + 1 < len(args):
            path = project.module_file(args[i + 1], [cwd, project.root])
            main = os.path.join(os.path.dirname(path), "__main__.py") if path and path.endswith("__init__.py") else ""
            if main and project.is_file(main):  # python -m pkg runs pkg/__main__.py
                path = main
            if path:
                return _runs_server(project, path, reason) or Found(args[i + 1], reason, (Entry(path, "app", (cwd,)),))
        return None
    script = next((a for a in args if a.endswith(".py")), None)
    if script:
        path = _resolve_file(project, script, cwd)
        if path:
            return _runs_server(project, path, reason) or Found(project.rel(path), reason, (Entry(path, "app", (os.path.dirname(path),)),))
    return None


def _runs_server(project: Project, path: str, reason: str) -> Found | None:
    """A script that starts the server itself with the app named as a string
    (``uvicorn.run("app.main:app", reload=...)``, the shape `--reload` needs): the app is that
    module, which the script never imports, and the script runs too (a second entry)."""
    text = project.text(path) if "uvicorn.run" in project.text(path) else ""
    for m in _RUN_CALL.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        found = _spec_entry(project, m.group(1), [os.path.dirname(path)],
                            f"{reason} -> {project.rel(path)} line {line}: uvicorn.run({m.group(1)!r})")
        if found:
            return found._replace(entries=(*found.entries, Entry(path, "", (os.path.dirname(path),))))
    return None


def _spec_entry(project: Project, spec: str, roots: list[str], reason: str) -> Found | None:
    module, _, attr = spec.partition(":")
    attr = attr.removesuffix("()")
    search = [*roots, project.root, os.path.join(project.root, "src")]
    path = project.module_file(module, search)
    if path is None:  # a WORKDIR/COPY we do not follow: the module's file by its path suffix
        path = project.by_suffix(module.replace(".", "/") + ".py", prefer=roots[0]) or project.by_suffix(
            module.replace(".", "/") + "/__init__.py", prefer=roots[0])
        if path is None:
            return None
        depth = module.count(".") + (1 if path.endswith("__init__.py") else 0)
        base = os.path.dirname(path)
        for _ in range(depth):
            base = os.path.dirname(base)
        roots = [base, *roots]
    return Found(spec, reason, (Entry(path, attr, tuple(roots)),))


def _resolve_file(project: Project, name: str, cwd: str) -> str | None:
    for base in (cwd, project.root):
        path = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(path) and path.startswith(project.root):
            return path
    if name.endswith(".py"):
        return project.by_suffix(name, prefer=cwd)
    base = os.path.basename(name)
    for d in sorted(project.dirs, key=len):
        path = os.path.join(d, base)
        if os.path.isfile(path):
            return path
    return None


# -- deployment files ------------------------------------------------------------
def _procfile(project: Project, notes: list[str]) -> Found | None:
    for path in _deploy_files(project, "Procfile"):
        lines = _read(path).splitlines()
        for n, line in enumerate(lines, 1):
            if line.startswith("web:"):
                found = _from_command(project, line[4:], os.path.dirname(path), f"{project.rel(path)} line {n}: {line.strip()[:100]}", notes)
                if found:
                    others = _other_processes(project, path, lines, n)
                    return found._replace(entries=found.entries + others) if others else found
                notes.append(f"{project.rel(path)} line {n}: no app module of the project found in {line.strip()[:80]!r}")
    return None


_WORKER_APP = re.compile(r"(?:^|\s)(?:-A|--app)[= ]\s*([A-Za-z_][\w.]*)")


def _other_processes(project: Project, path: str, lines: list[str], web: int) -> tuple[Entry, ...]:
    """Modules the Procfile's other processes run (worker, clock, release): deployed code too."""
    out: list[Entry] = []
    cwd = os.path.dirname(path)
    for n, line in enumerate(lines, 1):
        name, sep, command = line.partition(":")
        if n == web or not sep or not name.strip().isidentifier():
            continue
        for part in re.split(r"&&|\|\||;", command):
            tokens = _tokens(part)
            found = _python_run(project, tokens, cwd, "")
            module = _WORKER_APP.search(part)
            if found:
                out.extend(found.entries)
            elif module:
                file = project.module_file(module.group(1).split(":")[0], [cwd, project.root]) or project.module_file(
                    module.group(1).rsplit(".", 1)[0], [cwd, project.root])
                if file:
                    out.append(Entry(file, "", (cwd,)))
    return tuple(out)


def _railway(project: Project, notes: list[str]) -> Found | None:
    for name in ("railway.toml", "railway.json"):
        for path in _deploy_files(project, name):
            command = _railway_start(path)
            if command:
                found = _from_command(project, command, os.path.dirname(path), f"{project.rel(path)} startCommand: {command[:100]}", notes)
                if found:
                    return found
    return None


def _railway_start(path: str) -> str:
    text = _read(path)
    try:
        data = json.loads(text) if path.endswith(".json") else _toml(path)
    except ValueError:
        return ""
    deploy = data.get("deploy") if isinstance(data, dict) else None
    command = deploy.get("startCommand") if isinstance(deploy, dict) else None
    return command if isinstance(command, str) else ""


def _dockerfile(project: Project, notes: list[str]) -> Found | None:
    paths = _deploy_files(project, "Dockerfile")
    for path in paths:
        copies: dict[str, str] = {}
        lines = _read(path).replace("\\\n", " ").splitlines()
        commands: list[tuple[int, str, str]] = []
        for n, line in enumerate(lines, 1):
            word, _, rest = line.strip().partition(" ")
            word = word.upper()
            if word in ("COPY", "ADD"):
                toks = [t for t in _tokens(rest) if not t.startswith("--")]
                if len(toks) == 2:
                    copies[os.path.basename(toks[1].rstrip("/"))] = toks[0]
            elif word in ("CMD", "ENTRYPOINT"):
                commands.append((n, word, _docker_command(rest)))
        for n, word, command in reversed(commands):  # the last CMD/ENTRYPOINT is the one that runs
            found = _from_command(project, command, os.path.dirname(path), f"{project.rel(path)} line {n}: {word} {command[:100]}", notes)
            if found is None:
                script = _script(_tokens(command)) if command else ""
                source = copies.get(os.path.basename(script)) if script else None
                target = _resolve_file(project, source, project.root) if source else None
                if target:
                    found = _script_file(project, target, f"{project.rel(path)} line {n}: {word} {command[:60]} -> {project.rel(target)}", notes, 1)
            if found:
                return found
    return None


def _docker_command(rest: str) -> str:
    rest = rest.strip()
    if rest.startswith("["):
        try:
            items = json.loads(rest)
            return " ".join(shlex.quote(str(i)) for i in items)
        except ValueError:
            pass
    return rest


def _nixpacks(project: Project, notes: list[str]) -> Found | None:
    for path in _deploy_files(project, "nixpacks.toml"):
        data = _toml(path)
        start = data.get("start")
        command = start.get("cmd") if isinstance(start, dict) else None
        if isinstance(command, str):
            found = _from_command(project, command, os.path.dirname(path), f"{project.rel(path)} start.cmd: {command[:100]}", notes)
            if found:
                return found
    return None


def _start_sh(project: Project, notes: list[str]) -> Found | None:
    for path in _deploy_files(project, "start.sh"):
        found = _script_file(project, path, project.rel(path), notes, 1)
        if found:
            return found
    return None


def _run_call(project: Project, notes: list[str]) -> Found | None:
    hits: list[tuple[str, int, str]] = []
    for path in project.files:
        rel = project.rel(path)
        if _TEST_PATH.search(rel):
            continue
        text = project.text(path) if "uvicorn.run" in project.text(path) else ""
        for m in _RUN_CALL.finditer(text):
            hits.append((path, text.count("\n", 0, m.start()) + 1, m.group(1)))
    for path, line, spec in hits:
        found = _spec_entry(project, spec, [os.path.dirname(path)], f"{project.rel(path)} line {line}: uvicorn.run({spec!r})")
        if found:
            return found
    return None


def _scripts(project: Project, notes: list[str]) -> Found | None:
    path = os.path.join(project.root, "pyproject.toml")
    if not os.path.isfile(path):
        return None
    data = _toml(path)
    scripts = data.get("project", {}).get("scripts", {}) or data.get("tool", {}).get("poetry", {}).get("scripts", {})
    for name, spec in (scripts or {}).items():
        if not isinstance(spec, str):
            continue
        module = spec.partition(":")[0]
        found = _spec_entry(project, f"{module}:app", [project.root, os.path.join(project.root, "src")],
                            f"pyproject.toml [project.scripts] {name} = {spec!r}")
        if found and _creates_app(project, found.entries[0].path):
            return found
    return None


def _creates_app(project: Project, path: str) -> bool:
    return bool(_APP_CREATE.search(project.parse(path).text)) or "uvicorn" in project.parse(path).text


def _creators(project: Project) -> Found | None:
    hits: list[tuple[str, str, int]] = []
    for path in project.files:
        if _TEST_PATH.search(project.rel(path)):
            continue
        text = project.text(path)
        if "FastAPI(" not in text and "Starlette(" not in text:
            continue
        for m in _APP_CREATE.finditer(text):
            hits.append((path, m.group(1), text.count("\n", 0, m.start()) + 1))
            break
    if not hits:
        return None
    entries = tuple(Entry(p, attr, (os.path.dirname(p),)) for p, attr, _ in hits)
    specs = ", ".join(f"{project.rel(p)}:{attr}" for p, attr, _ in hits)
    where = "; ".join(f"{project.rel(p)} line {line}: {attr} = FastAPI(...)" for p, attr, line in hits)
    if len(hits) == 1:
        reason = f"no deployment file names the app; the one module creating an app: {where}"
        return Found(specs, reason, entries)
    reason = f"no deployment file names the app; {len(hits)} modules create one, all taken as entry points: {where}"
    return Found(specs, reason, entries, (f"{len(hits)} modules create an app and no deployment file says which runs; all are taken as "
                                          "entry points, and every module counts as deployed (name the app with `app:` in the config)",), True)


def _toml(path: str) -> dict:
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef,unused-ignore]
    try:
        data = tomllib.loads(_read(path))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
