"""Sign-in, sessions, users and role grants."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
