"""No template reaches the database: the views pass templates what they show (STYLE.md).

Every page about a case is requested while each SQL statement is watched. A statement sent
while a template renders (between Flask's `before_render_template` and `template_rendered`
signals, which wrap the whole page, includes and all) fails the test and is named, so
that the view can load what it needs up front. The step pages come from the action
registry, so a step added later is checked too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from flask import before_render_template, template_rendered
from sqlalchemy import event

from tests.conftest import csrf_token_from, sign_in
from tests.test_evidence import PNG
from tests.test_workflow_pages import (
    appealed,
    awaiting,
    closed,
    decided,
    investigating,
    triage,
)
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.cases.evidence import Provenance, add_evidence
from tracker.cases.models import Case
from tracker.cases.services import add_chronology_entry, add_person
from tracker.clock import today
from tracker.insight.services import link_cases
from tracker.retention.services import place_legal_hold
from tracker.workflow import registry
from tracker.workflow.models import Action


@dataclass
class RenderWatch:
    """The statements sent while a template rendered, with the template's name."""

    rendering: list[str] = field(default_factory=list)
    reached: list[tuple[str, str]] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)


@contextmanager
def watching_renders(app: Any, engine: Any) -> Iterator[RenderWatch]:
    watch = RenderWatch()

    def started(_app: Any, template: Any, **_: Any) -> None:
        watch.rendering.append(template.name)

    def finished(_app: Any, template: Any, **_: Any) -> None:
        watch.rendering.pop()
        watch.rendered.append(template.name)

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if watch.rendering:
            watch.reached.append((watch.rendering[-1], " ".join(sql.split())[:200]))

    before_render_template.connect(started, app)
    template_rendered.connect(finished, app)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield watch
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        template_rendered.disconnect(finished, app)
        before_render_template.disconnect(started, app)


@dataclass
class World:
    users: dict[str, User]
    cases: dict[str, Case]
    evidence: int
    link: int


@pytest.fixture
def world(make, db) -> World:
    school = make.school(name="Northfield Primary School")
    make.policy(school.trust)
    dsl = make.user(Role.DSL, school, name="Priya Shah")
    head = make.user(Role.HEADTEACHER, school, name="Hannah Jones")
    ceo = make.user(Role.CEO, trust=school.trust, name="Chris Evans")
    dpo = make.user(Role.DPO, trust=school.trust, name="Dana Osei")

    def new_case() -> Case:
        return make.case(school, by=dsl, subject=make.staff(school, name="Liam Hughes"))

    reported = new_case()
    evidence = add_evidence(
        reported,
        content=BytesIO(PNG),
        filename="screenshot.png",
        provenance=Provenance(description="The post"),
        by=dsl,
    )
    add_person(
        reported, kind="pupil", identifier="AB", year_group="Year 9", role_in_case="Saw it", by=dsl
    )
    add_chronology_entry(
        reported,
        kind="meeting",
        occurred_on=today(),
        occurred_time=None,
        summary="Met the parent.",
        by=dsl,
        today=today(),
    )
    db.session.commit()
    in_triage = new_case()
    triage(db, in_triage, dsl)
    under_investigation = new_case()
    investigating(db, under_investigation, dsl)
    waiting = new_case()
    awaiting(db, waiting, dsl)
    was_decided = new_case()
    decided(db, was_decided, dsl, head)
    under_appeal = new_case()
    appealed(db, under_appeal, dsl, head, ceo)
    held = new_case()
    closed(db, held, dsl, head)
    place_legal_hold(held, reason="Employment tribunal claim.", by=dpo)
    # A third concern about one person: the pattern rule holds, a review is due.
    repeated = make.staff(school, name="Pat Tern")
    make.case(school, by=dsl, subject=repeated, reported_on=today() - timedelta(days=60))
    make.case(school, by=dsl, subject=repeated, reported_on=today() - timedelta(days=30))
    pattern = make.case(school, by=dsl, subject=repeated, reported_on=today())
    triage(db, pattern, dsl)
    assert pattern.pattern_unreviewed
    link = link_cases(reported, reference=in_triage.reference, kind="same_incident", by=dsl)
    db.session.commit()
    return World(
        users={"dsl": dsl, "head": head, "ceo": ceo, "dpo": dpo},
        cases={
            "reported": reported,
            "triage": in_triage,
            "investigation": under_investigation,
            "awaiting": waiting,
            "decided": was_decided,
            "appeal": under_appeal,
            "closed": held,
            "pattern": pattern,
        },
        evidence=evidence.id,
        link=link.id,
    )


@pytest.fixture
def login(app):
    """A client of their own for each person (a test here may sign in several)."""

    def signed_in(user: User) -> Any:
        client = app.test_client()
        assert sign_in(client, user.email).status_code == 302
        return client

    return signed_in


def _assert_reaches_nothing(watch: RenderWatch, url: str) -> None:
    assert watch.rendered, f"{url}: no template was rendered"
    assert not watch.reached, f"{url}: templates reached the database:\n" + "\n".join(
        f"{template}: {sql}" for template, sql in watch.reached
    )


def _url(step: registry.Step, case: Case, world: World) -> str:
    path = step.page.path.replace("<int:evidence_id>", str(world.evidence))
    return f"/cases/{case.id}" + path.replace("<int:link_id>", str(world.link))


def _taker(step: registry.Step, world: World) -> tuple[str, Case]:
    """Someone who may take the step, and a case where it belongs now."""
    for case_name, case in world.cases.items():
        for person, user in world.users.items():
            if case.status in step.sources and registry.belongs_here(step, case, user):
                on_reported = {Action.REMOVE_EVIDENCE, Action.UNLINK_CASE}
                if step.action in on_reported and case_name != "reported":
                    continue  # the evidence and the link are the reported case's
                return person, case
    raise AssertionError(f"no one in the world may take {step.action}")


def test_the_case_page_reaches_nothing_from_its_templates(app, db, world, login):
    for person in ("dsl", "head", "dpo"):
        client = login(world.users[person])
        for name, case in world.cases.items():
            url = f"/cases/{case.id}"
            with watching_renders(app, db.engine) as watch:
                response = client.get(url)
            assert response.status_code == 200, (name, person)
            _assert_reaches_nothing(watch, f"{url} as {person} ({name})")


@pytest.mark.parametrize("action", list(registry.STEPS), ids=lambda action: action.value)
def test_each_step_page_reaches_nothing_from_its_templates(app, db, world, login, action):
    step = registry.STEPS[action]
    person, case = _taker(step, world)
    client = login(world.users[person])
    url = _url(step, case, world)
    with watching_renders(app, db.engine) as watch:
        response = client.get(url)
    assert response.status_code == 200, (url, person, response.status_code)
    _assert_reaches_nothing(watch, f"GET {url} as {person}")


def test_a_step_page_after_a_refusal_reaches_nothing_from_its_templates(app, db, world, login):
    """A refusal rolls back, which expires what the view loaded: shown again, the page
    must not fetch it from its template."""
    client = login(world.users["dsl"])
    url = f"/cases/{world.cases['reported'].id}/close"  # not decided: the service refuses
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    with watching_renders(app, db.engine) as watch:
        response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 200
    assert "cannot go on to this step" in response.get_data(as_text=True)
    _assert_reaches_nothing(watch, f"POST {url}")


def test_the_watch_sees_a_template_that_reaches_the_database(app, db, world):
    """The check itself: a template that lazily loads a relationship is caught."""
    from flask import render_template_string

    case = world.cases["reported"]
    db.session.expire_all()
    with app.test_request_context(), watching_renders(app, db.engine) as watch:
        render_template_string("{{ case.subject.full_name }}", case=case)
    assert watch.reached
