"""The README stays short and the manual in docs/ stays consistent.

- docs/rules.md's rule reference (between the markers) is the output of
  `policies list --format markdown`. Update it with: python tests/test_readme.py --update
- README.md is at most 220 lines, and its first code block is the quick start CI runs.
- Every relative link in README.md and docs/*.md points to a file that exists, and to a heading
  of that file when it has an #anchor.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote

REPO = Path(__file__).resolve().parents[1]
RULES_DOC = REPO / "docs" / "rules.md"
START, END = "<!-- rules:start -->\n", "<!-- rules:end -->"
README_MAX_LINES = 220

QUICK_START = (
    "python3.11 -m venv .venv && .venv/bin/pip install '.[code]' && .venv/bin/velro-policy check examples/insecure"
    "   # exit 1: findings, as expected",
    "python3.11 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest -q && .venv/bin/pytest -q -m slow"
    "  # the test suite (what CI runs)",
)


def generated() -> str:
    import subprocess

    out = subprocess.run([sys.executable, "-m", "velro_policy", "policies", "list", "--format", "markdown", "--no-config"],
                         capture_output=True, text=True, check=True, cwd=REPO)
    return out.stdout


def current(text: str) -> str:
    m = re.search(re.escape(START) + r"(.*?)" + re.escape(END), text, re.S)
    assert m, "docs/rules.md lacks the rules markers"
    return m.group(1)


def test_rule_reference_in_sync() -> None:
    text = RULES_DOC.read_text()
    assert current(text) == generated(), "docs/rules.md rule reference is stale: run python tests/test_readme.py --update"


def test_readme_quick_start_matches_ci() -> None:
    readme = (REPO / "README.md").read_text().splitlines()
    ci = (REPO / ".ci" / "run").read_text()
    test_cmd = next(line for line in readme[:8] if "pytest" in line)
    assert "pip install -q -e '.[test]' && .venv/bin/pytest -q && .venv/bin/pytest -q -m slow" in ci
    assert "pip install -e '.[test]' && .venv/bin/pytest -q && .venv/bin/pytest -q -m slow" in test_cmd


# --- README size and quick start ---------------------------------------------------------------

def code_blocks(text: str) -> list[list[str]]:
    """The fenced code blocks of a markdown text, as lists of lines (fences excluded)."""
    blocks: list[list[str]] = []
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if fence is None:
            m = re.match(r"(`{3,}|~{3,})", stripped)
            if m:
                fence = m.group(1)
                blocks.append([])
        elif stripped.startswith(fence) and not stripped[len(fence):].strip():
            fence = None
        else:
            blocks[-1].append(line)
    return blocks


def test_readme_is_short() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines (at most {README_MAX_LINES}); move text to docs/"


def test_readme_first_code_block_is_the_quick_start() -> None:
    text = (REPO / "README.md").read_text()
    assert text.startswith("# velro-policy\n\n```bash\n")
    first = code_blocks(text)[0]
    for command in QUICK_START:
        assert command in first, f"README's first code block lost: {command}"


# --- links ---------------------------------------------------------------------------------------

MARKDOWN_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def prose(text: str) -> str:
    """The text outside fenced code blocks and inline code spans."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if fence is None:
            m = re.match(r"(`{3,}|~{3,})", stripped)
            if m:
                fence = m.group(1)
                continue
            out.append(re.sub(r"(`+)(?:(?!\1).)+?\1", "", line))
        elif stripped.startswith(fence) and not stripped[len(fence):].strip():
            fence = None
    return "\n".join(out)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def heading_text(path: Path) -> str:
    """Headings with their inline code kept (slug() drops only the backticks)."""
    lines, fence = [], None
    for line in path.read_text().splitlines():
        stripped = line.lstrip()
        m = re.match(r"(`{3,}|~{3,})", stripped)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and stripped.startswith(fence) and not stripped[len(fence):].strip():
            fence = None
        elif fence is None and re.match(r"#{1,6}\s", line):
            lines.append(line)
    return "\n".join(lines)


def heading_anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in heading_text(path).splitlines():
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        assert m
        base = slug(m.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def relative_links(path: Path) -> list[str]:
    links = []
    for target in LINK.findall(prose(path.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:, ...
            continue
        links.append(target)
    return links


def broken_links(path: Path, root: Path = REPO) -> list[str]:
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target}: no such file")
            continue
        if root not in dest.parents and dest != root:
            broken.append(f"{target}: outside the repository")
            continue
        if anchor:
            if dest.suffix != ".md" or dest.is_dir():
                broken.append(f"{target}: an anchor into a file that is not markdown")
            elif unquote(anchor).lower() not in heading_anchors(dest):
                broken.append(f"{target}: {dest.relative_to(root)} has no heading #{anchor}")
    return broken


def test_docs_exist() -> None:
    names = {p.name for p in (REPO / "docs").glob("*.md")}
    for name in ("index.md", "policy-language.md", "rules.md", "config.md", "outputs.md", "settings-and-code.md",
                 "hooks-and-ci.md", "probe.md", "security.md", "benchmark.md", "developing.md", "architecture.md"):
        assert name in names, f"docs/{name} is missing"


def test_relative_links_resolve() -> None:
    problems = {str(p.relative_to(REPO)): broken_links(p) for p in MARKDOWN_FILES}
    problems = {name: found for name, found in problems.items() if found}
    assert not problems, problems


def test_readme_links_every_docs_page() -> None:
    readme = {Path(t.partition("#")[0]).name for t in relative_links(REPO / "README.md") if t.startswith("docs/")}
    index = {Path(t.partition("#")[0]).name for t in relative_links(REPO / "docs" / "index.md")}
    for page in (REPO / "docs").glob("*.md"):
        if page.name != "index.md":
            assert page.name in readme, f"README.md does not link docs/{page.name}"
            assert page.name in index, f"docs/index.md does not list {page.name}"


def test_link_checker_catches_breakage(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## Post-deployment: `velro-policy probe BASE_URL`\n\n## Code rules (Semgrep)\n")
    page.write_text(
        "# Page\n\n[ok](other.md) [ok](other.md#code-rules-semgrep) [ok](other.md#post-deployment-velro-policy-probe-base_url)"
        " [ok](#page) [web](https://example.com/x.md)\n"
        "[gone](missing.md) [bad anchor](other.md#nope)\n\n```\n[in code](nowhere.md)\n```\n`[span](nowhere.md)`\n"
    )
    found = broken_links(page, root=tmp_path)
    assert found == ["missing.md: no such file", "other.md#nope: other.md has no heading #nope"]


if __name__ == "__main__" and "--update" in sys.argv:
    text = RULES_DOC.read_text()
    RULES_DOC.write_text(text.replace(START + current(text) + END, START + generated() + END))
    print("docs/rules.md rule reference updated")
