"""Forms for the workflow pages: triage, the LADO, investigation, decision, appeal, closing."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from tracker.cases.models import LabelledEnum, Track
from tracker.forms import GovDateField, GovTimeField
from tracker.workflow.models import AppealOutcome, LadoMethod, Sanction
from tracker.workflow.services import HARM_QUESTIONS

TEXT_LIMIT = 10_000
NO_NAMES = "Do not write pupils' names: use initials or a pseudonym."


def enum_choices(enum: type[LabelledEnum]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in enum.choices()]


def _text(label: str, required: str | None, *, description: str = NO_NAMES) -> TextAreaField:
    """A multi-line answer, required with the given message (or optional)."""
    validators = [InputRequired(message=required)] if required else [Optional()]
    return TextAreaField(
        label,
        widget=GovTextArea(),
        description=description,
        validators=[
            *validators,
            Length(max=TEXT_LIMIT, message="Keep this to 10,000 characters or fewer"),
        ],
    )


HARM_ANSWER_CHOICES = [
    SelectChoice("yes", "Yes"),
    SelectChoice("no", "No"),
    SelectChoice("unsure", "Not sure"),
]


def _harm_question(name: str) -> RadioField:
    return RadioField(
        HARM_QUESTIONS[name],
        widget=GovRadioInput(),
        choices=HARM_ANSWER_CHOICES,
        validators=[InputRequired(message="Answer each question about the harm threshold")],
    )


class TriageForm(FlaskForm):
    harm_child = _harm_question("harm_child")
    harm_offence = _harm_question("harm_offence")
    harm_risk = _harm_question("harm_risk")
    harm_unsuitable = _harm_question("harm_unsuitable")
    track = RadioField(
        "Which track is this case on?",
        widget=GovRadioInput(),
        choices=enum_choices(Track),
        description="A yes to any question above makes it an allegation. An allegation must "
        "be referred to the local authority designated officer (LADO).",
        validators=[InputRequired(message="Choose the track")],
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
    submit = SubmitField("Save the triage", widget=GovSubmitInput())


class LadoReferralForm(FlaskForm):
    referred_on = GovDateField("Date of the referral", description="For example, 27 3 2026")
    referred_time = GovTimeField("Time of the referral (optional)")
    method = RadioField(
        "How was the referral made?",
        widget=GovRadioInput(),
        choices=enum_choices(LadoMethod),
        validators=[InputRequired(message="Choose how the referral was made")],
    )
    reference = StringField(
        "The LADO's reference (optional)",
        widget=GovTextInput(),
        validators=[Length(max=100, message="Keep this to 100 characters or fewer")],
    )
    submit = SubmitField("Save the referral", widget=GovSubmitInput())


class LadoAdviceForm(FlaskForm):
    advised_on = GovDateField("Date of the advice", description="For example, 27 3 2026")
    advice = _text("What did the LADO advise?", "Record the LADO's advice")
    submit = SubmitField("Save the advice", widget=GovSubmitInput())


class StartInvestigationForm(FlaskForm):
    investigator = SelectField(
        "Who will investigate?",
        widget=GovSelect(),
        description="A safeguarding lead or the headteacher of the school. The person who "
        "investigates cannot decide the case.",
        validate_choice=False,  # checked against the school's case workers by the view
        validators=[InputRequired(message="Choose the investigator")],
    )
    submit = SubmitField("Start the investigation", widget=GovSubmitInput())


class SuspensionForm(FlaskForm):
    starts_on = GovDateField("Start date", description="For example, 27 3 2026")
    ends_on = GovDateField("End date (optional)", required=False)
    reviewed_on = GovDateField("Date of the next review (optional)", required=False)
    reason = _text("Why is the member of staff suspended?", "Give the reason for the suspension")
    submit = SubmitField("Save the suspension", widget=GovSubmitInput())


class SubmitForDecisionForm(FlaskForm):
    investigation_summary = _text(
        "Investigation summary",
        "Write the investigation summary",
        description="What the investigation found, for the person who decides. " + NO_NAMES,
    )
    submit = SubmitField("Submit for decision", widget=GovSubmitInput())


class ReturnForm(FlaskForm):
    reason = _text("What more is needed?", "Say what more is needed")
    submit = SubmitField("Return for more investigation", widget=GovSubmitInput())


class EscalateForm(FlaskForm):
    reason = _text("Why is this now an allegation?", "Say why this is now an allegation")
    submit = SubmitField("Escalate to an allegation", widget=GovSubmitInput())


YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class DecisionForm(FlaskForm):
    # The choices depend on the case's track: set by the view from `outcomes_for(case)`.
    outcome = RadioField(
        "Outcome",
        widget=GovRadioInput(),
        validators=[InputRequired(message="Choose the outcome")],
    )
    sanction = RadioField(
        "Sanction",
        widget=GovRadioInput(),
        choices=enum_choices(Sanction),
        description="A sanction follows only a substantiated allegation, advice and guidance "
        "(management advice only) or a referral to the disciplinary procedure.",
        validators=[InputRequired(message="Choose the sanction")],
    )
    refer_dbs = BooleanField(
        "Refer to the Disclosure and Barring Service (DBS)", widget=GovCheckboxInput()
    )
    refer_dbs_reason = _text("Why refer to the DBS?", None, description="")
    refer_tra = BooleanField("Refer to the Teaching Regulation Agency", widget=GovCheckboxInput())
    refer_tra_reason = _text("Why refer to the Teaching Regulation Agency?", None, description="")
    refer_police = BooleanField("Refer to the police", widget=GovCheckboxInput())
    refer_police_reason = _text("Why refer to the police?", None, description="")
    may_mention = RadioField(
        "May this matter be mentioned in future references?",
        widget=GovRadioInput(),
        choices=YES_NO,
        description="It is recorded as no, whatever you answer, after an unsubstantiated, "
        "unfounded, false or malicious outcome, and for a low-level concern.",
        validators=[InputRequired(message="Say whether this may appear in future references")],
    )
    rationale = _text(
        "Reasons for the decision",
        "Write the reasons for the decision",
        description="Explain the outcome and any sanction against the evidence above. " + NO_NAMES,
    )
    submit = SubmitField("Record the decision", widget=GovSubmitInput())


class AppealForm(FlaskForm):
    lodged_on = GovDateField("Date the appeal was lodged", description="For example, 27 3 2026")
    grounds = _text("Grounds of the appeal", "Give the grounds of the appeal")
    submit = SubmitField("Record the appeal", widget=GovSubmitInput())


class AppealDecisionForm(FlaskForm):
    outcome = RadioField(
        "Outcome of the appeal",
        widget=GovRadioInput(),
        choices=enum_choices(AppealOutcome),
        validators=[InputRequired(message="Choose the outcome of the appeal")],
    )
    varied_sanction = RadioField(
        "Sanction as varied",
        widget=GovRadioInput(),
        choices=enum_choices(Sanction),
        validate_choice=False,  # only read when the decision is varied; the service checks it
    )
    rationale = _text("Reasons for the appeal outcome", "Write the reasons for the appeal outcome")
    submit = SubmitField("Record the appeal outcome", widget=GovSubmitInput())


class CloseForm(FlaskForm):
    submit = SubmitField("Close the case", widget=GovSubmitInput())


class WithdrawForm(FlaskForm):
    reason = _text(
        "Why is the case being withdrawn?",
        "Say why the case is being withdrawn",
        description="For example, the report was about someone else. A withdrawal is not an "
        "outcome. " + NO_NAMES,
    )
    submit = SubmitField("Withdraw the case", widget=GovSubmitInput())


class ReopenForm(FlaskForm):
    reason = _text("Why is the case being reopened?", "Say why the case is being reopened")
    submit = SubmitField("Reopen the case", widget=GovSubmitInput())
