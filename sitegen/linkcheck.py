"""Link checker: crawl a built site and report every internal link or anchor that leads nowhere.

Run it over any output folder (``python build.py check-links --site _site``), including sites
built with another theme.  It reads the files as a browser would see them:

* every ``href``, ``src`` and form ``action`` in every HTML page, and the target of a
  ``<meta http-equiv="refresh">``, resolved relative to the page (root-absolute paths are
  internal too: they resolve under the base URL's path);
* ``<loc>`` in ``sitemap.xml`` and ``<link href>`` in Atom feeds, absolute URLs under the base
  URL (from ``--base-url``, or the ``Sitemap:`` line of robots.txt);
* ``url(...)`` in style sheets.

A link is broken when its file does not exist, when it leaves the output folder, or when its
``#fragment`` names no element ``id`` in the target page.  Links to other hosts are counted,
not fetched.  Executable schemes (``javascript:``, ``data:``, ``vbscript:``) are reported too,
and so are duplicate ``id`` values, which make anchors ambiguous.  Pages that no link reaches
from the home page are listed separately: they are not errors, but usually an oversight.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Attributes that point at another resource, by tag ("*" for any tag).
_LINK_ATTRS = {
    "a": ("href",),
    "area": ("href",),
    "link": ("href",),
    "script": ("src",),
    "img": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "source": ("src",),
    "track": ("src",),
    "audio": ("src",),
    "video": ("src", "poster"),
    "input": ("src",),
    "object": ("data",),
    "form": ("action",),
    "blockquote": ("cite",),
    "q": ("cite",),
    "ins": ("cite",),
    "del": ("cite",),
}
_UNSAFE_SCHEMES = ("javascript", "data", "vbscript")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_REFRESH_URL = re.compile(r"url\s*=\s*(['\"]?)(.+?)\1\s*$", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Finding:
    """One broken link: where it is written, what it says, and why it leads nowhere."""

    page: str
    line: int
    link: str
    reason: str

    def format_text(self) -> str:
        return f"{self.page}:{self.line}: error: {self.link}: {self.reason}"


@dataclass
class LinkReport:
    files: int = 0  # pages, style sheets and XML files read
    links: int = 0  # internal links checked
    anchors: int = 0  # of which with a #fragment
    external: int = 0  # links to other hosts, not followed
    findings: list[Finding] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)  # pages no link leads to from home

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        status = "ok" if self.ok else "failed"
        return (
            f"check-links {status}: {len(self.findings)} broken of {self.links} internal links "
            f"({self.anchors} with anchors) in {self.files} files; {self.external} external "
            f"links not followed; {len(self.unreachable)} page(s) not linked from the home page"
        )


@dataclass
class _Link:
    value: str
    line: int


@dataclass
class _Page:
    links: list[_Link] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    duplicate_ids: list[tuple[str, int]] = field(default_factory=list)


class _HtmlLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = _Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        line = self.getpos()[0]
        anchor = values.get("id")
        if anchor is None and tag == "a":
            anchor = values.get("name")
        if anchor is not None:
            if anchor in self.page.ids:
                self.page.duplicate_ids.append((anchor, line))
            self.page.ids.add(anchor)
        for attr in _LINK_ATTRS.get(tag, ()):
            if attr in values:
                self.page.links.append(_Link(values[attr], line))
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            found = _REFRESH_URL.search(values.get("content", ""))
            if found:
                self.page.links.append(_Link(found.group(2), line))

    handle_startendtag = handle_starttag


def _read_html(path: Path) -> _Page:
    parser = _HtmlLinks()
    parser.feed(path.read_text("utf-8", errors="replace"))
    parser.close()
    return parser.page


def _read_xml(path: Path) -> _Page:
    page = _Page()
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        page.links.append(_Link("", exc.position[0]))  # reported as unreadable below
        page.ids.add("\0unreadable")
        return page
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "loc" and element.text:
            page.links.append(_Link(element.text.strip(), 0))
        elif tag == "link" and element.get("href"):
            page.links.append(_Link(element.get("href", ""), 0))
    return page


def _read_css(path: Path) -> _Page:
    page = _Page()
    text = path.read_text("utf-8", errors="replace")
    for found in _CSS_URL.finditer(text):
        page.links.append(_Link(found.group(2), text.count("\n", 0, found.start()) + 1))
    return page


def base_url_of(site: Path) -> str | None:
    """The base URL the site was built for, from the ``Sitemap:`` line of its robots.txt."""
    robots = site / "robots.txt"
    if not robots.is_file():
        return None
    for line in robots.read_text("utf-8", errors="replace").splitlines():
        if line.lower().startswith("sitemap:"):
            url = line.split(":", 1)[1].strip()
            return url.rsplit("/", 1)[0] + "/"
    return None


class _Checker:
    def __init__(self, site: Path, base_url: str | None) -> None:
        self.site = site.resolve()
        self.base_url = base_url if base_url is None or base_url.endswith("/") else base_url + "/"
        self.base_path = urlsplit(self.base_url).path if self.base_url else "/"
        self.pages: dict[str, _Page] = {}
        self.report = LinkReport()

    def page(self, rel: str) -> _Page:
        if rel not in self.pages:
            path = self.site / rel
            if rel.endswith((".html", ".htm")):
                self.pages[rel] = _read_html(path)
            elif rel.endswith(".xml"):
                self.pages[rel] = _read_xml(path)
            elif rel.endswith(".css"):
                self.pages[rel] = _read_css(path)
            else:
                self.pages[rel] = _Page()
        return self.pages[rel]

    def resolve(self, source: str, value: str) -> tuple[str | None, str, str]:
        """(target file relative to the site or None if external, fragment, problem)."""
        value = value.strip()
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme in _UNSAFE_SCHEMES:
            return None, "", f"{scheme}: link"
        if self.base_url and source.endswith(".xml") and value.startswith(self.base_url):
            path = "/" + value[len(self.base_url) :]
            parts = urlsplit(path)
            path = self.base_path + parts.path.lstrip("/")
        elif scheme or parts.netloc or value.startswith("//"):
            return None, "", ""
        else:
            path = parts.path
        fragment = unquote(parts.fragment)
        path = unquote(path)
        if not path:
            return source, fragment, ""
        if path.startswith("/"):
            if not path.startswith(self.base_path):
                return None, fragment, f"root-absolute path outside the base path {self.base_path}"
            joined = path[len(self.base_path) :]
        else:
            joined = posixpath.join(posixpath.dirname(source), path)
        if path.endswith("/"):
            joined = joined.rstrip("/") + "/index.html" if joined.strip("/") else "index.html"
        normal = posixpath.normpath(joined) if joined else "."
        if normal == ".." or normal.startswith("../") or normal.startswith("/"):
            return None, fragment, "points outside the site"
        if normal == ".":
            normal = "index.html"
        if (self.site / normal).is_dir():
            normal = posixpath.join(normal, "index.html")
        return normal, fragment, ""

    def check_file(self, rel: str, queue: deque[str] | None = None) -> None:
        page = self.page(rel)
        self.report.files += 1
        if "\0unreadable" in page.ids:
            line = page.links[0].line if page.links else 0
            self.report.findings.append(Finding(rel, line, rel, "not well-formed XML"))
            return
        for anchor, line in page.duplicate_ids:
            self.report.findings.append(Finding(rel, line, f"#{anchor}", "duplicate id"))
        for link in page.links:
            target, fragment, problem = self.resolve(rel, link.value)
            if problem:
                self.report.findings.append(Finding(rel, link.line, link.value, problem))
                continue
            if target is None:
                self.report.external += 1
                continue
            self.report.links += 1
            path = self.site / target
            if not path.is_file():
                self.report.findings.append(Finding(rel, link.line, link.value, "no such file"))
                continue
            if fragment:
                self.report.anchors += 1
                if target.endswith((".html", ".htm")) and fragment not in self.page(target).ids:
                    self.report.findings.append(
                        Finding(rel, link.line, link.value, f"no element with id '{fragment}'")
                    )
            if queue is not None and target.endswith((".html", ".htm")):
                queue.append(target)


def check_links(site: Path, base_url: str | None = None) -> LinkReport:
    """Check every page, style sheet and XML file under ``site``; see the module docstring."""
    checker = _Checker(site, base_url if base_url is not None else base_url_of(site))
    root = checker.site
    files = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix in (".html", ".htm", ".css", ".xml")
    )
    # Crawl from the home page to learn which pages a reader can reach ...
    reached: set[str] = set()
    queue: deque[str] = deque(["index.html"] if (root / "index.html").is_file() else [])
    while queue:
        rel = queue.popleft()
        if rel in reached:
            continue
        reached.add(rel)
        checker.check_file(rel, queue)
    # ... then check every other file too, so nothing escapes the check.
    for rel in files:
        if rel not in reached:
            checker.check_file(rel)
    report = checker.report
    report.unreachable = sorted(
        rel for rel in files if rel.endswith((".html", ".htm")) and rel not in reached
    )
    report.findings.sort()
    return report
