"""Sign-in form."""

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import EqualTo, InputRequired, Length


def _current_password() -> PasswordField:
    """The password a signed-in user types again to confirm a change to their account."""
    return PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter your current password"),
            Length(max=1024, message="Enter your current password"),
        ],
    )


class SignInForm(FlaskForm):
    email = StringField(
        "E-mail address",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter your e-mail address"),
            Length(max=254, message="E-mail address must be 254 characters or fewer"),
        ],
    )
    password = PasswordField(
        "Password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter your password"),
            Length(max=1024, message="Password must be 128 characters or fewer"),
        ],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    """A code from an authenticator app (signing in, or proving a new app works)."""

    code = StringField(
        "Code",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the 6-digit code your authenticator app shows now"),
            Length(max=64, message="Enter the 6-digit code your authenticator app shows now"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        "Recovery code",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter one of your recovery codes"),
            Length(max=64, message="Enter one of your recovery codes, like abcde-fghjk"),
        ],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    current_password = _current_password()
    new_password = PasswordField(
        "New password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter a new password"),
            Length(max=1024, message="Password must be 128 characters or fewer"),
        ],
    )
    confirm_password = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired(message="Enter the new password again"),
            EqualTo("new_password", message="The passwords do not match: enter the same one twice"),
        ],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class ReplaceAuthenticatorForm(FlaskForm):
    current_password = _current_password()
    code = StringField(
        "Code from the new app",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the 6-digit code your new authenticator app shows"),
            Length(max=64, message="Enter the 6-digit code your new authenticator app shows"),
        ],
    )
    submit = SubmitField("Use this app from now on", widget=GovSubmitInput())
