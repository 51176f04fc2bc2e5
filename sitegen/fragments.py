"""Each disclosure's part of the outputs that list the whole registry, kept between builds.

The category and filings pages, ``api/registry.json``, the CSV and the search index hold a
row for every disclosure.  A rebuild after one change would otherwise load and lay out all
10,000 of them again; here each row is stored in the build cache with the disclosure's
unit key (``sitegen.units``), which digests everything the disclosure's own pages are made
from (its file, provider, versions, the site settings, the theme and the code), so a row
found with it is the row this build would make.  Rows are made, not found, for what
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
        # Stored by provider: one entry holds each of its disclosures' rows with the unit
        # key beside it.  A rebuild reads 400 entries instead of 10,000 (a query and an
        # unpickling each: 0.26 s for the records of ``api/registry.json``) and writes one
        # provider's again.
        namespace = f"rows:{what}"
        groups: dict[str, list[tuple[int, Disclosure]]] = {}
        for position, d in enumerate(disclosures):
            groups.setdefault(d.key.partition("/")[0], []).append((position, d))
        found: dict[str, Any] = store.get_many(namespace, groups)
        out: list[Any] = [None] * len(disclosures)
        changed: list[tuple[str, dict[str, tuple[str, Any]]]] = []
        for group, members in groups.items():
            stored = found.get(group)
            old: dict[str, Any] = stored if isinstance(stored, dict) else {}
            chunk: dict[str, tuple[str, Any]] = {}
            made = False
            for position, d in members:
                unit = self.keys.get(d.key, "")
                entry = old.get(d.key)
                if unit and isinstance(entry, tuple) and len(entry) == 2 and entry[0] == unit:
                    row = entry[1]
                else:
                    row = make(d)
                    made = made or bool(unit)
                if unit:
                    chunk[d.key] = (unit, row)
                out[position] = row
            if made or chunk.keys() != old.keys():  # new rows, or a disclosure gone
                changed.append((group, chunk))
        store.put_many(namespace, changed)
        store.keep_only(namespace, groups)
        return out
