"""Which notifications are due, and sending each exactly once.

A notification is due when the state of a case asks for someone's attention: a decision
waiting, a case returned, an appeal lodged, a LADO referral due within a day or
overdue. Each has a key naming the event it is about (the submission, the return, the
appeal, the case and recipient for a LADO reminder). A key is written to
`sent_notifications` in the same transaction as the sending, so running the reminders
twice, or from two machines at once, never sends the same one twice; a failed delivery
rolls its key back, to be tried again next time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from tracker.audit import services as audit
from tracker.audit.actions import AuditAction
from tracker.auth.models import RoleGrant, User
from tracker.auth.roles import Role
from tracker.cases.models import Case, CaseStatus, Track
from tracker.db import utcnow
from tracker.extensions import db
from tracker.notifications.mail import MailError, absolute_url, send_message
from tracker.notifications.messages import NotificationKind, compose
from tracker.workflow.models import Action, SentNotification

log = logging.getLogger(__name__)

# A LADO reminder goes out once the deadline is this close (or has passed).
LADO_REMINDER_AHEAD = timedelta(hours=24)


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


def _latest(case: Case, action: Action):
    return next((t for t in reversed(case.transitions) if t.action == action.value), None)


def _school_safeguarding_team(case: Case) -> list[User]:
    grants = db.session.scalars(
        select(RoleGrant).where(
            RoleGrant.school_id == case.school_id,
            RoleGrant.role.in_([Role.DSL.value, Role.DEPUTY_DSL.value, Role.HEADTEACHER.value]),
        )
    )
    people = {grant.user.id: grant.user for grant in grants if grant.user.is_active}
    subject_user = case.subject.user_id
    return [user for user_id, user in sorted(people.items()) if user_id != subject_user]


def due_notifications(now: datetime, *, case_id: int | None = None) -> list[Due]:
    """Every notification the cases' state calls for (sent or not)."""
    query = (
        select(Case)
        .where(
            Case.status.in_(
                [
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
    for case in db.session.scalars(query):
        if case.status == CaseStatus.AWAITING_DECISION and case.decision_maker is not None:
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


def _case_url(case: Case) -> str:
    with current_app.test_request_context():
        return absolute_url(url_for("cases.show", case_id=case.id))


def send_due_notifications(
    now: datetime | None = None, *, case_id: int | None = None
) -> SendReport:
    """Send every due notification not sent before; commits after each one.

    This is a command's (and a view's after-commit) unit of work, not a service inside
    someone else's transaction: each notification is its own transaction, so one
    failure never holds back, or undoes, the others. Side effects: each notification
    delivered records notification.sent about its case, in the transaction that keeps
    its key (the system acting; details {"kind", "key", "recipient_id"}: never the
    address or the words); one that fails to send records nothing.
    """
    now = now or utcnow()
    return deliver(due_notifications(now, case_id=case_id), now)


def deliver(pending: list[Due], now: datetime) -> SendReport:
    """Send each of `pending` whose key has not been claimed yet; commits after each one
    (see `send_due_notifications`, which this serves, as does the retention warning)."""
    report = SendReport()
    sent_keys = set(
        db.session.scalars(
            select(SentNotification.key).where(SentNotification.key.in_([d.key for d in pending]))
        )
    )
    db.session.commit()
    for item in pending:
        if item.key in sent_keys:
            report.already_sent += 1
            continue
        sent = SentNotification(
            key=item.key,
            kind=item.kind.value,
            case_id=item.case.id,
            recipient_id=item.recipient.id,
            sent_at=now,
        )
        db.session.add(sent)
        try:
            db.session.flush()  # claims the key: a second runner stops here
        except IntegrityError:
            db.session.rollback()
            report.already_sent += 1
            continue
        subject, body = compose(
            item.kind, case_url=_case_url(item.case), recipient_name=item.recipient.display_name
        )
        try:
            send_message(item.recipient.email, subject, body)
        except MailError:
            db.session.rollback()
            log.exception(
                "could not send a %s notification for case %s", item.kind.value, item.case.id
            )
            report.failed += 1
            continue
        # Recorded after the mail has gone, not before: writing an event holds the audit
        # chain's lock until the commit, and no other writer should wait on a mail server.
        audit.record_for_case(
            AuditAction.NOTIFICATION_SENT,
            item.case,
            actor=None,
            object_type="sent_notification",
            object_id=sent.id,
            details={
                "kind": item.kind.value,
                "key": item.key,
                "recipient_id": item.recipient.id,
            },
        )
        db.session.commit()
        report.sent += 1
    return report
