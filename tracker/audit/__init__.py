"""The audit trail: append-only, hash-chained events, and the auditor's pages."""

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
