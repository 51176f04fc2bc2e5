"""What an auditor runs over the built sample site: the Nu Html Checker, axe-core at WCAG 2.1 AA
in headless Chromium, a link checker, and a strict Content-Security-Policy that the browser
enforces with no request leaving the site's own host.

Page types are discovered from the built site (every path with its ids, categories and filing
numbers replaced by placeholders), so a new kind of page is checked without editing this file.
The checkers are pinned npm packages that ``make install-test`` puts in .cache/npm/; in CI a
missing checker, Java or Chromium fails the run instead of skipping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from browser import launch_chromium, serve_site
from htmlcheck import html_files, soup

from sitegen.linkcheck import check_links
from sitegen.pipeline import build_site

ROOT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"
TOOLS = ROOT / ".cache" / "npm" / "node_modules"  # scripts/install-quality-tools.sh
VNU_JAR = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = TOOLS / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Pages every registry has; more types (search, history, changes, ...) are found in the site.
REQUIRED_TYPES = {
    "index.html",
    "algorithms/<provider>/<id>/index.html",
    "providers/<provider>/index.html",
    "providers/index.html",
    "categories/<category>/index.html",
    "filings/index.html",
}


def require(ok: bool, what: str) -> None:
    """Fail in CI (a check that silently does not run proves nothing), skip elsewhere."""
    if ok:
        return
    message = f"{what} is missing: run `make install-test`"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# -- the sites under test --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The smallest registries, whose empty lists and tables must be valid HTML too."""
    sites: dict[str, Path] = {}
    for name in ("empty", "no-disclosures", "one-disclosure"):
        base = tmp_path_factory.mktemp(name)
        source = base / "disclosures"
        shutil.copytree(MINI, source)
        if name == "empty":
            shutil.rmtree(source / "acme")
        elif name == "no-disclosures":
            (source / "acme/feed.yaml").unlink()
            (source / "acme/ranker.yaml").unlink()
        else:
            (source / "acme/ranker.yaml").unlink()
        build_site(source, base / "_site")
        sites[name] = base / "_site"
    return sites


def page_types(site: Path) -> dict[str, list[str]]:
    """Every HTML page grouped by type: its path with the variable parts as placeholders."""
    registry = json.loads((site / "api/registry.json").read_text("utf-8"))
    languages = list(registry["site"]["languages"])
    providers = {p["id"] for p in registry["providers"]}
    algorithms = {d["id"] for d in registry["disclosures"]}
    categories = {d["category"] for d in registry["disclosures"]} | {
        p.name for p in (site / "categories").iterdir() if p.is_dir()
    }
    numbers = {d["filing"].get("number") for d in registry["disclosures"]} - {None}
    types: dict[str, list[str]] = {}
    for page in html_files(site):
        parts = page.relative_to(site).as_posix().split("/")
        if parts[0] in languages[1:]:
            parts = parts[1:]
        shape = []
        for index, part in enumerate(parts):
            before = parts[index - 1] if index else ""
            if part in providers and before in ("providers", "algorithms", "feeds"):
                shape.append("<provider>")
            elif part in algorithms and before in providers:
                shape.append("<id>")
            elif part in categories and before == "categories":
                shape.append("<category>")
            elif part in numbers:
                shape.append("<number>")
            elif re.fullmatch(r"v\d+", part):
                shape.append("v<n>")
            elif part.isdigit():
                shape.append("<n>")
            else:
                shape.append(part)
        types.setdefault("/".join(shape), []).append(page.relative_to(site).as_posix())
    return types


def language_of(path: str, languages: list[str]) -> str:
    first = path.split("/", 1)[0]
    return first if first in languages[1:] else languages[0]


def pages_to_visit(site: Path, lang: str) -> dict[str, str]:
    """One page per type in ``lang``: the largest, which usually has the most to check."""
    registry = json.loads((site / "api/registry.json").read_text("utf-8"))
    languages = list(registry["site"]["languages"])
    chosen: dict[str, str] = {}
    for shape, paths in sorted(page_types(site).items()):
        own = [p for p in paths if language_of(p, languages) == lang] or (
            paths if lang == languages[0] else []
        )
        if own:
            chosen[shape] = max(own, key=lambda p: ((site / p).stat().st_size, p))
    return chosen


def search_word(site: Path, lang: str) -> str:
    """A word from a disclosure's name that a reader might type into the search box."""
    registry = json.loads((site / "api/registry.json").read_text("utf-8"))
    name = registry["disclosures"][0]["name"]
    text = name.get(lang) or next(iter(name.values()))
    return text[:2] if re.match(r"[\u4e00-\u9fff]", text) else text.split()[0]


# -- Nu Html Checker -------------------------------------------------------------------------------


def run_vnu(*folders: Path) -> list[dict[str, Any]]:
    require(VNU_JAR.is_file(), f"{VNU_JAR.relative_to(ROOT)} (npm package vnu-jar)")
    require(shutil.which("java") is not None, "java")
    proc = subprocess.run(
        [
            *("java", "-Xss4m", "-jar", str(VNU_JAR), "--errors-only", "--skip-non-html"),
            *("--format", "json", "--exit-zero-always", *map(str, folders)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    messages: list[dict[str, Any]] = json.loads(proc.stderr or proc.stdout)["messages"]
    return messages


def test_html_validator_finds_no_errors(
    sample_site: Path, small_sites: dict[str, Path], tmp_path: Path
) -> None:
    # A page with known errors, checked in the same run, proves the checker is really looking.
    canary = tmp_path / "canary"
    canary.mkdir()
    (canary / "bad.html").write_text(
        '<!DOCTYPE html><html lang="en"><title>x</title><p><div id=a></div><i id=a></i>', "utf-8"
    )
    messages = run_vnu(sample_site, *small_sites.values(), canary)
    problems = [m for m in messages if m.get("type") in ("error", "non-document-error")]
    canary_hits = [m for m in problems if m.get("url", "").endswith("canary/bad.html")]
    assert canary_hits, "the validator did not report the broken canary page"
    found = [
        f"{m.get('url', '?')}:{m.get('lastLine', '?')}: {m.get('message')}"
        for m in problems
        if m not in canary_hits
    ]
    assert found == []


# -- links -----------------------------------------------------------------------------------------


def test_no_broken_links_or_anchors(sample_site: Path) -> None:
    report = check_links(sample_site)
    assert [f.format_text() for f in report.findings] == []
    assert report.links > 1000 and report.anchors > 0
    assert report.unreachable == ["404.html"]  # every other page is linked from somewhere


def test_check_links_command(sample_site: Path, tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "check-links", "--site", str(sample_site)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "check-links ok: 0 broken" in ok.stderr
    broken = tmp_path / "_site"
    shutil.copytree(sample_site, broken)
    (broken / "filings/index.html").unlink()
    bad = subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "check-links", "--site", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "index.html:" in bad.stdout and "filings/index.html: no such file" in bad.stdout


def _write(site: Path, rel: str, text: str) -> None:
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def test_link_checker_finds_each_kind_of_break(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _write(site, "robots.txt", "Sitemap: https://r.example/sub/sitemap.xml\n")
    _write(
        site,
        "index.html",
        '<a href="a/">ok dir</a><a href="a/index.html#x">ok anchor</a>'
        '<a href="a/index.html#nope">no anchor</a><a href="missing.html">missing</a>'
        '<a href="../../etc/passwd">outside</a><a href="javascript:alert(1)">js</a>'
        '<a href="/sub/a/">root ok</a><a href="/other/">root outside base</a>'
        '<a href="https://elsewhere.example/">external</a><a href="#top-id">self</a>'
        '<p id="top-id"></p><p id="twice"></p><p id="twice"></p>'
        '<link rel="stylesheet" href="s.css"><form action="search/"></form>',
    )
    _write(
        site,
        "a/index.html",
        '<h1 id="x">x</h1><meta http-equiv="refresh" content="0; url=../gone/">',
    )
    _write(site, "s.css", "body { background: url('img/missing.png'); }")
    _write(site, "search/index.html", "<p>search</p>")
    _write(site, "orphan.html", "<p>nobody links here</p>")
    _write(
        site,
        "sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>https://r.example/sub/a/</loc></url>"
        "<url><loc>https://r.example/sub/nothing/</loc></url></urlset>",
    )
    report = check_links(site)
    found = {(f.page, f.link, f.reason) for f in report.findings}
    assert found == {
        ("index.html", "a/index.html#nope", "no element with id 'nope'"),
        ("index.html", "missing.html", "no such file"),
        ("index.html", "../../etc/passwd", "points outside the site"),
        ("index.html", "javascript:alert(1)", "javascript: link"),
        ("index.html", "/other/", "root-absolute path outside the base path /sub/"),
        ("index.html", "#twice", "duplicate id"),
        ("a/index.html", "../gone/", "no such file"),
        ("s.css", "img/missing.png", "no such file"),
        ("sitemap.xml", "https://r.example/sub/nothing/", "no such file"),
    }
    assert report.external == 1
    assert report.unreachable == ["orphan.html"]


# -- Content-Security-Policy, statically -----------------------------------------------------------


def parse_policy(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def test_every_page_has_a_strict_policy_before_any_resource(sample_site: Path) -> None:
    for page in html_files(sample_site):
        head = soup(page).head
        assert head is not None, page
        tags = head.find_all(["meta", "link", "script", "style", "base"])
        metas = [
            i
            for i, t in enumerate(tags)
            if t.name == "meta" and t.get("http-equiv", "").lower() == "content-security-policy"
        ]
        assert len(metas) == 1, page
        first_resource = next(
            (i for i, t in enumerate(tags) if t.name in ("link", "script", "style", "base")),
            len(tags),
        )
        assert metas[0] < first_resource, f"{page}: the policy must come before any resource"
        policy = parse_policy(tags[metas[0]]["content"])
        assert policy.get("default-src") == ["'none'"], page
        for directive, sources in policy.items():
            for source in sources:
                assert source in ("'self'", "'none'"), f"{page}: {directive} allows {source}"
        for needed in ("script-src", "style-src", "base-uri", "form-action"):
            assert needed in policy, f"{page}: no {needed}"


# -- in the browser: axe, requests, policy violations ----------------------------------------------

RECORDER = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
});
"""

RUN_AXE = """
async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return {
    violations: result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary),
    })),
    passes: result.passes.map((p) => p.id),
  };
}
"""


# A link to a disclosure inside the search results (not in the page's other lists).
RESULT_LINK = ", ".join(
    f'main [{attr}*="result"] a[href*="algorithms/"]' for attr in ("id", "class")
)


class Visit:
    """One page load with everything the browser did recorded."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.console: list[str] = []


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module (Playwright's sync API allows one instance at a time)."""
    with launch_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def browser_site(browser: Any, sample_site: Path) -> Iterator[tuple[Any, str, Path]]:
    with serve_site(sample_site) as base:
        yield browser, base, sample_site


def _strip_refresh(route: Any) -> None:
    """Keep a permalink page in place so it is checked itself, not only where it leads."""
    response = route.fetch()
    body = re.sub(r'<meta http-equiv="refresh"[^>]*>', "", response.text())
    route.fulfill(response=response, body=body)


def _visit(context: Any, url: str, wait_for: str | None = None) -> tuple[Any, Visit]:
    visit = Visit()
    page = context.new_page()
    page.on("request", lambda r: visit.requests.append(r.url))
    page.on("requestfailed", lambda r: visit.failed.append(f"{r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: visit.failed.append(f"{r.url} ({r.status})") if r.status >= 400 else None,
    )
    page.on("console", lambda m: visit.console.append(f"{m.type}: {m.text}"))
    page.goto(url, wait_until="load")
    if wait_for:
        page.wait_for_selector(wait_for, timeout=10_000)
    return page, visit


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_type_passes_axe_with_no_outside_requests(
    browser_site: tuple[Any, str, Path], lang: str
) -> None:
    browser, base, site = browser_site
    require(AXE_JS.is_file(), f"{AXE_JS.relative_to(ROOT)} (npm package axe-core)")
    axe_source = AXE_JS.read_text("utf-8")
    host = urlsplit(base).netloc
    targets = pages_to_visit(site, lang)
    missing = {shape for shape in REQUIRED_TYPES if shape not in targets}
    assert not missing, f"page types not found in the site: {missing}"
    visits: list[tuple[str, str, str | None]] = [
        (shape, path, None) for shape, path in targets.items()
    ]
    search = next((path for shape, path in targets.items() if shape == "search/index.html"), None)
    if search is not None:  # the search page again, with results on it
        query = f"{search}?q={quote(search_word(site, lang))}"
        visits.append(("search/index.html?q=<word>", query, RESULT_LINK))

    context = browser.new_context(service_workers="block")
    context.add_init_script(RECORDER)
    context.route(
        re.compile(r"^(?!" + re.escape(base) + ").*"),
        lambda route: route.abort(),  # nothing may leave the machine; recorded, then refused
    )
    context.route(re.compile(re.escape(base) + r"f/.*"), _strip_refresh)
    problems: list[str] = []
    covered: list[str] = []
    contrast_checked = False
    try:
        for shape, path, wait_for in visits:
            page, visit = _visit(context, base + path, wait_for)
            try:
                for url in visit.requests:
                    parts = urlsplit(url)
                    if parts.scheme not in ("http", "https") or parts.netloc != host:
                        problems.append(f"{path}: request to another host: {url}")
                for failure in visit.failed:
                    if not failure.startswith(base + "favicon.ico"):
                        problems.append(f"{path}: failed request {failure}")
                for violation in page.evaluate("window.__violations"):
                    problems.append(f"{path}: Content-Security-Policy: {violation}")
                for line in visit.console:
                    if line.startswith("error") and "favicon.ico" not in line:
                        problems.append(f"{path}: console {line}")
                page.evaluate(axe_source)
                result = page.evaluate(RUN_AXE, WCAG_AA)
                contrast_checked |= "color-contrast" in result["passes"]
                for v in result["violations"]:
                    nodes = "; ".join(v["nodes"])
                    problems.append(f"{path}: axe {v['id']} ({v['impact']}): {v['help']}: {nodes}")
                covered.append(shape)
            finally:
                page.close()
    finally:
        context.close()
    print(f"\naxe ({lang}) covered {len(covered)} page types: " + ", ".join(covered))
    assert problems == []
    assert contrast_checked, "axe never measured colour contrast: are fonts installed?"


@pytest.mark.browser
def test_the_policy_is_enforced_by_the_browser(browser_site: tuple[Any, str, Path]) -> None:
    """A script injected into a page is refused: the meta policy is really in force."""
    browser, base, _site = browser_site
    context = browser.new_context()
    context.add_init_script(RECORDER)
    try:
        page = context.new_page()
        page.goto(base + "index.html")
        ran = page.evaluate(
            """() => {
              const s = document.createElement('script');
              s.textContent = 'window.__injected = true';
              document.body.appendChild(s);
              const img = document.createElement('img');
              img.src = 'https://tracker.example/pixel.png';
              document.body.appendChild(img);
              return window.__injected === true;
            }"""
        )
        page.wait_for_timeout(200)
        violations = page.evaluate("window.__violations")
    finally:
        context.close()
    assert ran is False
    assert any(v.startswith("script-src") for v in violations), violations
    assert any(v.startswith("img-src") and "tracker.example" in v for v in violations), violations


def test_page_types_are_found_by_pattern(sample_site: Path) -> None:
    types = page_types(sample_site)
    assert set(types) >= REQUIRED_TYPES
    # Every page belongs to a type with a placeholder or to a fixed page: no id leaks through.
    registry = json.loads((sample_site / "api/registry.json").read_text("utf-8"))
    ids = {p["id"] for p in registry["providers"]}
    for shape in types:
        assert not ids & set(shape.split("/")), shape


@pytest.mark.browser
def test_payloads_stay_text_in_the_browser(browser: Any, tmp_path: Path) -> None:
    """The hostile corpus's text payloads, in a real browser: pages and search results show
    them as text; nothing runs, nothing is blocked (a blocked attempt would mean markup got
    through), no request leaves the site."""
    corpus = Path(__file__).resolve().parent / "hostile"
    source = tmp_path / "disclosures"
    shutil.copytree(MINI, source)
    shutil.copy(corpus / "text-payloads.yaml", source / "acme/feed.yaml")
    shutil.copy(corpus / "provider-text-payloads.yaml", source / "acme/provider.yaml")
    shutil.copy(corpus / "site-text-payloads.yaml", source / "site.yaml")
    site = tmp_path / "_site"
    build_site(source, site)
    paths: list[tuple[str, str | None]] = [
        ("index.html", None),
        ("algorithms/acme/feed/index.html", None),
        ("en/algorithms/acme/feed/index.html", None),
        ("providers/acme/index.html", None),
    ]
    if (site / "search/index.html").is_file():
        paths.append(("en/search/index.html?q=alert", RESULT_LINK))
        paths.append(("search/index.html?q=script", RESULT_LINK))
    with serve_site(site) as base:
        host = urlsplit(base).netloc
        context = browser.new_context()
        context.add_init_script(RECORDER)
        context.route(re.compile(r"^(?!" + re.escape(base) + ").*"), lambda r: r.abort())
        dialogs: list[str] = []
        problems: list[str] = []
        try:
            for path, wait_for in paths:
                page, visit = _visit(context, base + path, wait_for)
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                page.wait_for_timeout(100)
                problems += [f"{path}: {v}" for v in page.evaluate("window.__violations")]
                problems += [f"{path}: {u}" for u in visit.requests if urlsplit(u).netloc != host]
                problems += [f"{path}: {line}" for line in visit.console if "error" in line]
                injected = page.evaluate(
                    """() => [...document.querySelectorAll('*')].flatMap((el) =>
                        [...el.attributes].filter((a) => /^on/i.test(a.name) ||
                          /^\\s*(javascript|data|vbscript):/i.test(a.value))
                        .map((a) => el.tagName + ' ' + a.name + '=' + a.value))"""
                )
                problems += [f"{path}: injected {item}" for item in injected]
                scripts = page.evaluate(
                    "() => [...document.scripts].filter((s) => !s.src).length"
                    " + document.querySelectorAll('iframe, object, embed, svg, img').length"
                )
                if scripts:
                    problems.append(f"{path}: {scripts} injected element(s)")
                if "alert(1)" not in page.inner_text("main"):
                    problems.append(f"{path}: the payload text is not shown")
                page.close()
        finally:
            context.close()
    assert dialogs == []
    assert problems == []
