"""Entry point for `flask --app app` and for WSGI servers (`gunicorn 'app:create_app()'`)."""

from tracker import create_app

__all__ = ["create_app"]
