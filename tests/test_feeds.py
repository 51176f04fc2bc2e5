"""Atom feeds of changes, read back with feedparser: valid, stable ids, dates from git."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from gitrepo import Repo
from htmlcheck import soup

from sitegen.pipeline import build_site

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def site(history_site: Path) -> Path:
    return history_site


def parse(path: Path) -> feedparser.FeedParserDict:
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_registry_feed(site: Path) -> None:
    feed = parse(site / "en/feeds/changes.xml")
    assert feed.feed.title == "Test Registry: all changes"
    assert feed.feed.id == "https://registry.example.org/en/feeds/changes.xml"
    assert feed.feed.updated == "2025-09-01T10:00:00Z"  # the newest commit, not the build time
    assert feed.feed.language == "en"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {
        "self": "https://registry.example.org/en/feeds/changes.xml",
        "alternate": "https://registry.example.org/en/changes/",
    }
    ids = [e.id for e in feed.entries]
    assert ids[:5] == [
        "tag:registry.example.org,2025-09-01:acme/feed/v6",
        "tag:registry.example.org,2025-08-01:beta/picker/v2",
        "tag:registry.example.org,2025-07-01:acme/legacy/deleted",
        "tag:registry.example.org,2025-07-01:gamma/tagger/deleted",
        "tag:registry.example.org,2025-06-01:acme/search-ranker/v2",
    ]
    assert len(ids) == len(set(ids)) == 14
    first = feed.entries[0]
    assert first.title == "Acme feed recommendation: Changed (version 6)"
    assert first.updated == "2025-09-01T10:00:00Z"
    assert first.link == "https://registry.example.org/en/algorithms/acme/feed/history/#v6"
    assert {t.term for t in first.tags} == {"editorial", "changed"}
    withdrawn = feed.entries[1]
    assert withdrawn.title == "Beta picker: Withdrawn (version 2)"
    assert {t.term for t in withdrawn.tags} == {"substantive", "withdrawn"}
    assert "The algorithm is no longer used." in withdrawn.content[0].value
    deleted = feed.entries[2]
    assert deleted.title == "Acme legacy ranking: removed from the registry"
    assert "product discontinued" in deleted.content[0].value


def test_entry_content_shows_the_field_changes(site: Path) -> None:
    feed = parse(site / "en/feeds/acme/feed/changes.xml")
    v2 = next(e for e in feed.entries if e.id.endswith("acme/feed/v2"))
    html = soup_text(v2.content[0].value)
    assert "Optimisation objectives › Watch time › Weight (Changed, Substantive): 0.6 → 0.5" in html
    assert v2.content[0].type == "text/html"


def soup_text(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text()


def test_provider_and_disclosure_feeds(site: Path) -> None:
    acme = parse(site / "feeds/acme/changes.xml")
    assert acme.feed.language == "zh"
    assert acme.feed.title == "示例科技有限公司：算法披露变更"
    keys = {e.id.split(":", 2)[2].rsplit("/", 1)[0] for e in acme.entries}
    assert keys == {"acme/feed", "acme/legacy", "acme/search-ranker"}
    beta = parse(site / "en/feeds/beta/changes.xml")
    assert [e.id for e in beta.entries] == [
        "tag:registry.example.org,2025-08-01:beta/picker/v2",
        "tag:registry.example.org,2025-01-10:beta/picker/v1",
    ]
    one = parse(site / "en/feeds/acme/feed/changes.xml")
    assert [e.id.rsplit("/", 1)[1] for e in one.entries] == ["v6", "v5", "v4", "v3", "v2", "v1"]
    assert one.feed.updated == "2025-09-01T10:00:00Z"
    # Deleted disclosures and providers keep their feeds.
    gone = parse(site / "en/feeds/gamma/tagger/changes.xml")
    assert [e.id.rsplit("/", 1)[1] for e in gone.entries] == ["deleted", "v1"]


def test_zh_and_en_feeds_share_entry_ids(site: Path) -> None:
    zh = [e.id for e in parse(site / "feeds/changes.xml").entries]
    en = [e.id for e in parse(site / "en/feeds/changes.xml").entries]
    assert zh == en


def test_pages_advertise_their_feeds(site: Path) -> None:
    def feeds(page: str) -> list[tuple[str, str]]:
        links = soup(site / page).find_all("link", rel="alternate", type="application/atom+xml")
        return [(link["href"], link["title"]) for link in links]

    assert feeds("en/index.html") == [("feeds/changes.xml", "Follow all changes (Atom feed)")]
    assert feeds("en/providers/beta/index.html") == [
        ("../../feeds/changes.xml", "Follow all changes (Atom feed)"),
        ("../../feeds/beta/changes.xml", "Beta Ltd: changes to its disclosures"),
    ]
    history = feeds("algorithms/beta/picker/history/index.html")
    assert [href for href, _ in history] == [
        "../../../../feeds/changes.xml",
        "../../../../feeds/beta/picker/changes.xml",
        "../../../../feeds/beta/changes.xml",
    ]
    for href, _ in history:
        assert (site / "algorithms/beta/picker/history" / href).resolve().is_file()


def test_hostile_text_is_escaped(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    shutil.copytree(Path(__file__).parent / "fixtures/mini", repo.path("disclosures"))
    repo.commit("<b>Initial</b>", "2025-01-01T00:00:00Z")
    repo.replace(
        "disclosures/acme/feed.yaml",
        "last_reviewed: 2026-06-01",
        "last_reviewed: 2026-06-01\n"
        "change_note: {zh: 变更。, en: '<script>alert(1)</script> & ]]> <![CDATA[x'}",
    )
    repo.commit("Note", "2025-02-01T00:00:00Z")
    build_site(repo.path("disclosures"), tmp_path / "_site")
    path = tmp_path / "_site/en/feeds/acme/feed/changes.xml"
    root = ET.parse(path).getroot()  # well-formed XML
    content = root.find(f"{ATOM}entry/{ATOM}content")
    assert content is not None and content.get("type") == "html"
    html = content.text or ""
    # The entry's HTML shows the note as text: no element came from the disclosure.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; ]]&gt; &lt;![CDATA[x" in html
    assert "<script" not in html
    feed = parse(path)
    assert "<script" not in feed.entries[0].content[0].value


def test_feeds_without_history_are_still_valid(tmp_path: Path) -> None:
    source = tmp_path / "disclosures"
    shutil.copytree(Path(__file__).parent / "fixtures/mini", source)
    build_site(source, tmp_path / "_site")
    feed = parse(tmp_path / "_site/en/feeds/changes.xml")
    assert feed.entries == []
    assert feed.feed.updated == "2026-06-01T00:00:00Z"  # the latest last_reviewed date
