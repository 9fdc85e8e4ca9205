"""A real SMTP server on loopback (aiosmtpd) for the e-mail tests: nothing is mocked.

Also a slow one (a mail server that takes its time to accept a message), and a look at
the database while a sender waits on it: no transaction may be open then.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy

import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from sqlalchemy.engine import make_url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def what_a_reader_sees(envelope: Envelope) -> str:
    """The message as its reader sees it: sender, recipient, subject and text.

    Not the Message-ID or Date headers: they hold a process id, random digits and the
    time, in which a check for "3.4" (a clause) can find a match by chance.
    """
    message = message_from_bytes(envelope.content, policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return "\n".join([str(message["From"]), str(message["To"]), str(message["Subject"]), text])


def no_transaction_open(database_url: str) -> bool:
    """Whether another user could write to the database right now.

    SQLite: another connection takes the write lock within half a second (every
    transaction of the app holds it: BEGIN IMMEDIATE, tracker/db.py). PostgreSQL: no
    other client session is inside a transaction.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, timeout=0.5, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        except sqlite3.OperationalError:  # database is locked
            return False
        finally:
            connection.close()
        return True
    server = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as connection:
        (open_elsewhere,) = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
            "AND xact_start IS NOT NULL"
        ).fetchone()
    return open_elsewhere == 0


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it is given.

    With a `delay` it waits that long before accepting each message, as a slow mail
    server does; `delivering` is set once a message has arrived and is waiting. If
    `while_delivering` is set, it is called as each message arrives (off the server's
    event loop) and what it returns is kept in `observations`.
    """

    envelopes: list[Envelope] = field(default_factory=list)
    delay: float = 0.0
    while_delivering: Callable[[], object] | None = None
    observations: list[object] = field(default_factory=list)
    delivering: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:  # noqa: N802
        self.delivering.set()
        if self.while_delivering is not None:
            loop = asyncio.get_running_loop()
            self.observations.append(await loop.run_in_executor(None, self.while_delivering))
        if self.delay:
            await asyncio.sleep(self.delay)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    collector: Collector
    logins: list[LoginPassword]

    @property
    def envelopes(self) -> list[Envelope]:
        return self.collector.envelopes


ACCEPTED_LOGIN = LoginPassword(b"tracker", b"relay-password-do-not-log")


@contextlib.contextmanager
def running_smtp_server(collector: Collector) -> Iterator[SmtpServer]:
    """An SMTP server on a free loopback port that hands each message to `collector`."""
    logins: list[LoginPassword] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        logins.append(auth_data)
        # handled=False: aiosmtpd then sends the 535 reply itself.
        return AuthResult(success=auth_data == ACCEPTED_LOGIN, handled=False)

    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        # Loopback only, and the test has no certificate: offer AUTH without STARTTLS.
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, collector, logins)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp_server(Collector()) as server:
        yield server
