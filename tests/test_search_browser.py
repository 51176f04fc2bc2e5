"""Search in headless Chromium against the built sample site served on 127.0.0.1.

Every test ends with ``assert_clean``: no console error or warning (a CSP violation is one), no
failed request, and no request to any host but the local server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from browser import Watched, launch_chromium, serve_site

pytestmark = pytest.mark.browser

RESULT = "#search-results li.result"
TIMEOUT = 15_000


@pytest.fixture(scope="session")
def served(sample_site: Path) -> Iterator[str]:
    with serve_site(sample_site) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Playwright's sync API allows one instance at a time, so one browser per module.
    with launch_chromium() as launched:
        yield launched


@pytest.fixture
def watched(browser: Any, served: str) -> Iterator[Watched]:
    page = Watched(browser, served)
    yield page
    try:
        page.assert_clean()
    finally:
        page.close()


def results(w: Watched) -> list[dict[str, str]]:
    w.page.wait_for_selector(RESULT, timeout=TIMEOUT)
    rows: list[dict[str, str]] = w.page.eval_on_selector_all(
        RESULT,
        """items => items.map(li => ({
            href: li.querySelector('h3 a').getAttribute('href'),
            title: li.querySelector('h3').textContent,
            meta: li.querySelector('.meta').textContent,
            marks: Array.from(li.querySelectorAll('mark')).map(m => m.textContent).join('|'),
            inactive: li.classList.contains('inactive') ? 'yes' : 'no',
        }))""",
    )
    return rows


def keys(rows: list[dict[str, str]]) -> list[str]:
    return [row["href"].split("algorithms/", 1)[1].removesuffix("/index.html") for row in rows]


def status(w: Watched) -> str:
    text: str = w.page.inner_text("#search-status")
    return text.strip()


def wait_status(w: Watched, text: str) -> None:
    w.page.wait_for_function(
        "t => document.getElementById('search-status').textContent.trim() === t",
        arg=text,
        timeout=TIMEOUT,
    )


def query_of(w: Watched) -> dict[str, list[str]]:
    return parse_qs(urlsplit(w.page.url).query)


def index_requests(w: Watched) -> list[str]:
    return [url for url in w.requests if "/search/index." in url and url.endswith(".json")]


def type_query(w: Watched, text: str) -> None:
    w.page.fill("#search-q", text)  # fires "input", as typing does


def test_index_loads_only_when_a_search_starts(watched: Watched) -> None:
    watched.goto("en/search/index.html")
    watched.page.wait_for_load_state("load")
    assert watched.page.eval_on_selector("#search", "el => el.className") == "search js"
    assert index_requests(watched) == []
    watched.page.focus("#search-q")
    watched.page.wait_for_function("() => !document.getElementById('search').ariaBusy")
    assert [urlsplit(u).path for u in index_requests(watched)] == ["/en/search/index.en.json"]
    assert status(watched) == ""  # nothing typed yet: nothing to announce


def test_english_phrase(watched: Watched) -> None:
    watched.goto("en/search/index.html")
    watched.page.click("#search-q")
    type_query(watched, "Liuguang Camera")
    rows = results(watched)
    assert keys(rows)[0] == "liuguang-video/ai-camera-effects"
    assert "Liuguang Camera" in rows[0]["title"]
    assert "Liuguang|Camera" in rows[0]["marks"]
    wait_status(watched, f"{len(rows)} result(s)")
    watched.page.wait_for_function("() => location.search.includes('q=')")
    assert query_of(watched) == {"q": ["Liuguang Camera"]}


def test_chinese_word_inside_a_sentence(watched: Watched) -> None:
    watched.goto("search/index.html")
    watched.page.click("#search-q")
    type_query(watched, "互动习惯")
    rows = results(watched)
    wait_status(watched, "找到 1 条结果")
    assert keys(results(watched)) == ["liuguang-video/video-feed"]
    snippet = watched.page.inner_html(f"{RESULT} .snippet")
    assert "<mark>互动习惯</mark>" in snippet
    assert rows[0]["title"] == "流光短视频个性化推荐算法"
    # category, provider, status and filing number are shown
    for part in (
        "北京流光视界网络科技有限公司",
        "个性化推送类",
        "已备案",
        "网信算备110108526018150220299号",
    ):
        assert part in rows[0]["meta"]


def test_mixed_query(watched: Watched) -> None:
    watched.goto("search/index.html?q=" + quote("AI特效"))
    rows = results(watched)
    assert keys(rows)[0] == "liuguang-video/ai-camera-effects"
    assert "AI特效" in rows[0]["marks"]


@pytest.mark.parametrize("number", ["网信算备110108526018150220299号", "150220299", "0299"])
def test_filing_number(watched: Watched, number: str) -> None:
    watched.goto("en/search/index.html")
    watched.page.click("#search-q")
    type_query(watched, number)
    wait_status(watched, "1 result(s)")
    rows = results(watched)
    assert keys(rows) == ["liuguang-video/video-feed"]
    highlighted = watched.page.inner_text(f"{RESULT} .filing-number mark")
    assert number.strip("网信算备号") in highlighted or highlighted in number


def test_facet_filter_narrows_and_counts(watched: Watched) -> None:
    watched.goto("search/index.html?q=" + quote("推荐"))
    before = keys(results(watched))
    assert len(before) >= 4
    box = "#search .facet[data-facet=category] input[value=personalized_push]"
    label = watched.page.inner_text(f"label[for='{watched.page.get_attribute(box, 'id')}']")
    count = int(label.rsplit("(", 1)[1].rstrip(")"))
    assert 0 < count < len(before)
    watched.page.check(box)
    wait_status(watched, f"找到 {count} 条结果")
    after = results(watched)
    assert len(after) == count
    assert all("个性化推送类" in row["meta"] for row in after)
    assert query_of(watched) == {"q": ["推荐"], "category": ["personalized_push"]}
    assert watched.page.is_checked(box)
    assert watched.page.evaluate("document.activeElement.value") == "personalized_push"
    # a provider facet on top: both filters apply
    provider = "#search .facet[data-facet=provider] input[value='qingzhou-news']"
    watched.page.check(provider)
    watched.page.wait_for_function("() => location.search.includes('provider=qingzhou-news')")
    assert all(k.startswith("qingzhou-news/") for k in keys(results(watched)))
    watched.page.click("#search-clear")
    wait_status(watched, f"找到 {len(before)} 条结果")
    assert query_of(watched) == {"q": ["推荐"]}


def test_linked_search_with_facets(watched: Watched) -> None:
    watched.goto(
        "search/index.html?q=" + quote("推荐") + "&category=personalized_push&status=filed"
    )
    rows = results(watched)
    assert rows and all("个性化推送类" in r["meta"] and "已备案" in r["meta"] for r in rows)
    assert watched.page.input_value("#search-q") == "推荐"
    assert watched.page.is_checked("#search .facet[data-facet=status] input[value=filed]")
    # a facet alone, without a query, lists what passes it
    watched.goto("en/search/index.html?status=withdrawn")
    rows = results(watched)
    assert {*keys(rows)} == {"tingfeng-music/ai-cover-voice", "xingtu-mobility/carpool-matching"}
    assert all(r["inactive"] == "yes" and "Withdrawn" in r["meta"] for r in rows)


def test_withdrawn_marked_and_last(watched: Watched) -> None:
    watched.goto("en/search/index.html?q=Tingfeng")
    rows = results(watched)
    assert [r["inactive"] for r in rows] == ["no", "yes"]
    assert keys(rows) == ["tingfeng-music/music-recommendation", "tingfeng-music/ai-cover-voice"]
    assert "Withdrawn" in rows[1]["meta"]


def test_click_through_to_the_disclosure(watched: Watched) -> None:
    watched.goto("en/search/index.html?q=0299")
    results(watched)
    watched.page.click(f"{RESULT} h3 a")
    watched.page.wait_for_url("**/en/algorithms/liuguang-video/video-feed/index.html")
    assert watched.page.inner_text("h1").strip() == "Liuguang short-video personalized feed"


def test_language_switch_keeps_the_search(watched: Watched) -> None:
    watched.goto("search/index.html")
    watched.page.click("#search-q")
    type_query(watched, "流光相机")
    assert keys(results(watched))[0] == "liuguang-video/ai-camera-effects"
    watched.page.wait_for_function("() => location.search.includes('q=')")
    watched.page.click(".languages a[hreflang=en]")
    watched.page.wait_for_url("**/en/search/index.html?q=*")
    rows = results(watched)
    assert keys(rows)[0] == "liuguang-video/ai-camera-effects"
    assert rows[0]["title"] == "Liuguang Camera AI effects generator"
    assert watched.page.input_value("#search-q") == "流光相机"


def test_header_search_box_leads_to_results(watched: Watched) -> None:
    watched.goto("en/providers/index.html")
    watched.page.fill("#header-q", "dynamic pricing")
    watched.page.press("#header-q", "Enter")
    watched.page.wait_for_url("**/en/search/index.html?q=dynamic+pricing")
    assert keys(results(watched))[0] == "xingtu-mobility/dynamic-pricing"


def test_keyboard_and_screen_reader(watched: Watched) -> None:
    watched.goto("en/search/index.html")
    page = watched.page
    assert page.get_attribute("#search-status", "aria-live") == "polite"
    assert page.eval_on_selector("#search-q", "el => el.labels[0].textContent") == (
        "Search disclosures"
    )
    page.focus("#search-q")
    page.keyboard.type("Xingtu")
    page.keyboard.press("Enter")
    rows = results(watched)
    wait_status(watched, f"{len(rows)} result(s)")
    assert page.evaluate("document.activeElement.id") == "search-q"  # typing keeps focus
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Search"
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.getAttribute('href')")
    assert first == rows[0]["href"]  # then straight to the results
    for _ in range(len(rows) + 3):  # on through the results into the facets, no trap
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "checkbox"
    legends = page.eval_on_selector_all(".facet legend", "els => els.map(e => e.textContent)")
    assert "Category" in legends and "Provider" in legends


def test_without_javascript_every_disclosure_is_browsable(browser: Any, served: str) -> None:
    w = Watched(browser, served, java_script=False)
    try:
        w.goto("en/search/index.html?q=Liuguang")
        assert w.page.is_visible("text=Full-text search needs JavaScript")
        assert not w.page.is_visible("#search-results")
        assert not w.page.is_visible("#search-status")
        links = w.page.eval_on_selector_all(
            ".browse a[href*='algorithms/']", "els => els.map(a => a.getAttribute('href'))"
        )
        assert len(set(links)) == 25 and len(links) == 50
        w.page.click(".browse a[href*='video-feed']")
        w.page.wait_for_url("**/en/algorithms/liuguang-video/video-feed/index.html")
        assert index_requests(w) == []
        w.assert_clean()
    finally:
        w.close()


def test_opened_from_disk_says_why_search_cannot_work(browser: Any, sample_site: Path) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto((sample_site / "en" / "search" / "index.html").as_uri() + "?q=Liuguang")
        page.wait_for_function(
            "() => document.getElementById('search-status').textContent.includes('file')",
            timeout=TIMEOUT,
        )
        assert "web address" in page.inner_text("#search-status")
        assert page.is_visible(".browse")  # browsing still works from disk
    finally:
        context.close()


def test_stop_words_only_say_nothing_matches(watched: Watched) -> None:
    watched.goto("en/search/index.html?q=the")
    wait_status(watched, "No disclosures match.")
    assert watched.page.eval_on_selector_all(RESULT, "els => els.length") == 0


def test_a_failed_index_download_is_reported(browser: Any, served: str) -> None:
    w = Watched(browser, served)
    try:
        w.context.route("**/index.en.json", lambda route: route.abort())
        w.goto("en/search/index.html?q=Liuguang")
        wait_status(w, "The search index could not be loaded; reload the page to try again.")
        assert w.page.is_visible(".browse")
        assert w.offsite == []
    finally:
        w.close()
