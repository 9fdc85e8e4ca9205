"""Case records: references under concurrency, validation, people, chronology, edits."""

import threading
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from tracker.auth.roles import Role
from tracker.cases.models import Case
from tracker.cases.services import (
    CaseDetails,
    CitedClause,
    EditConflict,
    add_chronology_entry,
    add_person,
    allocate_reference,
    create_case,
    update_case_details,
)
from tracker.clock import today
from tracker.errors import NotAllowed, ValidationFailed
from tracker.extensions import db as _db


def details(**overrides) -> CaseDetails:
    values = {
        "source": "parent_complaint",
        "source_detail": "",
        "occurred_on": date(2026, 3, 2),
        "reported_on": date(2026, 3, 4),
        "platform": "instagram",
        "platform_detail": "",
        "summary": "Messaged pupils.",
    }
    return CaseDetails(**{**values, **overrides})


@pytest.fixture
def setting(make):
    school = make.school(name="Northfield")
    version = make.policy(school.trust)
    return {
        "school": school,
        "version": version,
        "dsl": make.user(Role.DSL, school),
        "subject": make.staff(school, name="Liam Hughes"),
    }


def cite(version, *references):
    return [CitedClause(version.clause(ref).id, f"Why {ref}") for ref in references]


class TestReferences:
    def test_format_and_sequence(self, setting, make):
        first = make.case(setting["school"], subject=setting["subject"])
        second = make.case(setting["school"], subject=setting["subject"])
        code = setting["school"].trust.code
        year = today().year
        assert first.reference == f"{code}-{year}-0001"
        assert second.reference == f"{code}-{year}-0002"

    def test_a_rolled_back_case_leaves_no_gap(self, setting, db):
        trust = setting["school"].trust
        assert allocate_reference(trust, 2030).endswith("-0001")
        db.session.rollback()
        assert allocate_reference(trust, 2030).endswith("-0001")
        db.session.commit()
        assert allocate_reference(trust, 2030).endswith("-0002")
        assert allocate_reference(trust, 2031).endswith("-0001")  # each year starts again

    def test_concurrent_creation_has_no_duplicates_and_no_gaps(self, app, setting):
        """Eight threads, each with its own session, create five cases each at once."""
        school_id, subject_id, user_id = (
            setting["school"].id,
            setting["subject"].id,
            setting["dsl"].id,
        )
        clause_id = setting["version"].clause("3.4").id
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def worker() -> None:
            try:
                with app.app_context():
                    from tracker.auth.models import User
                    from tracker.orgs.models import School
                    from tracker.staff.models import StaffMember

                    start.wait(timeout=30)
                    for _ in range(5):
                        create_case(
                            school=_db.session.get(School, school_id),
                            subject=_db.session.get(StaffMember, subject_id),
                            details=details(),
                            cited=[CitedClause(clause_id, "Why")],
                            by=_db.session.get(User, user_id),
                            today=today(),
                        )
                        _db.session.commit()
            except BaseException as error:  # re-raised below in the test thread
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        _db.session.rollback()
        numbers = sorted(
            int(reference.rsplit("-", 1)[1])
            for reference in _db.session.scalars(select(Case.reference))
        )
        assert numbers == list(range(1, 41))


class TestCreateCase:
    def test_logs_a_concern_with_its_clauses(self, setting):
        case = create_case(
            school=setting["school"],
            subject=setting["subject"],
            details=details(),
            cited=cite(setting["version"], "3.4", "3.2(e)"),
            by=setting["dsl"],
            today=today(),
        )
        assert case.status == "reported" and case.track is None
        assert [b.clause.reference for b in case.breaches] == ["3.4", "3.2(e)"]
        assert case.cites_high_significance
        assert case.reported_by_id == setting["dsl"].id and case.version == 1

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            (
                {
                    "occurred_on": today() + timedelta(days=1),
                    "reported_on": today() + timedelta(days=1),
                },
                "conduct cannot be in the future",
            ),
            ({"reported_on": today() + timedelta(days=1)}, "reported cannot be in the future"),
            (
                {"occurred_on": date(2026, 3, 5), "reported_on": date(2026, 3, 4)},
                "cannot be before the conduct happened",
            ),
            ({"platform": "myspace"}, "Choose where it happened"),
            ({"platform": "other"}, "Enter where it happened"),
            ({"source": "gossip"}, "Choose how the concern came to light"),
            ({"summary": "   "}, "Describe what happened"),
            (
                {"occurred_on": date(2019, 1, 1), "reported_on": date(2019, 1, 2)},
                "No version of the policy was in force",
            ),
        ],
    )
    def test_refuses_impossible_details(self, setting, overrides, message):
        with pytest.raises(ValidationFailed, match=message):
            create_case(
                school=setting["school"],
                subject=setting["subject"],
                details=details(**overrides),
                cited=cite(setting["version"], "3.4"),
                by=setting["dsl"],
                today=today(),
            )

    def test_needs_a_rule_with_a_rationale_from_the_version_in_force(self, setting):
        version = setting["version"]
        base = {
            "school": setting["school"],
            "subject": setting["subject"],
            "details": details(),
            "by": setting["dsl"],
            "today": today(),
        }
        with pytest.raises(ValidationFailed, match="Choose at least one clause"):
            create_case(**base, cited=[])
        with pytest.raises(ValidationFailed, match="Choose clauses from version 2020"):
            create_case(**base, cited=[CitedClause(version.clause("3.6").id, "info clause")])
        with pytest.raises(
            ValidationFailed, match="Say why the conduct may have broken clause 3.4"
        ) as raised:
            create_case(**base, cited=[CitedClause(version.clause("3.4").id, "  ")])
        assert raised.value.field == f"rationale_{version.clause('3.4').id}"

    def test_only_reporters_at_the_school(self, setting, make):
        other_school = make.school()
        with pytest.raises(NotAllowed):
            create_case(
                school=other_school,
                subject=make.staff(other_school),
                details=details(),
                cited=cite(setting["version"], "3.4"),
                by=setting["dsl"],
                today=today(),
            )
        with pytest.raises(ValidationFailed, match="Choose a member of staff at Northfield"):
            create_case(
                school=setting["school"],
                subject=make.staff(other_school),
                details=details(),
                cited=cite(setting["version"], "3.4"),
                by=setting["dsl"],
                today=today(),
            )
        auditor = make.user(Role.AUDITOR)
        with pytest.raises(NotAllowed):
            create_case(
                school=setting["school"],
                subject=setting["subject"],
                details=details(),
                cited=cite(setting["version"], "3.4"),
                by=auditor,
                today=today(),
            )

    def test_nobody_logs_a_concern_about_themselves(self, setting, make):
        head = make.user(Role.HEADTEACHER, setting["school"])
        own_record = make.staff(setting["school"], user=head)
        with pytest.raises(NotAllowed, match="about yourself"):
            create_case(
                school=setting["school"],
                subject=own_record,
                details=details(),
                cited=cite(setting["version"], "3.4"),
                by=head,
                today=today(),
            )


class TestEdits:
    def test_an_edit_against_an_old_version_is_a_conflict(self, setting, make, db):
        case = make.case(setting["school"], subject=setting["subject"])
        update_case_details(
            case,
            details(summary="First editor"),
            expected_version=1,
            by=setting["dsl"],
            today=today(),
        )
        db.session.commit()
        assert case.version == 2
        with pytest.raises(EditConflict) as clash:
            update_case_details(
                case,
                details(summary="Second editor"),
                expected_version=1,
                by=setting["dsl"],
                today=today(),
            )
        assert clash.value.case.summary == "First editor"

    def test_the_database_catches_a_race_too(self, setting, make, db):
        from sqlalchemy.orm.exc import StaleDataError

        case = make.case(setting["school"], subject=setting["subject"])
        # Another process saves first, behind this session's back.
        db.session.execute(
            Case.__table__.update()
            .where(Case.id == case.id)
            .values(version=Case.version + 1, summary="Racer")
        )
        case.summary = "Mine"
        with pytest.raises(StaleDataError):
            db.session.flush()
        db.session.rollback()

    def test_closed_or_out_of_scope_cases_cannot_be_edited(self, setting, make, db):
        case = make.case(setting["school"], subject=setting["subject"])
        outsider = make.user(Role.DSL, make.school())
        with pytest.raises(NotAllowed):
            update_case_details(case, details(), expected_version=1, by=outsider, today=today())
        case.status = "closed"
        db.session.commit()
        with pytest.raises(NotAllowed):
            update_case_details(
                case, details(), expected_version=case.version, by=setting["dsl"], today=today()
            )


class TestPeopleInvolved:
    @pytest.mark.parametrize(
        "identifier", ["J.S.", "JS", "J S", "Pupil A", "Child 3", "Student X1"]
    )
    def test_pupils_by_initials_or_pseudonym(self, setting, make, identifier):
        case = make.case(setting["school"], subject=setting["subject"])
        person = add_person(
            case,
            kind="pupil",
            identifier=identifier,
            year_group="Year 8",
            role_in_case="Received messages",
            by=setting["dsl"],
        )
        assert person.identifier == identifier and person.year_group == "Year 8"

    @pytest.mark.parametrize(
        "identifier", ["John Smith", "Jonathan", "j.s.", "Pupil Anna", "JSMITH"]
    )
    def test_a_pupils_name_is_refused(self, setting, make, identifier):
        case = make.case(setting["school"], subject=setting["subject"])
        with pytest.raises(ValidationFailed, match="never their name"):
            add_person(
                case,
                kind="pupil",
                identifier=identifier,
                year_group="Year 8",
                role_in_case="x",
                by=setting["dsl"],
            )

    def test_pupils_need_a_year_group_adults_do_not_keep_one(self, setting, make):
        case = make.case(setting["school"], subject=setting["subject"])
        with pytest.raises(ValidationFailed, match="year group"):
            add_person(
                case,
                kind="pupil",
                identifier="J.S.",
                year_group=None,
                role_in_case="x",
                by=setting["dsl"],
            )
        parent = add_person(
            case,
            kind="parent_carer",
            identifier="Parent of J.S.",
            year_group="Year 8",
            role_in_case="Complained",
            by=setting["dsl"],
        )
        assert parent.year_group is None


class TestChronology:
    def test_entries_are_ordered_by_the_day_they_describe(self, setting, make, db):
        case = make.case(setting["school"], subject=setting["subject"])
        later = add_chronology_entry(
            case,
            kind="meeting",
            occurred_on=date(2026, 3, 10),
            occurred_time=time(9, 30),
            summary="Met",
            by=setting["dsl"],
            today=today(),
        )
        earlier = add_chronology_entry(
            case,
            kind="phone_call",
            occurred_on=date(2026, 3, 5),
            occurred_time=None,
            summary="Called",
            by=setting["dsl"],
            today=today(),
        )
        db.session.commit()
        db.session.expire_all()
        assert [e.id for e in _db.session.get(Case, case.id).chronology] == [earlier.id, later.id]
        assert earlier.is_backdated  # written today about 5 March

    def test_an_entry_about_today_is_not_backdated(self, setting, make):
        case = make.case(setting["school"], subject=setting["subject"])
        entry = add_chronology_entry(
            case,
            kind="note",
            occurred_on=today(),
            occurred_time=None,
            summary="Today",
            by=setting["dsl"],
            today=today(),
        )
        assert not entry.is_backdated

    @pytest.mark.parametrize(
        ("occurred_on", "message"),
        [
            (today() + timedelta(days=1), "cannot be in the future"),
            (date(2026, 3, 1), "before the conduct"),
        ],
    )
    def test_dates_are_checked(self, setting, make, occurred_on, message):
        case = make.case(setting["school"], subject=setting["subject"])
        with pytest.raises(ValidationFailed, match=message):
            add_chronology_entry(
                case,
                kind="note",
                occurred_on=occurred_on,
                occurred_time=None,
                summary="x",
                by=setting["dsl"],
                today=today(),
            )
