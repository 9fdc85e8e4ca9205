"""Forms for the staff register: finding, adding and editing members of staff."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect
from wtforms import SelectField

from tracker.forms import GetForm, GovDateField, select_in_scope, submit_button, text_input


class StaffSearchForm(GetForm):
    school = SelectField("School", widget=GovSelect(), coerce=int, validate_choice=False)
    q = text_input("Name or employee number")


class StaffMemberForm(FlaskForm):
    school = select_in_scope("School", required="Choose the school", coerce=int)
    full_name = text_input(
        "Full name",
        required="Enter the member of staff's full name",
        max_length=200,
        too_long="The full name must be 200 characters or fewer",
    )
    job_title = text_input(
        "Job title",
        required="Enter their job title",
        max_length=200,
        too_long="The job title must be 200 characters or fewer",
    )
    employee_number = text_input(
        "Employee number",
        description="As on the payroll. No two members of staff in the trust share one.",
        required="Enter their employee number",
        max_length=40,
        too_long="The employee number must be 40 characters or fewer",
    )
    normal_retirement_date = GovDateField(
        "Normal retirement date",
        required=False,
        description="Leave it blank if you do not know it. For example, 31 8 2045. "
        "It decides how long records of allegations about them are kept.",
    )


class NewStaffMemberForm(StaffMemberForm):
    submit = submit_button("Add member of staff")


class EditStaffMemberForm(StaffMemberForm):
    left_on = GovDateField(
        "Last day of employment",
        required=False,
        description="Only once they are leaving the trust, or have left. For example, "
        "31 8 2027. Low-level concerns about them are reviewed after this day.",
    )
    submit = submit_button("Save changes")
