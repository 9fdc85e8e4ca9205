"""Each user's home page: what needs their attention, for each role they hold."""

from flask import Blueprint

bp = Blueprint("home", __name__)

from tracker.home import views  # noqa: E402, F401  (registers the routes on bp)
