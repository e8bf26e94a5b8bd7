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
    r"SECRET|TOKEN|PASSW|PWD|PASSPHRASE|PASSCODE|(^|_)PASS($|_)|(^|_)KEY($|_)|APIKEY|API_KEY|CREDENTIAL|PRIVATE|(^|_)DSN($|_)"
    r"|DATABASE_URL|CONNECTION_STRING|SIGNING|SALT|COOKIE_SECRET",
    re.IGNORECASE,
)
# Where a URL's authority ends (userinfo cannot hold these unencoded).
_AUTHORITY_END = re.compile(r"[/?#\s'\"]")
# Secret-looking pieces of free text (a reason quoting source, a repr of a list):
# quoted literals and long bare tokens.  Bounded quantifiers keep it linear.
_LITERAL = re.compile(r"""'([^'\n]{8,4096})'|"([^"\n]{8,4096})"|([A-Za-z0-9_+/=.:~-]{16,4096})""")
_SECRET_PREFIX = re.compile(r"(sk|rk|pk)_(live|test)_|gh[pousr]_|github_pat_|xox[abposr]-|AKIA|ASIA|eyJ|glpat-|SG\.|-----BEGIN")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
# An origin and nothing more: scheme, host, port (a CORS list's items).  A host name is not a
# credential; a URL with a path or query may carry one (a webhook's token) and stays judged.
_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?|[A-Za-z][A-Za-z0-9+.-]*://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?/?"
                     r"|[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,24}(:[0-9]{1,5})?")  # a host without its scheme: lower-case labels, a TLD


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


def mask_url_userinfo(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` with the password as ``***``
    (and a secret-looking bare userinfo, ``https://<token>@host``, masked).

    Linear in the length of ``text``: each ``://`` is found with ``str.find`` and
    its authority is scanned once (a regex anchored on the scheme retried the
    scheme's letters at every position: quadratic, 70 s for a 200 KB value)."""
    i = text.find("://")
    if i < 0 or "@" not in text:
        return text
    out: list[str] = []
    done = 0
    while i >= 0:
        start = i + 3
        m = _AUTHORITY_END.search(text, start)
        end = m.start() if m else len(text)
        at = text.rfind("@", start, end)
        if at >= 0:
            userinfo = text[start:at]
            colon = userinfo.find(":")
            if colon >= 0:
                masked = userinfo[:colon] + ":***"
            else:
                masked = "***" if len(userinfo) >= 12 or _SECRET_PREFIX.match(userinfo) else userinfo
            out.append(text[done:start])
            out.append(masked)
            done = at
        i = text.find("://", max(start, at + 1 if at >= 0 else start))
    out.append(text[done:])
    return "".join(out)


def _secret_looking(piece: str) -> bool:
    from velro_policy.values.secret_quality import looks_like_real_secret

    if _SECRET_PREFIX.match(piece):
        return True
    if "***" in piece:
        return False  # masked already (a URL password)
    if _ENV_NAME.fullmatch(piece) and not any(c.isdigit() for c in piece):
        return False  # a name (``settings.JWT_SECRET``, ``DATABASE_URL``), not a value
    if _ORIGIN.fullmatch(piece):
        return False  # ``'http://localhost:3000'`` in a CORS finding: the origin is what the user must see
    return looks_like_real_secret(piece, min_length=16)


def scrub(text: str) -> str:
    """Free text that may quote a scanned value (a "cannot verify" reason quoting
    source, a list's repr) with URL passwords and secret-looking literals masked.
    Linear in the length of ``text``."""
    text = mask_url_userinfo(text)

    def one(m: re.Match[str]) -> str:
        piece = m.group(1) or m.group(2) or m.group(3)
        if not _secret_looking(piece):
            return m.group(0)
        quote = m.group(0)[0] if m.group(3) is None else ""
        return f"{quote}{mask_secret(piece)}{quote}"

    return _LITERAL.sub(one, text)


def show(key: str, value: object, *, secret: bool = False) -> str:
    """The only sanctioned rendering of a value in any output."""
    if isinstance(value, Unknown):
        return f"<unknown: {scrub(value.why)}>"
    if isinstance(value, str):
        from velro_policy.values.secret_quality import is_placeholder, looks_like_real_secret

        if (secret or is_secret_key(key)) and value:
            if is_placeholder(value):
                return f"a placeholder ({len(value)} chars)"
            return mask_secret(value)
        if not value.startswith(("/", "http://", "https://")) and looks_like_real_secret(value, min_length=16):
            return mask_secret(value)  # a credential under an innocent name is still a credential
        text = mask_url_userinfo(value)
        if len(text) > 60:
            text = text[:57] + "..."
        return repr(text)
    if secret or is_secret_key(key):
        return "*** (masked)"
    text = scrub(repr(value))  # a list or dict from a settings module may hold a URL with a password
    return text if len(text) <= 60 else text[:57] + "..."
