"""Sign-in form."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput
from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from tracker.forms import submit_button, text_input

# The password rules (12 to 128 characters) are checked in tracker.auth.passwords; the form
# refuses only a post far too long to be worth hashing, in the same words.
PASSWORD_LENGTH = Length(max=1024, message="Password must be 128 characters or fewer")


def _password(label: str, required: str, check) -> PasswordField:
    return PasswordField(
        label, widget=GovPasswordInput(), validators=[InputRequired(message=required), check]
    )


def _current_password() -> PasswordField:
    """The password a signed-in user types again to confirm a change to their account."""
    return _password(
        "Current password",
        "Enter your current password",
        Length(max=1024, message="Enter your current password"),
    )


def _code(label: str, required: str, *, too_long: str | None = None) -> StringField:
    """A code the user copies from their authenticator app or their recovery codes."""
    return text_input(label, required=required, max_length=64, too_long=too_long or required)


class SignInForm(FlaskForm):
    email = text_input(
        "E-mail address",
        required="Enter your e-mail address",
        max_length=254,
        too_long="E-mail address must be 254 characters or fewer",
    )
    password = _password("Password", "Enter your password", PASSWORD_LENGTH)
    submit = submit_button("Sign in")


class CodeForm(FlaskForm):
    """A code from an authenticator app (signing in, or proving a new app works)."""

    code = _code("Code", "Enter the 6-digit code your authenticator app shows now")
    submit = submit_button("Continue")


class RecoveryCodeForm(FlaskForm):
    code = _code(
        "Recovery code",
        "Enter one of your recovery codes",
        too_long="Enter one of your recovery codes, like abcde-fghjk",
    )
    submit = submit_button("Continue")


class ChangePasswordForm(FlaskForm):
    current_password = _current_password()
    new_password = _password("New password", "Enter a new password", PASSWORD_LENGTH)
    confirm_password = _password(
        "Confirm new password",
        "Enter the new password again",
        EqualTo("new_password", message="The passwords do not match: enter the same one twice"),
    )
    submit = submit_button("Change password")


class ReplaceAuthenticatorForm(FlaskForm):
    current_password = _current_password()
    code = _code("Code from the new app", "Enter the 6-digit code your new authenticator app shows")
    submit = submit_button("Use this app from now on")
