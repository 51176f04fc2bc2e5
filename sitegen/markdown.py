"""Markdown for untrusted disclosure text: no raw HTML, no images, only safe link schemes.

Disclosures come from many companies, so their Markdown is rendered with raw HTML off (tags are
shown as text), images off (they would make readers' browsers contact other hosts), links
limited to https, http, mailto and tel, and headings shifted below the page's own headings.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

SAFE_LINK = re.compile(r"^(?:https?:|mailto:|tel:)", re.IGNORECASE)


def _safe_link(url: str) -> bool:
    # markdown-it has already normalised and percent-encoded the URL, so entity- or
    # case-obfuscated "javascript:" cannot slip past a prefix check on the decoded form.
    return bool(SAFE_LINK.match(url.strip()))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]
    return md


HEADING_SHIFT = 2  # field text sits under the page's h1 and a section h2


def _adjust(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + HEADING_SHIFT)}"
        elif token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "link_open":
                    child.attrSet("rel", "nofollow noopener noreferrer")


@lru_cache(maxsize=65536)
def render_markdown(text: str) -> Markup:
    """HTML for one field's Markdown; cached because objectives repeat across languages."""
    md = _parser()
    tokens = md.parse(text)
    _adjust(tokens)
    return Markup(md.renderer.render(tokens, md.options, {}))


def plain_text(text: str) -> str:
    """Markdown reduced to its words, for snippets, feeds and the search document store."""
    md = _parser()
    words: list[str] = []
    for token in md.parse(text):
        if token.type == "inline" and token.children:
            words.extend(c.content for c in token.children if c.type in ("text", "code_inline"))
            words.append(" ")
    return re.sub(r"\s+", " ", "".join(words)).strip()
