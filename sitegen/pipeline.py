"""The build pipeline: load -> validate -> render -> write, with one registry flowing through.

Everything is gathered and validated before anything is written; output is streamed into a
staging folder and swapped in only when complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from sitegen.cache import Cache
from sitegen.diagnostics import InvalidInput, Report
from sitegen.export import api_files
from sitegen.feeds import Feeds
from sitegen.history import attach_history
from sitegen.historypages import HistoryPages
from sitegen.load import discover
from sitegen.quality import check_quality
from sitegen.registry import Registry
from sitegen.render import Renderer
from sitegen.scaffold import report_placeholders
from sitegen.schema import schema_files
from sitegen.search import SearchStage
from sitegen.serve import LIVE_RELOAD
from sitegen.theme import DEFAULT_THEME, Theme
from sitegen.timing import phase, timed
from sitegen.validate import validate
from sitegen.write import SiteWriter

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)


@dataclass
class BuildResult:
    registry: Registry
    report: Report
    out: Path
    pages: int = 0
    files: int = 0
    bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self, seconds: float) -> str:
        extra = "".join(f"; {note}" for note in self.notes)
        return (
            f"built {len(self.registry.disclosures)} disclosures, {self.pages} pages "
            f"({', '.join(self.registry.languages)}), {self.files} files, "
            f"{len(self.report.warnings)} warning(s) in {seconds:.2f}s -> {self.out}{extra}"
        )


def load_registry(
    source: Path, report: Report, today: dt.date | None = None, cache: Cache | None = None
) -> Registry | None:
    """Load and validate; the registry is returned even when some files had errors."""
    cache = cache if cache is not None else Cache(None)
    with phase("load"):
        sources = discover(source, report)
    with phase("validate"):
        registry = validate(sources, report)
        if registry is not None:
            check_quality(registry, sources, report, today)
        report_placeholders(sources, report)
    return registry


def check(source: Path, today: dt.date | None = None, cache: Cache | None = None) -> Report:
    report = Report()
    with cache if cache is not None else Cache.open() as store:
        load_registry(source, report, today, store)
    return report


def build_site(
    source: Path,
    out: Path,
    base_url: str | None = None,
    strict: bool = False,
    theme_dir: Path = DEFAULT_THEME,
    progress: Callable[[int], None] | None = None,
    cache: Cache | None = None,
) -> BuildResult:
    """``progress`` is called with the number of pages written so far (for a terminal).

    ``cache`` defaults to the user's cache folder (:func:`sitegen.cache.cache_dir`); pass
    ``Cache(None)`` to build without one.  The output is the same either way.
    """
    with cache if cache is not None else Cache.open() as store:
        return _build(source, out, base_url, strict, theme_dir, progress, store)


def _build(
    source: Path,
    out: Path,
    base_url: str | None,
    strict: bool,
    theme_dir: Path,
    progress: Callable[[int], None] | None,
    cache: Cache,
) -> BuildResult:
    report = Report()
    registry = load_registry(source, report, cache=cache)
    if registry is None or report.has_errors(strict=strict):
        raise InvalidInput(report)
    if base_url:
        registry.site = registry.site.model_copy(
            update={"base_url": base_url if base_url.endswith("/") else base_url + "/"}
        )
    with phase("history"):
        attach_history(registry, source, cache=cache)
    theme = Theme(theme_dir)
    renderer = Renderer(registry, theme)
    renderer.extra_context.update({"csp": CSP, "extra_nav": []})
    history = HistoryPages(renderer)
    history.install()
    search = SearchStage(renderer, cache=cache)
    search.install()
    feeds = Feeds(registry, renderer.urls, theme)
    renderer.feeds_for = feeds.links
    result = BuildResult(registry, report, out)
    if registry.history_note:
        result.notes.append(registry.history_note)
    if cache.note:
        result.notes.append(cache.note)
    with phase("write"), SiteWriter(out) as writer:
        html_paths: list[str] = []
        pages = chain(renderer.pages(), history.pages(), search.pages())
        for path, data in timed(pages, "render"):
            writer.write(path, data)
            html_paths.append(path)
            if progress is not None:
                progress(len(html_paths))
        for path, data in timed(api_files(registry, renderer.urls), "export"):
            writer.write(path, data)
        for path, data in timed(chain(history.api_files(), feeds.files()), "export"):
            writer.write(path, data)
        for path, data in timed(search.files(), "search"):
            writer.write(path, data)
        result.notes.append(search.note())
        for path, file in theme.static_files():
            if path != LIVE_RELOAD:  # only `serve` uses it, from the theme folder
                writer.copy(path, file)
        languages, pattern = tuple(registry.languages), registry.site.filing_number_pattern
        for path, data in schema_files(languages, registry.site.base_url, pattern):
            writer.write(path, data)
        writer.write("sitemap.xml", sitemap(registry, html_paths))
        writer.write("robots.txt", robots(registry))
        result.pages = len(html_paths)
        result.files = writer.count
        result.bytes = writer.bytes
    return result


def sitemap(registry: Registry, html_paths: list[str]) -> bytes:
    from xml.sax.saxutils import escape

    from sitegen.urls import page_url

    base = registry.site.base_url
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for path in sorted(html_paths):
        if path == "404.html" or path.startswith("f/"):
            continue
        lines.append(f"  <url><loc>{escape(base + page_url(path))}</loc></url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def robots(registry: Registry) -> bytes:
    return f"User-agent: *\nAllow: /\nSitemap: {registry.site.base_url}sitemap.xml\n".encode()
