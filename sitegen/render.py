"""Render stage: the registry becomes HTML pages, one set per language.

Everything a template needs is prepared here (grouping, counting, links); templates only lay
it out.  Pages are yielded one at a time so the writer can stream them to disk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlsplit

from markupsafe import Markup

from sitegen.fragments import Fragments
from sitegen.model import Category, FilingStatus
from sitegen.registry import Disclosure, Registry
from sitegen.theme import Shown, Theme, localize
from sitegen.urls import Urls, linker, relative, rooted

NEWEST_ON_HOME = 8


@dataclass(frozen=True)
class Link:
    href: str
    label: str
    lang: str = ""
    current: bool = False


@dataclass(frozen=True)
class FrameLinks:
    """The links every page's frame has, made from the page (``url()`` from the template
    would cost each of them two calls through Jinja2 on every page)."""

    home: str
    search: str
    stylesheet: str
    registry_json: str
    registry_csv: str


@dataclass
class PageInfo:
    """What the base template needs about the page being rendered."""

    path: str
    lang: str
    title: str
    languages: list[Link] = field(default_factory=list)
    feeds: list[Link] = field(default_factory=list)
    body_class: str = ""
    # The main navigation (``current`` on the page it leads to) and the frame's links.
    nav: list[Link] = field(default_factory=list)
    links: FrameLinks | None = None


class Renderer:
    def __init__(self, registry: Registry, theme: Theme) -> None:
        self.registry = registry
        self.theme = theme
        self.urls = Urls(registry.languages)
        self.site = registry.site
        # Extra head links (feeds) and home-page blocks contributed by later stages.
        self.feeds_for: Callable[[str, str], list[tuple[str, str]]] = lambda path, lang: []
        self.extra_context: dict[str, Any] = {}
        # Rows of the pages listing every disclosure; the pipeline gives it the build cache.
        self.fragments = Fragments()

    # -- context ------------------------------------------------------------------------------

    def _context(
        self,
        path: str,
        lang: str,
        title: str,
        alternates: dict[str, str] | None = None,
        root_absolute: bool = False,
    ) -> dict[str, Any]:
        registry, theme, urls = self.registry, self.theme, self.urls
        default = registry.default_language
        base_path = urlsplit(self.site.base_url).path or "/"

        url: Callable[[str], str]
        if root_absolute:  # 404 pages are served at any depth

            def url(target: str) -> str:
                return rooted(base_path, target)

        else:
            url = linker(path)

        def gettext(key: str, **values: Any) -> str:
            return theme.gettext(key, lang, **values)

        def loc(value: dict[str, str] | None) -> Shown | None:
            return localize(value, lang, default)

        alternates = alternates or {other: urls.translate(path, other) for other in urls.languages}
        languages = [
            Link(
                url(alternates[other]),
                theme.gettext("lang.name", other),
                other,
                other == lang,
            )
            for other in registry.languages
        ]
        feeds = [Link(url(href), label) for href, label in self.feeds_for(path, lang)]
        sections = [
            ("nav.home", urls.home(lang)),
            ("nav.providers", urls.providers(lang)),
            ("nav.filings", urls.filings(lang)),
            *((item.label, item.path(lang)) for item in self.extra_context.get("extra_nav", [])),
            ("nav.about", urls.about(lang)),
        ]
        nav = [
            Link(url(target), theme.gettext(key, lang), current=target == path)
            for key, target in sections
        ]
        links = FrameLinks(
            url(urls.home(lang)),
            url(urls.search(lang)),
            url(urls.static("css/site.css")),
            url(urls.api_registry()),
            url(urls.api_csv()),
        )
        page = PageInfo(path, lang, title, languages, feeds, nav=nav, links=links)
        return {
            "page": page,
            "site": self.site,
            "site_title": loc(self.site.title),
            "urls": urls,
            "url": url,
            "_": gettext,
            "loc": loc,
            "categories": list(Category),
            "registry": registry,
            **self.extra_context,
        }

    def render(
        self,
        template: str,
        path: str,
        lang: str,
        title: str,
        alternates: dict[str, str] | None = None,
        **extra: Any,
    ) -> bytes:
        context = self._context(path, lang, title, alternates, root_absolute=path == "404.html")
        context.update(extra)
        return self.theme.render(template, lang, context).encode("utf-8")

    def rows(
        self, macro: str, disclosures: list[Disclosure], path: str, lang: str, *args: Any
    ) -> list[Markup]:
        """Each disclosure laid out by a macro of ``partials/macros.html`` as on the page at
        ``path``; rows made by an earlier build for the same disclosure are reused."""
        return [Markup(row) for row in self._rows(macro, disclosures, path, lang, *args)]

    def _rows(
        self, macro: str, disclosures: list[Disclosure], path: str, lang: str, *args: Any
    ) -> list[str]:
        module: Any = None

        def make(disclosure: Disclosure) -> str:
            nonlocal module
            if module is None:  # only when some row is not in the cache
                context = self._context(path, lang, "")
                module = self.theme.macros("partials/macros.html", lang, context)
            return str(getattr(module, macro)(disclosure, *args))

        what = f"{macro}:{path}:{','.join(map(str, args))}"
        return self.fragments.rows(what, disclosures, make)

    def name(self, value: dict[str, str], lang: str) -> str:
        shown = localize(value, lang, self.registry.default_language)
        return shown.text if shown else ""

    # -- pages --------------------------------------------------------------------------------

    def shared_pages(self) -> Iterator[tuple[str, bytes]]:
        """Pages drawn from the whole registry; a provider's and a category's own pages
        are in ``sitegen.units``."""
        for lang in self.registry.languages:
            yield from self.language_pages(lang)
        default = self.registry.default_language
        yield (
            "404.html",
            self.render(
                "404.html",
                "404.html",
                default,
                self.theme.gettext("notfound.title", default),
                alternates={lang: self.urls.home(lang) for lang in self.urls.languages},
            ),
        )

    def language_pages(self, lang: str) -> Iterator[tuple[str, bytes]]:
        urls, registry, gettext = self.urls, self.registry, self.theme.gettext
        yield self.home(lang)
        about = urls.about(lang)
        yield about, self.render("about.html", about, lang, gettext("about.title", lang))
        yield self.filings(lang)
        by_provider = self.by_provider
        providers = urls.providers(lang)
        yield (
            providers,
            self.render(
                "providers.html",
                providers,
                lang,
                gettext("providers.title", lang),
                provider_rows=[
                    (p, len(by_provider.get(pid, []))) for pid, p in registry.providers.items()
                ],
            ),
        )

    def category(
        self, lang: str, category: Category, listed: list[Disclosure]
    ) -> tuple[str, bytes]:
        """A category's page; ``listed`` is its entry in :attr:`by_category`."""
        path = self.urls.category(lang, category)
        return (
            path,
            self.render(
                "category.html",
                path,
                lang,
                self.theme.gettext(f"category.{category}", lang),
                category=category,
                disclosures=listed,
                # Laid out beforehand, each reused while its disclosure is unchanged.
                cards=self.rows("card", listed, path, lang, True, 2),
            ),
        )

    def provider(
        self, lang: str, provider_id: str, disclosures: list[Disclosure]
    ) -> tuple[str, bytes]:
        """A provider's page; ``disclosures`` are its own (its entry in :attr:`by_provider`)."""
        provider = self.registry.providers[provider_id]
        path = self.urls.provider(lang, provider_id)
        return path, self.render(
            "provider.html",
            path,
            lang,
            self.name(provider.name, lang),
            provider=provider,
            disclosures=disclosures,
        )

    def home(self, lang: str) -> tuple[str, bytes]:
        path = self.urls.home(lang)
        return path, self.render(
            "home.html", path, lang, self.name(self.site.title, lang), **self._home
        )

    @cached_property
    def by_provider(self) -> dict[str, list[Disclosure]]:
        """:meth:`Registry.by_provider`, grouped once per build (the units' plan, the
        providers and search pages in each language ask for it: 10-15 ms each time at
        10,000 disclosures)."""
        return self.registry.by_provider()

    @cached_property
    def by_category(self) -> dict[Category, list[Disclosure]]:
        """:meth:`Registry.by_category`, grouped once per build."""
        return self.registry.by_category()

    @cached_property
    def _home(self) -> dict[str, Any]:
        """The home page's counts and newest disclosures, the same in every language."""
        registry = self.registry
        listed = [d for d in registry.disclosures if d.ended is None]  # not deleted ones
        by_category = Counter(d.facts.category for d in listed)
        by_status = Counter(d.facts.status for d in listed)
        return {
            "category_counts": [(c, by_category.get(c, 0)) for c in Category],
            "status_counts": [(s, by_status.get(s, 0)) for s in FilingStatus],
            "newest": registry.newest(NEWEST_ON_HOME),
            "total": len(listed),
            "provider_total": len(registry.providers),
        }

    @cached_property
    def filed(self) -> list[Disclosure]:
        """:meth:`Registry.filed`, sorted once: the registry is complete when a renderer is
        made, and the permalinks and each language's filings page ask for it (15-22 ms
        each time at 10,000 disclosures)."""
        return self.registry.filed()

    @cached_property
    def unfiled(self) -> list[Disclosure]:
        """The disclosures without a filing number, in registry order."""
        return [d for d in self.registry.disclosures if not d.facts.number]

    def filings(self, lang: str) -> tuple[str, bytes]:
        path = self.urls.filings(lang)
        filed, pending = self.filed, self.unfiled
        return path, self.render(
            "filings.html",
            path,
            lang,
            self.theme.gettext("filings.title", lang),
            filed=filed,
            pending=pending,
            # One piece of markup: looping over 20,000 rows in the template and escaping each
            # was about a third of the two pages' time in a profile.
            rows=Markup("\n".join(self._rows("filing_row", [*filed, *pending], path, lang))),
        )

    def disclosure(self, lang: str, disclosure: Disclosure) -> tuple[str, bytes]:
        path = self.urls.disclosure(lang, disclosure.key)
        feedback = None
        if self.site.feedback_url:
            feedback = self.site.feedback_url.replace("{provider}", quote(disclosure.provider.id))
            feedback = feedback.replace("{id}", quote(disclosure.algorithm.id))
        return path, self.render(
            "disclosure.html",
            path,
            lang,
            self.name(disclosure.algorithm.name, lang),
            d=disclosure,
            a=disclosure.algorithm,
            feedback_url=feedback,
        )

    def permalink_owners(self) -> dict[str, Disclosure]:
        """Filing number -> the disclosure its ``f/<number>/`` page leads to.

        A deleted disclosure's number may have been reused: the live one owns the address.
        """
        owners: dict[str, Disclosure] = {}
        for disclosure in self.filed:
            owners.setdefault(disclosure.facts.number or "", disclosure)
        return owners

    def permalink(self, number: str, disclosure: Disclosure) -> tuple[str, bytes]:
        """``f/<filing number>/``: the stable address a product can print beside its number."""
        lang = self.registry.default_language
        path = self.urls.permalink(number)
        target = self.urls.disclosure(lang, disclosure.key)
        return path, self.render(
            "permalink.html",
            path,
            lang,
            number,
            alternates={
                other: self.urls.disclosure(other, disclosure.key) for other in self.urls.languages
            },
            d=disclosure,
            number=number,
            target=relative(path, target),
        )
