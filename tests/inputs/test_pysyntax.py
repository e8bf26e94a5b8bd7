"""inputs.pysyntax: modules written for Python 3.12-3.14 are read by the Python 3.11 that may run
velro-policy (a 3.14 backend had 62 of its deployed modules "cannot be read" before)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from conftest import cli, files
from velro_policy.inputs.pysyntax import as_older_syntax, parse

NEWER = {
    "except A, B (3.14)": "try:\n    pass\nexcept KeyError, ValueError:\n    pass\n",
    "except* A, B (3.14)": "try:\n    pass\nexcept* KeyError, ValueError:\n    pass\n",
    "one-line except A, B, C": "try: pass\nexcept KeyError, TypeError, ValueError: x = 1\n",
    "type alias (3.12)": "type UserId = int\ntype Pair[T] = tuple[T, T]\n",
    "generic class (3.12)": "class Box[T: (int, str) = int](object):\n    item: T\n",
    "generic function (3.12)": "def first[T](items: list[T]) -> T:\n    return items[0]\n",
    "type parameters over lines": "class Service[\n    Model,  # the row\n    Schema,\n](object):\n    pass\n",
    "template string (3.14)": 'name = "x"\ngreeting = t"hello {name}"\nraw = rt"\\d {name}"\n',
}


@pytest.mark.parametrize("source", NEWER.values(), ids=NEWER.keys())
def test_newer_syntax_is_read_with_its_lines(source: str) -> None:
    older = as_older_syntax(source)
    if sys.version_info < (3, 12):
        with pytest.raises(SyntaxError):
            ast.parse(source)
        assert older is not None
    tree = parse(source, "m.py")
    assert older is None or len(older.splitlines()) == len(source.splitlines())
    # every statement keeps the line it has in the file
    lines = [n.lineno for n in tree.body]
    assert lines == sorted(lines) and lines[0] == 1


def test_what_is_not_newer_syntax_keeps_its_error() -> None:
    with pytest.raises(SyntaxError) as err:
        parse("x = 1\ntry:\n    pass\nexcept KeyError, ValueError\n    pass\n", "m.py")  # no colon: a real error
    assert err.value.lineno == 4
    with pytest.raises(SyntaxError):
        parse("def broken(:\n    pass\n", "m.py")


def test_names_that_only_look_like_the_syntax_are_left_alone() -> None:
    source = "type = 3\nprint(type)\nt = 'x'\nitems = [t, 'y']\ndef type_(): pass\nx = items[0]\n"
    assert parse(source, "m.py") is not None
    assert as_older_syntax(source) is None


APP = {
    "main.py": "from fastapi import FastAPI\nfrom routes import auth\n\napp = FastAPI()\napp.include_router(auth.router)\n",
    "Procfile": "web: uvicorn main:app\n",
    "routes/__init__.py": "",
    "routes/auth.py": (
        "from fastapi import APIRouter, HTTPException\n\nrouter = APIRouter()\n\ntype UserId = int\n\n\n"
        "class Box[T]:\n    item: T\n\n\n"
        '@router.post("/login")\ndef login(name: str):\n    try:\n        return check(name)\n'
        "    except KeyError, ValueError:\n"
        '        raise HTTPException(status_code=401, detail="bad credentials")\n'),
    "settings.py": 'import os\n\ntype Flag = bool\n\nDEBUG = True\ntry:\n    import x\nexcept ImportError, ValueError:\n    pass\n',
    "main_settings.py": "",
}


def test_an_app_in_newer_syntax_is_checked(tmp_path: Path) -> None:
    """Its login route (in a module with 3.12 and 3.14 syntax) is found, at its line, and nothing is
    "cannot be parsed"; its settings module is read."""
    files(tmp_path, {**APP, "main.py": APP["main.py"].replace("from routes import auth", "from routes import auth\nimport settings")})
    res = cli(["check", ".", "--target", "settings", "--target", "app", "--skip", "velro/app-headers-missing"], tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert 'routes/auth.py:12:2: high velro/route-rate-limit: routes["POST /login"] is a login route' in res.stdout
    assert "settings.py:5:" in res.stdout and "DEBUG" in res.stdout
    assert "unparseable" not in res.stdout and "cannot be read" not in res.stdout + res.stderr


def test_semgrep_cannot_parse_a_module_of_a_newer_python(tmp_path: Path) -> None:
    """Semgrep's own parser may lag a new Python (it gave up on 3.14's ``except A, B, C:`` in two
    modules of a real backend): in a deployed module it is still "could not check" (exit 2), told as
    such instead of "fix the file"; in a module the app never imports it is skipped like a syntax error."""
    from velro_policy.commands.app import AppStep
    from velro_policy.inputs.code import SEMGREP_PARSE
    from velro_policy.model import Problem

    files(tmp_path, {**APP, ".python-version": "3.99\n", "scripts/tool.py": "def main():\n    pass\n"})
    step = AppStep.build(str(tmp_path), {}, lambda p: str(Path(p).relative_to(tmp_path)) if p != str(tmp_path) else ".")
    reason = f"semgrep: {SEMGREP_PARSE} (PartialParsing), so its code rules were not fully checked; fix the file or exclude it (code_exclude)"
    deployed, script = Problem("routes/auth.py", 16, 1, reason, "scan-error"), Problem("scripts/tool.py", 2, 1, reason, "scan-error")
    left = step.settle_problems([deployed, script], findings=[])
    assert [p.path for p in left] == ["routes/auth.py"]
    assert "the project declares Python 3.99 (.python-version)" in left[0].message and "fix the file" not in left[0].message
    assert step.skipped_unparseable == ["scripts/tool.py"]
