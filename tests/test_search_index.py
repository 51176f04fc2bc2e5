"""The search index: what is indexed, the compact form, and queries through lunr.js in Node.

The browser half (lunr.js, cjk.js, search-core.js) runs under Node through tests/js/run_search.js
against the index files of the built sample site, so these tests check the results readers get.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from htmlcheck import soup
from hypothesis import given
from hypothesis import strategies as st
from lunr.pipeline import Pipeline  # type: ignore[import-untyped, unused-ignore]
from lunr.token import Token  # type: ignore[import-untyped, unused-ignore]
from nodejs import run_node

from sitegen import search
from sitegen.cjk import run_query, split_token, tokenize_query
from sitegen.diagnostics import Report
from sitegen.pipeline import build_site, load_registry
from sitegen.registry import Ending, Registry
from sitegen.theme import Theme
from sitegen.urls import Urls

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "disclosures"
RUNNER = ROOT / "tests" / "js" / "run_search.js"
VENDOR = ROOT / "themes" / "default" / "static" / "vendor" / "lunr"


def node(*args: str | Path) -> Any:
    return run_node(RUNNER, *args)


@cache
def registry() -> Registry:
    loaded = load_registry(SAMPLES, Report())
    assert loaded is not None
    return loaded


def documents(lang: str) -> list[dict[str, str]]:
    reg = registry()
    return [
        search.index_document(d, i, lang, reg.default_language)
        for i, d in enumerate(reg.disclosures)
    ]


def index_file(site: Path, lang: str) -> Path:
    return site / search.index_path(Urls(registry().languages), lang)


def run_search(site: Path, lang: str, cases: list[dict[str, Any]], tmp: Path) -> dict[str, Any]:
    cases_file = tmp / f"cases-{lang}.json"
    cases_file.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    out: dict[str, Any] = node("search", index_file(site, lang), cases_file)
    return out


def keys(site: Path, lang: str, query: str, tmp: Path, **filters: list[str]) -> list[str]:
    result = run_search(site, lang, [{"q": query, "filters": filters}], tmp)["results"][0]
    found: list[str] = result["keys"]
    return found


# -- what is indexed ---------------------------------------------------------------------------


def test_index_documents_hold_the_fields_that_matter() -> None:
    reg = registry()
    feed = next(i for i, d in enumerate(reg.disclosures) if d.key == "liuguang-video/video-feed")
    zh, en = documents("zh")[feed], documents("en")[feed]
    assert set(zh) == {"r"} | {name for name, _ in search.FIELDS}
    assert zh["r"] == str(feed)  # a short reference: the position in the document store
    # names in every language, the page's language first
    assert zh["n"].splitlines() == [
        "流光短视频个性化推荐算法",
        "Liuguang short-video personalized feed",
    ]
    assert en["n"].splitlines()[0] == "Liuguang short-video personalized feed"
    assert "流光视频" in zh["p"] and "Liuguang Video" in zh["p"]
    assert "北京流光视界网络科技有限公司" in en["p"]  # the provider, in both languages
    # language-neutral: the filing number and the provider id
    assert zh["f"] == en["f"] == "110108526018150220299\nliuguang-video"
    # objectives and criteria, summary: only the page's language
    assert "完整观看" in zh["o"] and "Watching to the end" not in zh["o"]
    assert "Watching to the end" in en["o"] and "完整观看" not in en["o"]
    assert zh["s"].startswith("根据您的观看") and en["s"].startswith("Picks short videos")
    # principles and mechanism are left out (size; see sitegen/search.py)
    assert not any("视频池" in value or "主流价值导向" in value for value in zh.values())


def test_field_boosts_rank_name_highest() -> None:
    boosts = dict(search.FIELDS)
    assert boosts["n"] > boosts["p"] >= boosts["f"] > boosts["o"] > boosts["s"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fast_index_pipeline_gives_the_same_index(lang: str) -> None:
    docs = documents(lang)
    slow = search.compact_index(search.build_builder(docs, fast=False), len(docs))
    fast = search.compact_index(search.build_builder(docs), len(docs))
    assert fast == slow


@given(st.text(max_size=40))
def test_index_terms_equal_the_cjk_pipeline(text: str) -> None:
    pipeline = Pipeline.load(["cjkSplit", "stopWordFilter", "stemmer"])
    expected = [str(t) for t in pipeline.run([Token(text, {})])]
    assert [str(t) for t in search.index_terms(Token(text, {}))] == expected


EDGE = "々〇ー・゙ａＡ１＿﨑𠮷é\u0301ß\u00b5ǅ²½Ⅻ，。、“”《》「」【】…—·～！？：；-_'\"\\ \t"


@given(st.text(alphabet=st.sampled_from("中文算法推荐abcXYZ019_-.,!?" + EDGE), max_size=30))
def test_split_fast_equals_split_token(text: str) -> None:
    assert search.split_fast(text) == split_token(text)


def test_split_fast_equals_split_token_on_every_common_character() -> None:
    ranges = [(0, 0x3100), (0x4DB0, 0xA000), (0xF900, 0x10000)]
    for lo, hi in ranges:
        for cp in range(lo, hi):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            char = chr(cp)
            for text in (char, f"x{char}中", f"中{char}文"):
                assert search.split_fast(text) == split_token(text), hex(cp)


def test_compact_postings_round_trip() -> None:
    """Decode the compact postings in Python and compare with lunr.py's inverted index."""
    docs = documents("zh")
    builder = search.build_builder(docs)
    compact = search.compact_index(builder, len(docs))
    index = builder.build()
    fields = compact["fields"]
    decoded: dict[str, dict[str, dict[str, int]]] = {}
    for term, encoded in zip(compact["terms"], compact["postings"], strict=True):
        per_field: dict[str, dict[str, int]] = {}
        j = 0
        while j < len(encoded):
            field, count = fields[encoded[j]], encoded[j + 1]
            j += 2
            doc = -1
            docs_tf: dict[str, int] = {}
            for _ in range(count):
                gap, tf = encoded[j], 1
                j += 1
                if gap < 0:
                    gap, tf = -gap - 1, encoded[j]
                    j += 1
                doc += gap + 1
                docs_tf[str(doc)] = tf
            per_field[field] = docs_tf
        decoded[term] = per_field
    assert set(decoded) == set(index.inverted_index)
    for term, posting in index.inverted_index.items():
        for field in fields:
            assert set(decoded[term].get(field, {})) == set(posting[field]), (term, field)
    tf_seen = False
    for field_ref, frequencies in builder.field_term_frequencies.items():
        name, _, ref = str(field_ref).partition("/")
        for term, tf in frequencies.items():
            assert decoded[term][name][ref] == tf
            tf_seen = tf_seen or tf > 1
        assert compact["lengths"][fields.index(name)][int(ref)] == builder.field_lengths[field_ref]
    assert tf_seen  # the negative-gap encoding of a term frequency was exercised
    utf16 = sorted(compact["terms"], key=lambda t: t.encode("utf-16-be", "surrogatepass"))
    assert compact["terms"] == utf16


# -- the files in the built site ---------------------------------------------------------------


def test_index_files_per_language_and_compact(sample_site: Path) -> None:
    reg = registry()
    for lang in reg.languages:
        path = index_file(sample_site, lang)
        assert path.is_file()
        data = json.loads(path.read_text("utf-8"))
        assert data["v"] == search.FORMAT and data["lang"] == lang
        assert len(data["docs"]) == len(reg.disclosures)
        index = data["index"]
        assert index["pipeline"] == ["cjkSplit", "stemmer"]
        assert index["fields"] == [name for name, _ in search.FIELDS]
        assert index["count"] == len(reg.disclosures)
        # much smaller than lunr's own serialisation of the same index
        lunr_size = len(search.dumps(search.lunr_index(documents(lang))))
        assert len(search.dumps(index)) * 3 < lunr_size
    assert index_file(sample_site, "zh").parent == sample_site / "search"
    assert index_file(sample_site, "en").parent == sample_site / "en" / "search"


def test_document_store_rows(sample_site: Path) -> None:
    data = json.loads(index_file(sample_site, "en").read_text("utf-8"))
    reg = registry()
    by_key = {row[7]: row for row in data["docs"]}
    row = by_key["liuguang-video/video-feed"]
    title, provider, category, status, number, role, opinion, key, snippet = row
    assert title == "Liuguang short-video personalized feed"
    assert data["providers"][provider] == [
        "liuguang-video",
        "Beijing Liuguang Vision Network Technology Co., Ltd.",
    ]
    assert data["categories"][category] == "personalized_push"
    assert data["labels"]["category"][category] == "Personalized push"
    assert data["statuses"][status] == "filed" and data["labels"]["status"][status] == "Filed"
    assert number == "网信算备110108526018150220299号"
    assert data["roles"][role] == "service_provider"
    assert opinion == 1
    assert snippet.startswith("Picks short videos") and len(snippet) <= search.SNIPPET_CHARS
    assert data["statuses"][by_key["tingfeng-music/ai-cover-voice"][3]] == "withdrawn"
    # result links are relative to the search page and reach every disclosure page
    page = sample_site / "en" / "search" / "index.html"
    for key in by_key:
        assert (page.parent / f"{data['base']}{key}/index.html").resolve().is_file(), key
    assert len(by_key) == len(reg.disclosures)


def test_build_summary_reports_index_sizes(tmp_path: Path) -> None:
    result = build_site(SAMPLES, tmp_path / "site")
    note = next(n for n in result.notes if n.startswith("search index"))
    for lang in ("zh", "en"):
        data = (tmp_path / "site" / search.index_path(Urls(["zh", "en"]), lang)).read_bytes()
        raw = f"{len(data) / 1024:.0f} KB"
        packed = f"{len(gzip.compress(data, 6, mtime=0)) / 1024:.0f} KB gzip"
        assert f"{lang} {raw} ({packed})" in note
    assert note in result.summary(1.0)


def test_search_page_without_javascript(sample_site: Path) -> None:
    reg = registry()
    for lang in reg.languages:
        path = sample_site / Urls(reg.languages).search(lang)
        doc = soup(path)
        root = doc.find(id="search")
        assert root is not None and "no-js" in root["class"]
        form = doc.find("form", id="search-form")
        assert form is not None and form["method"] == "get" and form["action"] == "index.html"
        q = doc.find("input", id="search-q")
        assert q is not None and q["name"] == "q"
        label = doc.find("label", attrs={"for": "search-q"})
        assert label is not None and label.get_text(strip=True)
        status = doc.find(id="search-status")
        assert status is not None and status["aria-live"] == "polite"
        assert status["role"] == "status"
        note = doc.find(class_="nojs-only")
        theme = Theme()
        assert note is not None and note.get_text(strip=True) == theme.gettext(
            "search.needs_js", lang
        )
        assert root["data-index"] == f"index.{lang}.json"
        # Every disclosure is linked from the browse lists, under its category and provider.
        browse = doc.find("section", class_="browse")
        assert browse is not None
        hrefs = [a["href"] for a in browse.find_all("a", href=True)]
        for d in reg.disclosures:
            assert hrefs.count(f"../algorithms/{d.key}/index.html") == 2, d.key
        for category in ("personalized_push", "generation_synthesis"):
            assert f"../categories/{category}/index.html" in hrefs
        for provider_id in reg.providers:
            assert f"../providers/{provider_id}/index.html" in hrefs
        for fieldset in doc.find_all("fieldset", class_="facet"):
            assert fieldset.find("legend").get_text(strip=True)
        scripts = [s["src"] for s in doc.find_all("script")]
        assert [s.rsplit("/", 1)[-1] for s in scripts] == [
            "lunr.js",
            "cjk.js",
            "search-core.js",
            "search.js",
        ]


def test_every_page_has_a_search_box_and_nav_link(sample_site: Path) -> None:
    checked = 0
    for path in sorted(sample_site.rglob("index.html"))[:80]:
        doc = soup(path)
        form = doc.find("form", class_="header-search")
        if form is None:  # redirect pages (f/<number>/) have no header
            continue
        action = form["action"]
        target = (path.parent / action).resolve()
        assert target.name == "index.html" and target.parent.name == "search", (path, action)
        assert target.is_file()
        nav = doc.find("nav", class_="main-nav")
        assert any(a["href"] == action for a in nav.find_all("a", href=True)), path
        checked += 1
    assert checked > 20


def test_static_files_shipped_unmodified(sample_site: Path) -> None:
    shipped = sample_site / "static" / "vendor" / "lunr"
    for name in ("lunr.js", "LICENSE", "VENDOR.json"):
        assert (shipped / name).read_bytes() == (VENDOR / name).read_bytes()


# -- queries, through lunr.js --------------------------------------------------------------------

# Chinese words that occur only inside longer sentences of one disclosure's text.
INSIDE_A_SENTENCE = {
    "互动习惯": "liuguang-video/video-feed",
    "听歌习惯": "tingfeng-music/music-recommendation",
    "叫车需求": "xingtu-mobility/dynamic-pricing",
    "阅读偏好": "qingzhou-news/news-feed",
    "讨论热度": "qingzhou-news/hot-list",
}


def test_chinese_words_are_found_inside_sentences(sample_site: Path, tmp_path: Path) -> None:
    docs = documents("zh")
    reg = registry()
    for word, key in INSIDE_A_SENTENCE.items():
        # precondition: the word is never a token of its own in the disclosure's text
        i = next(i for i, d in enumerate(reg.disclosures) if d.key == key)
        text = "\n".join(docs[i].values())
        assert word in text
        assert not re.search(rf"(^|[^\u4e00-\u9fff]){word}([^\u4e00-\u9fff]|$)", text), word
        assert keys(sample_site, "zh", word, tmp_path) == [key], word


def test_two_character_word_and_mixed_query(sample_site: Path, tmp_path: Path) -> None:
    assert keys(sample_site, "zh", "AI特效", tmp_path)[0] == "liuguang-video/ai-camera-effects"
    assert keys(sample_site, "zh", "ＡＩ特效", tmp_path)[0] == "liuguang-video/ai-camera-effects"
    found = keys(sample_site, "zh", "骑手", tmp_path)
    assert "sudi-delivery/order-dispatch" in found
    assert all(k.startswith(("sudi-delivery/", "xingtu-mobility/")) for k in found), found
    # both characters occur in the sample, never as this word
    assert keys(sample_site, "zh", "推算", tmp_path) == []


def test_english_stemming_and_stop_words(sample_site: Path, tmp_path: Path) -> None:
    cases = [
        {"q": "Liuguang Camera"},
        {"q": "recommendations"},
        {"q": "recommended"},
        {"q": "the"},
        {"q": "the of and"},
        {"q": "ranked"},
        {"q": "!!!"},
    ]
    results = {r["q"]: r for r in run_search(sample_site, "en", cases, tmp_path)["results"]}
    assert results["Liuguang Camera"]["keys"][0] == "liuguang-video/ai-camera-effects"
    assert results["recommendations"]["keys"] == results["recommended"]["keys"]
    assert "haibei-mall/product-recommendation" in results["recommendations"]["keys"]
    assert "recommend" in results["recommendations"]["terms"]
    for q in ("the", "the of and", "!!!"):
        assert results[q]["keys"] == [] and results[q]["total"] == 0
        assert results[q]["searched"] is True  # the page says nothing matches
    assert "rank" in results["ranked"]["terms"] and len(results["ranked"]["keys"]) > 3


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_filing_numbers_whole_and_in_part(sample_site: Path, tmp_path: Path, lang: str) -> None:
    feed = "liuguang-video/video-feed"
    assert keys(sample_site, lang, "网信算备110108526018150220299号", tmp_path) == [feed]
    assert keys(sample_site, lang, "110108526018150220299", tmp_path) == [feed]
    assert keys(sample_site, lang, "0299", tmp_path) == [feed]
    assert keys(sample_site, lang, "150220299", tmp_path) == [feed]
    assert keys(sample_site, lang, "0000", tmp_path) == []
    # "0031" ends two numbers; both are found
    assert set(keys(sample_site, lang, "0031", tmp_path)) == {
        "haibei-mall/product-search",
        "yunjing-ai/text-to-image",
    }


def test_names_in_the_other_language_are_found(sample_site: Path, tmp_path: Path) -> None:
    assert keys(sample_site, "en", "流光相机", tmp_path)[0] == "liuguang-video/ai-camera-effects"
    assert "liuguang-video/video-feed" in keys(sample_site, "zh", "Liuguang Video", tmp_path)


def test_withdrawn_found_but_ranked_last(sample_site: Path, tmp_path: Path) -> None:
    for lang, query in (("zh", "听风"), ("en", "Tingfeng"), ("zh", "行途"), ("en", "Xingtu")):
        result = run_search(sample_site, lang, [{"q": query}], tmp_path)["results"][0]
        assert len(result["keys"]) >= 2
        inactive = result["inactive"]
        assert any(inactive) and not all(inactive)
        assert inactive == sorted(inactive), (query, result["keys"])  # current ones first


def test_facets_count_and_filter(sample_site: Path, tmp_path: Path) -> None:
    cases = [
        {"q": "推荐"},
        {"q": "推荐", "filters": {"category": ["personalized_push"]}},
        {
            "q": "推荐",
            "filters": {"category": ["personalized_push"], "provider": ["qingzhou-news"]},
        },
        {"q": "", "filters": {"status": ["withdrawn"]}},
        {"q": "", "filters": {"role": ["technical_supporter"]}},
        {"q": "", "filters": {"opinion": ["yes"], "category": ["sorting_selection"]}},
        {"q": ""},
    ]
    r = run_search(sample_site, "zh", cases, tmp_path)["results"]
    everything, push, push_qingzhou, withdrawn, supporter, opinion, empty = r
    counts = everything["facets"]["category"]
    assert sum(counts.values()) == everything["total"]
    assert push["total"] == counts["personalized_push"] < everything["total"]
    # a facet's own counts ignore its own filter, so other values stay selectable
    assert push["facets"]["category"] == counts
    assert push_qingzhou["total"] == push["facets"]["provider"]["qingzhou-news"]
    assert all(k.startswith("qingzhou-news/") for k in push_qingzhou["keys"])
    reg = registry()
    assert set(withdrawn["keys"]) == {d.key for d in reg.disclosures if d.withdrawn}
    assert set(supporter["keys"]) == {
        d.key for d in reg.disclosures if d.algorithm.role == "technical_supporter"
    }
    assert set(opinion["keys"]) == {
        d.key
        for d in reg.disclosures
        if d.algorithm.public_opinion_attributes and d.algorithm.category == "sorting_selection"
    }
    assert opinion["keys"]
    assert empty["searched"] is False and empty["keys"] == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lunr_js_and_lunr_py_find_the_same(sample_site: Path, tmp_path: Path, lang: str) -> None:
    docs = documents(lang)
    index = search.build_builder(docs).build()
    queries = [
        *INSIDE_A_SENTENCE,
        "AI特效",
        "0299",
        "推荐",
        "Liuguang",
        "recommendations",
        "driver",
        "网信算备",
        "个性化推荐 video",
    ]
    reg = registry()
    results = run_search(sample_site, lang, [{"q": q} for q in queries], tmp_path)["results"]
    for query, js in zip(queries, results, strict=True):
        py = run_query(index, tokenize_query(query))
        py_scores = {reg.disclosures[int(r["ref"])].key: r["score"] for r in py}
        js_scores = dict(zip(js["keys"], js["scores"], strict=True))
        assert js_scores == pytest.approx(py_scores, abs=0.01), query


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_expanded_index_equals_lunr_serialisation(sample_site: Path, lang: str) -> None:
    expected = search.lunr_index(documents(lang))
    got = node("expand", index_file(sample_site, lang))
    assert got["version"] == expected["version"] == "2.3.9"
    assert got["fields"] == expected["fields"]
    assert got["pipeline"] == expected["pipeline"]
    assert [t for t, _ in got["invertedIndex"]] == [t for t, _ in expected["invertedIndex"]]

    def by_term(serialised: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
        names = {posting["_index"]: term for term, posting in serialised["invertedIndex"]}
        postings = {
            term: {f: sorted(p[f]) for f in serialised["fields"]}
            for term, p in serialised["invertedIndex"]
        }
        vectors = {
            ref: {names[el[i]]: el[i + 1] for i in range(0, len(el), 2)}
            for ref, el in serialised["fieldVectors"]
        }
        return postings, vectors

    got_postings, got_vectors = by_term(got)
    want_postings, want_vectors = by_term(expected)
    assert got_postings == want_postings
    assert set(got_vectors) == set(want_vectors)
    for ref, vector in want_vectors.items():
        assert got_vectors[ref] == pytest.approx(vector, abs=1e-3), ref


def test_highlight_pieces(tmp_path: Path) -> None:
    cases = [
        {"text": "根据您的观看和互动习惯，从海量短视频中", "terms": ["互动", "动习", "习惯"]},
        {"text": "We recommend videos; recommendations", "terms": ["recommend"]},
        {
            "text": "网信算备110108526018150220299号",
            "terms": ["110108526018150220299"],
            "substrings": ["0299"],
        },
        {"text": "AI特效相机", "terms": ["ai", "特效"]},
        {"text": "<b>x</b> 推荐", "terms": ["推荐"]},
        {"text": "", "terms": ["x"]},
    ]
    path = tmp_path / "highlight.json"
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")

    def marked(pieces: list[dict[str, Any]]) -> list[str]:
        return [p["text"] for p in pieces if p["mark"]]

    out = node("highlight", path)
    assert marked(out[0]) == ["互动习惯"]
    assert "".join(p["text"] for p in out[0]) == cases[0]["text"]
    assert marked(out[1]) == ["recommend", "recommendations"]
    assert marked(out[2]) == ["0299"]
    assert marked(out[3]) == ["AI特效"]
    assert marked(out[4]) == ["推荐"] and out[4][0]["text"] == "<b>x</b> "
    assert out[5] == []


def test_url_state_round_trip(tmp_path: Path) -> None:
    queries = [
        "?q=AI%E7%89%B9%E6%95%88&category=generation_synthesis&category=personalized_push",
        "?q=0299&provider=liuguang-video&status=filed&role=service_provider&opinion=yes",
        "",
        "?unknown=1&q=",
    ]
    path = tmp_path / "state.json"
    path.write_text(json.dumps(queries), encoding="utf-8")
    out = node("state", path)
    assert out[0]["state"]["q"] == "AI特效"
    assert out[0]["state"]["filters"]["category"] == ["generation_synthesis", "personalized_push"]
    assert out[0]["again"] == queries[0]
    assert out[1]["again"] == queries[1]
    assert out[2]["again"] == "" and out[3]["again"] == ""


def test_filing_number_wrapper_is_dropped_from_queries(tmp_path: Path) -> None:
    queries = [
        "网信算备110108526018150220299号",
        "备案号 网信算备110108526018150220299号",
        "2024年",
        "第12号",  # fewer than four digits: unchanged
        "AI特效 0299",
        "ABC1234号",  # not only Chinese around the digits: unchanged
    ]
    path = tmp_path / "normalise.json"
    path.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    out = node("normalise", path)
    assert [" ".join(q.split()) for q in out] == [
        "110108526018150220299",
        "备案号 110108526018150220299",
        "2024",
        "第12号",
        "AI特效 0299",
        "ABC1234号",
    ]
    assert search.number_text("网信算备110108526018150220299号") == "110108526018150220299"


def test_loading_in_slices_gives_the_same_engine(sample_site: Path, tmp_path: Path) -> None:
    path = tmp_path / "queries.json"
    path.write_text(json.dumps(["推荐", "AI特效", "0299", "Liuguang"]), encoding="utf-8")
    out = node("slices", index_file(sample_site, "zh"), path)
    assert out == {"same": [True, True, True, True], "indexDropped": True}


def test_deleted_disclosures_are_marked(tmp_path: Path) -> None:
    reg = load_registry(SAMPLES, Report())
    assert reg is not None
    gone = reg.disclosures[0]
    reg.disclosures[0] = dataclasses.replace(
        gone, ended=Ending(commit="0" * 40, date=dt.datetime(2026, 1, 1), last_path="x.yaml")
    )
    assert search.status_of(reg.disclosures[0]) == "deleted"
    assert search.status_of(reg.disclosures[1]) == str(reg.disclosures[1].algorithm.filing.status)
    store = search.document_store(reg, Theme(), Urls(reg.languages), "en")
    row = store["docs"][0]
    assert store["statuses"][row[3]] == "deleted"
    assert store["labels"]["status"][row[3]] == "Removed"


def test_missing_chromium_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    import browser

    monkeypatch.setattr(browser, "chromium_executable", lambda: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium"), browser.launch_chromium():
        pass
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="chromium"), browser.launch_chromium():
        pass
