"""Open data: the registry as JSON (whole and per disclosure) and as CSV for spreadsheets.

Keys follow the format's field order, so snapshots from two builds diff cleanly; the snapshot
is also what ``diff`` reads back when comparing two published builds.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import mmap
import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from sitegen.cache import Cache, digest
from sitegen.fragments import Fragments
from sitegen.memory import release_free_memory
from sitegen.model import FORMAT_VERSION
from sitegen.registry import Disclosure, Registry
from sitegen.urls import Urls, page_url
from sitegen.write import Part, Sink, SiteWriter


def dumps(data: Any) -> bytes:
    """Compact JSON: the C encoder (an ``indent`` makes json use its Python one, five times
    slower) and a third fewer bytes; browsers and ``jq`` lay it out for reading."""
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def disclosure_record(disclosure: Disclosure, urls: Urls) -> dict[str, Any]:
    default = urls.default
    record: dict[str, Any] = {
        "key": disclosure.key,
        "provider": disclosure.provider.id,
        "url": page_url(urls.disclosure(default, disclosure.key)),
        "json_url": urls.api_disclosure(disclosure.key),
        "history_url": page_url(urls.history(default, disclosure.key)),
        "status": _status(disclosure),
        **disclosure.algorithm.model_dump(mode="json"),
    }
    record.update(history_fields(disclosure, urls))
    return record


def history_fields(disclosure: Disclosure, urls: Urls) -> dict[str, Any]:
    """Published versions (from git), the deletion if any, and keys used before a rename."""
    versions = [
        {
            "version": v.number,
            "commit": v.commit,
            "date": v.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "effective_date": v.effective_date.isoformat() if v.effective_date else None,
            "json_url": urls.api_version(disclosure.key, v.number),
        }
        for v in disclosure.versions
    ]
    fields: dict[str, Any] = {"versions": versions}
    if disclosure.ended is not None:
        fields["ended"] = {
            "commit": disclosure.ended.commit,
            "date": disclosure.ended.date.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reason": disclosure.ended.subject,
        }
    if disclosure.previous_keys:
        fields["previous_keys"] = list(disclosure.previous_keys)
    return fields


def _status(disclosure: Disclosure) -> str:
    if disclosure.ended is not None:
        return "deleted"
    return str(disclosure.algorithm.filing.status)


def registry_snapshot(registry: Registry, urls: Urls, disclosures: bool = True) -> dict[str, Any]:
    snapshot: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "site": registry.site.model_dump(mode="json"),
        "providers": [p.model_dump(mode="json") for p in registry.providers.values()],
    }
    if disclosures:
        snapshot["disclosures"] = [disclosure_record(d, urls) for d in registry.disclosures]
    return snapshot


CSV_COLUMNS = [
    "key",
    "provider",
    "provider_name",
    "id",
    "name",
    "category",
    "role",
    "filing_status",
    "filing_number",
    "filing_date",
    "public_opinion_attributes",
    "effective_date",
    "last_reviewed",
    "products",
    "objectives",
    "complaint_channels",
    "url",
]


def _csv_row(disclosure: Disclosure, registry: Registry, urls: Urls) -> list[str]:
    lang = registry.default_language

    def text(value: dict[str, str] | None) -> str:
        if not value:
            return ""
        return " / ".join(value[lang2] for lang2 in registry.languages if lang2 in value)

    d, a = disclosure, disclosure.algorithm
    row = [
        d.key,
        d.provider.id,
        text(d.provider.name),
        a.id,
        text(a.name),
        str(a.category),
        str(a.role),
        _status(d),
        a.filing.number or "",
        a.filing.date.isoformat() if a.filing.date else "",
        "true" if a.public_opinion_attributes else "false",
        a.effective_date.isoformat(),
        a.last_reviewed.isoformat(),
        "; ".join(text(p.name) for p in a.products),
        "; ".join(text(o.name) for o in a.optimization_objectives),
        "; ".join(c.target for c in a.complaint_channels),
        page_url(urls.disclosure(lang, d.key)),
    ]
    return [_csv_safe(cell) for cell in row]


def _csv_safe(cell: str) -> str:
    # Spreadsheets run cells starting with = + - @ as formulas; untrusted text must not.
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def registry_csv(registry: Registry, urls: Urls, fragments: Fragments | None = None) -> bytes:
    """Each disclosure's line is kept between builds as CSV text: a rebuild joins 10,000
    lines instead of quoting 170,000 cells again."""
    fragments = fragments if fragments is not None else Fragments()
    line = _CsvLine()

    def make(disclosure: Disclosure) -> str:
        return line(_csv_row(disclosure, registry, urls))

    lines = fragments.rows("csv-line", registry.disclosures, make)
    # A BOM tells spreadsheet programs the file is UTF-8 (Chinese text is garbled otherwise).
    return ("\ufeff" + line(CSV_COLUMNS) + "".join(lines)).encode("utf-8")


class _CsvLine:
    """One row as a line of CSV text, quoted and ended as ``csv.writer`` does for a file."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def __call__(self, row: list[str]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(row)
        return self.buffer.getvalue()


def registry_json(registry: Registry, urls: Urls, fragments: Fragments | None = None) -> bytes:
    """``dumps(registry_snapshot(...))``, from each disclosure's record as compact JSON."""
    parts, _ = registry_json_parts(registry, urls, fragments)
    return b"".join(parts)


def registry_json_parts(
    registry: Registry,
    urls: Urls,
    fragments: Fragments | None = None,
    previous: Previous | None = None,
) -> tuple[list[Part], dict[str, tuple[str, int, int]]]:
    """``api/registry.json`` in parts, and where each record is in it (see :class:`Layout`).

    A record is taken from ``previous`` (the file the last build wrote, as it lies in the
    output folder) when its disclosure's unit key is the one it was made with; else from
    the records kept between builds (``sitegen.fragments``); else it is made.
    """
    fragments = fragments if fragments is not None else Fragments()
    snapshot = registry_snapshot(registry, urls, disclosures=False)
    head = dumps(snapshot).removesuffix(b"}\n") + b',"disclosures":['

    def make(disclosure: Disclosure) -> bytes:
        return dumps(disclosure_record(disclosure, urls))[:-1]

    records: list[Part]
    if previous is None:
        # Each record as UTF-8 bytes: joining 10,000 of them is then a copy, with no text
        # to build and encode again.
        records = list(fragments.rows("record-utf8", registry.disclosures, make))
    else:
        records = []
        for d in registry.disclosures:
            unit = fragments.keys.get(d.key, "")
            found = previous.records.get(d.key)
            if unit and found is not None and found[0] == unit:
                records.append(previous.view[found[1] : found[1] + found[2]])
            else:
                records.append(make(d))
    # Written part by part: a join held the 93 MB at 10,000 disclosures once more.
    parts: list[Part] = [head]
    where: dict[str, tuple[str, int, int]] = {}
    offset = len(head)
    for number, (d, record) in enumerate(zip(registry.disclosures, records, strict=True)):
        if number:
            parts.append(b",")
            offset += 1
        parts.append(record)
        where[d.key] = (fragments.keys.get(d.key, ""), offset, len(record))
        offset += len(record)
    parts.append(b"]}\n")
    return parts, where


@dataclass(frozen=True)
class Layout:
    """Where each record lies in the ``api/registry.json`` a build wrote, and how to tell
    that file is still the one it wrote.

    At 10,000 disclosures the file is 93 MB.  A rebuild used to read every record back from
    the build cache (a third of a second, through SQLite's pages) to write it again; it now
    copies the unchanged records from the file in the output folder, which the last build
    left there, and makes the changed ones.  The file is trusted as the units' files are
    (``sitegen.write``): its size and modification time must be the ones written, and its
    digest the one the output's file list has.
    """

    digest: str
    size: int
    modified: int  # st_mtime_ns of the file as written
    records: dict[str, tuple[str, int, int]]  # disclosure key -> (unit key, offset, length)


@dataclass
class Previous:
    """The last build's ``api/registry.json``, mapped, with its :class:`Layout`'s records."""

    records: dict[str, tuple[str, int, int]]
    view: memoryview


def disclosure_file(disclosure: Disclosure, urls: Urls) -> tuple[str, bytes]:
    return urls.api_disclosure(disclosure.key), dumps(disclosure_record(disclosure, urls))


_LAYOUT = "layout"  # the build cache's namespace for :class:`Layout`

# What the export job needs, set in the build process just before the units' workers fork.
_EXPORT: Export | None = None


def _export_job() -> list[tuple[str, str, int, int]]:
    """In a forked worker: the registry's JSON, staged; what ``SiteWriter.record`` takes."""
    assert _EXPORT is not None
    try:
        return _EXPORT.stage(_EXPORT.writer.sink.fresh())
    finally:
        release_free_memory()  # the records, joined and written: the worker goes on rendering


class Export:
    """The registry as one JSON file (``api/registry.json``), made on a worker of the units'
    when they have time to spare (a rebuild, where the open data were a sixth of the build
    process's time), else in the build process.  The CSV is made meanwhile in the build
    process: both on the worker would keep the build process waiting for it."""

    def __init__(self, registry: Registry, urls: Urls, fragments: Fragments, writer: SiteWriter):
        self.registry, self.urls, self.fragments, self.writer = registry, urls, fragments, writer
        self.future: Future[list[tuple[str, str, int, int]]] | None = None

    @contextmanager
    def inherited(self) -> Iterator[None]:
        """Workers forked in the block can run :func:`_export_job`."""
        global _EXPORT
        _EXPORT = self
        try:
            yield
        finally:
            _EXPORT = None

    def start(self, pool: ProcessPoolExecutor) -> None:
        """Queue the job on workers forked in :meth:`inherited`."""
        self.future = pool.submit(_export_job)

    def stage(self, sink: Sink) -> list[tuple[str, str, int, int]]:
        path = self.urls.api_registry()
        cache = self.fragments.cache.here() if self.fragments.cache is not None else None
        key = digest("registry-json", str(self.writer.out))
        with ExitStack() as stack:
            previous = self._previous(path, cache, key, stack)
            parts, records = registry_json_parts(self.registry, self.urls, self.fragments, previous)
            staged = self.writer.stage_parts(path, parts, sink)
            del parts  # the views into the last file, which is closed on leaving the block
        _, found, size, written = staged
        if cache is not None and (written or previous is None or previous.records != records):
            # Also when the bytes are the same but not the unit keys they were made with (a
            # new template): kept as they were, every record would be made again next time.
            placed = sink.root / path if written else self.writer.out / path
            with contextlib.suppress(OSError):
                modified = placed.stat().st_mtime_ns
                cache.put(_LAYOUT, key, Layout(found, size, modified, records))
        return [staged]

    def _previous(
        self, path: str, cache: Cache | None, key: str, stack: ExitStack
    ) -> Previous | None:
        """The last build's file, when the output folder still has it as written."""
        previous = self.writer.previous
        shared = previous.shared.get(path) if previous is not None else None
        if cache is None or shared is None:
            return None
        layout = cache.get(_LAYOUT, key)
        if not isinstance(layout, Layout) or (layout.digest, layout.size) != shared:
            return None
        try:
            file = stack.enter_context(open(self.writer.out / path, "rb"))  # noqa: SIM115
            status = os.fstat(file.fileno())
            if (status.st_size, status.st_mtime_ns) != (layout.size, layout.modified):
                return None
            mapped = stack.enter_context(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))
        except (OSError, ValueError):  # gone, unreadable, or empty
            return None
        view = stack.enter_context(memoryview(mapped))
        return Previous(layout.records, view)

    def files(self) -> Iterator[tuple[str, str, int, int]]:
        """Each file's (path, digest, size, written elsewhere)."""
        if self.future is not None:
            try:
                yield from self.future.result()
                return
            except BrokenProcessPool:  # the worker died: made here
                pass
        staged = self.stage(self.writer.sink)
        # The records and their join are freed, but the C heap would keep their pages for the
        # rest of the build: at 10,000 disclosures the build process went from 650 MB
        # resident to 360 MB here.
        release_free_memory()
        for path, found, size, _ in staged:
            yield path, found, size, 0  # counted by the writer's own sink
