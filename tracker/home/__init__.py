"""Each user's home page: what needs their attention, for each role they hold."""

from flask import Blueprint

bp = Blueprint("home", __name__)
