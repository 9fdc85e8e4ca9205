"""The consent register for clause 3.5: a member of staff asks consent to post pictures of
a school event, the headteacher (or the CEO) grants or refuses it, the asker sees the
answer, the register is read and searched, and a case citing 3.5 shows the consents
around its conduct date."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.audit_helpers import events
from tests.conftest import csrf_token_from, sign_in
from tests.test_templates_read_nothing import watching_renders
from tests.test_workflow_pages import awaiting
from tracker.auth.models import User
from tracker.auth.permissions import can_decide_consent, consents_to_decide_filter
from tracker.auth.roles import Role
from tracker.auth.services import grant_role
from tracker.clock import today
from tracker.consents.models import ConsentStatus, PictureConsent
from tracker.consents.services import (
    CONSENT_PAGE,
    ConsentDecision,
    ConsentRequest,
    ask_consent,
    consents_around,
    consents_asked,
    consents_waiting_for,
    decide_consent,
    in_force_on,
    refer_to_ceo,
    withdraw_consent,
)
from tracker.db import utcnow
from tracker.errors import NotAllowed, ValidationFailed
from tracker.staff.models import StaffMember

EVENT = "Year 6 leavers' assembly"
CONTENT = "Five photographs of the choir on stage, from the back of the hall."
AUDIENCE = "Parents in the Year 6 class group"
CONDITIONS = "No close-ups of pupils' faces."
REASON = "Two pupils in the choir must not be photographed."
# Words that must never reach the audit trail.
WORDS = ("leavers", "choir", "Parents", "close-ups", "photographed", "Stacey", "Hannah")


def _parts(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def _form(**overrides) -> dict:
    answers = {
        "event": EVENT,
        "event_on": _parts(today() + timedelta(days=14)),
        "content": CONTENT,
        "platform": "facebook",
        "platform_detail": "",
        "audience": AUDIENCE,
    }
    return {**answers, **overrides}


def _request(event_on: date | None = None, **overrides) -> ConsentRequest:
    answers = {
        "event": EVENT,
        "event_on": event_on or today() + timedelta(days=14),
        "content": CONTENT,
        "platform": "facebook",
        "platform_detail": "",
        "audience": AUDIENCE,
    }
    return ConsentRequest(**{**answers, **overrides})


def _summary_errors(html: str) -> list[str]:
    summary = html.split('govuk-error-summary__list"', 1)
    if len(summary) < 2:
        return []
    listed = summary[1].split("</ul>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", listed, re.S)
    return [re.sub(r"<[^>]+>", "", item).strip() for item in items]


@pytest.fixture
def login(app):
    """A client of their own for each person (the tests switch between people)."""

    def signed_in(user: User):
        client = app.test_client()
        assert sign_in(client, user.email).status_code == 302
        return client

    return signed_in


def _post(client, url: str, data: dict | None = None):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **(data or {})})


class People:
    """A trust with schools A (a headteacher, a DSL) and B (a DSL), the CEO, and members of
    staff at A on the register."""

    def __init__(self, make, db):
        self.make, self.db = make, db
        self.trust = make.trust(name="Horizon Trust")
        self.school_a = make.school(self.trust, name="Ash School")
        self.school_b = make.school(self.trust, name="Birch School")
        make.policy(self.trust)
        self.head = make.user(Role.HEADTEACHER, self.school_a, name="Hannah Head")
        self.dsl_a = make.user(Role.DSL, self.school_a, name="Dev Dsl")
        self.dsl_b = make.user(Role.DSL, self.school_b, name="Bea Birch")
        self.ceo = make.user(Role.CEO, trust=self.trust, name="Chris Ceo")
        self.staff, self.member = self.staff_at(self.school_a, "Stacey Staff")
        self.other, self.other_member = self.staff_at(self.school_a, "Omar Other")

    def staff_at(self, school, name: str) -> tuple[User, StaffMember]:
        user = self.make.user(Role.STAFF, school, name=name)
        return user, self.make.staff(school, name=name, user=user)

    def ask(self, by: User | None = None, **request) -> PictureConsent:
        consent = ask_consent(_request(**request), by=by or self.staff, today=today())
        self.db.session.commit()
        return consent


@pytest.fixture
def people(make, db) -> People:
    return People(make, db)


def _no_text_in(details: dict) -> None:
    written = json.dumps(details)
    for word in WORDS:
        assert word not in written, (word, details)


# --- asking -------------------------------------------------------------------------------


def test_asking_lists_every_fault_at_once_and_keeps_what_was_typed(people, login):
    client = login(people.staff)
    page = client.get("/consents/new")
    assert page.status_code == 200
    response = _post(client, "/consents/new", {"event": "Sports day", "event_on": ["", "", ""]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _summary_errors(html) == [
        "Enter the date of the event",
        "Enter what you will post",
        "Choose where you will post it",
        "Enter who will see it",
    ]
    assert 'value="Sports day"' in html
    assert "<title>Error: " in html

    response = _post(
        client,
        "/consents/new",
        _form(event="", event_on=["31", "2", "2027"], platform="other", platform_detail=""),
    )
    html = response.get_data(as_text=True)
    assert _summary_errors(html) == [
        "Enter what the event is",
        "The date of the event must be a real date, like 27 6 2026",
        "Enter where you will post it",
    ]
    assert CONTENT in html and AUDIENCE in html
    assert people.db.session.scalar(select(PictureConsent.id)) is None


def test_an_event_too_far_ahead_or_long_past_is_refused(people, login):
    client = login(people.staff)
    for day, message in [
        (today() + timedelta(days=900), "The date of the event must be within the next 2 years"),
        (today() - timedelta(days=400), "The date of the event must be within the last year"),
    ]:
        html = _post(client, "/consents/new", _form(event_on=_parts(day))).get_data(as_text=True)
        assert _summary_errors(html) == [message]


def test_asking_goes_to_the_headteacher_with_its_audit_event(people, login, db):
    client = login(people.staff)
    response = _post(client, "/consents/new", _form(platform="other", platform_detail="Mastodon"))
    assert response.status_code == 302
    db.session.rollback()  # what the view committed, not what its session still holds
    consent = db.session.scalar(select(PictureConsent))
    assert consent is not None and response.headers["Location"].endswith(f"/consents/{consent.id}")
    assert consent.status == ConsentStatus.ASKED
    assert (consent.school_id, consent.staff_member_id) == (
        people.school_a.id,
        people.member.id,
    )
    assert (consent.event, consent.content, consent.audience) == (EVENT, CONTENT, AUDIENCE)
    assert (consent.platform, consent.platform_detail) == ("other", "Mastodon")
    assert can_decide_consent(people.head, consent)
    assert not can_decide_consent(people.ceo, consent)

    [event] = events(db.session, action="consent.asked")
    assert (event.object_type, event.object_id, event.school_id) == (
        "picture_consent",
        consent.id,
        people.school_a.id,
    )
    assert event.details == {
        "staff_member_id": people.member.id,
        "platform": "other",
        "event_on": consent.event_on.isoformat(),
        "goes_to": "headteacher",
    }
    _no_text_in(event.details)

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "govuk-notification-banner--success" in page
    assert "Your request for consent has been sent to the headteacher." in page
    assert "What happens next" in page
    assert "Do not post the pictures until consent is granted." in page
    assert "Mastodon" in page


def test_a_member_of_staff_not_on_the_register_is_told_why_they_cannot_ask(people, login, make):
    unlinked = make.user(Role.STAFF, people.school_a, name="Nina Norecord")
    client = login(unlinked)
    for response in (client.get("/consents/new"), _post(client, "/consents/new", _form())):
        assert response.status_code == 200
        assert "You cannot ask for consent yet" in response.get_data(as_text=True)
    with pytest.raises(NotAllowed):
        ask_consent(_request(), by=unlinked, today=today())
    assert people.db.session.scalar(select(PictureConsent.id)) is None


def test_only_members_of_staff_ask(people, login):
    assert login(people.dsl_a).get("/consents/new").status_code == 403
    with pytest.raises(NotAllowed):
        ask_consent(_request(), by=people.dsl_a, today=today())


# --- who decides ----------------------------------------------------------------------------


def _waiting_ids(user: User) -> list[int]:
    return [consent.id for consent in consents_waiting_for(user)]


def test_the_headteachers_own_request_goes_to_the_ceo(people, db, make):
    grant_role(people.head, Role.STAFF, school=people.school_a)
    db.session.commit()
    make.staff(people.school_a, name="Hannah Head", user=people.head)
    consent = people.ask(by=people.head)
    assert not can_decide_consent(people.head, consent)
    assert can_decide_consent(people.ceo, consent)
    assert _waiting_ids(people.ceo) == [consent.id]
    assert _waiting_ids(people.head) == []
    [event] = events(db.session, action="consent.asked")
    assert event.details["goes_to"] == "ceo"


def test_a_school_with_no_headteacher_sends_requests_to_the_ceo(people, make):
    central = make.school(people.trust, name="Central Team")
    user, _member = people.staff_at(central, "Cal Central")
    consent = people.ask(by=user)
    assert can_decide_consent(people.ceo, consent)
    assert not can_decide_consent(people.head, consent)
    assert _waiting_ids(people.ceo) == [consent.id]


def test_the_headteacher_passes_a_request_to_the_ceo(people, login, db):
    consent = people.ask()
    assert _waiting_ids(people.head) == [consent.id]
    assert _waiting_ids(people.ceo) == []
    head = login(people.head)
    show = head.get(f"/consents/{consent.id}").get_data(as_text=True)
    assert "Pass it to the CEO" in show
    assert _post(head, f"/consents/{consent.id}/refer").status_code == 302
    db.session.rollback()
    consent = db.session.get(PictureConsent, consent.id)
    assert consent.referred_at is not None and consent.referred_by_id == people.head.id
    assert _waiting_ids(people.head) == []
    assert _waiting_ids(people.ceo) == [consent.id]
    # Now the CEO's: the headteacher may neither decide nor pass it on again.
    assert head.get(f"/consents/{consent.id}/decide").status_code == 403
    assert head.get(f"/consents/{consent.id}/refer").status_code == 403
    with pytest.raises(NotAllowed):
        refer_to_ceo(consent, by=people.ceo)
    [event] = events(db.session, action="consent.referred")
    assert (event.object_id, event.details) == (consent.id, {})

    ceo = login(people.ceo)
    assert "Passed to the CEO" in ceo.get("/consents/waiting").get_data(as_text=True)
    answer = _post(ceo, f"/consents/{consent.id}/decide", {"decision": "granted"})
    assert answer.status_code == 302
    db.session.rollback()
    assert db.session.get(PictureConsent, consent.id).decided_by_id == people.ceo.id
    [decided] = events(db.session, action="consent.decided")
    assert decided.details["referred"] is True


def test_the_waiting_list_agrees_with_who_may_decide(people, make, db):
    """The SQL of `consents_to_decide_filter` and the predicate give the same answers."""
    grant_role(people.head, Role.STAFF, school=people.school_a)
    db.session.commit()
    make.staff(people.school_a, name="Hannah Head", user=people.head)
    central = make.school(people.trust, name="Central Team")
    central_user, _ = people.staff_at(central, "Cal Central")
    at_b, _ = people.staff_at(people.school_b, "Bo Birch")
    consents = [
        people.ask(),
        people.ask(by=people.head),
        people.ask(by=central_user),
        people.ask(by=at_b),
        people.ask(by=people.other),
    ]
    refer_to_ceo(consents[4], by=people.head)
    decided = people.ask()
    decide_consent(decided, ConsentDecision("granted"), by=people.head, today=today())
    db.session.commit()
    for user in (people.head, people.ceo, people.dsl_a, people.dsl_b, people.staff):
        listed = set(
            db.session.scalars(select(PictureConsent.id).where(consents_to_decide_filter(user)))
        )
        expected = {
            c.id
            for c in [*consents, decided]
            if c.status == "asked" and can_decide_consent(user, c)
        }
        assert listed == expected, user.display_name


# --- deciding -------------------------------------------------------------------------------


def test_granting_with_conditions_and_an_expiry_date(people, login, db):
    consent = people.ask()
    head = login(people.head)
    assert "Consents waiting for you" in head.get("/consents/").get_data(as_text=True)
    waiting = head.get("/consents/waiting").get_data(as_text=True)
    assert EVENT.replace("'", "&#39;") in waiting and "Stacey Staff" in waiting
    expires = consent.event_on + timedelta(days=30)
    response = _post(
        head,
        f"/consents/{consent.id}/decide",
        {"decision": "granted", "conditions": CONDITIONS, "expires_on": _parts(expires)},
    )
    assert response.status_code == 302
    db.session.rollback()
    consent = db.session.get(PictureConsent, consent.id)
    assert consent.status == ConsentStatus.GRANTED
    assert (consent.conditions, consent.expires_on) == (CONDITIONS, expires)
    assert consent.decided_by_id == people.head.id and consent.decided_at is not None
    assert consent.reason == ""
    [event] = events(db.session, action="consent.decided")
    assert event.details == {
        "status": "granted",
        "conditions": True,
        "expires_on": expires.isoformat(),
        "referred": False,
    }
    _no_text_in(event.details)
    assert "No requests for consent are waiting" in head.get("/consents/waiting").get_data(
        as_text=True
    )

    # The asker sees the answer, on the consent's page and in their list.
    asker = login(people.staff)
    page = asker.get(f"/consents/{consent.id}").get_data(as_text=True)
    assert "Granted" in page and "No close-ups of pupils&#39; faces." in page
    assert f"{expires.day} {expires:%B %Y}" in page
    mine = asker.get("/consents/mine").get_data(as_text=True)
    assert "Conditions: No close-ups" in mine and f"Until {expires.day} {expires:%B %Y}" in mine
    # Answered: no one decides it again.
    again = _post(head, f"/consents/{consent.id}/decide", {"decision": "refused", "reason": "x"})
    assert again.status_code == 200
    assert "This request was granted on" in again.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(PictureConsent, consent.id).status == ConsentStatus.GRANTED


def test_the_decision_form_lists_its_faults_and_keeps_what_was_typed(people, login, db):
    consent = people.ask()
    head = login(people.head)
    url = f"/consents/{consent.id}/decide"
    assert _summary_errors(_post(head, url).get_data(as_text=True)) == [
        "Choose whether you give consent"
    ]
    early = consent.event_on - timedelta(days=1)
    html = _post(
        head,
        url,
        {"decision": "granted", "conditions": CONDITIONS, "expires_on": _parts(early)},
    ).get_data(as_text=True)
    assert _summary_errors(html) == [
        "The expiry date must be the same as or after the date of the event"
    ]
    assert "No close-ups of pupils&#39; faces." in html
    html = _post(head, url, {"decision": "refused", "reason": "  "}).get_data(as_text=True)
    assert _summary_errors(html) == ["Enter why you are refusing consent"]
    db.session.rollback()
    assert db.session.get(PictureConsent, consent.id).status == ConsentStatus.ASKED
    assert events(db.session, action="consent.decided") == []
    # The services hold the same rules.
    with pytest.raises(ValidationFailed, match="same as or after"):
        decide_consent(
            consent, ConsentDecision("granted", expires_on=early), by=people.head, today=today()
        )
    with pytest.raises(ValidationFailed, match="Choose whether"):
        decide_consent(consent, ConsentDecision("withdrawn"), by=people.head, today=today())


def test_refusing_gives_the_asker_the_reason(people, login, db):
    consent = people.ask()
    head = login(people.head)
    response = _post(
        head,
        f"/consents/{consent.id}/decide",
        {"decision": "refused", "reason": REASON, "conditions": "ignored"},
    )
    assert response.status_code == 302
    db.session.rollback()
    consent = db.session.get(PictureConsent, consent.id)
    assert (consent.status, consent.reason, consent.conditions) == ("refused", REASON, "")
    [event] = events(db.session, action="consent.decided")
    assert event.details["status"] == "refused" and event.details["conditions"] is False
    _no_text_in(event.details)
    page = login(people.staff).get(f"/consents/{consent.id}").get_data(as_text=True)
    assert "Refused" in page and REASON in page
    assert "do not post these pictures" in page


def test_the_asker_withdraws_a_request_still_waiting(people, login, db):
    consent = people.ask()
    assert login(people.other).get(f"/consents/{consent.id}/withdraw").status_code == 404
    assert login(people.head).get(f"/consents/{consent.id}/withdraw").status_code == 403
    asker = login(people.staff)
    assert "Withdraw the request" in asker.get(f"/consents/{consent.id}").get_data(as_text=True)
    assert _post(asker, f"/consents/{consent.id}/withdraw").status_code == 302
    db.session.rollback()
    consent = db.session.get(PictureConsent, consent.id)
    assert consent.status == ConsentStatus.WITHDRAWN
    [event] = events(db.session, action="consent.withdrawn")
    assert (event.object_id, event.details, event.actor_id) == (consent.id, {}, people.staff.id)
    # Withdrawn: neither withdrawn again nor decided.
    again = _post(asker, f"/consents/{consent.id}/withdraw")
    assert "This request was withdrawn" in again.get_data(as_text=True)
    with pytest.raises(NotAllowed, match="withdrawn"):
        decide_consent(consent, ConsentDecision("granted"), by=people.head, today=today())
    with pytest.raises(NotAllowed):
        withdraw_consent(consent, by=people.staff)


@pytest.mark.parametrize("meanwhile", [ConsentStatus.GRANTED, ConsentStatus.WITHDRAWN])
def test_an_answer_crossing_another_is_refused_not_doubled(people, db, meanwhile):
    """The request as this request loaded it is out of date: someone else answered it,
    or the asker withdrew it, and committed in between. The database's row decides."""
    consent = people.ask()
    db.session.expunge_all()
    # Loaded as its pages load it (with the people and school joined, which a lock on the
    # whole row set cannot take on PostgreSQL).
    stale = db.session.scalar(
        select(PictureConsent).where(PictureConsent.id == consent.id).options(*CONSENT_PAGE)
    )
    # Another request's change, straight to the table: this session's object still
    # says "asked".
    db.session.connection().execute(
        PictureConsent.__table__.update()
        .where(PictureConsent.__table__.c.id == consent.id)
        .values(status=meanwhile.value)
    )
    assert stale.status == ConsentStatus.ASKED
    with pytest.raises(NotAllowed, match="no longer be changed"):
        decide_consent(
            stale, ConsentDecision("refused", reason="No"), by=people.head, today=today()
        )
    with pytest.raises(NotAllowed, match="no longer be changed"):
        refer_to_ceo(stale, by=people.head)
    assert events(db.session, action="consent.decided") == []
    assert events(db.session, action="consent.referred") == []


def test_the_asker_sees_their_requests_newest_first(people, login):
    first = people.ask(event="Sports day")
    second = people.ask(event="Harvest festival")
    people.ask(by=people.other, event="Book week")
    assert [c.id for c in consents_asked(people.staff)] == [second.id, first.id]
    mine = login(people.staff).get("/consents/mine").get_data(as_text=True)
    assert mine.index("Harvest festival") < mine.index("Sports day")
    assert "Book week" not in mine
    omar = login(people.other).get("/consents/mine").get_data(as_text=True)
    assert "Book week" in omar and "Sports day" not in omar


def test_someone_elses_consent_is_not_found(people, login, db):
    consent = people.ask()
    other = login(people.other)
    for suffix in ("", "/decide", "/refer", "/withdraw"):
        assert other.get(f"/consents/{consent.id}{suffix}").status_code == 404
    denied = events(db.session, action="access.denied")
    assert {(e.object_type, e.object_id) for e in denied} == {("picture_consent", consent.id)}
    assert other.get("/consents/999999999999999999999").status_code == 404
    # A member of staff reads no register and decides nothing.
    assert other.get("/consents/").status_code == 403
    assert other.get("/consents/waiting").status_code == 403


# --- the register -----------------------------------------------------------------------------


def test_the_register_is_scoped_to_the_readers_schools(people, login, db):
    at_a = people.ask(event="Ash sports day")
    b_user, _ = people.staff_at(people.school_b, "Bo Birch")
    at_b = people.ask(by=b_user, event="Birch book week")

    dsl_b = login(people.dsl_b)
    html = dsl_b.get("/consents/").get_data(as_text=True)
    assert "Birch book week" in html and "Ash sports day" not in html
    assert dsl_b.get(f"/consents/{at_a.id}").status_code == 404
    assert dsl_b.get(f"/consents/{at_b.id}").status_code == 200
    # A DSL reads the register but decides nothing.
    assert dsl_b.get(f"/consents/{at_b.id}/decide").status_code == 403
    assert dsl_b.get("/consents/waiting").status_code == 403

    dsl_a = login(people.dsl_a)
    html = dsl_a.get("/consents/").get_data(as_text=True)
    assert "Ash sports day" in html and "Birch book week" not in html
    ceo = login(people.ceo).get("/consents/").get_data(as_text=True)
    assert "Ash sports day" in ceo and "Birch book week" in ceo
    assert 'name="school"' in ceo and 'name="school"' not in html


def test_searching_the_register_and_its_audit_events(people, login, db):
    sports = people.ask(event="Sports day", event_on=today() + timedelta(days=10))
    people.ask(by=people.other, event="Harvest festival", event_on=today() + timedelta(days=40))
    decide_consent(sports, ConsentDecision("granted"), by=people.head, today=today())
    db.session.commit()
    client = login(people.dsl_a)

    def found(**query) -> list[str]:
        html = client.get("/consents/", query_string=query).get_data(as_text=True)
        return re.findall(r'href="/consents/\d+">([^<]+)</a>', html)

    assert found() == ["Harvest festival", "Sports day"]
    assert found(q="stacey") == ["Sports day"]  # the member of staff's name
    assert found(q="HARVEST") == ["Harvest festival"]  # the event
    assert found(q="%") == []  # taken literally
    assert found(status="granted") == ["Sports day"]
    assert found(status="asked") == ["Harvest festival"]
    later = today() + timedelta(days=20)
    assert found(event_from=_parts(later)) == ["Harvest festival"]
    assert found(event_to=_parts(later)) == ["Sports day"]
    html = client.get("/consents/", query_string={"q": "Nobody"}).get_data(as_text=True)
    assert "No requests for consent match your search" in html

    # A range back to front: the error, and nothing listed or recorded.
    before = len(events(db.session, action="consent.register.viewed"))
    html = client.get(
        "/consents/", query_string={"event_from": _parts(later), "event_to": _parts(today())}
    ).get_data(as_text=True)
    assert _summary_errors(html) == [
        "Event on or before must be the same as or after event on or after"
    ]
    assert len(events(db.session, action="consent.register.viewed")) == before

    viewed = events(db.session, action="consent.register.viewed")
    assert len(viewed) == 9
    assert viewed[0].details == {
        "filters": [],
        "status": None,
        "school_id": None,
        "results": 2,
        "page": 1,
    }
    assert viewed[1].details["filters"] == ["text"] and viewed[1].details["results"] == 1
    assert viewed[4].details["status"] == "granted"
    assert viewed[6].details["filters"] == ["event_from"]
    for event in viewed:
        _no_text_in(event.details)
        assert "stacey" not in json.dumps(event.details).lower()
        assert "harvest" not in json.dumps(event.details).lower()


def test_an_empty_register_says_so(people, login):
    html = login(people.dsl_a).get("/consents/").get_data(as_text=True)
    assert "No member of staff at your school has asked for consent" in html


def test_no_consent_event_carries_text(people, db):
    """Every consent.* event holds ids and codes only."""
    consent = people.ask(platform="other", platform_detail="Stacey's blog")
    decide_consent(
        consent,
        ConsentDecision("granted", conditions=CONDITIONS),
        by=people.head,
        today=today(),
    )
    refused = people.ask()
    refer_to_ceo(refused, by=people.head)
    decide_consent(refused, ConsentDecision("refused", reason=REASON), by=people.ceo, today=today())
    withdrawn = people.ask()
    withdraw_consent(withdrawn, by=people.staff)
    db.session.commit()
    trail = [event for event in events(db.session) if event.action.startswith("consent.")]
    assert {event.action for event in trail} == {
        "consent.asked",
        "consent.referred",
        "consent.decided",
        "consent.withdrawn",
    }
    for event in trail:
        _no_text_in(event.details)
        assert "blog" not in json.dumps(event.details)


# --- a case citing clause 3.5 --------------------------------------------------------------


def test_in_force_needs_a_grant_made_by_that_day_and_not_yet_expired():
    day = date(2026, 6, 1)
    granted = PictureConsent(
        status="granted",
        event_on=date(2026, 5, 1),
        expires_on=date(2026, 6, 30),
        decided_at=utcnow().replace(year=2026, month=5, day=2),
    )
    assert in_force_on(granted, day)
    assert not in_force_on(granted, date(2026, 7, 1))  # expired
    assert not in_force_on(granted, date(2026, 5, 1))  # not yet granted
    granted.status = "refused"
    assert not in_force_on(granted, day)


@pytest.fixture
def consents_case(people, make, db):
    """A case about Stacey citing 3.5, conduct today, with her consents around it."""
    conduct = today()
    old_granted = people.ask(event="Spring fair", event_on=conduct - timedelta(days=200))
    decide_consent(
        old_granted,
        ConsentDecision("granted", conditions=CONDITIONS),
        by=people.head,
        today=conduct,
    )
    old_refused = people.ask(event="Winter concert", event_on=conduct - timedelta(days=200))
    decide_consent(
        old_refused, ConsentDecision("refused", reason=REASON), by=people.head, today=conduct
    )
    waiting = people.ask(event="Sports day", event_on=conduct - timedelta(days=30))
    refused = people.ask(event="Prom night", event_on=conduct + timedelta(days=20))
    decide_consent(
        refused, ConsentDecision("refused", reason=REASON), by=people.head, today=conduct
    )
    people.ask(event="Summer fete", event_on=conduct + timedelta(days=100))
    people.ask(by=people.other, event="Book week", event_on=conduct)
    db.session.commit()
    case = make.case(
        people.school_a,
        subject=people.member,
        by=people.dsl_a,
        clauses=("3.5",),
        occurred_on=conduct,
        reported_on=conduct,
    )
    return case, {"old_granted": old_granted, "waiting": waiting, "refused": refused}


def test_a_case_citing_3_5_shows_the_consents_around_its_conduct_date(
    people, login, db, app, consents_case
):
    case, shown = consents_case
    around = consents_around(case)
    assert around is not None
    assert [(item.consent.event, item.in_force) for item in around] == [
        ("Spring fair", True),  # long before, but granted and in force on the day
        ("Sports day", False),
        ("Prom night", False),
    ]
    client = login(people.dsl_a)
    with watching_renders(app, db.engine) as watch:
        html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert not watch.reached, watch.reached
    section = html.split('id="consents"', 1)[1].split("</section>", 1)[0]
    for event in ("Spring fair", "Sports day", "Prom night"):
        assert event in section
    for event in ("Winter concert", "Summer fete", "Book week"):
        assert event not in section
    assert "No close-ups of pupils&#39; faces." in section and "Does not expire" in section
    assert REASON in section
    assert _in_force_cell(section, shown["old_granted"]) == "In force"
    assert _in_force_cell(section, shown["waiting"]) == "Not in force"
    assert _in_force_cell(section, shown["refused"]) == "Not in force"


def _in_force_cell(html: str, consent: PictureConsent) -> str:
    cell = html.split(f'data-testid="in-force-{consent.id}">', 1)[1].split("</td>", 1)[0]
    return re.sub(r"<[^>]+>", "", cell).strip()


def test_the_decision_page_shows_them_too(people, login, db, app, consents_case):
    case, _shown = consents_case
    awaiting(db, case, people.dsl_a, track="low_level")
    assert case.decision_maker_id == people.head.id
    client = login(people.head)
    with watching_renders(app, db.engine) as watch:
        response = client.get(f"/cases/{case.id}/decide")
    assert response.status_code == 200
    assert not watch.reached, watch.reached
    section = response.get_data(as_text=True).split('id="consents"', 1)[1]
    assert "Spring fair" in section and "Prom night" in section


def test_a_case_not_citing_3_5_shows_no_consents(people, login, make, db):
    people.ask(event="Sports day", event_on=today())
    case = make.case(
        people.school_a,
        subject=people.member,
        by=people.dsl_a,
        occurred_on=today(),
        reported_on=today(),
    )
    assert consents_around(case) is None
    html = login(people.dsl_a).get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="consents"' not in html and "Sports day" not in html
    awaiting(db, case, people.dsl_a, track="low_level")
    html = login(people.head).get(f"/cases/{case.id}/decide").get_data(as_text=True)
    assert 'id="consents"' not in html


def test_a_case_citing_3_5_with_no_consents_says_so(people, login, make):
    case = make.case(
        people.school_a,
        subject=people.member,
        by=people.dsl_a,
        clauses=("3.5",),
        occurred_on=today(),
        reported_on=today(),
    )
    html = login(people.dsl_a).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Stacey Staff had not asked for consent" in html


def test_the_consent_pages_reach_nothing_from_their_templates(people, login, app, db):
    waiting = people.ask(event="Sports day")
    answered = people.ask(event="Harvest festival")
    refer_to_ceo(answered, by=people.head)
    decide_consent(answered, ConsentDecision("granted"), by=people.ceo, today=today())
    db.session.commit()
    staff, head, dsl = login(people.staff), login(people.head), login(people.dsl_a)
    pages = [
        (staff, "/consents/new"),
        (staff, "/consents/mine"),
        (staff, f"/consents/{waiting.id}"),
        (staff, f"/consents/{waiting.id}/withdraw"),
        (staff, f"/consents/{answered.id}"),
        (head, f"/consents/{waiting.id}"),
        (head, f"/consents/{waiting.id}/decide"),
        (head, f"/consents/{waiting.id}/refer"),
        (head, f"/consents/{answered.id}"),
        (head, "/consents/waiting"),
        (dsl, "/consents/"),
        (dsl, f"/consents/{answered.id}"),
    ]
    for client, url in pages:
        with watching_renders(app, db.engine) as watch:
            response = client.get(url)
        assert response.status_code == 200, url
        assert watch.rendered and not watch.reached, (url, watch.reached)
    # Shown again after a refusal, which rolled back (and so expired) what was loaded.
    url = f"/consents/{waiting.id}/decide"
    token = csrf_token_from(head.get(url).get_data(as_text=True))
    early = waiting.event_on - timedelta(days=1)
    with watching_renders(app, db.engine) as watch:
        response = head.post(
            url, data={"csrf_token": token, "decision": "granted", "expires_on": _parts(early)}
        )
    assert response.status_code == 200 and not watch.reached, watch.reached
    # A refusal by the service: the request has been answered.
    ceo = login(people.ceo)
    url = f"/consents/{answered.id}/decide"
    token = csrf_token_from(ceo.get(url).get_data(as_text=True))
    with watching_renders(app, db.engine) as watch:
        response = ceo.post(url, data={"csrf_token": token, "decision": "refused", "reason": "No"})
    assert response.status_code == 200 and not watch.reached, watch.reached
    assert _summary_errors(response.get_data(as_text=True)) == [
        f"This request was granted on {today().day} {today():%B %Y}, so it can no longer be changed"
    ]


def test_the_home_pages_show_requests_asked_and_waiting(people, login):
    people.ask()
    staff_home = login(people.staff).get("/").get_data(as_text=True)
    assert "Pictures of school events" in staff_home and EVENT.replace("'", "&#39;") in staff_home
    assert "Waiting for a decision" in staff_home
    head_home = login(people.head).get("/").get_data(as_text=True)
    assert "Consents waiting for you" in head_home and "1 request to post" in head_home
    # The DSL reads the register but decides nothing: no waiting panel.
    assert "Consents waiting for you" not in login(people.dsl_a).get("/").get_data(as_text=True)
    other_home = login(people.other).get("/").get_data(as_text=True)
    assert EVENT.replace("'", "&#39;") not in other_home
