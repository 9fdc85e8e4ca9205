"""Hostile input: random and malicious values sent to every form in the app.

Every route that takes a POST is read from the app's URL map. The authorisation matrix's
world and URLs (tests/test_authorisation_matrix.py) give it a page and an actor who may
open it; that actor signs in, the page's forms are read with the standard library's HTML
parser, and hypothesis posts hostile values for their fields with the page's CSRF token:
very long strings, control characters, markup and script, SQL fragments, right-to-left
overrides, emoji and combining marks, text where a date, a number or a choice belongs,
values not among the choices, repeated and missing fields, and hostile file names and
bytes. No answer may be a server error, and no page may carry the markup back unescaped.
The same post without its token, or with a wrong one, gets the app's own 400 page.

The GET forms (the case list's filters, the staff register's search, the audit trail's
filters, the governance report's period and school) get the same values in their query
strings. The last test writes a script into
every free-text field through the forms and reads every page that shows them.

A route added later is fuzzed without a word here. If nobody in the matrix's world can
open its form, `test_hostile_posts` says so: add an Arrangement that shows it. If its
form keeps words, the last test says so until it fills that form in too (or NOT_WRITTEN
says why not). Hypothesis runs a fixed number of examples, the same ones on every run,
and keeps nothing in the checkout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from html.parser import HTMLParser
from io import BytesIO
from os.path import commonprefix
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from config import TestConfig
from tests.conftest import DEFAULT_PASSWORD, csrf_token_from, post_form, sign_in
from tests.test_authorisation_matrix import (
    ACTORS,
    ADMIN,
    AUDITOR,
    AUDITOR_B,
    CEO,
    DEPUTY_A,
    DPO,
    DSL_A,
    HEAD_A,
    MATRIX,
    NOT_ALLOWED,
    OK,
    REFUSALS,
    STAFF_A,
    World,
    build_world,
)
from tests.test_evidence import GIF, PDF, PNG
from tracker import create_app
from tracker.auth import mfa
from tracker.auth.gate import SESSION_TOKEN_KEY
from tracker.auth.models import User, UserSession
from tracker.auth.roles import Role
from tracker.auth.sessions import hash_token, start_session
from tracker.cases.evidence import Provenance, add_evidence
from tracker.cases.models import Case
from tracker.clock import today
from tracker.concerns.models import StaffConcern
from tracker.concerns.services import save_draft
from tracker.consents.models import PictureConsent
from tracker.consents.services import ConsentRequest, ask_consent
from tracker.errors import ERROR_PAGES
from tracker.extensions import db as _db
from tracker.orgs.models import School
from tracker.policy.models import Clause, PolicyVersion
from tracker.policy.services import (
    ClauseInput,
    add_clause,
    publish_version,
    update_version_details,
)
from tracker.privacy.models import SubjectAccessRequest
from tracker.staff.imports import COLUMNS as IMPORT_COLUMNS
from tracker.staff.models import StaffMember
from tracker.staff.services import add_staff_member
from tracker.workflow import services as wf

# --- the routes and who takes them --------------------------------------------------------


def _routes_taking(method: str) -> list[str]:
    """Every endpoint with a rule that accepts `method`, from an app that is never run."""
    app = create_app(TestConfig("sqlite://"))
    return sorted(
        {rule.endpoint for rule in app.url_map.iter_rules() if method in (rule.methods or ())}
    )


POST_ROUTES = _routes_taking("POST")

# Routes the matrix names nobody for, with who takes them here and why.
ACTOR_FOR: dict[str, tuple[str, str]] = {
    "auth.sign_out": (DSL_A, "everyone's sign-out answers a redirect to sign in"),
    "staff.confirm_import": (ADMIN, "the confirmation is on the preview an upload answers"),
    "auth.admin_reset_second_factor": (ADMIN, "the button is on the account's page"),
}


@dataclass(frozen=True)
class Arrangement:
    """A route whose form nobody in the matrix's world can open: put the world in a state
    where someone can; `arrange` returns the route's URL and who that is."""

    why: str
    arrange: Callable[[World], tuple[str, str]]


def _case_under_appeal(world: World) -> tuple[str, str]:
    case = _db.session.get(Case, world.awaiting_decision)
    wf.decide(
        case,
        wf.DecisionInput(
            outcome="advice_and_guidance",
            sanction="management_advice",
            rationale="As found",
            may_mention_in_references=False,
        ),
        by=world.users[HEAD_A],
        today=today(),
    )
    appeal = wf.lodge_appeal(
        case, lodged_on=today(), grounds="Too harsh", by=world.users[DSL_A], today=today()
    )
    _db.session.commit()
    hearer = next(actor for actor, user in world.users.items() if user.id == appeal.heard_by_id)
    return f"/cases/{case.id}/appeal/decide", hearer


def _policy_without_a_draft(world: World) -> tuple[str, str]:
    draft = _db.session.get(PolicyVersion, world.draft)
    admin = world.users[ADMIN]
    update_version_details(
        draft,
        title=draft.title,
        version_label=draft.version_label,
        approved_on=today(),
        review_due=today() + timedelta(days=365),
        full_text=draft.full_text,
        by=admin,
    )
    publish_version(draft, effective_from=today(), by=admin)
    _db.session.commit()
    return f"/policies/{world.policy}/drafts", ADMIN


# The steps of signing in after the password: taken by someone whose password has just
# been accepted on this browser and who has no session yet (a "pending" visitor).
PENDING = "pending:"


def _pending_code_step(world: World) -> tuple[str, str]:
    return "/sign-in/code", PENDING + DSL_A


def _pending_recovery_step(world: World) -> tuple[str, str]:
    return "/sign-in/recovery-code", PENDING + DSL_A


def _pending_set_up_step(world: World) -> tuple[str, str]:
    mfa.reset_second_factor(world.users[DEPUTY_A], by=None)
    _db.session.commit()
    return "/sign-in/set-up-authenticator", PENDING + DEPUTY_A


def _another_session_of(user: User) -> int:
    session_id = start_session(user, ip_address="192.0.2.1", user_agent="Hostile/1.0")
    _db.session.commit()
    return _db.session.scalar(
        select(UserSession.id).where(UserSession.token_hash == hash_token(session_id))
    )


def _my_other_session(world: World) -> tuple[str, str]:
    return f"/account/sessions/{_another_session_of(world.users[DSL_A])}/end", DSL_A


def _my_other_sessions(world: World) -> tuple[str, str]:
    _another_session_of(world.users[DSL_A])
    return "/account/sessions/end-others", DSL_A


def _someone_signed_in(world: World) -> tuple[str, str]:
    target = world.users[AUDITOR_B]
    _another_session_of(target)
    return f"/admin/users/{target.id}/end-sessions", ADMIN


def _request_exported(world: World) -> tuple[str, str]:
    from tests.test_authorisation_matrix import _subject_access_request
    from tracker.privacy.services import produce_export

    sar = _db.session.get(SubjectAccessRequest, _subject_access_request(world))
    produce_export(sar, by=world.users[DPO])
    _db.session.commit()
    return f"/privacy/requests/{sar.id}/release", DPO


def _someone_without_an_account(world: World) -> tuple[str, str]:
    member = _db.session.get(StaffMember, world.staff)
    other = add_staff_member(
        member.school, full_name="Robin Register", job_title="Cook", employee_number="RR1"
    )
    other.work_email = "robin.register@school.example"
    _db.session.commit()
    return "/staff/accounts", ADMIN


def _a_draft_concern(world: World) -> tuple[str, str]:
    save_draft({"what_happened": ["Half written"]}, by=world.users[STAFF_A])
    _db.session.commit()
    return "/concerns/draft/discard", STAFF_A


ARRANGEMENTS: dict[str, Arrangement] = {
    "concerns.discard": Arrangement(
        "the button to delete a draft shows only when there is one", _a_draft_concern
    ),
    "privacy.release": Arrangement(
        "the release button shows once an export has been produced", _request_exported
    ),
    "auth.second_factor": Arrangement(
        "only a browser whose password was just accepted sees the code form",
        _pending_code_step,
    ),
    "auth.recovery_code": Arrangement(
        "only a browser whose password was just accepted sees the recovery code form",
        _pending_recovery_step,
    ),
    "auth.set_up_second_factor": Arrangement(
        "only someone with no authenticator app, just past the password, sees the set-up form",
        _pending_set_up_step,
    ),
    "auth.end_my_session": Arrangement(
        "the matrix's session id is nobody's; the form is for one of your other sessions",
        _my_other_session,
    ),
    "auth.end_my_other_sessions": Arrangement(
        "the button shows only when you have another session", _my_other_sessions
    ),
    "auth.admin_end_sessions": Arrangement(
        "the button shows only when the account has a session open", _someone_signed_in
    ),
    "workflow.decide_appeal": Arrangement(
        "the world has no case under appeal, so nobody may open the page", _case_under_appeal
    ),
    "staff.give_accounts_page": Arrangement(
        "the form lists people on the register with a work e-mail and no account",
        _someone_without_an_account,
    ),
    "policy.new_draft": Arrangement(
        "the world's policy has a draft already, so its history page offers no draft form",
        _policy_without_a_draft,
    ),
}


@dataclass(frozen=True)
class Renewal:
    """A route whose record is gone once a post succeeds: make another to post to next."""

    why: str
    renew: Callable[[World], str]  # the URL of the form for the new record


def _another_evidence_item(world: World) -> str:
    evidence = add_evidence(
        _db.session.get(Case, world.case),
        content=BytesIO(PNG),
        filename="another.png",
        provenance=Provenance(description="Another post"),
        by=world.users[DSL_A],
    )
    _db.session.commit()
    return f"/cases/{world.case}/evidence/{evidence.id}/remove"


def _another_clause(world: World) -> str:
    draft = _db.session.get(PolicyVersion, world.draft)
    spare = max((int(c.reference.split(".")[0]) for c in draft.clauses), default=0) + 1
    clause = add_clause(
        draft,
        ClauseInput(reference=str(spare), heading="Spare", text="", kind="info", significance=None),
        by=world.users[ADMIN],
    )
    _db.session.commit()
    return f"/policies/clauses/{clause.id}/remove"


def _another_request(world: World) -> str:
    from tracker.privacy.services import record_request
    from tracker.staff.models import StaffMember

    found = record_request(
        _db.session.get(StaffMember, world.staff),
        received_on=today(),
        by=world.users[DPO],
        today=today(),
    )
    _db.session.commit()
    return f"/privacy/requests/{found.id}/close"


def _another_consent(world: World) -> int:
    """A new request by the member of staff at A, waiting for headteacher A."""
    consent = ask_consent(
        ConsentRequest(
            event="Harvest festival",
            event_on=today(),
            content="Photographs of the display",
            platform="instagram",
            platform_detail="",
            audience="The school's followers",
        ),
        by=world.users[STAFF_A],
        today=today(),
    )
    _db.session.commit()
    return consent.id


RENEWALS: dict[str, Renewal] = {
    "consents.decide": Renewal(
        "a decided request is decided no more: ask another",
        lambda world: f"/consents/{_another_consent(world)}/decide",
    ),
    "consents.refer": Renewal(
        "a request passed to the CEO is not the headteacher's to pass on: ask another",
        lambda world: f"/consents/{_another_consent(world)}/refer",
    ),
    "consents.withdraw": Renewal(
        "a withdrawn request is withdrawn no more: ask another",
        lambda world: f"/consents/{_another_consent(world)}/withdraw",
    ),
    "auth.end_my_session": Renewal(
        "an ended session's button is gone", lambda world: _my_other_session(world)[0]
    ),
    "workflow.remove_evidence": Renewal(
        "a removed item's page sends you back to the case", _another_evidence_item
    ),
    "policy.remove_clause_page": Renewal("a removed clause's page is gone", _another_clause),
    "privacy.close": Renewal(
        "a closed request cannot be closed again: record another to close", _another_request
    ),
}


def _actor_for(endpoint: str) -> str:
    """Someone who may open the route's page, and if possible may also take its step."""
    if endpoint in ACTOR_FOR:
        return ACTOR_FOR[endpoint][0]
    spec = MATRIX[endpoint]
    posts = spec.post if spec.post is not None else spec.get
    openers = [actor for actor in ACTORS if spec.get[actor] == OK]
    takers = [actor for actor in ACTORS if posts.get(actor) not in {*REFUSALS, NOT_ALLOWED}]
    for candidates in ([a for a in openers if a in takers], openers, takers):
        if candidates:
            return candidates[0]
    raise AssertionError(
        f"nobody in the matrix's world may open {endpoint}: add it to ARRANGEMENTS or ACTOR_FOR"
    )


def _where(endpoint: str, world: World) -> tuple[str, str]:
    if endpoint in ARRANGEMENTS:
        return ARRANGEMENTS[endpoint].arrange(world)
    return MATRIX[endpoint].url(world), _actor_for(endpoint)


# --- reading forms -----------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # an input's type, or "select" or "textarea"
    values: list[str] = field(default_factory=list)  # the options, or the values given
    count: int = 1  # inputs sharing the name: a date's three boxes, a set of radios


@dataclass
class Form:
    method: str
    action: str  # a path on this site, with any query string
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return urlsplit(self.action).path

    @property
    def csrf_token(self) -> str | None:
        token = self.fields.get("csrf_token")
        return token.values[0] if token and token.values else None

    @property
    def inputs(self) -> list[Field]:
        """Everything a person fills in or presses (the CSRF token is not theirs)."""
        return [f for name, f in self.fields.items() if name != "csrf_token"]


class FormReader(HTMLParser):
    """The forms on a page: each one's method, action, encoding and named fields."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = {name: value or "" for name, value in attrs}
        if tag == "form":
            action = urlsplit(urljoin(self.page_url, given.get("action") or self.page_url))
            self._form = Form(
                method=(given.get("method") or "get").lower(),
                action=action.path + (f"?{action.query}" if action.query else ""),
                multipart=given.get("enctype", "").lower() == "multipart/form-data",
            )
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in {"input", "button"}:
            kind = given.get("type", "submit" if tag == "button" else "text").lower()
            self._add(given.get("name"), kind, given.get("value") if "value" in given else None)
        elif tag == "select":
            self._select = self._add(given.get("name"), "select", None)
        elif tag == "option" and self._select is not None:
            self._select.values.append(given.get("value", ""))
        elif tag == "textarea":
            self._add(given.get("name"), "textarea", None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None

    def _add(self, name: str | None, kind: str, value: str | None) -> Field | None:
        if not name or self._form is None:
            return None
        found = self._form.fields.get(name)
        if found is None:
            found = self._form.fields[name] = Field(name, kind)
        else:
            found.count += 1
        if value is not None:
            found.values.append(value)
        return found


def forms_on(page_url: str, html: str) -> list[Form]:
    reader = FormReader(page_url)
    reader.feed(html)
    reader.close()
    return reader.forms


# --- what no response may be -------------------------------------------------------------

MARKUP = (
    "<script>alert('hx')</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    '" autofocus onfocus="alert(1)',
    "' onmouseover='alert(1)",
    "</textarea><script>alert(2)</script>",
    "</title><iframe src=javascript:alert(3)>",
    "<style>*{display:none}</style>",
    "<a href=javascript:alert(4)>x</a>",
)


class InjectionFinder(HTMLParser):
    """Markup that only an injection could put on a page: the templates write no inline
    script or style, no event handler attributes and no javascript: links (see
    tests/test_pages.py), and the Content-Security-Policy would refuse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            handler = name.startswith("on") or name == "style"
            link = name in {"href", "src", "action", "formaction"} and (
                (value or "").strip().lower().startswith("javascript")
            )
            if handler or link:
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag in {"style", "iframe", "object", "embed", "base"}:
            self.found.append(f"<{tag}>")
        if tag == "script":
            self._in_script = True
            source = dict(attrs).get("src") or ""
            if not source.startswith("/static/"):
                self.found.append(f"<script src={source!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"<script>{data[:40]!r}")


def assert_safe(response: TestResponse, what: str) -> None:
    """No server error, and no markup sent back unescaped."""
    assert response.status_code < 500, f"{what}: answered {response.status_code}"
    if response.mimetype != "text/html":
        return
    body = response.get_data(as_text=True)
    lowered = body.lower()
    reflected = [payload for payload in MARKUP if payload.lower() in lowered]
    assert not reflected, f"{what}: markup sent back unescaped: {reflected}"
    finder = InjectionFinder()
    finder.feed(body)
    finder.close()
    assert not finder.found, f"{what}: markup the templates never write: {finder.found}"


# --- hostile values ----------------------------------------------------------------------

SQL = (
    "' OR 1=1 --",
    "'; DROP TABLE cases; --",
    '" OR ""="',
    "1; SELECT pg_sleep(10) --",
    "%' OR '%'='",
    "\\'; --",
    "1 UNION SELECT password_hash FROM users --",
)
CONTROL = ("\x00", "\r", "\n", "\r\n", "\x1b[2J", "\x07", "\x08", "\x7f", "\t", "\x0b\x0c", "\x85")
UNICODE = (
    "\u202egnp.exe",  # a right-to-left override
    "\u200f\u200e\u2066\u2069",
    "😀",
    "👩\u200d👩\u200d👧\u200d👦",
    "e\u0301\u0302\u0303\u0304\u0305",  # combining accents
    "Z\u0334\u0321\u031b\u034e\u0343a\u0335l\u0336g\u0337o\u0338",
    "\ufeff",
    "\u200b",
    "\ufdfa",
    "\U0001d54f",
    "İı ß ﬃ",
    "\u2028\u2029",
)
# Text where a number, a date, a time or a choice belongs.
WRONG_TYPES = (
    "",
    " ",
    "-1",
    "0",
    "-0",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1" + "0" * 40,
    "9" * 5000,
    "1e309",
    "NaN",
    "Infinity",
    "0x10",
    "1.5",
    " 7 ",
    "\u0663",  # an Arabic-Indic digit three
    "31",
    "2026-02-31",
    "00/00/0000",
    "25:61",
    "yesterday",
    "true",
    "null",
    "[]",
    "{}",
    "new",
    "../../etc/passwd",
    "%00",
    "%s%n",
    "{{7*7}}",
    "${7*7}",
)
PAYLOADS = MARKUP + SQL + CONTROL + UNICODE + WRONG_TYPES

hostile_text = st.one_of(
    st.sampled_from(PAYLOADS),
    # Any characters but lone surrogates (category Cs), which cannot be encoded to send.
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.lists(st.sampled_from(PAYLOADS), min_size=2, max_size=6).map("".join),
)


@dataclass(frozen=True)
class Long:
    """A long value kept as its recipe, so that hypothesis's report of a failing example
    stays short (it warns, and so fails, on a repr of 100 kB)."""

    piece: str | bytes
    size: int
    before: str | bytes | None = None

    def make(self) -> Any:
        body = (self.piece * (self.size // len(self.piece) + 1))[: self.size]
        return (self.before or self.piece[:0]) + body


long_text = st.builds(
    Long,
    st.sampled_from((*MARKUP, *SQL, "\x00", "😀", "a", "e\u0301", "\r\n")),
    st.integers(10_000, 100_000),
)

FILE_NAMES = (
    "../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "<script>alert('hx')</script>.png",
    '"><img src=x onerror=alert(1)>.png',
    "\u202egnp.exe",
    "screenshot.png\x00.html",
    "",
    " ",
    ".",
    "CON",
    "x" * 1000 + ".png",
    "😀.pdf",
    "a\r\nContent-Type: text/html.png",
)
CSV_HEADER = b"employee_number,acknowledged_on,method\n"
FILE_BYTES = (
    PNG,
    PDF,
    GIF,
    b"",
    b"\x00" * 64,
    b"<html><script>alert('hx')</script></html>",
    b"%PDF-1.7 <script>alert('hx')</script>",
    PNG + b"<script>alert('hx')</script>",
    b"\x89PNG\r\n\x1a\n",  # a PNG's signature and nothing more
    CSV_HEADER + b"<script>alert('hx')</script>,2024-09-02,signed form\n",
    CSV_HEADER + b"E00001,31/02/2024,' OR 1=1 --\n",
    CSV_HEADER + b"9223372036854775808,99/99/9999,\x00\n",
    Long(b"E1,2024-09-02,e-learning\n", 6000 * 25, before=CSV_HEADER),  # too many rows
    Long(b"x", 200_000, before=CSV_HEADER + b"E1,"),  # a field beyond the csv module's limit
    b'"unterminated,\n\x00\x00\n',
    b"\xff\xfe<\x00s\x00",  # UTF-16 with its byte-order mark
    b"\xef\xbb\xbfemployee_number\n=cmd|' /C calc'!A0\n",
)


@dataclass(frozen=True)
class Upload:
    content: bytes | Long
    filename: str

    def as_part(self) -> FileStorage:
        content = self.content.make() if isinstance(self.content, Long) else self.content
        return FileStorage(BytesIO(content), filename=self.filename)


uploads = st.builds(
    Upload,
    st.one_of(st.sampled_from(FILE_BYTES), st.binary(max_size=256)),
    st.one_of(st.sampled_from(FILE_NAMES), hostile_text),
)


def _one_value(form_field: Field) -> st.SearchStrategy[Any]:
    if form_field.kind == "file":
        return uploads
    offered = [value for value in form_field.values if value]
    wrong = st.one_of(st.sampled_from(WRONG_TYPES), hostile_text)
    return st.one_of(st.sampled_from(offered), wrong) if offered else wrong


def _field_value(form_field: Field) -> st.SearchStrategy[Any]:
    """One value, as many as the form has boxes for, or some other number of them."""
    one = _one_value(form_field)
    return st.one_of(
        one,
        st.lists(one, min_size=form_field.count, max_size=form_field.count),
        st.lists(one, max_size=4),
    )


@dataclass(frozen=True)
class HostileInput:
    """Values for a form's fields (any of them missing), and for names it never asked for;
    at most one field gets a very long string, to keep most requests under the size limit."""

    values: dict[str, Any]
    long_field: str | None = None
    long_value: Long | None = None

    def data(self, csrf_token: str | None = None) -> dict[str, Any]:
        data = dict(self.values)
        if self.long_field is not None and self.long_value is not None:
            data[self.long_field] = self.long_value.make()
        data = {name: _as_sent(value) for name, value in data.items()}
        if csrf_token is not None:
            data["csrf_token"] = csrf_token
        return data


def _as_sent(value: Any) -> Any:
    if isinstance(value, Upload):
        return value.as_part()
    if isinstance(value, list):
        return [_as_sent(item) for item in value]
    return value


def _wild(fields: list[Field]) -> st.SearchStrategy[HostileInput]:
    """Any field missing or hostile, and names the form never asked for."""
    texts = [f.name for f in fields if f.kind != "file"]
    return st.builds(
        HostileInput,
        st.builds(
            lambda asked, unasked: {**unasked, **asked},
            st.fixed_dictionaries({}, optional={f.name: _field_value(f) for f in fields}),
            st.dictionaries(hostile_text, hostile_text, max_size=2),
        ),
        st.one_of(st.none(), st.sampled_from(texts)) if texts else st.none(),
        long_text,
    )


def _plausible(form_field: Field) -> st.SearchStrategy[Any]:
    """What a person might send: one of the choices, a recent date, a few words."""
    offered = [value for value in form_field.values if value]
    if form_field.kind == "file":
        return st.just(Upload(PNG, "screenshot.png"))
    if form_field.kind == "text" and form_field.count == 3:  # a date's day, month and year
        return st.integers(0, 400).map(lambda days: _parts(today() - timedelta(days=days)))
    if offered:
        return st.sampled_from(offered)
    return st.sampled_from(["Some words.", "", "14:30", "https://example.org/post/1"])


def _one_bad_apple(fields: list[Field]) -> st.SearchStrategy[HostileInput]:
    """A form a person might send, with one to three of its fields hostile: enough of it
    right to get past the form's checks to the services and the database."""
    if not fields:
        return st.just(HostileInput({}))
    by_name = {f.name: f for f in fields}
    return st.builds(
        lambda good, bad: HostileInput({**good, **bad}),
        st.fixed_dictionaries({f.name: _plausible(f) for f in fields}),
        st.lists(st.sampled_from(sorted(by_name)), min_size=1, max_size=3, unique=True).flatmap(
            lambda names: st.fixed_dictionaries({n: _field_value(by_name[n]) for n in names})
        ),
    )


def hostile_input(fields: list[Field]) -> st.SearchStrategy[HostileInput]:
    return st.one_of(_wild(fields), _one_bad_apple(fields))


def _parts(day: date) -> list[str]:
    """A date as the three boxes of the date input send it."""
    return [str(day.day), str(day.month), str(day.year)]


def everything_set_to(fields: list[Field], payload: str) -> HostileInput:
    """Every field given the same payload (each box of a date; a file's name)."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.kind == "file":
            values[f.name] = Upload(PNG, payload)
        else:
            values[f.name] = [payload] * f.count if f.count > 1 else payload
    return HostileInput(values)


# Tried on every form before hypothesis starts, each in every field at once.
EVERY_FIELD = (
    *MARKUP,
    *SQL,
    "\x00",
    "\r\n\x1b\x7f",
    "\u202e😀e\u0301",
    "9223372036854775808",
    "-9223372036854775809",
    "1" + "0" * 40,
    "-1",
    Long("<script>alert('hx')</script>", 50_000).make(),
)

FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,  # nothing written to a .hypothesis folder
    derandomize=True,  # the same examples on every run, in CI too
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture(autouse=True, scope="module")
def _hypothesis_keeps_nothing_in_the_checkout(tmp_path_factory):
    """Hypothesis caches what it learns (constants found in the code, Unicode tables) in a
    .hypothesis folder even with no example database: keep that folder in a temporary one."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    yield
    set_hypothesis_home_dir(None)


# --- signing in and sending forms --------------------------------------------------------


class Visitor:
    """A person's browser: signed in again, with a fresh CSRF token, if a post ends its
    session (signing out does)."""

    def __init__(self, app: Flask, user: User | None, actor: str) -> None:
        self.app, self.user, self.actor = app, user, actor
        self.client = self._new_client()
        self.csrf_token = self.token_from_a_page()

    @classmethod
    def of(cls, app: Flask, world: World, actor: str) -> Visitor:
        if actor.startswith(PENDING):
            return PendingVisitor(app, world.users[actor.removeprefix(PENDING)], actor)
        return cls(app, world.users.get(actor), actor)

    def _new_client(self) -> FlaskClient:
        client = self.app.test_client()
        if self.user is not None:
            response = sign_in(client, self.user.email)
            assert response.status_code == 302, f"{self.actor} could not sign in"
        return client

    def token_from_a_page(self) -> str:
        page = self.get("/" if self.user else "/sign-in")
        return csrf_token_from(page.get_data(as_text=True))

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        with self.client.get(url, **kwargs) as response:
            response.get_data()
        return response

    def post(self, url: str, data: dict[str, Any], *, multipart: bool = False) -> TestResponse:
        sent: dict[str, Any] = {"data": data}
        if multipart or any(isinstance(v, FileStorage) for v in _flat(data.values())):
            # Encoded here, in memory: the test client spools a large body to a temporary
            # file it never closes, and the ResourceWarning fails the test.
            boundary, body = encode_multipart(data)
            sent = {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}
        with self.client.post(url, **sent) as response:
            response.get_data()
        if self.user is not None and _path(response.headers.get("Location")) == "/sign-in":
            self._resume()
        return response

    def _resume(self) -> None:
        """Back in after a post ended the session (signing out does, on every example).

        The first sign-in went through both pages; signing in again the same way would wait
        for a fresh TOTP time step every third time, so here the session is opened by the
        service the second step ends with, and its token put in the cookie."""
        token = start_session(self.user, ip_address="127.0.0.1", user_agent="Hostile/1.0")
        _db.session.commit()
        self.client = self.app.test_client()
        with self.client.session_transaction() as cookie:
            cookie[SESSION_TOKEN_KEY] = token
        self.csrf_token = self.token_from_a_page()


class PendingVisitor(Visitor):
    """A browser just past the password step: no session yet, a code still to give."""

    def _resume(self) -> None:
        self.client = self._new_client()
        self.csrf_token = self.token_from_a_page()

    def _new_client(self) -> FlaskClient:
        client = self.app.test_client()
        response = post_form(
            client, "/sign-in", {"email": self.user.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 302, f"{self.actor} could not give their password"
        return client

    def token_from_a_page(self) -> str:
        return csrf_token_from(self.get("/sign-in").get_data(as_text=True))


def _flat(values: Any) -> list[Any]:
    return [item for value in values for item in (value if isinstance(value, list) else [value])]


def _path(location: str | None) -> str | None:
    return urlsplit(location).path if location else None


def _local(location: str | None) -> str | None:
    """A redirect's target, if it is a page of this app."""
    if not location:
        return None
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _pages_for(actor: str, url: str, world: World) -> list[str]:
    """The pages an actor may open: the route's own first, then those nearest to it."""
    if actor.startswith(PENDING):
        return [url]  # no session: only the step's own page
    pages = {spec.url(world) for spec in MATRIX.values() if spec.get[actor] == OK}
    nearest = sorted(pages, key=lambda page: (-len(commonprefix([page, url])), page))
    return list(dict.fromkeys([url, "/", *nearest]))


def _import_preview(visitor: Visitor, world: World) -> str:
    """Upload a register file: the answer is the preview that holds the confirmation."""
    school = _db.session.get(StaffMember, world.staff).school
    content = f"{','.join(IMPORT_COLUMNS.values())}\r\nNew Person,Teacher,HX1,{school.code},,,,\r\n"
    page = visitor.get("/staff/import")
    answer = visitor.post(
        "/staff/import",
        {
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "csv_file": FileStorage(BytesIO(content.encode()), "register.csv", "text/csv"),
        },
    )
    assert answer.status_code == OK, "the upload did not answer with its preview"
    return answer.get_data(as_text=True)


# Forms that only a POST's answer shows (no address to open them at), and how to get one.
FORMS_ANSWERED: dict[str, tuple[str, Callable[[Visitor, World], str]]] = {
    "staff.confirm_import": ("/staff/import", _import_preview),
}


def find_form(visitor: Visitor, url: str, world: World) -> Form | None:
    """The form that posts to `url`: on the route's own page, or the first page the actor
    may open that carries it (signing out is in every page's header)."""
    path = urlsplit(url).path
    for endpoint, (page, answer) in FORMS_ANSWERED.items():
        if MATRIX[endpoint].url(world) == url:
            for form in forms_on(page, answer(visitor, world)):
                if form.method == "post" and form.path == path:
                    return form
    for page in _pages_for(visitor.actor, url, world):
        response = visitor.get(page)
        if response.status_code != OK or response.mimetype != "text/html":
            continue
        for form in forms_on(page, response.get_data(as_text=True)):
            if form.method == "post" and form.path == path:
                return form
    return None


def _follow(visitor: Visitor, response: TestResponse, what: str) -> None:
    """Read the page a successful post leads to: it shows what was just saved."""
    target = _local(response.headers.get("Location"))
    if response.status_code in {301, 302, 303} and target:
        assert_safe(visitor.get(target), f"GET {target} after {what}")


# --- hostile posts -----------------------------------------------------------------------


def test_every_route_that_takes_a_post_is_fuzzed(app):
    """The routes come from the URL map, so one added later is fuzzed without a word here;
    this only checks that each has an actor (or an arrangement) to take it."""
    routes = sorted(
        {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    )
    assert routes == POST_ROUTES
    for endpoint in routes:
        assert endpoint in MATRIX, f"{endpoint} has no entry in the authorisation matrix"
        if endpoint not in ARRANGEMENTS:
            _actor_for(endpoint)
    assert set(ARRANGEMENTS) | set(ACTOR_FOR) | set(RENEWALS) | set(NOT_WRITTEN) <= set(routes)


# The titles of the app's own 400 pages: a form without its token, and a NUL character.
CSRF_PAGE = ("Your form had expired",)
NUL_PAGE = (ERROR_PAGES[400][0],)
WRONG_TOKENS = st.one_of(
    st.sampled_from(["", "null", "None", "0", "x" * 5000, "\x00"]),
    hostile_text,
    st.lists(hostile_text, min_size=2, max_size=3),
)


@pytest.mark.parametrize("endpoint", POST_ROUTES)
def test_hostile_posts(app, make, endpoint):
    world = build_world(make)
    url, actor = _where(endpoint, world)
    visitor = Visitor.of(app, world, actor)
    form = find_form(visitor, url, world)
    assert form is not None, (
        f"{actor} finds no form that posts to {url} ({endpoint}) on any page they may open: "
        "if the matrix's world never shows it, add an Arrangement that does"
    )
    assert form.csrf_token, f"the form that posts to {url} has no CSRF token"
    fields = form.inputs
    state = {"action": form.action}

    def refused(data: dict[str, Any], what: str, *, pages: tuple[str, ...] = CSRF_PAGE) -> None:
        response = visitor.post(state["action"], data, multipart=form.multipart)
        assert_safe(response, what)
        assert response.status_code == 400, f"{what}: answered {response.status_code}"
        body = response.get_data(as_text=True)
        assert any(f"<title>{title}" in body for title in pages), f"{what}: not the app's page"

    # A missing or wrong token: the app's own 400 page, whatever else is sent.
    blank = {f.name: "" for f in fields if f.kind != "file"}
    refused(blank, f"POST {url} without a CSRF token")
    someone_else = Visitor.of(app, world, actor).csrf_token
    refused({**blank, "csrf_token": someone_else}, f"POST {url} with another session's token")
    refused({**blank, "csrf_token": visitor.csrf_token[:-2]}, f"POST {url} with a cut token")

    @FUZZ
    @given(WRONG_TOKENS, hostile_input(fields))
    def wrong_token(token: str | list[str], hostile: HostileInput) -> None:
        refused(
            {**hostile.data(), "csrf_token": token},
            f"POST {url} with a wrong token",
            pages=CSRF_PAGE + NUL_PAGE,  # a NUL anywhere is refused before the token is read
        )

    wrong_token()

    # Hostile values with a good token: any answer but a server error or unescaped markup.
    def send(hostile: HostileInput, label: str) -> None:
        what = f"POST {state['action']} as {actor} ({label})"
        response = visitor.post(
            state["action"], hostile.data(visitor.csrf_token), multipart=form.multipart
        )
        assert_safe(response, what)
        _follow(visitor, response, what)
        if endpoint in RENEWALS and response.status_code == 302:
            state["action"] = RENEWALS[endpoint].renew(world)

    for payload in EVERY_FIELD:
        send(everything_set_to(fields, payload), f"every field {payload[:30]!r}")
    send(HostileInput({}), "no fields at all")

    @FUZZ
    @given(hostile_input(fields))
    def fuzz(hostile: HostileInput) -> None:
        send(hostile, "hypothesis")

    fuzz()


# --- hostile queries ---------------------------------------------------------------------


# One of each kind of reader: of a school, of the whole trust, of the policy register (a
# manager sees drafts, so two versions to compare), of the audit trail. Filters differ by
# scope (a school filter only for someone who sees several schools).
GET_FORM_READERS = (DSL_A, CEO, ADMIN, AUDITOR)


def _get_forms(app: Flask, world: World) -> list[tuple[Form, Visitor]]:
    """The GET forms on every page these readers may open, each set of fields once."""
    found: dict[tuple[str, tuple[str, ...]], tuple[Form, Visitor]] = {}
    for actor in GET_FORM_READERS:
        visitor = Visitor.of(app, world, actor)
        for spec in MATRIX.values():
            if spec.get[actor] != OK:
                continue
            page = spec.url(world)
            response = visitor.get(page)
            if response.mimetype != "text/html":
                continue
            for form in forms_on(page, response.get_data(as_text=True)):
                if form.method == "get":
                    found.setdefault((form.path, tuple(sorted(form.fields))), (form, visitor))
    return list(found.values())


# What the links beside a filter form add to its address: the page, its size, the sort.
PAGING = ("page", "per_page", "before", "after", "sort")


def _send_hostile_queries(form: Form, visitor: Visitor) -> None:
    fields = [*form.inputs, *(Field(name, "text") for name in PAGING if name not in form.fields)]

    def send(hostile: HostileInput, label: str) -> None:
        what = f"GET {form.path} as {visitor.actor} ({label})"
        response = visitor.get(form.path, query_string=hostile.data())
        assert_safe(response, what)
        _follow(visitor, response, what)

    for payload in EVERY_FIELD[:-1]:  # not 50,000 characters: no browser sends such an address
        send(everything_set_to(fields, payload), f"every field {payload[:30]!r}")

    @FUZZ
    @given(hostile_input(fields))
    def fuzz(hostile: HostileInput) -> None:
        send(hostile, "hypothesis")

    fuzz()


def test_hostile_queries(app, make):
    world = build_world(make)
    forms = _get_forms(app, world)
    # The filter forms the app is known to have, so that a broken reader cannot pass.
    paths = {form.path for form, _ in forms}
    expected = {"/cases/", "/staff/", "/audit/", f"/audit/cases/{world.case}", "/reports/"}
    assert expected | {f"/policies/{world.policy}/compare"} <= paths
    for form, visitor in forms:
        _send_hostile_queries(form, visitor)


# --- everything people write is shown escaped ----------------------------------------------


class Writer:
    """Fills in forms as a person would, with a script of its own in every free-text box
    it is not told what to put in; keeps every page it is shown, and where each script
    went."""

    def __init__(self) -> None:
        self.planted: dict[str, str] = {}  # a script, escaped -> the form and field
        self.pages: list[str] = []
        self.routes: set[str] = set()  # the endpoints of the forms sent

    def script(self, where: str, *, for_a_file_name: bool = False) -> str:
        number = len(self.planted) + 1
        # A file's name is cut after its last slash, so nothing there closes a tag.
        if for_a_file_name:
            raw = f"<img src=x onerror=alert({number})>"
        else:
            raw = f"<script>alert({number})</script>"
        self.planted[raw.replace("<", "&lt;").replace(">", "&gt;")] = where
        return raw

    def read(self, visitor: Visitor, url: str, **kwargs: Any) -> TestResponse:
        response = visitor.get(url, **kwargs)
        assert_safe(response, f"GET {url} as {visitor.actor}")
        if response.status_code == OK and response.mimetype == "text/html":
            self.pages.append(response.get_data(as_text=True))
        return response

    def submit(
        self,
        visitor: Visitor,
        url: str,
        given: dict[str, Any] | None = None,
        *,
        page: str | None = None,
        leave_empty: tuple[str, ...] = (),
        expect: int = 302,
    ) -> TestResponse:
        """Post the form that posts to `url` (on `page`, or on its own page), then read
        the page it leads to."""
        given = given or {}
        page = page or url
        html = self.read(visitor, page).get_data(as_text=True)
        form = next(
            (f for f in forms_on(page, html) if f.method == "post" and f.path == url),
            None,
        )
        assert form is not None, f"no form posting to {url} on {page}"
        data: dict[str, Any] = {"csrf_token": form.csrf_token, **given}
        for f in form.inputs:
            if f.name in given or f.name.startswith(leave_empty):
                continue
            if f.kind == "hidden":
                data[f.name] = f.values[0] if f.values else ""
            elif f.kind in {"select", "radio"}:
                data[f.name] = next((value for value in f.values if value), "")
            elif f.kind in {"text", "textarea"} and f.count == 1:
                data[f.name] = self.script(f"{url} {f.name}")
        data = {name: _as_sent(value) for name, value in data.items()}
        response = visitor.post(form.action, data, multipart=form.multipart)
        self.routes.add(visitor.app.url_map.bind("localhost").match(form.path, "POST")[0])
        what = f"POST {url} as {visitor.actor}"
        assert_safe(response, what)
        body = response.get_data(as_text=True)
        if response.status_code != expect:
            problems = re.findall(r'<a href="#[^"]*">([^<]*)</a>', body) or body[:2000]
            raise AssertionError(f"{what}: answered {response.status_code}: {problems}")
        if response.mimetype == "text/html":
            self.pages.append(body)
        if target := _local(response.headers.get("Location")):
            self.read(visitor, target)
        return response

    def never_shown(self) -> list[str]:
        # Long values are shown breakable, with <wbr> every few characters.
        shown = "".join(self.pages).replace("<wbr>", "")
        return [where for escaped, where in self.planted.items() if escaped not in shown]


# The forms the test below does not fill in, and why: none of them keeps words to show.
NOT_WRITTEN = {
    "auth.sign_in": "what is typed is checked, never kept (a reflection is the fuzz's to find)",
    "auth.second_factor": "a code: checked, never kept",
    "auth.recovery_code": "a code: checked, never kept",
    "auth.set_up_second_factor": "a code: checked, never kept",
    "auth.change_my_password": "passwords are never shown",
    "auth.change_my_authenticator": "a password and a code: never shown",
    "auth.end_my_session": "no fields",
    "auth.end_my_other_sessions": "no fields",
    "auth.admin_reset_second_factor": "no fields",
    "auth.admin_end_sessions": "no fields",
    "auth.sign_out": "no fields",
    "staff.import_register": "a file, not fields: tests/test_staff_import.py shows what a "
    "file says escaped on the preview",
    "staff.confirm_import": "a signed file and a digest: checked, never shown",
    "staff.give_accounts_page": "ticks next to people on the register: nothing typed",
    "workflow.close": "no fields",
    "policy.remove_clause_page": "no fields",
    "policy.publish": "a date only",
    "policy.acknowledgements": "a member of staff, a date and a method: choices only",
    "policy.read": "one button, no fields: a member of staff acknowledges the version",
    "policy.new_draft": "its one box, the version label, is written on the version's details",
    "privacy.export_request": "no fields: it answers a ZIP (its PDF and JSON are tested apart)",
    "privacy.release": "no fields",
    "consents.refer": "no fields",
    "consents.withdraw": "no fields",
    "concerns.discard": "no fields",
    "workflow.link_case": "a reference, checked against the cases the user can see, and a choice",
    "workflow.unlink_case": "no fields",
}


def test_everything_people_write_is_shown_escaped(app, make):
    """A script in every free-text box of every form (and in a school's and a person's
    name, which come from the command line): every one shown somewhere, escaped."""
    world = build_world(make)
    school_a = _db.session.get(School, world.users[DSL_A].grants[0].school_id)
    make.school(school_a.trust, name="<script>alert('school')</script>")
    investigator = make.user(Role.DEPUTY_DSL, school_a, name="<script>alert('user')</script>")
    dsl, head, ceo, admin, dpo, auditor = (
        Visitor.of(app, world, actor) for actor in (DSL_A, HEAD_A, CEO, ADMIN, DPO, AUDITOR)
    )
    # A deputy DSL at A, as DEPUTY_A is: the matrix's pages for DEPUTY_A are theirs too.
    deputy = Visitor(app, investigator, DEPUTY_A)
    w = Writer()
    on = today()
    earlier = on - timedelta(days=7)

    # A concern about someone new to the register, then its people, chronology, evidence.
    response = w.submit(
        dsl,
        "/cases/new",
        {
            "source": "other",
            "occurred_on": _parts(earlier),
            "reported_on": _parts(on),
            "platform": "other",
            "subject": "new",
            "clauses": "3.4",
            "rationale-3.4": w.script("the reason 3.4 applies"),
        },
        leave_empty=("rationale-",),  # those of clauses not ticked are not kept
    )
    case_id = int(urlsplit(response.headers["Location"]).path.rsplit("/", 1)[-1])
    case = f"/cases/{case_id}"
    dates = {"occurred_on": _parts(earlier), "reported_on": _parts(on)}
    w.submit(dsl, f"{case}/edit", {**dates, "source": "staff_report", "platform": "other"})
    w.submit(dsl, f"{case}/clauses/new")
    w.submit(dsl, f"{case}/people/new", {"kind": "witness", "year_group": ""})
    w.submit(dsl, f"{case}/chronology/new", {"occurred_on": _parts(on), "occurred_time": ""})
    w.submit(
        dsl,
        f"{case}/evidence/new",
        {
            "file": Upload(PNG, w.script("the file's name", for_a_file_name=True) + ".png"),
            "source_url": "https://example.org/" + w.script("the web address"),
            "captured_on": _parts(on),
            "captured_time": "",
            "post_visibility": "public",
        },
    )
    w.submit(dsl, f"/cases/{world.case}/evidence/{world.evidence}/remove")

    # The workflow, through every step that asks for words.
    w.submit(
        dsl, f"{case}/triage", {**dict.fromkeys(wf.HARM_QUESTIONS, "no"), "track": "low_level"}
    )
    w.submit(dsl, f"{case}/investigation/start", {"investigator": str(investigator.id)})
    w.submit(dsl, f"{case}/suspensions/new", {"starts_on": _parts(on)})
    w.submit(deputy, f"{case}/submit")
    w.read(head, f"{case}/decide")  # the one page that shows the investigation summary
    w.submit(head, f"{case}/return")
    w.submit(deputy, f"{case}/submit")
    w.read(head, f"{case}/decide")
    w.submit(dsl, f"{case}/escalate")
    w.submit(dsl, f"{case}/lado/referral", {"referred_on": _parts(on), "referred_time": ""})
    w.submit(dsl, f"{case}/lado/advice", {"advised_on": _parts(on)})
    w.submit(dsl, f"{case}/investigation/start", {"investigator": str(investigator.id)})
    w.submit(deputy, f"{case}/submit")
    w.submit(
        head,
        f"{case}/decide",
        {
            "outcome": "substantiated",
            "sanction": "final_written_warning",
            "may_mention": "yes",
            **dict.fromkeys(["refer_dbs", "refer_tra", "refer_police"], "y"),
        },
    )
    w.submit(dsl, f"{case}/appeal", {"lodged_on": _parts(on)})
    w.submit(ceo, f"{case}/appeal/decide", {"outcome": "upheld"})
    w.submit(dsl, f"{case}/reopen")
    w.submit(dsl, f"{case}/withdraw")

    # The pattern of concerns flagged on the world's third case about its subject.
    w.submit(
        dsl,
        f"/cases/{world.allegation}/pattern-review",
        {"meets_threshold": "no", "escalate": "no"},
    )

    # A concern a member of staff raises: what they wrote is for the school's leads.
    staff = Visitor.of(app, world, STAFF_A)
    w.submit(
        staff,
        "/concerns/new",
        {
            "about": "colleague",
            "occurred_on": _parts(earlier),
            "platform": "other",
            "link": "https://example.org/" + w.script("the link to the post"),
            "send": "Send concern",
        },
    )
    raised = _db.session.scalar(select(StaffConcern.case_id).order_by(StaffConcern.id.desc()))
    _db.session.commit()
    w.read(dsl, f"/cases/{raised}")

    # Consent to post pictures (clause 3.5): asked, then granted with conditions; asked
    # again, then refused with a reason. The asker and the headteacher see the answers.
    asker = Visitor.of(app, world, STAFF_A)
    asked = {"event_on": _parts(on), "platform": "other"}
    w.submit(asker, "/consents/new", asked)
    consent = _db.session.scalar(select(PictureConsent.id).order_by(PictureConsent.id.desc()))
    _db.session.commit()
    w.submit(
        head,
        f"/consents/{consent}/decide",
        {"decision": "granted", "expires_on": ["", "", ""]},
        leave_empty=("reason",),
    )
    w.submit(asker, "/consents/new", asked)
    consent = _db.session.scalar(select(PictureConsent.id).order_by(PictureConsent.id.desc()))
    _db.session.commit()
    w.submit(
        head, f"/consents/{consent}/decide", {"decision": "refused"}, leave_empty=("conditions",)
    )
    w.read(asker, f"/consents/{consent}")
    w.read(asker, "/consents/mine")

    # The staff register and the policy register.
    w.submit(dsl, "/staff/new", {"school": str(school_a.id)})
    w.submit(dsl, f"/staff/{world.staff}/edit", {"school": str(school_a.id)})
    overdue = {"approved_on": _parts(on - timedelta(days=400)), "review_due": _parts(earlier)}
    w.submit(admin, f"/policies/versions/{world.draft}/details", overdue)
    w.submit(admin, f"/policies/versions/{world.draft}/clauses/new", {"reference": "9.9"})
    clause = _db.session.get(Clause, world.draft_clause)
    w.submit(admin, f"/policies/clauses/{clause.id}/edit", {"reference": clause.reference})
    acknowledgements = f"/policies/versions/{world.version}/acknowledgements"
    row = f"{w.script('an employee number in an imported file')},2024-09-02,signed form\n"
    w.submit(
        dsl,
        f"{acknowledgements}/import",
        {"csv_file": Upload(CSV_HEADER + row.encode(), "acknowledgements.csv")},
        page=acknowledgements,
        expect=200,  # no such member of staff: the row is shown with the problem
    )

    # Data protection: a legal hold placed and lifted, the retention facts, a subject
    # access request with its extension and a redaction, closed without a release, and a
    # hearing pack's redaction.
    w.submit(dpo, f"/retention/cases/{world.case}/legal-hold")
    w.submit(dpo, f"/retention/cases/{world.case}/legal-hold/lift")
    w.submit(
        dpo,
        f"/retention/cases/{world.case}/facts",
        {"sexual_abuse": "no", "keep_consent": "no", "keep_consent_on": ["", "", ""]},
    )
    w.submit(
        dpo, "/privacy/requests/new", {"staff_member": str(world.staff), "received_on": _parts(on)}
    )
    sar = _db.session.scalar(
        _db.select(SubjectAccessRequest.id).order_by(SubjectAccessRequest.id.desc())
    )
    w.submit(dpo, f"/privacy/requests/{sar}/extend", {"reason": "complex", "further_months": "2"})
    w.submit(
        dpo,
        f"/privacy/requests/{sar}/redactions",
        {"reason": "third_party_witness"},
        page=f"/privacy/requests/{sar}",
    )
    # Closed last: a closed request takes no more redactions. "Another reason" keeps a note.
    w.submit(dpo, f"/privacy/requests/{sar}/close", {"reason": "other"})
    w.submit(
        dpo,
        f"/cases/{world.case}/hearing-pack",
        {"reason": "third_party_witness"},
    )

    # Every page each of them may open, for the world's records and for the new case.
    new_case = replace(world, case=case_id, awaiting_decision=case_id, allegation=case_id)
    subjects = list(_db.session.scalars(_db.select(Case.subject_id).distinct()))
    for visitor in (dsl, deputy, head, ceo, admin, dpo, auditor):
        pages = [
            spec.url(records)
            for spec in MATRIX.values()
            if spec.get[visitor.actor] == OK
            for records in (world, new_case)
        ]
        for page in dict.fromkeys([*pages, *(f"/staff/{subject}" for subject in subjects)]):
            w.read(visitor, page)
    w.read(dsl, "/cases/", query_string={"q": "<script>"})
    w.read(auditor, "/audit/", query_string={"case": "<script>"})

    unwritten = set(POST_ROUTES) - w.routes - set(NOT_WRITTEN)
    assert not unwritten, f"forms not filled in here, nor in NOT_WRITTEN: {sorted(unwritten)}"
    shown = "".join(w.pages)
    for name in ("school", "user"):
        assert f"&lt;script&gt;alert(&#39;{name}&#39;)" in shown, f"the {name} name is on no page"
    assert not w.never_shown(), f"written, but on no page escaped or not: {w.never_shown()}"
