"""The staff register: the people a case can be about."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")
