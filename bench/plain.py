"""The plain reference: the case list and a case page as a minimal Flask + Flask-SQLAlchemy
+ Jinja app would serve them from the same database, with none of the product's layers
(no sign-in, no scope, no audit event, no forms, no design system).

`make bench` times it in the same process, by the same method and interleaved with the
product's requests, so "product / plain" says what our layers cost per page whatever else
the machine is doing. It is not part of the product and nothing in `tracker/` imports it.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, abort, render_template, request
from jinja2 import DictLoader
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import aliased, joinedload, selectinload

import tracker.models  # noqa: F401  (every model, so that the mappers configure)
from tracker.cases.models import Case, ChronologyEntry, ClauseBreach, Evidence
from tracker.extensions import db
from tracker.orgs.models import School, Trust
from tracker.policy.models import Clause
from tracker.retention.models import LegalHold
from tracker.staff.models import StaffMember
from tracker.workflow.models import Appeal, CaseTransition, Decision

PER_PAGE = 25
COUNT_LIMIT = 1_000

_LAYOUT = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{% block title %}{% endblock %} - Cases</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body>
<header><a href="{{ url_for('cases') }}">Cases</a></header>
<main>{% block main %}{% endblock %}</main>
<footer><p>Plain reference page</p></footer>
</body>
</html>
"""

_LIST = """{% extends "layout.html" %}
{% block title %}Cases{% endblock %}
{% block main %}
<h1>Cases</h1>
<p>{{ "More than %d" % limit if total > limit else total }} cases</p>
<table>
  <thead><tr><th>Reference</th><th>About</th><th>School</th><th>Status</th>
  <th>Submitted for decision</th><th>Track</th><th>Rules</th><th>Platform</th>
  <th>Reported</th></tr></thead>
  <tbody>
  {% for row in rows %}
    <tr>
      <td><a href="{{ url_for('case', case_id=row.id) }}">{{ row.reference }}</a></td>
      <td>{{ row.subject }}{% if row.about_subject > 1 %}
        <a href="{{ url_for('cases', q=row.subject) }}">{{ row.about_subject }} cases</a>
      {%- endif %}</td>
      <td>{{ row.school }}</td>
      <td>{{ row.status | replace("_", " ") | capitalize }}
        {%- if row.status == "triage" and row.lado_due_at and not row.lado_referred_at
              and row.lado_due_at < now %} LADO referral overdue{% endif %}</td>
      <td>{{ row.submitted_at.strftime("%-d %B %Y") if row.submitted_at else "" }}</td>
      <td>{{ (row.track or "not triaged") | replace("_", " ") | capitalize }}</td>
      <td>{{ row.cited or "" }}</td>
      <td>{{ row.platform_detail or row.platform }}</td>
      <td>{{ row.reported_on.strftime("%-d %B %Y") }}</td>
    </tr>
  {% endfor %}
  </tbody>
</table>
{% if next_after %}<a href="{{ url_for('cases', after=next_after) }}" rel="next">Next</a>{% endif %}
{% endblock %}
"""

_CASE = """{% extends "layout.html" %}
{% block title %}{{ case.reference }}{% endblock %}
{% block main %}
<h1>{{ case.reference }}</h1>
<dl>
  <dt>School</dt><dd>{{ case.school.name }}</dd>
  <dt>About</dt><dd>{{ case.subject.full_name }}</dd>
  <dt>Status</dt><dd>{{ case.status | replace("_", " ") | capitalize }}</dd>
  <dt>Happened</dt><dd>{{ case.occurred_on.strftime("%-d %B %Y") }}</dd>
  <dt>Reported</dt><dd>{{ case.reported_on.strftime("%-d %B %Y") }}</dd>
  <dt>Platform</dt><dd>{{ case.platform }}</dd>
  <dt>What happened</dt><dd>{{ case.summary }}</dd>
</dl>
<h2>Rules broken</h2>
<ul>{% for breach in case.breaches %}
  <li>{{ breach.clause.reference }} {{ breach.clause.title }}: {{ breach.rationale }}</li>
{% endfor %}</ul>
<h2>People involved</h2>
<ul>{% for person in case.people %}
  <li>{{ person.identifier }}: {{ person.role_in_case }}</li>
{% endfor %}</ul>
<h2>Chronology</h2>
<ol>{% for entry in case.chronology %}
  <li>{{ entry.occurred_on.strftime("%-d %B %Y") }} {{ entry.author.display_name }}:
  {{ entry.summary }}</li>
{% endfor %}</ol>
<h2>Evidence</h2>
<ul>{% for item in case.evidence %}
  <li>{{ item.original_filename }} ({{ item.size_bytes }} bytes), added by
  {{ item.uploaded_by.display_name }} on {{ item.uploaded_at.strftime("%-d %B %Y") }}</li>
{% endfor %}</ul>
<h2>History</h2>
<ol>{% for step in case.transitions %}
  <li>{{ step.at.strftime("%-d %B %Y %H:%M") }} {{ step.actor.display_name if step.actor }}:
  {{ step.from_status }} to {{ step.to_status }}</li>
{% endfor %}</ol>
<h2>Decisions and appeals</h2>
<ul>{% for decision in case.decisions %}
  <li>{{ decision.outcome }} {{ decision.sanction or "" }}
  by {{ decision.decided_by.display_name }}: {{ decision.rationale }}</li>
{% endfor %}{% for appeal in case.appeals %}
  <li>Appeal lodged {{ appeal.lodged_on.strftime("%-d %B %Y") }}, heard by
  {{ appeal.heard_by.display_name if appeal.heard_by }}: {{ appeal.outcome or "" }}</li>
{% endfor %}{% for suspension in case.suspensions %}
  <li>Suspended from {{ suspension.starts_on.strftime("%-d %B %Y") }}: {{ suspension.reason }}</li>
{% endfor %}{% for hold in case.legal_holds %}
  <li>Legal hold by {{ hold.set_by.display_name }}: {{ hold.reason }}</li>
{% endfor %}</ul>
<h2>Earlier concerns about {{ case.subject.full_name }} ({{ earlier_total }})</h2>
<ul>{% for other in earlier %}
  <li><a href="{{ url_for('case', case_id=other.id) }}">{{ other.reference }}</a>
  {{ other.reported_on.strftime("%-d %B %Y") }} {{ other.status }}</li>
{% endfor %}</ul>
{% endblock %}
"""


def make_plain_app(database_url: str, trust_id: int) -> Flask:
    """The reference app on `database_url`, listing the cases of trust `trust_id`."""
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, SERVER_NAME=None)
    app.jinja_loader = DictLoader({"layout.html": _LAYOUT, "list.html": _LIST, "case.html": _CASE})
    db.init_app(app)

    @app.get("/cases/")
    def cases() -> str:
        conditions: list[Any] = [Case.trust_id == trust_id]
        after = request.args.get("after")
        if after:
            day, _, case_id = after.partition("_")
            conditions.append(
                tuple_(Case.reported_on, Case.id) < (date.fromisoformat(day), int(case_id))
            )
        cited = (
            select(func.aggregate_strings(Clause.reference, ", "))
            .select_from(ClauseBreach)
            .join(Clause, ClauseBreach.clause_id == Clause.id)
            .where(ClauseBreach.case_id == Case.id)
            .scalar_subquery()
        )
        # The columns the product's list shows since issue 20: when the case was last
        # submitted for decision (its decision's due date) and how many cases there are
        # about the same person, each a correlated subquery as the product's are.
        submitted_at = (
            select(func.max(CaseTransition.at))
            .where(
                CaseTransition.case_id == Case.id,
                CaseTransition.to_status == "awaiting_decision",
            )
            .scalar_subquery()
        )
        same_subject = aliased(Case)
        about_subject = (
            select(func.count(same_subject.id))
            .where(
                same_subject.subject_id == Case.subject_id,
                same_subject.trust_id == trust_id,
            )
            .scalar_subquery()
        )
        rows = db.session.execute(
            select(
                Case.id,
                Case.reference,
                School.name.label("school"),
                StaffMember.full_name.label("subject"),
                Case.reported_on,
                Case.status,
                Case.track,
                Case.platform,
                Case.platform_detail,
                Case.lado_due_at,
                Case.lado_referred_at,
                cited.label("cited"),
                submitted_at.label("submitted_at"),
                about_subject.label("about_subject"),
            )
            .join(School, School.id == Case.school_id)
            .join(StaffMember, StaffMember.id == Case.subject_id)
            .where(*conditions)
            .order_by(Case.reported_on.desc(), Case.id.desc())
            .limit(PER_PAGE + 1)
        ).all()
        matching = select(Case.id).where(Case.trust_id == trust_id).limit(COUNT_LIMIT + 1)
        total = db.session.scalar(select(func.count()).select_from(matching.subquery())) or 0
        next_after = None
        if len(rows) > PER_PAGE:
            rows = rows[:PER_PAGE]
            next_after = f"{rows[-1].reported_on.isoformat()}_{rows[-1].id}"
        return render_template(
            "list.html",
            rows=rows,
            total=total,
            limit=COUNT_LIMIT,
            next_after=next_after,
            now=datetime.now(UTC),
        )

    @app.get("/cases/<int:case_id>")
    def case(case_id: int) -> str:
        found = (
            db.session.execute(
                select(Case)
                .where(Case.id == case_id, Case.trust_id == trust_id)
                .options(
                    joinedload(Case.school),
                    joinedload(Case.subject),
                    selectinload(Case.breaches).joinedload(ClauseBreach.clause),
                    selectinload(Case.people),
                    selectinload(Case.chronology).joinedload(ChronologyEntry.author),
                    # What the product's case page shows besides (the evidence, its
                    # timeline, the decision, appeals, suspensions and holds), loaded as the
                    # product loads them: the few-to-a-case records joined to the case's row
                    # (tracker/cases/loads.py), so that only our layers differ.
                    selectinload(Case.evidence).joinedload(Evidence.uploaded_by),
                    joinedload(Case.transitions).joinedload(CaseTransition.actor),
                    joinedload(Case.decisions).joinedload(Decision.decided_by),
                    joinedload(Case.appeals).joinedload(Appeal.heard_by),
                    joinedload(Case.suspensions),
                    joinedload(Case.legal_holds).joinedload(LegalHold.set_by),
                )
            )
            .unique()
            .scalar_one_or_none()
        )
        if found is None:
            abort(404)
        # The other cases about the same person, newest ten, with how many in all.
        earlier = db.session.execute(
            select(
                Case.id,
                Case.reference,
                Case.reported_on,
                Case.status,
                func.count().over().label("total"),
            )
            .where(
                Case.subject_id == found.subject_id,
                Case.id != found.id,
                Case.trust_id == trust_id,
            )
            .order_by(Case.reported_on.desc(), Case.id.desc())
            .limit(10)
        ).all()
        return render_template(
            "case.html",
            case=found,
            earlier=earlier,
            earlier_total=earlier[0].total if earlier else 0,
        )

    return app


def create_from_environment() -> Flask:
    """For gunicorn under the load test: the reference on DATABASE_URL, listing the cases
    of the (benchmark's only) trust there. `gunicorn 'bench.plain:create_from_environment()'`
    """
    from sqlalchemy import create_engine

    from config import normalise_database_url

    url = normalise_database_url(os.environ["DATABASE_URL"])
    engine = create_engine(url)
    with engine.connect() as connection:
        trust_id = connection.execute(select(func.min(Trust.id))).scalar_one()
    engine.dispose()
    return make_plain_app(url, trust_id)
