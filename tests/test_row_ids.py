"""An id in an address too large for a row's id answers 404, never a 500.

SQLite raises OverflowError on a number past 64 bits and PostgreSQL "integer out of
range" on one past 32, so every route with an integer in its address is walked, by each
of GET and POST it takes, with numbers past each bound.
"""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from tests.conftest import csrf_token_from
from tracker.auth.roles import Role
from tracker.db import MAX_ID
from tracker.http import RowIdConverter

# Past PostgreSQL's INTEGER, past SQLite's 64 bits, and far past both.
TOO_LARGE = (MAX_ID + 1, 2**63, 10**23)


def _int_routes(app) -> list[tuple[str, str, set[str]]]:
    return [
        (rule.endpoint, rule.rule, set(rule.methods or ()))
        for rule in app.url_map.iter_rules()
        if "<int:" in rule.rule
    ]


def test_every_integer_in_an_address_is_a_row_id(app):
    routes = _int_routes(app)
    assert len(routes) >= 30  # every route with an id: the walk below sees them all
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                assert isinstance(converter, RowIdConverter), (rule.rule, name)


@pytest.mark.parametrize("number", TOO_LARGE)
def test_an_id_too_large_for_a_row_answers_404(app, make, login, number):
    school = make.school()
    user = make.user(Role.DPO, trust=school.trust)  # reads every case of the trust
    client = login(user)
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    wrong = []
    for endpoint, rule, methods in _int_routes(app):
        url = re.sub(r"<int:[a-z_]+>", str(number), rule)
        for method in sorted({"GET", "POST"} & methods):
            data = {"csrf_token": token} if method == "POST" else None
            status = client.open(url, method=method, data=data).status_code
            if status != 404:
                wrong.append(f"{method} {url} ({endpoint}): {status}")
    assert not wrong, "\n".join(wrong)


def test_an_id_that_fits_still_reaches_the_view(app, make, login):
    school = make.school()
    make.policy(school.trust)
    user = make.user(Role.DSL, school)
    case = make.case(school, by=user)
    client = login(user)
    assert client.get(f"/cases/{case.id}").status_code == 200
    assert client.get(f"/cases/{MAX_ID}").status_code == 404  # the largest id: no such case
