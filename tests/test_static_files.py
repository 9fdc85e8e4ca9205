"""Static files served as a production server serves them (tracker/assets.py, the build in
scripts/build-assets.mjs): fingerprinted names, cached for a year, precompressed; every
file the stylesheet and the script refer to is there; the nginx site does the same."""

from __future__ import annotations

import gzip
import json
import re
from urllib.parse import urljoin

import pytest

from config import PROJECT_ROOT
from tracker.assets import IMMUTABLE, MANIFEST, read_manifest

STATIC = PROJECT_ROOT / "static"
# What the build puts in a name: a hash of the contents, 12 hexadecimal digits.
FINGERPRINTED = re.compile(r"^/static/dist/.+\.[0-9a-f]{12}\.[a-z0-9]+$")


def _asset_links(html: str) -> dict[str, str]:
    """Each <link> and <script> pointing under /static/, by its rel (or "script")."""
    links = {}
    for tag in re.findall(r"<(?:link|script)\b[^>]*>", html):
        url = re.search(r'\b(?:href|src)="(/static/[^"]+)"', tag)
        if url:
            rel = re.search(r'\brel="([^"]+)"', tag)
            links[rel.group(1) if rel else "script"] = url.group(1)
    return links


def _fetch(client, url: str, accept_encoding: str | None = None):
    """GET a static file; buffered, so that the file the server opened is closed at once
    (a WSGI server closes it; the test client leaves it to the response's owner)."""
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    return client.get(url, headers=headers, buffered=True)


def _file(url: str) -> bytes:
    return (STATIC / url.removeprefix("/static/")).read_bytes()


def test_a_page_links_its_files_by_fingerprinted_names(client):
    links = _asset_links(client.get("/sign-in").get_data(as_text=True))
    assert set(links) == {"icon", "stylesheet", "modulepreload", "script"}
    built = set(read_manifest(STATIC).values())
    for url in links.values():
        assert FINGERPRINTED.match(url), url
        assert url.removeprefix("/static/") in built


@pytest.mark.parametrize("rel", ["icon", "stylesheet", "modulepreload", "script"])
def test_a_fingerprinted_file_is_cached_a_year_and_sent_gzipped(client, rel):
    url = _asset_links(client.get("/sign-in").get_data(as_text=True))[rel]
    response = _fetch(client, url, "gzip")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(response.get_data()) == _file(url)
    # Not the app's page headers: a static file may be kept; but its own security headers.
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_browser_that_takes_no_compression_gets_the_file_as_it_is(client):
    url = _asset_links(client.get("/sign-in").get_data(as_text=True))["stylesheet"]
    response = _fetch(client, url, "identity")
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["Content-Type"].startswith("text/css")
    assert response.get_data() == _file(url)


def test_brotli_is_sent_to_a_browser_that_takes_it(client):
    url = _asset_links(client.get("/sign-in").get_data(as_text=True))["script"]
    response = _fetch(client, url, "gzip, deflate, br")
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert len(response.get_data()) < len(_file(url))


def test_a_file_not_under_its_fingerprinted_name_is_not_kept_a_year(client):
    response = _fetch(client, f"/static/{MANIFEST}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] != IMMUTABLE
    assert "immutable" not in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    "url",
    [
        "/static/dist/no-such-file.css",
        # The plain names are not built: a page linking one would show no styles.
        "/static/dist/app.css",
        "/static/dist/app.js",
        "/static/../config.py",
    ],
)
def test_an_unknown_static_file_is_404(client, url):
    assert _fetch(client, url).status_code == 404


def test_every_url_in_the_stylesheet_is_there(client):
    url = _asset_links(client.get("/sign-in").get_data(as_text=True))["stylesheet"]
    css = _fetch(client, url).get_data(as_text=True)
    references = set(re.findall(r"url\(\s*[\"']?([^\"')]+)[\"']?\s*\)", css))
    assert references, "the stylesheet refers to no file (the crest, at least, is expected)"
    for reference in references - {ref for ref in references if ref.startswith("data:")}:
        address = urljoin(url, reference)
        response = _fetch(client, address)
        assert response.status_code == 200, f"{reference} in the stylesheet: {address}"
        assert FINGERPRINTED.match(address), address
        assert response.headers["Cache-Control"] == IMMUTABLE


def test_the_govuk_script_is_preloaded_as_the_module_the_page_script_imports(client):
    links = _asset_links(client.get("/sign-in").get_data(as_text=True))
    script = _fetch(client, links["script"]).get_data(as_text=True)
    imports = re.findall(r"""\bfrom\s*["'](\.[^"']+)["']""", script)
    assert [urljoin(links["script"], name) for name in imports] == [links["modulepreload"]]
    assert _fetch(client, links["modulepreload"]).status_code == 200


def test_the_preload_needs_no_inline_code(client):
    response = client.get("/sign-in")
    html = response.get_data(as_text=True)
    assert re.search(r'<link rel="modulepreload" href="/static/[^"]+">', html)
    # Modules, their preload included, are our own files: script-src 'self' holds.
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_the_manifest_maps_each_name_to_a_file_that_was_built():
    manifest = json.loads((STATIC / MANIFEST).read_text(encoding="utf-8"))
    assert {"dist/app.css", "dist/app.js", "dist/govuk-frontend.min.js"} <= manifest.keys()
    for name, built in manifest.items():
        assert (STATIC / built).is_file(), name
        assert FINGERPRINTED.match(f"/static/{built}"), built


def test_an_unbuilt_static_folder_gives_the_plain_names(tmp_path, caplog):
    assert read_manifest(tmp_path) == {}
    assert "npm run build" in caplog.text


# --- the nginx site (deploy/nginx/tracker.conf) serves /static/ the same way ------------


def _static_location() -> str:
    site = (PROJECT_ROOT / "deploy" / "nginx" / "tracker.conf").read_text(encoding="utf-8")
    start = site.index("location /static/ {")
    end = site.index("\n    location / {", start)
    return site[start:end]


def test_nginx_sends_the_gzip_copies_and_says_it_varies():
    location = _static_location()
    assert "gzip_static on;" in location
    assert "gzip_vary on;" in location


def test_nginx_keeps_exactly_the_fingerprinted_names_a_year():
    location = _static_location()
    pattern = re.search(r'location ~ "([^"]+)" \{([^}]*)\}', location)
    assert pattern, "no nested location for the fingerprinted names"
    assert f'add_header Cache-Control "{IMMUTABLE}" always;' in pattern.group(2)
    # The header of the enclosing location is not inherited once a location adds its own.
    assert 'add_header X-Content-Type-Options "nosniff" always;' in pattern.group(2)
    hashed_names = re.compile(pattern.group(1))
    manifest = read_manifest(STATIC)
    for name, built in manifest.items():
        assert hashed_names.search(f"/static/{built}"), built
        assert not hashed_names.search(f"/static/{name}"), name
    assert not hashed_names.search(f"/static/{MANIFEST}")
