"""Secrets of the site: its key, HMAC-signed expiring file links, signed session cookies.

A signed link carries ``expires`` (Unix seconds) and ``sig`` = HMAC-SHA256 of the path and that time under the
site's key: a download manager fetches it without a session until it expires; changing a byte of the path, the time
or the signature makes it worthless. The key is made once (``<state>/site/secret.key``, mode 0600) and kept, so
links and sessions survive a restart of the server.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

LINK_SECONDS = int(os.environ.get("SNOWLAND_LINK_HOURS", "24")) * 3600
SESSION_SECONDS = 7 * 24 * 3600


def site_key(folder: Path) -> bytes:
    """The site's key in ``folder``, made on first use (two processes at once agree: the second reads the first's)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "secret.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    for _ in range(50):
        if key := path.read_text().strip():
            return bytes.fromhex(key)
        time.sleep(0.02)
    raise RuntimeError(f"the site key {path} is empty")


@dataclass(frozen=True, kw_only=True)
class Signer:
    """Signs and checks file links and session values with one key."""

    key: bytes

    def _mac(self, message: str) -> str:
        return hmac.new(self.key, message.encode(), hashlib.sha256).hexdigest()

    def link_query(self, path: str, *, now: float | None = None, seconds: int = LINK_SECONDS) -> str:
        """The query string that signs ``path`` (a URL path) for ``seconds`` from ``now``."""
        expires = int((time.time() if now is None else now) + seconds)
        return f"expires={expires}&sig={self._mac(f'link:{path}:{expires}')}"

    def link_problem(self, path: str, *, expires: str, sig: str, now: float | None = None) -> str | None:
        """Why a signed link is refused, or None when it is valid."""
        if not expires.isdigit() or not hmac.compare_digest(self._mac(f"link:{path}:{expires}"), sig):
            return "the link's signature does not match (altered or not signed by this site)"
        if int(expires) < (time.time() if now is None else now):
            return "the link has expired; order again for fresh links"
        return None

    def session(self, account: int, *, now: float | None = None) -> str:
        """A session cookie value: the account and its expiry, signed."""
        expires = int((time.time() if now is None else now) + SESSION_SECONDS)
        value = f"{account}.{expires}"
        return f"{value}.{self._mac(f'session:{value}')}"

    def account_of(self, cookie: str, *, now: float | None = None) -> int | None:
        """The account of a valid, unexpired session cookie, else None."""
        account, _, rest = cookie.partition(".")
        expires, _, sig = rest.partition(".")
        if not (account.isdigit() and expires.isdigit()):
            return None
        if not hmac.compare_digest(self._mac(f"session:{account}.{expires}"), sig):
            return None
        return int(account) if int(expires) >= (time.time() if now is None else now) else None
