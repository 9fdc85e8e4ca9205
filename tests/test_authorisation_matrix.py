"""The authorisation matrix: every route x every actor, with the answer DESIGN.md section 2
expects, walked against the real app.

One world (tracker/auth/permissions.py's rules made concrete): a trust with schools A and
B, one person per role, and a member of staff at A who is also a DSL at A and is the
subject of every case used below, so that the "subject" actor checks that the subject
never sees a case whatever roles they hold. The matrix names every endpoint of the app;
a route added without an entry fails `test_every_route_has_an_entry`.

Answers: 200 the page, 302 a redirect (to sign in, for the anonymous actor), 403 a page
the actor's role does not allow, 404 a record outside the actor's scope, 405 a GET of a
POST-only route. Routes that take a POST are also posted to (with a valid CSRF token) by
every actor who is refused the page: the POST must be refused the same way. Actors who
may take the step are not posted to, so that the world stays as described.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from io import BytesIO

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Factory, csrf_token_from, sign_in
from tests.test_evidence import PNG
from tracker.auth import permissions
from tracker.auth.models import User
from tracker.auth.roles import Role
from tracker.auth.services import grant_role
from tracker.cases.evidence import Provenance, add_evidence
from tracker.cases.models import CaseStatus
from tracker.cases.services import policy_for
from tracker.clock import today
from tracker.concerns.services import ABOUT_COLLEAGUE, StaffReport, raise_concern
from tracker.consents.services import ConsentRequest, ask_consent
from tracker.extensions import db as _db
from tracker.insight.services import link_cases
from tracker.orgs.models import School
from tracker.policy.services import create_draft, current_version
from tracker.workflow import registry
from tracker.workflow import services as wf

# --- the actors ----------------------------------------------------------------------

ANON = "anonymous"
DSL_A = "dsl_a"
DEPUTY_A = "deputy_dsl_a"
HEAD_A = "headteacher_a"
DSL_B = "dsl_b"  # the other school's DSL: out of scope for everything at A
CEO = "ceo"
CHAIR = "chair"
DPO = "dpo"
AUDITOR = "auditor_trust"
AUDITOR_B = "auditor_b"
ADMIN = "trust_admin"
NO_ROLE = "no_role"
SUBJECT = "subject"  # DSL at A, and the subject of the cases below
STAFF_A = "staff_a"  # a member of staff at A: their own pages only
STAFF_SUBJECT = "staff_subject"  # a member of staff at A who is the subject of a case there

ACTORS = (
    ANON,
    DSL_A,
    DEPUTY_A,
    HEAD_A,
    DSL_B,
    CEO,
    CHAIR,
    DPO,
    AUDITOR,
    AUDITOR_B,
    ADMIN,
    NO_ROLE,
    SUBJECT,
    STAFF_A,
    STAFF_SUBJECT,
)
SIGNED_IN = tuple(actor for actor in ACTORS if actor != ANON)
WITH_A_ROLE = tuple(actor for actor in SIGNED_IN if actor != NO_ROLE)

# Who reads and who works on a case at school A (the subject excepted, always).
CASE_READERS = (DSL_A, DEPUTY_A, HEAD_A, CEO, DPO, AUDITOR)
CASE_WORKERS = (DSL_A, DEPUTY_A, HEAD_A, CEO)
READ_ONLY = (DPO, AUDITOR)
# Those who may not learn that the cases at A exist: no page they are shown names one.
NOT_READERS = (DSL_B, CHAIR, AUDITOR_B, ADMIN, NO_ROLE, SUBJECT, STAFF_A, STAFF_SUBJECT)
# Members of staff: their own pages (concerns raised, the policy to read, consents asked).
STAFF = (STAFF_A, STAFF_SUBJECT)
# The policy register: anyone with a role but members of staff, who read the published
# version on their own page.
POLICY_READERS = tuple(actor for actor in WITH_A_ROLE if actor not in STAFF)

OK, REDIRECT, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 302, 403, 404, 405
REFUSALS = {REDIRECT, FORBIDDEN, NOT_FOUND}


# --- the world -------------------------------------------------------------------------

NO_HARM = dict.fromkeys(wf.HARM_QUESTIONS, "no")
HARM = {**NO_HARM, "harm_child": "yes"}


@dataclass
class World:
    users: dict[str, User]
    case: int  # reported, logged by DSL A, about the subject
    awaiting_decision: int  # a low-level concern routed to headteacher A
    allegation: int  # an allegation in triage: the LADO steps apply
    evidence: int  # an item of `case`
    staff: int  # the subject's staff record (school A)
    staff_subject_case: int  # reported, logged by DSL A, about STAFF_SUBJECT
    receipt: int  # the receipt of a concern STAFF_A raised about STAFF_SUBJECT
    link: int  # `case` linked to `awaiting_decision`
    policy: int
    version: int  # the published version
    clause: int  # a clause of the published version
    draft: int  # a draft version
    draft_clause: int
    consent: int  # a request for consent STAFF_A asked at A, waiting for HEAD_A
    references: tuple[str, ...]  # the cases' references: never on a page for NOT_READERS


def build_world(make: Factory) -> World:
    trust = make.trust(name="Matrix Trust")
    school_a = make.school(trust, name="School A")
    school_b = make.school(trust, name="School B")
    make.policy(trust)
    users = {
        DSL_A: make.user(Role.DSL, school_a),
        DEPUTY_A: make.user(Role.DEPUTY_DSL, school_a),
        HEAD_A: make.user(Role.HEADTEACHER, school_a),
        DSL_B: make.user(Role.DSL, school_b),
        CEO: make.user(Role.CEO, trust=trust),
        CHAIR: make.user(Role.CHAIR, trust=trust),
        DPO: make.user(Role.DPO, trust=trust),
        AUDITOR: make.user(Role.AUDITOR, trust=trust),
        AUDITOR_B: make.user(trust=trust),
        ADMIN: make.user(Role.TRUST_ADMIN, trust=trust),
        NO_ROLE: make.user(trust=trust),
        SUBJECT: make.user(Role.DSL, school_a),
        STAFF_A: make.user(Role.STAFF, school_a),
        STAFF_SUBJECT: make.user(Role.STAFF, school_a),
    }
    grant_role(users[AUDITOR_B], Role.AUDITOR, school=school_b)
    _db.session.commit()
    subject = make.staff(school_a, name="Sam Subject", user=users[SUBJECT])
    make.staff(school_a, name="Stacey Staff", user=users[STAFF_A])
    staff_subject = make.staff(school_a, name="Simon Staffsubject", user=users[STAFF_SUBJECT])
    dsl = users[DSL_A]
    staff_subject_case = make.case(school_a, subject=staff_subject, by=dsl)

    case = make.case(school_a, subject=subject, by=dsl)
    evidence = add_evidence(
        case,
        content=BytesIO(PNG),
        filename="screenshot.png",
        provenance=Provenance(description="The post"),
        by=dsl,
    )

    waiting = make.case(school_a, subject=subject, by=dsl)
    wf.triage(waiting, track="low_level", answers=NO_HARM, rationale="No harm", by=dsl)
    wf.start_investigation(waiting, investigator=users[DEPUTY_A], by=dsl)
    decider = wf.submit_for_decision(waiting, summary="Found as reported", by=users[DEPUTY_A])
    assert decider.id == users[HEAD_A].id

    allegation = make.case(school_a, subject=subject, by=dsl)
    wf.triage(allegation, track="allegation", answers=HARM, rationale="Contact", by=dsl)
    # The third concern about the subject: the pattern rule holds, a review is due.
    assert allegation.pattern_unreviewed
    link = link_cases(case, reference=waiting.reference, kind="same_person", by=dsl)

    receipt = raise_concern(
        StaffReport(
            about=ABOUT_COLLEAGUE,
            colleague_id=staff_subject.id,
            what_happened="Shared a post about a pupil",
            occurred_on=date(2026, 3, 2),
            where_seen="On a parents' group",
            platform="facebook",
            platform_detail="",
        ),
        by=users[STAFF_A],
        today=date(2026, 3, 4),
    )

    consent = ask_consent(
        ConsentRequest(
            event="Sports day",
            event_on=today(),
            content="Photographs of the races",
            platform="facebook",
            platform_detail="",
            audience="Parents",
        ),
        by=users[STAFF_A],
        today=today(),
    )

    policy = policy_for(trust.id)
    version = current_version(policy)
    draft = create_draft(policy, version_label="2", by=users[ADMIN])
    _db.session.commit()
    assert case.status == CaseStatus.REPORTED
    assert waiting.status == CaseStatus.AWAITING_DECISION
    assert allegation.status == CaseStatus.TRIAGE and allegation.is_allegation
    return World(
        users=users,
        case=case.id,
        awaiting_decision=waiting.id,
        allegation=allegation.id,
        evidence=evidence.id,
        staff=subject.id,
        staff_subject_case=staff_subject_case.id,
        receipt=receipt.id,
        link=link.id,
        policy=policy.id,
        version=version.id,
        clause=version.clause("3.4").id,
        draft=draft.id,
        draft_clause=draft.clauses[0].id,
        consent=consent.id,
        references=(
            case.reference,
            waiting.reference,
            allegation.reference,
            staff_subject_case.reference,
        ),
    )


# --- the matrix ------------------------------------------------------------------------

Expected = dict[str, int]


def answers(default: int, *, anon: int = REDIRECT, **by_status: Iterable[str]) -> Expected:
    """Every actor's answer: `default`, the anonymous one, then lists per status, as in
    answers(403, ok=[...], not_found=[...])."""
    status_of = {"ok": OK, "redirect": REDIRECT, "forbidden": FORBIDDEN, "not_found": NOT_FOUND}
    expected = dict.fromkeys(ACTORS, default)
    expected[ANON] = anon
    for name, actors in by_status.items():
        for actor in actors:
            expected[actor] = status_of[name]
    return expected


def page(*allowed: str) -> Expected:
    """A page for some roles: 200 for them, 403 for every other signed-in actor."""
    return answers(FORBIDDEN, ok=allowed)


def case_record(ok: Iterable[str], forbidden: Iterable[str] = ()) -> Expected:
    """A page about a case at A: 404 for everyone who cannot read it (the other school,
    the chair, the trust administrator, the subject), 403 for readers who may not take
    it, 200 for those who may."""
    return answers(NOT_FOUND, ok=ok, forbidden=forbidden)


READ_CASE = case_record(CASE_READERS)
WORK_ON_CASE = case_record(CASE_WORKERS, forbidden=READ_ONLY)
NOBODY_NOW = case_record((), forbidden=CASE_READERS)
# Readers of a case at A who may not place holds or change retention facts.
READ_WORKERS = (DSL_A, DEPUTY_A, HEAD_A, AUDITOR)  # a step no one may take in this state
POST_ONLY = dict.fromkeys(ACTORS, NOT_ALLOWED)


@dataclass(frozen=True)
class Spec:
    url: Callable[[World], str]
    get: Expected
    # What a POST answers, by actor; None: as `get` (for routes that take a POST). Only
    # the refusals (302, 403, 404) are posted: a POST that would succeed is not made.
    post: Expected | None = None
    xfail: str | None = None  # a known authorisation bug: the matrix states the right answer


def case_url(suffix: str = "", which: str = "case") -> Callable[[World], str]:
    return lambda w: f"/cases/{getattr(w, which)}{suffix}"


MATRIX: dict[str, Spec] = {
    # --- public, and signing in and out
    "auth.sign_in": Spec(lambda w: "/sign-in", answers(REDIRECT, anon=OK), post={}),
    "auth.sign_out": Spec(lambda w: "/sign-out", POST_ONLY, post=dict.fromkeys(ACTORS, REDIRECT)),
    # The second step of signing in: without a password just accepted on this browser
    # there is nothing to show (back to sign in); signed in, there is nothing to do (home).
    "auth.second_factor": Spec(lambda w: "/sign-in/code", answers(REDIRECT), post={}),
    "auth.recovery_code": Spec(lambda w: "/sign-in/recovery-code", answers(REDIRECT), post={}),
    "auth.set_up_second_factor": Spec(
        lambda w: "/sign-in/set-up-authenticator", answers(REDIRECT), post={}
    ),
    # Through the trust's identity provider: the matrix's trust has none set up (404), and
    # a callback with no sign-in under way in the browser is refused (400).
    "auth.sign_in_with_provider": Spec(
        lambda w: f"/sign-in/with/{w.users[ADMIN].trust_id}", answers(REDIRECT, anon=NOT_FOUND)
    ),
    "auth.provider_callback": Spec(lambda w: "/sign-in/callback", answers(REDIRECT, anon=400)),
    "privacy.notice": Spec(lambda w: "/privacy", answers(OK, anon=OK)),
    # The load balancer's checks: anyone, signed in or not.
    "health.liveness": Spec(lambda w: "/healthz", answers(OK, anon=OK)),
    "health.readiness": Spec(lambda w: "/readyz", answers(OK, anon=OK)),
    # --- your own account: everyone signed in, roles or not
    "auth.account": Spec(lambda w: "/account", answers(OK)),
    "auth.change_my_password": Spec(lambda w: "/account/password", answers(OK)),
    "auth.change_my_authenticator": Spec(lambda w: "/account/authenticator", answers(OK)),
    # A session that is not yours is not found (this id is nobody's).
    "auth.end_my_session": Spec(
        lambda w: "/account/sessions/999999/end", POST_ONLY, post=answers(NOT_FOUND)
    ),
    "auth.end_my_other_sessions": Spec(
        lambda w: "/account/sessions/end-others", POST_ONLY, post=answers(REDIRECT)
    ),
    # --- accounts, for the trust administrator (about the school B auditor, whose turn
    # in the walk has passed when the administrator's POST ends their sessions)
    "auth.admin_users": Spec(lambda w: "/admin/users", page(ADMIN)),
    "auth.admin_user": Spec(lambda w: f"/admin/users/{w.users[AUDITOR_B].id}", page(ADMIN)),
    "auth.admin_reset_second_factor": Spec(
        lambda w: f"/admin/users/{w.users[AUDITOR_B].id}/reset-second-factor",
        POST_ONLY,
        post=answers(FORBIDDEN, redirect=[ADMIN]),
    ),
    "auth.admin_end_sessions": Spec(
        lambda w: f"/admin/users/{w.users[AUDITOR_B].id}/end-sessions",
        POST_ONLY,
        post=answers(FORBIDDEN, redirect=[ADMIN]),
    ),
    "home.index": Spec(lambda w: "/", answers(OK)),
    # --- cases: list and report
    "cases.index": Spec(lambda w: "/cases/", page(*CASE_READERS, DSL_B, AUDITOR_B, SUBJECT)),
    # The whole filtered list as CSV: whoever reads the list, of the cases it shows them.
    "cases.export_csv": Spec(
        lambda w: "/cases/export.csv", page(*CASE_READERS, DSL_B, AUDITOR_B, SUBJECT)
    ),
    "cases.new": Spec(lambda w: "/cases/new", page(*CASE_WORKERS, DSL_B, SUBJECT)),
    # --- a case: reading
    "cases.show": Spec(case_url(), READ_CASE),
    "cases.history": Spec(case_url("/history"), READ_CASE),
    "cases.download_evidence": Spec(lambda w: f"/cases/{w.case}/evidence/{w.evidence}", READ_CASE),
    # --- a case: its content and its workflow are the action registry's steps (below)
    # --- a member of staff's own pages: raise a concern, its draft, its receipt (STAFF_A's)
    "concerns.new": Spec(lambda w: "/concerns/new", page(*STAFF)),
    "concerns.discard": Spec(lambda w: "/concerns/draft/discard", POST_ONLY, post=page(*STAFF)),
    "concerns.index": Spec(lambda w: "/concerns/", page(*STAFF)),
    "concerns.receipt": Spec(
        lambda w: f"/concerns/{w.receipt}",
        answers(FORBIDDEN, ok=[STAFF_A], not_found=[STAFF_SUBJECT]),
    ),
    # --- the audit trail
    "audit.search": Spec(lambda w: "/audit/", page(DPO, AUDITOR, AUDITOR_B)),
    "audit.export_csv": Spec(lambda w: "/audit/export.csv", page(DPO, AUDITOR, AUDITOR_B)),
    "audit.export_json": Spec(lambda w: "/audit/export.json", page(DPO, AUDITOR, AUDITOR_B)),
    # --- the governance report: headteachers (their school), the CEO, the chair, the DPO,
    # auditors (their reach); never safeguarding leads, administrators or members of staff
    "reports.index": Spec(lambda w: "/reports/", page(HEAD_A, CEO, CHAIR, DPO, AUDITOR, AUDITOR_B)),
    "reports.export_csv": Spec(
        lambda w: "/reports/report.csv", page(HEAD_A, CEO, CHAIR, DPO, AUDITOR, AUDITOR_B)
    ),
    "reports.export_pdf": Spec(
        lambda w: "/reports/report.pdf", page(HEAD_A, CEO, CHAIR, DPO, AUDITOR, AUDITOR_B)
    ),
    # The page needs an audit role (403 without); then the case must be in scope (404).
    "audit.case_history_page": Spec(
        lambda w: f"/audit/cases/{w.case}",
        answers(FORBIDDEN, ok=[DPO, AUDITOR], not_found=[AUDITOR_B]),
    ),
    # --- retention: the DPO's list; holds and facts by the DPO or the CEO on a case at A
    "retention.index": Spec(lambda w: "/retention/", page(DPO)),
    "retention.place_hold": Spec(
        lambda w: f"/retention/cases/{w.case}/legal-hold", case_record([DPO, CEO], READ_WORKERS)
    ),
    "retention.lift_hold": Spec(
        lambda w: f"/retention/cases/{w.case}/legal-hold/lift",
        case_record([DPO, CEO], READ_WORKERS),
    ),
    "retention.facts": Spec(
        lambda w: f"/retention/cases/{w.case}/facts", case_record([DPO, CEO], READ_WORKERS)
    ),
    # --- the staff register (the subject's own record, at A)
    "staff.index": Spec(lambda w: "/staff/", page(DSL_A, DEPUTY_A, HEAD_A, DSL_B, ADMIN, SUBJECT)),
    "staff.new": Spec(lambda w: "/staff/new", page(DSL_A, DEPUTY_A, HEAD_A, DSL_B, ADMIN, SUBJECT)),
    # Importing: the upload page (a POST with no file shows the form again), its template,
    # and the confirmation, which without a valid preview goes back to the upload page.
    "staff.import_register": Spec(
        lambda w: "/staff/import", page(DSL_A, DEPUTY_A, HEAD_A, DSL_B, ADMIN, SUBJECT)
    ),
    "staff.import_template": Spec(
        lambda w: "/staff/import/template.csv",
        page(DSL_A, DEPUTY_A, HEAD_A, DSL_B, ADMIN, SUBJECT),
    ),
    "staff.confirm_import": Spec(
        lambda w: "/staff/import/confirm",
        POST_ONLY,
        post=answers(FORBIDDEN, redirect=[DSL_A, DEPUTY_A, HEAD_A, DSL_B, ADMIN, SUBJECT]),
    ),
    "staff.give_accounts_page": Spec(lambda w: "/staff/accounts", page(ADMIN)),
    "staff.show": Spec(
        lambda w: f"/staff/{w.staff}",
        answers(FORBIDDEN, ok=[DSL_A, DEPUTY_A, HEAD_A, ADMIN, SUBJECT], not_found=[DSL_B]),
    ),
    "staff.edit": Spec(
        lambda w: f"/staff/{w.staff}/edit",
        answers(FORBIDDEN, ok=[DSL_A, DEPUTY_A, HEAD_A, ADMIN, SUBJECT], not_found=[DSL_B]),
    ),
    # --- the policy register: read by anyone with a role; drafts only by its managers
    "policy.register": Spec(lambda w: "/policies/", page(*POLICY_READERS)),
    "policy.history": Spec(lambda w: f"/policies/{w.policy}", page(*POLICY_READERS)),
    "policy.version": Spec(lambda w: f"/policies/versions/{w.version}", page(*POLICY_READERS)),
    "policy.clause": Spec(lambda w: f"/policies/clauses/{w.clause}", page(*POLICY_READERS)),
    # Comparing with the draft: the draft is not found by those who may not see drafts.
    "policy.compare": Spec(
        lambda w: f"/policies/{w.policy}/compare?older={w.version}&newer={w.draft}",
        answers(NOT_FOUND, ok=[ADMIN, CEO], forbidden=[NO_ROLE, *STAFF]),
    ),
    "policy.new_draft": Spec(
        lambda w: f"/policies/{w.policy}/drafts",
        POST_ONLY,
        post=page(ADMIN, CEO),
    ),
    "policy.edit_details": Spec(
        lambda w: f"/policies/versions/{w.draft}/details", page(ADMIN, CEO)
    ),
    "policy.new_clause": Spec(
        lambda w: f"/policies/versions/{w.draft}/clauses/new", page(ADMIN, CEO)
    ),
    "policy.publish": Spec(lambda w: f"/policies/versions/{w.draft}/publish", page(ADMIN, CEO)),
    "policy.edit_clause": Spec(
        lambda w: f"/policies/clauses/{w.draft_clause}/edit", page(ADMIN, CEO)
    ),
    "policy.remove_clause_page": Spec(
        lambda w: f"/policies/clauses/{w.draft_clause}/remove", page(ADMIN, CEO)
    ),
    "policy.acknowledgements": Spec(
        lambda w: f"/policies/versions/{w.version}/acknowledgements",
        page(DSL_A, DEPUTY_A, HEAD_A, DSL_B, CEO, ADMIN, SUBJECT),
    ),
    "policy.import_acknowledgements_page": Spec(
        lambda w: f"/policies/versions/{w.version}/acknowledgements/import",
        POST_ONLY,
        post=page(DSL_A, DEPUTY_A, HEAD_A, DSL_B, CEO, ADMIN, SUBJECT),
    ),
    # A member of staff reads the published version in full and acknowledges it: their
    # own pages, refused to every other role (the subject, a DSL on the register without
    # the staff role, included).
    "policy.to_read": Spec(lambda w: "/policies/read", page(*STAFF)),
    "policy.read": Spec(lambda w: f"/policies/read/{w.version}", page(*STAFF)),
}


# --- the steps of the action registry ---------------------------------------------------

# What each "who may take it" predicate of the registry answers in the world above, on the
# case it is asked about: the matrix's own statement of DESIGN.md section 2, not read from
# the predicates. A step whose predicate is not here fails `test_every_step_is_in_the_matrix`.
EXPECTED_BY_WHO: dict[Callable[..., bool], tuple[str, Expected]] = {
    # The school's case workers (a step not yet due still shows its page, with the reason).
    permissions.is_case_worker: ("case", WORK_ON_CASE),
    permissions.is_worker_or_decision_maker: ("case", WORK_ON_CASE),
    # Only the person the decision was routed to (headteacher A) decides or returns it.
    permissions.is_decision_maker: (
        "awaiting_decision",
        case_record([HEAD_A], forbidden=[DSL_A, DEPUTY_A, CEO, *READ_ONLY]),
    ),
    # Nobody hears an appeal on a case that has none.
    permissions.is_appeal_hearer: ("case", NOBODY_NOW),
}
# A step within stages is asked about on a case at those stages (the LADO's: an allegation).
CASE_FOR_STAGES = {
    frozenset({CaseStatus.TRIAGE}): "allegation",
    # The pattern review: the allegation is the third concern about the subject.
    frozenset(
        {
            CaseStatus.TRIAGE,
            CaseStatus.INVESTIGATION,
            CaseStatus.AWAITING_DECISION,
            CaseStatus.DECIDED,
        }
    ): "allegation",
}


def _step_spec(step: registry.Step) -> Spec:
    which, expected = EXPECTED_BY_WHO[step.who]
    if not step.moves_case:
        which = CASE_FOR_STAGES.get(step.sources, which)
    path = step.page.path.replace("<int:evidence_id>", "{evidence}").replace(
        "<int:link_id>", "{link}"
    )
    return Spec(
        lambda w: f"/cases/{getattr(w, which)}" + path.format(evidence=w.evidence, link=w.link),
        expected,
    )


MATRIX.update({step.endpoint: _step_spec(step) for step in registry.STEPS.values()})


def test_every_step_is_in_the_matrix():
    """Each step says who may take it and what else it waits for, and the matrix knows
    what its "who" answers: a step added without them fails here."""
    for step in registry.STEPS.values():
        assert step.who in EXPECTED_BY_WHO, f"{step.action}: no expected answers for {step.who}"
        assert step.who.__module__ == "tracker.auth.permissions", step.action
        assert callable(step.guard) and step.guard.__module__ == registry.__name__, step.action
        assert step.endpoint in MATRIX


# --- subject access requests and hearing packs -------------------------------------------


def _subject_access_request(world: World) -> int:
    """A request by the subject, recorded by the DPO (made the first time an entry's URL
    is, so that every page of the world names the same request)."""
    from tracker.clock import today
    from tracker.privacy.models import SubjectAccessRequest
    from tracker.privacy.services import record_request
    from tracker.staff.models import StaffMember

    existing = _db.session.scalar(
        _db.select(SubjectAccessRequest.id)
        .where(SubjectAccessRequest.staff_member_id == world.staff)
        .order_by(SubjectAccessRequest.id)
        .limit(1)
    )
    if existing is not None:
        return existing
    found = record_request(
        _db.session.get(StaffMember, world.staff),
        received_on=today(),
        by=world.users[DPO],
        today=today(),
    )
    _db.session.commit()
    return found.id


def _sar_url(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/privacy/requests/{_subject_access_request(w)}{suffix}"


# Those who work on or decide a case at A and the DPO; an auditor reads but may not.
HEARING_PACK = case_record((*CASE_WORKERS, DPO), forbidden=[AUDITOR])

MATRIX.update(
    {
        # Only the trust's DPO; the role is checked before the request is looked up.
        "privacy.requests": Spec(lambda w: "/privacy/requests", page(DPO)),
        "privacy.new_request": Spec(lambda w: "/privacy/requests/new", page(DPO)),
        "privacy.show_request": Spec(_sar_url(), page(DPO)),
        "privacy.extend_request": Spec(_sar_url("/extend"), page(DPO)),
        "privacy.add_redaction": Spec(_sar_url("/redactions"), POST_ONLY, post=page(DPO)),
        "privacy.export_request": Spec(_sar_url("/export"), POST_ONLY, post=page(DPO)),
        "privacy.release": Spec(_sar_url("/release"), POST_ONLY, post=page(DPO)),
        "privacy.close": Spec(_sar_url("/close"), page(DPO)),
        "privacy.hearing_pack": Spec(case_url("/hearing-pack"), HEARING_PACK),
        "privacy.hearing_pack_pdf": Spec(case_url("/hearing-pack.pdf"), HEARING_PACK),
    }
)


# --- the consent register (clause 3.5): STAFF_A's request at A, waiting for HEAD_A ----------

# Who reads the register at A (the subject is a DSL there); at B, the DSL reads B's only.
CONSENT_READERS_A = (DSL_A, DEPUTY_A, HEAD_A, CEO, SUBJECT)
# Those who can see the request but may not take the step: 403; everyone else 404.
SEES_THE_CONSENT = (STAFF_A, *CONSENT_READERS_A)


def consent_url(suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/consents/{w.consent}{suffix}"


def consent_step(*allowed: str) -> Expected:
    return answers(
        NOT_FOUND, ok=allowed, forbidden=[a for a in SEES_THE_CONSENT if a not in allowed]
    )


MATRIX.update(
    {
        "consents.new": Spec(lambda w: "/consents/new", page(*STAFF)),
        "consents.mine": Spec(lambda w: "/consents/mine", page(*STAFF)),
        "consents.index": Spec(lambda w: "/consents/", page(*CONSENT_READERS_A, DSL_B)),
        "consents.waiting": Spec(lambda w: "/consents/waiting", page(HEAD_A, CEO)),
        "consents.show": Spec(consent_url(), answers(NOT_FOUND, ok=SEES_THE_CONSENT)),
        "consents.decide": Spec(consent_url("/decide"), consent_step(HEAD_A)),
        "consents.refer": Spec(consent_url("/refer"), consent_step(HEAD_A)),
        "consents.withdraw": Spec(consent_url("/withdraw"), consent_step(STAFF_A)),
    }
)


# --- the tests -------------------------------------------------------------------------


def _signed_in_clients(app: Flask, world: World) -> dict[str, FlaskClient]:
    """One client per actor, signed in through the real sign-in form."""
    clients = {ANON: app.test_client()}
    for actor, user in world.users.items():
        client = app.test_client()
        response = sign_in(client, user.email)
        assert response.status_code == REDIRECT, f"{actor} could not sign in"
        clients[actor] = client
    return clients


def _csrf_token(client: FlaskClient, actor: str) -> str:
    """A valid CSRF token for this client's session, from a page the actor can open."""
    with client.get("/sign-in" if actor == ANON else "/") as response:
        return csrf_token_from(response.get_data(as_text=True))


def _methods(app: Flask, endpoint: str) -> set[str]:
    methods: set[str] = set()
    for rule in app.url_map.iter_rules(endpoint):
        methods |= rule.methods or set()
    return methods


def test_every_route_has_an_entry(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    missing, stale = sorted(routes - set(MATRIX)), sorted(set(MATRIX) - routes)
    assert not missing, f"routes without an entry in the authorisation matrix: {missing}"
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


def test_every_entry_names_every_actor():
    for endpoint, spec in MATRIX.items():
        assert set(spec.get) == set(ACTORS), endpoint
        assert spec.post is None or set(spec.post) <= set(ACTORS), endpoint


def _params():
    for endpoint, spec in MATRIX.items():
        marks = [pytest.mark.xfail(strict=True, reason=spec.xfail)] if spec.xfail else []
        yield pytest.param(endpoint, id=endpoint, marks=marks)


@pytest.mark.parametrize("endpoint", list(_params()))
def test_each_actor_gets_the_expected_answer(app, make, endpoint):
    spec = MATRIX[endpoint]
    world = build_world(make)
    url = spec.url(world)
    methods = _methods(app, endpoint)
    posts = spec.post if spec.post is not None else spec.get if "POST" in methods else {}
    clients = _signed_in_clients(app, world)
    mismatches = []
    for actor in ACTORS:
        client = clients[actor]
        with client.get(url) as response:
            got, body = response.status_code, response.get_data()
        if got != spec.get[actor]:
            mismatches.append(f"GET  {actor}: expected {spec.get[actor]}, got {got}")
        if actor in NOT_READERS:
            # The subject is a DSL at A: the case about the member of staff is theirs to see.
            hidden = world.references[:3] if actor == SUBJECT else world.references
            leaked = [ref for ref in hidden if ref.encode() in body]
            if leaked:
                mismatches.append(f"GET  {actor}: the page names cases {leaked}")
        expected_post = posts.get(actor)
        if expected_post in REFUSALS:
            token = _csrf_token(client, actor)
            with client.post(url, data={"csrf_token": token}) as response:
                got = response.status_code
            if got != expected_post:
                mismatches.append(f"POST {actor}: expected {expected_post}, got {got}")
    assert not mismatches, f"{endpoint} ({url}):\n" + "\n".join(mismatches)


def test_the_pattern_notice_names_nothing_out_of_scope(app, make):
    """Two concerns at school B about someone who then moved to A, and a third at A: the
    pattern rule holds over all three, and A's readers see the notice on the case and its
    triage page, never a word of B's records; B's lead sees B's two and not A's."""
    world = build_world(make)
    dsl_a, dsl_b = world.users[DSL_A], world.users[DSL_B]
    school_a = _db.session.get(School, dsl_a.grants[0].school_id)
    school_b = _db.session.get(School, dsl_b.grants[0].school_id)
    mover = make.staff(school_b, name="Morgan Mover")
    at_b = [make.case(school_b, subject=mover, by=dsl_b, clauses=(c,)) for c in ("3.4", "3.5")]
    mover.school_id = school_a.id
    _db.session.commit()
    at_a = make.case(school_a, subject=mover, by=dsl_a, clauses=("3.2(c)",))
    assert at_a.pattern_unreviewed
    hidden = [case.reference for case in at_b] + ["School B"]
    clients = _signed_in_clients(app, world)
    for actor in (DSL_A, DEPUTY_A, HEAD_A):
        for url in (f"/cases/{at_a.id}", f"/cases/{at_a.id}/triage"):
            body = clients[actor].get(url).get_data(as_text=True)
            assert "A pattern of concerns may exist: review needed" in body, (actor, url)
            leaked = [words for words in hidden if words in body]
            assert not leaked, (actor, url, leaked)
    for url in (f"/cases/{at_a.id}", "/cases/", "/"):
        assert at_a.reference.encode() not in clients[DSL_B].get(url).get_data()
