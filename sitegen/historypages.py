"""History on the site: a timeline per disclosure, a page per version, the registry's changes.

Pages are prepared here and laid out by the theme's ``history.html``, ``version.html``,
``version_raw.html``, ``changes.html`` and ``moved.html``.  Each version has a permanent page
(the disclosure as it stood then) and a JSON file, so a citation of what was published on a
date never changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sitegen.changelabels import DiffView, Labels
from sitegen.export import dumps
from sitegen.history import iso, validation_context, version_record
from sitegen.model import Algorithm
from sitegen.registry import Disclosure, Event, Registry, Version
from sitegen.render import Renderer
from sitegen.urls import NavItem

CHANGES_PER_PAGE = 50
LATEST_ON_HOME = 6


@dataclass(frozen=True)
class VersionView:
    version: Version
    diff: DiffView | None
    previous: int | None  # number of the version it is compared with
    new_note: bool = True  # the change note differs from the previous version's

    @property
    def anchor(self) -> str:
        return f"v{self.version.number}"


@dataclass(frozen=True)
class EventView:
    event: Event
    fields: list[str]
    nature: str  # substantive / editorial / "" for additions and deletions

    @property
    def anchor(self) -> str:
        return f"v{self.event.version.number}" if self.event.version else "ended"


def _previous(disclosure: Disclosure, version: Version) -> dict[str, Any] | None:
    """The content of the version before (None for an invalid one: items show their keys)."""
    index = version.number - 2
    if index < 0 or index >= len(disclosure.versions):
        return None
    return disclosure.versions[index].data


class HistoryPages:
    """Everything history adds to a build: pages, version JSON, head links, home context."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.registry: Registry = renderer.registry
        self.urls = renderer.urls
        self.theme = renderer.theme
        self.context = validation_context(self.registry)
        self.by_key = {d.key: d for d in self.registry.disclosures}

    def labels(self, lang: str) -> Labels:
        def gettext(key: str, lang2: str | None = None, **values: Any) -> str:
            return self.theme.gettext(key, lang2 or lang, **values)

        return Labels(gettext, lang, self.registry.languages)

    # -- hooks into the renderer --------------------------------------------------------------

    def install(self) -> None:
        """Add the changes page to the navigation and the latest changes to the home page."""
        extra = self.renderer.extra_context
        nav = list(extra.get("extra_nav", []))
        nav.append(NavItem("nav.changes", self.urls.changes))
        extra["extra_nav"] = nav
        extra["latest_changes"] = self.latest_views
        extra["history_note"] = self.registry.history_note

    def latest_views(self, lang: str) -> list[EventView]:
        labels = self.labels(lang)
        return [self.event_view(e, labels) for e in self.registry.events[:LATEST_ON_HOME]]

    # -- pages --------------------------------------------------------------------------------

    def disclosure_pages(
        self, disclosure: Disclosure, labels: dict[str, Labels]
    ) -> Iterator[tuple[str, bytes]]:
        """A disclosure's history page and version pages in every language."""
        for lang in self.registry.languages:
            yield self.history(lang, disclosure, labels[lang])
        for version in disclosure.versions:
            model = None  # validated once for all languages
            if version.data is not None:
                model = Algorithm.model_validate(version.data, context=self.context)
            for lang in self.registry.languages:
                yield self.version(lang, disclosure, version, model)

    def shared_pages(self) -> Iterator[tuple[str, bytes]]:
        """The latest changes in every language (archive pages are units: sitegen.units)."""
        for lang in self.registry.languages:
            yield self.changes(lang, self.labels(lang))

    def moved_pages(self, old: str, new: str) -> Iterator[tuple[str, bytes]]:
        for lang in self.registry.languages:
            yield from self.moved(lang, old, new)

    def version_files(self, disclosure: Disclosure) -> Iterator[tuple[str, bytes]]:
        """Each version's JSON, a permanent citation of what was published."""
        for version in disclosure.versions:
            path = self.urls.api_version(disclosure.key, version.number)
            yield path, dumps(version_record(disclosure, version))

    def version_views(self, disclosure: Disclosure, labels: Labels) -> list[VersionView]:
        views = []
        for version in reversed(disclosure.versions):
            view = None
            if version.diff is not None:
                before = _previous(disclosure, version)
                view = labels.diff(version.diff, before, version.data)
            previous = version.number - 1 if version.number > 1 else None
            earlier = disclosure.versions[version.number - 2] if previous else None
            new_note = earlier is None or earlier.change_note != version.change_note
            views.append(VersionView(version, view, previous, new_note))
        return views

    def history(self, lang: str, disclosure: Disclosure, labels: Labels) -> tuple[str, bytes]:
        path = self.urls.history(lang, disclosure.key)
        name = self.renderer.name(disclosure.algorithm.name, lang)
        return path, self.renderer.render(
            "history.html",
            path,
            lang,
            self.theme.gettext("history.title", lang, name=name),
            d=disclosure,
            a=disclosure.algorithm,
            versions=self.version_views(disclosure, labels),
            withdrawn=self._withdrawal(disclosure),
        )

    @staticmethod
    def _withdrawal(disclosure: Disclosure) -> Version | None:
        """The version that withdrew the filing, when the disclosure is withdrawn now."""
        if not disclosure.withdrawn:
            return None
        return next((v for v in reversed(disclosure.versions) if v.event == "withdrawn"), None)

    def version(
        self, lang: str, disclosure: Disclosure, version: Version, model: Algorithm | None
    ) -> tuple[str, bytes]:
        path = self.urls.version(lang, disclosure.key, version.number)
        name = self.renderer.name(disclosure.algorithm.name, lang)
        title = self.theme.gettext("version.title", lang, name=name, n=version.number)
        common: dict[str, Any] = {
            "d": disclosure,
            "version": version,
            "total": len(disclosure.versions),
            "is_latest": version.number == len(disclosure.versions) and disclosure.current,
            "date": iso(version.date),
        }
        if model is None:
            return path, self.renderer.render("version_raw.html", path, lang, title, **common)
        return path, self.renderer.render(
            "version.html", path, lang, title, a=model, feedback_url=None, **common
        )

    def event_view(self, event: Event, labels: Labels) -> EventView:
        version = event.version
        if version is None or version.diff is None:
            return EventView(event, [], "")
        diff = version.diff
        nature = "substantive" if diff.substantive else "editorial"
        return EventView(event, [labels.field(f) for f in diff.fields()], nature)

    # -- the change log ---------------------------------------------------------------------
    #
    # The latest changes have one page; the archive is cut into pages from the *oldest* change,
    # so a page once full never changes: a new change touches the latest page and the newest
    # archive page only (a rebuild keeps the rest), and a citation of "page 12" stays true.

    def archive_size(self) -> int:
        """Number of archive pages (0 when every change fits on the latest page)."""
        count = len(self.registry.events)
        return 0 if count <= CHANGES_PER_PAGE else math.ceil(count / CHANGES_PER_PAGE)

    def archive_events(self, number: int) -> list[Event]:
        """Archive page ``number`` (from 1): its changes, newest first like every list."""
        events = self.registry.events  # newest first
        end = len(events) - (number - 1) * CHANGES_PER_PAGE
        return events[max(0, end - CHANGES_PER_PAGE) : end]

    def changes(self, lang: str, labels: Labels, number: int = 0) -> tuple[str, bytes]:
        """The latest changes (``number`` 0) or an archive page."""
        pages = self.archive_size()
        events = self.archive_events(number) if number else self.registry.events[:CHANGES_PER_PAGE]
        path = self.urls.changes(lang, number)
        title = self.theme.gettext("changes.title", lang)
        if number:
            title += " · " + self.theme.gettext("changes.archive_page", lang, n=number)
        newer = self.urls.changes(lang, number + 1 if number < pages else 0) if number else None
        return path, self.renderer.render(
            "changes.html",
            path,
            lang,
            title,
            events=[self.event_view(e, labels) for e in events],
            number=number,
            newer=newer,
            older=self.urls.changes(lang, number - 1) if number > 1 else None,
            archive=[(n, self.urls.changes(lang, n)) for n in range(pages, 0, -1)]
            if not number
            else [],
            per_page=CHANGES_PER_PAGE,
        )

    def moved(self, lang: str, old: str, new: str) -> Iterator[tuple[str, bytes]]:
        """A page at a renamed disclosure's old address, pointing at the new one."""
        disclosure = self.by_key[new]
        path = self.urls.disclosure(lang, old)
        yield (
            path,
            self.renderer.render(
                "moved.html",
                path,
                lang,
                self.renderer.name(disclosure.algorithm.name, lang),
                d=disclosure,
                old_key=old,
                target=self.urls.disclosure(lang, new),
            ),
        )
