"""A built site on 127.0.0.1 and headless Chromium watching everything a page does.

For browser tests (mark them ``@pytest.mark.browser``)::

    with serve_site(site) as base, launch_chromium() as browser:
        page = Watched(browser, base)
        page.goto("search/index.html?q=AI")
        ...
        page.assert_clean()   # no console error, CSP violation, failed or off-site request

``serve_site`` runs ``http.server`` in a thread on a free port.  ``launch_chromium`` starts
Debian's Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``) through Playwright; when it is
missing the test is skipped, or fails when ``$CI`` is set, because a browser test that silently
does not run proves nothing.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_executable() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing(what: str) -> None:
    """Fail in CI, skip elsewhere."""
    message = f"{what} is not available: run `make install-test` (installs Debian's chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class _Handler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_site(site: Path) -> Iterator[str]:
    """``http://127.0.0.1:<free port>/`` serving ``site`` until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def launch_chromium() -> Iterator[Any]:
    """One headless Chromium (a Playwright ``Browser``) for the block."""
    executable = chromium_executable()
    if executable is None:
        missing("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a test dependency
        missing("playwright")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watched:
    """A fresh browser context and page that records requests and console errors.

    Every request that does not go to the served site's host is aborted (and recorded), so
    a test can both check that none was made and never reach the network.
    """

    browser: Any
    base: str
    java_script: bool = True
    requests: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    page: Any = None

    def __post_init__(self) -> None:
        self.context = self.browser.new_context(java_script_enabled=self.java_script)
        host = urlsplit(self.base).netloc
        self.context.route("**/*", partial(self._route, host))
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on(
            "requestfailed",
            lambda r: self.failed.append(f"{r.url} ({r.failure})"),
        )
        self.page.on(
            "response",
            lambda r: self.failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None,
        )

    def _route(self, host: str, route: Any) -> None:
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        local = parts.scheme in ("http", "https") and parts.netloc == host
        if local or parts.scheme in ("data", "blob", "about"):
            route.continue_()
        else:
            self.offsite.append(url)
            route.abort()

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"console {message.type}: {message.text}")

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path.lstrip("/"))

    def assert_clean(self) -> None:
        """No console error or warning (CSP violations are console errors), no page error, no
        failed request and no request to any host but the served site."""
        assert self.errors == [], self.errors
        assert self.failed == [], self.failed
        assert self.offsite == [], self.offsite
        host = urlsplit(self.base).netloc
        assert all(urlsplit(url).netloc == host for url in self.requests), self.requests

    def close(self) -> None:
        self.context.close()
