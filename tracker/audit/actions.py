"""Every kind of audit event, with the words an auditor reads for it."""

from __future__ import annotations

from enum import StrEnum

from tracker.db import LabelledEnum


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


class AuditAction(LabelledEnum):
    """What happened. The stored value is stable; the label is what the pages show."""

    # Signing in and out.
    LOGIN_SUCCEEDED = "auth.login.succeeded", "Signed in"
    LOGIN_FAILED = "auth.login.failed", "Sign-in refused"
    # Second factor still to come.
    LOGIN_PASSWORD_ACCEPTED = (
        "auth.login.password_accepted",
        "Password accepted, second factor asked for",
    )
    LOGIN_PROVIDER_ACCEPTED = (
        "auth.login.provider_accepted",
        "Identity provider accepted, second factor asked for",
    )
    MFA_ENROLLED = "auth.mfa.enrolled", "Authenticator app set up"
    MFA_RESET = "auth.mfa.reset", "Second factor reset"
    RECOVERY_CODE_USED = "auth.recovery_code.used", "Recovery code used"
    PASSWORD_CHANGED = "auth.password.changed", "Password changed"
    LOGOUT = "auth.logout", "Signed out"
    SESSION_ENDED = "auth.session.ended", "Session ran out"  # ran out: idle or past its lifetime
    SESSION_REVOKED = "auth.session.revoked", "Session ended by someone else"
    ACCESS_DENIED = "access.denied", "Access refused"

    # Accounts, schools and the staff register.
    USER_CREATED = "user.created", "Account created"
    USER_DISABLED = "user.disabled", "Account disabled"
    ROLE_GRANTED = "role.granted", "Role given"
    TRUST_CREATED = "trust.created", "Trust created"
    SCHOOL_CREATED = "school.created", "School added"
    SCHOOL_LADO_UPDATED = "school.lado_updated", "School's LADO arrangements changed"
    STAFF_CREATED = "staff.created", "Member of staff added"
    STAFF_UPDATED = "staff.updated", "Member of staff changed"
    STAFF_IMPORTED = "staff.imported", "Staff register imported"
    STAFF_ACCOUNTS_GIVEN = "staff.accounts.given", "Accounts given to staff on the register"
    TRUST_SIGN_IN_CHANGED = "trust.sign_in.changed", "Sign-in settings changed"
    TRUST_PATTERN_RULE_CHANGED = "trust.pattern_rule.changed", "Pattern rule changed"
    USER_BREAK_GLASS_CHANGED = "user.break_glass.changed", "Break-glass password sign-in changed"

    # The policy register.
    POLICY_CREATED = "policy.created", "Policy created"
    POLICY_VERSION_DRAFTED = "policy.version.drafted", "Policy version drafted"
    POLICY_VERSION_UPDATED = "policy.version.updated", "Policy version changed"
    POLICY_VERSION_PUBLISHED = "policy.version.published", "Policy version published"
    POLICY_CLAUSE_ADDED = "policy.clause.added", "Clause added"
    POLICY_CLAUSE_UPDATED = "policy.clause.updated", "Clause changed"
    POLICY_CLAUSE_REMOVED = "policy.clause.removed", "Clause removed"
    POLICY_ACKNOWLEDGED = "policy.acknowledgement.recorded", "Policy acknowledgement recorded"
    POLICY_ACKNOWLEDGEMENTS_IMPORTED = (
        "policy.acknowledgements.imported",
        "Policy acknowledgements imported",
    )

    # Cases and what hangs off them.
    CASE_CREATED = "case.created", "Case logged"
    CASE_UPDATED = "case.updated", "Case details changed"
    CASE_VIEWED = "case.viewed", "Case viewed"
    CASE_HISTORY_VIEWED = "case.history.viewed", "Case history viewed"
    CASE_LIST_VIEWED = "case.list.viewed", "Case list or search viewed"
    CASE_TRANSITIONED = "case.transitioned", "Case moved on"
    CLAUSE_BREACH_ADDED = "clause_breach.added", "Clause breach cited"
    PERSON_ADDED = "person.added", "Person involved added"
    EVIDENCE_ADDED = "evidence.added", "Evidence added"
    EVIDENCE_DOWNLOADED = "evidence.downloaded", "Evidence downloaded"
    EVIDENCE_REMOVED = "evidence.removed", "Evidence removed"
    CHRONOLOGY_ADDED = "chronology.added", "Chronology entry added"

    # What any member of staff does (tracker/concerns/, tracker/consents/).
    CONCERN_RAISED = "concern.raised", "Concern raised by a member of staff"
    CONCERN_DRAFT_SAVED = "concern.draft.saved", "Concern draft saved"
    CONCERN_DRAFT_DISCARDED = "concern.draft.discarded", "Concern draft discarded"
    CONCERN_REFUSED = "concern.refused", "Concern refused: daily limit reached"
    CONCERN_DRAFTS_EXPIRED = "concern.drafts.expired", "Unsent concern drafts deleted"
    CONSENT_ASKED = "consent.asked", "Consent asked to post pictures"
    CONSENT_REFERRED = "consent.referred", "Consent request passed to the CEO"
    CONSENT_DECIDED = "consent.decided", "Consent decided"
    CONSENT_WITHDRAWN = "consent.withdrawn", "Consent request withdrawn"
    CONSENT_REGISTER_VIEWED = "consent.register.viewed", "Consent register viewed or searched"

    # Insight (tracker/insight/, tracker/reports/).
    PATTERN_FLAGGED = "pattern.flagged", "Pattern of concerns flagged for review"
    PATTERN_REVIEWED = "pattern.reviewed", "Pattern of concerns reviewed"
    CASE_LINKED = "case.linked", "Cases linked"
    CASE_UNLINKED = "case.unlinked", "Cases unlinked"
    REPORT_VIEWED = "report.viewed", "Governance report viewed"
    REPORT_EXPORTED = "report.exported", "Governance report exported"
    CASE_LIST_EXPORTED = "case.list.exported", "Case list exported"

    # Review and decision.
    LADO_REFERRAL_RECORDED = "lado.referral.recorded", "LADO referral recorded"
    LADO_ADVICE_RECORDED = "lado.advice.recorded", "LADO advice recorded"
    SUSPENSION_RECORDED = "suspension.recorded", "Suspension recorded"
    DECISION_RECORDED = "decision.recorded", "Decision recorded"
    APPEAL_LODGED = "appeal.lodged", "Appeal lodged"
    APPEAL_DECIDED = "appeal.decided", "Appeal decided"
    NOTIFICATION_SENT = "notification.sent", "Notification sent"

    # Subject access requests and hearing packs (tracker/privacy/).
    SAR_RECORDED = "sar.recorded", "Subject access request recorded"
    SAR_VIEWED = "sar.viewed", "Subject access request viewed"
    SAR_EXTENDED = "sar.extended", "Subject access deadline extended"
    SAR_REDACTION_ADDED = "sar.redaction.added", "Redaction added to a subject access request"
    SAR_EXPORTED = "sar.exported", "Subject access export produced"
    SAR_RELEASED = "sar.released", "Subject access response released"
    SAR_CLOSED = "sar.closed", "Subject access request closed without a release"
    HEARING_PACK_REDACTION_ADDED = (
        "hearing_pack.redaction.added",
        "Redaction added to a case's hearing pack",
    )
    HEARING_PACK_DOWNLOADED = "hearing_pack.downloaded", "Hearing pack downloaded"
    # Retention, legal holds and disposal (tracker/retention/).
    CASE_RETENTION_SET = "case.retention.set", "Retention worked out"
    CASE_RETENTION_FACTS_CHANGED = "case.retention_facts.changed", "Retention facts changed"
    LEGAL_HOLD_SET = "legal_hold.set", "Legal hold placed"
    LEGAL_HOLD_LIFTED = "legal_hold.lifted", "Legal hold lifted"
    CASE_DISPOSED = "case.disposed", "Case disposed of"
    RETENTION_LIST_VIEWED = "retention.list.viewed", "Retention and disposal list viewed"

    # Backups and restores (tracker/backup/), by the `flask backup` commands.
    SYSTEM_BACKUP_CREATED = "system.backup.created", "Backup made"
    SYSTEM_RESTORED = "system.restored", "Restored from a backup"
    SYSTEM_EVIDENCE_MIGRATED = "system.evidence.migrated", "Evidence moved or re-encrypted"
    SYSTEM_EVIDENCE_SWEPT = "system.evidence.swept", "Unrecorded evidence files deleted"

    # The trail itself.
    AUDIT_SEARCHED = "audit.searched", "Audit trail searched"
    AUDIT_EXPORTED = "audit.exported", "Audit trail exported"

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
        AuditAction.CONSENT_REGISTER_VIEWED,
        AuditAction.REPORT_VIEWED,
        AuditAction.REPORT_EXPORTED,
        AuditAction.CASE_LIST_EXPORTED,
    }
)
