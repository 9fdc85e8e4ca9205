"""Configuration: the only module that reads the process environment."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent

# Values that must never sign sessions or audit records outside development. A key that
# appears in documentation or a sample file is as good as public.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"", "dev", "development", "secret", "changeme", "change-me", "please-change-me", "test"}
)
MIN_SECRET_LENGTH = 24

MB = 1024 * 1024


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, not {value!r}.") from exc


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at the psycopg 3 driver, the only one we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings for a real deployment, read from the environment at start-up."""

    TESTING = False

    def __init__(self) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY", "")
        self.AUDIT_KEY = env.get("AUDIT_KEY", "")
        # Encrypts each user's TOTP secret at rest (tracker/auth/mfa.py). Earlier keys,
        # comma-separated, still decrypt during a rotation (`flask users rotate-totp-key`).
        self.TOTP_KEY = env.get("TOTP_KEY", "")
        self.TOTP_OLD_KEYS = [
            k.strip() for k in env.get("TOTP_OLD_KEYS", "").split(",") if k.strip()
        ]

        database_url = env.get("DATABASE_URL", "").strip()
        # None means "the SQLite file in the instance folder", resolved by the factory.
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(database_url) or None
        self.INSTANCE_PATH = env.get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance")

        # Sessions: a random id in a signed cookie, checked against the database on every
        # request (tracker/auth/sessions.py).
        self.SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
        self.SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
        self.SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", True)
        # The __Host- prefix makes the browser refuse the cookie unless it is Secure,
        # host-only and path=/, so it needs HTTPS.
        self.SESSION_COOKIE_NAME = "__Host-tracker" if self.SESSION_COOKIE_SECURE else "tracker"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"

        # Sign-in throttling (tracker/auth/throttle.py), kept in the database so that every
        # server process sees the same counts. After this many failures in a row an account
        # (or a client address) must wait a minute, then two, four... up to the maximum. A
        # school's staff often share one public address, hence the higher address limit.
        self.THROTTLE_ACCOUNT_ATTEMPTS = _int("THROTTLE_ACCOUNT_ATTEMPTS", 5)
        self.THROTTLE_ADDRESS_ATTEMPTS = _int("THROTTLE_ADDRESS_ATTEMPTS", 100)
        self.THROTTLE_MAX_MINUTES = _int("THROTTLE_MAX_MINUTES", 60)
        # Failures older than this (since the last one) are forgotten.
        self.THROTTLE_FORGET_HOURS = _int("THROTTLE_FORGET_HOURS", 24)
        for name in ("THROTTLE_ACCOUNT_ATTEMPTS", "THROTTLE_ADDRESS_ATTEMPTS"):
            if getattr(self, name) < 1:
                raise RuntimeError(f"{name} must be at least 1.")

        # Argon2id cost (argon2-cffi's RFC 9106 "low memory" profile by default).
        self.ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
        self.ARGON2_MEMORY_COST_KIB = _int("ARGON2_MEMORY_COST_KIB", 65536)
        self.ARGON2_PARALLELISM = _int("ARGON2_PARALLELISM", 4)

        # CSRF tokens live as long as the signed-in session; the session's own idle and
        # absolute limits end them, so a slow writer does not lose a long form.
        self.WTF_CSRF_TIME_LIMIT = None

        # Shown on the privacy notice (DESIGN.md section 6). The trust's DPO sets these.
        self.LAWFUL_BASIS = env.get(
            "LAWFUL_BASIS",
            "UK GDPR Article 6(1)(c) legal obligation and 6(1)(e) public task: the trust's "
            "duties under the Education Act 2002 section 175 and Keeping Children Safe in "
            "Education to safeguard pupils and to manage allegations against staff; and "
            "Article 6(1)(b) contract, for the management of staff conduct under the terms "
            "of employment.",
        )
        self.SCHEDULE_1_CONDITION = env.get(
            "SCHEDULE_1_CONDITION",
            "Data Protection Act 2018 Schedule 1, Part 2, paragraph 18 (safeguarding of "
            "children and of individuals at risk), with Part 1, paragraph 1 (employment), "
            "under Article 10 UK GDPR and section 10(5) for criminal offence data.",
        )
        self.DPO_CONTACT = env.get("DPO_CONTACT", "the trust's data protection officer")

        # Evidence files (tracker/cases/evidence.py): the largest upload accepted, and where
        # the files are kept, outside static/. Empty means "<instance path>/evidence".
        self.EVIDENCE_MAX_MB = _int("EVIDENCE_MAX_MB", 10)
        # Concerns one member of staff may raise through the staff form in 24 hours: a
        # brake on a runaway script or a grudge, far above what anyone needs; past it the
        # form keeps their draft and sends them to their safeguarding lead.
        self.STAFF_CONCERNS_PER_DAY = _int("STAFF_CONCERNS_PER_DAY", 5)
        if self.STAFF_CONCERNS_PER_DAY < 1:
            raise RuntimeError("STAFF_CONCERNS_PER_DAY must be at least 1.")
        if self.EVIDENCE_MAX_MB < 1:
            raise RuntimeError("EVIDENCE_MAX_MB must be at least 1.")
        self.EVIDENCE_PATH = env.get("EVIDENCE_PATH", "").strip()
        # Where the files are kept (tracker/storage/): "folder" (EVIDENCE_PATH, one host)
        # or "s3", a bucket every host shares. boto3 reads the bucket's credentials from
        # its own sources (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or the
        # host's role); an endpoint is needed for stores other than Amazon's.
        self.EVIDENCE_STORE = env.get("EVIDENCE_STORE", "folder").strip().lower() or "folder"
        if self.EVIDENCE_STORE not in {"folder", "s3"}:
            raise RuntimeError(f"EVIDENCE_STORE must be folder or s3, not {self.EVIDENCE_STORE!r}.")
        self.EVIDENCE_S3_BUCKET = env.get("EVIDENCE_S3_BUCKET", "").strip()
        self.EVIDENCE_S3_PREFIX = env.get("EVIDENCE_S3_PREFIX", "evidence/").strip()
        self.EVIDENCE_S3_ENDPOINT_URL = env.get("EVIDENCE_S3_ENDPOINT_URL", "").strip()
        self.EVIDENCE_S3_REGION = env.get("EVIDENCE_S3_REGION", "").strip()
        if self.EVIDENCE_STORE == "s3" and not self.EVIDENCE_S3_BUCKET:
            raise RuntimeError("EVIDENCE_STORE=s3 needs EVIDENCE_S3_BUCKET, the bucket's name.")
        # Seals every evidence file (AES-256-GCM). Old keys, comma-separated, still open
        # the files they sealed until `flask evidence migrate` has re-sealed them.
        self.EVIDENCE_KEY = env.get("EVIDENCE_KEY", "")
        self.EVIDENCE_OLD_KEYS = [
            k.strip() for k in env.get("EVIDENCE_OLD_KEYS", "").split(",") if k.strip()
        ]

        # Sign-in with a trust's identity provider (tracker/auth/oidc.py): each trust's
        # client secret, as OIDC_CLIENT_SECRET_<TRUST CODE>; the rest is the trust's own
        # setting (`flask trust sign-in`). How long a request to the provider may take.
        self.OIDC_CLIENT_SECRETS = {
            name.removeprefix("OIDC_CLIENT_SECRET_").upper(): value
            for name, value in env.items()
            if name.startswith("OIDC_CLIENT_SECRET_") and value
        }
        self.OIDC_TIMEOUT_SECONDS = _int("OIDC_TIMEOUT_SECONDS", 10)

        # Encrypts backups (`flask backup`, tracker/backup/). Keep it apart from the
        # database and its backups: a backup cannot be opened without it. Only the backup
        # commands need it.
        self.BACKUP_KEY = env.get("BACKUP_KEY", "")

        # E-mail notifications (tracker/notifications/mail.py). "smtp" sends through a
        # relay; "file" writes each message as an .eml file, for staging and checking the
        # wording; "console" only logs recipient and subject, so development sends nothing.
        self.MAIL_BACKEND = env.get("MAIL_BACKEND", "console").strip().lower() or "console"
        if self.MAIL_BACKEND not in {"smtp", "file", "console"}:
            raise RuntimeError(
                f"MAIL_BACKEND must be smtp, file or console, not {self.MAIL_BACKEND!r}."
            )
        self.MAIL_FROM = env.get("MAIL_FROM", "").strip() or "safeguarding-tracker@localhost"
        self.SMTP_HOST = env.get("SMTP_HOST", "").strip() or "localhost"
        self.SMTP_PORT = _int("SMTP_PORT", 25)
        # Leave the username empty for a relay that does not ask to sign in. The password
        # is only ever handed to smtplib, never logged or put in an error message.
        self.SMTP_USERNAME = env.get("SMTP_USERNAME", "")
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD", "")
        self.SMTP_STARTTLS = _flag("SMTP_STARTTLS", False)
        # Seconds to wait on the relay, so a dead one fails a reminder run rather than
        # hanging it.
        self.SMTP_TIMEOUT = _int("SMTP_TIMEOUT", 10)
        if self.SMTP_TIMEOUT < 1:
            raise RuntimeError("SMTP_TIMEOUT must be at least 1.")
        # Where the "file" backend writes; empty means "<instance path>/mail".
        self.MAIL_FILE_PATH = env.get("MAIL_FILE_PATH", "").strip()
        # The public address of the tracker, for links in e-mails: scheduled commands have
        # no request to take it from.
        self.BASE_URL = (env.get("BASE_URL", "").strip() or "http://127.0.0.1:5000").rstrip("/")
        if not self.BASE_URL.startswith(("https://", "http://")):
            raise RuntimeError(
                f"BASE_URL must start with https:// (or http://), not {self.BASE_URL!r}."
            )

        # Working days after a concern is reported to the school by which its triage is
        # due, at the end of that working day (1: the next working day).
        self.TRIAGE_DUE_WORKING_DAYS = _int("TRIAGE_DUE_WORKING_DAYS", 1)
        if self.TRIAGE_DUE_WORKING_DAYS < 0:
            raise RuntimeError("TRIAGE_DUE_WORKING_DAYS must be 0 or more.")
        # Working days after a decision within which an appeal may be lodged.
        self.APPEAL_WINDOW_WORKING_DAYS = _int("APPEAL_WINDOW_WORKING_DAYS", 5)
        # Working days after a case is submitted for decision by which the decision is due
        # (shown on the case and the decision page; a returned case starts again).
        self.DECISION_DUE_WORKING_DAYS = _int("DECISION_DUE_WORKING_DAYS", 5)
        if self.DECISION_DUE_WORKING_DAYS < 1:
            raise RuntimeError("DECISION_DUE_WORKING_DAYS must be at least 1.")

        # Days before a closed case falls due for disposal (or review) that the school's
        # DSLs and the DPO are warned by e-mail (`flask retention run`).
        self.RETENTION_WARNING_DAYS = _int("RETENTION_WARNING_DAYS", 30)
        if self.RETENTION_WARNING_DAYS < 0:
            raise RuntimeError("RETENTION_WARNING_DAYS must be 0 or more.")
        # The governance report for trustees (the chair's) shows counts from 1 up to this
        # less one as "fewer than" it, in the page and its exports (tracker/reports/).
        self.REPORT_SUPPRESS_BELOW = _int("REPORT_SUPPRESS_BELOW", 5)
        if self.REPORT_SUPPRESS_BELOW < 1:
            raise RuntimeError("REPORT_SUPPRESS_BELOW must be at least 1.")

        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO").upper()
        # "text" for a person at a terminal; "json" for one JSON object per line, for a
        # log service (tracker/logs.py, and gunicorn's access log: deploy/).
        self.LOG_FORMAT = env.get("LOG_FORMAT", "text").strip().lower() or "text"
        if self.LOG_FORMAT not in {"text", "json"}:
            raise RuntimeError(f"LOG_FORMAT must be text or json, not {self.LOG_FORMAT!r}.")
        # The driver's error messages name the statement, never the values bound to it
        # (a name, a case's text), so that nothing personal reaches a log through them.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
        self.TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", 0)

    @property
    def MAX_CONTENT_LENGTH(self) -> int:
        """Flask answers 413 to any request larger than this.

        A megabyte above the evidence limit, so that a file just over the limit reaches
        the upload form and gets a message there rather than the bare error page. Derived
        rather than stored so that a changed EVIDENCE_MAX_MB (tests) moves it too.
        """
        return (self.EVIDENCE_MAX_MB + 1) * MB

    def as_dict(self) -> dict[str, object]:
        return {key: getattr(self, key) for key in dir(self) if key.isupper()}


class TestConfig(Config):
    """Settings for the test suite: a throwaway database, cheap hashing, no HTTPS."""

    TESTING = True
    __test__ = False  # not a pytest test class, whatever its name

    def __init__(self, database_url: str | None = None, **overrides: object) -> None:
        super().__init__()
        # Fixed keys for the test suite only; the factory refuses them nowhere because
        # TESTING is set, and no deployment uses TestConfig.
        self.SECRET_KEY = "test-secret-key-not-for-production-use"  # noqa: S105 # nosec B105
        self.AUDIT_KEY = "test-audit-key-not-for-production-use"  # noqa: S105
        self.TOTP_KEY = "test-totp-key-not-for-production-use"  # noqa: S105 # nosec B105
        self.BACKUP_KEY = "test-backup-key-not-for-production-use"  # noqa: S105 # nosec B105
        self.EVIDENCE_KEY = "test-evidence-key-not-for-production-use"  # noqa: S105 # nosec B105
        self.EVIDENCE_OLD_KEYS = []
        self.TOTP_OLD_KEYS = []
        self.SQLALCHEMY_DATABASE_URI = (
            normalise_database_url(database_url) if database_url else None
        )
        self.SESSION_COOKIE_SECURE = False
        self.SESSION_COOKIE_NAME = "tracker"
        # The cheapest Argon2id settings argon2-cffi accepts: the suite hashes hundreds of
        # passwords and the cost is not what it tests.
        self.ARGON2_TIME_COST = 1
        self.ARGON2_MEMORY_COST_KIB = 8
        self.ARGON2_PARALLELISM = 1
        for key, value in overrides.items():
            setattr(self, key, value)


def postgres_test_url() -> str | None:
    """The PostgreSQL server the suite also runs against, when CI (or you) sets one."""
    return os.environ.get("TEST_DATABASE_URL") or None


def running_in_ci() -> bool:
    return _flag("CI", False)


def chromium_path() -> str:
    """The browser the Playwright tests drive: Debian's Chromium unless CHROMIUM_PATH says."""
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
