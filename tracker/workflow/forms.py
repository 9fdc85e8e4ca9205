"""Forms for the workflow pages: triage, the LADO, investigation, decision, appeal, closing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput
from wtforms import BooleanField, RadioField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice

from tracker.cases.models import Track
from tracker.db import utcnow
from tracker.forms import (
    YES_NO,
    GovDateField,
    GovTimeField,
    enum_choices,
    radios,
    select_in_scope,
    submit_button,
    text_area,
    text_input,
    yes_no,
)
from tracker.workflow.models import SANCTIONS_AFTER, AppealOutcome, LadoMethod, Sanction
from tracker.workflow.services import HARM_QUESTIONS, lado_referral_problem, uk_moment

TEXT_LIMIT = 10_000
NO_NAMES = "Do not write pupils' names: use initials or a pseudonym."


def _text(label: str, required: str | None, *, description: str = NO_NAMES) -> TextAreaField:
    """A multi-line answer, required with the given message (or optional)."""
    return text_area(
        label,
        description=description,
        required=required,
        max_length=TEXT_LIMIT,
        too_long="Keep this to 10,000 characters or fewer",
        blank_skips_checks=required is None,
    )


HARM_ANSWER_CHOICES = [*YES_NO, SelectChoice("unsure", "Not sure")]


def _harm_question(name: str) -> RadioField:
    return radios(
        HARM_QUESTIONS[name],
        HARM_ANSWER_CHOICES,
        required="Answer each question about the harm threshold",
    )


class TriageForm(FlaskForm):
    harm_child = _harm_question("harm_child")
    harm_offence = _harm_question("harm_offence")
    harm_risk = _harm_question("harm_risk")
    harm_unsuitable = _harm_question("harm_unsuitable")
    track = radios(
        "Which track is this case on?",
        enum_choices(Track),
        description="A yes to any question above makes it an allegation. An allegation must "
        "be referred to the local authority designated officer (LADO).",
        required="Choose the track",
    )
    rationale = _text(
        "Why did you decide this?",
        "Explain the triage decision, including any decision not to refer",
        description="Include any decision not to refer to the LADO and why. " + NO_NAMES,
    )
    sexual_abuse = BooleanField(
        "The concern is about sexual abuse",
        widget=GovCheckboxInput(),
        description="The record is then preserved for the statutory inquiry, whatever the "
        "usual retention. Only the data protection officer or the CEO can change this later.",
    )
    submit = submit_button("Save the triage")


class LadoReferralForm(FlaskForm):
    referred_on = GovDateField(
        "Date of the referral",
        description="For example, 27 3 2026",
        invalid="The date of the referral must be a real date, like 27 3 2026",
    )
    referred_time = GovTimeField("Time of the referral (optional)")
    method = radios(
        "How was the referral made?",
        enum_choices(LadoMethod),
        required="Choose how the referral was made",
    )
    reference = text_input(
        "The LADO's reference (optional)",
        max_length=100,
        too_long="Keep this to 100 characters or fewer",
    )
    submit = submit_button("Save the referral")

    # Set by the step's page: when the case was triaged (the referral cannot come before
    # that day), and the present moment (None: the clock's), against which a date and
    # time typed in UK time are checked along with the other answers.
    triaged_at: datetime | None = None
    now: datetime | None = None

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        day = self.referred_on.data
        if day is None or self.referred_on.errors or self.referred_time.errors:
            return valid
        now = self.now or utcnow()
        referred_at = uk_moment(day, self.referred_time.data, now=now)
        problem = lado_referral_problem(referred_at, triaged_at=self.triaged_at, now=now)
        if problem is None:
            return valid
        self[problem.field or "referred_on"].errors.append(problem.message)
        return False


class LadoAdviceForm(FlaskForm):
    advised_on = GovDateField("Date of the advice", description="For example, 27 3 2026")
    advice = _text("What did the LADO advise?", "Record the LADO's advice")
    submit = submit_button("Save the advice")


class StartInvestigationForm(FlaskForm):
    # Offered and checked against the school's case workers by the view, which also says
    # who they may be (tracker/workflow/steps.py investigators_in_words).
    investigator = select_in_scope("Who will investigate?", required="Choose the investigator")
    submit = submit_button("Start the investigation")


class SuspensionForm(FlaskForm):
    starts_on = GovDateField("Start date", description="For example, 27 3 2026")
    ends_on = GovDateField(
        "End date (optional)",
        required=False,
        invalid="The end date must be a real date, like 27 3 2026",
    )
    reviewed_on = GovDateField(
        "Date of the next review (optional)",
        required=False,
        invalid="The date of the next review must be a real date, like 27 3 2026",
    )
    reason = _text("Why is the member of staff suspended?", "Give the reason for the suspension")
    submit = submit_button("Save the suspension")


class SubmitForDecisionForm(FlaskForm):
    investigation_summary = _text(
        "Investigation summary",
        "Write the investigation summary",
        description="What the investigation found, for the person who decides. " + NO_NAMES,
    )
    submit = submit_button("Submit for decision")


class ReturnForm(FlaskForm):
    reason = _text("What more is needed?", "Say what more is needed")
    submit = submit_button("Return for more investigation")


class EscalateForm(FlaskForm):
    reason = _text("Why is this now an allegation?", "Say why this is now an allegation")
    submit = submit_button("Escalate to an allegation")


class DecisionForm(FlaskForm):
    # The choices depend on the case's track: set by the view from `outcomes_for(case)`.
    outcome = radios("Outcome", required="Choose the outcome")
    # Asked under each outcome a sanction may follow (SANCTIONS_AFTER), with the sanctions
    # it allows; after any other outcome the service records none.
    sanction = radios("Sanction", enum_choices(Sanction), validate_choice=False)
    refer_dbs = BooleanField(
        "Refer to the Disclosure and Barring Service (DBS)", widget=GovCheckboxInput()
    )
    refer_dbs_reason = _text("Why refer to the DBS?", None, description="")
    refer_tra = BooleanField("Refer to the Teaching Regulation Agency", widget=GovCheckboxInput())
    refer_tra_reason = _text("Why refer to the Teaching Regulation Agency?", None, description="")
    refer_police = BooleanField("Refer to the police", widget=GovCheckboxInput())
    refer_police_reason = _text("Why refer to the police?", None, description="")
    may_mention = yes_no(
        "May this matter be mentioned in future references?",
        # Asked of an allegation only (a low-level concern's is always no).
        description="It is recorded as no, whatever you answer, after an unsubstantiated, "
        "unfounded, false or malicious outcome.",
        required="Say whether this may appear in future references",
    )
    rationale = _text(
        "Reasons for the decision",
        "Write the reasons for the decision",
        description="Explain the outcome and any sanction against the evidence above. " + NO_NAMES,
    )
    submit = submit_button("Record the decision")

    def validate_sanction(self, field: RadioField) -> None:
        if self.outcome.data in SANCTIONS_AFTER and not field.data:
            raise ValidationError("Choose the sanction")


class AppealForm(FlaskForm):
    lodged_on = GovDateField("Date the appeal was lodged", description="For example, 27 3 2026")
    grounds = _text("Grounds of the appeal", "Give the grounds of the appeal")
    submit = submit_button("Record the appeal")


class AppealDecisionForm(FlaskForm):
    outcome = radios(
        "Outcome of the appeal",
        enum_choices(AppealOutcome),
        required="Choose the outcome of the appeal",
    )
    varied_sanction = radios(
        "Sanction as varied",
        enum_choices(Sanction),
        validate_choice=False,  # only read when the decision is varied; the service checks it
    )
    rationale = _text("Reasons for the appeal outcome", "Write the reasons for the appeal outcome")
    submit = submit_button("Record the appeal outcome")


class CloseForm(FlaskForm):
    submit = submit_button("Close the case")


class WithdrawForm(FlaskForm):
    reason = _text(
        "Why is the case being withdrawn?",
        "Say why the case is being withdrawn",
        description="For example, the report was about someone else. A withdrawal is not an "
        "outcome. " + NO_NAMES,
    )
    submit = submit_button("Withdraw the case")


class ReopenForm(FlaskForm):
    reason = _text("Why is the case being reopened?", "Say why the case is being reopened")
    submit = submit_button("Reopen the case")
