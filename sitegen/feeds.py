"""Atom feeds of changes: the whole registry, each provider and each disclosure, per language.

Regulators subscribe instead of polling.  Every date comes from git (never from the build's
clock) and every entry id is a tag URI built from the site's host, the version's date and the
disclosure key, so rebuilding the same history gives byte-identical feeds and a reader never
sees an old change twice.  The XML is written with ElementTree, which escapes all text; entry
content is HTML whose every value was escaped before it was marked up.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from sitegen.cache import digest
from sitegen.changelabels import Labels
from sitegen.fragments import Fragments
from sitegen.history import iso
from sitegen.registry import Disclosure, Event, Registry
from sitegen.theme import Theme
from sitegen.urls import Urls, page_url

ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 100  # the registry and provider feeds; a disclosure's feed has every entry
FEED_ENTRY_NS = "feed-entry"  # the registry feed's entry HTML, by unit key (build cache)
ROWS_IN_ENTRY = 20

ET.register_namespace("", ATOM)


def _q(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _q(name), attrs)
    if text is not None:
        element.text = text
    return element


class Feeds:
    """Builds every feed file and tells the renderer which feeds each page advertises."""

    def __init__(self, registry: Registry, urls: Urls, theme: Theme) -> None:
        self.registry, self.urls, self.theme = registry, urls, theme
        self.base = registry.site.base_url
        self.host = urlsplit(self.base).hostname or "localhost"
        self.by_key = {d.key: d for d in registry.disclosures}
        self.by_provider: dict[str, list[Event]] = {}
        self.by_disclosure: dict[str, list[Event]] = {}
        for event in registry.events:
            self.by_provider.setdefault(event.disclosure.provider.id, []).append(event)
            self.by_disclosure.setdefault(event.disclosure.key, []).append(event)
        reviewed = [d.facts.last_reviewed for d in registry.disclosures]
        fallback = max(reviewed) if reviewed else dt.date(1970, 1, 1)
        self.fallback = dt.datetime.combine(fallback, dt.time(), dt.UTC)
        # Entry HTML by (language, entry id): an entry appears in up to three feeds.
        self._content: dict[tuple[str, str], str] = {}
        # Set by the pipeline once units have keys: the registry feed's entry HTML is then
        # kept between builds.
        self.fragments: Fragments | None = None

    def _(self, key: str, lang: str, **values: Any) -> str:
        return self.theme.gettext(key, lang, **values)

    def labels(self, lang: str) -> Labels:
        def gettext(key: str, lang2: str | None = None, **values: Any) -> str:
            return self.theme.gettext(key, lang2 or lang, **values)

        return Labels(gettext, lang, self.registry.languages)

    def absolute(self, path: str) -> str:
        return self.base + page_url(path)

    # -- head links -------------------------------------------------------------------------

    def links(self, path: str, lang: str) -> list[tuple[str, str]]:
        """(feed path, title) for a page: the registry's, plus its provider's and disclosure's."""
        rest = self.urls.translate(path, self.urls.default)
        parts = rest.split("/")
        out = [(self.urls.feed(lang), self._("changes.feed", lang))]
        provider = ""
        if parts[0] == "algorithms" and len(parts) > 3 and f"{parts[1]}/{parts[2]}" in self.by_key:
            disclosure = self.by_key[f"{parts[1]}/{parts[2]}"]
            provider = disclosure.provider.id
            name = self.labels(lang).text(disclosure.algorithm.name)
            title = self._("feed.disclosure", lang, name=name)
            out.append((self.urls.feed(lang, disclosure.key), title))
        elif parts[0] == "providers" and len(parts) > 2 and parts[1] in self.registry.providers:
            provider = parts[1]
        if provider:
            name = self.labels(lang).text(self.registry.providers[provider].name)
            out.append((self.urls.feed(lang, provider), self._("feed.provider", lang, name=name)))
        return out

    # -- files ------------------------------------------------------------------------------

    def shared_files(self) -> Iterator[tuple[str, bytes]]:
        """The registry's feed in every language."""
        events = self.registry.events[:MAX_ENTRIES]
        stored = self._stored_content(events)
        for lang in self.registry.languages:
            labels = self.labels(lang)
            site = labels.text(self.registry.site.title)
            yield self.feed(
                lang,
                "",
                self._("feed.registry", lang, site=site),
                self.urls.changes(lang),
                events,
                labels,
            )
        if stored is not None:
            stored(self._content)
        self._content.clear()

    def _stored_content(
        self, events: list[Event]
    ) -> Callable[[dict[tuple[str, str], str]], None] | None:
        """Fill the entry HTML of the registry's feed from the cache, and return what stores
        it once made (None without a cache).

        An entry is made from its disclosure alone (its versions, provider, the theme's
        words), which its unit's key digests with the code and the site settings; so entry
        HTML stored under that key is the HTML this build would make.  The registry's feed
        is made in the build process after the registry-wide pages, on a rebuild's longest
        path: its 200 entries took about a fifth of a second.
        """
        fragments = self.fragments
        if fragments is None or fragments.cache is None or not fragments.keys:
            return None
        cache = fragments.cache
        keys: dict[str, tuple[str, str]] = {}
        for event in events:
            unit = fragments.keys.get(event.disclosure.key, "")
            if not unit:
                continue
            entry = self.entry_id(event)
            for lang in self.registry.languages:
                keys[digest(unit, lang, entry)] = (lang, entry)
        found = {
            key: html
            for key, html in cache.get_many(FEED_ENTRY_NS, keys).items()
            if isinstance(html, str)  # anything else is made, and stored, again
        }
        for key, html in found.items():
            self._content[keys[key]] = html

        def store(made: dict[tuple[str, str], str]) -> None:
            new = [(key, made[at]) for key, at in keys.items() if key not in found and at in made]
            cache.put_many(FEED_ENTRY_NS, new)
            cache.keep_only(FEED_ENTRY_NS, keys)

        return store

    def provider_feed(self, lang: str, provider_id: str, labels: Labels) -> tuple[str, bytes]:
        provider = self.registry.providers[provider_id]
        return self.feed(
            lang,
            provider_id,
            self._("feed.provider", lang, name=labels.text(provider.name)),
            self.urls.provider(lang, provider_id),
            self.by_provider.get(provider_id, [])[:MAX_ENTRIES],
            labels,
        )

    def disclosure_feed(
        self, lang: str, disclosure: Disclosure, labels: Labels
    ) -> tuple[str, bytes]:
        key = disclosure.key
        return self.feed(
            lang,
            key,
            self._("feed.disclosure", lang, name=labels.text(disclosure.algorithm.name)),
            self.urls.history(lang, key),
            self.by_disclosure.get(key, []),
            labels,
        )

    def forget(self) -> None:
        """Drop the remembered entry HTML (between providers: their feeds share none)."""
        self._content.clear()

    def feed(
        self,
        lang: str,
        scope: str,
        title: str,
        page: str,
        events: list[Event],
        labels: Labels,
    ) -> tuple[str, bytes]:
        path = self.urls.feed(lang, scope)
        root = ET.Element(_q("feed"), {"{http://www.w3.org/XML/1998/namespace}lang": lang})
        _sub(root, "id", self.absolute(path))
        _sub(root, "title", title)
        updated = max((e.date for e in events), default=self.fallback)
        _sub(root, "updated", iso(updated))
        _sub(root, "link", rel="self", type="application/atom+xml", href=self.absolute(path))
        _sub(root, "link", rel="alternate", type="text/html", href=self.absolute(page))
        author = _sub(root, "author")
        _sub(author, "name", labels.text(self.registry.site.title))
        _sub(author, "uri", self.base)
        for event in events:
            self.entry(root, event, lang, labels)
        body = ET.tostring(root, encoding="unicode", xml_declaration=False)
        return path, ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")

    def entry_id(self, event: Event) -> str:
        """``tag:host,2025-03-01:acme/feed/v2``: the same change always has the same id."""
        day = event.date.astimezone(dt.UTC).date().isoformat()
        what = f"v{event.version.number}" if event.version else "deleted"
        return f"tag:{self.host},{day}:{event.disclosure.key}/{what}"

    def entry(self, root: ET.Element, event: Event, lang: str, labels: Labels) -> None:
        disclosure = event.disclosure
        name = labels.text(disclosure.algorithm.name)
        entry = _sub(root, "entry")
        _sub(entry, "id", self.entry_id(event))
        if event.version is None:
            title = self._("feed.entry_deleted", lang, name=name)
            anchor = "ended"
        else:
            kind = self._(f"event.{event.kind}", lang)
            title = self._("feed.entry", lang, name=name, event=kind, n=event.version.number)
            anchor = f"v{event.version.number}"
        _sub(entry, "title", title)
        _sub(entry, "updated", iso(event.date))
        href = self.absolute(self.urls.history(lang, disclosure.key)) + "#" + anchor
        _sub(entry, "link", rel="alternate", type="text/html", href=href)
        nature = ""
        if event.version is not None and event.version.diff is not None:
            nature = "substantive" if event.version.diff.substantive else "editorial"
            _sub(entry, "category", term=nature, label=self._(f"diff.{nature}", lang))
        _sub(entry, "category", term=event.kind, label=self._(f"event.{event.kind}", lang))
        # The same entry appears in up to three feeds per language: its HTML is made once.
        cache_key = (lang, self.entry_id(event))
        html = self._content.get(cache_key)
        if html is None:
            html = self._content[cache_key] = str(self.content(event, lang, labels, nature))
        _sub(entry, "content", html, type="html")

    def content(self, event: Event, lang: str, labels: Labels, nature: str) -> Markup:
        disclosure = event.disclosure
        provider = escape(labels.text(disclosure.provider.name))
        kind = escape(self._(f"event.{event.kind}", lang))
        head = f"{kind}" + (f" · {escape(self._('diff.' + nature, lang))}" if nature else "")
        parts = [f"<p>{provider} · {head}</p>"]
        version = event.version
        if version is None:
            ended = disclosure.ended
            if ended is not None and ended.subject:
                parts.append(f"<p>{escape(ended.subject)}</p>")
            return Markup("".join(parts))
        if version.change_note:
            note = labels.text(version.change_note)
            parts.append(f"<p>{escape(self._('field.change_note', lang))}: {escape(note)}</p>")
        if version.diff is not None:
            before = disclosure.versions[version.number - 2].data if version.number > 1 else None
            view = labels.diff(version.diff, before, version.data, unchanged=False)
            rows = []
            for row in view.rows[:ROWS_IN_ENTRY]:
                rows.append(
                    f"<li><strong>{escape(row.label)}</strong> ({escape(row.kind_label)}, "
                    f"{escape(row.nature)}): {row.old or '—'} → {row.new or '—'}</li>"
                )
            if len(view.rows) > ROWS_IN_ENTRY:
                rows.append("<li>…</li>")
            parts.append("<ul>" + "".join(rows) + "</ul>")
        return Markup("".join(parts))
