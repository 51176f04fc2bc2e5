"""Each disclosure's part of the outputs that list the whole registry, kept between builds.

The category and filings pages, ``api/registry.json``, the CSV and the search index hold a
row for every disclosure.  A rebuild after one change would otherwise load and lay out all
10,000 of them again; here each row is stored in the build cache under the disclosure's
unit key (``sitegen.units``), which digests everything the disclosure's own pages are made
from (its file, provider, versions, the site settings, the theme and the code), so a row
found under it is the row this build would make.  Rows are made, not found, for what
changed, and the output is assembled from them in the usual order: the same bytes either
way, as the tests check against builds without a cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sitegen.cache import Cache
from sitegen.registry import Disclosure

T = TypeVar("T")


class Fragments:
    """Per-disclosure rows by ``(what, disclosure)``; without a cache every row is made."""

    def __init__(self, cache: Cache | None = None, keys: dict[str, str] | None = None) -> None:
        self.cache = cache if cache is not None and cache.enabled else None
        self.keys = keys or {}  # disclosure key -> unit key

    def rows(
        self,
        what: str,
        disclosures: Sequence[Disclosure],
        make: Callable[[Disclosure], T],
        cache: Cache | None = None,
    ) -> list[T]:
        """``make(d)`` for each disclosure, in order, from the cache where it has the row.

        ``what`` names the output and everything else the row depends on (the page it is
        on, the language); each ``what`` is its own namespace, which keeps only the rows
        asked for now.  ``cache`` overrides the build's connection (a forked worker's own).
        """
        # A forked worker rendering a list page uses a connection of its own.
        store = cache if cache is not None else self.cache.here() if self.cache else None
        if store is None or not store.enabled or not self.keys:
            return [make(d) for d in disclosures]
        # Stored under the disclosure's key with its unit key beside the row: a changed
        # disclosure's new row replaces its old one instead of leaving it behind.
        namespace = f"rows:{what}"
        found: dict[str, Any] = store.get_many(namespace, (d.key for d in disclosures))
        new: list[tuple[str, tuple[str, Any]]] = []
        out: list[T] = []
        for d in disclosures:
            unit = self.keys.get(d.key, "")
            entry = found.get(d.key)
            if unit and isinstance(entry, tuple) and len(entry) == 2 and entry[0] == unit:
                out.append(entry[1])
                continue
            row = make(d)
            if unit:
                new.append((d.key, (unit, row)))
            out.append(row)
        store.put_many(namespace, new)
        store.keep_only(namespace, (d.key for d in disclosures))
        return out
