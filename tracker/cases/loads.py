"""What the pages about a case load with it: each page's query count stays fixed whatever
the case's history, and its templates never reach the database."""

from __future__ import annotations

from sqlalchemy.orm import joinedload, selectinload

from tracker.cases.models import Case, CaseRevision, ChronologyEntry, ClauseBreach, Evidence
from tracker.policy.models import Clause
from tracker.retention.models import LegalHold
from tracker.workflow.models import Appeal, CaseTransition, Decision

# The case's heading (its school and subject): pages about a case that show no more of it.
HEADER = (joinedload(Case.school), joinedload(Case.subject))
# The case's history of revisions, with who made each.
HISTORY = (*HEADER, selectinload(Case.revisions).joinedload(CaseRevision.changed_by))

# Who uploaded and who removed each item of evidence, shown beside it.
EVIDENCE_PEOPLE = (joinedload(Evidence.uploaded_by), joinedload(Evidence.removed_by))
EVIDENCE = (selectinload(Case.evidence).options(*EVIDENCE_PEOPLE),)
CLAUSES = (selectinload(Case.breaches).joinedload(ClauseBreach.clause),)
DECISIONS = (selectinload(Case.decisions).joinedload(Decision.decided_by),)

# The case page (and the decision page, which shows the whole case): its details, rules,
# people, evidence and timeline, one statement each; the workflow panel's records and the
# legal holds, few to a case, joined to the case's own row.
CASE_PAGE = (
    joinedload(Case.school),
    joinedload(Case.subject),
    joinedload(Case.reported_by),
    joinedload(Case.investigator),
    joinedload(Case.decision_maker),
    joinedload(Case.transitions).joinedload(CaseTransition.actor),
    joinedload(Case.decisions).joinedload(Decision.decided_by),
    joinedload(Case.appeals).joinedload(Appeal.heard_by),
    joinedload(Case.suspensions),
    joinedload(Case.legal_holds).options(
        joinedload(LegalHold.set_by), joinedload(LegalHold.lifted_by)
    ),
    selectinload(Case.breaches).joinedload(ClauseBreach.clause).joinedload(Clause.version),
    selectinload(Case.people),
    *EVIDENCE,
    selectinload(Case.chronology).joinedload(ChronologyEntry.author),
)
