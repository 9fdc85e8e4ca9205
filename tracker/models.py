"""Every model, imported in one place so that the mappers and Alembic see the whole schema."""

from tracker.audit.models import AuditChainHead, AuditEvent
from tracker.auth.models import RecoveryCode, RoleGrant, SignInThrottle, User, UserSession
from tracker.cases.models import (
    Case,
    CaseReferenceCounter,
    CaseRevision,
    ChronologyEntry,
    ClauseBreach,
    Evidence,
    PersonInvolved,
)
from tracker.concerns.models import ConcernDraft, StaffConcern
from tracker.consents.models import PictureConsent
from tracker.insight.models import CaseLink, PatternReview
from tracker.orgs.models import School, Trust
from tracker.policy import guards  # noqa: F401  (the flush-time guard on published versions)
from tracker.policy.models import Clause, Policy, PolicyAcknowledgement, PolicyVersion
from tracker.privacy.models import ManualRedaction, SubjectAccessExport, SubjectAccessRequest
from tracker.retention.models import CaseTombstone, LegalHold
from tracker.staff.models import StaffMember
from tracker.workflow.models import (
    Appeal,
    CaseTransition,
    Decision,
    SentNotification,
    Suspension,
)

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "CaseRevision",
    "Appeal",
    "CaseTransition",
    "Decision",
    "SentNotification",
    "Suspension",
    "Case",
    "CaseReferenceCounter",
    "CaseTombstone",
    "LegalHold",
    "ChronologyEntry",
    "ClauseBreach",
    "ConcernDraft",
    "StaffConcern",
    "PictureConsent",
    "CaseLink",
    "PatternReview",
    "Evidence",
    "PersonInvolved",
    "Clause",
    "Policy",
    "PolicyAcknowledgement",
    "PolicyVersion",
    "ManualRedaction",
    "SubjectAccessExport",
    "SubjectAccessRequest",
    "RoleGrant",
    "School",
    "StaffMember",
    "Trust",
    "RecoveryCode",
    "SignInThrottle",
    "User",
    "UserSession",
]
