"""effective.derive on documents: a settings module's defaults are judged on their own (issue 14 item 6)."""
from __future__ import annotations

from pathlib import Path

from velro_policy.inputs.effective import derive
from velro_policy.judge.evaluate import judge_documents
from velro_policy.model import Document, Entry, Location
from velro_policy.rules import Op, Rule

ENV_RULES = [Rule(id="velro/debug-disabled", title="debug", severity="critical", target="env",
                  environments=("production", "staging"), select=("DEBUG",), check=Op("boolean", False))]
SETTINGS_RULE = Rule(id="velro/settings-debug-default", title="debug default", severity="critical", target="settings",
                     environments=("production", "staging"), select=("DEBUG",), check=Op("boolean", False))


def env_doc(path: Path, environment: str, **values: str) -> Document:
    entries = tuple(Entry(k, v, Location(str(path), n, 1), (k,)) for n, (k, v) in enumerate(values.items(), 1))
    return Document(str(path), "env", entries, environment, "file name", display_path=path.name)


def settings_doc(path: Path) -> Document:
    loc = Location("app/config.py", 10, 5)
    entries = (
        Entry("DEBUG", True, loc, ("DEBUG",), (("Settings", "debug"),), ("DEBUG",)),
        Entry("CONTENT_SECURITY_POLICY", "default-src *", loc._replace(line=11), ("CONTENT_SECURITY_POLICY",), (), ("CONTENT_SECURITY_POLICY",)),
        Entry("JWT_SECRET", "dev-secret", loc._replace(line=12), ("JWT_SECRET",), (), ("JWT_SECRET",)),
        Entry("SECURITY_HEADERS", {"X-Frame-Options": "DENY"}, loc._replace(line=13), ("SECURITY_HEADERS",)),
    )
    return Document(str(path), "settings", entries, display_path="app/config.py")


def keys(doc: Document) -> list[str]:
    return [e.key for e in doc.entries]


def test_settings_documents_are_never_trimmed_and_defaults_get_their_own_document(tmp_path: Path) -> None:
    prod = env_doc(tmp_path / ".env.production", "production", DEBUG="false", CONTENT_SECURITY_POLICY="default-src 'self'")
    settings = settings_doc(tmp_path / "app" / "config.py")
    out = derive([prod, settings], ENV_RULES, {})
    assert out[:2] == [prod, settings]  # what production sets hides nothing
    [effective] = out[2:]
    assert (effective.target, effective.path, effective.display_path, effective.environment) == \
        ("effective", settings.path, "app/config.py", "production")
    assert keys(effective) == ["DEBUG", "CONTENT_SECURITY_POLICY", "JWT_SECRET"]  # env-backed values only


def test_no_env_file_needed_and_none_turns_it_off(tmp_path: Path) -> None:
    settings = settings_doc(tmp_path / "config.py")
    assert [d.target for d in derive([settings], ENV_RULES, {})] == ["settings", "effective"]
    assert derive([settings], ENV_RULES, {"effective_pairing": "none"}) == [settings]
    assert derive([settings], [SETTINGS_RULE], {}) == [settings]  # no env rule to judge them


def test_a_default_both_kinds_of_rule_report_is_reported_once_by_the_settings_rule(tmp_path: Path) -> None:
    settings = settings_doc(tmp_path / "config.py")
    docs = derive([settings], [*ENV_RULES, SETTINGS_RULE], {})
    found = judge_documents(docs, [*ENV_RULES, SETTINGS_RULE], {})
    assert [(f.line, f.rule_id) for f in found] == [(10, "velro/settings-debug-default")]
    alone = judge_documents(derive([settings], ENV_RULES, {}), ENV_RULES, {})
    assert [(f.line, f.rule_id, f.environment) for f in alone] == [(10, "velro/debug-disabled", "production")]
    assert "a default in code: it runs wherever the platform does not set DEBUG" in alone[0].message
