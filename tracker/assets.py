"""Static files as a production server serves them: fingerprinted names, cached for a year,
sent compressed (gzip or brotli, made by the build) to a browser that takes it.

The build (scripts/build-assets.mjs) writes each file under a name holding a hash of its
contents and static/dist/manifest.json, mapping the names the templates ask for to those.
`url_for('static', filename='dist/app.css')` gives the hashed name, so templates name files
as before. WhiteNoise answers /static/ before the app is reached (nothing of the request
is read but its path and Accept-Encoding); a name it does not know goes on to Flask's own
static route, which answers 404. A proxy in front may serve /static/ itself the same way
(deploy/nginx/tracker.conf).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise

from tracker.http import SECURITY_HEADERS

MANIFEST = "dist/manifest.json"
# A hashed name always holds the same bytes, so a browser keeps the file a year and never
# asks again; a new build gives a changed file a new name.
IMMUTABLE = "public, max-age=31536000, immutable"
# Anything else under static/ (the manifest, a file under its plain name) is asked for
# again after a minute.
SHORT_LIVED = "public, max-age=60"

log = logging.getLogger(__name__)


def read_manifest(static_folder: Path) -> dict[str, str]:
    """The built names by the names the templates use; empty, with a warning, unbuilt."""
    path = static_folder / MANIFEST
    try:
        manifest: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        log.warning("The static files are not built (no %s): run `npm run build`.", MANIFEST)
        return {}
    return manifest


def init_app(app: Flask) -> None:
    if app.static_folder is None or app.static_url_path is None:
        return  # an app made without static files has none to serve
    static_folder = Path(app.static_folder)
    prefix = app.static_url_path
    # In development (`flask run --debug`) a rebuild is seen without a restart.
    reload = app.debug
    manifest = read_manifest(static_folder)

    @app.url_defaults
    def fingerprinted_static_name(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static":
            return
        names = read_manifest(static_folder) if reload else manifest
        filename = values.get("filename")
        if filename in names:
            values["filename"] = names[filename]

    def add_headers(headers: Any, _path: str, url: str) -> None:
        names = read_manifest(static_folder) if reload else manifest
        hashed = url.removeprefix(f"{prefix}/") in names.values()
        headers["Cache-Control"] = IMMUTABLE if hashed else SHORT_LIVED
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value

    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=static_folder,
        prefix=prefix,
        autorefresh=reload,
        # Only our own pages use these files; no other site needs to read them.
        allow_all_origins=False,
        add_headers_function=add_headers,
    )
