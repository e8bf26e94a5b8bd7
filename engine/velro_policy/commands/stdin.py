"""``lint -``: env variables given on stdin, as the text of an env file.

Two shapes: KEY=value lines (an env file as is, or what ``railway variables
--kv`` prints), and one JSON object of variables (``{"DEBUG": "false"}``,
what platform APIs and ``railway variables --json`` give).  A JSON object is
turned into KEY='value' lines that python-dotenv reads back to the same
strings (single quotes keep ``$`` and ``#`` literal; a value holding a single
quote or a newline is double-quoted with escapes).  Anything else is read as
env text, and its parse problems are reported as for a file.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from velro_policy.errors import InputError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def as_env_text(raw: bytes, name: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("stdin is not UTF-8 text; pipe env variables (KEY=value lines or a JSON object)", path=name) from None
    stripped = text.strip()
    if not stripped.startswith("{"):
        return text
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InputError(f"stdin looks like JSON but is not valid JSON ({exc.msg}, line {exc.lineno}); "
                         "pipe one JSON object of variables or KEY=value lines", path=name) from None
    if not isinstance(data, dict):
        raise InputError("stdin JSON must be one object of variables ({\"KEY\": \"value\"})", path=name)
    lines = []
    for key, value in data.items():
        if not _KEY.match(str(key)):
            raise InputError(f"stdin JSON has a key that is not a variable name ({str(key)[:40]!r}); fix the input", path=name)
        lines.append(f"{key}={_quoted(value)}")
    return "\n".join(lines) + ("\n" if lines else "")


def _quoted(value: object) -> str:
    if value is None:
        return "''"
    text = value if isinstance(value, str) else json.dumps(value)  # numbers, booleans, lists: their JSON text
    if "'" not in text and "\n" not in text:
        return f"'{text}'"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@contextmanager
def env_file(text: str, name: str) -> Iterator[str]:
    """A private temporary file named like NAME holding ``text`` (its name decides the environment
    and how it is read, as a real file's would); removed on exit.  ``lint -`` and ``report
    --live-vars`` judge stdin through it."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="velro-stdin-") as tmp:
        path = os.path.join(tmp, os.path.basename(name) or ".env")
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        yield path
