"""values.masking: what a finding may quote.  Origins are shown (the user must see which one is
wrong); anything that may carry a credential stays masked."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import cli, write
from velro_policy.values.masking import scrub

WEBHOOK_TOKEN = "Qw8Zt3VnR6wXy1Lp4Kd7Hs0B"


@pytest.mark.parametrize("origin", ["http://localhost:3000", "https://app.example.com", "http://127.0.0.1:8000/",
                                    "https://byonco-goaj7ykq-cares-projects.vercel.app", "http://[::1]:5173",
                                    "growcommerce.platinum-infotech.com", "api.example.co.uk:8443"])
def test_an_origin_in_a_list_is_shown(origin: str) -> None:
    assert scrub(repr([origin, "https://x.example"])) == repr([origin, "https://x.example"])


@pytest.mark.parametrize("url", [f"https://hooks.example.com/services/T0/{WEBHOOK_TOKEN}",
                                 f"https://api.example.com/?token={WEBHOOK_TOKEN}",
                                 f"https://{WEBHOOK_TOKEN}@github.example.com", f"{WEBHOOK_TOKEN}.example.com",
                                 "Qw8Zt3VnR6wXy1Lp.Kd7Hs0Bf2Gj5Mc9Na"])
def test_a_url_that_may_carry_a_token_stays_masked(url: str) -> None:
    assert WEBHOOK_TOKEN not in scrub(repr([url])) and url not in scrub(repr([url]))


def test_cors_findings_name_the_offending_origin(tmp_path: Path) -> None:
    """A settings module's CORS list: the finding says which origin (it was masked as a secret)."""
    write(tmp_path / "config.py", 'CORS_ORIGINS = [\n    "http://localhost:3000",\n    "https://app.example.com",\n]\n')
    res = cli(["lint", "--target", "settings", "config.py"], tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "has local origins: 'http://localhost:3000'" in res.stdout
    assert "not https: 'http://localhost:3000'" in res.stdout
    assert "https://app.example.com" not in res.stdout  # only the offending one is named
