"""Loopback ports for the services a run starts on this machine (test and bench servers, local databases)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port free on loopback now (the caller binds it soon: another program may take it in between)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
