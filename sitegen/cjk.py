"""Chinese-searchable lunr: split CJK text into overlapping character bigrams.

lunr splits only on whitespace and hyphens, so a Chinese sentence would become one useless
token, and lunr's ``trimmer`` deletes every character outside ``[A-Za-z0-9_]``. The index is
built here with lunr.py and queried in the browser by lunr.js 2.3.9, so the replacement pipeline
function ``cjkSplit`` exists twice, with the same behaviour and the same registered name:
here and in ``themes/default/static/js/cjk.js`` (``lunr.Index.load`` refuses unknown names).
``tests/data/cjk_vectors.json`` holds the vectors both implementations must satisfy.

cjkSplit turns one lunr token into a list of tokens: NFKC-normalise and lowercase it (fullwidth
ＡＢＣ１２３ become ascii), split it into maximal runs of CJK characters and of "word" characters
(Unicode letters, digits and ``_``; a combining mark continues a word run but never starts
one), drop everything else (punctuation, symbols, emoji), keep each word run whole and turn each
CJK run into its overlapping bigrams (a lone CJK character stays itself). It is idempotent,
so running it again in the search pipeline over query terms that went through it is harmless.

Queries go through :func:`tokenize_query`, because lunr ORs terms: every term becomes a
REQUIRED clause, so all bigrams of a Chinese word must match. A lone CJK character is a prefix
(trailing wildcard) term. A term of four or more ascii digits is REQUIRED as a substring
(``*digits*``, which also matches the exact term) so that the tail of a filing number such as
``0011`` finds ``网信算备110108823483901230011号``; the exact term is added as an OPTIONAL
clause so that exact matches score higher.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, Literal, TypedDict

from lunr.builder import Builder  # type: ignore[import-untyped, unused-ignore]
from lunr.index import Index  # type: ignore[import-untyped, unused-ignore]
from lunr.pipeline import Pipeline  # type: ignore[import-untyped, unused-ignore]
from lunr.query import Query, QueryPresence  # type: ignore[import-untyped, unused-ignore]
from lunr.stemmer import stemmer  # type: ignore[import-untyped, unused-ignore]
from lunr.stop_word_filter import stop_word_filter  # type: ignore[import-untyped, unused-ignore]
from lunr.token import Token  # type: ignore[import-untyped, unused-ignore]
from lunr.tokenizer import Tokenizer  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "PIPELINE_NAME",
    "Clause",
    "cjkSplit",
    "cjk_split",
    "is_cjk",
    "new_builder",
    "run_query",
    "serialize_index",
    "split_text",
    "split_token",
    "tokenize_query",
]

PIPELINE_NAME = "cjkSplit"

# Inclusive code point ranges treated as CJK; cjk.js carries the identical table.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x3005, 0x3007),  # 々 〆 〇 (iteration mark, closing mark, ideographic zero)
    (0x3041, 0x3096),  # Hiragana letters
    (0x309D, 0x309F),  # ゝ ゞ ゟ (the sound marks U+3099–U+309C are left out)
    (0x30A1, 0x30FA),  # Katakana letters (゠ U+30A0 and ・ U+30FB are punctuation)
    (0x30FC, 0x30FF),  # ー ヽ ヾ ヿ
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2FA1F),  # Extensions B–F and the Compatibility Supplement (astral)
    (0x30000, 0x323AF),  # Extensions G and H (astral)
)

_DIGITS_SUBSTRING = re.compile(r"[0-9]{4,}")

Presence = Literal["required", "optional"]
Wildcard = Literal["none", "trailing", "both"]


class Clause(TypedDict):
    """One query clause, the same shape in Python and in cjk.js's ``tokenizeQuery``."""

    term: str
    presence: Presence
    wildcard: Wildcard
    use_pipeline: bool


def is_cjk(char: str) -> bool:
    """Whether one character (code point) is CJK, i.e. indexed as bigrams."""
    cp = ord(char)
    return any(lo <= cp <= hi for lo, hi in CJK_RANGES)


def _flush(kind: str, run: list[str], out: list[str]) -> None:
    if kind == "word":
        out.append("".join(run))
    elif kind == "cjk":
        if len(run) == 1:
            out.append(run[0])
        else:
            out.extend(a + b for a, b in pairwise(run))


def split_token(text: str) -> list[str]:
    """The string behaviour of cjkSplit: word runs whole, CJK runs as bigrams, the rest dropped."""
    out: list[str] = []
    run: list[str] = []
    kind = "sep"
    for char in unicodedata.normalize("NFKC", text).lower():
        category = unicodedata.category(char)
        if is_cjk(char):
            new_kind = "cjk"
        elif category[0] in "LN" or char == "_" or (category[0] == "M" and kind == "word"):
            new_kind = "word"
        else:
            new_kind = "sep"
        if new_kind != kind:
            _flush(kind, run, out)
            run = []
            kind = new_kind
        run.append(char)
    _flush(kind, run, out)
    return out


def cjk_split(token: Any, i: int | None = None, tokens: list[Any] | None = None) -> list[Any]:
    """lunr pipeline function: one token in, its split tokens out, each keeping the metadata."""
    return [Token(part, token.metadata) for part in split_token(str(token))]


cjkSplit = cjk_split  # the name it has in lunr pipelines and in cjk.js
Pipeline.register_function(cjk_split, PIPELINE_NAME)


def split_text(text: str) -> list[str]:
    """Terms that cjkSplit makes of a whole text after lunr's own tokenizer (before stemming)."""
    return [part for token in Tokenizer(text) for part in split_token(str(token))]


def _clause(term: str, presence: Presence, wildcard: Wildcard, use_pipeline: bool) -> Clause:
    return {"term": term, "presence": presence, "wildcard": wildcard, "use_pipeline": use_pipeline}


def tokenize_query(query: str) -> list[Clause]:
    """Clauses for a search box string; an empty list means nothing can match."""
    clauses: list[Clause] = []
    for term in split_text(query):
        if stop_word_filter(Token(term)) is None:
            continue  # English stop words are never indexed
        if len(term) == 1 and is_cjk(term):
            clauses.append(_clause(term, "required", "trailing", False))
        elif _DIGITS_SUBSTRING.fullmatch(term):
            clauses.append(_clause(term, "required", "both", False))
            clauses.append(_clause(term, "optional", "none", True))
        else:
            clauses.append(_clause(term, "required", "none", True))
    unique: list[Clause] = []
    for clause in clauses:
        if clause not in unique:
            unique.append(clause)
    return unique


_PRESENCE = {"required": QueryPresence.REQUIRED, "optional": QueryPresence.OPTIONAL}
_WILDCARD = {
    "none": Query.WILDCARD_NONE,
    "trailing": Query.WILDCARD_TRAILING,
    "both": Query.WILDCARD_LEADING | Query.WILDCARD_TRAILING,
}


def run_query(
    index: Index, clauses: Sequence[Clause], fields: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """Run clauses with lunr.py the way cjk.js's ``buildQuery`` runs them with lunr.js."""
    if not clauses:
        return []  # lunr.js would treat a query without clauses as "everything"
    query = index.create_query(list(fields) if fields else None)
    for clause in clauses:
        query.clause(
            term=clause["term"],
            presence=_PRESENCE[clause["presence"]],
            wildcard=_WILDCARD[clause["wildcard"]],
            use_pipeline=clause["use_pipeline"],
        )
    results: list[dict[str, Any]] = index.query(query)
    return results


def new_builder(fields: Sequence[tuple[str, float]]) -> Builder:
    """A lunr.py Builder with ref ``r``, the given (field, boost) pairs and the CJK pipelines.

    lunr's trimmer is left out on purpose: it would delete every CJK character.
    """
    builder = Builder()
    builder.ref("r")
    for name, boost in fields:
        builder.field(name, boost=boost)
    builder.pipeline.add(cjk_split, stop_word_filter, stemmer)
    builder.search_pipeline.add(cjk_split, stemmer)
    return builder


def serialize_index(index: Index) -> dict[str, Any]:
    """``index.serialize()`` with terms in the order lunr.js needs to load them.

    lunr.js rebuilds its token set from ``invertedIndex`` and throws "Out of order word
    insertion" unless terms ascend in UTF-16 code unit order; lunr.py sorts by code point. The
    two differ once an astral character (say 𠮷) meets one at U+E000 or above (say 﨑 U+FA11).
    lunr.py's own ``Index.load`` checks code point order, so load this output with lunr.js only.
    """
    data: dict[str, Any] = index.serialize()
    data["invertedIndex"].sort(key=lambda entry: entry[0].encode("utf-16-be", "surrogatepass"))
    return data
