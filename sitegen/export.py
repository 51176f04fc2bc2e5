"""Open data: the registry as JSON (whole and per disclosure) and as CSV for spreadsheets.

Keys follow the format's field order, so snapshots from two builds diff cleanly; the snapshot
is also what ``diff`` reads back when comparing two published builds.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from sitegen.fragments import Fragments
from sitegen.memory import release_free_memory
from sitegen.model import FORMAT_VERSION
from sitegen.registry import Disclosure, Registry
from sitegen.urls import Urls, page_url
from sitegen.write import Sink, SiteWriter


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
    """``dumps(registry_snapshot(...))``, from each disclosure's record as compact JSON: the
    records are kept between builds (``sitegen.fragments``) and joined as they are."""
    fragments = fragments if fragments is not None else Fragments()
    snapshot = registry_snapshot(registry, urls, disclosures=False)
    head = dumps(snapshot).removesuffix(b"}\n")
    # Each record as UTF-8 bytes: joining 10,000 of them is then a copy, with no text to
    # build and encode again.
    records = fragments.rows(
        "record-utf8", registry.disclosures, lambda d: dumps(disclosure_record(d, urls))[:-1]
    )
    # One join: joining the records first and then the whole held the 93 MB twice more at
    # 10,000 disclosures.
    parts = [head, b',"disclosures":[']
    for record in records:
        parts += (record, b",")
    if records:
        parts.pop()
    parts.append(b"]}\n")
    return b"".join(parts)


def disclosure_file(disclosure: Disclosure, urls: Urls) -> tuple[str, bytes]:
    return urls.api_disclosure(disclosure.key), dumps(disclosure_record(disclosure, urls))


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
        data = registry_json(self.registry, self.urls, self.fragments)
        return [self.writer.stage(self.urls.api_registry(), data, sink)]

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
