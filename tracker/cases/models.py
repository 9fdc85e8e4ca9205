"""Case and what hangs off it: clause breaches, people involved, evidence, chronology."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, Relationship, mapped_column, relationship

from tracker.auth.models import User
from tracker.clock import uk_time
from tracker.db import LabelledEnum, UTCDateTime, utcnow
from tracker.extensions import Model
from tracker.orgs.models import School
from tracker.policy.models import Clause
from tracker.staff.models import StaffMember

if TYPE_CHECKING:
    from tracker.retention.models import LegalHold
    from tracker.workflow.models import Appeal, CaseTransition, Decision, Suspension


class CaseStatus(LabelledEnum):
    REPORTED = "reported"
    TRIAGE = "triage"
    INVESTIGATION = "investigation"
    AWAITING_DECISION = "awaiting_decision", "Awaiting decision"
    DECIDED = "decided"
    APPEAL = "appeal"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset(
    {
        CaseStatus.REPORTED,
        CaseStatus.TRIAGE,
        CaseStatus.INVESTIGATION,
        CaseStatus.AWAITING_DECISION,
        CaseStatus.DECIDED,
        CaseStatus.APPEAL,
    }
)


class Track(LabelledEnum):
    LOW_LEVEL = "low_level", "Low-level concern"
    ALLEGATION = "allegation", "Allegation"


class Source(LabelledEnum):
    """How the concern came to light."""

    PARENT_COMPLAINT = "parent_complaint", "Complaint from a parent or carer"
    PUPIL_DISCLOSURE = "pupil_disclosure", "Disclosure by a pupil"
    STAFF_REPORT = "staff_report", "Reported by a member of staff"
    SELF_REPORT = "self_report", "The member of staff reported it themselves"
    ANONYMOUS = "anonymous", "Anonymous report"
    OTHER = "other", "Another way"


class Platform(LabelledEnum):
    """Where it happened: the policy's list of social media, plus messaging and other."""

    TWITTER_X = "twitter_x", "Twitter/X"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    FLICKR = "flickr"
    XBOX_LIVE = "xbox_live", "Xbox Live"
    BLOGGER = "blogger"
    TUMBLR = "tumblr"
    WHATSAPP = "whatsapp", "WhatsApp"
    SNAPCHAT = "snapchat"
    MESSAGING = "messaging", "Another messaging app"
    ONLINE_GAMING = "online_gaming", "Online gaming"
    NEWSPAPER_COMMENTS = "newspaper_comments", "Newspaper comment stream"
    OTHER = "other", "Somewhere else"


class PersonKind(LabelledEnum):
    PUPIL = "pupil"
    PARENT_CARER = "parent_carer", "Parent or carer"
    WITNESS = "witness"
    OTHER_STAFF = "other_staff", "Other member of staff"


class PostVisibility(LabelledEnum):
    PUBLIC = "public", "Public: anyone could see it"
    PRIVATE = "private", "Private: friends, followers or a closed group"
    UNKNOWN = "unknown", "Not known"


class EntryKind(LabelledEnum):
    NOTE = "note"
    MEETING = "meeting"
    PHONE_CALL = "phone_call"
    LETTER = "letter"
    OTHER = "other"


class CaseReferenceCounter(Model):
    """The last reference number used for a trust in a year (HMAT-2026-0042 -> 42)."""

    __tablename__ = "case_reference_counters"

    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


def _owned(order_by: str | Callable[[], list[Any]]) -> Relationship[Any]:
    """A case's own rows of one kind, in this order. Each names its case (`case`) and is
    deleted with it, which is how retention's disposal takes everything on a case."""
    return relationship(back_populates="case", cascade="all, delete-orphan", order_by=order_by)


class Case(Model):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_school_id_status", "school_id", "status"),
        Index("ix_cases_trust_id_created_at", "trust_id", "created_at"),
        # The case list's default orderings (newest or oldest first), which keyset pages
        # seek through (tracker/cases/listing.py).
        Index("ix_cases_trust_id_reported_on_id", "trust_id", "reported_on", "id"),
        # The same within one status, the list's commonest filter: its pages and its
        # capped count read only that status's cases.
        Index("ix_cases_trust_id_status_reported_on_id", "trust_id", "status", "reported_on", "id"),
        # The governance report's cases open at a day: those still open and those closed
        # since (tracker/reports/queries.py open_age_query).
        Index("ix_cases_trust_id_closed_on", "trust_id", "closed_on"),
        # Each user's "Waiting for you" (tracker/cases/waiting.py waiting_for): the cases
        # they investigate or decide in the one status where that waits for them, not
        # every case they ever investigated or decided.
        Index("ix_cases_investigator_id_status", "investigator_id", "status"),
        Index("ix_cases_decision_maker_id_status", "decision_maker_id", "status"),
        # A person's cases with what the visibility rule and the list's order read of
        # them, so that the list's "N cases about this person", a search by name and its
        # count read the index alone, not each case's row (a person's cases are many on
        # a large trust, and a common name's more).
        Index(
            "ix_cases_subject_id_trust_id_school_id_reported_on",
            "subject_id",
            "trust_id",
            "school_id",
            "reported_on",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    trust_id: Mapped[int] = mapped_column(ForeignKey("trusts.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    # Indexed with the columns a list reads beside it (ix_cases_subject_id_...).
    subject_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"))
    # The user who logged the concern: they may never decide it.
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(String(32))
    # Who raised it and how, in the logger's words (never a pupil's name).
    source_detail: Mapped[str] = mapped_column(String(500), default="")
    occurred_on: Mapped[date] = mapped_column(Date)
    reported_on: Mapped[date] = mapped_column(Date)
    platform: Mapped[str] = mapped_column(String(32))
    platform_detail: Mapped[str] = mapped_column(String(200), default="")
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), default=CaseStatus.REPORTED.value)
    # Set at triage: low-level concern or allegation (tracker/workflow/).
    track: Mapped[str | None] = mapped_column(String(16))
    triage_rationale: Mapped[str] = mapped_column(Text, default="")
    # The four KCSIE harm-threshold questions, answered at triage ("yes", "no", "unsure").
    harm_child: Mapped[str | None] = mapped_column(String(8))
    harm_offence: Mapped[str | None] = mapped_column(String(8))
    harm_risk: Mapped[str | None] = mapped_column(String(8))
    harm_unsuitable: Mapped[str | None] = mapped_column(String(8))
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The LADO clock: an allegation is referred to the local authority designated
    # officer within LADO_WORKING_DAYS working days of triage.
    lado_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lado_referred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lado_method: Mapped[str | None] = mapped_column(String(16))
    lado_reference: Mapped[str] = mapped_column(String(100), default="")
    lado_advice: Mapped[str] = mapped_column(Text, default="")
    lado_advice_on: Mapped[date | None] = mapped_column(Date)
    # Indexed with the status, as is decision_maker_id (and Appeal.heard_by_id alone):
    # each user's home page finds the cases waiting for them by these.
    investigator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    investigation_summary: Mapped[str] = mapped_column(Text, default="")
    # Who must decide, fixed when the case is submitted (tracker/workflow/routing.py).
    decision_maker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_on: Mapped[date | None] = mapped_column(Date)
    # Why a case was withdrawn or closed early, kept apart from any KCSIE outcome.
    closure_reason: Mapped[str] = mapped_column(Text, default="")
    # Retention facts (tracker/retention/): an allegation of sexual abuse is preserved for
    # the inquiry whatever the rule; the day the subject consented to keeping a false or
    # malicious allegation on record (None: no consent), recorded by the DPO or CEO.
    sexual_abuse: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    keep_consent_on: Mapped[date | None] = mapped_column(Date)
    # The retention worked out when the case closed (tracker/retention/services.py), kept
    # so that lists and the disposal command query an indexed date. All None while open.
    retention_rule: Mapped[str | None] = mapped_column(String(40))
    retention_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    retention_is_review: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    retention_held: Mapped[str | None] = mapped_column(String(32))
    # The facts the rule needed and did not get, as a comma-separated list of names.
    retention_missing: Mapped[str] = mapped_column(String(200), default="", server_default="")
    retention_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The pattern rule held when the case was logged or a clause cited (trust-wide, over
    # every case about the subject), and when the lead reviewed it (tracker/insight/).
    pattern_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pattern_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: every UPDATE checks and bumps it (SQLAlchemy version_id_col).
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    school: Mapped[School] = relationship()
    subject: Mapped[StaffMember] = relationship()
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id])
    investigator: Mapped[User | None] = relationship(foreign_keys=[investigator_id])
    decision_maker: Mapped[User | None] = relationship(foreign_keys=[decision_maker_id])
    breaches: Mapped[list[ClauseBreach]] = _owned("ClauseBreach.id")
    people: Mapped[list[PersonInvolved]] = _owned("PersonInvolved.id")
    evidence: Mapped[list[Evidence]] = _owned("Evidence.id")
    transitions: Mapped[list[CaseTransition]] = _owned("CaseTransition.id")
    decisions: Mapped[list[Decision]] = _owned("Decision.id")
    appeals: Mapped[list[Appeal]] = _owned("Appeal.id")
    suspensions: Mapped[list[Suspension]] = _owned("Suspension.starts_on")
    revisions: Mapped[list[CaseRevision]] = _owned("CaseRevision.number")
    legal_holds: Mapped[list[LegalHold]] = _owned("LegalHold.id")
    chronology: Mapped[list[ChronologyEntry]] = _owned(
        lambda: [ChronologyEntry.occurred_on, ChronologyEntry.occurred_time, ChronologyEntry.id]
    )

    @property
    def status_enum(self) -> CaseStatus:
        return CaseStatus(self.status)

    @property
    def source_enum(self) -> Source:
        return Source(self.source)

    @property
    def track_enum(self) -> Track | None:
        return Track(self.track) if self.track else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def platform_label(self) -> str:
        return platform_label(self.platform, self.platform_detail)

    @property
    def decision(self) -> Decision | None:
        """The decision in force (the latest; a reopened case may be decided again)."""
        return self.decisions[-1] if self.decisions else None

    @property
    def appeal(self) -> Appeal | None:
        return self.appeals[-1] if self.appeals else None

    @property
    def pattern_unreviewed(self) -> bool:
        """A pattern of concerns about the subject is flagged and nobody has reviewed it."""
        return self.pattern_flagged_at is not None and self.pattern_reviewed_at is None

    @property
    def is_allegation(self) -> bool:
        return self.track == Track.ALLEGATION

    @property
    def lado_gate_open(self) -> bool:
        """An allegation's investigation waits for the LADO referral and advice."""
        return not self.is_allegation or (
            self.lado_referred_at is not None and bool(self.lado_advice.strip())
        )

    @property
    def lado_overdue(self) -> bool:
        """An allegation whose LADO referral deadline has passed without a referral."""
        return lado_is_overdue(self.status, self.lado_due_at, self.lado_referred_at, utcnow())

    @property
    def cites_high_significance(self) -> bool:
        return any(breach.clause.significance == "high" for breach in self.breaches)


class ClauseBreach(Model):
    """A case cites a rule of the policy version in force when the conduct happened."""

    __tablename__ = "clause_breaches"
    __table_args__ = (UniqueConstraint("case_id", "clause_id"),)
    audit_type: ClassVar[str] = "clause_breach"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id"), index=True)
    rationale: Mapped[str] = mapped_column(Text)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="breaches")
    clause: Mapped[Clause] = relationship()


class PersonInvolved(Model):
    """Someone else in the case, kept to the minimum: initials or a pseudonym, never a
    pupil's full name, so that a subject access export can redact them."""

    __tablename__ = "people_involved"
    audit_type: ClassVar[str] = "person_involved"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    identifier: Mapped[str] = mapped_column(String(40))
    year_group: Mapped[str | None] = mapped_column(String(12))
    role_in_case: Mapped[str] = mapped_column(String(300))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="people")

    @property
    def kind_enum(self) -> PersonKind:
        return PersonKind(self.kind)


class Evidence(Model):
    """An uploaded file, kept outside the web root under a random name.

    Never overwritten. Removal deletes the stored bytes but keeps this record: its hash,
    who removed it and why.
    """

    __tablename__ = "evidence"
    audit_type: ClassVar[str] = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    source_url: Mapped[str] = mapped_column(String(2000), default="")
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    captured_by: Mapped[str] = mapped_column(String(200), default="")
    post_visibility: Mapped[str] = mapped_column(String(16), default=PostVisibility.UNKNOWN.value)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removal_reason: Mapped[str | None] = mapped_column(String(500))

    case: Mapped[Case] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    removed_by: Mapped[User | None] = relationship(foreign_keys=[removed_by_id])

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class ChronologyEntry(Model):
    """A dated note or action, ordered by when it happened; backdating is allowed and shown."""

    __tablename__ = "chronology_entries"
    audit_type: ClassVar[str] = "chronology_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    occurred_on: Mapped[date] = mapped_column(Date)
    occurred_time: Mapped[time | None] = mapped_column(Time)
    summary: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="chronology")
    author: Mapped[User] = relationship()

    @property
    def kind_enum(self) -> EntryKind:
        return EntryKind(self.kind)

    @property
    def is_backdated(self) -> bool:
        """Written on a later day than the one it describes (UK dates)."""
        return uk_time(self.recorded_at).date() > self.occurred_on


class CaseRevision(Model):
    """The before and after values of a case's fields at one change.

    This is case content (the audit trail names only the fields), so it is read under the
    case's own access rules and disposed of with the case.
    """

    __tablename__ = "case_revisions"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # 1 for the case as logged, then one more for each change.
    number: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The audit event that records this change (its sequence number).
    audit_seq: Mapped[int | None] = mapped_column(BigInteger)
    # {"field": [before, after]}, values as stored (dates as ISO text); before is null
    # in revision 1.
    changes: Mapped[dict[str, list[object]]] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="revisions")
    changed_by: Mapped[User | None] = relationship()


def platform_label(platform: str, detail: str | None) -> str:
    """The platform's name, or what was typed for "Other" (a case's, or a listed row's)."""
    if platform == Platform.OTHER and detail:
        return detail
    return Platform(platform).label


def lado_is_overdue(
    status: str, due_at: datetime | None, referred_at: datetime | None, now: datetime
) -> bool:
    """An allegation in triage whose LADO referral deadline has passed without one."""
    return (
        status == CaseStatus.TRIAGE and due_at is not None and referred_at is None and due_at < now
    )
