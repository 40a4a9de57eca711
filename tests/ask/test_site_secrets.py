"""The site's signed links, sessions and password slow-down, on a fixed clock (no server)."""

from __future__ import annotations

from flows.ask.site.accounts import Throttle, hash_password, password_matches
from flows.ask.site.signing import Signer

NOW = 1_800_000_000.0


def test_a_signed_link_is_valid_until_it_expires_and_only_for_its_path():
    signer = Signer(key=b"k" * 32)
    query = dict(part.split("=") for part in signer.link_query("/files/a/b.tif", now=NOW, seconds=60).split("&"))
    assert signer.link_problem("/files/a/b.tif", now=NOW + 59, **query) is None
    assert "expired" in signer.link_problem("/files/a/b.tif", now=NOW + 61, **query)
    assert "signature" in signer.link_problem("/files/a/c.tif", now=NOW, **query)
    assert "signature" in signer.link_problem("/files/a/b.tif", now=NOW, expires=str(int(query["expires"]) + 3600),
                                              sig=query["sig"]), "a link cannot be made to last longer"
    assert "signature" in Signer(key=b"x" * 32).link_problem("/files/a/b.tif", now=NOW, **query)


def test_a_session_names_its_account_until_it_expires_and_cannot_be_forged():
    signer = Signer(key=b"k" * 32)
    cookie = signer.session(7, now=NOW)
    assert signer.account_of(cookie, now=NOW + 3600) == 7
    assert signer.account_of(cookie, now=NOW + 8 * 24 * 3600) is None
    assert signer.account_of("8" + cookie[1:], now=NOW) is None, "another account's number"
    assert signer.account_of("garbage", now=NOW) is None


def test_passwords_are_salted_scrypt_and_repeated_failures_wait_longer():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored and stored != hash_password("correct horse")
    assert password_matches("correct horse", stored) and not password_matches("correct horsf", stored)
    throttle = Throttle(free=2)
    for _ in range(2):
        assert throttle.wait("a@b.c") == 0
        throttle.failed("a@b.c")
    assert throttle.wait("a@b.c") > 1 and throttle.wait("other@b.c") == 0
    throttle.failed("a@b.c")
    assert throttle.wait("a@b.c") > 3, "each further failure waits longer"
    throttle.succeeded("a@b.c")
    assert throttle.wait("a@b.c") == 0
