"""Per-request plumbing: request ids, refusing control characters, security headers."""

from __future__ import annotations

import re
import secrets

from flask import Flask, Response, g, request
from werkzeug.routing import IntegerConverter, Map

from tracker.db import MAX_ID
from tracker.errors import render_error

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# Strict policy: only our own scripts, styles, images and fonts; no inline code; never
# framed. Templates carry no inline script or style, so nothing needs a nonce.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Sent with every response, static files included (tracker/assets.py adds them there).
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def _holds_a_null_character() -> bool:
    for fields in (request.args, request.form):
        for _name, values in fields.lists():
            if any("\x00" in value for value in values):
                return True
    return False


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every address: a whole number a row's 64-bit id can be. A larger one
    matches no route and answers 404, like any id that names nothing, instead of reaching
    SQLite, which raises OverflowError on it (a 500)."""

    # The arguments are werkzeug's, by its names (`<int(min=1):id>` still works).
    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    # Before any blueprint adds its routes: each rule takes its converters when added.
    app.url_map.converters["int"] = RowIdConverter

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else secrets.token_hex(8)

    @app.before_request
    def refuse_null_characters():
        """A NUL character in a query string or a form is refused before any view runs.

        No keyboard types one, and PostgreSQL refuses text that holds one, so a hand-made
        request would otherwise end in a 500 wherever its text reached the database.
        Uploaded files are left to their readers: an evidence file's name is cleaned of
        control characters before it is kept, and no file's contents are kept as text.
        """
        if _holds_a_null_character():
            return render_error(
                400,
                message="It held a hidden control character that the service cannot accept. "
                "Go back, check what you typed or pasted, and try again.",
            )
        return None

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in SECURITY_HEADERS.items():
            headers.setdefault(name, value)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            # Pages hold personal data: never keep them in a browser or proxy cache.
            headers["Cache-Control"] = "no-store"
        if "request_id" in g:
            headers[REQUEST_ID_HEADER] = g.request_id
        return response
