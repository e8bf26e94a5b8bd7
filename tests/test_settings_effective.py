"""effective.derive on documents: pairing and what leaves the settings document."""
from __future__ import annotations

from pathlib import Path

from velro_policy.inputs.effective import derive
from velro_policy.model import Document, Entry, Location
from velro_policy.rules import Rule

ENV_RULES = [Rule(id="velro/debug-disabled", title="debug", severity="critical", target="env",
                  environments=("production", "staging"), select=("DEBUG",))]


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


def test_effective_document_holds_the_defaults_the_env_file_does_not_set(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("")
    prod = env_doc(tmp_path / ".env.production", "production", DEBUG="false")
    out = derive([prod, settings_doc(tmp_path / "app" / "config.py")], ENV_RULES, {})
    effective = [d for d in out if d.target == "effective"]
    assert len(effective) == 1
    assert effective[0].environment == "production" and effective[0].display_path == ".env.production"
    assert keys(effective[0]) == ["CONTENT_SECURITY_POLICY", "JWT_SECRET"]
    settings = next(d for d in out if d.target == "settings")
    # DEBUG: set by production; CSP stays (no env rule judges it); JWT_SECRET: secrets always stay; constants stay
    assert keys(settings) == ["CONTENT_SECURITY_POLICY", "JWT_SECRET", "SECURITY_HEADERS"]
    assert ".env.production" in settings.environment_source


def test_unset_value_judged_by_an_env_rule_leaves_the_settings_document(tmp_path: Path) -> None:
    prod = env_doc(tmp_path / ".env.production", "production", ENVIRONMENT="production")
    out = derive([prod, settings_doc(tmp_path / "config.py")], ENV_RULES, {"effective_pairing": "run"})
    assert "DEBUG" not in keys(next(d for d in out if d.target == "settings"))
    assert "DEBUG" in keys(next(d for d in out if d.target == "effective"))


def test_templates_and_other_projects_are_not_paired(tmp_path: Path) -> None:
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "pyproject.toml").write_text("")
    (tmp_path / "frontend").mkdir()
    (tmp_path / "frontend" / "package.json").write_text("{}")
    settings = settings_doc(tmp_path / "backend" / "app" / "config.py")
    docs = [
        env_doc(tmp_path / "frontend" / ".env.production", "production"),
        env_doc(tmp_path / "backend" / ".env.example", "template")._replace(is_template=True),
        settings,
    ]
    assert derive(docs, ENV_RULES, {}) == docs
    paired = derive(docs, ENV_RULES, {"effective_pairing": "run"})
    assert [d.target for d in paired].count("effective") == 1


def test_directory_and_none_pairing(tmp_path: Path) -> None:
    prod = env_doc(tmp_path / ".env.production", "production")
    settings = settings_doc(tmp_path / "app" / "config.py")
    assert derive([prod, settings], ENV_RULES, {"effective_pairing": "none"}) == [prod, settings]
    assert derive([prod, settings], ENV_RULES, {"effective_pairing": "directory"}) == [prod, settings]
    same_dir = settings_doc(tmp_path / "config.py")
    assert len(derive([prod, same_dir], ENV_RULES, {"effective_pairing": "directory"})) == 3


def test_a_default_set_by_only_one_of_two_production_files_stays(tmp_path: Path) -> None:
    a = env_doc(tmp_path / ".env.production", "production", CONTENT_SECURITY_POLICY="default-src 'self'")
    b = env_doc(tmp_path / ".env.production.hardened", "production")
    out = derive([a, b, settings_doc(tmp_path / "config.py")], [], {"effective_pairing": "run"})
    assert "CONTENT_SECURITY_POLICY" in keys(next(d for d in out if d.target == "settings"))
