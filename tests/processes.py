"""The app as a process of its own: gunicorn started on a free loopback port with the
deployment's config, and a client that speaks HTTP to it as the test client speaks to
the app in process (so `sign_in`, `post_form` and the upload helpers work with both)."""

from __future__ import annotations

import http.cookiejar
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from config import PROJECT_ROOT
from tests.smtp import free_port


@dataclass
class Served:
    url: str
    output: str = ""  # what gunicorn wrote, once it has stopped


@contextmanager
def gunicorn(environment: dict[str, str], *, start_path: str = "/healthz") -> Iterator[Served]:
    """gunicorn (one worker) with deploy/gunicorn.conf.py, running until the block ends."""
    port = free_port()
    served = Served(f"http://127.0.0.1:{port}")
    program = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn and config
        [program, "-c", "deploy/gunicorn.conf.py", "app:create_app()"],
        cwd=PROJECT_ROOT,
        env={**environment, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(served.url + start_path, timeout=5):  # noqa: S310
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.communicate(timeout=30)[0]
                raise AssertionError(f"gunicorn did not start:\n{output}") from None
            time.sleep(0.2)
    try:
        yield served
    finally:
        process.terminate()
        served.output, _ = process.communicate(timeout=30)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer, as the test client gives it


@dataclass
class Answer:
    status_code: int
    headers: Message
    data: bytes = field(repr=False)

    def get_data(self, as_text: bool = False) -> Any:
        return self.data.decode() if as_text else self.data


class HttpClient:
    """Get and post over HTTP with a cookie jar, answering as Flask's test client does."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def _send(self, request: urllib.request.Request) -> Answer:
        try:
            with self._opener.open(request, timeout=30) as answer:
                return Answer(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as answer:
            return Answer(answer.code, answer.headers, answer.read())

    def get(self, path: str) -> Answer:
        return self._send(urllib.request.Request(self.base_url + path))  # noqa: S310

    def post(self, path: str, *, data: Any, content_type: str | None = None) -> Answer:
        if isinstance(data, dict):
            body, content_type = urlencode(data).encode(), "application/x-www-form-urlencoded"
        else:
            body = data
        request = urllib.request.Request(  # noqa: S310 - loopback
            self.base_url + path, data=body, headers={"Content-Type": str(content_type)}
        )
        return self._send(request)
