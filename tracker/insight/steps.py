"""The case pages of the insight steps: reviewing a pattern, linking and unlinking."""

from __future__ import annotations

from typing import Any

from tracker.auth.permissions import refuse
from tracker.extensions import db
from tracker.insight.models import CaseLink
from tracker.insight.patterns import earlier_concerns
from tracker.insight.services import link_cases, review_pattern, unlink_cases
from tracker.workflow.calls import Done, StepCall


def pattern_context(call: StepCall) -> dict[str, Any]:
    return {"earlier": earlier_concerns(call.case, call.by)}


def review(call: StepCall) -> Done:
    form = call.form
    result = review_pattern(
        call.case,
        meets_threshold=form.meets_threshold.data or "",
        escalate=form.escalate.data or "",
        rationale=form.rationale.data or "",
        by=call.by,
    )
    if result.escalated:
        return Done("Pattern reviewed. The case is now an allegation, back in triage.")
    return Done("Pattern reviewed.", anchor="earlier-concerns")


def link(call: StepCall) -> Done:
    linked = link_cases(
        call.case, reference=call.form.reference.data or "", kind=call.form.kind.data or "",
        by=call.by,
    )  # fmt: skip
    other = linked.other_than(call.case.id)
    reference = db.session.get_one(type(call.case), other).reference
    return Done(f"Linked to {reference}.", anchor="linked-cases")


def link_of(case: Any, link_id: int) -> CaseLink:
    """A link of this case (another case's link, or none, answers 404 as if unknown)."""
    link = db.session.get(CaseLink, link_id)
    if link is None or case.id not in {link.case_id, link.linked_case_id}:
        refuse(object_type=CaseLink.audit_type, object_id=link_id)
    return link


def unlink(call: StepCall) -> Done:
    unlink_cases(call.case, call.item, by=call.by)
    return Done("The link has been removed.", anchor="linked-cases")
