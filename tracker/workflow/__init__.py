"""The case workflow: the action registry (every step that changes a case), its services,
routing, clocks and the pages of its steps."""

from flask import Blueprint

# Every step's page is about one case: /cases/<case_id>/triage, /cases/<case_id>/edit ...
bp = Blueprint("workflow", __name__, url_prefix="/cases/<int:case_id>")
