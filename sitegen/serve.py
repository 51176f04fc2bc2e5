"""``serve``: build, serve on 127.0.0.1, rebuild on change and reload the open page.

Standard library only: a polling watcher (a registry is a few hundred small files, so a stat
walk every few tenths of a second costs nothing and works on every file system) and
``ThreadingHTTPServer``.  The live-reload script and the error banner are added to HTML
responses on the fly, never written to disk, so the built files stay exactly what ``build``
would publish.  A failed rebuild keeps the last good site online with the errors on top.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from sitegen.diagnostics import Diagnostic, InvalidInput, SitegenError
from sitegen.load import display_path
from sitegen.theme import DEFAULT_THEME

HOST = "127.0.0.1"
PREFIX = "/__sitegen__/"
LIVE_RELOAD = "static/js/livereload.js"  # inside a theme; see pipeline.build_site

OVERLAY_CSS = b"""
.sitegen-overlay { position: fixed; inset: 0 0 auto 0; z-index: 2147483647; max-height: 60vh;
  overflow: auto; margin: 0; padding: 1rem 1.5rem; background: #fff4f4; color: #5c0000;
  border-bottom: 4px solid #c00; font: 14px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace;
  box-shadow: 0 4px 16px rgba(0, 0, 0, .25); }
.sitegen-overlay h2 { margin: 0 0 .5rem; font-size: 16px; }
.sitegen-overlay ol { margin: 0; padding-left: 1.5rem; }
.sitegen-overlay li { margin: .25rem 0; white-space: pre-wrap; }
.sitegen-overlay .warning { color: #6b4d00; }
"""


class State:
    """What the last build produced; shared between the watcher and request threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = 0
        self.ok = False
        self.have_site = False
        self.problems: list[str] = []  # pre-formatted diagnostics of the last failed build

    def snapshot(self) -> tuple[int, bool, bool, list[str]]:
        with self.lock:
            return self.version, self.ok, self.have_site, list(self.problems)


def _problem_lines(exc: BaseException) -> list[str]:
    if isinstance(exc, InvalidInput):
        items: list[Diagnostic] = list(exc.report)
        errors = [d for d in items if d.severity == "error"] or items
        return [d.format_text() for d in errors]
    if isinstance(exc, SitegenError):
        return [str(exc)]
    return [f"internal error: {type(exc).__name__}: {exc}"]


class DevServer:
    def __init__(
        self,
        source: Path,
        port: int = 8000,
        theme_dir: Path = DEFAULT_THEME,
        interval: float = 0.3,
        out: TextIO = sys.stderr,
        verbose: bool = False,
    ) -> None:
        self.source, self.theme_dir, self.interval = source, theme_dir, interval
        self.out, self.verbose = out, verbose
        self.state = State()
        self.tmp = Path(tempfile.mkdtemp(prefix="sitegen-serve-"))
        self.site = self.tmp / "site"
        self.stop_event = threading.Event()
        handler = partial(_Handler, server_state=self)
        try:
            self.httpd = ThreadingHTTPServer((HOST, port), handler)
        except OSError as exc:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise SitegenError(
                f"cannot listen on {HOST}:{port}: {exc.strerror}; choose another --port"
            ) from None
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # -- building ---------------------------------------------------------------------------

    def rebuild(self) -> bool:
        from sitegen.pipeline import build_site

        started = time.perf_counter()
        try:
            result = build_site(self.source, self.site, base_url=self.url, theme_dir=self.theme_dir)
        except Exception as exc:  # a dev server reports every failure and keeps serving
            problems = _problem_lines(exc)
            with self.state.lock:
                self.state.version += 1
                self.state.ok = False
                self.state.problems = problems
            self.say("\n".join(problems))
            kept = "; still serving the last good build" if self.state.have_site else ""
            self.say(f"build failed: {len(problems)} problem(s){kept}")
            return False
        with self.state.lock:
            self.state.version += 1
            self.state.ok = True
            self.state.have_site = True
            self.state.problems = []
        self.say(result.summary(time.perf_counter() - started).split(" -> ")[0])
        return True

    def _snapshot(self) -> dict[str, tuple[int, int, int]]:
        seen: dict[str, tuple[int, int, int]] = {}
        for root in (self.source, self.theme_dir):
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if name.startswith(".") or name.endswith("~"):
                        continue  # editor swap and backup files
                    path = os.path.join(folder, name)
                    try:
                        info = os.stat(path)
                    except OSError:
                        continue
                    seen[path] = (info.st_mtime_ns, info.st_size, info.st_ino)
        return seen

    def watch(self) -> None:
        previous = self._snapshot()
        while not self.stop_event.wait(self.interval):
            current = self._snapshot()
            if current == previous:
                continue
            time.sleep(0.05)  # let an editor finish writing before reading the files
            current = self._snapshot()
            changed = sorted(
                p for p in set(previous) | set(current) if previous.get(p) != current.get(p)
            )
            previous = current
            if changed:
                more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
                self.say(f"changed: {display_path(Path(changed[0]))}{more}")
            self.rebuild()

    # -- running ----------------------------------------------------------------------------

    def serve_forever(self) -> None:
        self.rebuild()
        watcher = threading.Thread(target=self.watch, name="sitegen-watch", daemon=True)
        watcher.start()
        self.say(f"serving {self.url} (Ctrl+C to stop); watching {self.source} and the theme")
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.stop_event.set()
            self.httpd.server_close()
            shutil.rmtree(self.tmp, ignore_errors=True)


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, server_state: DevServer, **kwargs: Any) -> None:
        self.dev = server_state
        super().__init__(*args, directory=str(server_state.site), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        if self.dev.verbose:
            super().log_message(format, *args)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET()

    def _default(self) -> None:
        """The standard file response (assets, redirects to a folder's slash)."""
        if self.command == "HEAD":
            super().do_HEAD()
        else:
            super().do_GET()

    def do_GET(self) -> None:
        port = self.dev.port
        if self.headers.get("Host", "") not in (f"{HOST}:{port}", f"localhost:{port}"):
            # Another web site reaching this port through DNS rebinding gets nothing.
            self._send(HTTPStatus.FORBIDDEN, b"unexpected Host header\n", "text/plain")
            return
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        version, ok, have_site, problems = self.dev.state.snapshot()
        if path.startswith(PREFIX):
            self._internal(path[len(PREFIX) :], version, ok)
            return
        if not have_site:
            self._send(
                HTTPStatus.SERVICE_UNAVAILABLE,
                _error_page(version, problems),
                "text/html; charset=utf-8",
            )
            return
        local = Path(self.translate_path(self.path))
        if local.is_dir():
            if not path.endswith("/"):
                self._default()  # redirects to the folder with a slash
                return
            local = local / "index.html"
        status = HTTPStatus.OK
        if not local.is_file():
            local, status = self.dev.site / "404.html", HTTPStatus.NOT_FOUND
            if not local.is_file():
                self._send(status, b"not found\n", "text/plain; charset=utf-8")
                return
        if local.suffix != ".html":
            self._default()
            return
        try:
            page = local.read_bytes()
        except OSError:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
            return
        self._send(status, inject(page, version, problems), "text/html; charset=utf-8")

    def _internal(self, name: str, version: int, ok: bool) -> None:
        if name == "version":
            body = json.dumps({"version": version, "ok": ok}).encode()
            self._send(HTTPStatus.OK, body, "application/json")
        elif name == "livereload.js":
            script = self.dev.theme_dir / LIVE_RELOAD
            if not script.is_file():
                script = DEFAULT_THEME / LIVE_RELOAD
            self._send(HTTPStatus.OK, script.read_bytes(), "text/javascript; charset=utf-8")
        elif name == "overlay.css":
            self._send(HTTPStatus.OK, OVERLAY_CSS, "text/css; charset=utf-8")
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")


def _banner(problems: list[str]) -> str:
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return (
        '<div class="sitegen-overlay" role="alert"><h2>'
        "Build failed: showing the last good build / 构建失败：当前显示上一次成功的版本"
        f"</h2><ol>{items}</ol></div>"
    )


def inject(page: bytes, version: int, problems: list[str]) -> bytes:
    """Add the reload script (and the error banner) to one served page, never to the file."""
    text = page.decode("utf-8", "replace")
    script = f'<script src="{PREFIX}livereload.js?v={version}" defer></script>'
    if problems:
        style = f'<link rel="stylesheet" href="{PREFIX}overlay.css">'
        text = re.sub(r"</head>", lambda m: style + m.group(0), text, count=1, flags=re.I)
        match = re.search(r"<body[^>]*>", text, flags=re.I)
        at = match.end() if match else 0
        text = text[:at] + _banner(problems) + text[at:]
    close = text.lower().rfind("</body>")
    if close < 0:
        text += script
    else:
        text = text[:close] + script + text[close:]
    return text.encode("utf-8")


def _error_page(version: int, problems: list[str]) -> bytes:
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Build failed / 构建失败</title></head><body>"
        "<p>The site has not built yet; fix the problems below and it reloads by itself. / "
        "站点尚未构建成功；修正以下问题后页面会自动刷新。</p></body></html>"
    )
    return inject(page.encode("utf-8"), version, problems or ["no build yet"])


def _stop_on_sigterm() -> None:
    """SIGTERM stops like Ctrl+C, so the temporary build folder is removed."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def serve(source: Path, port: int, theme_dir: Path = DEFAULT_THEME, verbose: bool = False) -> int:
    if not source.is_dir():
        from sitegen.diagnostics import UsageError

        raise UsageError(f"source folder {source} not found (pass --source DIR)")
    server = DevServer(source, port, theme_dir, verbose=verbose)
    _stop_on_sigterm()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.say("stopped")
    return 0
