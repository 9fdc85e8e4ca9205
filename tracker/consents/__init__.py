"""The consent register for clause 3.5: a member of staff asks consent to post pictures of
a school event; the headteacher (or the CEO) decides, with conditions and an expiry."""

from flask import Blueprint

bp = Blueprint("consents", __name__, url_prefix="/consents")
