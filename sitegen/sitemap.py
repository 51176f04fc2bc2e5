"""``sitemap.xml``: an index of sitemaps, one for the registry's own pages and one per provider.

The sitemap protocol allows 50,000 addresses per file, which a registry of 10,000 disclosures
passes three times over.  Cut by provider, the sitemaps also follow the units
(``sitegen.units``): a rebuild writes again only the sitemaps of providers whose pages
changed, and keeps the others as they are in the output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from xml.sax.saxutils import escape

from sitegen.urls import page_url
from sitegen.write import UnitFiles

MAX_URLS = 50_000  # per sitemap (sitemaps.org protocol)
REGISTRY = ""  # the group of the pages drawn from the whole registry (no provider's)
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
_XMLNS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def sitemap_path(group: str, part: int = 1) -> str:
    """A group's sitemap; its next parts are numbered after a dot, which no provider id
    holds (``sitegen.model.ID_RE``), so no part is taken for another provider's sitemap."""
    name = "registry" if group == REGISTRY else f"providers/{group}"
    return f"sitemaps/{name}.xml" if part == 1 else f"sitemaps/{name}.{part}.xml"


class Sitemaps:
    """Collects the pages of a build by group; :meth:`files` gives the sitemaps to write."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.groups: dict[str, list[UnitFiles]] = {REGISTRY: []}
        self.pages: list[str] = []  # pages outside the units, in the registry's group
        self.changed: set[str] = {REGISTRY}  # its pages are few: always written

    def add_pages(self, paths: list[str]) -> None:
        self.pages += paths

    def add_unit(self, group: str, files: UnitFiles, rendered: bool) -> None:
        """A unit's files; ``rendered`` by this build (else kept from the last)."""
        self.groups.setdefault(group, []).append(files)
        if rendered:
            self.changed.add(group)

    def files(self, keep: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
        """Each sitemap to write, then the index.  A group no unit of which was rendered is
        not written if ``keep(path)`` keeps its file from the last build (which had the
        same pages in it)."""
        listed: list[str] = []
        for group in sorted(self.groups):
            units = self.groups[group]
            if group not in self.changed:
                count = sum(u.pages for u in units)
                paths = [sitemap_path(group, part) for part in range(1, _parts(count) + 1)]
                if all(keep(path) for path in paths):
                    listed += paths
                    continue
            pages = self.pages if group == REGISTRY else []
            pages = pages + [p for u in units for p in u.paths if p.endswith(".html")]
            for part, data in enumerate(self._sitemaps(pages), start=1):
                path = sitemap_path(group, part)
                listed.append(path)
                yield path, data
        lines = [f"  <sitemap><loc>{escape(self.base_url + p)}</loc></sitemap>\n" for p in listed]
        index = f"{_HEAD}<sitemapindex {_XMLNS}>\n{''.join(lines)}</sitemapindex>\n"
        yield "sitemap.xml", index.encode()

    def _sitemaps(self, html_paths: list[str]) -> Iterator[bytes]:
        """One or more sitemaps of these pages, in path order: the not-found page and the
        permanent ``f/`` addresses (which lead to a disclosure's page) are left out."""
        urls = [
            escape(self.base_url + page_url(path))
            for path in sorted(html_paths)
            if path != "404.html" and not path.startswith("f/")
        ]
        for start in range(0, max(len(urls), 1), MAX_URLS):
            part = urls[start : start + MAX_URLS]
            lines = "".join(f"  <url><loc>{url}</loc></url>\n" for url in part)
            yield f"{_HEAD}<urlset {_XMLNS}>\n{lines}</urlset>\n".encode()


def _parts(pages: int) -> int:
    return max(1, -(-pages // MAX_URLS))
