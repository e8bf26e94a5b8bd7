"""``model.Entries``: the one entries type every document holds, and the judge step every command shares.

An env file keeps its entries as columns, every other source as ``Entry`` objects; readers
must not be able to tell the difference (same iteration, equality, positions, addresses,
findings), and no module outside ``model.py`` asks which kind it holds.
"""
from __future__ import annotations

import ast
import pickle
from pathlib import Path

from velro_policy.inputs import env as env_source
from velro_policy.judge.evaluate import judge_documents, judge_each
from velro_policy.model import Document, Entries, Entry, Location
from velro_policy.rules import Op, Rule

PKG = Path(__file__).resolve().parents[2] / "engine" / "velro_policy"
TEXT = "ENVIRONMENT=production\nDEBUG=true\nexport JWT_SECRET=short\nDEBUG=true\nCORS_ORIGINS=*\n"


def env_doc(text: str = TEXT) -> Document:
    return env_source.read_document(text, ".env.production", display_path=".env.production", flag_environment=None,
                                    settings=env_source.settings_for({}))


def test_columns_and_objects_read_the_same() -> None:
    columns = env_doc().entries
    objects = Entries.of(tuple(columns))
    assert columns == objects == tuple(objects)
    assert [e.key for e in columns] == ["ENVIRONMENT", "JWT_SECRET", "DEBUG", "CORS_ORIGINS"]  # the last DEBUG wins, in file order
    assert columns.keys == objects.keys and columns.uppers == objects.uppers and columns.values == objects.values
    assert columns[1] == objects[1] == Entry("JWT_SECRET", "short", Location(".env.production", 3, 8), ("JWT_SECRET",))
    assert columns[-1].key == "CORS_ORIGINS" and columns[1:3] == objects[1:3]
    assert list(columns.addresses()) == list(objects.addresses()) == columns.keys  # env variables are selected by name


def test_a_value_known_by_a_path_or_an_alias_is_addressed_by_every_path() -> None:
    loc = Location("app/config.py", 3, 5)
    ents = Entries.of([Entry("DEBUG", True, loc, ("DEBUG",), (("Settings", "debug"),)),
                       Entry('SECURITY_HEADERS["X-Frame-Options"]', "DENY", loc, ("SECURITY_HEADERS", "X-Frame-Options")),
                       Entry("PLAIN", 1, loc)])
    assert list(ents.addresses()) == [(("DEBUG",), ("Settings", "debug")), (("SECURITY_HEADERS", "X-Frame-Options"),), "PLAIN"]


def test_extra_entries_follow_the_own_ones_but_stay_out_of_the_columns() -> None:
    doc = env_doc()
    copy = Entry("DEBUG (in the git index)", "true", Location(".env.production", 4, 1), ("__git__", "DEBUG"))
    marked = doc.entries.with_extra((copy,))
    assert len(marked) == len(doc.entries) + 1 and marked[-1] == copy and list(marked)[-1] == copy
    assert marked.keys == doc.entries.keys  # the project checks read the file's own variables only
    assert marked.key_value(len(marked) - 1) == ("DEBUG (in the git index)", "true")
    assert marked.addresses()[-1] == (("__git__", "DEBUG"),)


def test_every_document_holds_entries_whatever_it_was_given() -> None:
    entry = Entry("DEBUG", "true", Location("f.env", 1, 1), ("DEBUG",))
    doc = Document("f.env", "env", (entry,))
    assert type(doc.entries) is Entries and doc.entries == (entry,)
    replaced = doc._replace(entries=[entry, entry._replace(key="X", parts=("X",))])
    assert type(replaced.entries) is Entries and [e.key for e in replaced.entries] == ["DEBUG", "X"]
    assert type(Document("f.env", "env", ()).entries) is Entries
    assert pickle.loads(pickle.dumps(replaced)) == replaced  # --jobs workers send documents back


def test_the_judge_finds_the_same_on_columns_and_on_entry_objects() -> None:
    rules = [
        Rule(id="t/debug", title="t", severity="high", target="env", environments=("production",), select=("DEBUG",),
             check=Op("boolean", False)),
        Rule(id="t/len", title="t", severity="high", target="env", environments=("production",), select=("*_SECRET",),
             check=Op("min_length", 32)),
        Rule(id="t/required", title="t", severity="high", target="env", environments=("production",), select=("RATE_LIMIT",),
             check=Op("required", True)),
    ]
    doc = env_doc()
    as_objects = doc._replace(entries=tuple(doc.entries))
    got = judge_documents([doc, doc], rules, {})  # the second time through the evaluator's caches
    assert got == judge_documents([as_objects, as_objects], rules, {})
    assert sorted({(f.rule_id, f.line) for f in got}) == [("t/debug", 4), ("t/len", 3), ("t/required", 1)]


def test_judge_each_gives_each_documents_findings_of_judge_documents() -> None:
    rules = [Rule(id="t/debug", title="t", severity="high", target="env", environments=("production",), select=("DEBUG",),
                  check=Op("boolean", False))]
    docs = [env_doc(), env_doc("DEBUG=false\n"), env_doc("DEBUG=1\n")]
    per_document = judge_each(docs, rules, {})
    assert [len(found) for found in per_document] == [1, 0, 1]
    assert [f for found in per_document for f in found] == judge_documents(docs, rules, {})


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(PKG.rglob("*.py"))]


def test_no_module_asks_which_kind_of_entries_a_document_holds() -> None:
    for path, tree in _sources():
        if path.name == "model.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in ("Entries", "EnvEntries"):
                parent_calls = [n for n in ast.walk(tree) if isinstance(n, (ast.Compare, ast.Call))
                                and any(c is node for c in ast.walk(n))]
                for n in parent_calls:
                    text = ast.unparse(n)
                    assert not (text.startswith("isinstance(") or " is Entries" in text or " is EnvEntries" in text), \
                        f"{path.relative_to(PKG)}: {text}"


def test_commands_judge_through_the_one_judge_step() -> None:
    """No command builds its own Evaluator: they all judge through judge_documents / judge_each."""
    for path, tree in _sources():
        if path.parent.name != "commands":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "velro_policy.judge.evaluate":
                assert "Evaluator" not in {a.name for a in node.names}, path.name
