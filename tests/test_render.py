"""The built site, read through an HTML parser: links, complaint channels, languages, safety."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from htmlcheck import html_files, internal_links, resolve, soup

from sitegen import sitemap as sitemap_module
from sitegen.cache import Cache
from sitegen.pipeline import build_site

SAMPLES = Path(__file__).resolve().parents[1] / "disclosures"


def test_every_internal_link_and_anchor_resolves(sample_site: Path) -> None:
    broken = []
    for page in html_files(sample_site):
        for href, fragment in internal_links(page):
            target = resolve(sample_site, page, href)
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(sample_site)} -> {href}")
                continue
            if fragment and target.suffix == ".html":
                ids = {t.get("id") for t in soup(target).find_all(id=True)}
                if fragment not in ids:
                    broken.append(f"{page.relative_to(sample_site)} -> {href} (no #{fragment})")
    assert broken == []


def test_no_inline_script_or_style_and_a_strict_csp(sample_site: Path) -> None:
    for page in html_files(sample_site):
        doc = soup(page)
        for script in doc.find_all("script"):
            assert script.get("src"), f"inline script in {page}"
            assert not script.string
        assert doc.find_all("style") == [], page
        assert doc.find_all(style=True) == [], page
        for tag in doc.find_all(True):
            assert not any(a.startswith("on") for a in tag.attrs), (page, tag.name)
        csp = doc.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
        assert csp is not None, page
        policy = csp["content"]
        assert "unsafe-inline" not in policy and "default-src 'none'" in policy


def test_no_reference_to_another_host_except_in_links(sample_site: Path) -> None:
    for page in html_files(sample_site):
        doc = soup(page)
        for tag in doc.find_all(src=True):
            assert "://" not in tag["src"] and not tag["src"].startswith("//"), page
        for tag in doc.find_all("link", href=True):
            if tag.get("rel") and "stylesheet" in tag["rel"]:
                assert "://" not in tag["href"], page


def test_disclosure_pages_show_working_complaint_links(sample_site: Path) -> None:
    registry = json.loads((sample_site / "api/registry.json").read_text("utf-8"))
    assert len(registry["disclosures"]) >= 20
    for record in registry["disclosures"]:
        for prefix in ("", "en/"):
            page = sample_site / prefix / record["url"] / "index.html"
            section = soup(page).find("section", class_="complaints")
            assert section is not None, page
            hrefs = [a["href"] for a in section.find_all("a", href=True)]
            for channel in record["complaint_channels"]:
                if channel["kind"] == "web":
                    assert channel["target"] in hrefs
                elif channel["kind"] == "email":
                    assert f"mailto:{channel['target']}" in hrefs
                elif channel["kind"] == "phone":
                    digits = channel["target"].replace(" ", "").replace("-", "")
                    assert f"tel:{digits}" in hrefs
                else:
                    assert channel["target"] in section.get_text()
            # The regulator's channels and the inaccuracy report sit beside the provider's.
            assert "tel:12377" in hrefs
            assert any("feedback" in h and record["id"] in h for h in hrefs)


def test_languages_and_switch(sample_site: Path) -> None:
    zh = soup(sample_site / "index.html")
    en = soup(sample_site / "en/index.html")
    assert zh.html["lang"] == "zh" and en.html["lang"] == "en"
    switch = en.find("nav", class_="languages")
    assert switch.find("a", hreflang="zh")["href"] == "../index.html"
    assert zh.find("nav", class_="languages").find("a", hreflang="en")["href"] == "en/index.html"


def test_every_page_frame_leads_to_the_sections_and_marks_the_current_one(
    sample_site: Path,
) -> None:
    """The navigation, the brand, the stylesheet and the open-data links are made for each
    page: from every depth they reach the same files, in the page's language, and only a
    section's own page is marked as current."""
    sections = ["", "providers/", "filings/", "changes/", "search/", "about/"]
    labels = {
        "zh": ["首页", "服务提供者", "备案公示", "变更记录", "搜索", "关于"],
        "en": ["Home", "Providers", "Filings", "Changes", "Search", "About"],
    }
    checked = 0
    for path in html_files(sample_site):
        doc = soup(path)
        nav = doc.find("nav", class_="main-nav")
        if nav is None or path.name == "404.html":  # 404: links from the site's root
            continue
        lang = doc.html["lang"]
        root = sample_site if lang == "zh" else sample_site / lang
        links = nav.find_all("a")
        assert [a.get_text() for a in links] == labels[lang], path
        targets = [resolve(sample_site, path, a["href"]) for a in links]
        assert targets == [root / f"{section}index.html" for section in sections], path
        current = [t for a, t in zip(links, targets, strict=True) if a.get("aria-current")]
        own = path.relative_to(root).as_posix() in {f"{s}index.html" for s in sections}
        assert current == ([path] if own else []), path
        brand = doc.find("a", class_="brand")["href"]
        assert resolve(sample_site, path, brand) == root / "index.html"
        stylesheet = doc.find("link", rel="stylesheet")["href"]
        assert resolve(sample_site, path, stylesheet) == sample_site / "static/css/site.css"
        footer = doc.find("footer", class_="site-footer").find_all("a")
        assert [resolve(sample_site, path, a["href"]) for a in footer] == [
            sample_site / "api/registry.json",
            sample_site / "api/registry.csv",
        ]
        checked += 1
    assert checked > 150


def test_untranslated_text_is_marked(tmp_path: Path, mini: Path) -> None:
    out = tmp_path / "site"
    build_site(mini, out)
    page = soup(out / "en/algorithms/acme/feed/index.html")
    mechanism = page.find("section", attrs={"aria-labelledby": "mechanism"})
    prose = mechanism.find("div", class_="prose")
    assert prose["lang"] == "zh"
    assert "仅中文的运行机制说明" in prose.get_text()
    assert mechanism.find(class_="untranslated").get_text() == "not translated"
    # In Chinese the same text is simply the text.
    zh = soup(out / "algorithms/acme/feed/index.html")
    assert (
        zh.find("section", attrs={"aria-labelledby": "mechanism"}).find(class_="untranslated")
        is None
    )


def test_filing_permalink_leads_to_the_disclosure(tmp_path: Path, mini: Path) -> None:
    out = tmp_path / "site"
    build_site(mini, out)
    page = out / "f/网信算备110108000000000000001号/index.html"
    doc = soup(page)
    refresh = doc.find("meta", attrs={"http-equiv": "refresh"})["content"]
    target = refresh.split("url=", 1)[1]
    assert resolve(out, page, target) == (out / "algorithms/acme/feed/index.html").resolve()
    # Pending filings have no number and so no permalink.
    assert sorted(p.name for p in (out / "f").iterdir()) == ["网信算备110108000000000000001号"]


def test_headings_are_in_order(sample_site: Path) -> None:
    for page in html_files(sample_site):
        levels = [int(h.name[1]) for h in soup(page).find_all(["h1", "h2", "h3", "h4", "h5", "h6"])]
        assert levels and levels[0] == 1, page
        assert levels.count(1) == 1, page
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (page, levels)


def test_pages_for_every_provider_category_and_language(sample_site: Path) -> None:
    registry = json.loads((sample_site / "api/registry.json").read_text("utf-8"))
    for prefix in ("", "en/"):
        for provider in registry["providers"]:
            assert (sample_site / prefix / "providers" / provider["id"] / "index.html").exists()
        for category in (
            "generation_synthesis",
            "personalized_push",
            "sorting_selection",
            "search_filtering",
            "scheduling_decision",
        ):
            page = sample_site / prefix / "categories" / category / "index.html"
            assert len(soup(page).select("ul.cards > li")) >= 1
        for name in (
            "index.html",
            "about/index.html",
            "filings/index.html",
            "providers/index.html",
        ):
            assert (sample_site / prefix / name).exists()
    for name in ("404.html", "sitemap.xml", "robots.txt", "api/registry.csv"):
        assert (sample_site / name).exists()


def sitemap_urls(site: Path, base: str) -> list[str]:
    """Every address the sitemaps list, through the index, as a crawler reads them."""
    names = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ET.parse(site / "sitemap.xml").getroot()
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    urls: list[str] = []
    for loc in index.findall("s:sitemap/s:loc", names):
        assert loc.text is not None and loc.text.startswith(base)
        sitemap = ET.parse(site / loc.text.removeprefix(base)).getroot()
        found = [url.text or "" for url in sitemap.findall("s:url/s:loc", names)]
        assert len(found) <= sitemap_module.MAX_URLS  # as the test may have lowered it
        urls += found
    return urls


def site_pages(site: Path, base: str) -> list[str]:
    """The public address of every page a sitemap should list: all but the not-found page
    and the permanent ``f/`` addresses, which lead to a disclosure's page."""
    paths = (p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    return sorted(
        base + path.removesuffix("index.html")
        for path in paths
        if path != "404.html" and not path.startswith("f/")
    )


def test_sitemaps_list_every_page_once(sample_site: Path) -> None:
    base = "https://algorithms.example.org/"  # the samples' base_url
    listed = sitemap_urls(sample_site, base)
    assert len(set(listed)) == len(listed)
    assert sorted(listed) == site_pages(sample_site, base)
    # One sitemap for the registry's own pages, one per provider.
    providers = {p.parent.name for p in SAMPLES.glob("*/provider.yaml")}
    assert {p.stem for p in (sample_site / "sitemaps/providers").glob("*.xml")} == providers


def test_a_provider_past_the_limit_gets_several_sitemaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sitemap_module, "MAX_URLS", 5)
    site = tmp_path / "site"
    build_site(SAMPLES, site, cache=Cache(None))
    base = "https://algorithms.example.org/"
    listed = sitemap_urls(site, base)
    assert sorted(listed) == site_pages(site, base) and len(set(listed)) == len(listed)
    assert len(list((site / "sitemaps/providers").glob("*.2.xml"))) >= 1


def test_filing_list_is_complete_and_ordered(sample_site: Path) -> None:
    registry = json.loads((sample_site / "api/registry.json").read_text("utf-8"))
    rows = soup(sample_site / "en/filings/index.html").select("table tbody tr")
    assert len(rows) == len(registry["disclosures"])
    numbers = [r.find("td").get_text(strip=True) for r in rows]
    filed = [n for n in numbers if n != "—"]
    assert filed == sorted(filed)
    assert numbers[: len(filed)] == filed  # pending ones follow


def test_404_links_work_from_any_depth(sample_site: Path) -> None:
    doc = soup(sample_site / "404.html")
    hrefs = [a["href"] for a in doc.find_all("a", href=True)]
    assert "/" in hrefs and "/en/" in hrefs  # base_url path is "/" in the samples
    assert all(h.startswith("/") or h.startswith("#") for h in hrefs)
