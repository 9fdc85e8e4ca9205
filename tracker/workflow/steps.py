"""What each workflow step's page does (tracker/workflow/registry.py names them): prepare
its form, call its one service with the answers, and say what happened.

These run inside the one view path of tracker/workflow/views.py, which loads the case,
checks who, commits and shows a refusal on the form; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from tracker.auth.models import RoleGrant, User
from tracker.auth.permissions import CASE_WORKING_ROLES, is_case_worker
from tracker.auth.roles import ROLE_SCOPES, Role, Scope
from tracker.cases.models import Case
from tracker.cases.timeline import case_timeline, subject_read_receipts
from tracker.clock import UK, today
from tracker.consents.services import consents_around
from tracker.db import utcnow
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import answers_to, enum_choices
from tracker.workflow import services
from tracker.workflow.calls import Done, StepCall
from tracker.workflow.forms import ReturnForm
from tracker.workflow.models import SANCTIONS_AFTER, Action


def _on_get() -> bool:
    return request.method == "GET"


def _role_in_words(user: User, case: Case) -> str:
    """Who someone is to this case, by role only (never their name)."""
    grants = user.grants
    if any(g.role == Role.HEADTEACHER and g.school_id == case.school_id for g in grants):
        return "the headteacher"
    if any(g.role == Role.CEO for g in grants):
        return "the chief executive"
    if any(g.role == Role.CHAIR for g in grants):
        return "the chair of trustees"
    return "the person who will decide it"


# --- triage and the LADO ------------------------------------------------------------------


def triage(call: StepCall) -> Done:
    services.triage(
        call.case,
        answers=answers_to(call.form, *services.HARM_QUESTIONS),
        **answers_to(call.form, "track", "rationale", "sexual_abuse"),
        by=call.by,
    )
    if call.case.is_allegation:
        return Done(
            "Triaged as an allegation. Refer it to the local authority designated officer "
            "(LADO) and record the referral here."
        )
    return Done("Triaged as a low-level concern.")


def prepare_lado_referral(call: StepCall) -> None:
    form, case = call.form, call.case
    form.triaged_at = case.triaged_at
    if not _on_get():
        return
    if case.lado_referred_at:
        local = case.lado_referred_at.astimezone(UK)
        form.referred_on.data = local.date()
        form.referred_time.data = local.time().replace(second=0, microsecond=0)
        form.method.data = case.lado_method
        form.reference.data = case.lado_reference
    else:
        form.referred_on.data = today()


def lado_referral(call: StepCall) -> Done:
    form, now = call.form, utcnow()
    services.record_lado_referral(
        call.case,
        referred_at=services.uk_moment(form.referred_on.data, form.referred_time.data, now=now),
        method=form.method.data,
        reference=form.reference.data or "",
        by=call.by,
        now=now,
    )
    return Done("LADO referral recorded.")


def prepare_lado_advice(call: StepCall) -> None:
    if _on_get():
        call.form.advised_on.data = call.case.lado_advice_on or today()
        call.form.advice.data = call.case.lado_advice


def lado_advice(call: StepCall) -> Done:
    given = answers_to(call.form, "advice", "advised_on")
    services.record_lado_advice(call.case, **given, today=today(), by=call.by)
    return Done("The LADO's advice is recorded.")


# --- investigation -------------------------------------------------------------------------


def investigators(case: Case) -> list[User]:
    """Everyone who could investigate: the school's case workers (and the CEO)."""
    grants = select(RoleGrant.user_id).where(
        RoleGrant.trust_id == case.trust_id,
        RoleGrant.role.in_([role.value for role in CASE_WORKING_ROLES]),
        or_(RoleGrant.school_id == case.school_id, RoleGrant.school_id.is_(None)),
    )
    users = db.session.scalars(
        select(User)
        .where(User.id.in_(grants), User.disabled_at.is_(None))
        .options(selectinload(User.grants))
        .order_by(User.display_name, User.id)
    ).all()
    return [user for user in users if is_case_worker(user, case)]


def _investigator_label(user: User, case: Case) -> str:
    roles = [
        Role(grant.role).label
        for grant in user.grants
        if grant.role in CASE_WORKING_ROLES and grant.school_id in {case.school_id, None}
    ]
    return f"{user.display_name} ({', '.join(roles)})"


def investigators_in_words() -> str:
    """Who may investigate, in words, from the roles that work on cases (the rule
    `is_case_worker` applies): the school's roles, then the trust's."""
    at_school = [
        Role(r).label.lower()
        for r in Role
        if r in CASE_WORKING_ROLES and ROLE_SCOPES[r] is Scope.SCHOOL
    ]
    trust_wide = [
        Role(r).label.lower()
        for r in Role
        if r in CASE_WORKING_ROLES and ROLE_SCOPES[r] is not Scope.SCHOOL
    ]
    words = f"A {_or_list(at_school)} of the school"
    if trust_wide:
        words += f", or the {_or_list(trust_wide)}"
    return words


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def prepare_investigators(call: StepCall) -> None:
    candidates = investigators(call.case)
    call.form.investigator.description = (
        f"{investigators_in_words()}. The person who investigates cannot decide the case."
    )
    call.shown["candidates"] = candidates
    call.form.investigator.choices = [
        SelectChoice("", "Choose the investigator"),
        *[SelectChoice(str(user.id), _investigator_label(user, call.case)) for user in candidates],
    ]


def start_investigation(call: StepCall) -> Done:
    chosen = next(
        (u for u in call.shown["candidates"] if str(u.id) == call.form.investigator.data), None
    )
    if chosen is None:
        raise DomainError("Choose the investigator", field="investigator")
    services.start_investigation(call.case, investigator=chosen, by=call.by)
    return Done(f"Investigation started. {chosen.display_name} is investigating.")


def prepare_suspension(call: StepCall) -> None:
    if _on_get():
        call.form.starts_on.data = today()


def record_suspension(call: StepCall) -> Done:
    given = answers_to(call.form, "starts_on", "ends_on", "reason", "reviewed_on")
    services.record_suspension(call.case, **given, by=call.by)
    return Done("Suspension recorded.")


def prepare_summary(call: StepCall) -> None:
    if _on_get():
        call.form.investigation_summary.data = call.case.investigation_summary


def submit_for_decision(call: StepCall) -> Done:
    decision_maker = services.submit_for_decision(
        call.case, summary=call.form.investigation_summary.data, by=call.by
    )
    return Done(f"Sent to {_role_in_words(decision_maker, call.case)} for a decision.")


# --- steps that need only a reason ---------------------------------------------------------

# What the reason page says for each step: its heading, what happens, and whether it is a
# step to warn about (it cannot be undone without another step).
REASON_WORDS: dict[Action, dict[str, Any]] = {
    Action.RETURN_FOR_INVESTIGATION: {
        "heading": "Return the case for more investigation",
        "intro": "The case goes back to the investigator. Say what more you need before you "
        "can decide it.",
    },
    Action.ESCALATE: {
        "heading": "Escalate to an allegation",
        "intro": "The case goes back to triage as an allegation and the LADO clock starts: the "
        "referral to the local authority designated officer is due within one working day.",
    },
    Action.WITHDRAW: {
        "heading": "Withdraw the case",
        "intro": "A withdrawn case is closed without an outcome and can no longer be changed. "
        "It can be reopened later, with a reason.",
        "warning": True,
    },
    Action.REOPEN: {
        "heading": "Reopen the case",
        "intro": "The case goes back to investigation. It will be routed for a decision again "
        "when it is submitted.",
    },
}


def reason_words(call: StepCall) -> Mapping[str, Any]:
    return REASON_WORDS[call.step.action]


def return_for_investigation(call: StepCall) -> Done:
    services.return_for_investigation(call.case, reason=call.form.reason.data, by=call.by)
    return Done("Case returned for more investigation.")


def escalate(call: StepCall) -> Done:
    services.escalate_to_allegation(call.case, reason=call.form.reason.data, by=call.by)
    return Done(
        "Escalated to an allegation. Refer it to the local authority designated officer "
        "(LADO) and record the referral here."
    )


def withdraw(call: StepCall) -> Done:
    services.withdraw_case(call.case, reason=call.form.reason.data, by=call.by, today=today())
    return Done("Case withdrawn.")


def reopen(call: StepCall) -> Done:
    services.reopen_case(call.case, reason=call.form.reason.data, by=call.by)
    return Done("Case reopened for more investigation.")


# --- decision ---------------------------------------------------------------------------


def prepare_outcomes(call: StepCall) -> None:
    call.form.outcome.choices = enum_choices(services.outcomes_for(call.case))
    if not call.case.is_allegation:
        # A low-level concern is never mentioned in references: not asked, recorded as no.
        del call.form.may_mention


# The decision form's referrals: to each body, yes or no, and why.
REFERRALS = (
    *("refer_dbs", "refer_dbs_reason"),
    *("refer_tra", "refer_tra_reason"),
    *("refer_police", "refer_police_reason"),
)


def decide(call: StepCall) -> Done:
    form = call.form
    data = services.DecisionInput(
        **answers_to(form, "outcome", "sanction", "rationale", *REFERRALS),
        may_mention_in_references="may_mention" in form and form.may_mention.data == "yes",
    )
    decision = services.decide(call.case, data, by=call.by, today=today())
    note = None
    if data.may_mention_in_references and not decision.may_mention_in_references:
        note = (
            "After this outcome the matter may not be mentioned in future references, so "
            "that answer is recorded as no."
        )
    return Done(f"Decision recorded: {decision.outcome_label.lower()}.", note=note)


def decision_page(call: StepCall) -> Mapping[str, Any]:
    """The decision page shows the whole case (its panel comes from the view path), and
    offers to return it instead."""
    offers_return = Action.RETURN_FOR_INVESTIGATION in call.offered
    return {
        "return_form": ReturnForm(formdata=None) if offers_return else None,
        "receipts": subject_read_receipts(call.case),
        "timeline": case_timeline(call.case),
        "consents": consents_around(call.case),
        "harm_questions": services.HARM_QUESTIONS,
        # Under each outcome a sanction may follow, the sanctions it allows.
        "sanctions_after": {
            outcome: [SelectChoice(s.value, s.label) for s in allowed]
            for outcome, allowed in SANCTIONS_AFTER.items()
        },
        "edits": frozenset(),  # the decision page changes none of the case's content
    }


# --- appeal and closing -----------------------------------------------------------------


def prepare_appeal(call: StepCall) -> None:
    if _on_get():
        call.form.lodged_on.data = today()


def lodge_appeal(call: StepCall) -> Done:
    given = answers_to(call.form, "lodged_on", "grounds")
    lodged = services.lodge_appeal(call.case, **given, by=call.by, today=today())
    hearer = f"by {_role_in_words(lodged.heard_by, call.case)}" if lodged.heard_by else "soon"
    return Done(f"Appeal recorded. It will be heard {hearer}.")


def appeal_window(call: StepCall) -> Mapping[str, Any]:
    window_ends = services.appeal_window_ends(call.case)
    return {
        "window_ends": window_ends,
        "window_open": window_ends is not None and today() <= window_ends,
    }


def decide_appeal(call: StepCall) -> Done:
    form = call.form
    varied = form.varied_sanction.data if form.outcome.data == "varied" else None
    given = answers_to(form, "outcome", "rationale")
    services.decide_appeal(call.case, **given, varied_sanction=varied, by=call.by, today=today())
    return Done("Appeal outcome recorded. The case is closed.")


def close(call: StepCall) -> Done:
    services.close_case(call.case, by=call.by, today=today())
    return Done("Case closed.")
