"""Property-based tests: whatever bytes or structures arrive, loading and validation either
accept them or report problems with positions.  They never raise anything else, and never hang.

Examples are bounded (and the deadline is one second per example) so the suite stays fast;
Hypothesis keeps failing examples in .hypothesis/ and replays them first on the next run.
"""

from __future__ import annotations

import copy
import math
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sitegen.diagnostics import InvalidInput, Report, Severity
from sitegen.load import Kind, YamlProblem, decode, parse_yaml, read_source
from sitegen.pipeline import build_site, check

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"
FEED = yaml.safe_load((MINI / "acme/feed.yaml").read_text("utf-8"))

SETTINGS = settings(
    max_examples=200,
    deadline=1000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(SETTINGS, max_examples=40)

# Text that looks like YAML: its punctuation, indentation, quotes, scalars, and some hostile
# characters (controls, direction overrides, a BOM, surrogate-free astral characters).
YAML_ALPHABET = st.sampled_from(
    [
        *" \t\n-:?[]{},#&*!|>'\"%@`\\.~0123456789abcnoxyzTFE",
        *["\r\n", "\x00", "\x1b", "\u202e", "\u200b", "\ufeff", "\u00ad", "\U000e0041", "é", "名"],
        *["  ", "- ", ": ", "---", "...", "<<", "!!str ", "!!python/object ", "&a ", "*a", "\n  "],
    ]
)
yamlish = st.lists(YAML_ALPHABET, max_size=120).map("".join)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "zh", "en", "filed", "pending", "web", "email", "2024-02-30", "1e400"]),
    st.dates().map(str),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=12), inner, max_size=5),
    ),
    max_leaves=30,
)


def _parse_or_problem(text: str) -> None:
    try:
        parse_yaml(text)
    except YamlProblem as problem:
        assert problem.line >= 1 and problem.col >= 1
        assert problem.message


@given(st.binary(max_size=2000))
@SETTINGS
def test_arbitrary_bytes_decode_and_parse_or_report(raw: bytes) -> None:
    try:
        text = decode(raw)
    except YamlProblem as problem:
        assert problem.line >= 1 and problem.col >= 1
        return
    _parse_or_problem(text)


@given(yamlish)
@SETTINGS
def test_yamlish_text_parses_or_reports(text: str) -> None:
    _parse_or_problem(text)


@given(st.text(max_size=300))
@SETTINGS
def test_any_unicode_text_parses_or_reports(text: str) -> None:
    _parse_or_problem(text)


@given(json_like)
@SETTINGS
def test_dumped_structures_read_back_the_same(value: Any) -> None:
    """What safe_dump writes, the loader reads back equal (or refuses with a position)."""
    text = yaml.safe_dump(value, allow_unicode=True)
    try:
        parsed, _, _ = parse_yaml(text)
    except YamlProblem as problem:
        assert problem.line >= 1
        return
    if not any(c in text for c in _YAML11_BREAKS):  # PyYAML writes these raw; they fold
        assert parsed == _as_yaml12(value)


_YAML11_BREAKS = "\x85\u2028\u2029"
_EXPONENT_ONLY = re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$")


def _as_yaml12(value: Any) -> Any:
    """The value as the YAML 1.2 core schema reads PyYAML's (1.1) output: ``.inf`` and ``.nan``
    stay text, and PyYAML leaves ``1e5`` unquoted, which 1.2 reads as a number."""
    if isinstance(value, dict):
        return {k: _as_yaml12(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_yaml12(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return yaml.safe_dump(value).split("\n")[0]
    if isinstance(value, str) and _EXPONENT_ONLY.match(value):
        return float(value)
    return value


@contextmanager
def registry() -> Iterator[Path]:
    """A fresh copy of the mini registry (Hypothesis calls a test many times per tmp_path)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "disclosures"
        shutil.copytree(MINI, root)
        yield root


def _report_is_sound(report: Report) -> None:
    for item in report:
        assert item.line >= 1 and item.col >= 1
        assert item.message
        assert item.severity in (Severity.ERROR, Severity.WARNING)
        assert "\n" not in item.format_text()


@given(st.binary(max_size=3000))
@FEW
def test_arbitrary_bytes_as_a_disclosure_file(raw: bytes) -> None:
    with registry() as root:
        (root / "acme/feed.yaml").write_bytes(raw)
        report = Report()
        read_source(root / "acme/feed.yaml", Kind.ALGORITHM, "acme", report)
        report = check(root)
        _report_is_sound(report)


@given(json_like)
@SETTINGS
def test_arbitrary_structures_as_a_disclosure(value: Any) -> None:
    with registry() as root:
        (root / "acme/feed.yaml").write_text(yaml.safe_dump(value, allow_unicode=True), "utf-8")
        report = check(root)
        _report_is_sound(report)
        assert report.errors  # nothing random is a complete disclosure


# Mutations of a valid disclosure reach the validators behind the first missing field.
paths: list[tuple[Any, ...]] = []


def _collect(value: Any, path: tuple[Any, ...] = ()) -> None:
    paths.append(path)
    if isinstance(value, dict):
        for key, item in value.items():
            _collect(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect(item, (*path, index))


_collect(FEED)
mutations = st.lists(
    st.tuples(
        st.sampled_from(paths[1:]),
        st.one_of(json_like, st.text(min_size=1, max_size=60), st.just("__delete__")),
    ),
    min_size=1,
    max_size=3,
)


def _mutate(document: Any, changes: list[tuple[tuple[Any, ...], Any]]) -> Any:
    document = copy.deepcopy(document)
    for path, value in changes:
        parent = document
        try:
            for part in path[:-1]:
                parent = parent[part]
            if value == "__delete__":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    return document


@given(mutations)
@settings(SETTINGS, max_examples=150, deadline=2000)  # a build is part of each example
def test_mutated_disclosures_validate_or_report_and_valid_ones_build(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    document = _mutate(FEED, changes)
    with registry() as root:
        text = yaml.safe_dump(document, allow_unicode=True)
        (root / "acme/feed.yaml").write_text(text, "utf-8")
        report = check(root)
        _report_is_sound(report)
        out = root.parent / "_site"
        event("refused" if report.errors else "valid, built")
        if report.errors:
            try:
                build_site(root, out)
            except InvalidInput:
                pass
            else:
                raise AssertionError("build succeeded although validation failed")
            assert not out.exists()
        else:
            build_site(root, out)  # anything that validates must render
            assert (out / "algorithms/acme/feed/index.html").is_file()
