"""Rendering a Jinja template to PDF with WeasyPrint, fetching nothing from anywhere.

WeasyPrint needs Pango and HarfBuzz (Debian: `libpango-1.0-0`, `libpangoft2-1.0-0`,
`libharfbuzz-subset0`) and a font (`fonts-dejavu-core` or any other). Without them
importing it fails; that becomes `PdfUnavailable`, which the pages show as a plain
message, never an error page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = (
    "PDFs cannot be made on this server: the PDF library (WeasyPrint) could not load. "
    "Ask whoever runs the service to install Pango and a font (on Debian: apt-get install "
    "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core) and restart "
    "it. Nothing was recorded or exported."
)


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs are missing."""


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as error:
        log.error("WeasyPrint could not be loaded: %s", error)
        raise PdfUnavailable(UNAVAILABLE_MESSAGE) from error
    return weasyprint


def check_available() -> None:
    """Raise PdfUnavailable now, before anything is recorded, if no PDF can be made."""
    _weasyprint()


def render_pdf(template: str, **context: Any) -> bytes:
    """The template rendered to PDF bytes.

    The template carries its own print stylesheet (inline: the page's Content-Security-
    Policy does not apply to a PDF). Relative links resolve to the static folder, and the
    URL fetcher allows no protocol at all, so nothing is fetched from disk or network.
    """
    weasyprint = _weasyprint()
    # The environment's own render, not Flask's: no page chrome (menus, the signed-in
    # user), so the same document comes out in a request or at the command line.
    html = current_app.jinja_env.get_template(template).render(**context)
    fetcher = weasyprint.urls.URLFetcher(allowed_protocols=frozenset())
    document = weasyprint.HTML(string=html, base_url=current_app.static_folder, url_fetcher=fetcher)
    return document.write_pdf()
