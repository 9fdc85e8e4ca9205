"""The governance report: counts and KCSIE timeliness for a period, per school or trust."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
