"""Health checks for the load balancer: is the process alive, and is it ready to serve."""

from flask import Blueprint

bp = Blueprint("health", __name__)
