"""The search index with the build cache and in parallel: always the same bytes.

Each document's analysis (field lengths and term frequencies) is cached per language; these
tests check that a cold, a warm and no cache, in one process or with a forked worker, give the
same index files, that a warm build analyses only what changed, and that the analysis equals
what lunr.py's Builder records.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sitegen import search
from sitegen.cache import Cache
from sitegen.diagnostics import Report
from sitegen.pipeline import build_site, load_registry
from sitegen.registry import Registry
from sitegen.render import Renderer
from sitegen.theme import Theme
from sitegen.urls import Urls

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "disclosures"


def sample_registry() -> Registry:
    registry = load_registry(SAMPLES, Report())
    assert registry is not None
    return registry


def index_files(registry: Registry, cache: Cache) -> dict[str, bytes]:
    stage = search.SearchStage(Renderer(registry, Theme()), cache=cache)
    stage.start()  # forks a worker per language when the registry is large enough
    files = dict(stage.files())
    assert set(stage.sizes) == set(registry.languages)
    return files


def count_analyses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    analyse = search.analyse

    def counted(document: dict[str, str]) -> search.Analysis:
        calls[0] += 1
        return analyse(document)

    monkeypatch.setattr(search, "analyse", counted)
    return calls


def changed(registry: Registry, position: int) -> Registry:
    """The registry with one disclosure's summary changed (a copy: the original is kept)."""
    disclosures = list(registry.disclosures)
    old = disclosures[position]
    summary = {
        lang: f"{text} 全新的排序说明 entirely new wording"
        for lang, text in old.algorithm.summary.items()
    }
    algorithm = old.algorithm.model_copy(update={"summary": summary})
    disclosures[position] = dataclasses.replace(old, algorithm=algorithm)
    return dataclasses.replace(registry, disclosures=disclosures)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_analysis_equals_what_the_lunr_builder_records(lang: str) -> None:
    registry = sample_registry()
    documents = [
        search.index_document(d, i, lang, registry.default_language)
        for i, d in enumerate(registry.disclosures)
    ]
    builder = search.build_builder(documents, fast=False)
    for position, document in enumerate(documents):
        analysis = search.analyse(document)
        for (name, _), (length, terms, repeated) in zip(search.FIELDS, analysis, strict=True):
            frequencies = builder.field_term_frequencies[f"{name}/{position}"]
            assert length == builder.field_lengths[f"{name}/{position}"]
            assert terms.split(" ") == list(frequencies) if terms else not frequencies
            want = {term: tf for term, tf in frequencies.items() if tf > 1}
            got = dict(zip(repeated[0].split(" "), repeated[1], strict=True)) if repeated else {}
            assert got == want
    analyses = [search.analyse(document) for document in documents]
    assert search.index_of(analyses) == search.compact_index(builder, len(documents))


@given(st.lists(st.text(alphabet="ab 中文字-\n", max_size=12), min_size=1, max_size=6))
def test_analysis_of_any_text_equals_the_builder(texts: list[str]) -> None:
    documents = [
        {"r": str(i), "n": text, "p": text[::-1], "f": "", "o": text * 2, "s": text.upper()}
        for i, text in enumerate(texts)
    ]
    builder = search.build_builder(documents, fast=False)
    analyses = [search.analyse(document) for document in documents]
    assert search.index_of(analyses) == search.compact_index(builder, len(documents))


def test_cold_warm_and_no_cache_give_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = sample_registry()
    plain = index_files(registry, Cache(None))
    assert set(plain) == {
        search.index_path(Urls(registry.languages), lang) for lang in ["zh", "en"]
    }
    calls = count_analyses(monkeypatch)
    with Cache.open(tmp_path / "cache") as cache:
        assert index_files(registry, cache) == plain
        assert calls[0] == 2 * len(registry.disclosures)  # cold: every document, each language
        assert index_files(registry, cache) == plain
        assert calls[0] == 2 * len(registry.disclosures)  # warm: none
        assert cache.hits > 0
    with Cache.open(tmp_path / "cache", enabled=False) as off:
        assert not off.enabled
        assert index_files(registry, off) == plain


def test_one_changed_document_is_the_only_one_analysed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = sample_registry()
    edited = changed(registry, 1)
    before, after = index_files(registry, Cache(None)), index_files(edited, Cache(None))
    assert before != after
    with Cache.open(tmp_path / "cache") as cache:
        assert index_files(registry, cache) == before
        calls = count_analyses(monkeypatch)
        assert index_files(edited, cache) == after
        assert calls[0] == 2  # the changed disclosure, in each language
        assert index_files(registry, cache) == before
        assert calls[0] == 4  # the old version again: the cache keeps only current documents


def test_a_forked_worker_gives_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = sample_registry()
    plain = index_files(registry, Cache(None))
    monkeypatch.setattr(search, "PARALLEL_MIN", 0)
    assert index_files(registry, Cache(None)) == plain
    with Cache.open(tmp_path / "cache") as cache:
        assert index_files(registry, cache) == plain  # cold, the worker writes its language
        calls = count_analyses(monkeypatch)
        assert index_files(registry, cache) == plain
        assert calls[0] == 0  # nothing in this process: the workers index both languages
    with Cache.open(tmp_path / "cache") as cache:
        monkeypatch.setattr(search, "PARALLEL_MIN", 10**9)
        assert index_files(registry, cache) == plain
        assert calls[0] == 0  # the worker's language was cached by the worker


def test_gzip_sizes_are_the_same_from_the_cache(tmp_path: Path) -> None:
    registry = sample_registry()
    sizes: list[dict[str, Any]] = []
    for cache in (Cache(None), Cache.open(tmp_path / "c"), Cache.open(tmp_path / "c")):
        stage = search.SearchStage(Renderer(registry, Theme()), cache=cache)
        list(stage.files())
        sizes.append(dict(stage.sizes))
    assert sizes[0] == sizes[1] == sizes[2]


def test_site_builds_with_and_without_cache_have_the_same_index(tmp_path: Path) -> None:
    def built(name: str, cache: Cache) -> dict[str, bytes]:
        out = tmp_path / name
        build_site(SAMPLES, out, cache=cache)
        urls = Urls(sample_registry().languages)
        return {lang: (out / search.index_path(urls, lang)).read_bytes() for lang in ["zh", "en"]}

    plain = built("plain", Cache(None))
    assert built("cold", Cache.open(tmp_path / "cache")) == plain
    assert built("warm", Cache.open(tmp_path / "cache")) == plain
