"""Retention of case records: how long a closed case is kept, and what happens then."""

from flask import Blueprint

bp = Blueprint("retention", __name__, url_prefix="/retention")
