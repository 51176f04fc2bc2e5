"""Search stage: one lunr index and document store per language, and the search pages.

The index is built with lunr.py (``sitegen.cjk.new_builder``: the pipeline that keeps Chinese)
and queried in the browser by the vendored lunr.js 2.3.9.  What the browser downloads is kept
small, because a reader fetches it before the first result:

* one file per language, ``<lang prefix>search/index.<lang>.json``, next to its search page;
  it indexes that language's text plus what every reader may type whatever the page language:
  names (algorithm, products, provider) in every language, the filing number, the provider id;
* document references are the position in the document store (``"0"``, ``"1"``, …);
* the index travels in a compact form instead of lunr's serialisation, which repeats every
  posting twice (inverted index and field vectors, with a float per posting): each term lists
  its documents per field as gaps between ascending positions (a term frequency above one
  follows a negative gap), and each field lists its length per document.  ``search-core.js``
  rebuilds lunr's serialised index from that with lunr's own BM25 formula (the numbers
  lunr.py's builder computes) and hands it to ``lunr.Index.load``;
* the document store is arrays, not objects: what a result shows and what facets count.

Fields and boosts were chosen by measured size on a synthetic 10,000-disclosure registry:
principles, mechanism, scenarios and data inputs would more than double the index for little
recall (objectives, criteria and the summary already name what an algorithm does), so they are
left out; objective and criterion descriptions are in.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lunr.pipeline import Pipeline  # type: ignore[import-untyped, unused-ignore]
from lunr.stemmer import stemmer  # type: ignore[import-untyped, unused-ignore]
from lunr.stop_word_filter import stop_word_filter  # type: ignore[import-untyped, unused-ignore]
from lunr.token import Token  # type: ignore[import-untyped, unused-ignore]

from sitegen.cache import Cache
from sitegen.cjk import is_cjk, new_builder, serialize_index, split_token
from sitegen.markdown import plain_text
from sitegen.model import Category, Criterion, Objective, Role
from sitegen.registry import Disclosure, Registry
from sitegen.theme import Theme, localize
from sitegen.urls import Urls, relative

FORMAT = 1
LUNR_VERSION = "2.3.9"

# (field, boost): the name first, then what a reader remembers of a product or company, then
# what the algorithm is for, then the summary.
FIELDS: tuple[tuple[str, float], ...] = (
    ("n", 10.0),  # algorithm name, every language
    ("p", 5.0),  # product names and provider name, every language
    ("f", 5.0),  # filing number and provider id (language-neutral)
    ("o", 2.0),  # optimisation objectives and decision criteria: names and descriptions
    ("s", 1.0),  # summary
)
SNIPPET_CHARS = 160
# Up to this many disclosures the search page lists every one of them for readers without
# JavaScript; above it, it links to the category and provider pages, which list them all.
BROWSE_INLINE_LIMIT = 1000
STATUSES = ("filed", "pending", "withdrawn", "deleted")
FACET_NAMES = ("category", "provider", "status", "role", "opinion")  # URL parameters too


@dataclass(frozen=True)
class NavItem:
    """A header navigation entry: ``path(lang)`` is the output path, ``label`` a strings key."""

    path: Callable[[str], str]
    label: str


def nav_item(urls: Urls) -> NavItem:
    return NavItem(urls.search, "nav.search")


def index_path(urls: Urls, lang: str) -> str:
    """``search/index.zh.json`` beside ``search/index.html``, ``en/search/index.en.json`` …"""
    return urls.search(lang).removesuffix("index.html") + f"index.{lang}.json"


def status_of(disclosure: Disclosure) -> str:
    """The filing status a reader filters by; a deleted disclosure (a tombstone) is "deleted"."""
    if disclosure.ended is not None:
        return "deleted"
    return str(disclosure.algorithm.filing.status)


# -- documents -----------------------------------------------------------------------------------


def _text(value: dict[str, str] | None, lang: str, default: str) -> str:
    shown = localize(value, lang, default)
    return shown.text if shown else ""


def _every(value: dict[str, str] | None, lang: str) -> str:
    """The text in ``lang`` first, then its other languages (names a reader may type in any)."""
    if not value:
        return ""
    texts = [value[lang]] if lang in value else []
    texts += [text for other, text in value.items() if other != lang and text not in texts]
    return "\n".join(texts)


_MARKUP = re.compile(r"[*_`\[\]<>#!|~\\&]|^\s*(?:[-+]|\d+[.)])\s", re.MULTILINE)


@lru_cache(maxsize=1 << 16)
def _plain(text: str) -> str:
    """Markdown as words (link targets and markup dropped); plain text as it is, quickly."""
    return plain_text(text) if _MARKUP.search(text) else " ".join(text.split())


def number_text(number: str) -> str:
    """What is indexed of a filing number: its digits and letters, not its Chinese wrapper.

    Every number reads 网信算备…号, so those characters would make every disclosure a candidate
    for every number typed; search-core.js drops them from a query word holding four digits.
    """
    return "".join(" " if is_cjk(char) else char for char in number).strip()


def index_document(disclosure: Disclosure, ref: int, lang: str, default: str) -> dict[str, str]:
    a, provider = disclosure.algorithm, disclosure.provider
    items: list[Objective | Criterion] = [*a.optimization_objectives, *a.decision_criteria]
    return {
        "r": str(ref),
        "n": _every(a.name, lang),
        "p": "\n".join([*(_every(p.name, lang) for p in a.products), _every(provider.name, lang)]),
        "f": f"{number_text(a.filing.number or '')}\n{provider.id}",
        "o": "\n".join(
            f"{_text(item.name, lang, default)}\n{_plain(_text(item.description, lang, default))}"
            for item in items
        ),
        "s": _plain(_text(a.summary, lang, default)),
    }


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    plain = _plain(text)
    if len(plain) <= limit:
        return plain
    return plain[: limit - 1].rstrip() + "…"


# -- the compact index -------------------------------------------------------------------------


def _utf16(term: str) -> bytes:
    return term.encode("utf-16-be", "surrogatepass")


def _postings(
    builder: Any, count: int, fields: list[str]
) -> tuple[list[str], list[list[int]], list[list[int]]]:
    """Terms in lunr.js order, each term's postings, and each field's length per document.

    A term's postings are, per field it occurs in, ``field, number of documents, gap, …``: the
    gap is the number of documents skipped since the previous one (the first counts from
    before document 0); a term frequency above one follows the gap, which is then negative
    (``-gap - 1``).  One pass, linear in the number of postings.
    """
    position = {name: f for f, name in enumerate(fields)}
    lengths = [[0] * count for _ in fields]
    # term -> per field: [previous document, number of documents, encoded gaps…]
    table: dict[str, list[list[int] | None]] = {}
    empty: list[list[int] | None] = [None] * len(fields)
    for field_ref, frequencies in builder.field_term_frequencies.items():
        name, _, ref = str(field_ref).partition("/")
        f, doc = position[name], int(ref)  # documents arrive in ascending order
        lengths[f][doc] = builder.field_lengths[field_ref]
        for term, tf in frequencies.items():
            slots = table.get(term)
            if slots is None:
                slots = table[term] = empty.copy()
            run = slots[f]
            if run is None:
                run = slots[f] = [-1, 0]
            gap = doc - run[0] - 1
            if tf == 1:
                run.append(gap)
            else:
                run += [-gap - 1, tf]
            run[0] = doc
            run[1] += 1
    terms = sorted(table, key=_utf16)
    postings: list[list[int]] = []
    for term in terms:
        encoded: list[int] = []
        for f, run in enumerate(table[term]):
            if run is not None:
                encoded.append(f)
                encoded += run[1:]
        postings.append(encoded)
    return terms, postings, lengths


@lru_cache(maxsize=1 << 18)
def _stem(term: str) -> str | None:
    kept = stop_word_filter(Token(term, {}))
    return str(stemmer(kept)) if kept else None


# Text made only of common ideographs, ascii and common punctuation (after NFKC and lowercase)
# is split by two regular expressions; anything else goes through sitegen.cjk.split_token.
_COMMON = re.compile(
    "[\u4e00-\u9fffa-z0-9_!-/:-@\\[-`{-~\u3001\u3002\u2018\u2019\u201c\u201d"
    "\u300a-\u300f\u3010\u3011\u3014\u3015\u3008\u3009\u2014\u00b7]*"
)
_RUNS = re.compile("([\u4e00-\u9fff]+)|([a-z0-9_]+)")


def split_fast(text: str) -> list[str]:
    """:func:`sitegen.cjk.split_token`, faster on the text disclosures are made of."""
    normal = unicodedata.normalize("NFKC", text).lower()
    if not _COMMON.fullmatch(normal):
        return split_token(text)
    out: list[str] = []
    for match in _RUNS.finditer(normal):
        run = match.group(1)
        if run is None:
            out.append(match.group(2))
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


@lru_cache(maxsize=1 << 18)
def _token_terms(text: str) -> tuple[Any, ...]:
    terms = (_stem(part) for part in split_fast(text))
    return tuple(Token(term, {}) for term in terms if term)


def index_terms(token: Any, i: int | None = None, tokens: list[Any] | None = None) -> list[Any]:
    """The index pipeline of :func:`sitegen.cjk.new_builder` (cjkSplit, stopWordFilter,
    stemmer) as one function, remembered per token: the same words recur in every disclosure.

    The tokens it returns are shared and carry no metadata (positions): the builder records
    none, as its metadata whitelist is empty.  Only the search pipeline is serialised, so the
    browser never needs this function's name.
    """
    return list(_token_terms(str(token)))


Pipeline.register_function(index_terms, "sitegenIndexTerms")


def build_builder(documents: list[dict[str, str]], fast: bool = True) -> Any:
    """A lunr.py Builder with every document added (``build()`` it for a lunr.py Index).

    ``fast`` swaps the index pipeline for :func:`index_terms`, which gives the same terms.
    """
    builder = new_builder(FIELDS)
    if fast:
        builder.pipeline.reset()
        builder.pipeline.add(index_terms)
    for document in documents:
        builder.add(document)
    return builder


def compact_index(builder: Any, count: int) -> dict[str, Any]:
    fields = [name for name, _ in FIELDS]
    terms, postings, lengths = _postings(builder, count, fields)
    return {
        "lunr": LUNR_VERSION,
        "pipeline": builder.search_pipeline.serialize(),
        "fields": fields,
        "boosts": [boost for _, boost in FIELDS],
        "k1": builder._k1,
        "b": builder._b,
        "count": count,
        "lengths": lengths,
        "terms": terms,
        "postings": postings,
    }


def lunr_index(documents: list[dict[str, str]]) -> dict[str, Any]:
    """lunr's own serialisation of the same index (for tests and size comparisons)."""
    return serialize_index(build_builder(documents).build())


# -- the document store --------------------------------------------------------------------------


def document_store(registry: Registry, theme: Theme, urls: Urls, lang: str) -> dict[str, Any]:
    default = registry.default_language
    provider_ids = list(registry.providers)
    provider_pos = {pid: i for i, pid in enumerate(provider_ids)}
    categories, roles = [str(c) for c in Category], [str(r) for r in Role]
    docs: list[list[Any]] = []
    for d in registry.disclosures:
        a = d.algorithm
        docs.append(
            [
                _text(a.name, lang, default),
                provider_pos[d.provider.id],
                categories.index(str(a.category)),
                STATUSES.index(status_of(d)),
                a.filing.number or "",
                roles.index(str(a.role)),
                1 if a.public_opinion_attributes else 0,
                d.key,
                snippet(_text(a.summary, lang, default)),
            ]
        )

    def labels(prefix: str, keys: Iterable[str]) -> list[str]:
        return [
            theme.gettext("search.deleted" if key == "deleted" else f"{prefix}.{key}", lang)
            for key in keys
        ]

    search_page = urls.search(lang)
    return {
        # Links are relative to the search page: "../algorithms/<key>/index.html".
        "base": relative(search_page, urls.prefix(lang) + "algorithms/x").removesuffix("x"),
        "providers": [
            [pid, _text(registry.providers[pid].name, lang, default)] for pid in provider_ids
        ],
        "categories": categories,
        "statuses": list(STATUSES),
        "roles": roles,
        "labels": {
            "category": labels("category", categories),
            "status": labels("status", STATUSES),
            "role": labels("role", roles),
            "opinion": [theme.gettext("no", lang), theme.gettext("yes", lang)],
        },
        "docs": docs,
    }


# -- output ------------------------------------------------------------------------------------


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _kb(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} B"


def index_file(registry: Registry, theme: Theme, urls: Urls, lang: str) -> bytes:
    default = registry.default_language
    documents = [index_document(d, i, lang, default) for i, d in enumerate(registry.disclosures)]
    data = {
        "v": FORMAT,
        "lang": lang,
        "index": compact_index(build_builder(documents), len(documents)),
        **document_store(registry, theme, urls, lang),
    }
    return dumps(data)


class SearchStage:
    """The search pages (``pages``), the index files (``files``) and their sizes (``note``)."""

    def __init__(self, renderer: Any, cache: Cache | None = None) -> None:
        self.renderer = renderer  # a sitegen.render.Renderer
        self.cache = cache if cache is not None else Cache(None)
        self.registry: Registry = renderer.registry
        self.urls: Urls = renderer.urls
        self.theme: Theme = renderer.theme
        self.sizes: dict[str, tuple[int, int]] = {}

    def install(self) -> None:
        """Add the search page to the main navigation."""
        extra = self.renderer.extra_context
        extra["extra_nav"] = [*extra.get("extra_nav", []), nav_item(self.urls)]

    def files(self) -> Iterator[tuple[str, bytes]]:
        for lang in self.registry.languages:
            data = index_file(self.registry, self.theme, self.urls, lang)
            self.sizes[lang] = (len(data), len(gzip.compress(data, compresslevel=6, mtime=0)))
            yield index_path(self.urls, lang), data

    def note(self) -> str:
        """``search index zh 123 KB (45 KB gzip), en …`` for the build summary."""
        parts = [
            f"{lang} {_kb(raw)} ({_kb(packed)} gzip)" for lang, (raw, packed) in self.sizes.items()
        ]
        return "search index " + ", ".join(parts)

    def pages(self) -> Iterator[tuple[str, bytes]]:
        registry, urls, theme = self.registry, self.urls, self.theme
        inline = len(registry.disclosures) <= BROWSE_INLINE_LIMIT
        by_category = [(c, registry.of_category(c)) for c in Category]
        by_provider = [(p, registry.of_provider(pid)) for pid, p in registry.providers.items()]
        for lang in registry.languages:
            path = urls.search(lang)
            yield (
                path,
                self.renderer.render(
                    "search.html",
                    path,
                    lang,
                    theme.gettext("search.title", lang),
                    index_url=relative(path, index_path(urls, lang)),
                    browse_categories=by_category,
                    browse_providers=by_provider,
                    browse_inline=inline,
                    facets=FACET_NAMES,
                ),
            )
