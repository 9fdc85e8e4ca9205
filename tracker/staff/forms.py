"""Forms for the staff register: finding, adding and editing members of staff."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextInput
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from tracker.forms import GovDateField


class StaffSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    school = SelectField("School", widget=GovSelect(), coerce=int, validate_choice=False)
    q = StringField("Name or employee number", widget=GovTextInput())


class StaffMemberForm(FlaskForm):
    school = SelectField(
        "School",
        widget=GovSelect(),
        coerce=int,
        # The view checks the choice against the user's scope, with a message in words.
        validate_choice=False,
        validators=[InputRequired(message="Choose the school")],
    )
    full_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the member of staff's full name"),
            Length(max=200, message="The full name must be 200 characters or fewer"),
        ],
    )
    job_title = StringField(
        "Job title",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter their job title"),
            Length(max=200, message="The job title must be 200 characters or fewer"),
        ],
    )
    employee_number = StringField(
        "Employee number",
        widget=GovTextInput(),
        description="As on the payroll. No two members of staff in the trust share one.",
        validators=[
            InputRequired(message="Enter their employee number"),
            Length(max=40, message="The employee number must be 40 characters or fewer"),
        ],
    )
    normal_retirement_date = GovDateField(
        "Normal retirement date",
        required=False,
        description="Leave it blank if you do not know it. For example, 31 8 2045. "
        "It decides how long records of allegations about them are kept.",
    )


class NewStaffMemberForm(StaffMemberForm):
    submit = SubmitField("Add member of staff", widget=GovSubmitInput())


class EditStaffMemberForm(StaffMemberForm):
    left_on = GovDateField(
        "Last day of employment",
        required=False,
        description="Only once they are leaving the trust, or have left. For example, "
        "31 8 2027. Low-level concerns about them are reviewed after this day.",
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())
