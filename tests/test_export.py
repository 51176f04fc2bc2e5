"""Open data: the JSON snapshot, per-disclosure JSON and the CSV a spreadsheet user opens."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sitegen.cache import Cache
from sitegen.export import CSV_COLUMNS
from sitegen.pipeline import build_site


def test_registry_json_snapshot(tmp_path: Path, mini: Path) -> None:
    out = tmp_path / "site"
    build_site(mini, out)
    data = json.loads((out / "api/registry.json").read_text("utf-8"))
    assert data["format_version"] == 1
    assert [p["id"] for p in data["providers"]] == ["acme"]
    feed = data["disclosures"][0]
    assert feed["key"] == "acme/feed"
    assert feed["url"] == "algorithms/acme/feed/"
    assert (out / feed["url"] / "index.html").exists()
    assert feed["filing"] == {
        "status": "filed",
        "number": "网信算备110108000000000000001号",
        "date": "2024-03-01",
    }
    assert feed["optimization_objectives"][0]["weight"] == 0.6
    assert feed["mechanism"] == {"zh": "仅中文的运行机制说明。\n"}
    # Keys keep the format's field order, so two snapshots diff line by line.
    keys = list(feed)
    assert keys.index("name") < keys.index("summary") < keys.index("category")
    single = json.loads((out / "api/disclosures/acme/feed.json").read_text("utf-8"))
    assert single == feed


def test_csv_is_utf8_with_bom_and_one_row_per_disclosure(tmp_path: Path, mini: Path) -> None:
    out = tmp_path / "site"
    build_site(mini, out)
    raw = (out / "api/registry.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == CSV_COLUMNS
    assert len(rows) == 3
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["name"] == "示例推荐算法 / Acme feed recommendation"
    assert record["filing_number"] == "网信算备110108000000000000001号"
    assert record["url"] == "algorithms/acme/feed/"


def test_csv_defuses_formulas(tmp_path: Path, mini: Path) -> None:
    path = mini / "acme/feed.yaml"
    text = path.read_text("utf-8").replace(
        "name: {zh: 示例推荐算法, en: Acme feed recommendation}",
        'name: {zh: "=HYPERLINK(\\"https://evil.example\\")"}',
    )
    path.write_text(text, "utf-8")
    out = tmp_path / "site"
    build_site(mini, out)
    rows = list(csv.DictReader(io.StringIO((out / "api/registry.csv").read_text("utf-8-sig"))))
    assert rows[0]["name"].startswith("'=HYPERLINK")


def test_csv_quotes_commas_quotes_and_line_breaks_the_same_from_the_cache(
    tmp_path: Path, mini: Path
) -> None:
    """Each disclosure's CSV line is kept between builds: a cell with a comma, a quote and
    a line break is quoted as a spreadsheet expects, and a rebuild from the kept lines
    writes the same bytes as a build without a cache."""
    path = mini / "acme/feed.yaml"
    text = path.read_text("utf-8").replace(
        "name: {zh: 示例推荐算法, en: Acme feed recommendation}",
        'name: {zh: "推荐，\\"精选\\"", en: "Feed, \\"picked\\"\\nfor you"}',
    )
    path.write_text(text, "utf-8")
    build_site(mini, tmp_path / "one", cache=Cache.open(tmp_path / "cache"))
    again = Cache.open(tmp_path / "cache")  # a build closes its store
    build_site(mini, tmp_path / "two", cache=again)
    assert again.hits > 0  # found what the first build kept
    build_site(mini, tmp_path / "three", cache=Cache(None))
    raw = (tmp_path / "two/api/registry.csv").read_bytes()
    assert raw == (tmp_path / "three/api/registry.csv").read_bytes()
    # Quoted, each quote doubled.
    assert '"推荐，""精选"" / Feed, ""picked""\nfor you"'.encode() in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0]["name"] == '推荐，"精选" / Feed, "picked"\nfor you'
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == 3


def test_sample_registry_covers_the_format(sample_site: Path) -> None:
    data = json.loads((sample_site / "api/registry.json").read_text("utf-8"))
    disclosures = data["disclosures"]
    assert len(data["providers"]) >= 8 and len(disclosures) >= 20
    assert {d["category"] for d in disclosures} == {
        "generation_synthesis",
        "personalized_push",
        "sorting_selection",
        "search_filtering",
        "scheduling_decision",
    }
    assert {d["role"] for d in disclosures} == {"service_provider", "technical_supporter"}
    assert {d["filing"]["status"] for d in disclosures} == {"pending", "filed", "withdrawn"}
    assert all(set(d["name"]) == {"zh", "en"} for d in disclosures)
