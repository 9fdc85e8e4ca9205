"""Which notifications are due, queueing them, and sending each one once.

A notification is due when the state of a case asks for someone's attention: a concern
a member of staff raised, a decision waiting, a case returned, an appeal lodged, a LADO
referral due within a day or overdue. Each has a key naming the event it is about (the
concern's case and recipient, the submission, the return, the appeal, the case and
recipient for a LADO reminder).

What is due is queued in `sent_notifications` (the key is unique, so it is queued once)
in a short transaction of its own, and sent later with no transaction open: on SQLite
every transaction holds the database's write lock, and nobody's work should wait on a
mail server. Sending one takes three steps:

1. claim it: one atomic UPDATE that succeeds only if nobody holds it, or the holder's
   lease (`CLAIM_LEASE`) has run out, committed at once. Of two senders at once (two
   hosts running `flask reminders send`, or a request and the command) only one wins;
2. send it, with no transaction open;
3. record it sent, with its notification.sent event, in another short transaction.

A failed delivery gives the claim back, so the next run tries again. A sender that dies
holding a claim leaves it to run out, and the next run after the lease sends the e-mail;
if it died between 2 and 3, that is a second copy (at least once, never lost). The
lease is far longer than a delivery can take (each step of the SMTP conversation times
out after SMTP_TIMEOUT), so a live sender is never overtaken.

A workflow step calls `notify_after_commit`: the queueing happens in the request and the
sending once the response has gone (see there). `flask reminders send` queues whatever
is due by now and sends everything queued and not sent, whoever queued it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, cast

from flask import Flask, after_this_request, current_app, has_request_context, url_for
from sqlalchemy import CursorResult, Update, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import RoleGrant, User
from tracker.auth.roles import Role
from tracker.cases.models import Case, CaseStatus, Track
from tracker.concerns.models import StaffConcern
from tracker.db import utcnow
from tracker.extensions import db
from tracker.notifications.mail import MailError, absolute_url, send_message
from tracker.notifications.messages import NotificationKind, compose
from tracker.workflow.models import Action, CaseTransition, SentNotification

log = logging.getLogger(__name__)

# A LADO reminder goes out once the deadline is this close (or has passed).
LADO_REMINDER_AHEAD = timedelta(hours=24)

# How long a claim keeps other senders off a notification. A delivery takes at most a few
# SMTP_TIMEOUTs (connect, greeting, sign-in, each command); this is far longer, so only
# a sender that has died is overtaken, and its e-mail goes at the next run after this.
CLAIM_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Due:
    key: str
    kind: NotificationKind
    case: Case
    recipient: User


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    already_sent: int = 0
    being_sent: int = 0  # claimed by another sender that is still within its lease


def _latest(case: Case, action: Action) -> CaseTransition | None:
    return next((t for t in reversed(case.transitions) if t.action == action.value), None)


def _changed_rows(statement: Update) -> int:
    """Run an UPDATE; the number of rows it changed (how a claim knows it won)."""
    result = db.session.execute(statement)
    return cast(CursorResult[Any], result).rowcount


SAFEGUARDING_TEAM = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)
SAFEGUARDING_LEADS = (Role.DSL, Role.DEPUTY_DSL)


def _school_safeguarding_team(
    case: Case, roles: tuple[Role, ...] = SAFEGUARDING_TEAM, *, not_the_reporter: bool = False
) -> list[User]:
    """The school's people in these roles, never the case's subject, and, when asked, not
    whoever reported it (a lead who raised a concern as a member of staff)."""
    grants = db.session.scalars(
        select(RoleGrant).where(
            RoleGrant.school_id == case.school_id,
            RoleGrant.role.in_([role.value for role in roles]),
        )
    )
    people = {grant.user.id: grant.user for grant in grants if grant.user.is_active}
    left_out = {case.subject.user_id}
    if not_the_reporter:
        left_out.add(case.reported_by_id)
    return [user for user_id, user in sorted(people.items()) if user_id not in left_out]


def _trust_safeguarding_roles(case: Case) -> list[User]:
    """Whoever holds a safeguarding role across the case's trust (the CEO), never its
    subject."""
    grants = db.session.scalars(
        select(RoleGrant)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            User.trust_id == case.trust_id,
            RoleGrant.school_id.is_(None),
            RoleGrant.role == Role.CEO.value,
        )
    )
    people = {grant.user.id: grant.user for grant in grants if grant.user.is_active}
    return [user for user_id, user in sorted(people.items()) if user_id != case.subject.user_id]


def due_notifications(now: datetime, *, case_id: int | None = None) -> list[Due]:
    """Every notification the cases' state calls for (sent or not)."""
    query = (
        select(Case)
        .where(
            Case.status.in_(
                [
                    CaseStatus.REPORTED,
                    CaseStatus.TRIAGE,
                    CaseStatus.INVESTIGATION,
                    CaseStatus.AWAITING_DECISION,
                    CaseStatus.APPEAL,
                ]
            )
        )
        .options(selectinload(Case.transitions), selectinload(Case.appeals))
        .order_by(Case.id)
    )
    if case_id is not None:
        query = query.where(Case.id == case_id)
    due: list[Due] = []
    raised_by_staff = set(
        db.session.scalars(
            select(StaffConcern.case_id).where(
                StaffConcern.case_id.is_not(None),
                *([StaffConcern.case_id == case_id] if case_id is not None else []),
            )
        )
    )
    for case in db.session.scalars(query):
        if case.pattern_unreviewed:
            # The trust-wide safeguarding role: told a review is needed, nothing more.
            due.extend(
                Due(
                    f"pattern:{case.id}:{person.id}", NotificationKind.PATTERN_FLAGGED, case, person
                )
                for person in _trust_safeguarding_roles(case)
            )
        if case.status == CaseStatus.REPORTED:
            # A concern a member of staff raised: the school's safeguarding leads are told.
            if case.id in raised_by_staff:
                due.extend(
                    Due(
                        f"concern_raised:{case.id}:{person.id}",
                        NotificationKind.CONCERN_RAISED,
                        case,
                        person,
                    )
                    for person in _school_safeguarding_team(
                        case, SAFEGUARDING_LEADS, not_the_reporter=True
                    )
                )
        elif case.status == CaseStatus.AWAITING_DECISION and case.decision_maker is not None:
            submitted = _latest(case, Action.SUBMIT_FOR_DECISION)
            if submitted is not None:
                due.append(
                    Due(
                        f"decision_needed:{submitted.id}",
                        NotificationKind.DECISION_NEEDED,
                        case,
                        case.decision_maker,
                    )
                )
        elif case.status == CaseStatus.INVESTIGATION and case.transitions:
            last = case.transitions[-1]
            recipient = case.investigator or case.reported_by
            if last.action == Action.RETURN_FOR_INVESTIGATION.value and recipient is not None:
                due.append(
                    Due(
                        f"returned:{last.id}",
                        NotificationKind.RETURNED_FOR_INVESTIGATION,
                        case,
                        recipient,
                    )
                )
        elif case.status == CaseStatus.APPEAL and case.appeal and case.appeal.heard_by:
            due.append(
                Due(
                    f"appeal_lodged:{case.appeal.id}",
                    NotificationKind.APPEAL_LODGED,
                    case,
                    case.appeal.heard_by,
                )
            )
        elif (
            case.status == CaseStatus.TRIAGE
            and case.track == Track.ALLEGATION
            and case.lado_referred_at is None
            and case.lado_due_at is not None
            and case.lado_due_at - now <= LADO_REMINDER_AHEAD
        ):
            for person in _school_safeguarding_team(case):
                due.append(
                    Due(
                        f"lado_due:{case.id}:{case.lado_due_at:%Y%m%d%H%M}:{person.id}",
                        NotificationKind.LADO_REFERRAL_DUE,
                        case,
                        person,
                    )
                )
    return [item for item in due if item.recipient.is_active]


def _case_url(case_id: int) -> str:
    with current_app.test_request_context():
        return absolute_url(url_for("cases.show", case_id=case_id))


@dataclass(frozen=True)
class _Claimed:
    """A notification this sender holds, with its finished e-mail: sending it needs no
    database, so no transaction is open while the mail server answers."""

    # The row it holds, as the audit trail names it.
    audit_type: ClassVar[str] = SentNotification.audit_type

    id: int
    key: str
    kind: NotificationKind
    case_id: int
    recipient_id: int
    claimed_at: datetime
    to: str
    subject: str
    body: str


def notify_after_commit(case_id: int) -> None:
    """Queue the notifications a case's state now calls for; send them after the response.

    Call it once the workflow step has committed: it runs its own short transaction
    (queueing, no audit event) and commits it. In a request, the sending waits until the
    response has gone to the browser: the response's `call_on_close`, which the WSGI
    server calls once it has written the response, in a fresh app context (so a fresh
    session). Rather than a background thread per process: nothing to start after a
    fork or lose at shutdown, and it runs where the request ran. It stops at the first
    failed delivery and leaves the rest queued, so that a worker does not wait out one
    timeout per recipient; `flask reminders send` sends whatever is left. Outside a
    request it sends at once. Side effects: as `send_due_notifications`.
    """
    now = utcnow()
    _queue(due_notifications(now, case_id=case_id), now)
    waiting = db.session.scalar(
        select(
            exists().where(SentNotification.case_id == case_id, SentNotification.sent_at.is_(None))
        )
    )
    db.session.commit()
    if not waiting:
        return
    # The app itself, not the proxy: the sending runs after this request's context is gone.
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not has_request_context():
        _send_after_response(app, case_id)
        return

    @after_this_request
    def send_once_answered(response: Response) -> Response:
        response.call_on_close(lambda: _send_after_response(app, case_id))
        return response


def _send_after_response(app: Flask, case_id: int) -> None:
    with app.app_context():
        try:
            _send_queued(SendReport(), utcnow(), case_id=case_id, stop_at_first_failure=True)
        except Exception:
            # The response has gone and nobody is waiting to see this: log it, and leave
            # whatever is still queued to `flask reminders send`.
            log.exception("could not send the notifications queued for case %s", case_id)


def send_due_notifications(
    now: datetime | None = None, *, case_id: int | None = None
) -> SendReport:
    """Queue every due notification not queued before, then send everything queued and not
    sent (for one case, when `case_id` is given), whoever queued it.

    This is a command's unit of work, not a service inside someone else's transaction:
    it commits the queueing, then each notification is claimed, sent and recorded in
    transactions of its own (see the module docstring), so one failure never holds back,
    or undoes, the others. Side effects: each notification delivered records
    notification.sent about its case, in the transaction that marks it sent (the system
    acting; details {"kind", "key", "recipient_id"}: never the address or the words); one
    that fails to send records nothing and stays queued.
    """
    now = now or utcnow()
    report = SendReport()
    report.already_sent = _queue(due_notifications(now, case_id=case_id), now)
    db.session.commit()
    _send_queued(report, now, case_id=case_id)
    return report


def deliver(pending: list[Due], now: datetime) -> SendReport:
    """Queue each of `pending` not queued before, then send those of them not sent yet;
    commits as `send_due_notifications` does (the retention warnings use this)."""
    report = SendReport()
    report.already_sent = _queue(pending, now)
    db.session.commit()
    if pending:
        _send_queued(report, now, keys=[item.key for item in pending])
    return report


def _queue(pending: list[Due], now: datetime) -> int:
    """Add a queued row for each of `pending` whose key has none; returns how many of them
    were sent before. Flushes; the caller commits.

    INSERT ... ON CONFLICT DO NOTHING: two processes queueing the same key at once both
    succeed, and the key is still queued once.
    """
    if not pending:
        return 0
    by_key = {item.key: item for item in pending}
    already_sent = db.session.scalar(
        select(func.count(SentNotification.id)).where(
            SentNotification.key.in_(list(by_key)), SentNotification.sent_at.is_not(None)
        )
    )
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(SentNotification)
        .values(
            [
                {
                    "key": item.key,
                    "kind": item.kind.value,
                    "case_id": item.case.id,
                    "recipient_id": item.recipient.id,
                    "queued_at": now,
                }
                for item in by_key.values()
            ]
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return already_sent or 0


def _send_queued(
    report: SendReport,
    now: datetime,
    *,
    case_id: int | None = None,
    keys: list[str] | None = None,
    stop_at_first_failure: bool = False,
) -> None:
    """Claim, send and record each queued notification (of one case, or with one of
    `keys`, when given), adding to `report`."""
    query = select(SentNotification.id).where(SentNotification.sent_at.is_(None))
    if case_id is not None:
        query = query.where(SentNotification.case_id == case_id)
    if keys is not None:
        query = query.where(SentNotification.key.in_(keys))
    queued = list(db.session.scalars(query.order_by(SentNotification.id)))
    db.session.commit()  # end the read: no transaction may stay open while mail is sent
    for notification_id in queued:
        claimed = _claim(notification_id)
        if claimed is None:
            report.being_sent += 1
            continue
        if db.session().in_transaction():
            raise RuntimeError("A transaction is open while an e-mail is sent.")
        try:
            send_message(claimed.to, claimed.subject, claimed.body)
        except MailError:
            _release(claimed)
            log.exception(
                "could not send a %s notification for case %s",
                claimed.kind.value,
                claimed.case_id,
            )
            report.failed += 1
            if stop_at_first_failure:
                return
            continue
        _record_sent(claimed, now)
        report.sent += 1


def _claim(notification_id: int) -> _Claimed | None:
    """Take the notification if it is unsent and nobody holds it (or their lease has run
    out), with its e-mail composed; commits. None if it is not ours to send now (sent,
    held by another sender, or its recipient can no longer be e-mailed)."""
    # The real clock, not the run's `now`: the lease is about live processes.
    claimed_at = utcnow()
    taken = _changed_rows(
        update(SentNotification)
        .where(
            SentNotification.id == notification_id,
            SentNotification.sent_at.is_(None),
            or_(
                SentNotification.claimed_at.is_(None),
                SentNotification.claimed_at < claimed_at - CLAIM_LEASE,
            ),
        )
        .values(claimed_at=claimed_at)
        .execution_options(synchronize_session=False)
    )
    if taken != 1:
        db.session.commit()
        return None
    row = db.session.execute(
        select(
            SentNotification.key,
            SentNotification.kind,
            SentNotification.case_id,
            SentNotification.recipient_id,
        ).where(SentNotification.id == notification_id)
    ).one()
    recipient = db.session.get(User, row.recipient_id, populate_existing=True)
    if recipient is None or not recipient.is_active:
        # Queued while they could be told; an account disabled since is told nothing.
        # Should it be enabled again, the next run queues whatever is still due.
        db.session.execute(delete(SentNotification).where(SentNotification.id == notification_id))
        db.session.commit()
        return None
    kind = NotificationKind(row.kind)
    subject, body = compose(
        kind, case_url=_case_url(row.case_id), recipient_name=recipient.display_name
    )
    claimed = _Claimed(
        id=notification_id,
        key=row.key,
        kind=kind,
        case_id=row.case_id,
        recipient_id=row.recipient_id,
        claimed_at=claimed_at,
        to=recipient.email,
        subject=subject,
        body=body,
    )
    db.session.commit()
    return claimed


def _release(claimed: _Claimed) -> None:
    """Give the claim back after a failed delivery, so the next run tries again; commits.
    Only our own claim: one taken over after our lease ran out is left alone."""
    db.session.execute(
        update(SentNotification)
        .where(
            SentNotification.id == claimed.id,
            SentNotification.sent_at.is_(None),
            SentNotification.claimed_at == claimed.claimed_at,
        )
        .values(claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record_sent(claimed: _Claimed, now: datetime) -> None:
    """Mark the notification sent and record notification.sent; commits.

    Writing the event holds the audit chain's lock until the commit, which is why it
    comes after the mail has gone, in a transaction of its own. If another sender
    recorded it first (it overtook a lease that ran out), or the case has been disposed
    of since, there is nothing to record.
    """
    marked = _changed_rows(
        update(SentNotification)
        .where(SentNotification.id == claimed.id, SentNotification.sent_at.is_(None))
        .values(sent_at=now, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    case = db.session.get(Case, claimed.case_id) if marked == 1 else None
    if case is not None:
        audit.record_about(
            AuditAction.NOTIFICATION_SENT,
            claimed,
            case=case,
            actor=None,
            details={
                "kind": claimed.kind.value,
                "key": claimed.key,
                "recipient_id": claimed.recipient_id,
            },
        )
    db.session.commit()
