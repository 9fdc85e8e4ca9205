"""Data protection: the privacy notice, subject access requests and hearing packs."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)
