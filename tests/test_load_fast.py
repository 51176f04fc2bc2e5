"""The node reader (libyaml's composer) against the event reader: the same values and positions
for every file it accepts, and for everything else it steps aside so the event reader reports.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from test_hostile import CASES, make_registry
from test_parse_cache import _broken_registry, load, registry_state
from test_properties import SETTINGS, json_like, yamlish

import sitegen.load
from sitegen.bench.generate import Synthetic
from sitegen.bench.yamltext import algorithm_yaml, provider_yaml
from sitegen.cache import Cache
from sitegen.load import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    MAX_NODES,
    SHALLOW,
    Kind,
    Parsed,
    SourceDoc,
    YamlProblem,
    _read_events,
    _read_nodes,
    parse_yaml,
)

ROOT = Path(__file__).resolve().parent.parent


def _events_or_problem(text: str) -> Parsed | tuple[int, int, str, str]:
    try:
        return _read_events(text)
    except YamlProblem as problem:
        return problem.line, problem.col, problem.message, problem.hint


def _parse_or_problem(text: str) -> Parsed | tuple[int, int, str, str]:
    try:
        return parse_yaml(text)
    except YamlProblem as problem:
        return problem.line, problem.col, problem.message, problem.hint


def assert_agree(text: str) -> bool:
    """The node reader gives what the event reader gives, or steps aside; True if it read."""
    fast = _read_nodes(text)
    slow = _events_or_problem(text)
    if fast is not None:
        assert fast == slow
        assert [type(v) for v in _leaves(fast[0])] == [type(v) for v in _leaves(slow[0])]
        shallow = _read_nodes(text, SHALLOW)
        assert shallow is not None
        assert shallow[0] == fast[0]
        assert [type(v) for v in _leaves(shallow[0])] == [type(v) for v in _leaves(fast[0])]
        assert shallow[1] == {path: at for path, at in fast[1].items() if len(path) <= SHALLOW}
        assert shallow[2] == {path: at for path, at in fast[2].items() if len(path) <= SHALLOW}
    else:
        assert _read_nodes(text, SHALLOW) is None
    assert _parse_or_problem(text) == slow
    return fast is not None


def _leaves(value: object) -> list[object]:
    """Every scalar, so ``1 == 1.0 == True`` cannot hide a different type."""
    if isinstance(value, dict):
        return [x for item in value.values() for x in _leaves(item)]
    if isinstance(value, list):
        return [x for item in value for x in _leaves(item)]
    return [value]


def _synthetic_files() -> list[str]:
    synthetic = Synthetic(n=40, providers=4, versions=3, seed=7)
    texts = [provider_yaml(p) for p in synthetic.providers]
    for i in range(synthetic.n):
        texts += [algorithm_yaml(a) for a in synthetic.published(i)]
    return texts


def test_ordinary_disclosures_are_read_from_nodes_with_the_same_result() -> None:
    texts = _synthetic_files()
    assert all(assert_agree(text) for text in texts)


def test_every_yaml_file_in_the_repository_gives_the_same_result() -> None:
    paths = sorted(ROOT.glob("disclosures/**/*.yaml")) + sorted(ROOT.glob("tests/**/*.yaml"))
    paths += sorted(ROOT.glob("docs/**/*.yaml"))
    assert len(paths) > 40
    read = 0
    for path in paths:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        read += assert_agree(text)
    assert read > 10  # the node reader really is used


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # anchor and alias
        "a: &x 1\n",  # an anchor alone
        "&x a: 1\n",  # an anchor on the first key
        "a: Q&A\nb: [&x 1]\n",  # an anchor in a flow sequence, after an innocent '&'
        # Below the levels whose positions a parsed file keeps (SHALLOW), in every container:
        "a:\n  b:\n    c: &x 1\n    d: 2\n",
        "a:\n  b:\n    - &x 1\n    - 2\n",
        "a:\n  b:\n    &x c: 1\n",
        "a:\n  b:\n    c: &x {d: 1}\n",
        "a:\n  b:\n    c: ! 5\n",
        "a:\n  b:\n    - ! 5\n",
        "a:\n  b:\n    c: 1\n    d: &x [2]\n",
        "a: !!str 5\n",
        "a: !!int '5'\n",
        "a: ! 5\n",  # the non-specific tag
        "a: !custom x\n",
        "a: !!map {b: 1}\n",
        "a: !!seq [1]\n",
        "!!map\na: 1\n",
        "a: *undefined\n",
        "a: 1\na: 2\n",
        "a:\n  b: 1\n  b: 2\n",
        "[a, b]\n",
        "just text\n",
        "",
        "a: 1\n---\nb: 2\n",
        "? [a]\n: 1\n",
        "{a: 1}: 2\n",
        "a: \u200b\n",
        "a: 1 # hidden \u202e in a comment\n",
        'a: "\\u200b"\n',  # an escape makes the character
        'a: "\\t tab is fine"\nb: "\\x41"\n',
        '"\\u202ekey": 1\n',
        "a: \x85b\n",
        "\ufeffa: 1\n",
        "a: 1\r\nb: 'two'\r\nc: |\r\n  three\r\n",
        "a: 😀😀\nb: Q&A! &\n",
        "a: Q&A\nb:",  # an empty value at the very end of a text with '&'
        "a: Q!\nb:\n",
        "a: " + "9" * (MAX_INT_DIGITS + 1) + "\n",
        "a: '" + "9" * (MAX_INT_DIGITS + 1) + "'\n",
        "9" * (MAX_INT_DIGITS + 1) + ": 1\n",
        "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
        "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n",
        "a: [" + ", ".join("1" for _ in range(MAX_NODES)) + "]\n",
        "a: [" + ", ".join("1" for _ in range(MAX_NODES - 3)) + "]\n",
        "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: ''\ng: true\nh: False\ni: no\n",
        "a: 1\nb: -2\nc: +3\nd: 0.5\ne: .5\nf: 1e3\ng: 1e400\nh: .inf\ni: 0x1F\nj: 1_000\n",
        "a: 2024-01-01\nb: 12:30\nd: .\ne: +\nf: tRUE\ng: ~x\nh: -1.5e-3\ni: 0o7\n",
        "a: -\n",
        "<<: {a: 1}\nb: 2\n",
        "a:\n\tb: 1\n",
        "a: 'unclosed\n",
        "a: [1, 2\n",
        "%YAML 1.1\n---\na: 1\n",
        "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
        "--- |\n  text\n",
        "a: >\n  folded\n  text\n\nb: |+\n  kept\n\n",
        "a: 'it''s'\nb: \"say \\\"hi\\\"\"\n",
        "a: {b: {c: [1, {d: e}]}}\n",
        "1: one\ntrue: yes\nnull: nothing\n'': empty\n",
    ],
)
def test_unusual_files_give_the_same_result_or_problem(text: str) -> None:
    assert_agree(text)


def test_hostile_cases_give_the_same_result_or_problem() -> None:
    paths = sorted((ROOT / "tests" / "hostile").iterdir())
    assert paths
    for path in paths:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        assert_agree(text)


@given(yamlish)
@SETTINGS
def test_yamlish_text_gives_the_same_result_or_problem(text: str) -> None:
    assert_agree(text)


@given(st.text(max_size=300))
@SETTINGS
def test_any_text_gives_the_same_result_or_problem(text: str) -> None:
    assert_agree(text)


@given(st.dictionaries(st.text(max_size=12), json_like, max_size=6))
@SETTINGS
def test_dumped_mappings_give_the_same_result(value: dict[str, object]) -> None:
    for style in (False, True, None):
        assert_agree(yaml.safe_dump(value, allow_unicode=True, default_flow_style=style))


def _report_and_registry(source: Path, cache: Cache | None) -> tuple[str, object]:
    registry, report = load(source, cache)
    return report.render("json"), registry_state(registry)


@pytest.mark.parametrize("name", ["samples", "broken", *sorted(CASES)])
def test_whole_reports_are_the_same_with_the_event_reader_only(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every diagnostic, position and hint, and the validated data, as if there were no
    node reader; on the deferred path (workers, the cache) and the direct one."""
    if name == "samples":
        source = ROOT / "disclosures"
    elif name == "broken":
        source = _broken_registry(tmp_path)
    else:
        source = make_registry(CASES[name], tmp_path)
    fast = [_report_and_registry(source, cache) for cache in (None, Cache(None))]
    monkeypatch.setattr(sitegen.load, "_read_nodes", lambda text, depth: None)
    slow = [_report_and_registry(source, cache) for cache in (None, Cache(None))]
    assert fast == slow


def _probes(positions: dict[tuple[str | int, ...], tuple[int, int]]) -> list[tuple[str | int, ...]]:
    """Every path in a file, and paths just beside them that are not in it."""
    found = sorted(positions, key=lambda path: (len(path), repr(path)))
    return found + [(*path, "missing") for path in found] + [(*path, 99) for path in found]


def test_a_parsed_doc_locates_as_if_it_kept_every_position() -> None:
    """Shallow paths are answered from the first parse; a deeper one parses again, fully."""
    feed = (ROOT / "tests/fixtures/mini/acme/feed.yaml").read_text("utf-8")
    texts = [*_synthetic_files()[:12], feed]
    for text in texts:
        full, positions, key_positions = parse_yaml(text)
        whole = SourceDoc("x.yaml", Kind.ALGORITHM, "p", "x", full, "", positions, key_positions)
        doc = SourceDoc("x.yaml", Kind.ALGORITHM, "p", "x", raw=text.encode())
        doc.parse()
        probes = _probes(positions)
        short = [path for path in probes if len(path) <= SHALLOW]
        for path in short:
            for key in (False, True):
                assert doc.locate(path, key) == whole.locate(path, key), path
        assert doc._shallow is not None  # nothing deeper was needed so far
        for path in probes:
            for key in (False, True):
                assert doc.locate(path, key) == whole.locate(path, key), path
        assert doc._shallow is None
        assert (doc.data, doc.positions, doc.key_positions) == (full, positions, key_positions)
        fresh = SourceDoc("x.yaml", Kind.ALGORITHM, "p", "x", raw=text.encode())
        assert (fresh.positions, fresh.key_positions) == (positions, key_positions)
