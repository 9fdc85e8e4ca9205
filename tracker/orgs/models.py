"""Trust and School: every case, grant and staff record belongs to one trust."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model

if TYPE_CHECKING:
    from tracker.staff.models import StaffMember


class Trust(Model):
    __tablename__ = "trusts"
    audit_type: ClassVar[str] = "trust"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Short upper-case code used in case references, e.g. HMAT in HMAT-2026-0001.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Sign-in with the trust's identity provider (OpenID Connect: Microsoft Entra ID or
    # Google Workspace; tracker/auth/oidc.py). The client secret is configuration
    # (OIDC_CLIENT_SECRET_<code>), never the database. Off while sign_in_issuer is empty.
    sign_in_label: Mapped[str | None] = mapped_column(String(40))  # "Microsoft", "Google"
    sign_in_issuer: Mapped[str | None] = mapped_column(String(255))
    sign_in_client_id: Mapped[str | None] = mapped_column(String(255))
    # Comma-separated e-mail domains whose accounts may sign in through the provider.
    sign_in_domains: Mapped[str | None] = mapped_column(String(1000))
    # Whether the provider's multi-factor sign-in, where its ID token proves it (amr
    # "mfa", or sign_in_mfa_acr), stands in for our own second factor.
    sign_in_trusts_provider_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    sign_in_mfa_acr: Mapped[str | None] = mapped_column(String(255))
    # Local passwords; when off, only break-glass accounts may use one.
    passwords_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    # The pattern rule (tracker/insight/patterns.py): this many concerns about one person
    # within this many months, or this many citing the same clause, ask for a review.
    pattern_concerns: Mapped[int] = mapped_column(default=3, server_default="3")
    pattern_months: Mapped[int] = mapped_column(default=12, server_default="12")
    pattern_same_clause: Mapped[int] = mapped_column(default=2, server_default="2")

    schools: Mapped[list[School]] = relationship(
        back_populates="trust", order_by="School.name", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Trust {self.code}>"


class School(Model):
    __tablename__ = "schools"
    __table_args__ = (UniqueConstraint("trust_id", "code"),)
    audit_type: ClassVar[str] = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Short code unique within the trust, used on the command line (e.g. NFP).
    code: Mapped[str] = mapped_column(String(12))
    # The local authority whose designated officer (LADO) takes this school's referrals,
    # and how many working days after triage it expects an allegation to be referred.
    local_authority: Mapped[str] = mapped_column(String(120), default="")
    lado_working_days: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    trust: Mapped[Trust] = relationship(back_populates="schools")
    staff: Mapped[list[StaffMember]] = relationship(back_populates="school")

    def __repr__(self) -> str:
        return f"<School {self.code}>"
