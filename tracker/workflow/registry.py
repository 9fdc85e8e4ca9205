"""The action registry: every step that changes a case, declared once.

Each step is one entry: who may take it (a named predicate of tracker/auth/permissions.py),
the stages it belongs to and the stage it moves the case to, its guard (why it cannot go
ahead now, in words), and its page: the form, the function that calls its service, and
the template. Everything else reads this table:

- the services in tracker/workflow/services.py check a step with `refusal` before they
  change anything (and their `_move` is the only writer of a case's status);
- tracker/workflow/views.py registers one route per step, all through one view path;
- the case page's "What happens next" panel (tracker/workflow/panel.py) offers the steps
  `offered` returns, and the case page its edit links;
- the authorisation matrix test derives the case's step pages from it.

A step that moves the case on (it has a `target`) explains on its page why it cannot go
on from the case's stage: that page is where the person learns what comes first. A step
that records something within stages (the LADO, a suspension, the case's content) is
refused (403) outside them, as the case page never offers it there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from tracker.auth.models import User
from tracker.auth.permissions import (
    is_appeal_hearer,
    is_case_worker,
    is_conflicted_in_decision,
    is_decision_maker,
    is_worker_or_decision_maker,
)
from tracker.cases import steps as case_steps
from tracker.cases.evidence_forms import EvidenceForm, RemoveEvidenceForm
from tracker.cases.forms import ChronologyEntryForm, CiteClauseForm, EditCaseForm, PersonForm
from tracker.cases.loads import CASE_PAGE, CLAUSES, DECISIONS, EVIDENCE
from tracker.cases.models import OPEN_STATUSES, Case, CaseStatus, Track
from tracker.errors import DomainError
from tracker.insight import steps as insight_steps
from tracker.insight.forms import LinkCaseForm, PatternReviewForm, UnlinkCaseForm
from tracker.workflow import steps
from tracker.workflow.calls import Done, StepCall
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
)
from tracker.workflow.models import Action
from tracker.workflow.services import decision_due_on, triage_due

S = CaseStatus
OPEN = frozenset(OPEN_STATUSES)

Who = Callable[[User, Case], bool]
Guard = Callable[[Case, User], str | None]


class Place(StrEnum):
    """Where the case page offers a step."""

    MAIN = "main"  # the usual path: the panel's main button when it is the first one offered
    SIDE = "side"  # aside from the usual path: offered in the panel, never as its main button
    EDIT = "edit"  # the case's own content: offered beside what it changes, not in the panel


@dataclass(frozen=True, kw_only=True)
class Page:
    """A step's page. `run` calls the step's one service with the form's answers (it
    raises DomainError to refuse); the rest prepares what the page shows."""

    path: str  # below /cases/<case_id>
    form: type[FlaskForm]
    template: str
    run: Callable[[StepCall], Done]
    # Choices and first answers; may answer the request itself (a redirect).
    prepare: Callable[[StepCall], ResponseReturnValue | None] | None = None
    context: Callable[[StepCall], Mapping[str, Any]] | None = None
    # A refusal the page shows in its own way (default: on the field it names).
    refused: Callable[[StepCall, DomainError], None] | None = None
    item: Callable[[Case, int], Any] | None = None  # loads the record the path names
    loads: tuple[LoaderOption, ...] = ()  # what the page shows, loaded with the case
    read_as: str | None = None  # opening it reads the case's content (case.viewed, page)
    shows_panel: bool = False  # the page shows the case's "What happens next" panel


@dataclass(frozen=True, kw_only=True)
class Step:
    action: Action
    label: str | Callable[[Case], str]  # the button or link that starts it
    who: Who
    who_in_words: str
    guard: Guard
    sources: frozenset[CaseStatus]
    target: CaseStatus | None = None
    # For a step within stages: the cases it belongs to at all (the LADO's: an allegation).
    # Elsewhere its page answers 403 and the services refuse it with this reason.
    belongs: Guard | None = None
    place: Place = Place.MAIN
    # The main button of the panel when offered first, for steps other than the main path's.
    leads_when: Callable[[Case], bool] | None = None
    # Taken only when something changes the case's course (escalating, withdrawing): the
    # panel offers it after every other step, so the usual next step comes first.
    exceptional: bool = False
    # Who the step waits for, when the case names them (its investigator, its decision
    # maker, the appeal's hearer); otherwise `who_in_words`.
    assignee: Callable[[Case], User | None] | None = None
    # When the step is due, where a rule sets a deadline for it.
    due: Callable[[Case], date | datetime | None] | None = None
    page: Page

    @property
    def endpoint(self) -> str:
        return f"workflow.{self.action.value}"

    @property
    def moves_case(self) -> bool:
        return self.target is not None

    def label_for(self, case: Case) -> str:
        return self.label if isinstance(self.label, str) else self.label(case)


# --- guards: None when the step may go ahead, else the reason in words -------------------


def nothing_first(case: Case, user: User) -> str | None:
    """No condition beyond who may take the step and where it belongs."""
    return None


def lado_gate(case: Case, user: User) -> str | None:
    if not case.lado_gate_open:
        return (
            "Record the referral to the local authority designated officer (LADO) and the "
            "LADO's advice before the investigation starts"
        )
    return None


def cites_a_clause(case: Case, user: User) -> str | None:
    if not case.breaches:
        return "Cite at least one clause of the policy before submitting the case"
    return None


def low_level_only(case: Case, user: User) -> str | None:
    if case.track != Track.LOW_LEVEL:
        return "Only a low-level concern can be escalated to an allegation"
    return None


def pattern_flagged(case: Case, user: User) -> str | None:
    if case.pattern_flagged_at is None:
        return "No pattern of concerns has been flagged on this case"
    return None


def pattern_not_reviewed(case: Case, user: User) -> str | None:
    if case.pattern_reviewed_at is not None:
        return "The pattern of concerns on this case has been reviewed already"
    return None


def pattern_reviewed(case: Case, user: User) -> str | None:
    if case.pattern_unreviewed:
        return "Record the review of the pattern of concerns before the case is closed"
    return None


def not_conflicted(case: Case, user: User) -> str | None:
    if is_conflicted_in_decision(user, case):
        return "You are involved in this case, so you cannot decide it"
    return None


def an_allegation(case: Case, user: User) -> str | None:
    if not case.is_allegation:
        return "Only an allegation is referred to the LADO"
    return None


def lado_referred(case: Case, user: User) -> str | None:
    if case.lado_referred_at is None:
        return "Record the referral to the LADO first"
    return None


WORKERS = "a safeguarding lead or deputy, the headteacher or the chief executive"
WORKERS_OR_DECIDER = (
    "a safeguarding lead or deputy, the headteacher, the chief executive or the person "
    "deciding the case"
)
WORKERS_OR_DECIDED = (
    "a safeguarding lead or deputy, the headteacher, the chief executive or the person who decided"
)
DECIDER = "the person deciding the case"


def _reason_page(path: str, form: type[FlaskForm], run: Callable[[StepCall], Done]) -> Page:
    """The page of a step that needs only a reason: return, escalate, withdraw, reopen."""
    return Page(
        path=path, form=form, template="workflow/reason.html", run=run, context=steps.reason_words
    )


STEPS: dict[Action, Step] = {
    step.action: step
    for step in [
        Step(
            action=Action.TRIAGE,
            label="Triage",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=frozenset({S.REPORTED}),
            target=S.TRIAGE,
            due=triage_due,
            page=Page(
                path="/triage",
                form=TriageForm,
                template="workflow/triage.html",
                run=steps.triage,
                context=insight_steps.pattern_context,
                loads=CLAUSES,
                read_as="triage",
            ),
        ),
        Step(
            action=Action.LADO_REFERRAL,
            label=lambda case: (
                "Change the LADO referral" if case.lado_referred_at else "Record the LADO referral"
            ),
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=frozenset({S.TRIAGE}),
            belongs=an_allegation,
            leads_when=lambda case: case.lado_referred_at is None,
            due=lambda case: case.lado_due_at,
            page=Page(
                path="/lado/referral",
                form=LadoReferralForm,
                template="workflow/lado_referral.html",
                run=steps.lado_referral,
                prepare=steps.prepare_lado_referral,
            ),
        ),
        Step(
            action=Action.LADO_ADVICE,
            label=lambda case: (
                "Change the LADO's advice" if case.lado_advice else "Record the LADO's advice"
            ),
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=lado_referred,
            sources=frozenset({S.TRIAGE}),
            belongs=an_allegation,
            leads_when=lambda case: not case.lado_advice.strip(),
            page=Page(
                path="/lado/advice",
                form=LadoAdviceForm,
                template="workflow/lado_advice.html",
                run=steps.lado_advice,
                prepare=steps.prepare_lado_advice,
            ),
        ),
        Step(
            action=Action.START_INVESTIGATION,
            label="Start the investigation",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=lado_gate,
            sources=frozenset({S.TRIAGE}),
            target=S.INVESTIGATION,
            page=Page(
                path="/investigation/start",
                form=StartInvestigationForm,
                template="workflow/start_investigation.html",
                run=steps.start_investigation,
                prepare=steps.prepare_investigators,
            ),
        ),
        Step(
            action=Action.SUBMIT_FOR_DECISION,
            label="Submit for decision",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=cites_a_clause,
            sources=frozenset({S.INVESTIGATION}),
            target=S.AWAITING_DECISION,
            assignee=lambda case: case.investigator,
            page=Page(
                path="/submit",
                form=SubmitForDecisionForm,
                template="workflow/submit.html",
                run=steps.submit_for_decision,
                prepare=steps.prepare_summary,
                loads=CLAUSES,
                read_as="submit",
            ),
        ),
        Step(
            action=Action.RETURN_FOR_INVESTIGATION,
            label="Return for more investigation",
            who=is_decision_maker,
            who_in_words=DECIDER,
            guard=nothing_first,
            sources=frozenset({S.AWAITING_DECISION}),
            target=S.INVESTIGATION,
            place=Place.SIDE,
            page=_reason_page("/return", ReturnForm, steps.return_for_investigation),
        ),
        Step(
            action=Action.ESCALATE,
            label="Escalate to an allegation",
            who=is_worker_or_decision_maker,
            who_in_words=WORKERS_OR_DECIDER,
            guard=low_level_only,
            sources=frozenset({S.TRIAGE, S.INVESTIGATION, S.AWAITING_DECISION}),
            target=S.TRIAGE,
            place=Place.SIDE,
            exceptional=True,
            page=_reason_page("/escalate", EscalateForm, steps.escalate),
        ),
        Step(
            action=Action.DECIDE,
            label="Record the decision",
            who=is_decision_maker,
            who_in_words=DECIDER,
            guard=not_conflicted,
            sources=frozenset({S.AWAITING_DECISION}),
            target=S.DECIDED,
            assignee=lambda case: case.decision_maker,
            due=decision_due_on,
            page=Page(
                path="/decide",
                form=DecisionForm,
                template="workflow/decide.html",
                run=steps.decide,
                prepare=steps.prepare_outcomes,
                context=steps.decision_page,
                loads=CASE_PAGE,
                read_as="decide",
                shows_panel=True,
            ),
        ),
        Step(
            action=Action.LODGE_APPEAL,
            label="Record an appeal",
            who=is_worker_or_decision_maker,
            who_in_words=WORKERS_OR_DECIDED,
            guard=nothing_first,
            sources=frozenset({S.DECIDED}),
            target=S.APPEAL,
            place=Place.SIDE,
            page=Page(
                path="/appeal",
                form=AppealForm,
                template="workflow/appeal.html",
                run=steps.lodge_appeal,
                prepare=steps.prepare_appeal,
                context=steps.appeal_window,
                loads=DECISIONS,
            ),
        ),
        Step(
            action=Action.DECIDE_APPEAL,
            label="Record the appeal outcome",
            who=is_appeal_hearer,
            who_in_words="the person hearing the appeal",
            guard=nothing_first,
            sources=frozenset({S.APPEAL}),
            target=S.CLOSED,
            assignee=lambda case: case.appeal.heard_by if case.appeal else None,
            page=Page(
                path="/appeal/decide",
                form=AppealDecisionForm,
                template="workflow/decide_appeal.html",
                run=steps.decide_appeal,
                loads=(*DECISIONS, selectinload(Case.appeals)),
            ),
        ),
        Step(
            action=Action.CLOSE,
            label="Close the case",
            who=is_worker_or_decision_maker,
            who_in_words=WORKERS_OR_DECIDED,
            guard=pattern_reviewed,
            sources=frozenset({S.DECIDED}),
            target=S.CLOSED,
            page=Page(
                path="/close",
                form=CloseForm,
                template="workflow/close.html",
                run=steps.close,
                context=steps.appeal_window,
                loads=DECISIONS,
            ),
        ),
        Step(
            action=Action.WITHDRAW,
            label="Withdraw the case",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=OPEN,
            target=S.WITHDRAWN,
            place=Place.SIDE,
            exceptional=True,
            page=_reason_page("/withdraw", WithdrawForm, steps.withdraw),
        ),
        Step(
            action=Action.REOPEN,
            label="Reopen the case",
            who=is_case_worker,
            who_in_words="a safeguarding lead or the headteacher of the school, or the CEO",
            guard=nothing_first,
            sources=frozenset({S.CLOSED, S.WITHDRAWN}),
            target=S.INVESTIGATION,
            place=Place.SIDE,
            page=_reason_page("/reopen", ReopenForm, steps.reopen),
        ),
        Step(
            action=Action.RECORD_SUSPENSION,
            label="Record a suspension",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=OPEN,
            place=Place.SIDE,
            page=Page(
                path="/suspensions/new",
                form=SuspensionForm,
                template="workflow/suspension.html",
                run=steps.record_suspension,
                prepare=steps.prepare_suspension,
            ),
        ),
        # --- insight: a pattern of concerns about the subject, links between cases --------
        Step(
            action=Action.REVIEW_PATTERN,
            label="Review the pattern of concerns",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=pattern_not_reviewed,
            belongs=pattern_flagged,
            # Once triaged (escalating needs a track), until it closes.
            sources=frozenset({S.TRIAGE, S.INVESTIGATION, S.AWAITING_DECISION, S.DECIDED}),
            place=Place.SIDE,
            leads_when=lambda case: case.pattern_unreviewed,
            page=Page(
                path="/pattern-review",
                form=PatternReviewForm,
                template="insight/pattern_review.html",
                run=insight_steps.review,
                context=insight_steps.pattern_context,
                loads=CLAUSES,
            ),
        ),
        Step(
            action=Action.LINK_CASE,
            label="Link to another case",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=OPEN,
            place=Place.EDIT,
            page=Page(
                path="/links/new",
                form=LinkCaseForm,
                template="insight/link_new.html",
                run=insight_steps.link,
            ),
        ),
        Step(
            action=Action.UNLINK_CASE,
            label="Remove the link",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=OPEN,
            place=Place.EDIT,
            page=Page(
                path="/links/<int:link_id>/remove",
                form=UnlinkCaseForm,
                template="insight/link_remove.html",
                run=insight_steps.unlink,
                item=insight_steps.link_of,
            ),
        ),
        # --- the case's own content -------------------------------------------------------
        Step(
            action=Action.EDIT_DETAILS,
            label="Change the details",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=OPEN,
            place=Place.EDIT,
            page=Page(
                path="/edit",
                form=EditCaseForm,
                template="cases/edit.html",
                run=case_steps.edit_details,
                prepare=case_steps.prepare_details,
                refused=case_steps.edit_refused,
                read_as="edit",
            ),
        ),
        Step(
            action=Action.CITE_CLAUSE,
            label="Cite a rule",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            # Until the case is submitted: the decision is made on the rules cited then.
            sources=frozenset({S.REPORTED, S.TRIAGE, S.INVESTIGATION}),
            place=Place.EDIT,
            page=Page(
                path="/clauses/new",
                form=CiteClauseForm,
                template="cases/clause_new.html",
                run=case_steps.cite_clause,
                prepare=case_steps.prepare_clauses,
                loads=CLAUSES,
            ),
        ),
        Step(
            action=Action.ADD_PERSON,
            label="Add a person involved",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=OPEN,
            place=Place.EDIT,
            page=Page(
                path="/people/new",
                form=PersonForm,
                template="cases/person_new.html",
                run=case_steps.add_person,
            ),
        ),
        Step(
            action=Action.ADD_CHRONOLOGY_ENTRY,
            label="Add a chronology entry",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=OPEN,
            place=Place.EDIT,
            page=Page(
                path="/chronology/new",
                form=ChronologyEntryForm,
                template="cases/entry_new.html",
                run=case_steps.add_chronology_entry,
                prepare=case_steps.prepare_entry,
            ),
        ),
        Step(
            action=Action.ADD_EVIDENCE,
            label="Add evidence",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=OPEN,
            place=Place.EDIT,
            page=Page(
                path="/evidence/new",
                form=EvidenceForm,
                template="cases/evidence_new.html",
                run=case_steps.add_evidence,
                prepare=case_steps.prepare_evidence,
                context=case_steps.evidence_page,
            ),
        ),
        Step(
            action=Action.REMOVE_EVIDENCE,
            label="Remove",
            who=is_case_worker,
            who_in_words=WORKERS,
            guard=nothing_first,
            sources=OPEN,
            place=Place.EDIT,
            page=Page(
                path="/evidence/<int:evidence_id>/remove",
                form=RemoveEvidenceForm,
                template="cases/evidence_remove.html",
                run=case_steps.remove_evidence,
                prepare=case_steps.prepare_removal,
                item=case_steps.evidence_of,
                loads=EVIDENCE,
            ),
        ),
    ]
}


def stage_refusal(step: Step, case: Case) -> str | None:
    if case.status in step.sources:
        return None
    return (
        f"This case is at the \u201c{case.status_enum.label.lower()}\u201d stage, so it "
        "cannot go on to this step"
    )


def refusal(case: Case, action: Action, user: User) -> str | None:
    """Why `user` may not take `action` on `case` now, in words; None if they may.

    The services ask this before they change anything; the step's page shows it.
    """
    step = STEPS[action]
    if problem := stage_refusal(step, case):
        return problem
    if not step.who(user, case):
        return f"Only {step.who_in_words} can do this"
    if step.belongs and (problem := step.belongs(case, user)):
        return problem
    return step.guard(case, user)


def belongs_here(step: Step, case: Case, user: User) -> bool:
    """The person may ever take this step on this case: otherwise its page answers 403.

    A step that records something within stages belongs only to those stages (and to the
    cases its `belongs` admits): nothing on the case page leads there at any other time.
    """
    if not step.who(user, case):
        return False
    if step.moves_case:
        return True
    return case.status in step.sources and (step.belongs is None or not step.belongs(case, user))


def offered(case: Case, user: User, place: Place | None = None) -> list[Step]:
    """The steps the case page offers this user now, in the registry's order.

    A step is offered where it belongs and to whoever may take it. A step aside from the
    main path that the case does not qualify for (escalating an allegation, the LADO's
    advice before the referral) is not offered; a main step still waiting on something
    is, and its page says what.
    """
    return [
        step
        for step in STEPS.values()
        if (place is None or step.place is place)
        and case.status in step.sources
        and belongs_here(step, case, user)
        and (step.place is Place.MAIN and step.moves_case or step.guard(case, user) is None)
    ]


def awaited(case: Case) -> Step | None:
    """The step of the usual path the case waits for now, whoever is to take it: the first
    main step of its stage that belongs to it and leads the way (the LADO's steps while
    they are still to do). None once the case is closed or withdrawn."""
    return next(
        (
            step
            for step in STEPS.values()
            if step.place is Place.MAIN
            and case.status in step.sources
            # Where a step belongs depends on the case alone (an allegation, a pattern
            # flagged), whoever asks: the reporter stands in for the person.
            and (step.belongs is None or step.belongs(case, case.reported_by) is None)
            and (step.leads_when is None or step.leads_when(case))
        ),
        None,
    )
