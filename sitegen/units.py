"""Units: the output that depends on one provider's disclosures alone, built in parallel.

Nine in ten files of a large registry belong to one disclosure - its page in each language,
its history and version pages, its JSON and feeds, its permanent ``f/<number>/`` address -
and a provider's page and feed list only its own disclosures.  So the output is cut into one
unit per provider, and each unit gets a key that digests everything it is made from: the
provider, each disclosure with every version, the site configuration, the theme and the code.

That cut gives two things:

* a full build renders the units in worker processes forked from the build (after the
  registry is complete, so they inherit it without copying), one per core, while the build
  process renders the pages drawn from the whole registry;
* a rebuild into a folder made by an earlier build (see ``sitegen.write``) re-renders only
  the units whose key changed; the files of the others are already in place.
"""

from __future__ import annotations

import os
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
from sitegen.export import disclosure_file
from sitegen.feeds import Feeds
from sitegen.historypages import HistoryPages
from sitegen.registry import Disclosure, Registry, Version
from sitegen.render import Renderer
from sitegen.write import Sink, UnitFiles

# Fewer disclosures than this are rendered in the build process: forking costs more.
PARALLEL_MIN = 400


@dataclass
class Unit:
    provider_id: str
    disclosures: list[Disclosure] = field(default_factory=list)
    permalinks: list[str] = field(default_factory=list)  # filing numbers whose f/ page is here
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old key, new key)
    key: str = ""


def _version_state(version: Version) -> list[Any]:
    # The diff is left out: it is computed from the data of this version and the one before.
    return [
        version.number,
        version.commit,
        version.date.isoformat(),
        version.effective_date.isoformat() if version.effective_date else None,
        version.change_note,
        version.data,
        version.raw,
        version.problem,
        version.path,
        version.event,
        version.subject,
        version.order,
    ]


def _disclosure_state(disclosure: Disclosure) -> list[Any]:
    ended = disclosure.ended
    return [
        disclosure.key,
        disclosure.source_path,
        disclosure.digest,
        disclosure.algorithm.model_dump(mode="json"),
        disclosure.provider.model_dump(mode="json"),
        [_version_state(v) for v in disclosure.versions],
        [ended.commit, ended.date.isoformat(), ended.last_path, ended.subject, ended.order]
        if ended
        else None,
        disclosure.previous_keys,
    ]


def _json(value: Any) -> str:
    import json

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
        for unit in self.units:
            has_page = unit.provider_id in self.registry.providers
            provider = self.registry.providers[unit.provider_id] if has_page else None
            state = [
                unit.provider_id,
                provider.model_dump(mode="json") if provider else None,
                [_disclosure_state(d) for d in unit.disclosures],
                unit.permalinks,
                unit.moved,
            ]
            unit.key = digest(context, _json(state))

    def _plan(self) -> list[Unit]:
        registry = self.registry
        units: dict[str, Unit] = {pid: Unit(pid) for pid in registry.providers}
        for disclosure in registry.disclosures:  # tombstones may name a provider now gone
            units.setdefault(disclosure.provider.id, Unit(disclosure.provider.id))
            units[disclosure.provider.id].disclosures.append(disclosure)
        by_key = {d.key: d for d in registry.disclosures}
        for number, owner in self.renderer.permalink_owners().items():
            units[owner.provider.id].permalinks.append(number)
        for old, new in sorted(registry.moved.items()):
            units[by_key[new].provider.id].moved.append((old, new))
        return [units[pid] for pid in sorted(units)]

    # -- rendering one unit ------------------------------------------------------------------

    def files(self, unit: Unit) -> Iterator[tuple[str, bytes]]:
        """Every file of a unit; HTML pages end in ``.html``."""
        registry, renderer, history, feeds = self.registry, self.renderer, self.history, self.feeds
        labels: dict[str, Labels] = {lang: history.labels(lang) for lang in registry.languages}
        feeds.forget()
        by_number = {d.algorithm.filing.number: d for d in unit.disclosures}
        has_page = unit.provider_id in registry.providers
        for lang in registry.languages:
            if has_page:
                yield renderer.provider(lang, unit.provider_id, unit.disclosures)
            for disclosure in unit.disclosures:
                yield renderer.disclosure(lang, disclosure)
        for number in unit.permalinks:
            yield renderer.permalink(number, by_number[number])
        for old, new in unit.moved:
            yield from history.moved_pages(old, new)
        for disclosure in unit.disclosures:
            yield from history.disclosure_pages(disclosure, labels)
            yield disclosure_file(disclosure, renderer.urls)
            yield from history.version_files(disclosure)
        for lang in registry.languages:
            if has_page:
                yield feeds.provider_feed(lang, unit.provider_id, labels[lang])
            for disclosure in unit.disclosures:
                yield feeds.disclosure_feed(lang, disclosure, labels[lang])
        feeds.forget()

    def render(self, unit: Unit, sink: Sink) -> UnitFiles:
        paths = [sink.put(path, data) for path, data in self.files(unit)]
        return UnitFiles(unit.key, paths, sink.written, sink.bytes_written)

    # -- all units ---------------------------------------------------------------------------

    def start(
        self, sink: Sink, reuse: Callable[[Unit], UnitFiles | None], workers: int | None = None
    ) -> Pending:
        """Set the units to work: the ones ``reuse`` cannot keep are handed to worker
        processes at once (when that pays), so the caller can render shared pages meanwhile."""
        pending = Pending(self, sink)
        for unit in self.units:
            kept = reuse(unit)
            pending.order.append((unit, kept))
        todo = [unit for unit, kept in pending.order if kept is None]
        count = sum(len(u.disclosures) for u in todo)
        workers = workers if workers is not None else _workers()
        if workers >= 2 and count >= PARALLEL_MIN and sys.platform.startswith("linux"):
            pending.submit(todo, workers)
        return pending


class Pending:
    """Units being rendered; ``results()`` gives each unit with its files, in plan order."""

    def __init__(self, units: Units, sink: Sink) -> None:
        self.units, self.sink = units, sink
        self.order: list[tuple[Unit, UnitFiles | None]] = []
        self.pool: ProcessPoolExecutor | None = None
        self.futures: dict[int, Future[list[UnitFiles] | BaseException]] = {}
        self.batch_of: dict[int, tuple[int, int]] = {}  # unit index -> (batch, position)

    def submit(self, todo: list[Unit], workers: int) -> None:
        global _STATE
        _STATE = (self.units, self.sink)
        try:
            self.pool = ProcessPoolExecutor(workers, mp_context=get_context("fork"))
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
                        raise RuntimeError("a page-rendering worker process died") from None
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


def _workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _batches(units: list[Unit], count: int) -> list[list[Unit]]:
    """About ``count`` batches of similar size (in disclosures), in plan order."""
    total = sum(len(u.disclosures) + 1 for u in units)
    size = max(1, total // max(1, count))
    batches: list[list[Unit]] = [[]]
    filled = 0
    for unit in units:
        if filled >= size:
            batches.append([])
            filled = 0
        batches[-1].append(unit)
        filled += len(unit.disclosures) + 1
    return [b for b in batches if b]


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
            return RuntimeError(f"{type(exc).__name__}: {exc}")
        return exc
