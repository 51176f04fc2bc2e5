"""Where every page lives, and relative links between pages.

Output paths are plain POSIX paths from the site root (``en/providers/x/index.html``).  Links
are always relative and name ``index.html`` explicitly, so the site works under any sub-path
and when opened straight from disk.  The default language lives at the root, others under
``<lang>/``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

# Kept as they are in links (with letters and digits); a link made only of these is not quoted.
_SAFE = "/#?&=.-_~%"
_UNQUOTED = re.compile(f"[A-Za-z0-9{re.escape(_SAFE)}]*").fullmatch


@dataclass(frozen=True)
class NavItem:
    """An entry a stage adds to the main navigation (``extra_nav``), which the renderer
    makes into ``page.nav`` for base.html: ``label`` is a strings key, ``path(lang)`` the
    page's output path in that language."""

    label: str
    path: Callable[[str], str]


class Urls:
    def __init__(self, languages: list[str]) -> None:
        self.languages = languages
        self.default = languages[0]

    def prefix(self, lang: str) -> str:
        return "" if lang == self.default else f"{lang}/"

    def home(self, lang: str) -> str:
        return f"{self.prefix(lang)}index.html"

    def about(self, lang: str) -> str:
        return f"{self.prefix(lang)}about/index.html"

    def search(self, lang: str) -> str:
        return f"{self.prefix(lang)}search/index.html"

    def filings(self, lang: str) -> str:
        return f"{self.prefix(lang)}filings/index.html"

    def providers(self, lang: str) -> str:
        return f"{self.prefix(lang)}providers/index.html"

    def provider(self, lang: str, provider_id: str) -> str:
        return f"{self.prefix(lang)}providers/{provider_id}/index.html"

    def category(self, lang: str, category: str) -> str:
        return f"{self.prefix(lang)}categories/{category}/index.html"

    def disclosure(self, lang: str, key: str) -> str:
        return f"{self.prefix(lang)}algorithms/{key}/index.html"

    def history(self, lang: str, key: str) -> str:
        return f"{self.prefix(lang)}algorithms/{key}/history/index.html"

    def version(self, lang: str, key: str, number: int) -> str:
        return f"{self.prefix(lang)}algorithms/{key}/v{number}/index.html"

    def changes(self, lang: str, page: int = 0) -> str:
        """The latest changes (``page`` 0), or a page of the archive, numbered from the oldest."""
        suffix = f"page/{page}/" if page else ""
        return f"{self.prefix(lang)}changes/{suffix}index.html"

    def feed(self, lang: str, scope: str = "") -> str:
        """Atom feed path; scope is "" (whole registry), a provider id, or a disclosure key."""
        middle = f"{scope}/" if scope else ""
        return f"{self.prefix(lang)}feeds/{middle}changes.xml"

    @staticmethod
    def permalink(number: str) -> str:
        return f"f/{number}/index.html"

    @staticmethod
    def api_registry() -> str:
        return "api/registry.json"

    @staticmethod
    def api_csv() -> str:
        return "api/registry.csv"

    @staticmethod
    def api_disclosure(key: str) -> str:
        return f"api/disclosures/{key}.json"

    @staticmethod
    def api_version(key: str, number: int) -> str:
        return f"api/disclosures/{key}/v{number}.json"

    @staticmethod
    def static(name: str) -> str:
        return f"static/{name}"

    def translate(self, path: str, lang: str) -> str:
        """The same page in another language (paths are identical below the prefix)."""
        for other in self.languages[1:]:
            if path.startswith(f"{other}/"):
                path = path[len(other) + 1 :]
                break
        return self.prefix(lang) + path


def relative(from_page: str, target: str) -> str:
    """A percent-encoded link from one output file to another."""
    start = posixpath.dirname(from_page) or "."
    rel = _relpath(target, start)
    return quote(rel, safe=_SAFE)


def rooted(base_path: str, target: str) -> str:
    """A percent-encoded link from the site's root path, for a page served at any depth
    (the 404 page)."""
    return quote(base_path + page_url(target), safe=_SAFE)


def linker(from_page: str) -> Callable[[str], str]:
    """:func:`relative` from one page, which splits the page's folder once: a page makes
    dozens of links (half a million calls at 10,000 disclosures), most of them plain ASCII
    that ``quote`` would return as they are."""
    here = [part for part in from_page.split("/")[:-1] if part not in ("", ".")]
    if from_page.startswith("/") or ".." in here:
        return lambda target: relative(from_page, target)
    depth = len(here)

    def link(target: str) -> str:
        to = target.split("/")
        if target[:1] in ("", "/") or "" in to or "." in to or ".." in to:
            return relative(from_page, target)
        common = 0
        for a, b in zip(here, to, strict=False):
            if a != b:
                break
            common += 1
        rel = "/".join([".."] * (depth - common) + to[common:]) or "."
        return rel if _UNQUOTED(rel) else quote(rel, safe=_SAFE)

    return link


def _relpath(path: str, start: str) -> str:
    """``posixpath.relpath`` for two paths below the site root, without its two ``getcwd``
    calls (a build makes hundreds of thousands of links; the profile showed them)."""
    if not path or path.startswith("/") or start.startswith("/"):
        return posixpath.relpath(path, start)
    to = [part for part in path.split("/") if part not in ("", ".")]
    here = [part for part in start.split("/") if part not in ("", ".")]
    if ".." in to or ".." in here:
        return posixpath.relpath(path, start)
    common = 0
    for a, b in zip(here, to, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(here) - common) + to[common:]) or "."


def page_url(path: str) -> str:
    """The public URL path of an output file: ``a/index.html`` -> ``a/``."""
    if path == "index.html":
        return ""
    return path[: -len("index.html")] if path.endswith("/index.html") else path
