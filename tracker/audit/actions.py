"""Every kind of audit event, with the words an auditor reads for it."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


class AuditAction(StrEnum):
    """What happened. The stored value is stable; the label is what the pages show."""

    # Signing in and out.
    LOGIN_SUCCEEDED = "auth.login.succeeded"
    LOGIN_FAILED = "auth.login.failed"
    # Second factor still to come. (Event names, not secrets: S105/B105 misread "PASSWORD".)
    LOGIN_PASSWORD_ACCEPTED = "auth.login.password_accepted"  # noqa: S105 # nosec B105
    MFA_ENROLLED = "auth.mfa.enrolled"
    MFA_RESET = "auth.mfa.reset"
    RECOVERY_CODE_USED = "auth.recovery_code.used"
    PASSWORD_CHANGED = "auth.password.changed"  # noqa: S105 # nosec B105
    LOGOUT = "auth.logout"
    SESSION_ENDED = "auth.session.ended"  # ran out: idle or past its lifetime
    SESSION_REVOKED = "auth.session.revoked"
    ACCESS_DENIED = "access.denied"

    # Accounts, schools and the staff register.
    USER_CREATED = "user.created"
    USER_DISABLED = "user.disabled"
    ROLE_GRANTED = "role.granted"
    TRUST_CREATED = "trust.created"
    SCHOOL_CREATED = "school.created"
    SCHOOL_LADO_UPDATED = "school.lado_updated"
    STAFF_CREATED = "staff.created"
    STAFF_UPDATED = "staff.updated"

    # The policy register.
    POLICY_CREATED = "policy.created"
    POLICY_VERSION_DRAFTED = "policy.version.drafted"
    POLICY_VERSION_UPDATED = "policy.version.updated"
    POLICY_VERSION_PUBLISHED = "policy.version.published"
    POLICY_CLAUSE_ADDED = "policy.clause.added"
    POLICY_CLAUSE_UPDATED = "policy.clause.updated"
    POLICY_CLAUSE_REMOVED = "policy.clause.removed"
    POLICY_ACKNOWLEDGED = "policy.acknowledgement.recorded"
    POLICY_ACKNOWLEDGEMENTS_IMPORTED = "policy.acknowledgements.imported"

    # Cases and what hangs off them.
    CASE_CREATED = "case.created"
    CASE_UPDATED = "case.updated"
    CASE_VIEWED = "case.viewed"
    CASE_HISTORY_VIEWED = "case.history.viewed"
    CASE_LIST_VIEWED = "case.list.viewed"
    CASE_TRANSITIONED = "case.transitioned"
    CLAUSE_BREACH_ADDED = "clause_breach.added"
    PERSON_ADDED = "person.added"
    EVIDENCE_ADDED = "evidence.added"
    EVIDENCE_DOWNLOADED = "evidence.downloaded"
    EVIDENCE_REMOVED = "evidence.removed"
    CHRONOLOGY_ADDED = "chronology.added"

    # Review and decision.
    LADO_REFERRAL_RECORDED = "lado.referral.recorded"
    LADO_ADVICE_RECORDED = "lado.advice.recorded"
    SUSPENSION_RECORDED = "suspension.recorded"
    DECISION_RECORDED = "decision.recorded"
    APPEAL_LODGED = "appeal.lodged"
    APPEAL_DECIDED = "appeal.decided"
    NOTIFICATION_SENT = "notification.sent"

    # Subject access requests and hearing packs (tracker/privacy/).
    SAR_RECORDED = "sar.recorded"
    SAR_VIEWED = "sar.viewed"
    SAR_EXTENDED = "sar.extended"
    SAR_REDACTION_ADDED = "sar.redaction.added"
    SAR_EXPORTED = "sar.exported"
    SAR_RELEASED = "sar.released"
    SAR_CLOSED = "sar.closed"
    HEARING_PACK_REDACTION_ADDED = "hearing_pack.redaction.added"
    HEARING_PACK_DOWNLOADED = "hearing_pack.downloaded"
    # Retention, legal holds and disposal (tracker/retention/).
    CASE_RETENTION_SET = "case.retention.set"
    CASE_RETENTION_FACTS_CHANGED = "case.retention_facts.changed"
    LEGAL_HOLD_SET = "legal_hold.set"
    LEGAL_HOLD_LIFTED = "legal_hold.lifted"
    CASE_DISPOSED = "case.disposed"
    RETENTION_LIST_VIEWED = "retention.list.viewed"

    # The trail itself.
    AUDIT_SEARCHED = "audit.searched"
    AUDIT_EXPORTED = "audit.exported"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_read(self) -> bool:
        """Someone looked at something (as against changing it)."""
        return self in READ_ACTIONS


def known_action(value: str) -> AuditAction | None:
    """The action a stored value names, or None for one this version does not know."""
    try:
        return AuditAction(value)
    except ValueError:
        return None


_LABELS: dict[AuditAction, str] = {
    AuditAction.LOGIN_SUCCEEDED: "Signed in",
    AuditAction.LOGIN_FAILED: "Sign-in refused",
    AuditAction.LOGIN_PASSWORD_ACCEPTED: "Password accepted, second factor asked for",
    AuditAction.MFA_ENROLLED: "Authenticator app set up",
    AuditAction.MFA_RESET: "Second factor reset",
    AuditAction.RECOVERY_CODE_USED: "Recovery code used",
    AuditAction.PASSWORD_CHANGED: "Password changed",
    AuditAction.LOGOUT: "Signed out",
    AuditAction.SESSION_ENDED: "Session ran out",
    AuditAction.SESSION_REVOKED: "Session ended by someone else",
    AuditAction.ACCESS_DENIED: "Access refused",
    AuditAction.USER_CREATED: "Account created",
    AuditAction.USER_DISABLED: "Account disabled",
    AuditAction.ROLE_GRANTED: "Role given",
    AuditAction.TRUST_CREATED: "Trust created",
    AuditAction.SCHOOL_CREATED: "School added",
    AuditAction.SCHOOL_LADO_UPDATED: "School's LADO arrangements changed",
    AuditAction.STAFF_CREATED: "Member of staff added",
    AuditAction.STAFF_UPDATED: "Member of staff changed",
    AuditAction.POLICY_CREATED: "Policy created",
    AuditAction.POLICY_VERSION_DRAFTED: "Policy version drafted",
    AuditAction.POLICY_VERSION_UPDATED: "Policy version changed",
    AuditAction.POLICY_VERSION_PUBLISHED: "Policy version published",
    AuditAction.POLICY_CLAUSE_ADDED: "Clause added",
    AuditAction.POLICY_CLAUSE_UPDATED: "Clause changed",
    AuditAction.POLICY_CLAUSE_REMOVED: "Clause removed",
    AuditAction.POLICY_ACKNOWLEDGED: "Policy acknowledgement recorded",
    AuditAction.POLICY_ACKNOWLEDGEMENTS_IMPORTED: "Policy acknowledgements imported",
    AuditAction.CASE_CREATED: "Case logged",
    AuditAction.CASE_UPDATED: "Case details changed",
    AuditAction.CASE_VIEWED: "Case viewed",
    AuditAction.CASE_HISTORY_VIEWED: "Case history viewed",
    AuditAction.CASE_LIST_VIEWED: "Case list or search viewed",
    AuditAction.CASE_TRANSITIONED: "Case moved on",
    AuditAction.CLAUSE_BREACH_ADDED: "Clause breach cited",
    AuditAction.PERSON_ADDED: "Person involved added",
    AuditAction.EVIDENCE_ADDED: "Evidence added",
    AuditAction.EVIDENCE_DOWNLOADED: "Evidence downloaded",
    AuditAction.EVIDENCE_REMOVED: "Evidence removed",
    AuditAction.CHRONOLOGY_ADDED: "Chronology entry added",
    AuditAction.LADO_REFERRAL_RECORDED: "LADO referral recorded",
    AuditAction.LADO_ADVICE_RECORDED: "LADO advice recorded",
    AuditAction.SUSPENSION_RECORDED: "Suspension recorded",
    AuditAction.DECISION_RECORDED: "Decision recorded",
    AuditAction.APPEAL_LODGED: "Appeal lodged",
    AuditAction.APPEAL_DECIDED: "Appeal decided",
    AuditAction.NOTIFICATION_SENT: "Notification sent",
    AuditAction.SAR_RECORDED: "Subject access request recorded",
    AuditAction.SAR_VIEWED: "Subject access request viewed",
    AuditAction.SAR_EXTENDED: "Subject access deadline extended",
    AuditAction.SAR_REDACTION_ADDED: "Redaction added to a subject access request",
    AuditAction.SAR_EXPORTED: "Subject access export produced",
    AuditAction.SAR_RELEASED: "Subject access response released",
    AuditAction.SAR_CLOSED: "Subject access request closed without a release",
    AuditAction.HEARING_PACK_REDACTION_ADDED: "Redaction added to a case's hearing pack",
    AuditAction.HEARING_PACK_DOWNLOADED: "Hearing pack downloaded",
    AuditAction.CASE_RETENTION_SET: "Retention worked out",
    AuditAction.CASE_RETENTION_FACTS_CHANGED: "Retention facts changed",
    AuditAction.LEGAL_HOLD_SET: "Legal hold placed",
    AuditAction.LEGAL_HOLD_LIFTED: "Legal hold lifted",
    AuditAction.CASE_DISPOSED: "Case disposed of",
    AuditAction.RETENTION_LIST_VIEWED: "Retention and disposal list viewed",
    AuditAction.AUDIT_SEARCHED: "Audit trail searched",
    AuditAction.AUDIT_EXPORTED: "Audit trail exported",
}

READ_ACTIONS = frozenset(
    {
        AuditAction.CASE_VIEWED,
        AuditAction.CASE_HISTORY_VIEWED,
        AuditAction.CASE_LIST_VIEWED,
        AuditAction.EVIDENCE_DOWNLOADED,
        AuditAction.AUDIT_SEARCHED,
        AuditAction.AUDIT_EXPORTED,
        AuditAction.SAR_VIEWED,
        AuditAction.SAR_EXPORTED,
        AuditAction.HEARING_PACK_DOWNLOADED,
        AuditAction.RETENTION_LIST_VIEWED,
    }
)
