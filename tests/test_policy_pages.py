"""Policy register pages: who sees what, forms that explain themselves, acknowledgements."""

import re
from datetime import date
from io import BytesIO

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token_from, post_form
from tests.policy_helpers import seed_policy
from tracker.auth.roles import Role
from tracker.extensions import db as _db
from tracker.policy.models import PolicyAcknowledgement, PolicyVersion
from tracker.policy.services import create_draft
from tracker.staff.services import add_staff_member


@pytest.fixture
def seeded(make):
    trust = make.trust(name="Horizon Multi Academy Trust")
    return seed_policy(trust)


def test_register_shows_the_policy_and_its_overdue_review(login, make, seeded):
    html = login(make.user(Role.DSL)).get("/policies/").get_data(as_text=True)
    assert "Staff Use of Social Media Policy 2020" in html
    assert "Review overdue" in html
    assert "was due for review on 1 December 2023" in html


@pytest.mark.parametrize(
    ("role", "warned"), [(Role.TRUST_ADMIN, True), (Role.CEO, True), (Role.DSL, False)]
)
def test_home_page_warns_policy_managers_of_an_overdue_review(login, make, seeded, role, warned):
    html = login(make.user(role)).get("/").get_data(as_text=True)
    assert ("was due for review on 1 December 2023" in html) is warned


def test_version_page_shows_every_clause_with_its_attributes(login, make, seeded):
    html = login(make.user(Role.DSL)).get(f"/policies/versions/{seeded.id}").get_data(as_text=True)
    for clause in seeded.clauses:
        assert f">{clause.reference}</span>" in html
        assert clause.heading.replace("'", "&#39;") in html
    assert html.count(">Rule</strong>") == 12
    assert html.count(">Information</strong>") == 5
    assert html.count("High significance") == 2
    assert html.count("Medium significance") == 3
    # Nobody but a policy manager is offered editing.
    assert "Add a clause" not in html


def test_clause_page(login, make, seeded):
    clause = seeded.clause("3.4")
    html = login(make.user(Role.DSL)).get(f"/policies/clauses/{clause.id}").get_data(as_text=True)
    assert "Online contact with pupils" in html
    assert "may meet the harm threshold" in html
    assert "No case you can see cites this clause" in html


def test_another_trusts_policy_is_404(login, make, seeded):
    other = make.trust(name="Other Trust")
    user = make.user(Role.CEO, trust=other)
    client = login(user)
    for path in [
        f"/policies/{seeded.policy_id}",
        f"/policies/versions/{seeded.id}",
        f"/policies/clauses/{seeded.clauses[0].id}",
    ]:
        assert client.get(path).status_code == 404, path


def test_drafts_are_hidden_from_everyone_but_policy_managers(login, make, seeded, db):
    draft = create_draft(seeded.policy, version_label="2", by=None)
    db.session.commit()
    client = login(make.user(Role.DSL))
    assert client.get(f"/policies/versions/{draft.id}").status_code == 404
    assert client.get(f"/policies/clauses/{draft.clauses[0].id}").status_code == 404
    assert "Version 2<" not in client.get(f"/policies/{seeded.policy_id}").get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.DSL, Role.HEADTEACHER, Role.AUDITOR, Role.DPO])
def test_only_policy_managers_can_draft(login, make, seeded, role):
    client = login(make.user(role))
    page = client.get(f"/policies/{seeded.policy_id}")
    assert "Start the next version" not in page.get_data(as_text=True)
    response = client.post(
        f"/policies/{seeded.policy_id}/drafts",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "version_label": "2"},
    )
    assert response.status_code == 403


def test_a_user_without_a_role_cannot_read_the_register(login, make, seeded):
    assert login(make.user()).get("/policies/").status_code == 403


def test_admin_drafts_edits_and_publishes(login, make, seeded, db):
    client = login(make.user(Role.TRUST_ADMIN))
    response = post_form(
        client,
        f"/policies/{seeded.policy_id}/drafts",
        {"version_label": "2025"},
        form_url=f"/policies/{seeded.policy_id}",
    )
    assert response.status_code == 302
    db.session.rollback()
    draft = db.session.scalar(select(PolicyVersion).where(PolicyVersion.version_label == "2025"))
    assert draft.status == "draft" and len(draft.clauses) == 17

    clause = draft.clause("3.4")
    response = post_form(
        client,
        f"/policies/clauses/{clause.id}/edit",
        {
            "reference": "3.4",
            "heading": "Online contact with pupils",
            "text": "Staff never contact pupils online, except through school systems.",
            "kind": "rule",
            "significance": "high",
        },
    )
    assert response.status_code == 302
    response = post_form(
        client,
        f"/policies/versions/{draft.id}/details",
        {
            "title": "Staff Use of Social Media Policy 2025",
            "version_label": "2025",
            "approved_on": ["14", "7", "2025"],
            "review_due": ["1", "7", "2028"],
            "full_text": "The 2025 policy.",
        },
    )
    assert response.status_code == 302
    response = post_form(
        client, f"/policies/versions/{draft.id}/publish", {"effective_from": ["1", "9", "2025"]}
    )
    assert response.status_code == 302
    db.session.rollback()
    db.session.expire_all()
    assert draft.status == "published" and draft.effective_from == date(2025, 9, 1)
    assert db.session.get(PolicyVersion, seeded.id).status == "superseded"
    assert "Version 2020 is now superseded" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )

    html = client.get(
        f"/policies/{seeded.policy_id}/compare?older={seeded.id}&newer={draft.id}"
    ).get_data(as_text=True)
    assert "0 added, 0 removed, 1 changed, 16 unchanged" in html
    assert "Staff never contact pupils online" in html


@pytest.mark.parametrize("older", ["0", "-1", str(2**31), str(2**63), "x"])
def test_comparing_with_a_version_that_cannot_exist(login, make, seeded, older):
    # An id beyond 64 bits was an OverflowError on SQLite, not a miss.
    client = login(make.user(Role.DSL))
    url = f"/policies/{seeded.policy_id}/compare?older={older}&newer={seeded.id}"
    response = client.get(url)
    assert response.status_code == 302
    assert "Choose two versions to compare" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_clause_form_keeps_input_and_explains(login, make, seeded, db):
    draft = create_draft(seeded.policy, version_label="2", by=None)
    db.session.commit()
    client = login(make.user(Role.CEO))
    response = post_form(
        client,
        f"/policies/versions/{draft.id}/clauses/new",
        {
            "reference": "3.4",
            "heading": "A duplicate",
            "text": "Typed text kept",
            "kind": "rule",
            "significance": "low",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Clause 3.4 already exists in this version" in html
    assert 'href="#reference"' in html
    assert "Typed text kept" in html and 'value="A duplicate"' in html

    response = post_form(
        client,
        f"/policies/versions/{draft.id}/clauses/new",
        {
            "reference": "9.1",
            "heading": "No text",
            "text": "",
            "kind": "rule",
            "significance": "low",
        },
    )
    assert "A rule needs its text" in response.get_data(as_text=True)

    response = post_form(client, f"/policies/versions/{draft.id}/clauses/new", {})
    html = response.get_data(as_text=True)
    for message in [
        "Enter the clause reference",
        "Enter a heading",
        "Choose whether the clause is a rule",
    ]:
        assert message in html


def test_details_form_explains_bad_dates_and_keeps_them(login, make, seeded, db):
    draft = create_draft(seeded.policy, version_label="2", by=None)
    db.session.commit()
    client = login(make.user(Role.TRUST_ADMIN))
    data = {"title": "T", "version_label": "2", "full_text": "kept text"}
    response = post_form(
        client,
        f"/policies/versions/{draft.id}/details",
        {**data, "approved_on": ["1", "7", "2025"], "review_due": ["1", "7", "2024"]},
    )
    html = response.get_data(as_text=True)
    assert "The review date must be after the approval date" in html
    assert 'href="#review_due-day"' in html
    assert "kept text" in html

    response = post_form(
        client,
        f"/policies/versions/{draft.id}/details",
        {**data, "approved_on": ["31", "2", "2025"], "review_due": ["", "", ""]},
    )
    html = response.get_data(as_text=True)
    assert "Date approved must be a real date" in html
    assert re.search(r'name="approved_on"[^>]*value="31"', html)


def test_publish_explains_missing_dates(login, make, seeded, db):
    draft = create_draft(seeded.policy, version_label="2", by=None)
    db.session.commit()
    client = login(make.user(Role.TRUST_ADMIN))
    response = post_form(
        client, f"/policies/versions/{draft.id}/publish", {"effective_from": ["1", "9", "2025"]}
    )
    assert "Set the date the version was approved before publishing" in response.get_data(
        as_text=True
    )
    db.session.rollback()
    assert db.session.get(PolicyVersion, draft.id).status == "draft"


def test_remove_clause_asks_first(login, make, seeded, db):
    draft = create_draft(seeded.policy, version_label="2", by=None)
    db.session.commit()
    clause = draft.clause("3.6")
    client = login(make.user(Role.TRUST_ADMIN))
    assert "Remove clause 3.6 Consequence?" in client.get(
        f"/policies/clauses/{clause.id}/remove"
    ).get_data(as_text=True)
    response = post_form(client, f"/policies/clauses/{clause.id}/remove", {})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(PolicyVersion, draft.id).clause("3.6") is None


def test_published_clauses_offer_no_edit_and_refuse_one(login, make, seeded):
    client = login(make.user(Role.TRUST_ADMIN))
    clause = seeded.clause("3.4")
    html = client.get(f"/policies/versions/{seeded.id}").get_data(as_text=True)
    assert "Add a clause" not in html and "Edit<span" not in html
    response = post_form(
        client,
        f"/policies/clauses/{clause.id}/edit",
        {"reference": "3.4", "heading": "x", "text": "x", "kind": "rule", "significance": "high"},
    )
    assert "can no longer be changed" in response.get_data(as_text=True)


# --- acknowledgements ------------------------------------------------------------------


@pytest.fixture
def staff(make, seeded):
    ash = make.school(name="Ash School")
    elm = make.school(name="Elm School")
    people = {
        "A1": add_staff_member(ash, full_name="Ann Ash", job_title="Teacher", employee_number="A1"),
        "A2": add_staff_member(ash, full_name="Bob Ash", job_title="Teacher", employee_number="A2"),
        "E1": add_staff_member(elm, full_name="Eve Elm", job_title="Teacher", employee_number="E1"),
    }
    _db.session.commit()
    return {"ash": ash, "elm": elm, "people": people}


def _upload(client, version, content: bytes):
    page = client.get(f"/policies/versions/{version.id}/acknowledgements")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(
        f"/policies/versions/{version.id}/acknowledgements/import",
        data={"csrf_token": token, "csv_file": (BytesIO(content), "acks.csv")},
        content_type="multipart/form-data",
    )


def test_record_one_acknowledgement(login, make, seeded, staff, db):
    client = login(make.user(Role.DSL, staff["ash"]))
    ann = staff["people"]["A1"]
    response = post_form(
        client,
        f"/policies/versions/{seeded.id}/acknowledgements",
        {
            "staff_member": str(ann.id),
            "acknowledged_on": ["2", "9", "2021"],
            "method": "training_session",
        },
    )
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Recorded that Ann Ash read version 2020" in html
    assert "Training session" in html and "2 September 2021" in html

    again = post_form(
        client,
        f"/policies/versions/{seeded.id}/acknowledgements",
        {
            "staff_member": str(ann.id),
            "acknowledged_on": ["3", "9", "2021"],
            "method": "signed_form",
        },
    )
    assert "Ann Ash already acknowledged this version on 2 September 2021" in again.get_data(
        as_text=True
    )


def test_a_dsl_cannot_record_for_another_school(login, make, seeded, staff, db):
    client = login(make.user(Role.DSL, staff["ash"]))
    page = client.get(f"/policies/versions/{seeded.id}/acknowledgements").get_data(as_text=True)
    assert "Eve Elm" not in page
    response = post_form(
        client,
        f"/policies/versions/{seeded.id}/acknowledgements",
        {
            "staff_member": str(staff["people"]["E1"].id),
            "acknowledged_on": ["2", "9", "2021"],
            "method": "signed_form",
        },
    )
    assert "Choose the member of staff" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(PolicyAcknowledgement.id))) == 0


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        # An id beyond 64 bits was an OverflowError on SQLite, not a miss.
        ({"staff_member": str(2**63)}, "Choose the member of staff"),
        # A date of spaces was taken for an answer, then parsed as no date: a 500.
        ({"acknowledged_on": [" ", " ", " "]}, "Enter the date they read it"),
    ],
)
def test_hand_made_answers_are_asked_for_again(login, make, seeded, staff, db, answer, message):
    client = login(make.user(Role.DSL, staff["ash"]))
    good = {
        "staff_member": str(staff["people"]["A1"].id),
        "acknowledged_on": ["2", "9", "2021"],
        "method": "signed_form",
    }
    url = f"/policies/versions/{seeded.id}/acknowledgements"
    response = post_form(client, url, good | answer)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count(PolicyAcknowledgement.id))) == 0


def test_csv_import_records_every_row(login, make, seeded, staff, db):
    client = login(make.user(Role.TRUST_ADMIN))
    content = (
        b"employee_number,acknowledged_on,method\n"
        b"A1,2021-09-02,training session\n"
        b"A2,03/09/2021,Signed form\n"
        b"E1,2022-01-10,e-learning\n"
    )
    response = _upload(client, seeded, content)
    assert response.status_code == 302
    assert "Imported 3 acknowledgements" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    db.session.rollback()
    methods = db.session.scalars(
        select(PolicyAcknowledgement.method).order_by(PolicyAcknowledgement.id)
    ).all()
    assert methods == ["training_session", "signed_form", "e_learning"]


def test_a_bad_csv_row_is_reported_and_nothing_is_imported(login, make, seeded, staff, db):
    client = login(make.user(Role.DSL, staff["ash"]))
    content = (
        b"employee_number,acknowledged_on,method\n"
        b"A1,2021-09-02,training session\n"
        b"E1,2021-09-02,signed form\n"  # another school: unknown to this DSL
        b"A2,2099-01-01,signed form\n"
        b"A2,not a date,signed form\n"
        b"A1,2021-09-02,carrier pigeon\n"
        b"A2,2019-01-01,signed form\n"
    )
    response = _upload(client, seeded, content)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing was imported" in html
    assert "No member of staff has employee number &#39;E1&#39;" in html
    assert "The date cannot be in the future" in html
    assert "&#39;not a date&#39; is not a date" in html
    assert "&#39;carrier pigeon&#39; is not a method" in html
    assert "A2 is already on line 4" in html
    for line in ["3", "4", "5", "6", "7"]:
        assert f'<td class="govuk-table__cell">{line}</td>' in html
    db.session.rollback()
    assert db.session.scalar(select(func.count(PolicyAcknowledgement.id))) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,date\nA1,2021-01-01\n", "The first line must be the column names"),
        (b"employee_number,acknowledged_on,method\n", "The file has no rows"),
        (b"\xff\xfe\x00binary", "The file could not be read as text"),
        (
            b"employee_number,acknowledged_on,method\nA2,2019-01-01,signed form\n",
            "The date cannot be before the version was approved (1 December 2020)",
        ),
        (b"employee_number,acknowledged_on,method\nA1,2021-09-02\n", "Expected 3 values, found 2"),
        (  # beyond the csv module's field limit: it raised, and the import answered 500
            b"employee_number,acknowledged_on,method\nA1," + b"x" * 200_000 + b",signed form\n",
            "This line is too long to read as CSV",
        ),
    ],
)
def test_csv_shape_problems_are_explained(login, make, seeded, staff, content, message):
    client = login(make.user(Role.TRUST_ADMIN))
    assert message in _upload(client, seeded, content).get_data(as_text=True)


def test_no_file_chosen(login, make, seeded, staff):
    client = login(make.user(Role.TRUST_ADMIN))
    page = client.get(f"/policies/versions/{seeded.id}/acknowledgements")
    response = client.post(
        f"/policies/versions/{seeded.id}/acknowledgements/import",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
        content_type="multipart/form-data",
    )
    assert "Select a CSV file" in response.get_data(as_text=True)


def test_acknowledgements_are_not_for_auditors_or_drafts(login, make, seeded, db):
    assert (
        login(make.user(Role.AUDITOR))
        .get(f"/policies/versions/{seeded.id}/acknowledgements")
        .status_code
        == 403
    )


def test_a_draft_has_no_acknowledgements(login, make, seeded, db):
    draft = create_draft(seeded.policy, version_label="2", by=None)
    db.session.commit()
    client = login(make.user(Role.TRUST_ADMIN))
    assert client.get(f"/policies/versions/{draft.id}/acknowledgements").status_code == 404
    assert client.get(f"/policies/versions/{seeded.id}/acknowledgements").status_code == 200
