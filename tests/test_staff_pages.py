"""Staff register pages: who sees whom, adding and editing, and the cases about a person."""

import re
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, insert, select

from tests.conftest import post_form
from tracker.auth.roles import Role
from tracker.clock import today
from tracker.errors import ValidationFailed
from tracker.staff.models import StaffMember
from tracker.staff.services import add_staff_member, update_staff_member


@pytest.fixture
def schools(make):
    return {"ash": make.school(name="Ash School"), "elm": make.school(name="Elm School")}


@pytest.fixture
def people(make, schools, db):
    """Two staff at Ash, one at Elm, added out of alphabetical order."""
    ash, elm = schools["ash"], schools["elm"]
    members = {
        "bob": add_staff_member(
            ash, full_name="Bob Brown", job_title="Teacher", employee_number="A100"
        ),
        "ann": add_staff_member(
            ash, full_name="ann archer", job_title="Teaching assistant", employee_number="A200"
        ),
        "eve": add_staff_member(
            elm, full_name="Eve Evans", job_title="Head of year", employee_number="E300"
        ),
    }
    db.session.commit()
    return members


def _row_names(html: str) -> list[str]:
    return re.findall(r'href="/staff/\d+">([^<]+)</a>', html)


def _member(db, employee_number: str) -> StaffMember | None:
    return db.session.scalar(
        select(StaffMember).where(StaffMember.employee_number == employee_number)
    )


VALID = {
    "full_name": "Carol Carter",
    "job_title": "Science teacher",
    "employee_number": "C400",
    "normal_retirement_date": ["31", "8", "2045"],
}


# --- who may see the register ----------------------------------------------------------


def test_a_dsl_sees_only_their_schools_staff_sorted_by_name(login, make, schools, people):
    client = login(make.user(Role.DSL, schools["ash"]))
    html = client.get("/staff/").get_data(as_text=True)
    assert _row_names(html) == ["ann archer", "Bob Brown"]
    assert "Eve Evans" not in html and "E300" not in html
    assert "Teaching assistant" in html and "A200" in html and "Ash School" in html
    # One school: nothing to filter by.
    assert 'name="school"' not in html


def test_another_schools_staff_are_404_for_a_dsl(login, make, schools, people):
    client = login(make.user(Role.DSL, schools["ash"]))
    eve = people["eve"]
    assert client.get(f"/staff/{eve.id}").status_code == 404
    assert client.get(f"/staff/{eve.id}/edit").status_code == 404
    response = post_form(
        client,
        f"/staff/{eve.id}/edit",
        {**VALID, "school": str(schools["ash"].id)},
        form_url="/staff/new",
    )
    assert response.status_code == 404
    assert client.get("/staff/999999").status_code == 404


def test_another_trusts_staff_are_404(login, make, people):
    other = make.trust(name="Other Trust")
    client = login(make.user(Role.TRUST_ADMIN, trust=other))
    assert client.get(f"/staff/{people['bob'].id}").status_code == 404
    assert "Bob Brown" not in client.get("/staff/").get_data(as_text=True)


def test_a_trust_administrator_sees_every_school_and_no_cases(login, make, schools, people):
    make.case(schools["ash"], subject=people["bob"])
    client = login(make.user(Role.TRUST_ADMIN))
    html = client.get("/staff/").get_data(as_text=True)
    assert _row_names(html) == ["ann archer", "Bob Brown", "Eve Evans"]
    page = client.get(f"/staff/{people['bob'].id}").get_data(as_text=True)
    assert "A100" in page and "Teacher" in page
    assert "Cases about" not in page and "-0001" not in page


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DPO, Role.CEO, Role.CHAIR, None])
def test_users_who_do_not_keep_the_register_are_refused(login, make, people, role):
    client = login(make.user(role))
    bob = people["bob"]
    for path in ["/staff/", "/staff/new", f"/staff/{bob.id}", f"/staff/{bob.id}/edit"]:
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("role", [Role.HEADTEACHER, Role.DEPUTY_DSL])
def test_the_headteacher_and_deputy_keep_their_schools_register(login, make, schools, people, role):
    client = login(make.user(role, schools["elm"]))
    assert _row_names(client.get("/staff/").get_data(as_text=True)) == ["Eve Evans"]


# --- finding people --------------------------------------------------------------------


def test_filter_by_school_and_search_by_name_or_number(login, make, schools, people):
    client = login(make.user(Role.TRUST_ADMIN))
    html = client.get("/staff/").get_data(as_text=True)
    assert "All schools" in html and ">Elm School</option>" in html

    html = client.get(f"/staff/?school={schools['elm'].id}").get_data(as_text=True)
    assert _row_names(html) == ["Eve Evans"]
    assert "1 member of staff found" in html

    assert _row_names(client.get("/staff/?q=ARCH").get_data(as_text=True)) == ["ann archer"]
    assert _row_names(client.get("/staff/?q=e300").get_data(as_text=True)) == ["Eve Evans"]
    both = client.get(f"/staff/?q=a&school={schools['ash'].id}").get_data(as_text=True)
    assert _row_names(both) == ["ann archer", "Bob Brown"]

    html = client.get("/staff/?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert _row_names(html) == []
    assert "No one on the register matches your search" in html
    assert 'value="%"' in html

    # Hand-made addresses show the register rather than fail.
    assert client.get("/staff/?school=ash&page=last").status_code == 200
    assert client.get("/staff/?page=99").status_code == 200
    # Numbers beyond 64 bits were an OverflowError (SQLite) or an OFFSET out of range.
    assert client.get(f"/staff/?school={2**63}").status_code == 200
    assert client.get(f"/staff/?page={10**30}").status_code == 200


def test_an_empty_register_says_what_to_do(login, make, schools):
    html = login(make.user(Role.DSL, schools["ash"])).get("/staff/").get_data(as_text=True)
    assert "There is no one on the register for your schools yet" in html
    assert "Add a member of staff" in html


def test_a_long_register_is_split_into_pages(login, make, schools, db):
    for number in range(55):
        add_staff_member(
            schools["ash"],
            full_name=f"Person {number:02d}",
            job_title="Teacher",
            employee_number=f"P{number:02d}",
        )
    db.session.commit()
    client = login(make.user(Role.DSL, schools["ash"]))
    first = client.get("/staff/").get_data(as_text=True)
    assert len(_row_names(first)) == 50 and "55 members of staff" in first
    assert "Page 2 of 2" in first
    second = client.get("/staff/?page=2").get_data(as_text=True)
    assert _row_names(second) == [f"Person {n}" for n in range(50, 55)]


# --- adding ----------------------------------------------------------------------------


def test_a_dsl_adds_a_member_of_staff_at_their_school(login, make, schools, db):
    client = login(make.user(Role.DSL, schools["ash"]))
    form = client.get("/staff/new").get_data(as_text=True)
    # One school: no drop-down to choose from, the school named on the page instead.
    assert "School: <strong>Ash School</strong>" in form and "Elm School" not in form
    assert "<select" not in form and f'name="school" value="{schools["ash"].id}"' in form
    response = post_form(client, "/staff/new", {**VALID, "school": str(schools["ash"].id)})
    assert response.status_code == 302
    db.session.rollback()
    carol = _member(db, "C400")
    assert carol.full_name == "Carol Carter" and carol.school_id == schools["ash"].id
    assert carol.normal_retirement_date == date(2045, 8, 31)
    assert response.headers["Location"] == f"/staff/{carol.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Carol Carter is on the staff register" in page
    assert "31 August 2045" in page


def test_the_retirement_date_is_optional(login, make, schools, db):
    client = login(make.user(Role.TRUST_ADMIN))
    data = {**VALID, "school": str(schools["elm"].id), "normal_retirement_date": ["", "", ""]}
    assert post_form(client, "/staff/new", data).status_code == 302
    db.session.rollback()
    assert _member(db, "C400").normal_retirement_date is None
    page = client.get(f"/staff/{_member(db, 'C400').id}").get_data(as_text=True)
    assert "Not recorded" in page


def test_adding_lists_every_missing_field(login, make, schools, db):
    client = login(make.user(Role.TRUST_ADMIN))
    response = post_form(client, "/staff/new", {"school": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Error: Add a member of staff" in html
    for message, target in [
        ("Choose the school", "#school"),
        ("Enter the member of staff&#39;s full name", "#full_name"),
        ("Enter their job title", "#job_title"),
        ("Enter their employee number", "#employee_number"),
    ]:
        assert message in html
        assert f'href="{target}"' in html
    db.session.rollback()
    assert db.session.scalar(select(func.count(StaffMember.id))) == 0


def test_spaces_alone_are_not_a_name(login, make, schools):
    client = login(make.user(Role.DSL, schools["ash"]))
    response = post_form(
        client, "/staff/new", {**VALID, "school": str(schools["ash"].id), "full_name": "   "}
    )
    assert "Enter the member of staff&#39;s full name" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "x" * 201, "The full name must be 200 characters or fewer"),
        ("job_title", "x" * 201, "The job title must be 200 characters or fewer"),
        ("employee_number", "x" * 41, "The employee number must be 40 characters or fewer"),
        (
            "normal_retirement_date",
            ["31", "2", "2045"],
            "Normal retirement date must be a real date",
        ),
        (
            "normal_retirement_date",
            ["1", "9", "1950"],
            "The normal retirement date must be after 1950",
        ),
        (
            "normal_retirement_date",
            ["1", "1", str(today().year + 61)],
            "The normal retirement date must be within 60 years from today",
        ),
    ],
)
def test_each_problem_is_explained_and_what_was_typed_is_kept(
    login, make, schools, db, field, value, message
):
    client = login(make.user(Role.TRUST_ADMIN))
    data = {**VALID, "school": str(schools["elm"].id), field: value}
    response = post_form(client, "/staff/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    target = "#normal_retirement_date-day" if field == "normal_retirement_date" else f"#{field}"
    assert f'href="{target}"' in html
    for name in ["full_name", "job_title", "employee_number"]:
        assert f'value="{data[name]}"' in html
    day = data["normal_retirement_date"][0]
    assert re.search(rf'name="normal_retirement_date"[^>]*value="{day}"', html)
    assert re.search(rf'value="{schools["elm"].id}" selected', html)
    db.session.rollback()
    assert db.session.scalar(select(func.count(StaffMember.id))) == 0


def test_an_employee_number_is_unique_across_the_trust(login, make, schools, people, db):
    # Eve's number is at Elm: an Ash DSL cannot see her but still cannot reuse it.
    client = login(make.user(Role.DSL, schools["ash"]))
    data = {**VALID, "school": str(schools["ash"].id), "employee_number": " E300 "}
    response = post_form(client, "/staff/new", data)
    html = response.get_data(as_text=True)
    assert "Another member of staff already has this employee number" in html
    assert 'href="#employee_number"' in html
    assert 'value="Carol Carter"' in html and 'value=" E300 "' in html
    assert "Eve Evans" not in html
    db.session.rollback()
    assert db.session.scalar(select(func.count(StaffMember.id))) == 3


def test_another_trust_may_use_the_same_employee_number(make, people, db):
    other_school = make.school(make.trust(name="Other Trust"))
    add_staff_member(other_school, full_name="Zed", job_title="Cook", employee_number="A100")
    db.session.commit()


def test_a_dsl_cannot_add_staff_at_another_school(login, make, schools, db):
    client = login(make.user(Role.DSL, schools["ash"]))
    response = post_form(client, "/staff/new", {**VALID, "school": str(schools["elm"].id)})
    assert response.status_code == 200
    assert "Choose the school" in response.get_data(as_text=True)
    db.session.rollback()
    assert _member(db, "C400") is None


def test_a_number_taken_at_the_same_moment_is_refused_not_a_crash(make, schools, db):
    """Another request saves the same number after our check and before our save."""
    ash = schools["ash"]
    engine, inserted = db.engine, threading.Event()

    def other_request() -> None:
        with engine.connect() as connection, connection.begin():
            connection.execute(
                insert(StaffMember).values(
                    trust_id=ash.trust_id,
                    school_id=ash.id,
                    full_name="Quick Person",
                    job_title="Teacher",
                    employee_number="C400",
                )
            )
            inserted.set()
            time.sleep(0.5)  # then commits, while our save waits on it

    thread = threading.Thread(target=other_request)
    thread.start()
    assert inserted.wait(timeout=10)
    try:
        with pytest.raises(ValidationFailed, match="already has this employee number"):
            add_staff_member(
                ash, full_name="Carol Carter", job_title="Teacher", employee_number="C400"
            )
        # The transaction is still usable after the refusal.
        assert db.session.scalar(select(func.count(StaffMember.id))) == 1
    finally:
        thread.join(timeout=10)
        db.session.rollback()
    assert [m.full_name for m in db.session.scalars(select(StaffMember))] == ["Quick Person"]


# --- editing ---------------------------------------------------------------------------


def test_edit_shows_the_current_details(login, make, schools, people, db):
    bob = people["bob"]
    update_staff_member(
        bob,
        school=schools["ash"],
        full_name=bob.full_name,
        job_title=bob.job_title,
        employee_number=bob.employee_number,
        normal_retirement_date=date(2040, 7, 31),
    )
    db.session.commit()
    html = login(make.user(Role.TRUST_ADMIN)).get(f"/staff/{bob.id}/edit").get_data(as_text=True)
    assert 'value="Bob Brown"' in html and 'value="A100"' in html
    assert re.search(rf'value="{schools["ash"].id}" selected', html)
    assert re.search(r'name="normal_retirement_date"[^>]*value="31"', html)
    assert re.search(r'name="normal_retirement_date"[^>]*value="2040"', html)


def test_edit_saves_and_says_what_changed(login, make, schools, people, db):
    bob = people["bob"]
    client = login(make.user(Role.TRUST_ADMIN))
    data = {
        "school": str(schools["elm"].id),
        "full_name": "Robert Brown",
        "job_title": "Teacher",
        "employee_number": "A100",
        "normal_retirement_date": ["", "", ""],
    }
    response = post_form(client, f"/staff/{bob.id}/edit", data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/{bob.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved the school and full name of Robert Brown." in page
    assert "Elm School" in page
    db.session.rollback()
    db.session.expire_all()
    moved = db.session.get(StaffMember, bob.id)
    assert (moved.full_name, moved.school_id) == ("Robert Brown", schools["elm"].id)

    again = post_form(client, f"/staff/{bob.id}/edit", data)
    assert "Nothing had changed" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_edit_refuses_a_duplicate_number_and_keeps_the_input(login, make, schools, people, db):
    bob = people["bob"]
    client = login(make.user(Role.DSL, schools["ash"]))
    data = {
        "school": str(schools["ash"].id),
        "full_name": "Robert Brown",
        "job_title": "Head of science",
        "employee_number": "E300",
        "normal_retirement_date": ["1", "9", "2041"],
    }
    response = post_form(client, f"/staff/{bob.id}/edit", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Error: Edit Bob Brown" in html
    assert "Another member of staff already has this employee number" in html
    assert 'value="Robert Brown"' in html and 'value="Head of science"' in html
    assert re.search(r'name="normal_retirement_date"[^>]*value="2041"', html)
    db.session.rollback()
    db.session.expire_all()
    unchanged = db.session.get(StaffMember, bob.id)
    assert (unchanged.full_name, unchanged.employee_number) == ("Bob Brown", "A100")


def test_keeping_ones_own_number_is_not_a_duplicate(login, make, schools, people, db):
    bob = people["bob"]
    client = login(make.user(Role.DSL, schools["ash"]))
    data = {**VALID, "school": str(schools["ash"].id), "employee_number": "A100"}
    assert post_form(client, f"/staff/{bob.id}/edit", data).status_code == 302


def test_edit_lists_every_missing_field(login, make, schools, people):
    client = login(make.user(Role.DSL, schools["ash"]))
    response = post_form(
        client,
        f"/staff/{people['bob'].id}/edit",
        {"school": str(schools["ash"].id), "full_name": "", "job_title": "", "employee_number": ""},
    )
    html = response.get_data(as_text=True)
    for message in [
        "Enter the member of staff&#39;s full name",
        "Enter their job title",
        "Enter their employee number",
    ]:
        assert message in html


def test_a_dsl_cannot_move_staff_to_a_school_they_do_not_keep(login, make, schools, people, db):
    bob = people["bob"]
    client = login(make.user(Role.DSL, schools["ash"]))
    data = {**VALID, "school": str(schools["elm"].id), "employee_number": "A100"}
    response = post_form(client, f"/staff/{bob.id}/edit", data)
    assert "Choose the school" in response.get_data(as_text=True)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(StaffMember, bob.id).school_id == schools["ash"].id


def test_the_service_keeps_staff_in_their_trust(make, people, db):
    other_school = make.school(make.trust(name="Other Trust"))
    bob = people["bob"]
    with pytest.raises(ValidationFailed, match="Choose one of the trust's schools"):
        update_staff_member(
            bob,
            school=other_school,
            full_name=bob.full_name,
            job_title=bob.job_title,
            employee_number=bob.employee_number,
            normal_retirement_date=None,
        )


# --- the cases about a member of staff -------------------------------------------------
# These render links to `cases.show`.


def test_a_dsl_sees_the_cases_about_someone_at_their_school(login, make, schools, people):
    bob = people["bob"]
    case = make.case(schools["ash"], subject=bob)
    client = login(make.user(Role.HEADTEACHER, schools["ash"]))
    html = client.get(f"/staff/{bob.id}").get_data(as_text=True)
    assert "Cases about Bob Brown" in html
    assert f'href="/cases/{case.id}"' in html and case.reference in html
    assert case.status_enum.label in html and "4 March 2026" in html

    html = client.get(f"/staff/{people['ann'].id}").get_data(as_text=True)
    assert "There are no cases about ann archer that you can see" in html


def test_cases_are_limited_to_what_the_user_may_read(login, make, schools, people, db):
    bob = people["bob"]
    case = make.case(schools["ash"], subject=bob)
    # Bob moves to Elm: Elm's DSL now keeps his entry but cannot read Ash's case.
    update_staff_member(
        bob,
        school=schools["elm"],
        full_name=bob.full_name,
        job_title=bob.job_title,
        employee_number=bob.employee_number,
        normal_retirement_date=None,
    )
    db.session.commit()
    client = login(make.user(Role.DSL, schools["elm"]))
    html = client.get(f"/staff/{bob.id}").get_data(as_text=True)
    assert "Bob Brown" in html and case.reference not in html
    assert "There are no cases about Bob Brown that you can see" in html


def test_a_subject_never_sees_the_cases_about_themselves(login, make, schools, db):
    ash = schools["ash"]
    dsl = make.user(Role.DSL, ash)
    own_record = make.staff(ash, name="Dee Lead", user=dsl)
    case = make.case(ash, subject=own_record)
    html = login(dsl).get(f"/staff/{own_record.id}").get_data(as_text=True)
    assert "Dee Lead" in html and case.reference not in html
