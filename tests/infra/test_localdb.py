"""The embedded index lets no one in without a password, and each role can do what it needs and no more."""

from __future__ import annotations

import os
import stat

import psycopg2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from odc_config.settings import ROLES


def _without_passfile() -> dict[str, str]:
    return {"host": "127.0.0.1", "dbname": "snowland", "passfile": os.devnull}


def test_tcp_connections_without_the_password_are_refused(database, monkeypatch):
    monkeypatch.delenv("PGPASSFILE", raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    for role in ROLES.values():
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(port=database.port, user=role, **_without_passfile())
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(port=database.port, user=role, password="change-me", **_without_passfile())
    hba = [line.split() for line in (database.data_dir / "pg_hba.conf").read_text().splitlines()
           if line.strip() and not line.startswith("#")]
    assert hba and all(line[-1] == "scram-sha-256" for line in hba), "every line asks for a password"


def test_the_passwords_are_generated_and_readable_by_their_owner_only(database):
    folder = database.passfile("owner").parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    passwords = set()
    for role, name in ROLES.items():
        path = database.passfile(role)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        host, port, db, user, password = path.read_text().strip().split(":")
        assert (host, user) == ("127.0.0.1", name) and len(password) >= 24
        passwords.add(password)
    assert len(passwords) == len(ROLES)


def _can(url: str, statement: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
            conn.rollback()  # tried, never kept
        return True
    except DBAPIError as err:
        assert "permission denied" in str(err) or "read-only" in str(err) or "must be owner" in str(err), err
        return False
    finally:
        engine.dispose()


def test_each_role_can_do_what_it_needs_and_no_more(database, dc):
    from odc_config.settings import load_settings

    s = load_settings()
    owner, writer, reader = (s.role_url(r) for r in ("owner", "writer", "reader"))
    assert s.db_url == writer and "snowland_writer@" in writer and "passfile=" in writer
    write_row = "update odc.dataset set archived = archived where false"
    for statement, allowed in [
        ("select count(*) from odc.dataset", {owner, writer, reader}),
        (write_row, {owner, writer}),
        ("delete from odc.dataset_lineage where false", {owner, writer}),
        ("create table odc.intruder (x int)", {owner}),
        ("create schema intruder", {owner}),
        ("alter table odc.dataset add column intruder int", {owner}),
        ("drop table odc.dataset cascade", {owner}),  # in a transaction rolled back
        ("create role intruder", set()),
    ]:
        for url in (owner, writer, reader):
            assert _can(url, statement) == (url in allowed), (url.split("@")[0], statement)
