"""Reporting a concern and working on a case through the pages, as each role."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token_from, post_form, sign_in
from tests.policy_helpers import publish_next
from tracker.auth.roles import Role
from tracker.cases.models import Case, ChronologyEntry, PersonInvolved
from tracker.policy.acknowledgements import record_acknowledgement
from tracker.policy.models import AcknowledgementMethod
from tracker.staff.models import StaffMember


@pytest.fixture
def school(make):
    school = make.school(name="Northfield Primary School")
    make.policy(school.trust)
    return school


@pytest.fixture
def dsl(make, school):
    return make.user(Role.DSL, school, name="Priya Shah")


@pytest.fixture
def subject(make, school):
    return make.staff(school, name="Liam Hughes")


def report(member, **overrides):
    data = {
        "school": str(member.school_id),
        "subject": str(member.id),
        "source": "parent_complaint",
        "source_detail": "Parent of a Year 8 pupil",
        "occurred_on": ["2", "3", "2026"],
        "reported_on": ["4", "3", "2026"],
        "platform": "instagram",
        "platform_detail": "",
        "summary": "Sent direct messages to two pupils from a personal account.",
        "clauses": ["3.4"],
        "rationale-3.4": "Direct messages to pupils from a personal account.",
    }
    data.update(overrides)
    return data


def fill_version(client, data):
    """The form carries the policy version it showed: take it from the page."""
    page = client.get("/cases/new").get_data(as_text=True)
    version = re.search(r'name="policy_version"[^>]*value="(\d+)"', page).group(1)
    return {"policy_version": version, **data}


class TestReportAConcern:
    def test_the_form_offers_only_rules_and_warns_on_high_significance(self, login, dsl):
        html = login(dsl).get("/cases/new").get_data(as_text=True)
        assert html.count('name="clauses"') == 12
        assert 'value="3.6"' not in html and 'value="1.0"' not in html
        assert html.count("This may meet the harm threshold") == 2  # 3.4 and 3.2(e)
        assert "Do not write pupils&#39; names" in html

    def test_a_dsl_logs_a_concern(self, login, dsl, subject, db):
        client = login(dsl)
        response = post_form(client, "/cases/new", fill_version(client, report(subject)))
        assert response.status_code == 302, response.get_data(as_text=True)
        db.session.rollback()
        case = db.session.scalars(select(Case)).one()
        assert response.headers["Location"] == f"/cases/{case.id}"
        assert case.subject_id == subject.id and case.occurred_on == date(2026, 3, 2)
        assert [(b.clause.reference, b.rationale) for b in case.breaches] == [
            ("3.4", "Direct messages to pupils from a personal account.")
        ]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert f"Concern {case.reference} saved." in page
        assert "may meet the harm threshold" in page

    def test_a_new_member_of_staff_can_be_added_inline(self, login, dsl, subject, school, db):
        client = login(dsl)
        data = report(
            subject,
            subject="new",
            new_staff_name="Nadia Hussain",
            new_staff_job_title="Teaching assistant",
            new_staff_employee_number="HM7001",
        )
        assert post_form(client, "/cases/new", fill_version(client, data)).status_code == 302
        db.session.rollback()
        member = db.session.scalar(
            select(StaffMember).where(StaffMember.employee_number == "HM7001")
        )
        assert member.school_id == school.id
        assert db.session.scalars(select(Case)).one().subject_id == member.id

    def test_inline_staff_problems_are_explained_and_nothing_is_saved(
        self, login, dsl, subject, db
    ):
        client = login(dsl)
        data = report(
            subject,
            subject="new",
            new_staff_name="",
            new_staff_job_title="TA",
            new_staff_employee_number="1",
        )
        html = post_form(client, "/cases/new", fill_version(client, data)).get_data(as_text=True)
        assert "Enter the member of staff&#39;s full name" in html
        db.session.rollback()
        assert db.session.scalar(select(func.count(Case.id))) == 0

    @pytest.mark.parametrize("staff_id", ["0", "-1", str(2**31), str(2**63), "1" + "0" * 40])
    def test_a_member_of_staff_who_cannot_exist_is_asked_for_again(
        self, login, dsl, subject, db, staff_id
    ):
        # An id beyond 64 bits was an OverflowError on SQLite, not a miss.
        client = login(dsl)
        response = post_form(
            client, "/cases/new", fill_version(client, report(subject)) | {"subject": staff_id}
        )
        assert response.status_code == 200
        assert "Choose the member of staff, or add them" in response.get_data(as_text=True)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Case.id))) == 0

    def test_an_empty_form_says_what_to_enter(self, login, dsl):
        client = login(dsl)
        html = post_form(
            client, "/cases/new", fill_version(client, {"school": "", "subject": ""})
        ).get_data(as_text=True)
        for message in [
            "Choose the member of staff, or add them",
            "Choose how the concern came to light",
            "Enter the date the conduct happened",
            "Enter the date it was reported to the school",
            "Choose where it happened",
            "Describe what happened",
        ]:
            assert message.replace("'", "&#39;") in html, message
        assert "Enter the when" not in html  # never a question spliced into a sentence

    def test_a_rationale_is_needed_and_what_was_typed_is_kept(self, login, dsl, subject, db):
        client = login(dsl)
        data = report(
            subject,
            clauses=["3.4", "3.3"],
            **{"rationale-3.4": "Kept rationale", "rationale-3.3": ""},
        )
        html = post_form(client, "/cases/new", fill_version(client, data)).get_data(as_text=True)
        assert "Say why the conduct may have broken clause 3.3" in html
        assert 'href="#rationale-3.3"' in html
        assert "Kept rationale" in html
        assert "Sent direct messages to two pupils" in html
        assert re.search(r'value="3.3"\s+data-aria-controls="[^"]+"\s+checked', html)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Case.id))) == 0

    @pytest.mark.parametrize(
        ("dates", "message"),
        [
            (
                {"occurred_on": ["5", "3", "2026"], "reported_on": ["4", "3", "2026"]},
                "cannot be before the conduct happened",
            ),
            ({"occurred_on": ["30", "2", "2026"]}, "must be a real date"),
            ({"reported_on": ["1", "1", "2099"]}, "reported cannot be in the future"),
        ],
    )
    def test_impossible_dates_are_explained(self, login, dsl, subject, dates, message):
        client = login(dsl)
        html = post_form(
            client, "/cases/new", fill_version(client, report(subject, **dates))
        ).get_data(as_text=True)
        assert message in html

    def test_clauses_come_from_the_version_in_force_on_the_conduct_date(
        self, login, dsl, subject, school, db
    ):
        old = db.session.scalar(select(Case.id))  # no cases yet
        assert old is None
        from tracker.cases.services import policy_for
        from tracker.policy.services import current_version

        first = current_version(policy_for(school.trust_id))
        second = publish_next(
            first,
            label="2025",
            effective_from=date(2025, 9, 1),
            reword={"3.4": "Reworded in 2025."},
        )
        client = login(dsl)
        # The form starts with the current version (2025); the conduct was in May 2025.
        data = fill_version(
            client, report(subject, occurred_on=["1", "5", "2025"], reported_on=["2", "5", "2025"])
        )
        assert data["policy_version"] == str(second.id)
        response = post_form(client, "/cases/new", data)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "version 2020 of the policy was in force" in html
        assert "Reworded in 2025." not in html
        # Saving again, from the version now shown, works and cites the 2020 clause.
        data["policy_version"] = re.search(r'name="policy_version"[^>]*value="(\d+)"', html).group(
            1
        )
        assert post_form(client, "/cases/new", data).status_code == 302
        db.session.rollback()
        breach = db.session.scalars(select(Case)).one().breaches[0]
        assert breach.clause.version_id == first.id

    def test_only_reporters_may_report(self, login, make, school):
        for role in [Role.AUDITOR, Role.DPO, Role.TRUST_ADMIN]:
            client = login(make.user(role))
            assert client.get("/cases/new").status_code == 403, role
            with client.session_transaction() as cookie:
                cookie.clear()

    def test_a_dsl_cannot_report_at_another_school(self, login, make, dsl, school, db):
        other = make.school(name="Riverside Academy")
        stranger = make.staff(other)
        client = login(dsl)
        html = client.get("/cases/new").get_data(as_text=True)
        assert "Riverside Academy" not in html and stranger.full_name not in html
        response = post_form(
            client, "/cases/new", fill_version(client, report(stranger, school=str(other.id)))
        )
        assert response.status_code == 200
        # A DSL of one school is not asked for one: the school posted is not used, and the
        # member of staff of the other school is refused.
        assert "Choose the member of staff, or add them" in response.get_data(as_text=True)
        db.session.rollback()
        assert db.session.scalar(select(Case)) is None


class TestCasePage:
    def test_shows_the_record(self, login, make, dsl, subject, school):
        case = make.case(school, subject=subject, by=dsl)
        html = login(dsl).get(f"/cases/{case.id}").get_data(as_text=True)
        assert case.reference in html and "Liam Hughes" in html
        assert "Online contact with pupils" in html and "Why 3.4 applies" in html
        assert "There is no record that Liam Hughes read this version" in html
        assert "Change the details" in html

    def test_shows_whether_the_subject_had_read_the_version(
        self, login, make, dsl, subject, school, db
    ):
        case = make.case(school, subject=subject, by=dsl, occurred_on=date(2026, 3, 2))
        record_acknowledgement(
            case.breaches[0].clause.version,
            subject,
            acknowledged_on=date(2021, 9, 2),
            method=AcknowledgementMethod.TRAINING_SESSION,
            by=dsl,
            today=date(2026, 11, 1),
        )
        db.session.commit()
        html = login(dsl).get(f"/cases/{case.id}").get_data(as_text=True)
        expected = "read this version on 2 September 2021 (training session), before the conduct"
        assert f"Liam Hughes {expected}" in html

    @pytest.mark.parametrize("role", [Role.DSL, Role.HEADTEACHER, Role.DEPUTY_DSL])
    def test_another_school_gets_404(self, login, make, school, subject, role):
        case = make.case(school, subject=subject)
        outsider = make.user(role, make.school())
        client = login(outsider)
        for path in [
            f"/cases/{case.id}",
            f"/cases/{case.id}/edit",
            f"/cases/{case.id}/people/new",
            f"/cases/{case.id}/chronology/new",
        ]:
            assert client.get(path).status_code == 404, path

    def test_the_subject_never_sees_their_case(self, login, make, school):
        head = make.user(Role.HEADTEACHER, school)
        own_record = make.staff(school, user=head)
        case = make.case(school, subject=own_record)
        assert login(head).get(f"/cases/{case.id}").status_code == 404

    def test_a_trust_administrator_reads_no_case(self, login, make, school, subject):
        case = make.case(school, subject=subject)
        assert login(make.user(Role.TRUST_ADMIN)).get(f"/cases/{case.id}").status_code == 404

    @pytest.mark.parametrize("role", [Role.AUDITOR, Role.DPO])
    def test_readers_read_but_change_nothing(self, login, make, school, subject, role):
        case = make.case(school, subject=subject)
        client = login(make.user(role))
        html = client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert case.reference in html
        assert "Change the details" not in html and "Add a chronology entry" not in html
        for path in [
            f"/cases/{case.id}/edit",
            f"/cases/{case.id}/people/new",
            f"/cases/{case.id}/chronology/new",
        ]:
            assert client.get(path).status_code == 403, path

    def test_a_closed_case_is_read_only(self, login, make, school, subject, dsl, db):
        case = make.case(school, subject=subject, by=dsl)
        case.status = "closed"
        db.session.commit()
        client = login(dsl)
        html = client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert "can no longer be changed" in html and "Change the details" not in html
        assert client.get(f"/cases/{case.id}/edit").status_code == 403


class TestEditing:
    def test_edit_saves_changes(self, login, make, school, subject, dsl, db):
        case = make.case(school, subject=subject, by=dsl)
        client = login(dsl)
        data = report(subject, summary="Corrected summary.", version="1")
        response = post_form(client, f"/cases/{case.id}/edit", data)
        assert response.status_code == 302
        db.session.rollback()
        assert db.session.get(Case, case.id).summary == "Corrected summary."

    def test_a_second_editor_gets_a_conflict_and_loses_nothing(self, make_app, make):
        app = make_app()
        with app.app_context():
            school = make.school()
            make.policy(school.trust)
            first_user, second_user = (
                make.user(Role.DSL, school),
                make.user(Role.DEPUTY_DSL, school),
            )
            case = make.case(school, by=first_user)
            first, second = app.test_client(), app.test_client()
            sign_in(first, first_user.email)
            sign_in(second, second_user.email)
            # Both open the edit form at version 1.
            first_page = first.get(f"/cases/{case.id}/edit").get_data(as_text=True)
            second_page = second.get(f"/cases/{case.id}/edit").get_data(as_text=True)
            assert 'name="version" type="hidden" value="1"' in second_page
            base = report(case.subject, version="1")
            first.post(
                f"/cases/{case.id}/edit",
                data={
                    **base,
                    "summary": "First editor's words.",
                    "csrf_token": csrf_token_from(first_page),
                },
            )
            response = second.post(
                f"/cases/{case.id}/edit",
                data={
                    **base,
                    "summary": "Second editor's words.",
                    "csrf_token": csrf_token_from(second_page),
                },
            )
            html = response.get_data(as_text=True)
            assert response.status_code == 200
            assert "Someone else saved changes to this case while you were editing it" in html
            assert "First editor&#39;s words." in html  # theirs, shown
            assert "Second editor&#39;s words." in html  # mine, kept in the form
            assert 'name="version" type="hidden" value="2"' in html
            # Saving again, knowingly, replaces theirs.
            again = second.post(
                f"/cases/{case.id}/edit",
                data={
                    **base,
                    "version": "2",
                    "summary": "Second editor's words.",
                    "csrf_token": csrf_token_from(html),
                },
            )
            assert again.status_code == 302
            from tracker.extensions import db

            db.session.rollback()
            assert db.session.get(Case, case.id).summary == "Second editor's words."

    def test_edit_validation_keeps_input(self, login, make, school, subject, dsl):
        case = make.case(school, subject=subject, by=dsl)
        data = report(
            subject, version="1", summary="Typed and kept", platform="other", platform_detail=""
        )
        html = post_form(login(dsl), f"/cases/{case.id}/edit", data).get_data(as_text=True)
        assert "Enter where it happened" in html and "Typed and kept" in html


class TestPeopleAndChronology:
    def test_add_a_pupil_by_initials(self, login, make, school, subject, dsl, db):
        case = make.case(school, subject=subject, by=dsl)
        client = login(dsl)
        data = {
            "kind": "pupil",
            "identifier": "J.S.",
            "year_group": "Year 8",
            "role_in_case": "Received messages",
        }
        assert post_form(client, f"/cases/{case.id}/people/new", data).status_code == 302
        db.session.rollback()
        assert db.session.scalars(select(PersonInvolved.identifier)).all() == ["J.S."]
        html = client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert "J.S." in html and "Year 8" in html and "Received messages" in html

    def test_a_pupils_full_name_is_refused_and_input_kept(
        self, login, make, school, subject, dsl, db
    ):
        case = make.case(school, subject=subject, by=dsl)
        data = {
            "kind": "pupil",
            "identifier": "Jane Smith",
            "year_group": "Year 8",
            "role_in_case": "Kept role",
        }
        html = post_form(login(dsl), f"/cases/{case.id}/people/new", data).get_data(as_text=True)
        assert "never their name" in html and "Kept role" in html
        db.session.rollback()
        assert db.session.scalar(select(func.count(PersonInvolved.id))) == 0

    def test_people_form_says_what_to_enter(self, login, make, school, subject, dsl):
        case = make.case(school, subject=subject, by=dsl)
        html = post_form(login(dsl), f"/cases/{case.id}/people/new", {}).get_data(as_text=True)
        for message in [
            "Choose who they are",
            "Enter their initials or a pseudonym",
            "Say what their part in the case is",
        ]:
            assert message in html

    def test_a_backdated_entry_is_marked_in_the_timeline(
        self, login, make, school, subject, dsl, db
    ):
        case = make.case(school, subject=subject, by=dsl)
        client = login(dsl)
        data = {
            "kind": "phone_call",
            "occurred_on": ["5", "3", "2026"],
            "occurred_time": "14:30",
            "summary": "Called the LADO for advice.",
        }
        assert post_form(client, f"/cases/{case.id}/chronology/new", data).status_code == 302
        db.session.rollback()
        entry = db.session.scalars(select(ChronologyEntry)).one()
        assert entry.occurred_time.strftime("%H:%M") == "14:30"
        html = client.get(f"/cases/{case.id}").get_data(as_text=True)
        assert "Called the LADO for advice." in html
        assert "Written on" in html
        timeline = html[html.index('id="timeline"') :]
        assert (
            timeline.index("Conduct happened")
            < timeline.index("Called the LADO")
            < timeline.index("Concern logged as")
        )

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (
                {
                    "kind": "note",
                    "occurred_on": ["5", "3", "2026"],
                    "occurred_time": "25:00",
                    "summary": "x",
                },
                "Enter the time like 14:30",
            ),
            (
                {"kind": "note", "occurred_on": ["1", "1", "2099"], "summary": "x"},
                "cannot be in the future",
            ),
            (
                {"kind": "note", "occurred_on": ["1", "1", "2026"], "summary": "x"},
                "before the conduct",
            ),
            ({}, "Choose what kind of entry this is"),
            (  # a date of spaces was taken for an answer, then parsed as no date: a 500
                {"kind": "note", "occurred_on": [" ", " ", " "], "summary": "x"},
                "Enter the date it happened",
            ),
        ],
    )
    def test_chronology_validation(self, login, make, school, subject, dsl, data, message):
        case = make.case(school, subject=subject, by=dsl)
        html = post_form(login(dsl), f"/cases/{case.id}/chronology/new", data).get_data(
            as_text=True
        )
        assert message in html


class TestQueryBudget:
    def _grow(self, case, dsl, times):
        from tracker.cases.services import add_chronology_entry, add_person
        from tracker.clock import today

        for number in range(times):
            add_person(
                case,
                kind="pupil",
                identifier=f"Pupil {chr(65 + number)}",
                year_group="Year 8",
                role_in_case="Received messages",
                by=dsl,
            )
            add_chronology_entry(
                case,
                kind="note",
                occurred_on=date(2026, 3, 5),
                occurred_time=None,
                summary=f"Note {number}",
                by=dsl,
                today=today(),
            )

    def test_the_case_page_needs_a_fixed_number_of_queries(self, login, make, school, dsl, db):
        from tests.querycount import count_statements

        small = make.case(school, by=dsl, clauses=("3.4",))
        large = make.case(school, by=dsl, clauses=("3.4", "3.2(e)", "3.3", "3.1"))
        self._grow(small, dsl, 1)
        self._grow(large, dsl, 6)
        db.session.commit()
        client = login(dsl)
        client.get("/")  # the session's last-seen time is fresh: no write during the count
        counts = []
        for case in (small, large):
            with count_statements(db.engine) as log:
                assert client.get(f"/cases/{case.id}").status_code == 200
            counts.append(len(log.queries))
            # Two of them record the read (case.viewed): lock the chain head, insert.
            audit = [q for q in log.queries if "audit_chain_head" in q or "audit_events" in q]
            assert len(audit) == 2, log.report()
        assert counts[0] == counts[1], "queries grow with the size of the case"
        # The audit event's two statements included, and one each for the earlier concerns
        # about the subject and the linked cases (tracker/insight/).
        assert counts[1] <= 11, log.report()


def _revealed_under(html: str, field_id: str) -> re.Match | None:
    """The conditional block of a radio that holds the field `field_id`, if any."""
    return re.search(
        r'<div class="govuk-radios__conditional( govuk-radios__conditional--hidden)?" '
        rf'id="conditional-[\w-]+">(?:(?!</fieldset>).)*?id="{field_id}"',
        html,
        re.DOTALL,
    )


class TestFormReveals:
    def test_where_somewhere_else_is_revealed_by_its_radio(self, login, dsl, subject):
        html = login(dsl).get("/cases/new").get_data(as_text=True)
        assert 'type="radio" value="other" data-aria-controls="conditional-platform' in html
        block = _revealed_under(html, "platform_detail")
        assert block is not None and block.group(1)  # hidden until chosen
        assert "If somewhere else, where?" not in html

    def test_somewhere_else_without_a_place_is_flagged_with_the_other_faults(
        self, login, dsl, subject, db
    ):
        client = login(dsl)
        data = fill_version(client, report(subject, platform="other", summary=""))
        response = post_form(client, "/cases/new", data)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        summary = html.split('govuk-error-summary__list">')[1].split("</ul>")[0]
        assert 'href="#platform_detail">Enter where it happened' in summary
        assert "Describe what happened" in summary  # every fault at once
        block = _revealed_under(html, "platform_detail")
        assert block is not None and not block.group(1)  # shown: its radio is chosen
        assert 'id="platform_detail-error"' in html
        db.session.rollback()
        assert db.session.scalar(select(Case)) is None

    def test_a_user_of_one_school_is_not_asked_which(self, login, dsl, subject, school, db):
        client = login(dsl)
        html = client.get("/cases/new").get_data(as_text=True)
        assert 'name="school"' not in html
        assert "School: <strong>Northfield Primary School</strong>" in html
        data = fill_version(client, report(subject))
        del data["school"]
        assert post_form(client, "/cases/new", data).status_code == 302
        db.session.rollback()
        assert db.session.scalars(select(Case)).one().school_id == school.id

    def test_a_user_of_several_schools_chooses_one(self, login, make, school, subject, db):
        other = make.school(name="Riverside Academy", trust=school.trust)
        ceo = make.user(Role.CEO, trust=school.trust)
        client = login(ceo)
        html = client.get("/cases/new").get_data(as_text=True)
        assert '<select class="govuk-select" id="school" name="school"' in html
        assert ">Riverside Academy</option>" in html
        data = fill_version(client, report(subject, school=str(other.id)))
        html = post_form(client, "/cases/new", data).get_data(as_text=True)
        assert "Choose the member of staff, or add them" in html  # not at that school
        saved = post_form(client, "/cases/new", fill_version(client, report(subject)))
        assert saved.status_code == 302
