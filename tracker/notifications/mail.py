"""Sending e-mail through the configured backend: an SMTP relay, .eml files, or the log.

Callers pass finished text (see `messages.py`); this module only delivers it. A failure to
deliver is a `MailError`, so a reminder run can log it and go on to the next recipient.
The SMTP password is handed to smtplib and nowhere else: not to the log, not to an error.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from flask import current_app

log = logging.getLogger("tracker.notifications")


class MailError(RuntimeError):
    """A message could not be built or delivered; the text says why, never a password."""


def send_message(to: str, subject: str, body: str) -> None:
    """Send one plain-text message to one address through MAIL_BACKEND.

    Raises MailError if the message cannot be built (a malformed address) or delivered.
    """
    backend = current_app.config["MAIL_BACKEND"]
    deliver = _BACKENDS.get(backend)
    if deliver is None:
        raise MailError(f"MAIL_BACKEND must be smtp, file or console, not {backend!r}.")
    deliver(build_message(to, subject, body))


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    """The RFC 5322 message the smtp and file backends deliver (plain text, UTF-8)."""
    sender = current_app.config["MAIL_FROM"]
    _, address = parseaddr(to)
    if "@" not in address or address != to.strip():
        # The address itself stays out of the message: errors are logged.
        raise MailError("The recipient is not a single e-mail address.")
    message = EmailMessage()
    try:
        # The default policy refuses CR or LF in a header value, so nothing a user typed
        # can add a header (a Bcc, say).
        message["From"] = sender
        message["To"] = address
        message["Subject"] = subject
        message["Date"] = format_datetime(datetime.now(UTC))
        # Our own domain, so that make_msgid does not look up this host's name.
        message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    except ValueError as exc:
        raise MailError(f"Cannot build the e-mail: {exc}") from exc
    message.set_content(body, subtype="plain", charset="utf-8")
    return message


def absolute_url(path: str) -> str:
    """A link for an e-mail: `path` (such as /cases/42) on BASE_URL."""
    return current_app.config["BASE_URL"].rstrip("/") + "/" + path.lstrip("/")


def mail_directory() -> Path:
    """Where the file backend writes: MAIL_FILE_PATH (a relative path is taken from the
    instance folder), or `mail` in the instance folder."""
    return Path(current_app.instance_path) / (current_app.config.get("MAIL_FILE_PATH") or "mail")


# --- backends --------------------------------------------------------------------------


def _send_smtp(message: EmailMessage) -> None:
    config = current_app.config
    host, port = config["SMTP_HOST"], int(config["SMTP_PORT"])
    try:
        with smtplib.SMTP(host, port, timeout=config["SMTP_TIMEOUT"]) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["SMTP_USERNAME"]:
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        # The server's reply, not what we sent: smtplib never puts the password in it.
        raise MailError(
            f"The mail server {host}:{port} refused SMTP_USERNAME and SMTP_PASSWORD "
            f"({exc.smtp_code})."
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        # Its text holds the address: errors are logged, so say only what happened.
        raise MailError(f"The mail server {host}:{port} refused the recipient.") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(
            f"The mail server {host}:{port} refused the e-mail ({exc.smtp_code})."
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"Could not send e-mail through {host}:{port}: {exc}") from exc


def _write_file(message: EmailMessage) -> None:
    directory = mail_directory()
    # UTC time to the microsecond, then a random suffix: names sort in sending order and
    # never collide between workers.
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
    temporary = directory / f".{name}.tmp"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(message.as_bytes())
        # Written under a hidden name and then renamed, so that whatever reads the folder
        # never sees half a message.
        temporary.rename(directory / name)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise MailError(f"Could not write e-mail to {directory}: {exc}") from exc


def _log_only(message: EmailMessage) -> None:
    # The subject only (it is content-free): an address is personal data, and the body
    # stays out of logs too. MAIL_BACKEND=file shows who would have been sent what.
    log.info("E-mail not sent (MAIL_BACKEND is console): subject %r", message["Subject"])


def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


_BACKENDS: dict[str, Callable[[EmailMessage], None]] = {
    "smtp": _send_smtp,
    "file": _write_file,
    "console": _log_only,
}
