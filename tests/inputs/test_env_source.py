"""The env-file source reads files exactly as pydantic-settings (python-dotenv) does."""
from __future__ import annotations

from pathlib import Path

from dotenv import dotenv_values

from velro_policy.inputs._files import read_text
from velro_policy.inputs.env import is_env_file, parse_env
from velro_policy.model import Unknown


def entries(text: str) -> dict[str, tuple[object, int, int]]:
    got, problems = parse_env(text, "f.env")
    assert not problems, problems
    return {e.key: (e.value, e.loc.line, e.loc.col) for e in got}


def test_plain_export_quotes_comments() -> None:
    text = (
        "# comment\n"
        "A=1\n"
        "export B=two\n"
        "C='single # not a comment'\n"
        'D="double\\nescape"\n'
        "E=value # inline comment\n"
        "\n"
        "  F = spaced  \n"
        "G=\n"
    )
    got = entries(text)
    assert got["A"] == ("1", 2, 1)
    assert got["B"] == ("two", 3, 8)
    assert got["C"][0] == "single # not a comment"
    assert got["D"][0] == "double\nescape"
    assert got["E"][0] == "value"
    assert got["F"] == ("spaced", 8, 3)
    assert got["G"] == ("", 9, 1)


def test_multiline_value_keeps_following_line_numbers() -> None:
    text = 'A=1\nKEY="line one\nline two"\nDEBUG=true\n'
    got = entries(text)
    assert got["KEY"] == ("line one\nline two", 2, 1)
    assert got["DEBUG"] == ("true", 4, 1)


def test_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / ".env.production"
    path.write_bytes(b"\xef\xbb\xbfDEBUG=true\r\nJWT_SECRET=abc\r\n")
    text, problem = read_text(str(path))
    assert problem is None
    got = entries(text or "")
    assert got["DEBUG"] == ("true", 1, 1)
    assert got["JWT_SECRET"] == ("abc", 2, 1)


def test_duplicate_keys_last_wins_like_the_app() -> None:
    text = "DEBUG=false\nOTHER=1\nDEBUG=true\n"
    got = entries(text)
    assert got["DEBUG"] == ("true", 3, 1)
    assert dotenv_values(stream=__import__("io").StringIO(text))["DEBUG"] == "true"


def test_interpolation_uses_earlier_values_and_marks_unknown() -> None:
    got = entries("HOST=api.example\nURL=https://${HOST}/v1\nSECRET=${RAILWAY_SECRET}\n")
    assert got["URL"][0] == "https://api.example/v1"
    assert isinstance(got["SECRET"][0], Unknown)


def test_malformed_line_is_a_problem_with_its_line() -> None:
    _, problems = parse_env('A=1\nB="unterminated\n', "bad.env")
    assert problems and problems[0].line == 2


def test_non_utf8_and_binary_files_are_problems(tmp_path: Path) -> None:
    latin = tmp_path / "latin.env"
    latin.write_bytes("A=1\nNAME=caf\xe9\n".encode("latin-1"))
    _, problem = read_text(str(latin))
    assert problem is not None and problem.line == 2 and "UTF-8" in problem.message
    binary = tmp_path / "bin.env"
    binary.write_bytes(b"A=1\x00\x01\x02")
    _, problem = read_text(str(binary))
    assert problem is not None and "binary" in problem.message


def test_env_file_names() -> None:
    for name in (".env", ".env.production", ".env.staging.secure", "production.env", ".env.local"):
        assert is_env_file(name), name
    for name in ("index.en.md", "env.py", ".envrc", "environment.yaml", "README.md"):
        assert not is_env_file(name), name
