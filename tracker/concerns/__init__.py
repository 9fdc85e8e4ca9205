"""Concerns raised by any member of staff, about a colleague or themselves, and their
receipts: the reporter sees that it was received and whether it is being dealt with,
never what the safeguarding lead does with it."""

from flask import Blueprint

bp = Blueprint("concerns", __name__, url_prefix="/concerns")
