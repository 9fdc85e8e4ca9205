"""Drafting, editing and publishing versions; published versions never change."""

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.policy_helpers import publish_next, seed_policy
from tracker.errors import NotAllowed, ValidationFailed
from tracker.policy.guards import ImmutableVersionError
from tracker.policy.models import Clause, PolicyVersion, VersionStatus
from tracker.policy.services import (
    ClauseInput,
    add_clause,
    compare_versions,
    create_draft,
    current_version,
    publish_version,
    remove_clause,
    update_clause,
    update_version_details,
)


@pytest.fixture
def published(make):
    return seed_policy(make.trust())


def rule(reference="9.1", text="Do not.", significance="low", heading="New rule"):
    return ClauseInput(reference, heading, text, "rule", significance)


class TestPublishedVersionsNeverChange:
    def test_services_refuse_every_edit(self, published):
        clause = published.clause("3.4")
        edits = [
            lambda: update_version_details(
                published,
                title="x",
                version_label="2020",
                approved_on=None,
                review_due=None,
                full_text="",
            ),
            lambda: update_clause(clause, rule("3.4", text="Reworded")),
            lambda: add_clause(published, rule()),
            lambda: remove_clause(clause),
            lambda: publish_version(published, effective_from=date(2026, 1, 1), by=None),
        ]
        for edit in edits:
            with pytest.raises(NotAllowed, match="can no longer be changed"):
                edit()

    def test_a_change_made_around_the_services_is_refused_at_flush(self, published, db):
        published.clause("3.4").text = "Quietly reworded"
        with pytest.raises(ImmutableVersionError):
            db.session.flush()
        db.session.rollback()

        published.full_text = "Quietly reworded"
        with pytest.raises(ImmutableVersionError):
            db.session.flush()
        db.session.rollback()

        db.session.delete(published.clause("3.4"))
        with pytest.raises(ImmutableVersionError):
            db.session.flush()
        db.session.rollback()

        db.session.add(Clause(version_id=published.id, reference="9.9", heading="x", kind="info"))
        with pytest.raises(ImmutableVersionError):
            db.session.flush()
        db.session.rollback()

        db.session.expire_all()
        assert published.clause("3.4").text.startswith("Staff do not form online friendships")

    def test_a_superseded_version_is_frozen_too(self, published, db):
        publish_next(published)
        published.review_due = date(2030, 1, 1)
        with pytest.raises(ImmutableVersionError):
            db.session.flush()
        db.session.rollback()


def test_a_draft_is_a_copy_that_can_be_edited(published, db):
    draft = create_draft(published.policy, version_label="2021", by=None)
    db.session.commit()
    assert draft.status == VersionStatus.DRAFT and draft.based_on_id == published.id
    assert [c.reference for c in draft.clauses] == [c.reference for c in published.clauses]
    assert {c.id for c in draft.clauses}.isdisjoint({c.id for c in published.clauses})

    changed = update_clause(draft.clause("3.4"), rule("3.4", text="Reworded", significance="high"))
    assert changed == ["heading", "text"]
    add_clause(draft, rule("3.7", text="A new rule"))
    remove_clause(draft.clause("3.6"))
    db.session.commit()
    assert [c.reference for c in draft.clauses][-2:] == ["3.5", "3.7"]
    assert published.clause("3.4").text != "Reworded"


def test_only_one_draft_at_a_time_and_labels_are_unique(published):
    with pytest.raises(ValidationFailed, match="already has a version labelled 2020"):
        create_draft(published.policy, version_label="2020", by=None)
    create_draft(published.policy, version_label="2", by=None)
    with pytest.raises(NotAllowed, match="already being drafted"):
        create_draft(published.policy, version_label="3", by=None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (rule("3.4"), "Clause 3.4 already exists in this version"),
        (rule("", text="x"), "Enter the clause reference"),
        (rule("three"), "Clause reference must be numbers separated by dots"),
        (rule("9.1", text="  "), "A rule needs its text"),
        (rule("9.1", significance=None), "Choose the rule's safeguarding significance"),
        (rule("9.1", heading=""), "Enter a heading for the clause"),
        (ClauseInput("9.1", "h", "t", "maybe", None), "Choose whether the clause is a rule"),
    ],
)
def test_clause_validation(published, data, message):
    draft = create_draft(published.policy, version_label="2", by=None)
    with pytest.raises(ValidationFailed, match=message):
        add_clause(draft, data)


def test_an_info_clause_has_no_significance(published):
    draft = create_draft(published.policy, version_label="2", by=None)
    clause = add_clause(draft, ClauseInput("9.1", "Note", "", "info", "high"))
    assert clause.significance is None


def test_review_date_must_follow_approval(published):
    draft = create_draft(published.policy, version_label="2", by=None)
    with pytest.raises(ValidationFailed, match="review date must be after the approval date"):
        update_version_details(
            draft,
            title="t",
            version_label="2",
            approved_on=date(2025, 7, 1),
            review_due=date(2025, 7, 1),
            full_text="",
        )


def test_publishing_supersedes_the_old_version(published, db):
    second = publish_next(published, effective_from=date(2025, 9, 1))
    db.session.expire_all()
    assert current_version(published.policy).id == second.id
    assert published.status == VersionStatus.SUPERSEDED and published.superseded_at is not None
    assert second.status == VersionStatus.PUBLISHED
    assert second.effective_from == date(2025, 9, 1) and second.published_at is not None
    count = select(func.count(PolicyVersion.id)).where(PolicyVersion.status == "published")
    assert db.session.scalar(count) == 1


@pytest.mark.parametrize(
    ("approved_on", "review_due", "effective_from", "message"),
    [
        (None, date(2028, 1, 1), date(2025, 9, 1), "Set the date the version was approved"),
        (date(2025, 7, 1), None, date(2025, 9, 1), "Set the date the version is due for review"),
        (date(2025, 7, 1), date(2028, 1, 1), date(2025, 6, 30), "cannot take effect before"),
        (date(2020, 1, 1), date(2028, 1, 1), date(2020, 12, 1), "must take effect after"),
    ],
)
def test_publishing_checks_its_dates(published, approved_on, review_due, effective_from, message):
    draft = create_draft(published.policy, version_label="2", by=None)
    draft.approved_on, draft.review_due = approved_on, review_due
    with pytest.raises(ValidationFailed, match=message):
        publish_version(draft, effective_from=effective_from, by=None)


def test_a_version_without_rules_cannot_be_published(published):
    draft = create_draft(published.policy, version_label="2", by=None)
    for clause in [c for c in draft.clauses if c.is_rule]:
        remove_clause(clause)
    draft.approved_on, draft.review_due = date(2025, 7, 1), date(2028, 7, 1)
    with pytest.raises(ValidationFailed, match="at least one rule"):
        publish_version(draft, effective_from=date(2025, 9, 1), by=None)


def test_the_database_refuses_two_published_versions(published, db):
    draft = create_draft(published.policy, version_label="2", by=None)
    db.session.flush()
    draft.status = "published"
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_compare_lists_added_removed_and_reworded(published, db):
    draft = create_draft(published.policy, version_label="2", by=None)
    update_clause(
        draft.clause("3.4"),
        rule("3.4", text="Reworded", heading="Online contact with pupils", significance="high"),
    )
    update_clause(
        draft.clause("3.1"),
        rule(
            "3.1", text=draft.clause("3.1").text, heading="Privacy settings", significance="medium"
        ),
    )
    add_clause(draft, rule("3.7", text="New"))
    remove_clause(draft.clause("2.2"))
    diff = compare_versions(published, draft)
    assert [c.reference for c in diff.added] == ["3.7"]
    assert [c.reference for c in diff.removed] == ["2.2"]
    assert [(c.reference, c.fields) for c in diff.changed] == [
        ("3.1", ("significance",)),
        ("3.4", ("text",)),
    ]
    assert diff.unchanged == 17 - 1 - 2
