"""Helpers that read built pages through an HTML parser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def internal_links(page: Path) -> Iterator[tuple[str, str]]:
    """(attribute value, fragment) of every href/src that stays on the site."""
    doc = soup(page)
    for tag in doc.find_all(href=True) + doc.find_all(src=True):
        for attr in ("href", "src"):
            value = tag.get(attr)
            if not isinstance(value, str):
                continue
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//"):
                continue
            yield value, parts.fragment


def resolve(site: Path, page: Path, href: str) -> Path:
    parts = urlsplit(href)
    path = unquote(parts.path)
    if path.startswith("/"):
        return site / path.lstrip("/")
    if not path:
        return page
    return (page.parent / path).resolve()
