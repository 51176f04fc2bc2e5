"""Word- and character-level highlighting of a changed text, for pages, feeds and reports.

English is compared word by word and Chinese character by character (a Chinese sentence has
no spaces to split on); mixed text gets both.  HTML output escapes every piece of text before
wrapping it in ``<del>``/``<ins>``, so disclosure text can never become markup.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from markupsafe import Markup, escape

_CJK = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f"
)
# One CJK character, a run of other letters/digits (a word), a run of spaces, or one symbol.
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|\s+|.", re.DOTALL)
MAX_TOKENS = 4000  # beyond this, show the old and new text whole


def tokens(text: str) -> list[str]:
    """Words for alphabetic text, single characters for Chinese (mixed text gets both)."""
    return _TOKEN.findall(text)


def inline_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Segments ("=", "-", "+") turning ``old`` into ``new``; a rewrite stays two blocks."""
    return list(_segments(old, new))


@lru_cache(maxsize=4096)
def _segments(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """Remembered: each change is shown in every language (its page, history and feed), and
    matching is a tenth of the time spent rendering a disclosure's pages."""
    a, b = tokens(old), tokens(new)
    if len(a) + len(b) > MAX_TOKENS:
        return (("-", old), ("+", new))
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # Shared spaces and punctuation alone do not make two texts related.
    kept = sum(
        len(tok)
        for block in matcher.get_matching_blocks()
        for tok in a[block.a : block.a + block.size]
        if tok[:1].isalnum()
    )
    if 2 * kept < 0.3 * (len(old.replace(" ", "")) + len(new.replace(" ", ""))):
        return (("-", old), ("+", new))
    segments: list[tuple[str, str]] = []

    def add(op: str, text: str) -> None:
        if not text:
            return
        if segments and segments[-1][0] == op:
            segments[-1] = (op, segments[-1][1] + text)
        else:
            segments.append((op, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("=", "".join(a[i1:i2]))
        else:
            add("-", "".join(a[i1:i2]))
            add("+", "".join(b[j1:j2]))
    return tuple(segments)


def highlight(segments: list[tuple[str, str]], side: str) -> Markup:
    """One side of an inline diff as HTML: text escaped first, then wrapped in del/ins."""
    out: list[str] = []
    for op, text in segments:
        safe = str(escape(text))
        if op == "=":
            out.append(safe)
        elif op == "-" and side == "old":
            out.append(f"<del>{safe}</del>")
        elif op == "+" and side == "new":
            out.append(f"<ins>{safe}</ins>")
    return Markup("".join(out))


def word_diff_text(segments: list[tuple[str, str]]) -> str:
    """The inline diff for plain text, marked like ``git diff --word-diff``: [-old-]{+new+}."""
    parts = []
    for op, text in segments:
        if op == "=":
            parts.append(text)
        elif op == "-":
            parts.append(f"[-{text}-]")
        else:
            parts.append(f"{{+{text}+}}")
    return "".join(parts)
