"""Data protection: the privacy notice (retention, disposal and subject access to follow)."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from tracker.privacy import views  # noqa: E402, F401  (registers the routes on bp)
