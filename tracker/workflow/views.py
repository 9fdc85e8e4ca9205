"""Workflow pages on the cases blueprint, and the case page's "What happens next" panel.

Each page answers 404 for a case outside the user's scope and 403 to someone who may
never take its step; a step the case is not ready for shows the form with the reason in
the error summary. Each POST calls one service from tracker/workflow/services.py and
commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from tracker.auth.models import RoleGrant, User
from tracker.auth.permissions import case_in_scope_or_404, refuse
from tracker.auth.roles import Role
from tracker.cases import bp
from tracker.cases.models import Case, CaseStatus, ChronologyEntry, ClauseBreach, Evidence
from tracker.cases.services import record_case_viewed
from tracker.cases.timeline import case_timeline, subject_read_receipts
from tracker.clock import UK, today
from tracker.db import utcnow
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import show_error
from tracker.notifications.services import send_due_notifications
from tracker.policy.models import Clause
from tracker.workflow import services
from tracker.workflow.clocks import KCSIE_TARGETS, clock_state, is_spent, kcsie_targets
from tracker.workflow.forms import (
    AppealDecisionForm,
    AppealForm,
    CloseForm,
    DecisionForm,
    EscalateForm,
    LadoAdviceForm,
    LadoReferralForm,
    ReopenForm,
    ReturnForm,
    StartInvestigationForm,
    SubmitForDecisionForm,
    SuspensionForm,
    TriageForm,
    WithdrawForm,
    enum_choices,
)
from tracker.workflow.models import (
    Action,
    Appeal,
    CaseTransition,
    Decision,
    LadoMethod,
    Sanction,
)
from tracker.workflow.routing import conflicted_in_decision
from tracker.workflow.transitions import (
    CASE_WORKER_ROLES,
    TRANSITIONS,
    available_actions,
    is_case_worker,
    refusal,
)

# The page each workflow action is taken on.
ACTION_ENDPOINTS: dict[Action, str] = {
    Action.TRIAGE: "cases.triage",
    Action.START_INVESTIGATION: "cases.start_investigation",
    Action.SUBMIT_FOR_DECISION: "cases.submit",
    Action.RETURN_FOR_INVESTIGATION: "cases.return_case",
    Action.ESCALATE: "cases.escalate",
    Action.DECIDE: "cases.decide",
    Action.LODGE_APPEAL: "cases.appeal",
    Action.DECIDE_APPEAL: "cases.decide_appeal",
    Action.CLOSE: "cases.close",
    Action.WITHDRAW: "cases.withdraw",
    Action.REOPEN: "cases.reopen",
}
# Actions that step aside from the usual path: never the panel's main button.
SIDE_ACTIONS = frozenset(
    {
        Action.RETURN_FOR_INVESTIGATION,
        Action.ESCALATE,
        Action.LODGE_APPEAL,
        Action.WITHDRAW,
        Action.REOPEN,
    }
)

# What a decision page shows, loaded up front in a fixed number of queries.
DECISION_PAGE = (
    joinedload(Case.school),
    joinedload(Case.subject),
    joinedload(Case.reported_by),
    joinedload(Case.investigator),
    joinedload(Case.decision_maker),
    selectinload(Case.breaches).joinedload(ClauseBreach.clause).joinedload(Clause.version),
    selectinload(Case.people),
    selectinload(Case.evidence).options(
        joinedload(Evidence.uploaded_by), joinedload(Evidence.removed_by)
    ),
    selectinload(Case.chronology).joinedload(ChronologyEntry.author),
    selectinload(Case.transitions).joinedload(CaseTransition.actor),
    selectinload(Case.decisions).joinedload(Decision.decided_by),
    selectinload(Case.appeals).joinedload(Appeal.heard_by),
    selectinload(Case.suspensions),
)


# --- the "What happens next" panel on the case page ---------------------------------------


@dataclass(frozen=True)
class Tag:
    text: str
    colour: str = ""  # a govuk-tag modifier; none is blue


TARGET_TAGS = {
    "met": Tag("Met", "green"),
    "missed": Tag("Missed", "red"),
    "due_soon": Tag("Due soon", "yellow"),
    "running": Tag("Running"),
}
LADO_TAGS = {
    "overdue": Tag("Overdue", "red"),
    "due_soon": Tag("Due soon", "yellow"),
    "running": Tag("Running"),
}


@dataclass(frozen=True)
class TargetClock:
    label: str
    due: date
    tag: Tag


@dataclass(frozen=True)
class LadoClock:
    due_at: datetime
    referred_at: datetime | None
    method: str | None
    tag: Tag

    @property
    def overdue(self) -> bool:
        return self.tag is LADO_TAGS["overdue"]


@dataclass(frozen=True)
class ActionLink:
    label: str
    href: str
    primary: bool = False


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    by: str
    from_label: str
    to_label: str
    reason: str


@dataclass(frozen=True)
class WorkflowPanel:
    track_label: str
    days_since_reported: int
    targets: list[TargetClock]
    lado: LadoClock | None
    decision: Decision | None
    sanction_label: str | None
    warning_expires_on: date | None
    warning_spent: bool
    appeal: Appeal | None
    appeal_window_ends: date | None
    appeal_window_open: bool
    appeal_window_passed: bool
    actions: list[ActionLink]
    next_step: str | None
    history: list[HistoryRow]


def load_panel_records(case: Case) -> None:
    """Fill the case's workflow records and legal holds in one statement, unless they are
    loaded already.

    The case page's own loader (tracker/cases/views.py) does not know about them; one
    joined query keeps the page's query count fixed whatever the case's history. The
    retention section and the legal hold banner (tracker/retention/views.py) use it too.
    """
    wanted = {"transitions", "decisions", "appeals", "suspensions", "investigator", "legal_holds"}
    if not wanted & inspect(case).unloaded:
        return
    db.session.execute(
        select(Case)
        .where(Case.id == case.id)
        .options(
            joinedload(Case.investigator),
            joinedload(Case.decision_maker),
            joinedload(Case.transitions).joinedload(CaseTransition.actor),
            joinedload(Case.decisions).joinedload(Decision.decided_by),
            joinedload(Case.appeals).joinedload(Appeal.heard_by),
            joinedload(Case.suspensions),
            joinedload(Case.legal_holds),
        )
    ).unique().all()


def _lado_clock(case: Case, now: datetime) -> LadoClock | None:
    if case.lado_due_at is None:
        return None
    if case.lado_referred_at is not None:
        in_time = case.lado_referred_at <= case.lado_due_at
        tag = Tag("Referred in time", "green") if in_time else Tag("Referred late", "orange")
    else:
        tag = LADO_TAGS[clock_state(case.lado_due_at, now, done=False)]
    method = LadoMethod(case.lado_method).label if case.lado_method else None
    return LadoClock(case.lado_due_at, case.lado_referred_at, method, tag)


def _lado_steps_apply(case: Case, user: User) -> bool:
    """The LADO referral and advice are recorded by the school while an allegation is
    in triage."""
    return case.status == CaseStatus.TRIAGE and case.is_allegation and is_case_worker(user, case)


def _may_record_suspension(case: Case, user: User) -> bool:
    return case.is_open and is_case_worker(user, case)


def _action_links(case: Case, user: User) -> tuple[list[ActionLink], str | None]:
    """The buttons the panel offers this user, and a sentence on what must come first."""
    links: list[ActionLink] = []
    next_step = None
    if _lado_steps_apply(case, user):
        referred = case.lado_referred_at is not None
        links.append(
            ActionLink(
                "Change the LADO referral" if referred else "Record the LADO referral",
                url_for("cases.lado_referral", case_id=case.id),
                primary=not referred,
            )
        )
        if referred:
            links.append(
                ActionLink(
                    "Change the LADO's advice" if case.lado_advice else "Record the LADO's advice",
                    url_for("cases.lado_advice", case_id=case.id),
                    primary=not case.lado_advice.strip(),
                )
            )
        if not case.lado_gate_open:
            next_step = (
                "Record the referral to the local authority designated officer (LADO) and "
                "the LADO's advice before the investigation starts."
            )
    has_primary = any(link.primary for link in links)
    for transition in available_actions(case, user):
        if transition.action in SIDE_ACTIONS and transition.guard and transition.guard(case):
            # A side step the case does not qualify for (escalating an allegation) is not
            # offered; a main step still waiting on something is, and its page says what.
            continue
        primary = not has_primary and transition.action not in SIDE_ACTIONS
        has_primary = has_primary or primary
        links.append(
            ActionLink(
                transition.label,
                url_for(ACTION_ENDPOINTS[transition.action], case_id=case.id),
                primary=primary,
            )
        )
    if _may_record_suspension(case, user):
        links.append(
            ActionLink("Record a suspension", url_for("cases.suspension", case_id=case.id))
        )
    return links, next_step


def workflow_panel(case: Case) -> WorkflowPanel:
    """What the case page's "What happens next" panel shows for the signed-in user."""
    load_panel_records(case)
    now = utcnow()
    on = today()
    decision = case.decision
    window_ends = services.appeal_window_ends(case) if decision else None
    # An appeal against an earlier decision (before the case was reopened) is not this one's.
    appeal = (
        case.appeal if decision and case.appeal and case.appeal.decision_id == decision.id else None
    )
    actions, next_step = _action_links(case, current_user)
    return WorkflowPanel(
        track_label=case.track_enum.label if case.track_enum else "Not triaged yet",
        days_since_reported=((case.closed_on or on) - case.reported_on).days,
        targets=[
            TargetClock(
                f"{target.label.capitalize()}: within {months} month{'' if months == 1 else 's'}",
                target.due,
                TARGET_TAGS[target.state(on, case.closed_on)],
            )
            for target, (_, months) in zip(
                kcsie_targets(case.reported_on), KCSIE_TARGETS, strict=True
            )
        ],
        lado=_lado_clock(case, now),
        decision=decision,
        sanction_label=decision.sanction_enum.label if decision else None,
        warning_expires_on=decision.warning_expires_on if decision else None,
        warning_spent=bool(decision) and is_spent(decision.warning_expires_on, on),
        appeal=appeal,
        appeal_window_ends=window_ends,
        appeal_window_open=(
            window_ends is not None and case.status == CaseStatus.DECIDED and on <= window_ends
        ),
        appeal_window_passed=window_ends is not None and on > window_ends,
        actions=actions,
        next_step=next_step,
        history=[
            HistoryRow(
                at=move.at,
                by=move.actor.display_name,
                from_label=CaseStatus(move.from_status).label,
                to_label=CaseStatus(move.to_status).label,
                reason=move.reason,
            )
            for move in case.transitions
        ],
    )


def sanction_label(value: str | None) -> str:
    return Sanction(value).label if value else ""


@bp.app_context_processor
def workflow_template_globals() -> dict[str, object]:
    # Functions only: nothing is computed (or queried) until a template calls them.
    return {"workflow_panel": workflow_panel, "sanction_label": sanction_label}


# --- helpers for the pages ---------------------------------------------------------------


def _case_for(case_id: int, action: Action, *options) -> tuple[Case, str | None]:
    """The case, and why `action` cannot go ahead now (None if it can).

    404 outside the user's scope; 403 for someone who may never take this step, whatever
    the case's state.
    """
    case = case_in_scope_or_404(current_user, case_id, *options)
    if not TRANSITIONS[action].who(current_user, case):
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    return case, refusal(case, action, current_user)


def _page(template: str, form, problem: str | None, **context):
    """Render a form page, with why the step cannot go ahead (if so) in the error summary."""
    if problem and problem not in form.form_errors:
        form.form_errors.append(problem)
    return render_template(template, form=form, **context)


def _done(case: Case, message: str):
    db.session.commit()
    # Tell whoever the step now waits for at once (a decision, a return, an appeal, a
    # LADO referral falling due); the scheduled `reminders send` catches anything missed.
    send_due_notifications(case_id=case.id)
    flash(message, "success")
    return redirect(url_for("cases.show", case_id=case.id))


def _uk_moment(day: date, at: time | None) -> datetime:
    """An aware UTC datetime from a UK date and time of day (09:00 if none was given, or
    the present moment when that is still to come today)."""
    moment = datetime.combine(day, at or time(9, 0), UK).astimezone(UTC)
    if at is None and day == today():
        moment = min(moment, utcnow())
    return moment


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


@bp.route("/<int:case_id>/triage", methods=["GET", "POST"])
def triage(case_id: int):
    case, problem = _case_for(
        case_id,
        Action.TRIAGE,
        selectinload(Case.breaches).joinedload(ClauseBreach.clause),
    )
    form = TriageForm()
    if form.validate_on_submit():
        try:
            services.triage(
                case,
                track=form.track.data,
                answers={name: getattr(form, name).data for name in services.HARM_QUESTIONS},
                rationale=form.rationale.data,
                sexual_abuse=form.sexual_abuse.data,
                by=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            if case.is_allegation:
                return _done(
                    case,
                    "Triaged as an allegation. Refer it to the local authority designated "
                    "officer (LADO) and record the referral here.",
                )
            return _done(case, "Triaged as a low-level concern.")
    return _read_on_get(_page("workflow/triage.html", form, problem, case=case), case, "triage")


def _read_on_get(page: str, case: Case, name: str) -> str:
    """A step's page that shows the case's narrative is a read of the case: opening it
    records case.viewed (with the page's name), as the case page does."""
    if request.method == "GET":
        record_case_viewed(case, by=current_user, page=name)
        db.session.commit()
    return page


def _lado_case(case_id: int) -> Case:
    case = case_in_scope_or_404(current_user, case_id)
    if not _lado_steps_apply(case, current_user):
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    return case


@bp.route("/<int:case_id>/lado/referral", methods=["GET", "POST"])
def lado_referral(case_id: int):
    case = _lado_case(case_id)
    form = LadoReferralForm()
    if request.method == "GET":
        if case.lado_referred_at:
            local = case.lado_referred_at.astimezone(UK)
            form.referred_on.data = local.date()
            form.referred_time.data = local.time().replace(second=0, microsecond=0)
            form.method.data = case.lado_method
            form.reference.data = case.lado_reference
        else:
            form.referred_on.data = today()
    if form.validate_on_submit():
        try:
            services.record_lado_referral(
                case,
                referred_at=_uk_moment(form.referred_on.data, form.referred_time.data),
                method=form.method.data,
                reference=form.reference.data or "",
                by=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            return _done(case, "LADO referral recorded.")
    return _page("workflow/lado_referral.html", form, None, case=case)


@bp.route("/<int:case_id>/lado/advice", methods=["GET", "POST"])
def lado_advice(case_id: int):
    case = _lado_case(case_id)
    problem = None if case.lado_referred_at else "Record the referral to the LADO first"
    form = LadoAdviceForm()
    if request.method == "GET":
        form.advised_on.data = case.lado_advice_on or today()
        form.advice.data = case.lado_advice
    if form.validate_on_submit():
        try:
            services.record_lado_advice(
                case,
                advice=form.advice.data,
                advised_on=form.advised_on.data,
                today=today(),
                by=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            return _done(case, "The LADO's advice is recorded.")
    return _page("workflow/lado_advice.html", form, problem, case=case)


# --- investigation -------------------------------------------------------------------------


def _investigators(case: Case) -> list[User]:
    """Everyone who could investigate: the school's case workers (and the CEO)."""
    grants = select(RoleGrant.user_id).where(
        RoleGrant.trust_id == case.trust_id,
        RoleGrant.role.in_([role.value for role in CASE_WORKER_ROLES]),
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
        if grant.role in CASE_WORKER_ROLES and grant.school_id in {case.school_id, None}
    ]
    return f"{user.display_name} ({', '.join(roles)})"


@bp.route("/<int:case_id>/investigation/start", methods=["GET", "POST"])
def start_investigation(case_id: int):
    case, problem = _case_for(case_id, Action.START_INVESTIGATION)
    candidates = _investigators(case)
    form = StartInvestigationForm()
    form.investigator.choices = [
        SelectChoice("", "Choose the investigator"),
        *[SelectChoice(str(user.id), _investigator_label(user, case)) for user in candidates],
    ]
    if form.validate_on_submit():
        chosen = next((u for u in candidates if str(u.id) == form.investigator.data), None)
        try:
            if chosen is None:
                raise DomainError("Choose the investigator", field="investigator")
            services.start_investigation(case, investigator=chosen, by=current_user)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            return _done(case, f"Investigation started. {chosen.display_name} is investigating.")
    return _page("workflow/start_investigation.html", form, problem, case=case)


@bp.route("/<int:case_id>/suspensions/new", methods=["GET", "POST"])
def suspension(case_id: int):
    case = case_in_scope_or_404(current_user, case_id)
    if not _may_record_suspension(case, current_user):
        refuse(object_type="case", object_id=case.id, out_of_scope=False)
    form = SuspensionForm()
    if request.method == "GET":
        form.starts_on.data = today()
    if form.validate_on_submit():
        try:
            services.record_suspension(
                case,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                reason=form.reason.data,
                reviewed_on=form.reviewed_on.data,
                by=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            return _done(case, "Suspension recorded.")
    return _page("workflow/suspension.html", form, None, case=case)


@bp.route("/<int:case_id>/submit", methods=["GET", "POST"])
def submit(case_id: int):
    case, problem = _case_for(case_id, Action.SUBMIT_FOR_DECISION, selectinload(Case.breaches))
    if problem and case.status == CaseStatus.INVESTIGATION and case.breaches:
        problem = None  # only the summary is missing, and this page is where it is written
    form = SubmitForDecisionForm()
    if request.method == "GET":
        form.investigation_summary.data = case.investigation_summary
    if form.validate_on_submit():
        try:
            decision_maker = services.submit_for_decision(
                case, summary=form.investigation_summary.data, by=current_user
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            return _done(case, f"Sent to {_role_in_words(decision_maker, case)} for a decision.")
    return _read_on_get(_page("workflow/submit.html", form, problem, case=case), case, "submit")


def _reason_page(case_id: int, action: Action, form, do, *, message: str, **page):
    """A step that needs only a reason: return, escalate, withdraw, reopen."""
    case, problem = _case_for(case_id, action)
    if form.validate_on_submit():
        try:
            do(case, form.reason.data)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            return _done(case, message)
    return _page("workflow/reason.html", form, problem, case=case, **page)


@bp.route("/<int:case_id>/return", methods=["GET", "POST"])
def return_case(case_id: int):
    return _reason_page(
        case_id,
        Action.RETURN_FOR_INVESTIGATION,
        ReturnForm(),
        lambda case, reason: services.return_for_investigation(
            case, reason=reason, by=current_user
        ),
        message="Case returned for more investigation.",
        heading="Return the case for more investigation",
        intro="The case goes back to the investigator. Say what more you need before you "
        "can decide it.",
    )


@bp.route("/<int:case_id>/escalate", methods=["GET", "POST"])
def escalate(case_id: int):
    return _reason_page(
        case_id,
        Action.ESCALATE,
        EscalateForm(),
        lambda case, reason: services.escalate_to_allegation(case, reason=reason, by=current_user),
        message="Escalated to an allegation. Refer it to the local authority designated "
        "officer (LADO) and record the referral here.",
        heading="Escalate to an allegation",
        intro="The case goes back to triage as an allegation and the LADO clock starts: the "
        "referral to the local authority designated officer is due within one working day.",
    )


@bp.route("/<int:case_id>/withdraw", methods=["GET", "POST"])
def withdraw(case_id: int):
    return _reason_page(
        case_id,
        Action.WITHDRAW,
        WithdrawForm(),
        lambda case, reason: services.withdraw_case(
            case, reason=reason, by=current_user, today=today()
        ),
        message="Case withdrawn.",
        heading="Withdraw the case",
        intro="A withdrawn case is closed without an outcome and can no longer be changed. It "
        "can be reopened later, with a reason.",
        warning=True,
    )


@bp.route("/<int:case_id>/reopen", methods=["GET", "POST"])
def reopen(case_id: int):
    return _reason_page(
        case_id,
        Action.REOPEN,
        ReopenForm(),
        lambda case, reason: services.reopen_case(case, reason=reason, by=current_user),
        message="Case reopened for more investigation.",
        heading="Reopen the case",
        intro="The case goes back to investigation. It will be routed for a decision again "
        "when it is submitted.",
    )


# --- decision ---------------------------------------------------------------------------


@bp.route("/<int:case_id>/decide", methods=["GET", "POST"])
def decide(case_id: int):
    case, problem = _case_for(case_id, Action.DECIDE, *DECISION_PAGE)
    if problem is None and conflicted_in_decision(current_user, case):
        problem = "You are involved in this case, so you cannot decide it"
    form = DecisionForm()
    form.outcome.choices = enum_choices(services.outcomes_for(case))
    if form.validate_on_submit():
        data = services.DecisionInput(
            outcome=form.outcome.data,
            sanction=form.sanction.data,
            rationale=form.rationale.data,
            may_mention_in_references=form.may_mention.data == "yes",
            refer_dbs=form.refer_dbs.data,
            refer_dbs_reason=form.refer_dbs_reason.data or "",
            refer_tra=form.refer_tra.data,
            refer_tra_reason=form.refer_tra_reason.data or "",
            refer_police=form.refer_police.data,
            refer_police_reason=form.refer_police_reason.data or "",
        )
        try:
            decision = services.decide(case, data, by=current_user, today=today())
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            if data.may_mention_in_references and not decision.may_mention_in_references:
                flash(
                    "After this outcome the matter may not be mentioned in future references, "
                    "so that answer is recorded as no.",
                    "info",
                )
            return _done(case, f"Decision recorded: {decision.outcome_label.lower()}.")
    return_form = None
    if refusal(case, Action.RETURN_FOR_INVESTIGATION, current_user) is None:
        return_form = ReturnForm(formdata=None)
    page = _page(
        "workflow/decide.html",
        form,
        problem,
        case=case,
        return_form=return_form,
        can_work=False,
        receipts=subject_read_receipts(case),
        timeline=case_timeline(case),
        panel=workflow_panel(case),
        harm_questions=services.HARM_QUESTIONS,
    )
    # The decision page shows the whole case.
    return _read_on_get(page, case, "decide")


# --- appeal and closing -----------------------------------------------------------------


@bp.route("/<int:case_id>/appeal", methods=["GET", "POST"])
def appeal(case_id: int):
    case, problem = _case_for(case_id, Action.LODGE_APPEAL, selectinload(Case.decisions))
    form = AppealForm()
    if request.method == "GET":
        form.lodged_on.data = today()
    if form.validate_on_submit():
        try:
            lodged = services.lodge_appeal(
                case,
                lodged_on=form.lodged_on.data,
                grounds=form.grounds.data,
                by=current_user,
                today=today(),
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            hearer = db.session.get(User, lodged.heard_by_id)
            return _done(
                case, f"Appeal recorded. It will be heard by {_role_in_words(hearer, case)}."
            )
    return _page(
        "workflow/appeal.html",
        form,
        problem,
        case=case,
        window_ends=services.appeal_window_ends(case),
    )


@bp.route("/<int:case_id>/appeal/decide", methods=["GET", "POST"])
def decide_appeal(case_id: int):
    case, problem = _case_for(
        case_id,
        Action.DECIDE_APPEAL,
        selectinload(Case.decisions).joinedload(Decision.decided_by),
        selectinload(Case.appeals),
    )
    form = AppealDecisionForm()
    if form.validate_on_submit():
        try:
            services.decide_appeal(
                case,
                outcome=form.outcome.data,
                rationale=form.rationale.data,
                varied_sanction=form.varied_sanction.data
                if form.outcome.data == "varied"
                else None,
                by=current_user,
                today=today(),
            )
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            return _done(case, "Appeal outcome recorded. The case is closed.")
    return _page("workflow/decide_appeal.html", form, problem, case=case)


@bp.route("/<int:case_id>/close", methods=["GET", "POST"])
def close(case_id: int):
    case, problem = _case_for(case_id, Action.CLOSE, selectinload(Case.decisions))
    form = CloseForm()
    if form.validate_on_submit():
        try:
            services.close_case(case, by=current_user, today=today())
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            return _done(case, "Case closed.")
    window_ends = services.appeal_window_ends(case)
    return _page(
        "workflow/close.html",
        form,
        problem,
        case=case,
        window_ends=window_ends,
        window_open=window_ends is not None and today() <= window_ends,
    )
