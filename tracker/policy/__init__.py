"""The policy register: versioned policies and the clauses a case can cite."""

from flask import Blueprint

bp = Blueprint("policy", __name__, url_prefix="/policies")

from tracker.policy import views  # noqa: E402, F401  (registers the routes on bp)
