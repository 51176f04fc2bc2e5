"""`serve`: a real server process on a free 127.0.0.1 port rebuilds, reloads and shows errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT

from sitegen.serve import inject


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8"), dict(exc.headers)


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def serve_command(port: int, source: Path) -> list[str]:
    build = str(ROOT / "build.py")
    return [sys.executable, build, "serve", "--port", str(port), "--source", str(source)]


class Server:
    def __init__(self, source: Path, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.log = log
        self.process = subprocess.Popen(
            serve_command(self.port, source),
            cwd=source.parent,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str = "") -> tuple[int, str, dict[str, str]]:
        return fetch(self.base + path)

    def version(self) -> int:
        return int(json.loads(self.get("__sitegen__/version")[1])["version"])

    def output(self) -> str:
        return self.log.read_text("utf-8")


@pytest.fixture
def server(mini: Path, tmp_path: Path) -> Iterator[Server]:
    running = Server(mini, tmp_path / "serve.log")
    try:
        wait_for(lambda: running.get()[0] == 200, "the server to answer")
        yield running
    finally:
        running.process.terminate()
        try:
            running.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()


@pytest.mark.slow
def test_serve_rebuilds_reloads_and_shows_errors(server: Server, mini: Path) -> None:
    status, page, headers = server.get()
    assert status == 200
    assert "测试登记册" in page
    assert '<script src="/__sitegen__/livereload.js?v=1" defer></script></body>' in page
    assert headers["Cache-Control"] == "no-store"
    status, script, headers = server.get("__sitegen__/livereload.js")
    assert status == 200 and "/__sitegen__/version" in script
    assert headers["Content-Type"].startswith("text/javascript")
    # Assets are served untouched; missing pages get the site's 404 page.
    status, css, _ = server.get("static/css/site.css")
    assert status == 200 and "livereload" not in css
    assert server.get("no/such/page/")[0] == 404

    # Edit a file: the server rebuilds and the content changes.
    version = server.version()
    site = mini / "site.yaml"
    site.write_text(site.read_text("utf-8").replace("测试登记册", "改名后的登记册"), "utf-8")
    wait_for(lambda: "改名后的登记册" in server.get()[1], "the rebuilt page")
    # The new files are swapped in a moment before the version the pages poll is bumped.
    wait_for(lambda: server.version() > version, "the reload version to move on")

    # Break a file: the last good site stays up, with the error on the page and in the terminal.
    feed = mini / "acme" / "feed.yaml"
    feed.write_text(feed.read_text("utf-8").replace("category: personalized_push", "category: <x>"))
    wait_for(lambda: "sitegen-overlay" in server.get()[1], "the error banner")
    page = server.get()[1]
    assert "改名后的登记册" in page
    assert "feed.yaml:" in page and "error: category:" in page
    assert '<link rel="stylesheet" href="/__sitegen__/overlay.css">' in page
    assert json.loads(server.get("__sitegen__/version")[1])["ok"] is False
    wait_for(lambda: "build failed" in server.output(), "the terminal report")
    assert "error: category:" in server.output()

    # Fix it again: the banner goes away.
    feed.write_text(feed.read_text("utf-8").replace("category: <x>", "category: personalized_push"))
    wait_for(lambda: "sitegen-overlay" not in server.get()[1], "the banner to clear")
    assert server.process.poll() is None


@pytest.mark.slow
def test_serve_starts_even_when_the_first_build_fails(mini: Path, tmp_path: Path) -> None:
    (mini / "site.yaml").write_text("title: [\n", "utf-8")
    running = Server(mini, tmp_path / "serve.log")
    try:
        wait_for(lambda: running.get()[0] == 503, "the error page")
        status, page, _ = running.get("any/page/")
        assert status == 503
        assert "YAML syntax" in page and "/__sitegen__/livereload.js" in page
        (mini / "site.yaml").write_text(
            "title: 好了\nlanguages: [zh, en]\nbase_url: https://r.example/\n", "utf-8"
        )
        wait_for(lambda: running.get()[0] == 200, "the fixed site")
    finally:
        running.process.terminate()
        running.process.wait(timeout=10)
    assert running.process.returncode == 0
    assert "stopped" in running.output()


def test_port_in_use_is_a_clear_error(mini: Path, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            serve_command(port, mini),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_inject_escapes_and_never_touches_files_on_disk(sample_site: Path) -> None:
    page = (sample_site / "index.html").read_bytes()
    assert b"livereload" not in page and b"__sitegen__" not in page
    assert not (sample_site / "static" / "js" / "livereload.js").exists()
    served = inject(page, 3, ["a.yaml:1:1: error: <script>alert(1)</script>"]).decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in served
    assert "<script>alert(1)" not in served
    assert served.count("/__sitegen__/livereload.js?v=3") == 1
    assert served.index("sitegen-overlay") < served.index('<a class="skip"')


@pytest.mark.slow
def test_other_host_names_are_refused(server: Server) -> None:
    import http.client

    for host, expected in [("evil.example", 403), (f"localhost:{server.port}", 200)]:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            connection.request("GET", "/", headers={"Host": host})
            assert connection.getresponse().status == expected, host
        finally:
            connection.close()
