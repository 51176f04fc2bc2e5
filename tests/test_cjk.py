"""CJK search: shared vectors through sitegen/cjk.py and cjk.js; a lunr.py -> lunr.js round trip.

The browser side runs in Node (tests/js/run_cjk_vectors.js). Node is required, not optional:
without it the half of the search that users actually run would go untested.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import lunr  # type: ignore[import-untyped, unused-ignore]
import nodejs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lunr.pipeline import Pipeline  # type: ignore[import-untyped, unused-ignore]
from lunr.token import Token  # type: ignore[import-untyped, unused-ignore]

from sitegen.cjk import (
    cjk_split,
    new_builder,
    run_query,
    serialize_index,
    split_text,
    split_token,
    tokenize_query,
)

ROOT = Path(__file__).resolve().parent.parent
VECTORS_FILE = ROOT / "tests" / "data" / "cjk_vectors.json"
RUNNER = ROOT / "tests" / "js" / "run_cjk_vectors.js"
VENDOR_DIR = ROOT / "themes" / "default" / "static" / "vendor" / "lunr"

VECTORS: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
SPLIT = VECTORS["split"]
QUERY = VECTORS["query"]


def run_node(*args: str | Path) -> Any:
    return nodejs.run_node(RUNNER, *args)


@cache
def js_vectors() -> Any:
    return run_node("vectors", VECTORS_FILE)


# --- the vectors themselves -------------------------------------------------------------------


def test_vector_table_covers_the_cases() -> None:
    assert len(SPLIT) + len(QUERY) >= 25
    inputs = [v["in"] for v in SPLIT]
    for needed in (
        "",
        "AI特效",
        "AI 特效",
        "𠮷",
        "state-of-the-art",
        "网信算备110108823483901230011号",
    ):
        assert needed in inputs
    assert any(v["out"] == [] and v["in"].strip() for v in SPLIT)  # only punctuation / emoji
    assert any(v["out"] == [] for v in QUERY)


# --- (a) Python side --------------------------------------------------------------------------


@pytest.mark.parametrize("vector", SPLIT, ids=lambda v: repr(v["in"]))
def test_split_python(vector: dict[str, Any]) -> None:
    assert split_text(vector["in"]) == vector["out"]


@pytest.mark.parametrize("vector", QUERY, ids=lambda v: repr(v["in"]))
def test_query_python(vector: dict[str, Any]) -> None:
    assert tokenize_query(vector["in"]) == vector["out"]


def test_cjk_split_in_a_lunr_pipeline_keeps_metadata() -> None:
    pipeline = Pipeline.load(["cjkSplit"])
    for vector in SPLIT:
        tokens = lunr.tokenizer.Tokenizer(vector["in"])
        assert [str(t) for t in pipeline.run(tokens)] == vector["out"]
    metadata = {"position": [3, 4], "index": 1}
    out = cjk_split(Token("AI特效", metadata))
    assert [(str(t), t.metadata) for t in out] == [("ai", metadata), ("特效", metadata)]


@pytest.mark.parametrize("vector", SPLIT, ids=lambda v: repr(v["in"]))
def test_cjk_split_is_idempotent_on_vectors(vector: dict[str, Any]) -> None:
    for term in vector["out"]:
        assert [str(t) for t in cjk_split(Token(term, {}))] == [term]


@given(st.text())
def test_cjk_split_is_idempotent(text: str) -> None:
    for term in split_text(text):
        assert split_token(term) == [term]


# --- (b) the same vectors through cjk.js in Node -------------------------------------------------


@pytest.mark.parametrize("i", range(len(SPLIT)), ids=lambda i: repr(SPLIT[i]["in"]))
def test_split_js(i: int) -> None:
    js = js_vectors()
    assert js["split"][i] == SPLIT[i]["out"]
    assert js["pipeline"][i] == SPLIT[i]["out"]
    assert js["idempotent"][i] == [[t] for t in SPLIT[i]["out"]]


@pytest.mark.parametrize("i", range(len(QUERY)), ids=lambda i: repr(QUERY[i]["in"]))
def test_query_js(i: int) -> None:
    assert js_vectors()["query"][i] == QUERY[i]["out"]


def test_cjk_split_js_keeps_metadata() -> None:
    metadata = {"position": [3, 4], "index": 1}
    assert js_vectors()["metadata"] == [["ai", metadata], ["特效", metadata]]


def test_every_assigned_character_splits_alike(tmp_path: Path) -> None:
    """Python's unicodedata and Node's ICU agree on every character Python knows.

    Characters newer than Python's Unicode version are left out: Node may know them.
    """
    strings: list[str] = []
    for cp in range(0x110000):
        char = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or unicodedata.category(char) == "Cn":
            continue
        strings += [char, f"x{char}中"]  # alone, and inside a word run next to a CJK run
    path = tmp_path / "strings.json"
    path.write_text(json.dumps(strings), encoding="utf-8")
    js = run_node("split", path)
    mismatches = [
        (s, py, j)
        for s, py, j in zip(strings, map(split_token, strings), js, strict=True)
        if py != j
    ]
    assert not mismatches, mismatches[:20]


# --- (c) round trip: index built by lunr.py, queried by lunr.js ---------------------------------

DOCS = [
    {
        "r": "douyin",
        "title": "抖音推荐算法",
        "body": "我们根据用户的观看时长和互动行为进行个性化推荐。We rank videos by watch time.",
    },
    {
        "r": "camera",
        "title": "AI特效相机",
        "body": "为照片添加生成式特效。Adds generative effects to photos.",
    },
    {
        "r": "filing",
        "title": "深度合成服务算法",
        "body": "备案编号：网信算备110108823483901230011号",
    },
    {
        "r": "news",
        "title": "News feed ranking 新闻排序",
        "body": "Articles are recommended based on reading history.",
    },
    {
        "r": "names",
        "title": "山﨑先生 𠮷野家 店铺推荐",
        "body": "Store suggestions by distance 距离。",
    },
]

EXPECTED: dict[str, set[str]] = {
    "观看时长": {"douyin"},
    "推荐": {"douyin", "names"},
    "时长": {"douyin"},
    "个性化": {"douyin"},
    "AI特效": {"camera"},
    "AI 特效": {"camera"},
    "ＡＩ特效": {"camera"},
    "特": {"camera"},
    "网信算备110108823483901230011号": {"filing"},
    "110108823483901230011": {"filing"},
    "0011": {"filing"},
    "0012": set(),
    "recommendations": {"news"},
    "算法": {"douyin", "filing"},
    "推算": set(),  # 推 and 算 each occur, the word does not
    "相机特效": set(),  # both bigrams occur, 机特 does not
    "the": set(),
    "ranking 新闻": {"news"},
    "watch 推荐": {"douyin"},
    "山﨑": {"names"},
    "𠮷野家": {"names"},
    "𠮷": {"names"},
}


def build_index() -> Any:
    builder = new_builder([("title", 10.0), ("body", 1.0)])
    for doc in DOCS:
        builder.add(doc)
    return builder.build()


def test_builder_configuration() -> None:
    builder = new_builder([("title", 10.0), ("body", 1.0)])
    assert builder._ref == "r"
    assert {n: f.boost for n, f in builder._fields.items()} == {"title": 10.0, "body": 1.0}
    assert builder.pipeline.serialize() == ["cjkSplit", "stopWordFilter", "stemmer"]
    assert builder.search_pipeline.serialize() == ["cjkSplit", "stemmer"]
    assert build_index().serialize()["pipeline"] == ["cjkSplit", "stemmer"]


def test_serialize_index_sorts_terms_for_lunr_js() -> None:
    index = build_index()
    plain = [term for term, _ in index.serialize()["invertedIndex"]]
    fixed = [term for term, _ in serialize_index(index)["invertedIndex"]]
    utf16 = sorted(plain, key=lambda t: t.encode("utf-16-be"))
    assert fixed == utf16
    assert plain != utf16  # 﨑 (U+FA11) sorts after 𠮷 (U+20BB7) in lunr.py, before it in JS


def test_every_clause_is_one_search_term() -> None:
    """A clause the search pipeline expands to several terms ORs them, and lunr.py 0.8.0 then
    also loses earlier REQUIRED clauses when a later term misses (lunr.js does not)."""
    pipeline = build_index().pipeline
    for vector in QUERY:
        for clause in vector["out"]:
            if clause["use_pipeline"]:
                assert len(pipeline.run_string(clause["term"])) == 1, clause


def python_results(index: Any, query: str) -> dict[str, float]:
    return {r["ref"]: r["score"] for r in run_query(index, tokenize_query(query))}


def test_python_search_finds_expected_documents() -> None:
    index = build_index()
    for query, refs in EXPECTED.items():
        assert set(python_results(index, query)) == refs, query


def test_lunr_js_loads_the_index_and_agrees(tmp_path: Path) -> None:
    index = build_index()
    index_file = tmp_path / "index.json"
    index_file.write_text(json.dumps(serialize_index(index)), encoding="utf-8")
    queries_file = tmp_path / "queries.json"
    queries_file.write_text(json.dumps(list(EXPECTED)), encoding="utf-8")
    js = run_node("search", index_file, queries_file)
    assert [r["query"] for r in js] == list(EXPECTED)
    for row in js:
        query = row["query"]
        assert row["clauses"] == tokenize_query(query), query
        js_scores = {ref: score for ref, score in row["results"]}
        assert set(js_scores) == EXPECTED[query], query
        assert js_scores == pytest.approx(python_results(index, query)), query
        ranked = [ref for ref, _ in row["results"]]
        assert ranked == sorted(ranked, key=lambda ref: -js_scores[ref]), query


def test_exact_number_ranks_above_a_substring_match() -> None:
    builder = new_builder([("body", 1.0)])
    builder.add({"r": "exact", "body": "编号 0011"})
    builder.add({"r": "inside", "body": "编号 9900112"})
    results = run_query(builder.build(), tokenize_query("0011"))
    assert [r["ref"] for r in results] == ["exact", "inside"]


# --- (d) the vendored lunr.js ----------------------------------------------------------------


def test_vendored_lunr_js_is_the_pinned_release() -> None:
    meta = json.loads((VENDOR_DIR / "VENDOR.json").read_text(encoding="utf-8"))
    data = (VENDOR_DIR / "lunr.js").read_bytes()
    assert meta["name"] == "lunr"
    assert meta["version"] == "2.3.9"
    assert meta["license"] == "MIT"
    assert hashlib.sha256(data).hexdigest() == meta["sha256"]
    header = data[:200].decode("utf-8")
    assert header.startswith("/**\n * lunr - http://lunrjs.com")
    assert "- 2.3.9\n" in header
    assert b'lunr.version = "2.3.9"' in data
    assert "Oliver Nightingale" in (VENDOR_DIR / "LICENSE").read_text(encoding="utf-8")
    # lunr.py must write indexes for exactly this lunr.js.
    assert meta["version"] == lunr.__TARGET_JS_VERSION__
