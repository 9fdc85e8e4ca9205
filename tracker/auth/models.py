"""Users, their role grants and server-side sessions."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.roles import Role
from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model
from tracker.orgs.models import School, Trust


class User(UserMixin, Model):
    __tablename__ = "users"
    audit_type: ClassVar[str] = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    # Stored lower-cased (tracker.auth.services.normalise_email) so look-ups are exact.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The identity provider's subject for this account ("<issuer> <sub>"), stored the
    # first time they sign in through it; from then on it, not the e-mail, finds them.
    sign_in_subject: Mapped[str | None] = mapped_column(String(512), unique=True)
    # May sign in with a password when the trust has switched passwords off.
    break_glass: Mapped[bool] = mapped_column(Boolean, default=False)

    # The second factor (tracker/auth/mfa.py). Secrets are Fernet tokens under TOTP_KEY,
    # never plain. totp_pending_secret is one being set up, not yet proved by a code; it
    # becomes totp_secret when it is. totp_last_step is the 30-second time step of the
    # last code accepted: a code is accepted only for a later step, so each works once.
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_pending_secret: Mapped[str | None] = mapped_column(Text)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    trust: Mapped[Trust] = relationship()
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="RoleGrant.user_id",
        order_by="RoleGrant.id",
    )

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.disabled_at is None

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None

    def get_id(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class RoleGrant(Model):
    """A user holds a role at one school, or across the whole trust (school_id is NULL)."""

    __tablename__ = "role_grants"
    __table_args__ = (Index("ix_role_grants_school_id_role", "school_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    role: Mapped[str] = mapped_column(String(32))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="grants", foreign_keys=[user_id])
    school: Mapped[School | None] = relationship()

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_trust_wide(self) -> bool:
        return self.school_id is None

    @property
    def scope_label(self) -> str:
        return self.school.name if self.school is not None else "whole trust"


class UserSession(Model):
    """A signed-in session. The cookie carries a random token; only its hash is stored."""

    __tablename__ = "user_sessions"
    audit_type: ClassVar[str] = "session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # signed_out, idle, expired, revoked, disabled
    end_reason: Mapped[str | None] = mapped_column(String(32))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class RecoveryCode(Model):
    """A one-time code that stands in for the authenticator app. Only a hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInThrottle(Model):
    """Failed sign-in attempts against one account or from one client address.

    The key is an HMAC of the kind and the e-mail address typed (whether or not an account
    has it, so that throttling cannot tell anyone which accounts exist) or of the client
    address: neither is stored in the clear. Kept in the database so that every server
    process counts the same failures.
    """

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # account, address
    failures: Mapped[int] = mapped_column(Integer)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
