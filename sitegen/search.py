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

Building is the expensive part, so it is done without lunr.py's Builder (which would also fill
an inverted index nobody reads): :func:`analyse` records what ``Builder.add`` would for one
document, the build cache keeps that per document and language, and :func:`_assemble` turns
the analyses into the compact index; a rebuild analyses only the documents whose text changed.
On Linux, a large registry's languages are indexed at the same time in forked processes.

Fields and boosts were chosen by measured size on a synthetic 10,000-disclosure registry:
principles, mechanism, scenarios and data inputs would more than double the index for little
recall (objectives, criteria and the summary already name what an algorithm does), so they are
left out; objective and criterion descriptions are in.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import lru_cache
from multiprocessing import get_context
from operator import add, invert
from typing import Any

from lunr.pipeline import Pipeline  # type: ignore[import-untyped, unused-ignore]
from lunr.stemmer import stemmer  # type: ignore[import-untyped, unused-ignore]
from lunr.stop_word_filter import stop_word_filter  # type: ignore[import-untyped, unused-ignore]
from lunr.token import Token  # type: ignore[import-untyped, unused-ignore]

from sitegen.cache import Cache, digest
from sitegen.cjk import CJK_RANGES, new_builder, serialize_index, split_token
from sitegen.fragments import Fragments
from sitegen.markdown import plain_text
from sitegen.memory import release_free_memory
from sitegen.model import Category, Criterion, Objective, Role
from sitegen.registry import Disclosure, Registry
from sitegen.theme import Theme, localize
from sitegen.urls import NavItem, Urls, relative
from sitegen.workers import cores

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


def nav_item(urls: Urls) -> NavItem:
    return NavItem("nav.search", urls.search)


def index_path(urls: Urls, lang: str) -> str:
    """``search/index.zh.json`` beside ``search/index.html``, ``en/search/index.en.json`` …"""
    return urls.search(lang).removesuffix("index.html") + f"index.{lang}.json"


def status_of(disclosure: Disclosure) -> str:
    """The filing status a reader filters by; a deleted disclosure (a tombstone) is "deleted"."""
    if disclosure.ended is not None:
        return "deleted"
    return str(disclosure.facts.status)


# -- documents -----------------------------------------------------------------------------------


def _text(value: dict[str, str] | None, lang: str, default: str) -> str:
    if value and lang in value:
        return value[lang]  # what localize() shows, without building its Shown
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
    return _CJK.sub(" ", number).strip()


# sitegen.cjk.is_cjk as a character class (a character at a time in Python is slow).
_CJK = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in CJK_RANGES) + "]")


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


# What lunr's Builder.add records of one document, per field in FIELDS order: the field length
# (terms after the pipeline), the distinct terms in order of first occurrence, and the terms
# that occur more than once with their frequencies (None when there are none).  Terms are
# joined by spaces (a term never holds one): the build cache keeps these, and a few strings
# per document load many times faster than a tuple of strings per field.
FieldTerms = tuple[int, str, tuple[str, tuple[int, ...]] | None]
Analysis = tuple[FieldTerms, ...]


def field_terms(terms: list[str]) -> FieldTerms:
    """One field's entry of an :data:`Analysis` from its terms after the pipeline."""
    counts = Counter(terms)
    repeated = [(term, tf) for term, tf in counts.items() if tf > 1]
    if not repeated:
        return len(terms), " ".join(counts), None
    words, frequencies = zip(*repeated, strict=True)
    return len(terms), " ".join(counts), (" ".join(words), frequencies)


def _assemble(
    analyses: Sequence[Analysis], fields: list[str]
) -> tuple[list[str], list[list[int]], list[list[int]]]:
    """Terms in lunr.js order, each term's postings, and each field's length per document.

    A term's postings are, per field it occurs in, ``field, number of documents, gap, …``: the
    gap is the number of documents skipped since the previous one (the first counts from
    before document 0); a term frequency above one follows the gap, which is then negative
    (``-gap - 1``).  The per-posting work is one list append; gaps are computed per term by
    ``map`` over its documents, and only the few repeated terms are patched in afterwards.
    """
    lengths = [[analysis[f][0] for analysis in analyses] for f in range(len(fields))]
    tables: list[dict[str, list[int]]] = []  # per field: term -> its documents, ascending
    repeats: list[dict[str, list[tuple[int, int]]]] = []  # per field: term -> (doc, tf > 1)
    for f in range(len(fields)):
        table: defaultdict[str, list[int]] = defaultdict(list)
        repeated: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
        for doc, analysis in enumerate(analyses):
            length, present, counts = analysis[f]
            if length:
                for term in present.split(" "):
                    table[term].append(doc)
            if counts:
                for term, tf in zip(counts[0].split(" "), counts[1], strict=True):
                    repeated[term].append((doc, tf))
        tables.append(table)
        repeats.append(repeated)
    terms = sorted(set().union(*tables), key=_utf16)
    postings: list[list[int]] = []
    for term in terms:
        encoded: list[int] = []
        for f, documents in enumerate(tables):
            docs = documents.get(term)
            if docs is None:
                continue
            # doc - previous - 1 == doc + ~previous; the first "previous" is -1 (~-1 == 0)
            gaps = list(map(add, docs, map(invert, [-1, *docs])))
            encoded += (f, len(docs))
            start = 0
            for doc, tf in repeats[f].get(term, ()):
                i = bisect_left(docs, doc, start)
                encoded += gaps[start:i]
                encoded += (-gaps[i] - 1, tf)
                start = i + 1
            encoded += gaps[start:] if start else gaps
        postings.append(encoded)
    return terms, postings, lengths


def _postings(
    builder: Any, count: int, fields: list[str]
) -> tuple[list[str], list[list[int]], list[list[int]]]:
    """:func:`_assemble` for a lunr.py Builder with documents ``"0"`` … ``count - 1`` added."""
    analyses: list[Analysis] = []
    for doc in range(count):
        analysis: list[FieldTerms] = []
        for name in fields:
            frequencies = builder.field_term_frequencies[f"{name}/{doc}"]
            terms = [term for term, tf in frequencies.items() for _ in range(tf)]
            assert len(terms) == builder.field_lengths[f"{name}/{doc}"]
            analysis.append(field_terms(terms))
        analyses.append(tuple(analysis))
    return _assemble(analyses, fields)


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
def _terms(text: str) -> tuple[str, ...]:
    """The index terms of one lunr token (cjkSplit, stopWordFilter, stemmer), remembered."""
    stems = (_stem(part) for part in split_fast(text))
    return tuple(term for term in stems if term)


@lru_cache(maxsize=1 << 18)
def _token_terms(text: str) -> tuple[Any, ...]:
    return tuple(Token(term, {}) for term in _terms(text))


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


# lunr.tokenizer.Tokenizer on a string: lowercase it whole, split on these characters, drop
# empty pieces (lunr.tokenizer.SEPARATOR_CHARS).
_SEPARATOR = re.compile("[ \t\n\r\f\v\xa0-]")


def analyse(document: dict[str, str]) -> Analysis:
    """What ``build_builder([...]).add(document)`` records for the compact index, directly.

    lunr.py's ``Builder.add`` also fills its inverted index with an empty metadata dict per
    posting and a token object per term, three quarters of the index's build time; the
    compact index needs only the field lengths and term frequencies, and they can be cached
    per document only if computed per document.  So this applies the same steps - lunr's
    tokenizer (reproduced by ``_SEPARATOR``: it splits a lowercased string on those
    characters), then :func:`index_terms`' pipeline - and counts; the tests check the result
    against the Builder's ``field_term_frequencies`` and ``field_lengths``.
    """
    analysis: list[FieldTerms] = []
    for name, _ in FIELDS:
        terms: list[str] = []
        for piece in _SEPARATOR.split(document[name].lower()):
            if piece:
                terms += _terms(piece)
        analysis.append(field_terms(terms))
    return tuple(analysis)


_FIELDS_KEY = json.dumps(FIELDS)


def analysis_key(document: dict[str, str], lang: str) -> str:
    """The cache key of a document's analysis: every field's text, the fields and boosts, the
    language (the reference, a position, is left out: the analysis does not depend on it)."""
    return digest("search-analysis", lang, _FIELDS_KEY, *(document[name] for name, _ in FIELDS))


def analyse_all(documents: list[dict[str, str]], lang: str, cache: Cache) -> list[Analysis]:
    """Every document's analysis, from the cache where it has one; the cache keeps only these."""
    if not cache.enabled:
        return [analyse(document) for document in documents]
    namespace = f"search-{lang}"
    keys = [analysis_key(document, lang) for document in documents]
    found: dict[str, Analysis] = cache.get_many(namespace, keys)
    new: dict[str, Analysis] = {}
    analyses: list[Analysis] = []
    for key, document in zip(keys, documents, strict=True):
        analysis = found.get(key)
        if analysis is None:
            analysis = found[key] = new[key] = analyse(document)
        analyses.append(analysis)
    cache.put_many(namespace, new.items())
    cache.keep_only(namespace, keys)
    return analyses


def _index_data(
    terms: list[str], postings: list[list[int]], lengths: list[list[int]]
) -> dict[str, Any]:
    builder = new_builder(FIELDS)  # for the constants lunr.js must use: pipeline, k1, b
    return {
        "lunr": LUNR_VERSION,
        "pipeline": builder.search_pipeline.serialize(),
        "fields": [name for name, _ in FIELDS],
        "boosts": [boost for _, boost in FIELDS],
        "k1": builder._k1,
        "b": builder._b,
        "count": len(lengths[0]),
        "lengths": lengths,
        "terms": terms,
        "postings": postings,
    }


def compact_index(builder: Any, count: int) -> dict[str, Any]:
    """The compact index of a lunr.py Builder (documents ``"0"`` … added); see :func:`_assemble`."""
    return _index_data(*_postings(builder, count, [name for name, _ in FIELDS]))


def index_of(analyses: Sequence[Analysis]) -> dict[str, Any]:
    """The compact index of documents ``0`` … from their analyses."""
    return _index_data(*_assemble(analyses, [name for name, _ in FIELDS]))


def lunr_index(documents: list[dict[str, str]]) -> dict[str, Any]:
    """lunr's own serialisation of the same index (for tests and size comparisons)."""
    return serialize_index(build_builder(documents).build())


# -- the document store --------------------------------------------------------------------------


_CATEGORIES, _ROLES = [str(c) for c in Category], [str(r) for r in Role]


def store_row(disclosure: Disclosure, lang: str, default: str) -> list[Any]:
    """A disclosure's entry in the document store, naming its provider by id."""
    a = disclosure.algorithm
    return [
        _text(a.name, lang, default),
        disclosure.provider.id,
        _CATEGORIES.index(str(a.category)),
        STATUSES.index(status_of(disclosure)),
        a.filing.number or "",
        _ROLES.index(str(a.role)),
        1 if a.public_opinion_attributes else 0,
        disclosure.key,
        snippet(_text(a.summary, lang, default)),
    ]


def document_store(
    registry: Registry, theme: Theme, urls: Urls, lang: str, rows: list[list[Any]] | None = None
) -> dict[str, Any]:
    """The store: labels, providers and one row per document (``rows``: the disclosures'
    :func:`store_row`, made here when not given)."""
    default = registry.default_language
    provider_ids = list(registry.providers)
    provider_pos = {pid: i for i, pid in enumerate(provider_ids)}
    categories, roles = _CATEGORIES, _ROLES
    if rows is None:
        rows = [store_row(d, lang, default) for d in registry.disclosures]
    docs = [[row[0], provider_pos[row[1]], *row[2:]] for row in rows]

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


def index_file(
    registry: Registry,
    theme: Theme,
    urls: Urls,
    lang: str,
    cache: Cache | None = None,
    fragments: Fragments | None = None,
) -> bytes:
    """One language's index file.

    With ``fragments`` keyed by unit, each disclosure's analysis and store row are kept
    together and an unchanged disclosure is not even read; otherwise documents whose
    analysis ``cache`` holds (by their text) are not analysed.
    """
    default = registry.default_language
    cache = cache if cache is not None else Cache(None)
    if fragments is not None and fragments.keys and cache.enabled:

        def row(d: Disclosure) -> tuple[Analysis, list[Any], str]:
            analysis = analyse(index_document(d, 0, lang, default))
            # The analysis by digest, for the index's key below.
            found = digest(json.dumps(analysis, ensure_ascii=False))
            return analysis, store_row(d, lang, default), found

        rows = fragments.rows(f"search:{lang}", registry.disclosures, row, cache=cache)
        # The inverted index depends on the analyses alone: a change that leaves every
        # disclosure's searchable text as it was (a change note, a date, a filing's status,
        # the mechanism) keeps it, and assembling it again was most of a rebuild's search
        # work (0.7 s of CPU per language at 10,000 disclosures).
        namespace = f"search-index-{lang}"
        key = digest(str(FORMAT), *(found for _, _, found in rows))
        index = cache.get(namespace, key)
        if not isinstance(index, bytes):
            index = dumps(index_of([analysis for analysis, _, _ in rows]))
            cache.put(namespace, key, index)
            cache.keep_only(namespace, [key])
        store = document_store(registry, theme, urls, lang, [entry for _, entry, _ in rows])
        # What ``dumps`` of the whole gives (as below), with the index's JSON as kept.
        head = b'{"v":' + dumps(FORMAT) + b',"lang":' + dumps(lang) + b',"index":'
        return head + index + b"," + dumps(store)[1:]
    documents = [index_document(d, i, lang, default) for i, d in enumerate(registry.disclosures)]
    analyses = analyse_all(documents, lang, cache)
    data = {
        "v": FORMAT,
        "lang": lang,
        "index": index_of(analyses),
        **document_store(registry, theme, urls, lang),
    }
    return dumps(data)


def _sized(data: bytes, lang: str, cache: Cache) -> tuple[bytes, int]:
    """The file and its gzipped size (for the build summary), which the cache remembers: the
    compression takes longer than the whole rest of an unchanged index's warm rebuild."""
    namespace, key = f"search-gzip-{lang}", digest(data)
    packed = cache.get(namespace, key)
    if not isinstance(packed, int):
        packed = len(gzip.compress(data, compresslevel=6, mtime=0))
        cache.put(namespace, key, packed)
        cache.keep_only(namespace, [key])
    return data, packed


# Fewer disclosures than this are indexed in the build process: forking costs more.
PARALLEL_MIN = 400
# (registry, theme, urls, cache, fragments), set in the build process just before the worker
# forks.
_JOB: tuple[Registry, Theme, Urls, Cache, Fragments | None] | None = None


def _index_job(lang: str) -> tuple[bytes, int]:
    """In a forked worker: one language's index file and its gzipped size."""
    assert _JOB is not None
    registry, theme, urls, cache, fragments = _JOB
    try:
        with cache.reopened() as own:  # the build's connection does not survive the fork
            return _sized(index_file(registry, theme, urls, lang, own, fragments), lang, own)
    finally:
        release_free_memory()  # what indexing dropped: the worker goes on rendering pages


class SearchStage:
    """The search pages (``pages``), the index files (``files``) and their sizes (``note``)."""

    def __init__(self, renderer: Any, cache: Cache | None = None) -> None:
        self.renderer = renderer  # a sitegen.render.Renderer
        self.cache = cache if cache is not None else Cache(None)
        self.fragments: Fragments | None = None  # set by the pipeline once units have keys
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[str, Future[tuple[bytes, int]]] = {}
        self.registry: Registry = renderer.registry
        self.urls: Urls = renderer.urls
        self.theme: Theme = renderer.theme
        self.sizes: dict[str, tuple[int, int]] = {}

    def install(self) -> None:
        """Add the search page to the main navigation."""
        extra = self.renderer.extra_context
        extra["extra_nav"] = [*extra.get("extra_nav", []), nav_item(self.urls)]

    def _index(self, lang: str) -> tuple[bytes, int]:
        data = index_file(self.registry, self.theme, self.urls, lang, self.cache, self.fragments)
        return _sized(data, lang, self.cache)

    def start(self, pool: ProcessPoolExecutor | None = None) -> None:
        """Index a large registry's languages in forked workers, while the build process
        goes on with the pages and the open data; :meth:`files` collects them.

        Each language's index is independent and takes one core; on Linux a fork shares the
        loaded registry for free.  ``pool`` is another stage's workers, not yet forked, to
        queue the languages on (they are not shut down here); without one, workers are
        forked here when that is worth it.  A second call does nothing.  Without a call to
        ``start`` :meth:`files` indexes in this process.  The bytes are the same either way.
        """
        if self._futures:
            return
        languages = list(self.registry.languages)
        if pool is None and not self.forks():
            return
        with self.inherited():
            try:
                if pool is None:
                    workers = min(len(languages), cores())
                    context = get_context("fork")
                    pool = self._pool = ProcessPoolExecutor(workers, mp_context=context)
                self._futures = {lang: pool.submit(_index_job, lang) for lang in languages}
            except (OSError, BrokenProcessPool):
                self._futures = {}

    @contextmanager
    def inherited(self) -> Iterator[None]:
        """Workers forked in the block (at a pool's first submit) can run
        :func:`_index_job`; another stage's pool may fork them before :meth:`start`."""
        global _JOB
        previous = _JOB
        _JOB = (self.registry, self.theme, self.urls, self.cache, self.fragments)
        try:
            yield
        finally:
            _JOB = previous  # the workers forked meanwhile have their copies

    def forks(self) -> bool:
        """Whether :meth:`start` forks workers of its own when given none."""
        workers = min(len(self.registry.languages), cores())
        return (
            workers >= 2
            and len(self.registry.disclosures) >= PARALLEL_MIN
            and sys.platform.startswith("linux")
        )

    def files(self) -> Iterator[tuple[str, bytes]]:
        """The index files, from the workers :meth:`start` forked, else made here."""
        try:
            for lang in self.registry.languages:
                future = self._futures.get(lang)
                try:
                    data, packed = future.result() if future else self._index(lang)
                except BrokenProcessPool:  # a worker died (say, out of memory): index here
                    data, packed = self._index(lang)
                self.sizes[lang] = (len(data), packed)
                yield index_path(self.urls, lang), data
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers :meth:`start` forked, if a build ends before collecting them."""
        for future in self._futures.values():
            future.cancel()  # queued on another stage's workers: do not run it
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self._futures = {}

    def note(self) -> str:
        """``search index zh 123 KB (45 KB gzip), en …`` for the build summary."""
        parts = [
            f"{lang} {_kb(raw)} ({_kb(packed)} gzip)" for lang, (raw, packed) in self.sizes.items()
        ]
        return "search index " + ", ".join(parts)

    def pages(self) -> Iterator[tuple[str, bytes]]:
        registry, urls, theme = self.registry, self.urls, self.theme
        inline = len(registry.disclosures) <= BROWSE_INLINE_LIMIT
        of_category = self.renderer.by_category
        by_category = [(c, of_category.get(c, [])) for c in Category]
        of_provider = self.renderer.by_provider
        by_provider = [(p, of_provider.get(pid, [])) for pid, p in registry.providers.items()]
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
