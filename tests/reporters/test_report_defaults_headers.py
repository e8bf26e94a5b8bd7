"""``velro-policy report``: settings defaults in the environment columns, and the values of headers
set in code (issue 19 gaps).

- An env file that does not set a variable runs with the settings default: its cell shows the
  default (``default from app/config.py:5``) with the verdict of the findings at the default's line
  whose rule applies in that column's environment; in an environment the default was not judged
  as, no finding is "not judged", never a pass.  The ``defaults: ...`` column stays.
- A header the deployed app sets in code shows the value the application model read, with the
  verdict of the code rule at that line.

The HTML is parsed (html.parser, every element closed) and cells are found by row and column."""
from __future__ import annotations

import subprocess
from html.parser import HTMLParser
from pathlib import Path

from conftest import cli, write

SECRET = "Qm7vT2xK9pL4wR8zN3bH6cJ1dF5gS0aY2eU7iO4t"  # a made-up default secret: must never reach the page
TOKEN = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"  # a made-up token inside a header value


class Node:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs = tag, attrs
        self.children: list[Node | str] = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag: str, **attrs: str) -> list[Node]:
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if c.tag == tag and all(c.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                    out.append(c)
                out += c.all(tag, **attrs)
        return out

    def one(self, tag: str, **attrs: str) -> Node:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]


class _Tree(HTMLParser):
    VOID = {"br", "meta", "link", "img", "hr", "input", "wbr", "col", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [Node("#document", {})]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(text: str) -> Node:
    tree = _Tree()
    tree.feed(text)
    tree.close()
    assert len(tree.stack) == 1, f"<{tree.stack[-1].tag}> never closed"
    return tree.stack[0]


def run_report(project: Path, tmp: Path) -> tuple[Node, str, str, subprocess.CompletedProcess[str]]:
    html, md = tmp / "report.html", tmp / "report.md"
    # run from the project (the default python_exclude skips settings modules under a folder named test_*,
    # which pytest's tmp_path is: a separate issue, noted in the report of this change)
    res = cli(["report", ".", "--html", str(html), "--format", "markdown", "--output", str(md)], cwd=project)
    assert res.returncode == 0, res.stderr
    text = html.read_text(encoding="utf-8")
    return parse(text), text, md.read_text(encoding="utf-8"), res


def matrix_cell(dom: Node, variable: str, column: str) -> Node:
    return dom.one("table", **{"class": "matrix"}).one("tr", data_variable=variable).one("td", data_column=column)


def value(cell: Node) -> str:
    codes = cell.all("code", **{"class": "val"})
    return codes[0].text() if codes else ""


def rules_of(dom: Node, cell: Node) -> set[str]:
    return {dom.one("tr", id=a.attrs["href"].lstrip("#")).attrs["data-rule"] for a in cell.all("a")}


def project(root: Path) -> Path:
    write(root / "Procfile", "web: uvicorn app.main:app\n")
    write(root / "app" / "__init__.py", "")
    write(root / "app" / "config.py",
          "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n"
          "    DEBUG: bool = True\n"
          f"    JWT_SECRET: str = \"{SECRET}\"\n"
          "    VERBOSE_ERROR_MESSAGES: bool = False\n\n\nsettings = Settings()\n")
    write(root / "app" / "main.py",
          "from fastapi import FastAPI\n\nfrom app.config import settings\n\n"
          "app = FastAPI(debug=settings.DEBUG)\nREFERRER = \"strict-origin-when-cross-origin\"\n\n\n"
          "@app.middleware(\"http\")\nasync def security_headers(request, call_next):\n"
          "    response = await call_next(request)\n"
          "    response.headers[\"X-Frame-Options\"] = \"SAMEORIGIN\"\n"
          "    response.headers[\"Referrer-Policy\"] = REFERRER\n"
          f"    response.headers[\"Content-Security-Policy\"] = \"<script>alert(1)</script> default-src 'self'; report-uri https://r.example/c?t={TOKEN}\"\n"
          "    response.headers[\"X-XSS-Protection\"] = request.app.state.xss\n"
          "    return response\n")
    write(root / ".env.production", "ENVIRONMENT=production\n")
    write(root / ".env.staging", "ENVIRONMENT=staging\nDEBUG=false\n")
    write(root / ".env.development", "ENVIRONMENT=development\n")
    write(root / ".env.example", "ENVIRONMENT=production\nJWT_SECRET=change-me\n")
    return root


def test_settings_defaults_in_the_environment_columns_and_header_values_from_code(tmp_path: Path) -> None:
    dom, text, md, _ = run_report(project(tmp_path / "p"), tmp_path)
    columns = [th.attrs["data-column"] for th in dom.one("table", **{"class": "matrix"}).one("thead").all("th")
               if "data-column" in th.attrs]
    assert columns == [".env.production", ".env.staging", ".env.development", ".env.example", "defaults: app/config.py"]

    # production runs with the default: shown in the env file's column, red, with the finding at the default's line
    debug = matrix_cell(dom, "DEBUG", ".env.production")
    assert value(debug) == "True" and debug.attrs["data-verdict"] == "fail"
    assert "default from app/config.py:5" in debug.text() and "judged as" not in debug.text()
    assert "velro/settings-debug-default" in rules_of(dom, debug)
    # the settings default keeps its own column, with its verdict
    own = matrix_cell(dom, "DEBUG", "defaults: app/config.py")
    assert value(own) == "True" and own.attrs["data-verdict"] == "fail"
    # staging sets it: the file's value, not the default
    assert value(matrix_cell(dom, "DEBUG", ".env.staging")) == "'false'"
    assert "default from" not in matrix_cell(dom, "DEBUG", ".env.staging").text()
    # development runs with the default too, but the guide allows true there and the default was judged as production
    dev = matrix_cell(dom, "DEBUG", ".env.development")
    assert value(dev) == "True" and dev.attrs["data-verdict"] == "not-judged"
    assert "default from app/config.py:5 (judged as production)" in dev.text() and not dev.all("a")
    # a template is not an environment: no default is filled in
    assert value(matrix_cell(dom, "DEBUG", ".env.example")) == ""
    # a safe default: green where it was judged, not judged elsewhere (no pass by absence)
    verbose = matrix_cell(dom, "VERBOSE_ERROR_MESSAGES", ".env.production")
    assert value(verbose) == "False" and verbose.attrs["data-verdict"] == "pass"
    assert matrix_cell(dom, "VERBOSE_ERROR_MESSAGES", ".env.staging").attrs["data-verdict"] == "not-judged"
    # a secret default: masked in every column that runs with it, red where a rule of that environment reports it
    for column in (".env.production", ".env.staging"):
        cell = matrix_cell(dom, "JWT_SECRET", column)
        assert value(cell) == "Qm…4t (40 chars, masked)" and cell.attrs["data-verdict"] == "fail", column
    assert value(matrix_cell(dom, "JWT_SECRET", ".env.example")) == "a placeholder (9 chars)"

    headers = dom.one("table", **{"class": "headers"})

    def places(name: str) -> list[Node]:
        return headers.one("tr", data_name=name).all("li")

    [frame] = places("X-Frame-Options")
    assert frame.attrs["data-verdict"] == "fail" and frame.one("code", **{"class": "val"}).text() == "'SAMEORIGIN'"
    assert "app/main.py:12" in frame.text() and rules_of(dom, frame) == {"velro/code-header-frame-options"}
    [referrer] = places("Referrer-Policy")  # through a module constant; the guide's text is shown as written
    assert referrer.attrs["data-verdict"] == "pass"
    assert referrer.one("code", **{"class": "val"}).text() == "'strict-origin-when-cross-origin'" and "app/main.py:13" in referrer.text()
    [csp] = places("Content-Security-Policy")
    assert "default-src 'self'" in csp.one("code", **{"class": "val"}).text() and "app/main.py:14" in csp.text()
    assert "<script>alert(1)</script>" in csp.text() and not dom.all("script")  # a value is data, never markup
    [xss] = places("X-XSS-Protection")  # a value the model cannot fold: said so, not judged
    assert xss.one("code", **{"class": "val"}).text() == "(not a literal)" and "app/main.py:15" in xss.text()
    assert xss.attrs["data-verdict"] == "not-judged"
    assert places("Strict-Transport-Security") == []
    assert "not set by the deployed app's code" in headers.one("tr", data_name="Strict-Transport-Security").text()
    assert "'SAMEORIGIN'" in md and "default from" not in md.split("### Security headers")[1]

    for secret in (SECRET, TOKEN):
        for piece in {secret[i:i + 10] for i in range(len(secret) - 9)}:
            assert piece not in text and piece not in md


def test_a_settings_module_of_another_folder_is_not_an_env_files_default(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "api" / ".env.production", "ENVIRONMENT=production\n")
    write(root / "worker" / "config.py",
          "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    DEBUG: bool = True\n")
    dom, _, _, _ = run_report(root, tmp_path)
    cell = matrix_cell(dom, "DEBUG", "api/.env.production")
    assert value(cell) == "" and cell.attrs["data-verdict"] == "unset"  # the api does not run with the worker's defaults
    assert value(matrix_cell(dom, "DEBUG", "defaults: worker/config.py")) == "True"


def test_a_generation_route_told_by_its_calls_shows_why(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "main.py",
          "import fal_client\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
          "@app.post('/jobs')\nasync def start(body: dict):\n    return fal_client.submit('acme/flux', arguments=body)\n\n\n"
          "@app.post('/jobs/{job_id}/result')\nasync def result(job_id: str):\n    return fal_client.result('acme/flux', job_id)\n")
    dom, _, md, _ = run_report(root, tmp_path)
    cells = dom.one("tr", data_route="POST /jobs").all("td")
    assert cells[4].text() == "generationcalls fal_client.submit (main.py:9)"  # the kind, and the reason below it
    assert cells[5].text() == "10/hour" and cells[6].attrs["data-verdict"] == "fail"
    other = dom.one("tr", data_route="POST /jobs/{job_id}/result").all("td")
    assert other[4].text() == "other" and other[6].attrs["data-verdict"] == "not-judged"
    assert "generation (calls fal\\_client.submit (main.py:9))" in md


def test_the_model_reads_the_values_of_a_header_dict_the_code_uses(tmp_path: Path) -> None:
    from velro_policy.inputs.app import build
    from velro_policy.model import Unknown

    write(tmp_path / "main.py",
          "import os\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
          "BASE = {'X-Frame-Options': 'SAMEORIGIN', 'Referrer-Policy': 'no-referrer'}\n"
          "HEADERS = {**BASE, 'X-Frame-Options': 'DENY', 'Content-Security-Policy': os.environ['CSP'],\n"
          f"           'X-XSS-Protection': '{TOKEN}' + os.environ['X']}}\n\n\n"
          "@app.middleware('http')\nasync def add(request, call_next):\n    response = await call_next(request)\n"
          "    response.headers.update(HEADERS)\n    return response\n")
    cover = build(str(tmp_path), {}).headers
    assert cover is not None
    got = {s.header: (s.value if not isinstance(s.value, Unknown) else "?", s.loc.line, s.source) for s in cover.sets}
    assert got == {"X-Frame-Options": ("DENY", 7, "header dict HEADERS"),  # the dict's own entry wins over the merged one
                   "Referrer-Policy": ("no-referrer", 7, "header dict HEADERS"),
                   "Content-Security-Policy": ("?", 7, "header dict HEADERS"),  # not a literal: Unknown, never a guess
                   "X-XSS-Protection": ("?", 7, "header dict HEADERS")}
    out = cli(["app", str(tmp_path)]).stdout + cli(["app", str(tmp_path), "--format", "json"]).stdout
    assert "X-XSS-Protection" in out and TOKEN[:10] not in out and TOKEN[-10:] not in out  # a literal piece is never quoted
