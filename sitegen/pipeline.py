"""The build pipeline: load -> validate -> render -> write, with one registry flowing through.

Everything is gathered and validated before anything is written; output is streamed into a
staging folder and swapped in only when complete.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen.cache import Cache, Sharded, digest
from sitegen.diagnostics import InvalidInput, Report
from sitegen.load import collector_paused, discover
from sitegen.quality import check_quality
from sitegen.registry import Registry
from sitegen.scaffold import report_placeholders
from sitegen.timing import phase, timed
from sitegen.validate import validate

if TYPE_CHECKING:
    from sitegen.write import Manifest

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)


# Objects allocated (less those freed) between two collections of the youngest generation
# while pages are made; Python's default is 700.
YOUNG_OBJECTS = 50_000


@dataclass
class BuildResult:
    registry: Registry
    report: Report
    out: Path
    pages: int = 0
    files: int = 0
    bytes: int = 0
    written: int = 0  # files written by this build (all of them unless it updated)
    updated: bool = False  # updated the previous output in place instead of replacing it
    notes: list[str] = field(default_factory=list)

    def summary(self, seconds: float) -> str:
        extra = "".join(f"; {note}" for note in self.notes)
        return (
            f"built {len(self.registry.disclosures)} disclosures, {self.pages} pages "
            f"({', '.join(self.registry.languages)}), {self.files} files, "
            f"{len(self.report.warnings)} warning(s) in {seconds:.2f}s -> {self.out}{extra}"
        )


def load_registry(
    source: Path,
    report: Report,
    today: dt.date | None = None,
    cache: Cache | None = None,
    models: bool = True,
) -> Registry | None:
    """Load and validate; the registry is returned even when some files had errors.

    ``models=False``: the caller reads no algorithm's model (it only reports), so none is
    kept; one asked for anyway is validated again from its file.
    """
    cache = cache if cache is not None else Cache(None)
    # What is loaded lives to the end of the run: the collector would only scan it again and
    # again as it grows (a tenth of a warm check).  It makes almost no cycles.
    with collector_paused():
        with phase("load"):
            sources = discover(source, report, cache=cache)
        with phase("validate"):
            registry = validate(sources, report, models=models)
            if registry is not None:
                check_quality(registry, sources, report, today)
            report_placeholders(sources, report)
    return registry


def check(source: Path, today: dt.date | None = None, cache: Cache | None = None) -> Report:
    report = Report()
    with cache if cache is not None else Cache.open() as store:
        load_registry(source, report, today, store, models=False)
    return report


def build_site(
    source: Path,
    out: Path,
    base_url: str | None = None,
    strict: bool = False,
    theme_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
    cache: Cache | None = None,
    jobs: int | None = None,
) -> BuildResult:
    """``progress`` is called with the number of pages written so far (for a terminal);
    ``theme_dir`` defaults to the bundled theme.

    ``cache`` defaults to the user's cache folder (:func:`sitegen.cache.cache_dir`); pass
    ``Cache(None)`` to build without one.  ``jobs`` is the number of processes rendering
    pages (default: one per core).  The output is the same whatever they are.
    """
    thresholds = gc.get_threshold()
    with cache if cache is not None else Cache.open() as store:
        try:
            return _build(source, out, base_url, strict, theme_dir, progress, store, jobs)
        finally:
            # The registry, frozen by ``_build``, may be collected again, as usual.
            gc.unfreeze()
            gc.set_threshold(*thresholds)


def _build(
    source: Path,
    out: Path,
    base_url: str | None,
    strict: bool,
    theme_dir: Path | None,
    progress: Callable[[int], None] | None,
    cache: Cache,
    jobs: int | None,
) -> BuildResult:
    # The build's own stages are imported when a build starts: a check, most often a pull
    # request's, runs none of them, and they were a quarter of its start-up (0.05 s).
    from sitegen.export import Export, registry_csv
    from sitegen.feeds import Feeds
    from sitegen.fragments import Fragments
    from sitegen.history import LogAhead, attach_history
    from sitegen.historypages import HistoryPages
    from sitegen.memory import release_free_memory
    from sitegen.render import Renderer
    from sitegen.schema import schema_files
    from sitegen.search import SearchStage
    from sitegen.serve import LIVE_RELOAD
    from sitegen.sitemap import Sitemaps
    from sitegen.theme import DEFAULT_THEME, Theme
    from sitegen.units import Units
    from sitegen.write import Manifest, SiteWriter

    report = Report()
    # git reads the log while the files are checked.
    with closing(LogAhead(source)) as ahead, collector_paused():
        registry = load_registry(source, report, cache=cache)
        if registry is None or report.has_errors(strict=strict):
            raise InvalidInput(report)
        if base_url:
            registry.site = registry.site.model_copy(
                update={"base_url": base_url if base_url.endswith("/") else base_url + "/"}
            )
        with phase("history"):
            attach_history(registry, source, cache=cache, ahead=ahead)
        # The registry and its history are kept to the end: out of the collector's sight,
        # the pages' garbage is collected without scanning them again (a rebuild spent a
        # sixth of its time there), and forked workers do not touch their pages to do it.
        # Frozen before the collector is back, which would otherwise scan everything made
        # since it was paused once more (0.1 s of a rebuild; it found nothing to free).
        gc.freeze()
    # What loading and history dropped would otherwise stay resident in this process for
    # the whole build, and be shared into every worker forked below.
    release_free_memory()
    # Pages make many short-lived objects and few cycles: young objects are collected in
    # larger, far fewer passes (a rebuild's collections went from 0.29 s to 0.09 s).
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    theme = Theme(theme_dir or DEFAULT_THEME, cache)
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
    units = Units(renderer, history, feeds, [CSP])
    renderer.fragments = search.fragments = feeds.fragments = Fragments(
        cache, units.disclosure_keys
    )
    stored = Sharded(cache, "output", digest("output", str(out.resolve())))
    # Only a whole file list may say which files the site no longer has.
    previous = Manifest.from_data(stored.entries, stored.extra) if stored.complete else None
    with phase("write"), SiteWriter(out, previous) as writer, closing(search), ExitStack() as on:
        # The search indexes go first on the units' workers when there are any.
        export = Export(registry, renderer.urls, renderer.fragments, writer)
        with export.inherited(), search.inherited():
            pending = units.start(
                writer.sink,
                lambda u: writer.reuse(u.name, u.key),
                jobs,
                first=search.start,
                shared=search.forks(),
                spare=export.start,
            )
        # A build that fails before collecting the units stops their workers (queued work
        # is dropped) before the staging folder they write into is removed.
        on.callback(pending.close)
        search.start()
        html_paths: list[str] = []
        shared = chain(renderer.shared_pages(), history.shared_pages(), search.pages())
        for path, data in timed(shared, "render"):
            writer.write(path, data)
            html_paths.append(path)
            if progress is not None:
                progress(len(html_paths))
        for path, data in timed(feeds.shared_files(), "export"):
            writer.write(path, data)
        with phase("export"):
            csv = registry_csv(registry, renderer.urls, renderer.fragments)
            writer.write(renderer.urls.api_csv(), csv)
        for staged in timed(export.files(), "export"):
            writer.record(*staged)
        for path, data in timed(search.files(), "search"):
            writer.write(path, data)
        result.notes.append(search.note())
        for path, file in theme.static_files():
            if path != LIVE_RELOAD:  # only `serve` uses it, from the theme folder
                writer.copy(path, file)
        languages, pattern = tuple(registry.languages), registry.site.filing_number_pattern
        for path, data in schema_files(languages, registry.site.base_url, pattern):
            writer.write(path, data)
        pages = len(html_paths)
        sitemaps = Sitemaps(registry.site.base_url)
        sitemaps.add_pages(html_paths)
        for unit, files in timed(pending.results(), "render"):
            writer.add_unit(unit.name, files)
            sitemaps.add_unit(unit.provider_id, files, rendered=files.written > 0)
            pages += files.pages
            if progress is not None:
                progress(pages)
        for path, data in sitemaps.files(writer.keep):
            writer.write(path, data)
        writer.write("robots.txt", robots(registry))
        writer.build = build_id(writer.manifest())
        result.pages = pages
        result.files = writer.count
        result.bytes = writer.size
        result.written = writer.written
        result.updated = writer.updating
    stored.save(*writer.manifest().to_data())
    if cache.note:  # the cache turned itself off somewhere in the build
        result.notes.append(cache.note)
    return result


def build_id(manifest: Manifest) -> str:
    """Names the output a manifest describes: the same site always gets the same id."""
    parts = [f"{pid} {u.key}" for pid, u in sorted(manifest.units.items())]
    parts += [f"{path} {d}" for path, (d, _) in sorted(manifest.shared.items())]
    return digest(*parts)[:32]


def robots(registry: Registry) -> bytes:
    return f"User-agent: *\nAllow: /\nSitemap: {registry.site.base_url}sitemap.xml\n".encode()
