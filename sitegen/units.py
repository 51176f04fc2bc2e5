"""Units: output that depends on one disclosure, one provider or one archive page; in parallel.

Nine in ten files of a large registry belong to one disclosure - its page in each language,
its history and version pages, its JSON and feed, its permanent ``f/<number>/`` address -
and a provider's page and feed list only its own disclosures.  So the output is cut into one
unit per disclosure and one per provider, and each unit gets a key that digests everything it
is made from: the disclosure with every version (a provider's unit: the provider and its
disclosures' keys), the site configuration, the theme and the code.  A full archive page of
the change log never changes (``sitegen.historypages``), so each is a unit too, and so is
each category's page, whose key digests its disclosures' keys in list order.

That cut gives two things:

* a full build renders the units in worker processes forked from the build (after the
  registry is complete, so they inherit it without copying), one per core, while the build
  process renders the pages drawn from the whole registry;
* a rebuild into a folder made by an earlier build (see ``sitegen.write``) re-renders only
  the units whose key changed; the files of the others are already in place.
"""

from __future__ import annotations

import json
import pickle
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from sitegen.cache import code_fingerprint, digest
from sitegen.changelabels import Labels
from sitegen.diagnostics import SitegenError
from sitegen.export import disclosure_file
from sitegen.feeds import Feeds
from sitegen.historypages import HistoryPages
from sitegen.model import Category
from sitegen.registry import Disclosure, Registry, Version
from sitegen.render import Renderer
from sitegen.workers import cores
from sitegen.write import Sink, UnitFiles

# Fewer units than this to render are rendered in the build process: forking costs more.
PARALLEL_MIN = 400


@dataclass
class Unit:
    """A disclosure's files (``disclosure`` set), an archive page of the change log
    (``archive`` set), or else a provider's page and feed."""

    provider_id: str  # "" for an archive page of the change log
    disclosure: Disclosure | None = None
    disclosures: list[Disclosure] = field(default_factory=list)  # a provider's, for its page
    permalinks: list[str] = field(default_factory=list)  # filing numbers whose f/ page is here
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old key, new key)
    archive: int = 0  # the change log's archive page (in every language)
    category: Category | None = None  # a category's page (in every language)
    key: str = ""

    @property
    def name(self) -> str:
        """Stable across builds: how the manifest finds the unit's files."""
        if self.disclosure is not None:
            return f"d:{self.disclosure.key}"
        if self.archive:
            return f"c:{self.archive}"
        if self.category is not None:
            return f"k:{self.category}"
        return f"p:{self.provider_id}"


def _version_state(version: Version) -> list[Any]:
    """What identifies a version's content without serialising it: a version is the file at
    ``path`` in ``commit``, which never changes, read by this code with this site's settings
    (both in every key).  The diff is computed from it and the version before."""
    return [
        version.number,
        version.commit,
        version.path,
        version.date.isoformat(),
        version.event,
        version.subject,
        version.order,
    ]


def _disclosure_state(disclosure: Disclosure, providers: dict[int, str]) -> list[Any]:
    """A disclosure's inputs: its current file by digest (a deleted one's last version stands
    for it: the digest is empty), its provider, its versions and how it ended."""
    ended = disclosure.ended
    provider = disclosure.provider
    # By digest, made once per provider: its JSON in each of 10,000 states took a third of
    # the units' keys' time.
    dumped = providers.get(id(provider))
    if dumped is None:
        dumped = providers[id(provider)] = digest(_json(provider.model_dump(mode="json")))
    return [
        disclosure.key,
        disclosure.source_path,
        disclosure.digest,
        dumped,
        [_version_state(v) for v in disclosure.versions],
        [ended.commit, ended.date.isoformat(), ended.last_path, ended.subject, ended.order]
        if ended
        else None,
        disclosure.previous_keys,
    ]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class Units:
    """Plans the units of a build and renders them, in workers when that pays."""

    def __init__(
        self,
        renderer: Renderer,
        history: HistoryPages,
        feeds: Feeds,
        shared_state: list[Any],
    ) -> None:
        self.renderer, self.history, self.feeds = renderer, history, feeds
        self.registry: Registry = renderer.registry
        self._group: str | None = None  # the provider whose units were rendered last
        self._labels: dict[str, Labels] = {}
        self.units = self._plan()
        context = _json(
            [
                code_fingerprint(),
                renderer.theme.fingerprint(),
                self.registry.site.model_dump(mode="json"),
                self.registry.history_note,
                sorted(self.registry.moved.items()),
                feeds.fallback.isoformat(),
                shared_state,
            ]
        )
        context = digest(context)  # hashed once, not once per unit
        keys: dict[str, list[str]] = {}
        providers: dict[int, str] = {}  # id(provider model) -> digest of its JSON, made once
        state: list[Any]
        self.disclosure_keys: dict[str, str] = {}  # disclosure key -> its unit's key
        by_disclosure = self.disclosure_keys
        last_page = history.archive_size()
        for unit in self.units:  # a provider's unit comes after its disclosures'
            if unit.disclosure is not None:
                state = [_disclosure_state(unit.disclosure, providers), unit.permalinks, unit.moved]
                unit.key = digest(context, _json(state))
                keys.setdefault(unit.provider_id, []).append(unit.key)
                by_disclosure[unit.disclosure.key] = unit.key
            elif unit.archive:
                # Rows show each disclosure as it is now; the newest page links to the latest.
                events = [
                    [by_disclosure[e.disclosure.key], e.kind, e.version.number if e.version else 0]
                    for e in history.archive_events(unit.archive)
                ]
                state = ["archive", unit.archive, unit.archive == last_page, events]
                unit.key = digest(context, _json(state))
            elif unit.category is not None:
                # Its cards are laid out from the disclosures alone, and listed in this order.
                listed = [by_disclosure[d.key] for d in unit.disclosures]
                state = ["category", unit.category, listed]
                unit.key = digest(context, _json(state))
            else:
                provider = self.registry.providers[unit.provider_id]
                state = [provider.model_dump(mode="json"), keys.get(unit.provider_id, [])]
                unit.key = digest(context, _json(state))

    def _plan(self) -> list[Unit]:
        """For each provider in id order: its disclosures' units, then its own (if it has a
        page: a deleted disclosure may name a provider that is gone)."""
        registry = self.registry
        by_provider: dict[str, list[Disclosure]] = {pid: [] for pid in registry.providers}
        by_provider.update(self.renderer.by_provider)
        units: dict[str, Unit] = {}
        for pid in sorted(by_provider):
            for disclosure in by_provider[pid]:
                units[disclosure.key] = Unit(pid, disclosure)
            if pid in registry.providers:
                units[f"p:{pid}"] = Unit(pid, disclosures=by_provider[pid])
        for number, owner in self.renderer.permalink_owners().items():
            units[owner.key].permalinks.append(number)
        for old, new in sorted(registry.moved.items()):
            units[new].moved.append((old, new))
        for page in range(1, self.history.archive_size() + 1):
            units[f"c:{page}"] = Unit("", archive=page)
        # Last, so their keys can digest their disclosures' keys.
        of_category = self.renderer.by_category
        for category in Category:
            listed = of_category.get(category, [])
            units[f"k:{category}"] = Unit("", disclosures=listed, category=category)
        return list(units.values())

    # -- rendering one unit ------------------------------------------------------------------

    def files(self, unit: Unit) -> Iterator[tuple[str, bytes]]:
        """Every file of a unit; HTML pages end in ``.html``."""
        registry, renderer, history, feeds = self.registry, self.renderer, self.history, self.feeds
        if unit.provider_id != self._group:
            # A provider's feeds repeat its disclosures' entries and change rows: those are
            # remembered while one provider's units are rendered, and no longer.
            self._group = unit.provider_id
            self._labels = {lang: history.labels(lang) for lang in registry.languages}
            feeds.forget()
        labels = self._labels
        disclosure = unit.disclosure
        if unit.archive:
            for lang in registry.languages:
                yield history.changes(lang, labels[lang], unit.archive)
            return
        if unit.category is not None:
            for lang in registry.languages:
                yield renderer.category(lang, unit.category, unit.disclosures)
            return
        if disclosure is None:
            for lang in registry.languages:
                yield renderer.provider(lang, unit.provider_id, unit.disclosures)
                yield feeds.provider_feed(lang, unit.provider_id, labels[lang])
            return
        for lang in registry.languages:
            yield renderer.disclosure(lang, disclosure)
        for number in unit.permalinks:
            yield renderer.permalink(number, disclosure)
        for old, new in unit.moved:
            yield from history.moved_pages(old, new)
        yield from history.disclosure_pages(disclosure, labels)
        yield disclosure_file(disclosure, renderer.urls)
        yield from history.version_files(disclosure)
        for lang in registry.languages:
            yield feeds.disclosure_feed(lang, disclosure, labels[lang])

    def render(self, unit: Unit, sink: Sink) -> UnitFiles:
        paths = [sink.put(path, data) for path, data in self.files(unit)]
        return UnitFiles.of(unit.key, paths, sink.written, sink.bytes_written)

    # -- all units ---------------------------------------------------------------------------

    def start(
        self,
        sink: Sink,
        reuse: Callable[[Unit], UnitFiles | None],
        workers: int | None = None,
        first: Callable[[ProcessPoolExecutor], None] | None = None,
        shared: bool = False,
        spare: Callable[[ProcessPoolExecutor], None] | None = None,
    ) -> Pending:
        """Set the units to work: the ones ``reuse`` cannot keep are handed to worker
        processes at once (when that pays), so the caller can render shared pages meanwhile.

        ``first`` is given the workers before any unit, to queue another stage's jobs on them
        (the search indexes): two stages sharing the cores in turn hold half the memory of
        two pools at once, and take no longer when the cores are busy anyway.  ``shared``:
        that stage forks workers in any case, so even a few units go to them (a rebuild's,
        which the build process would otherwise render while they sit idle).  ``spare`` is
        then given the workers too, before ``first`` and the units, to queue work of the
        build process on them: with few units they have time to spare.
        """
        pending = Pending(self, sink)
        for unit in self.units:
            kept = reuse(unit)
            pending.order.append((unit, kept))
        todo = [unit for unit, kept in pending.order if kept is None]
        count = len(todo)
        workers = workers if workers is not None else cores()
        few = count < PARALLEL_MIN
        enough = not few or (shared and count > 0 and first is not None)
        if workers >= 2 and enough and sys.platform.startswith("linux"):
            pending.submit(todo, workers, first, spare if few else None)
        return pending


class Pending:
    """Units being rendered; ``results()`` gives each unit with its files, in plan order."""

    def __init__(self, units: Units, sink: Sink) -> None:
        self.units, self.sink = units, sink
        self.order: list[tuple[Unit, UnitFiles | None]] = []
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[int, Future[list[UnitFiles] | BaseException]] = {}
        self.batch_of: dict[int, tuple[int, int]] = {}  # unit index -> (batch, position)

    def submit(
        self,
        todo: list[Unit],
        workers: int,
        first: Callable[[ProcessPoolExecutor], None] | None = None,
        spare: Callable[[ProcessPoolExecutor], None] | None = None,
    ) -> None:
        global _STATE
        _STATE = (self.units, self.sink)
        try:
            self.pool = ProcessPoolExecutor(workers, mp_context=get_context("fork"))
            # The workers fork at the first submit, with _STATE set.  A spare job goes first:
            # the registry's JSON is the longest job of a rebuild (1.2 s), so one worker makes
            # it while the other makes both search indexes (0.6 s), where queued after them it
            # ended 0.4 s later.
            if spare is not None:
                spare(self.pool)
            if first is not None:
                first(self.pool)
            index = {id(u): i for i, u in enumerate(self.units.units)}
            # Several units per task (fewer round trips), small enough to share out evenly.
            for b, batch in enumerate(_batches(todo, workers * 8)):
                numbers = [index[id(u)] for u in batch]
                self.futures[b] = self.pool.submit(_render_batch, numbers)
                for position, number in enumerate(numbers):
                    self.batch_of[number] = (b, position)
        except OSError:
            self.close()
        finally:
            _STATE = None  # the workers forked at the first submit and have their copy

    def results(self) -> Iterator[tuple[Unit, UnitFiles]]:
        try:
            for number, (unit, kept) in enumerate(self.order):
                if kept is not None:
                    yield unit, kept
                elif number in self.batch_of:
                    b, position = self.batch_of[number]
                    try:
                        result = self.futures[b].result()
                    except BrokenProcessPool:
                        raise SitegenError(
                            "a page-rendering worker process died (out of memory?); "
                            "try again with --jobs 1"
                        ) from None
                    if isinstance(result, BaseException):
                        raise result
                    yield unit, result[position]
                else:
                    yield unit, self.units.render(unit, self.sink.fresh())
        finally:
            self.close()

    def close(self) -> None:
        if self.pool is not None:
            for future in self.futures.values():
                future.cancel()
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        self.futures.clear()
        self.batch_of.clear()


def _batches(units: list[Unit], count: int) -> list[list[Unit]]:
    """About ``count`` batches of as many units, in plan order."""
    size = max(1, len(units) // max(1, count))
    return [units[start : start + size] for start in range(0, len(units), size)]


_STATE: tuple[Units, Sink] | None = None  # set in the parent just before the workers fork


def _render_batch(indexes: list[int]) -> list[UnitFiles] | BaseException:
    """In a worker: render some units into the shared staging folder."""
    assert _STATE is not None
    units, sink = _STATE
    try:
        return [units.render(units.units[i], sink.fresh()) for i in indexes]
    except BaseException as exc:  # carried back to the build process, which raises it
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # an exception that cannot travel is described instead
            return SitegenError(f"rendering failed: {type(exc).__name__}: {exc}")
        return exc
