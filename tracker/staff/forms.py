"""Forms for the staff register: finding, adding, editing and importing members of staff."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect
from wtforms import HiddenField, SelectField

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


class StaffImportForm(FlaskForm):
    csv_file = FileField(
        "Upload a CSV file",
        widget=GovFileInput(),
        description="Exported from your MIS or single central record, with the template's "
        "columns. Dates like 02/09/2024.",
    )
    upload = submit_button("Check the file")


class StaffImportConfirmForm(FlaskForm):
    """Carries the previewed file (signed, so it cannot be altered on the way) and the
    digest of the plan the person saw."""

    upload_token = HiddenField()
    plan_digest = HiddenField()
    confirm = submit_button("Import")


class GiveAccountsForm(FlaskForm):
    """The people chosen are the ticked `member` boxes, one per candidate on the page."""

    give = submit_button("Give accounts")
