"""`report --live-vars NAME`: the live platform's variables (stdin) as one more column of the
matrix (issue 19 item 1), judged like an env file of that name, secrets masked."""
from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from velro_policy.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "secure"
SECRET = "Zq8vT2xK9pL4wR8zN3bH6cJ1dF5gS0aY"  # made up; 32 characters: too short for production
LIVE = f"ENVIRONMENT=production\nDEBUG=true\nJWT_SECRET={SECRET}\n"


class Headers(HTMLParser):
    """The text of every <th> and the class of every <td>, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.th: list[str] = []
        self.in_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "th":
            self.in_th = True
            self.th.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self.in_th = False

    def handle_data(self, data: str) -> None:
        if self.in_th:
            self.th[-1] += data


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "secure"
    shutil.copytree(EXAMPLE, root)
    monkeypatch.chdir(root)
    return root


def test_live_variables_are_a_column_judged_as_their_name_says(project: Path) -> None:
    """One run writes both formats (one Semgrep scan of the example)."""
    res = CliRunner().invoke(cli, ["report", "--live-vars", ".env.production", "-f", "markdown", "--html", "posture.html"],
                             input=LIVE, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    header = next(line for line in res.stdout.splitlines() if line.startswith("| Variable |"))
    assert "| .env.production (live) (production) |" in header
    column = [c.strip() for c in header.split("|")].index(".env.production (live) (production)")
    debug = next(line for line in res.stdout.splitlines() if line.startswith("| DEBUG |"))
    assert [c.strip() for c in debug.split("|")][column].startswith("❌ 'true'")
    assert "velro/jwt-secret-strength | .env.production (live):3" in res.stdout
    page = (project / "posture.html").read_text(encoding="utf-8")
    parser = Headers()
    parser.feed(page)
    assert any(".env.production (live)" in th for th in parser.th), parser.th
    for text in (res.stdout, page):
        assert SECRET[:8] not in text and SECRET[-8:] not in text


def test_stdin_that_is_not_text_is_exit_2(project: Path) -> None:
    res = CliRunner().invoke(cli, ["report", "--live-vars", ".env.production", "-f", "markdown"], input=b"\xff\xfe\x00bad")
    assert res.exit_code == 2
    assert "stdin is not UTF-8" in res.output
