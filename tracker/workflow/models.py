"""What the workflow records: every transition, decisions, appeals and suspensions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.cases.models import Case
from tracker.db import LabelledEnum, UTCDateTime, utcnow
from tracker.extensions import Model


class Action(StrEnum):
    """Every step that changes a case (tracker/workflow/registry.py). A step that moves the
    case to another stage is stored by this value on its CaseTransition."""

    TRIAGE = "triage"
    LADO_REFERRAL = "lado_referral"
    LADO_ADVICE = "lado_advice"
    START_INVESTIGATION = "start_investigation"
    RECORD_SUSPENSION = "record_suspension"
    SUBMIT_FOR_DECISION = "submit_for_decision"
    RETURN_FOR_INVESTIGATION = "return_for_investigation"
    ESCALATE = "escalate"
    DECIDE = "decide"
    LODGE_APPEAL = "lodge_appeal"
    DECIDE_APPEAL = "decide_appeal"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"
    EDIT_DETAILS = "edit_details"
    CITE_CLAUSE = "cite_clause"
    REVIEW_PATTERN = "review_pattern"
    LINK_CASE = "link_case"
    UNLINK_CASE = "unlink_case"
    ADD_PERSON = "add_person"
    ADD_CHRONOLOGY_ENTRY = "add_chronology_entry"
    ADD_EVIDENCE = "add_evidence"
    REMOVE_EVIDENCE = "remove_evidence"


class AllegationOutcome(LabelledEnum):
    """KCSIE Part Four's five outcomes of an allegation, exactly."""

    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    UNFOUNDED = "unfounded"
    FALSE = "false"
    MALICIOUS = "malicious"


class LowLevelOutcome(LabelledEnum):
    NO_FURTHER_ACTION = "no_further_action"
    ADVICE_AND_GUIDANCE = "advice_and_guidance"
    REFERRED_TO_DISCIPLINARY = "referred_to_disciplinary", "Referred to the disciplinary procedure"


# Outcomes after which the matter may never be mentioned in a reference (KCSIE).
NEVER_IN_REFERENCES = frozenset(
    {
        AllegationOutcome.UNSUBSTANTIATED,
        AllegationOutcome.UNFOUNDED,
        AllegationOutcome.FALSE,
        AllegationOutcome.MALICIOUS,
    }
)


class Sanction(LabelledEnum):
    NONE = "none", "No sanction"
    MANAGEMENT_ADVICE = "management_advice"
    FIRST_WRITTEN_WARNING = (
        "first_written_warning",
        "First written warning (disregarded after 6 months)",
    )
    FINAL_WRITTEN_WARNING = (
        "final_written_warning",
        "Final written warning (disregarded after 12 months)",
    )
    DISMISSAL = "dismissal"


# The sanctions that may follow each outcome; after any other outcome there is none. The
# decision form asks for a sanction only under these outcomes; the service refuses others.
SANCTIONS_AFTER: dict[str, tuple[Sanction, ...]] = {
    AllegationOutcome.SUBSTANTIATED: tuple(Sanction),
    LowLevelOutcome.ADVICE_AND_GUIDANCE: (Sanction.NONE, Sanction.MANAGEMENT_ADVICE),
    LowLevelOutcome.REFERRED_TO_DISCIPLINARY: tuple(Sanction),
}


class AppealOutcome(LabelledEnum):
    UPHELD = "upheld", "Upheld: the decision stands"  # the decision stands
    VARIED = "varied", "Varied: the decision is changed"
    OVERTURNED = "overturned", "Overturned: the decision is set aside"


class LadoMethod(LabelledEnum):
    PHONE = "phone"
    EMAIL = "email"
    ONLINE_FORM = "online_form"
    MEETING = "meeting"


class CaseTransition(Model):
    """Who moved a case from which status to which, when and why."""

    __tablename__ = "case_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="transitions")
    actor: Mapped[User] = relationship()


class Decision(Model):
    """The outcome of a case, by the person it was routed to."""

    __tablename__ = "decisions"
    audit_type: ClassVar[str] = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    sanction: Mapped[str] = mapped_column(String(32))
    warning_expires_on: Mapped[date | None] = mapped_column(Date)
    rationale: Mapped[str] = mapped_column(Text)
    may_mention_in_references: Mapped[bool] = mapped_column(Boolean, default=False)
    refer_dbs: Mapped[bool] = mapped_column(Boolean, default=False)
    refer_dbs_reason: Mapped[str] = mapped_column(Text, default="")
    refer_tra: Mapped[bool] = mapped_column(Boolean, default=False)
    refer_tra_reason: Mapped[str] = mapped_column(Text, default="")
    refer_police: Mapped[bool] = mapped_column(Boolean, default=False)
    refer_police_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_on: Mapped[date] = mapped_column(Date)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="decisions")
    decided_by: Mapped[User] = relationship()

    @property
    def outcome_label(self) -> str:
        for enum in (AllegationOutcome, LowLevelOutcome):
            if self.outcome in enum._value2member_map_:
                return enum(self.outcome).label
        return self.outcome

    @property
    def sanction_enum(self) -> Sanction:
        return Sanction(self.sanction)


class Appeal(Model):
    """An appeal against a decision, heard by someone not involved before."""

    __tablename__ = "appeals"
    audit_type: ClassVar[str] = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    lodged_on: Mapped[date] = mapped_column(Date)
    grounds: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    heard_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    varied_sanction: Mapped[str | None] = mapped_column(String(32))
    rationale: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="appeals")
    decision: Mapped[Decision] = relationship()
    heard_by: Mapped[User | None] = relationship(foreign_keys=[heard_by_id])

    @property
    def outcome_enum(self) -> AppealOutcome | None:
        return AppealOutcome(self.outcome) if self.outcome else None


class Suspension(Model):
    """A period the subject was suspended while the case was investigated."""

    __tablename__ = "suspensions"
    audit_type: ClassVar[str] = "suspension"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    reviewed_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="suspensions")


class SentNotification(Model):
    """A notification e-mail, from the moment it is due until it has been sent.

    `key` (unique) names the event it is about, so it is queued once and sent once. A row
    is queued (`sent_at` empty), claimed by one sender while it talks to the mail server
    (`claimed_at`, a lease: tracker/notifications/services.py), then sent (`sent_at`).
    """

    __tablename__ = "sent_notifications"
    __table_args__ = (
        # The queue: the few rows not sent yet, found without reading every one sent.
        Index(
            "ix_sent_notifications_unsent",
            "case_id",
            sqlite_where=text("sent_at IS NULL"),
            postgresql_where=text("sent_at IS NULL"),
        ),
    )
    audit_type: ClassVar[str] = "sent_notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
