"""How values appear in output.  The one place that decides it.

Masking rule (documented in the README):
- a value whose key looks secret (``SECRET``, ``TOKEN``, ``PASSWORD``, ``KEY``,
  ``CREDENTIAL``, ``PRIVATE``, ``DSN``, ``DATABASE_URL`` ...) or whose rule is
  marked ``secret: true`` is never shown: output gives its length and, only
  when it is longer than 16 characters, its first 2 and last 2 characters;
- a known placeholder (``REPLACE_WITH_...``) is named as a placeholder;
- any other value that looks like a real secret (16+ characters, random-looking,
  not a placeholder) is masked the same way whatever its key;
- a URL's password is replaced by ``***`` whatever the key;
- any other value is shown quoted, cut to 60 characters.
"""
from __future__ import annotations

import re

from velro_policy.model import Unknown

_SECRET_KEY = re.compile(
    r"SECRET|TOKEN|PASSW|PWD|(^|_)KEY($|_)|APIKEY|API_KEY|CREDENTIAL|PRIVATE|(^|_)DSN($|_)"
    r"|DATABASE_URL|CONNECTION_STRING|SIGNING|SALT|COOKIE_SECRET",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")


_SECRET_KEYS: dict[str, bool] = {}  # key -> verdict; keys repeat across thousands of files


def is_secret_key(key: str) -> bool:
    """True when a key's name says its value is a credential."""
    hit = _SECRET_KEYS.get(key)
    if hit is None:
        hit = bool(_SECRET_KEY.search(key))
        if len(_SECRET_KEYS) < 100_000:
            _SECRET_KEYS[key] = hit
    return hit


def mask_secret(value: str) -> str:
    """Render a secret: its length and at most 2+2 characters when long."""
    n = len(value)
    if n > 16:
        return f"{value[:2]}…{value[-2:]} ({n} chars, masked)"
    return f"*** ({n} chars, masked)"


def show(key: str, value: object, *, secret: bool = False) -> str:
    """The only sanctioned rendering of a value in any output."""
    if isinstance(value, Unknown):
        return f"<unknown: {value.why}>"
    if isinstance(value, str):
        from velro_policy.values.secret_quality import is_placeholder, looks_like_real_secret

        if (secret or is_secret_key(key)) and value:
            if is_placeholder(value):
                return f"a placeholder ({len(value)} chars)"
            return mask_secret(value)
        if not value.startswith(("/", "http://", "https://")) and looks_like_real_secret(value, min_length=16):
            return mask_secret(value)  # a credential under an innocent name is still a credential
        text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", value)
        if len(text) > 60:
            text = text[:57] + "..."
        return repr(text)
    if secret or is_secret_key(key):
        return "*** (masked)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
