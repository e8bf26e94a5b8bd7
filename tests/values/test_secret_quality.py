"""values.secret_quality: what counts as a placeholder (template and committed-secret rules)."""
from __future__ import annotations

import pytest

from velro_policy.values.secret_quality import is_placeholder, looks_like_real_secret


@pytest.mark.parametrize("value", [
    "REPLACE_ME", "REPLACE_ME_KEY1", "replace-me-with-a-key", "REPLACE_WITH_PRODUCTION_SECRET",
    "REPLACE_ME_KEY_ONE,REPLACE_ME_KEY_TWO", "CHANGE_ME_BEFORE_DEPLOYING", "change-this-secret", "SET_ME_IN_RAILWAY",
    "your-fal-key-here", "<service-role-key>", "${JWT_SECRET}",
])
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)
    assert not looks_like_real_secret(value)


@pytest.mark.parametrize("value", ["Vx7Qm2Lr9Tz4Kp8Wn3Hd6Js1Bf5Gc0Ya", "replacementQ8Zt3VnR6wXy1Lp4Kd7Hs0", "settlement_7Qm2Lr9Tz4Kp8Wn3Hd6Js"])
def test_real_looking_values_are_not_placeholders(value: str) -> None:
    """`replace`/`set` as the start of a longer word is not a placeholder marker."""
    assert not is_placeholder(value)
    assert looks_like_real_secret(value)
