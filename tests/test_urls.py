"""Links between output files: the per-page linker gives exactly what ``relative`` gives."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from sitegen.urls import linker, relative

PARTS = ["", ".", "..", "en", "algorithms", "index.html", "v1", "a b", "网信算备", "x#top", "%41"]
PAGES = [
    "index.html",
    "en/index.html",
    "algorithms/acme/feed/index.html",
    "en/algorithms/acme/feed/v2/index.html",
    "f/网信算备110000000000000001号/index.html",
    "404.html",
]


def _outcome(make: Callable[[str], str], target: str) -> str:
    try:
        return make(target)
    except ValueError as exc:  # an empty target is refused either way
        return f"ValueError: {exc}"


def _paths(depth: int) -> list[str]:
    return ["/".join(parts) for parts in itertools.product(PARTS, repeat=depth)]


@pytest.mark.parametrize("page", [*PAGES, "/abs/index.html", "a/../b/index.html", "a//b/x.html"])
def test_a_page_links_as_relative_does(page: str) -> None:
    targets = _paths(1) + _paths(2) + _paths(3) + PAGES
    link = linker(page)
    expected = [_outcome(lambda t: relative(page, t), t) for t in targets]
    assert [_outcome(link, t) for t in targets] == expected


def test_links_climb_only_as_far_as_they_must_and_are_quoted() -> None:
    link = linker("en/algorithms/acme/feed/v2/index.html")
    assert link("en/algorithms/acme/feed/index.html") == "../index.html"
    assert link("en/index.html") == "../../../../index.html"
    assert link("static/css/site.css") == "../../../../../static/css/site.css"
    assert link("en/algorithms/acme/feed/v2/index.html#objectives") == "index.html#objectives"
    assert link("f/网信 1/index.html") == ("../../../../../f/%E7%BD%91%E4%BF%A1%201/index.html")
