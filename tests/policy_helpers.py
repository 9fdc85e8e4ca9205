"""Helpers for policy tests: the seeded register and a quick way to publish a new version."""

from datetime import date

from tracker.extensions import db
from tracker.orgs.models import Trust
from tracker.policy.importer import SEED_FILE, import_policy, read_policy_file
from tracker.policy.models import PolicyVersion
from tracker.policy.services import ClauseInput, create_draft, publish_version, update_clause


def seed_policy(trust: Trust) -> PolicyVersion:
    version = import_policy(trust, read_policy_file(SEED_FILE))
    db.session.commit()
    return version


def publish_next(
    current: PolicyVersion,
    *,
    label: str = "2",
    approved_on: date = date(2025, 7, 1),
    effective_from: date = date(2025, 9, 1),
    reword: dict[str, str] | None = None,
) -> PolicyVersion:
    draft = create_draft(current.policy, version_label=label, by=None)
    draft.approved_on = approved_on
    draft.review_due = date(approved_on.year + 3, approved_on.month, 1)
    for reference, text in (reword or {}).items():
        clause = draft.clause(reference)
        update_clause(
            clause,
            ClauseInput(clause.reference, clause.heading, text, clause.kind, clause.significance),
        )
    publish_version(draft, effective_from=effective_from, by=None)
    db.session.commit()
    return draft
