"""Data protection: the privacy notice (retention, disposal and subject access to follow)."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
