"""Accounts and carts in the ``site`` schema, through the site's own role (it sees nothing of the catalogue).

Passwords are hashed with scrypt (the standard library's, n=2**14, r=8, p=1, a salt per account) and never stored
or logged in clear; repeated wrong passwords for one address are slowed down (`Throttle`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from products.errors import BadInputError

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
MIN_PASSWORD = 8
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SCHEMA = """
create table if not exists site.account (
    id serial primary key,
    email text not null unique,
    password text not null,
    created timestamptz not null default now());
create table if not exists site.cart (
    account integer not null references site.account(id) on delete cascade,
    dataset uuid not null,
    added timestamptz not null default now(),
    primary key (account, dataset));
"""


class AccountError(BadInputError):
    """A registration or sign-in the site refuses; the message says why."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def password_matches(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    computed = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), **SCRYPT)
    return hmac.compare_digest(computed, base64.b64decode(digest))


@dataclass(kw_only=True)
class Throttle:
    """After ``free`` wrong passwords for an address, each further try waits 2, 4, 8 ... seconds (at most ``cap``)."""

    free: int = 3
    cap: float = 300
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, email: str, *, now: float | None = None) -> float:
        """Seconds before ``email`` may try again (0: now)."""
        with self._lock:
            count, last = self._failures.get(email, (0, 0.0))
        if count < self.free:
            return 0.0
        return max(0.0, last + min(self.cap, 2.0 ** (count - self.free + 1)) - (time.time() if now is None else now))

    def failed(self, email: str) -> None:
        with self._lock:
            count, _ = self._failures.get(email, (0, 0.0))
            self._failures[email] = (count + 1, time.time())

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._failures.pop(email, None)


class Accounts:
    """The site's accounts and carts on ``engine`` (the site role's connection); the schema ``site`` is made by
    ``infra/localdb.py`` (on an index of your own: ``create schema site authorization <the site's role>``)."""

    def __init__(self, engine) -> None:
        from sqlalchemy import text

        self.engine = engine
        with engine.begin() as conn:
            conn.execute(text(SCHEMA))

    def register(self, *, email: str, password: str) -> int:
        from sqlalchemy import text
        from sqlalchemy.exc import IntegrityError

        email = email.strip().lower()
        if not EMAIL.match(email):
            raise AccountError(f"{email!r} is not an e-mail address")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
        try:
            with self.engine.begin() as conn:
                return conn.execute(text("insert into site.account (email, password) values (:e, :p) returning id"),
                                    {"e": email, "p": hash_password(password)}).scalar_one()
        except IntegrityError:
            raise AccountError(f"an account for {email} exists already: sign in") from None

    def check(self, *, email: str, password: str) -> int | None:
        """The account of ``email`` if ``password`` is its password, else None."""
        from sqlalchemy import text

        with self.engine.connect() as conn:
            row = conn.execute(text("select id, password from site.account where email = :e"),
                               {"e": email.strip().lower()}).first()
        if row is None:
            hash_password(password)  # as slow as a known address: the answer's time does not tell which exist
            return None
        return row.id if password_matches(password, row.password) else None

    def cart(self, account: int) -> list[str]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            rows = conn.execute(text("select dataset from site.cart where account = :a order by added, dataset"),
                                {"a": account})
            return [str(r.dataset) for r in rows]

    def add(self, account: int, dataset: str) -> None:
        from sqlalchemy import text

        with self.engine.begin() as conn:
            conn.execute(text("insert into site.cart (account, dataset) values (:a, :d) on conflict do nothing"),
                         {"a": account, "d": dataset})

    def remove(self, account: int, dataset: str) -> None:
        from sqlalchemy import text

        with self.engine.begin() as conn:
            conn.execute(text("delete from site.cart where account = :a and dataset = :d"),
                         {"a": account, "d": dataset})

    def email(self, account: int) -> str | None:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return conn.execute(text("select email from site.account where id = :a"), {"a": account}).scalar()
