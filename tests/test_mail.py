"""Notification e-mail: each backend delivers, and no message says more than "look here"."""

from __future__ import annotations

import email
import logging
import socket
import stat
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.smtp import ACCEPTED_LOGIN
from tracker.notifications.mail import MailError, absolute_url, mail_directory, send_message
from tracker.notifications.messages import NotificationKind, compose

CASE_URL = "https://tracker.example.org/cases/17"
RECIPIENT = "priya.shah@example.org"
RECIPIENT_NAME = "Priya Shah"

# What a careless message might leak: a case reference, the subject of the case, their
# school, a policy clause, and the word that says which track the case is on.
FORBIDDEN = ["HMAT-2026-0001", "Jordan Example", "Oakfield Academy", "3.4", "allegation"]


def assert_reveals_nothing(*texts: str) -> None:
    for text in texts:
        for word in FORBIDDEN:
            assert word.lower() not in text.lower(), f"{word!r} in {text!r}"


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


@pytest.fixture
def smtp_app(make_app, smtp_server):
    app = make_app(
        MAIL_BACKEND="smtp",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_TIMEOUT=5,
        MAIL_FROM="safeguarding-tracker@trust.example.org",
    )
    with app.app_context():
        yield app


# --- the words -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_each_kind_is_delivered_by_smtp_and_says_nothing_about_the_case(
    smtp_app, smtp_server, kind
):
    subject, body = compose(kind, case_url=CASE_URL, recipient_name=RECIPIENT_NAME)
    send_message(RECIPIENT, subject, body)

    [envelope] = smtp_server.envelopes
    assert envelope.mail_from == "safeguarding-tracker@trust.example.org"
    assert envelope.rcpt_tos == [RECIPIENT]
    message = parse(envelope.original_content)
    assert message["To"] == RECIPIENT
    assert message["From"] == "safeguarding-tracker@trust.example.org"
    assert message["Subject"] == subject
    assert message["Date"]
    assert message["Message-ID"].endswith("@trust.example.org>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["Content-Transfer-Encoding"] == "7bit"  # short lines, readable as sent
    received = message.get_content()
    assert received.replace("\r\n", "\n") == body
    assert CASE_URL in received
    assert received.startswith(f"Hello {RECIPIENT_NAME},")
    assert "deliberately contains no details" in received
    assert "Sign in" in received
    assert received.rstrip().endswith(
        "You are receiving this because of your role in the safeguarding case tracker."
    )
    assert_reveals_nothing(subject, received)


def test_the_subjects_are_the_reviewed_ones():
    subjects = {
        kind: compose(kind, case_url=CASE_URL, recipient_name="A")[0] for kind in NotificationKind
    }
    assert subjects == {
        NotificationKind.DECISION_NEEDED: "A case is waiting for your decision",
        NotificationKind.LADO_REFERRAL_DUE: "A LADO referral is due",
        NotificationKind.RETURNED_FOR_INVESTIGATION: "A case has been returned to you",
        NotificationKind.APPEAL_LODGED: "An appeal has been lodged",
        NotificationKind.RETENTION_DUE: "A record is due for disposal or review",
        NotificationKind.CONCERN_RAISED: "A concern has been raised",
        NotificationKind.PATTERN_FLAGGED: "A pattern of concerns needs review",
    }
    assert NotificationKind("decision_needed") is NotificationKind.DECISION_NEEDED


@pytest.mark.parametrize(
    "case_url", ["/cases/17", "tracker.example.org/cases/17", "https://x.org/a b"]
)
def test_compose_wants_an_absolute_link(case_url):
    with pytest.raises(ValueError, match="case_url"):
        compose(NotificationKind.APPEAL_LODGED, case_url=case_url, recipient_name="A")


def test_compose_refuses_a_name_that_spans_lines():
    with pytest.raises(ValueError, match="one line"):
        compose(NotificationKind.APPEAL_LODGED, case_url=CASE_URL, recipient_name="A\nB")


def test_links_are_built_on_the_base_url(make_app):
    app = make_app(BASE_URL="https://tracker.example.org")
    with app.app_context():
        assert absolute_url("/cases/17") == CASE_URL
        assert absolute_url("cases/17") == CASE_URL


# --- SMTP ------------------------------------------------------------------------------


def test_smtp_signs_in_when_a_username_is_set(make_app, smtp_server):
    app = make_app(
        MAIL_BACKEND="smtp",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_USERNAME="tracker",
        SMTP_PASSWORD="relay-password-do-not-log",
    )
    with app.app_context():
        send_message(RECIPIENT, "Subject", "Body")
    assert smtp_server.logins == [ACCEPTED_LOGIN]
    assert len(smtp_server.envelopes) == 1


def test_a_refused_login_is_a_mail_error_without_the_password(make_app, smtp_server, caplog):
    app = make_app(
        MAIL_BACKEND="smtp",
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=smtp_server.port,
        SMTP_USERNAME="tracker",
        SMTP_PASSWORD="wrong-password-do-not-log",
    )
    with app.app_context(), pytest.raises(MailError, match="refused SMTP_USERNAME") as error:
        send_message(RECIPIENT, "Subject", "Body")
    assert "wrong-password-do-not-log" not in str(error.value)
    assert "wrong-password-do-not-log" not in caplog.text
    assert smtp_server.envelopes == []


def test_smtp_failure_is_a_quick_mail_error(make_app):
    # A socket bound but not listening: connections to it are refused, and nothing else
    # can take the port while the test runs.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        app = make_app(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=2)
        started = time.monotonic()
        with app.app_context(), pytest.raises(MailError, match=f"127.0.0.1:{port}") as error:
            send_message(RECIPIENT, "Subject", "Body")
    assert time.monotonic() - started < 5
    assert isinstance(error.value, RuntimeError)
    assert isinstance(error.value.__cause__, OSError)
    assert RECIPIENT not in str(error.value)  # it is logged: no address in it


@pytest.mark.parametrize(
    "to", ["not-an-address", "a@example.org, b@example.org", "a@example.org\r\nBcc: b@x.org"]
)
def test_only_a_single_plain_address_is_accepted(smtp_app, smtp_server, to):
    with pytest.raises(MailError) as error:
        send_message(to, "Subject", "Body")
    assert "example.org" not in str(error.value)
    assert smtp_server.envelopes == []


def test_a_subject_cannot_add_headers(smtp_app, smtp_server):
    with pytest.raises(MailError):
        send_message(RECIPIENT, "Subject\r\nBcc: someone@example.org", "Body")
    assert smtp_server.envelopes == []


# --- file and console ------------------------------------------------------------------


def test_file_backend_writes_private_eml_files_in_order(make_app):
    app = make_app(MAIL_BACKEND="file")
    with app.app_context():
        directory = mail_directory()
        for kind in NotificationKind:
            subject, body = compose(kind, case_url=CASE_URL, recipient_name=RECIPIENT_NAME)
            send_message(RECIPIENT, subject, body)

    assert directory == Path(app.instance_path) / "mail"
    files = sorted(directory.iterdir())
    assert [f.suffix for f in files] == [".eml"] * len(NotificationKind)  # no temporary files
    subjects = []
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        message = parse(path.read_bytes())
        assert message["To"] == RECIPIENT
        assert CASE_URL in message.get_content()
        subjects.append(message["Subject"])
    assert subjects == [
        compose(k, case_url=CASE_URL, recipient_name="")[0] for k in NotificationKind
    ]


def test_file_backend_uses_mail_file_path(make_app, tmp_path):
    app = make_app(MAIL_BACKEND="file", MAIL_FILE_PATH=str(tmp_path / "outbox"))
    with app.app_context():
        send_message(RECIPIENT, "Subject", "Body")
    [written] = (tmp_path / "outbox").iterdir()
    assert parse(written.read_bytes())["Subject"] == "Subject"


def test_console_backend_logs_the_subject_but_not_the_recipient_or_the_body(make_app, caplog):
    app = make_app(MAIL_BACKEND="console")
    subject, body = compose(
        NotificationKind.DECISION_NEEDED, case_url=CASE_URL, recipient_name=RECIPIENT_NAME
    )
    # The app's "tracker" logger does not propagate to the root, where caplog listens.
    logger = logging.getLogger("tracker.notifications")
    logger.addHandler(caplog.handler)
    try:
        with app.app_context(), caplog.at_level(logging.INFO, logger="tracker.notifications"):
            send_message(RECIPIENT, subject, body)
    finally:
        logger.removeHandler(caplog.handler)
    [record] = [r for r in caplog.records if r.name == "tracker.notifications"]
    assert record.levelno == logging.INFO
    assert RECIPIENT not in caplog.text
    assert subject in record.getMessage()
    assert CASE_URL not in caplog.text
    assert "Hello" not in caplog.text


# --- configuration ---------------------------------------------------------------------


def test_an_unknown_mail_backend_refuses_to_start(make_app, monkeypatch):
    monkeypatch.setenv("MAIL_BACKEND", "pigeon")
    with pytest.raises(RuntimeError, match="MAIL_BACKEND must be smtp, file or console"):
        make_app()


def test_mail_settings_come_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("MAIL_BACKEND", "SMTP")
    monkeypatch.setenv("SMTP_PORT", "587")
    monkeypatch.setenv("SMTP_STARTTLS", "yes")
    monkeypatch.setenv("BASE_URL", "https://tracker.example.org/")
    app = make_app()
    assert app.config["MAIL_BACKEND"] == "smtp"
    assert app.config["SMTP_PORT"] == 587
    assert app.config["SMTP_STARTTLS"] is True
    assert app.config["BASE_URL"] == "https://tracker.example.org"


@pytest.mark.parametrize(
    ("name", "value"), [("SMTP_PORT", "twenty-five"), ("BASE_URL", "tracker.example.org")]
)
def test_bad_mail_settings_refuse_to_start(make_app, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        make_app()


MAIL_SETTINGS = [
    "MAIL_BACKEND",
    "MAIL_FROM",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "SMTP_TIMEOUT",
    "MAIL_FILE_PATH",
    "BASE_URL",
]


def test_the_defaults(make_app, monkeypatch):
    for name in MAIL_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    app = make_app()
    assert app.config["MAIL_BACKEND"] == "console"
    assert app.config["MAIL_FROM"] == "safeguarding-tracker@localhost"
    assert (app.config["SMTP_HOST"], app.config["SMTP_PORT"]) == ("localhost", 25)
    assert app.config["SMTP_STARTTLS"] is False
    assert (app.config["SMTP_USERNAME"], app.config["SMTP_PASSWORD"]) == ("", "")
    assert app.config["SMTP_TIMEOUT"] == 10
    assert app.config["MAIL_FILE_PATH"] == ""
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"


def test_an_unknown_backend_set_in_code_is_a_mail_error(make_app):
    app = make_app(MAIL_BACKEND="pigeon")
    with app.app_context(), pytest.raises(MailError, match="MAIL_BACKEND"):
        send_message(RECIPIENT, "Subject", "Body")
