"""The load stage: positions, and every kind of unsafe or malformed YAML refused with a place."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
from pathlib import Path

import pytest

import sitegen.load
from sitegen.cache import Cache
from sitegen.diagnostics import Report, SitegenError
from sitegen.load import (
    MAX_FILE_BYTES,
    Kind,
    YamlProblem,
    decode,
    discover,
    display_path,
    parse_yaml,
    read_source,
)

MINI = Path(__file__).resolve().parent / "fixtures" / "mini"


def test_positions_point_at_values_and_keys() -> None:
    data, positions, keys = parse_yaml(
        "name:\n  zh: 观看时长\n  en: Watch time\nproducts:\n  - url: https://x.example\n"
    )
    assert data == {
        "name": {"zh": "观看时长", "en": "Watch time"},
        "products": [{"url": "https://x.example"}],
    }
    assert positions[("name", "zh")] == (2, 7)
    assert positions[("products", 0, "url")] == (5, 10)
    assert keys[("products",)] == (4, 1)


def test_columns_count_characters_not_bytes() -> None:
    _, positions, _ = parse_yaml("名称: {zh: 观看时长, en: Watch}\n")
    assert positions[("名称", "en")] == (1, 20)


def test_yaml_12_scalars_keep_text_as_text() -> None:
    data, _, _ = parse_yaml(
        "a: no\nb: yes\nc: on\nd: 2024-01-01\ne: true\nf: 0.25\ng: 7\nh: ~\ni: '12'\n"
    )
    assert data == {
        "a": "no",
        "b": "yes",
        "c": "on",
        "d": "2024-01-01",
        "e": True,
        "f": 0.25,
        "g": 7,
        "h": None,
        "i": "12",
    }


@pytest.mark.parametrize(
    ("text", "line", "col", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, 1, "duplicate key 'a'"),
        ("a: &x 1\nb: 2\n", 1, 4, "YAML anchors are not allowed"),
        ("a: 1\nb: *x\n", 2, 4, "YAML aliases are not allowed"),
        ("a: [1,\n", 2, 1, "YAML syntax"),
        ("a: 1\n---\nb: 2\n", 2, 1, "more than one YAML document"),
        ("a: !!python/object:os.system x\n", 1, 4, "YAML tag"),
        ("a: !custom x\n", 1, 4, "YAML tag"),
        ("a: 'x\u202ey'\n", 1, 4, "U+202E"),
        ("a: 'x\u200by'\n", 1, 4, "U+200B"),
        ('a: "x\\u0007y"\n', 1, 4, "U+0007"),
        ("? [a, b]\n: 1\n", 1, 3, "a key must be plain text"),
        ("x: " + "[" * 40 + "]" * 40 + "\n", 1, 35, "nested deeper"),
    ],
)
def test_unsafe_yaml_is_refused_with_position(text: str, line: int, col: int, message: str) -> None:
    with pytest.raises(YamlProblem) as caught:
        parse_yaml(text)
    assert (caught.value.line, caught.value.col) == (line, col)
    assert message in caught.value.message
    assert caught.value.hint


def test_duplicate_key_hint_names_the_first_line() -> None:
    with pytest.raises(YamlProblem) as caught:
        parse_yaml("filing:\n  status: filed\n  status: pending\n")
    assert caught.value.line == 3
    assert "line 2" in caught.value.hint


def test_alias_bomb_is_refused_quickly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    with pytest.raises(YamlProblem, match="anchors"):
        parse_yaml(bomb)


@pytest.mark.parametrize(
    ("raw", "line", "col", "message"),
    [
        (b"\xef\xbb\xbfa: 1\n", 1, 1, "byte-order mark"),
        (b"a: 1\nb: \x00\n", 2, 4, "NUL byte"),
        ("名称: 推荐算法\n".encode("gbk"), 1, 1, "GBK"),
        (b"a: 1\nb: caf\xe9\n", 2, 7, "not valid UTF-8"),
        ("a: 1\n".encode("utf-16"), 1, 1, "UTF-16"),
    ],
)
def test_bad_bytes_are_refused_with_position(raw: bytes, line: int, col: int, message: str) -> None:
    with pytest.raises(YamlProblem) as caught:
        decode(raw)
    assert (caught.value.line, caught.value.col) == (line, col)
    assert message in caught.value.message


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: '" + b"x" * MAX_FILE_BYTES + b"'\n")
    report = Report()
    assert read_source(big, Kind.ALGORITHM, "p", report) is None
    (only,) = list(report)
    assert "over the 1,000,000-byte limit" in only.message


def test_symlinks_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "disclosures"
    (root / "acme").mkdir(parents=True)
    (root / "site.yaml").write_text("title: x\n")
    outside = tmp_path / "secret.yaml"
    outside.write_text("id: secret\n")
    os.symlink(outside, root / "acme" / "leak.yaml")
    os.symlink(tmp_path, root / "escape")
    report = Report()
    sources = discover(root, report)
    messages = [(d.path, d.message) for d in report]
    assert any(p.endswith("acme/leak.yaml") and "symbolic links" in m for p, m in messages)
    assert any(p.endswith("escape") and "symbolic links" in m for p, m in messages)
    assert sources.algorithms == []


def test_discover_reports_stray_files(tmp_path: Path) -> None:
    root = tmp_path / "disclosures"
    (root / "acme" / "nested").mkdir(parents=True)
    (root / "site.yaml").write_text("title: x\n")
    (root / "loose.yaml").write_text("a: 1\n")
    (root / "acme" / "algo.yml").write_text("a: 1\n")
    report = Report()
    discover(root, report)
    text = "\n".join(d.format_text() for d in report)
    assert "disclosures belong in a provider folder" in text
    assert "rename to .yaml" in text
    assert "unexpected entry in a provider folder" in text


def _display_path_by_parts(path: Path) -> str:
    """How paths were shown before folders were remembered as text: the reference."""
    try:
        cwd = Path.cwd().resolve()
        resolved = path.absolute().parent.resolve()
        return str((resolved / path.name).relative_to(cwd))
    except ValueError:
        return str(path)


def test_display_path_shows_what_it_always_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "work" / "sub").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "work" / "link").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "work" / "inside").symlink_to(tmp_path / "work" / "sub")
    monkeypatch.chdir(tmp_path / "work")
    paths = [
        Path("a.yaml"),
        Path("sub/a.yaml"),
        Path("sub/../sub/a.yaml"),
        Path("sub/.."),
        Path("link/a.yaml"),
        Path("inside/a.yaml"),
        Path("link"),
        Path("."),
        Path(""),
        Path("/"),
        Path(".."),
        tmp_path / "work" / "sub" / "a.yaml",
        tmp_path / "elsewhere" / "a.yaml",
        tmp_path / "work",
        Path("../work"),  # outside folders, a path that is the working directory
        Path("link/../work"),
        Path("link/../elsewhere/../work/sub"),
        tmp_path / "elsewhere" / "work",  # outside, with the working directory's name
        tmp_path / "elsewhere" / "sub",
    ]
    folders: dict[Path, str | None] = {}
    for path in paths * 2:  # the second round from the remembered folders
        assert display_path(path, folders) == _display_path_by_parts(path), path
        assert display_path(path) == _display_path_by_parts(path), path
    # Entered through a link, the working directory is still named as the kernel has it.
    (tmp_path / "via").symlink_to(tmp_path / "work")
    monkeypatch.chdir(tmp_path / "via")
    folders = {}
    for path in [*paths, Path("../via"), tmp_path / "via", tmp_path / "via" / "a.yaml"] * 2:
        assert display_path(path, folders) == _display_path_by_parts(path), path
        assert display_path(path) == _display_path_by_parts(path), path


def test_a_pending_file_is_read_when_its_bytes_are_asked_for(tmp_path: Path) -> None:
    """A file listed for the cache is read (and gets its digest) when asked for outside the
    validate stage; one that cannot be read says why, by name."""
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)
    os.mkfifo(root / "acme/pipe.yaml")
    sources = discover(root, Report(), cache=Cache(None))
    feed = next(doc for doc in sources.algorithms if doc.stem == "feed")
    pipe = next(doc for doc in sources.algorithms if doc.stem == "pipe")
    assert feed.pending and pipe.pending
    expected = (root / "acme/feed.yaml").read_bytes()
    assert feed.raw == expected and feed.digest == hashlib.sha256(expected).hexdigest()
    assert not feed.pending
    with pytest.raises(SitegenError, match=r"pipe\.yaml: not a regular file"):
        _ = pipe.raw


def _core_schema_by_patterns(value: str) -> object:
    """The YAML 1.2 core schema for a plain scalar, pattern by pattern: the reference."""
    if re.match(r"^(?:~|null|Null|NULL|)$", value):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    if re.match(r"^[-+]?[0-9]+$", value):
        return int(value)
    if re.match(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", value):
        return float(value)
    return value


def test_plain_scalars_resolve_as_the_core_schema_says() -> None:
    """Words are looked up whole and only number-like text is matched: the same values and
    types as trying every pattern, on pieces that sit near each rule's edge."""
    pieces = ["", "~", "n", "null", "Null", "NULL", "nul", "true", "True", "TRUE", "tRue"]
    pieces += ["false", "FALSE", "F", "1", "0", "+", "-", ".", "e", "E", "5", " ", "x"]
    pieces += [".inf", "2024-01-01", "0x1F", "1_000", "٣", "１"]
    for first, second in itertools.product(pieces, repeat=2):
        text = first + second
        expected = _core_schema_by_patterns(text)
        got = sitegen.load._plain(text)
        assert (type(got), got) == (type(expected), expected), text
