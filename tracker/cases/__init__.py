"""Cases: reported breaches of the policy, their clauses, people, evidence and chronology."""

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/cases")
