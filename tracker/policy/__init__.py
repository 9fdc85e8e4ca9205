"""The policy register: versioned policies and the clauses a case can cite."""

from flask import Blueprint

bp = Blueprint("policy", __name__, url_prefix="/policies")
