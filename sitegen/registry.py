"""The registry: the one object that flows from validation to every output.

It holds validated models only; pages, search, feeds and exports read it and never re-read YAML.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from sitegen.diagnostics import Report
from sitegen.model import Algorithm, Category, FilingStatus, Provider, Site

if TYPE_CHECKING:
    from sitegen.diff import Diff


class VersionContent(Protocol):
    """Where a version's content and diff come from.

    A registry holds every version of every disclosure, but a build reads the content of
    only those whose pages it renders: history keeps it in the build cache and loads it on
    first use (``sitegen.history.VersionSource``).
    """

    def parsed(self) -> tuple[dict[str, Any] | None, str, str]:
        """(validated data or None, raw text when invalid, why it is invalid)."""
        ...

    def diff(self) -> Diff | None:
        """The diff against the version before (None for the first)."""
        ...


@dataclass(frozen=True)
class Version:
    """One published state of a disclosure, as read from version control."""

    number: int  # 1 for the first version; stable because history only grows
    commit: str
    date: dt.datetime  # commit date, UTC
    effective_date: dt.date | None
    change_note: dict[str, str] | None
    path: str = ""
    event: str = "changed"  # added, changed, withdrawn, restored or renamed
    subject: str = ""  # first line of the commit message
    order: int = 0  # the commit's position in history, for a stable sort
    content: VersionContent | None = field(default=None, repr=False, compare=False)

    @property
    def data(self) -> dict[str, Any] | None:
        """Validated content as JSON-ready data; None if it no longer validates."""
        return self.content.parsed()[0] if self.content is not None else None

    @property
    def raw(self) -> str:
        """The file's text at that commit, kept when ``data`` is None."""
        return self.content.parsed()[1] if self.content is not None else ""

    @property
    def problem(self) -> str:
        """Why ``data`` is None."""
        return self.content.parsed()[2] if self.content is not None else ""

    @property
    def diff(self) -> Diff | None:
        """Against the previous version; None for the first."""
        return self.content.diff() if self.content is not None else None


@dataclass(frozen=True)
class Ending:
    """Why a disclosure is no longer current: its file was deleted from the registry."""

    commit: str
    date: dt.datetime
    last_path: str
    subject: str = ""  # first line of the commit message: usually says why
    order: int = 0


class Facts(NamedTuple):
    """What lists, counts, filters and sort orders read of a disclosure.

    Kept beside the validated model (``sitegen.validate.FileCheck``) so that the pages
    listing the whole registry can choose and order 10,000 disclosures without loading each
    one's model from the build cache.
    """

    category: Category
    status: FilingStatus
    number: str | None
    effective_date: dt.date
    last_reviewed: dt.date

    @classmethod
    def of(cls, algorithm: Algorithm) -> Facts:
        filing = algorithm.filing
        return cls(
            algorithm.category,
            filing.status,
            filing.number,
            algorithm.effective_date,
            algorithm.last_reviewed,
        )

    def plain(self) -> tuple[str, str, str | None, int, int]:
        """Plain values for a stored check (``from_plain``): enums and dates by value, which
        unpickle several times faster than the objects."""
        return (
            self.category.value,
            self.status.value,
            self.number,
            self.effective_date.toordinal(),
            self.last_reviewed.toordinal(),
        )

    @classmethod
    def from_plain(cls, plain: tuple[str, str, str | None, int, int]) -> Facts:
        category, status, number, effective, reviewed = plain
        return cls(
            Category(category),
            FilingStatus(status),
            number,
            dt.date.fromordinal(effective),
            dt.date.fromordinal(reviewed),
        )


@dataclass
class Disclosure:
    """An algorithm with its provider and where it came from."""

    provider: Provider
    algorithm: Algorithm
    source_path: str
    digest: str
    versions: list[Version] = field(default_factory=list)
    ended: Ending | None = None  # set for tombstones of deleted files
    previous_keys: list[str] = field(default_factory=list)  # before renames, oldest first

    @property
    def key(self) -> str:
        return f"{self.provider.id}/{self.algorithm.id}"

    @property
    def facts(self) -> Facts:
        return Facts.of(self.algorithm)

    @property
    def withdrawn(self) -> bool:
        return self.facts.status is FilingStatus.WITHDRAWN

    @property
    def current(self) -> bool:
        """Shown as a live disclosure: neither withdrawn nor deleted."""
        return not self.withdrawn and self.ended is None


K = TypeVar("K")


def _grouped(
    disclosures: list[Disclosure], key: Callable[[Disclosure], K]
) -> dict[K, list[Disclosure]]:
    out: dict[K, list[Disclosure]] = {}
    for disclosure in disclosures:
        out.setdefault(key(disclosure), []).append(disclosure)
    return out


@dataclass
class Registry:
    root: Path
    site: Site
    providers: dict[str, Provider]
    disclosures: list[Disclosure]
    report: Report
    history_note: str = ""  # why history is unavailable, if it is
    events: list[Event] = field(default_factory=list)  # every change, newest first
    moved: dict[str, str] = field(default_factory=dict)  # renamed-away key -> current key

    @property
    def languages(self) -> list[str]:
        return list(self.site.languages)

    @property
    def default_language(self) -> str:
        return self.site.languages[0]

    def by_provider(self) -> dict[str, list[Disclosure]]:
        """Each provider id's disclosures, in registry order, in one pass (not one per id)."""
        return _grouped(self.disclosures, lambda d: d.provider.id)

    def by_category(self) -> dict[Category, list[Disclosure]]:
        """Each category's disclosures, in registry order, in one pass (not one per category)."""
        return _grouped(self.disclosures, lambda d: d.facts.category)

    def filed(self) -> list[Disclosure]:
        """Every disclosure with a filing number, in number order (the public list)."""
        numbered = [(d.facts.number, d) for d in self.disclosures if d.facts.number]
        # A deleted disclosure's number may be reused: the live one comes first.
        numbered.sort(key=lambda pair: (pair[0] or "", pair[1].ended is not None, pair[1].key))
        return [d for _, d in numbered]

    def newest(self, limit: int) -> list[Disclosure]:
        # The first few of 10,000, without sorting them all (same order as a sort would give:
        # keys are unique).
        return heapq.nlargest(
            limit,
            (d for d in self.disclosures if d.ended is None),
            key=lambda d: (d.facts.effective_date, d.key),
        )


@dataclass(frozen=True)
class Event:
    """One entry of the registry's change log: a new version of a disclosure, or its deletion."""

    disclosure: Disclosure
    version: Version | None  # None when the disclosure was deleted

    @property
    def kind(self) -> str:
        return self.version.event if self.version else "deleted"

    @property
    def date(self) -> dt.datetime:
        if self.version is not None:
            return self.version.date
        assert self.disclosure.ended is not None
        return self.disclosure.ended.date

    @property
    def commit(self) -> str:
        if self.version is not None:
            return self.version.commit
        assert self.disclosure.ended is not None
        return self.disclosure.ended.commit

    @property
    def order(self) -> int:
        if self.version is not None:
            return self.version.order
        assert self.disclosure.ended is not None
        return self.disclosure.ended.order


def sort_disclosures(items: Iterable[Disclosure]) -> list[Disclosure]:
    return sorted(items, key=lambda d: d.key)
