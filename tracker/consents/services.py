"""Asking consent to post pictures of a school event (clause 3.5), passing it to the CEO,
deciding it and withdrawing it; what each person may list: their own requests, those
waiting for their decision, the register, and a case's consents around its conduct date.

Every change of state is one function here that checks its guard, changes the consent,
records its audit event (ids and codes only: never the event, the conditions, the
reason or a name) and flushes; the views commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import joinedload

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import User
from tracker.auth.permissions import (
    can_decide_consent,
    can_refer_consent,
    can_withdraw_consent,
    consent_goes_to_ceo,
    consent_register_scope,
    consents_to_decide_filter,
    is_member_of_staff,
    own_staff_record,
)
from tracker.cases.models import Case, Platform
from tracker.clock import uk_date, uk_time
from tracker.consents.models import ConsentStatus, PictureConsent
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed, one_of, required_text
from tracker.extensions import db
from tracker.staff.models import StaffMember

# The policy's clause on pictures of school events: a case citing it shows the subject's
# consents around the conduct date.
PICTURES_CLAUSE = "3.5"
# How far either side of the conduct date a case looks for the subject's requests.
AROUND_CONDUCT = timedelta(days=90)
# How far from today an event's date may be: further is a typing mistake.
EVENT_AFTER_TODAY = timedelta(days=2 * 366)
EVENT_BEFORE_TODAY = timedelta(days=366)

# The longest answers the forms take (the columns' own limits where they have one).
EVENT_MAX = 200
CONTENT_MAX = 2000
PLATFORM_DETAIL_MAX = 200
AUDIENCE_MAX = 500
CONDITIONS_MAX = 2000
REASON_MAX = 2000

NO_STAFF_RECORD = (
    "You are not on the staff register, so you cannot ask for consent yet. Ask your "
    "school's office or your trust administrator to link your account to your record."
)


# --- the rules the forms check too (so that a page lists every fault at once) ------------


def event_date_problem(event_on: date, today: date) -> str | None:
    if event_on > today + EVENT_AFTER_TODAY:
        return "The date of the event must be within the next 2 years"
    if event_on < today - EVENT_BEFORE_TODAY:
        return "The date of the event must be within the last year"
    return None


def platform_detail_problem(platform: str | None, platform_detail: str | None) -> str | None:
    if platform == Platform.OTHER and not (platform_detail or "").strip():
        return "Enter where you will post it"
    return None


def expiry_problem(expires_on: date | None, event_on: date, today: date) -> str | None:
    if expires_on is None:
        return None
    if expires_on < event_on:
        return "The expiry date must be the same as or after the date of the event"
    if expires_on < today:
        return "The expiry date must be today or in the future"
    return None


def _too_long(text: str, limit: int, message: str, *, field: str) -> str:
    if len(text) > limit:
        raise ValidationFailed(message, field=field)
    return text


# --- asking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRequest:
    """What a member of staff asks: the event, its date, what will be posted, where, and
    who will see it."""

    event: str
    event_on: date | None
    content: str
    platform: str
    platform_detail: str
    audience: str


def ask_consent(request: ConsentRequest, *, by: User, today: date) -> PictureConsent:
    """A member of staff asks consent to post pictures of a school event.

    Guard: `by` holds the member-of-staff role and is on the staff register (the consent
    belongs to their record's school); every answer given, within its length, the event
    within a year before and two years after today, somewhere named for "somewhere else".
    Side effects: the consent, waiting for the headteacher (or the CEO: see
    `consent_goes_to_ceo`); consent.asked with the staff record's id, the platform's code,
    the event's date and who decides it (`goes_to`). Flushes; the caller commits.
    """
    if not is_member_of_staff(by):
        raise NotAllowed("Only a member of staff can ask for consent")
    member = own_staff_record(by)
    if member is None or member.trust_id != by.trust_id:
        raise NotAllowed(NO_STAFF_RECORD)
    event = required_text(request.event, "Enter what the event is", field="event")
    _too_long(event, EVENT_MAX, "The event must be 200 characters or fewer", field="event")
    event_on = request.event_on
    if event_on is None:
        raise ValidationFailed("Enter the date of the event", field="event_on")
    if problem := event_date_problem(event_on, today):
        raise ValidationFailed(problem, field="event_on")
    content = required_text(request.content, "Enter what you will post", field="content")
    _too_long(
        content,
        CONTENT_MAX,
        "What you will post must be 2,000 characters or fewer",
        field="content",
    )
    platform = one_of(Platform, request.platform, "Choose where you will post it", field="platform")
    if problem := platform_detail_problem(platform, request.platform_detail):
        raise ValidationFailed(problem, field="platform_detail")
    detail = request.platform_detail.strip() if platform is Platform.OTHER else ""
    _too_long(
        detail,
        PLATFORM_DETAIL_MAX,
        "Where you will post it must be 200 characters or fewer",
        field="platform_detail",
    )
    audience = required_text(request.audience, "Enter who will see it", field="audience")
    _too_long(
        audience, AUDIENCE_MAX, "Who will see it must be 500 characters or fewer", field="audience"
    )
    consent = PictureConsent(
        trust_id=member.trust_id,
        school_id=member.school_id,
        staff_member_id=member.id,
        asked_by_id=by.id,
        event=event,
        event_on=event_on,
        content=content,
        platform=platform.value,
        platform_detail=detail,
        audience=audience,
        status=ConsentStatus.ASKED.value,
    )
    audit.record_added(
        AuditAction.CONSENT_ASKED,
        consent,
        actor=by,
        details={
            "staff_member_id": member.id,
            "platform": platform.value,
            "event_on": event_on.isoformat(),
            "goes_to": _decider_code(consent),
        },
    )
    return consent


def _decider_code(consent: PictureConsent) -> str:
    return "ceo" if consent_goes_to_ceo(consent) else "headteacher"


def _still_waiting(consent: PictureConsent) -> None:
    """Refuse unless the request is waiting, as the database holds it now: read again
    and locked until the commit (PostgreSQL; SQLite writes one at a time), so that two
    people answering at once, or an answer crossing a withdrawal, cannot both land."""
    status = db.session.execute(
        select(PictureConsent.status).where(PictureConsent.id == consent.id).with_for_update()
    ).scalar_one()
    if status != ConsentStatus.ASKED:
        db.session.refresh(consent)  # for the message: who answered, and when
        raise NotAllowed(answered_already(consent))


def answered_already(consent: PictureConsent) -> str:
    """Why a request no longer waiting cannot be decided, passed on or withdrawn."""
    if consent.status == ConsentStatus.WITHDRAWN:
        return "This request was withdrawn, so it can no longer be changed"
    verb = "granted" if consent.status == ConsentStatus.GRANTED else "refused"
    when = f" on {uk_date(uk_time(consent.decided_at).date())}" if consent.decided_at else ""
    return f"This request was {verb}{when}, so it can no longer be changed"


# --- passing it on, deciding, withdrawing ----------------------------------------------


def refer_to_ceo(consent: PictureConsent, *, by: User) -> None:
    """The headteacher passes a request to the CEO (they may be conflicted, or unsure).

    Guard: the request is waiting and `by` is the headteacher who would decide it.
    Side effects: `referred_at` and `referred_by`; consent.referred (no details: the
    consent's id is the event's object). Flushes; the caller commits.
    """
    _still_waiting(consent)
    if not can_refer_consent(by, consent):
        raise NotAllowed("Only the headteacher who would decide this request can pass it on")
    consent.referred_at = utcnow()
    consent.referred_by_id = by.id
    db.session.flush()
    audit.record_about(AuditAction.CONSENT_REFERRED, consent, actor=by)


@dataclass(frozen=True)
class ConsentDecision:
    """The answer: granted (with any conditions and an expiry date) or refused (why)."""

    decision: str
    conditions: str = ""
    expires_on: date | None = None
    reason: str = ""


DECISIONS = (ConsentStatus.GRANTED, ConsentStatus.REFUSED)


def decide_consent(
    consent: PictureConsent, answer: ConsentDecision, *, by: User, today: date
) -> None:
    """Grant or refuse a waiting request.

    Guard: the request is waiting and `by` may decide it (`can_decide_consent`: its
    school's headteacher, or the CEO when it goes to the CEO; never the person who
    asked). A grant's expiry date, if any, is on or after the event's date and not
    before today; a refusal says why (the member of staff sees it). Side effects: the
    status, who decided and when, the conditions and expiry (a grant) or the reason (a
    refusal); consent.decided with the status, whether there are conditions, the expiry
    date and whether it had been passed to the CEO. Flushes; the caller commits.
    """
    _still_waiting(consent)
    if not can_decide_consent(by, consent):
        raise NotAllowed("Only the headteacher, or the CEO, can decide this request")
    status = one_of(
        ConsentStatus, answer.decision, "Choose whether you give consent", field="decision"
    )
    if status not in DECISIONS:
        raise ValidationFailed("Choose whether you give consent", field="decision")
    conditions = reason = ""
    expires_on = None
    if status is ConsentStatus.GRANTED:
        conditions = answer.conditions.replace("\r\n", "\n").strip()
        _too_long(
            conditions,
            CONDITIONS_MAX,
            "The conditions must be 2,000 characters or fewer",
            field="conditions",
        )
        expires_on = answer.expires_on
        if problem := expiry_problem(expires_on, consent.event_on, today):
            raise ValidationFailed(problem, field="expires_on")
    else:
        reason = required_text(answer.reason, "Enter why you are refusing consent", field="reason")
        _too_long(
            reason, REASON_MAX, "The reason must be 2,000 characters or fewer", field="reason"
        )
    consent.status = status.value
    consent.conditions = conditions
    consent.expires_on = expires_on
    consent.reason = reason
    consent.decided_by_id = by.id
    consent.decided_at = utcnow()
    db.session.flush()
    audit.record_about(
        AuditAction.CONSENT_DECIDED,
        consent,
        actor=by,
        details={
            "status": status.value,
            "conditions": bool(conditions),
            "expires_on": expires_on.isoformat() if expires_on else None,
            "referred": consent.referred_at is not None,
        },
    )


def withdraw_consent(consent: PictureConsent, *, by: User) -> None:
    """The person who asked withdraws a request still waiting.

    Guard: `by` asked it, and it is waiting. Side effects: the status; consent.withdrawn
    (no details). Flushes; the caller commits.
    """
    if not can_withdraw_consent(by, consent):
        raise NotAllowed("Only the person who asked can withdraw this request")
    _still_waiting(consent)
    consent.status = ConsentStatus.WITHDRAWN.value
    db.session.flush()
    audit.record_about(AuditAction.CONSENT_WITHDRAWN, consent, actor=by)


# --- lists ---------------------------------------------------------------------------------


def consents_asked(user: User) -> list[PictureConsent]:
    """The requests `user` asked, newest first: with the answers, for their own pages.

    Loads nothing else: a template shows each one's own columns (its status, conditions,
    expiry and reason) without reaching the database.
    """
    return list(
        db.session.scalars(
            select(PictureConsent)
            .where(PictureConsent.asked_by_id == user.id, PictureConsent.trust_id == user.trust_id)
            .order_by(PictureConsent.asked_at.desc(), PictureConsent.id.desc())
        )
    )


def consents_waiting_for(user: User) -> list[PictureConsent]:
    """The requests waiting for `user`'s decision, the soonest event first, with the
    asker's record and school loaded."""
    return list(
        db.session.scalars(
            select(PictureConsent)
            .where(consents_to_decide_filter(user))
            .options(joinedload(PictureConsent.staff_member), joinedload(PictureConsent.school))
            .order_by(PictureConsent.event_on, PictureConsent.id)
        )
    )


# What a consent's own page shows besides its columns, loaded with it.
CONSENT_PAGE = (
    joinedload(PictureConsent.staff_member),
    joinedload(PictureConsent.school),
    joinedload(PictureConsent.decided_by),
    joinedload(PictureConsent.referred_by),
)


@dataclass(frozen=True)
class RegisterFilters:
    """What the register is narrowed to: words in the member of staff's name or the
    event, a status, a school, and a range of event dates."""

    text: str = ""
    status: str | None = None
    school_id: int | None = None
    event_from: date | None = None
    event_to: date | None = None

    @property
    def names_in_use(self) -> list[str]:
        """The names of the filters in use (what the audit trail records; never the words
        searched for)."""
        used = {
            "text": bool(self.text),
            "status": self.status is not None,
            "school": self.school_id is not None,
            "event_from": self.event_from is not None,
            "event_to": self.event_to is not None,
        }
        return [name for name, in_use in used.items() if in_use]


def register_query(user: User, filters: RegisterFilters) -> Select[tuple[PictureConsent]]:
    """The register as `user` may read it (their schools' consents; the whole trust for
    the CEO), narrowed by `filters`, the latest event first."""
    scope = consent_register_scope(user)
    query = (
        select(PictureConsent)
        .join(StaffMember, StaffMember.id == PictureConsent.staff_member_id)
        .where(PictureConsent.trust_id == scope.trust_id, scope.filter(PictureConsent.school_id))
        .options(joinedload(PictureConsent.staff_member), joinedload(PictureConsent.school))
    )
    if filters.text:
        query = query.where(
            or_(
                StaffMember.full_name.icontains(filters.text, autoescape=True),
                PictureConsent.event.icontains(filters.text, autoescape=True),
            )
        )
    if filters.status is not None:
        query = query.where(PictureConsent.status == filters.status)
    if filters.school_id is not None:
        query = query.where(PictureConsent.school_id == filters.school_id)
    if filters.event_from is not None:
        query = query.where(PictureConsent.event_on >= filters.event_from)
    if filters.event_to is not None:
        query = query.where(PictureConsent.event_on <= filters.event_to)
    return query.order_by(PictureConsent.event_on.desc(), PictureConsent.id.desc())


def record_register_viewed(
    user: User, filters: RegisterFilters, *, results: int, page: int
) -> None:
    """Someone read or searched the consent register.

    Guard: none beyond the view's (the register holds only what the user may read).
    Side effects: consent.register.viewed with the names of the filters in use, the
    status filtered on (a code), the number of consents matching and the page: never the
    words searched for, which may be a person's name. The caller commits.
    """
    audit.record(
        AuditAction.CONSENT_REGISTER_VIEWED,
        actor=user,
        object_type="consent_register",
        details={
            "filters": filters.names_in_use,
            "status": filters.status,
            "school_id": filters.school_id,
            "results": results,
            "page": page,
        },
    )


# --- a case citing clause 3.5 ----------------------------------------------------------


@dataclass(frozen=True)
class ConsentOnCase:
    """One of the subject's consents, as a case citing clause 3.5 shows it."""

    consent: PictureConsent
    in_force: bool  # on the conduct date
    decided_on: date | None

    @property
    def status_label(self) -> str:
        return ConsentStatus(self.consent.status).label

    @property
    def platform_label(self) -> str:
        return platform_label(self.consent)


def platform_label(consent: PictureConsent) -> str:
    if consent.platform == Platform.OTHER and consent.platform_detail:
        return consent.platform_detail
    return Platform(consent.platform).label


def cites_pictures_clause(case: Case) -> bool:
    """The case cites clause 3.5 (its breaches and their clauses loaded with it)."""
    return any(breach.clause.reference == PICTURES_CLAUSE for breach in case.breaches)


def in_force_on(consent: PictureConsent, day: date) -> bool:
    """Granted by that day and not yet expired: consent given after the conduct did not
    cover it."""
    if consent.decided_at is None or uk_time(consent.decided_at).date() > day:
        return False
    return consent.in_force_on(day)


def consents_around(case: Case) -> list[ConsentOnCase] | None:
    """The subject's consents around the conduct date, for a case citing clause 3.5
    (None for any other case, which shows no such section).

    Those whose event is within 90 days either side of the conduct date, and any
    granted by that date and still in force on it; the earliest event first, each marked
    whether it was in force on the conduct date. One statement, only for a case citing
    the clause.
    """
    if not cites_pictures_clause(case):
        return None
    day = case.occurred_on
    window = PictureConsent.event_on.between(day - AROUND_CONDUCT, day + AROUND_CONDUCT)
    granted_before = and_(
        PictureConsent.status == ConsentStatus.GRANTED.value,
        PictureConsent.decided_at.is_not(None),
        or_(PictureConsent.expires_on.is_(None), PictureConsent.expires_on >= day),
    )
    found = db.session.scalars(
        select(PictureConsent)
        .where(
            PictureConsent.staff_member_id == case.subject_id,
            PictureConsent.trust_id == case.trust_id,
            or_(window, granted_before),
        )
        .order_by(PictureConsent.event_on, PictureConsent.id)
    )
    shown = []
    for consent in found:
        in_force = in_force_on(consent, day)
        in_window = abs((consent.event_on - day).days) <= AROUND_CONDUCT.days
        if in_window or in_force:  # granted after the conduct: only if in the window
            decided_on = uk_time(consent.decided_at).date() if consent.decided_at else None
            shown.append(ConsentOnCase(consent, in_force=in_force, decided_on=decided_on))
    return shown
