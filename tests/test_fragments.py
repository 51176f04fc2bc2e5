"""Each disclosure's rows of the registry-wide outputs, kept in the build cache by provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.cache import Cache
from sitegen.diagnostics import Report
from sitegen.fragments import Fragments
from sitegen.pipeline import load_registry
from sitegen.registry import Disclosure, Registry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def registry() -> Registry:
    report = Report()
    loaded = load_registry(ROOT / "disclosures", report)
    assert loaded is not None and not report.has_errors()
    assert len({d.provider.id for d in loaded.disclosures}) > 2
    return loaded


class Maker:
    """Makes a row from a disclosure and counts the rows it made."""

    def __init__(self, tag: str = "") -> None:
        self.made: list[str] = []
        self.tag = tag

    def __call__(self, d: Disclosure) -> str:
        self.made.append(d.key)
        return f"{self.tag}row of {d.key}"


def stored(cache: Cache) -> dict[str, dict[str, tuple[str, str]]]:
    assert cache._db is not None
    groups = [row[0] for row in cache._db.execute("SELECT key FROM entry WHERE ns = 'rows:t'")]
    return cache.get_many("rows:t", groups)


def test_rows_are_made_once_and_found_in_order(registry: Registry, tmp_path: Path) -> None:
    listed = list(reversed(registry.disclosures))  # any order: the rows follow it
    keys = {d.key: f"unit-{d.key}" for d in listed}
    with Cache.open(tmp_path) as cache:
        first, again = Maker(), Maker("stale ")
        rows = Fragments(cache, keys).rows("t", listed, first)
        assert rows == [f"row of {d.key}" for d in listed]
        assert sorted(first.made) == sorted(keys)
        assert Fragments(cache, keys).rows("t", listed, again) == rows
        assert again.made == []
        # One entry per provider, holding its disclosures' rows by key.
        entries = stored(cache)
        assert set(entries) == {d.provider.id for d in listed}
        assert {k for entry in entries.values() for k in entry} == set(keys)


def test_a_changed_unit_key_makes_that_row_and_rewrites_only_its_provider(
    registry: Registry, tmp_path: Path
) -> None:
    listed = registry.disclosures
    keys = {d.key: f"unit-{d.key}" for d in listed}
    changed = listed[0]
    with Cache.open(tmp_path) as cache:
        Fragments(cache, keys).rows("t", listed, Maker())
        before = stored(cache)
        maker = Maker("new ")
        rows = Fragments(cache, {**keys, changed.key: "unit-changed"}).rows("t", listed, maker)
        assert maker.made == [changed.key]
        assert rows[0] == f"new row of {changed.key}"
        assert rows[1:] == [f"row of {d.key}" for d in listed[1:]]
        after = stored(cache)
    group = changed.provider.id
    assert after[group][changed.key] == ("unit-changed", f"new row of {changed.key}")
    assert {g: e for g, e in after.items() if g != group} == {
        g: e for g, e in before.items() if g != group
    }


def test_a_disclosure_no_longer_listed_leaves_its_providers_entry(
    registry: Registry, tmp_path: Path
) -> None:
    listed = registry.disclosures
    keys = {d.key: f"unit-{d.key}" for d in listed}
    gone = listed[-1]
    with Cache.open(tmp_path) as cache:
        Fragments(cache, keys).rows("t", listed, Maker())
        maker = Maker()
        Fragments(cache, keys).rows("t", [d for d in listed if d is not gone], maker)
        assert maker.made == []
        entries = stored(cache)
    assert gone.key not in {k for entry in entries.values() for k in entry}
    assert len({k for entry in entries.values() for k in entry}) == len(listed) - 1


def test_without_unit_keys_or_a_cache_every_row_is_made(registry: Registry, tmp_path: Path) -> None:
    listed = registry.disclosures
    for fragments in (Fragments(), Fragments(Cache.open(tmp_path), {})):
        maker = Maker()
        assert fragments.rows("t", listed, maker) == [f"row of {d.key}" for d in listed]
        assert maker.made == [d.key for d in listed]
