"""A real SMTP server on loopback (aiosmtpd) for the e-mail tests: nothing is mocked."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword


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


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it is given."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:  # noqa: N802
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


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    logins: list[LoginPassword] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        logins.append(auth_data)
        # handled=False: aiosmtpd then sends the 535 reply itself.
        return AuthResult(success=auth_data == ACCEPTED_LOGIN, handled=False)

    collector = Collector()
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
