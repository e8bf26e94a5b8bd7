"""The project's own exception classes (inputs.own_exceptions): what lets code-error-detail-leak
leave `exc.message` of an app's own error alone.  Made-up projects; positions as Semgrep gives them."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import files
from velro_policy.errors import PolicyError
from velro_policy.inputs.code import build_config
from velro_policy.inputs.own_exceptions import OwnExceptions
from velro_policy.rules import Rule

ERRORS = ("class AppError(Exception):\n    def __init__(self, message):\n        self.message = message\n\n\n"
          "class NotFound(AppError):\n    pass\n\n\nclass Conflict(Exception):\n    pass\n\n\nclass Helper:\n    pass\n")
MAIN = """\
from pydantic import ValidationError
from app import errors
from app.errors import AppError, Conflict, NotFound, Helper


def a():
    try:
        run()
    except NotFound as exc:
        return exc.message
    except Exception as exc:
        return exc.message


def b():
    try:
        run()
    except errors.AppError as exc:
        text = exc.message
    return text


def c():
    try:
        run()
    except (AppError, ValidationError) as exc:
        return exc.message


def d():
    try:
        run()
    except AppError as exc:
        log(str(exc))
        return exc.message


def e():
    try:
        run()
    except Helper as exc:
        return exc.message


@app.exception_handler(AppError)
async def handler(request, exc):
    return {"detail": exc.message}


async def typed(request, exc: ValidationError):
    return {"detail": exc.message}


def h():
    try:
        run()
    except Conflict as exc:
        return {"message": str(exc), "args": exc.args}


def i():
    try:
        run()
    except Conflict as exc:
        return {"message": str(exc), "cause": exc.__cause__}
"""
SERVICE = """\
from app.errors import Conflict, NotFound


def find(key):
    try:
        return lookup(key)
    except KeyError as err:
        raise NotFound(f"lookup failed: {err}") from err


def save(key):
    if busy(key):
        raise Conflict(f"{key} is being edited: reload and retry")
"""


@pytest.fixture()
def own(tmp_path: Path) -> tuple[OwnExceptions, str]:
    files(tmp_path, {"app/__init__.py": "", "app/errors.py": ERRORS, "app/main.py": MAIN, "app/service.py": SERVICE})
    paths = [str(p) for p in sorted(tmp_path.rglob("*.py"))]
    return OwnExceptions(paths), str(tmp_path / "app/main.py")


@pytest.mark.parametrize(("line", "col", "expected"), [
    (10, 16, True),    # the clause around it catches a project class (a subclass of one)
    (12, 16, False),   # ... and the next clause of the same try catches Exception
    (20, 12, True),    # after the try: every clause binding exc catches `errors.AppError` (module import)
    (26, 16, False),   # a tuple with pydantic's class
    (34, 16, False),   # str(exc) is read in the same clause, and NotFound (an AppError) is raised wrapping a KeyError
    (40, 16, False),   # a project class that is no exception
    (47, 12, True),    # @app.exception_handler(AppError)
    (51, 12, False),   # a handler of pydantic's ValidationError, by annotation
    (58, 16, True),    # str(exc) and exc.args of a class raised only with the app's own text
    (65, 16, False),   # ... but what it wraps is not the app's text
])
def test_own_text_only(own: tuple[OwnExceptions, str], line: int, col: int, expected: bool) -> None:
    reader, main = own
    assert reader.own_text_only(main, line, col, "exc") is expected


def test_a_class_known_by_its_name_only_is_not_the_projects(tmp_path: Path) -> None:
    """`ValidationError` defined by the project and imported from pydantic in the matched module:
    the import decides, never the name."""
    files(tmp_path, {"errors.py": "class ValidationError(Exception):\n    pass\n",
                     "main.py": "from pydantic import ValidationError\n\n\ndef f():\n    try:\n        run()\n"
                                "    except ValidationError as exc:\n        return exc.message\n"})
    reader = OwnExceptions([str(tmp_path / "errors.py"), str(tmp_path / "main.py")])
    assert reader.own_text_only(str(tmp_path / "main.py"), 8, 16, "exc") is False


def test_the_key_names_one_metavariable() -> None:
    rule = Rule("x/leak", "t", "medium", "code", semgrep={"pattern": "f($E)", "unless-own-exception": {"class": "$T"}})
    with pytest.raises(PolicyError, match="unless-own-exception"):
        build_config([rule])
    ok = Rule("x/leak", "t", "medium", "code", semgrep={"pattern": "f($E)", "unless-own-exception": "$E"})
    body = build_config([ok])[0][0]
    assert "unless-own-exception" not in body and body["message"].endswith("$E")


def test_classes_in_modules_of_a_newer_python_are_read(tmp_path: Path) -> None:
    """The module defining the class uses Python 3.12-3.14 syntax (`except A, B:`, type parameters):
    read as the settings reader and the app model read it (inputs.pysyntax)."""
    files(tmp_path, {"errors.py": ("class AppError[T](Exception):\n    def __init__(self, message):\n        self.message = message\n\n\n"
                                   "def load():\n    try:\n        pass\n    except KeyError, ValueError:\n        pass\n"),
                     "main.py": "from errors import AppError\n\n\ndef f():\n    try:\n        run()\n"
                                "    except AppError as exc:\n        return exc.message\n"})
    reader = OwnExceptions([str(tmp_path / "errors.py"), str(tmp_path / "main.py")])
    assert reader.own_text_only(str(tmp_path / "main.py"), 8, 16, "exc") is True
