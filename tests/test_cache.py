"""The cache store: found only by full keys, a new store per code version, never fatal."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from sitegen import cache as cache_module
from sitegen.cache import SHARDS, Cache, Sharded, cache_dir, code_fingerprint, digest


def test_round_trip_and_namespaces(tmp_path: Path) -> None:
    with Cache.open(tmp_path) as store:
        assert store.enabled
        store.put_many("a", [("k1", {"x": [1, 2]}), ("k2", "two")])
        store.put("b", "k1", 3)
        assert store.get_many("a", ["k1", "k2", "k3"]) == {"k1": {"x": [1, 2]}, "k2": "two"}
        assert store.get("b", "k1") == 3
        assert store.get("b", "k2") is None
        assert (store.hits, store.misses) == (3, 2)
    with Cache.open(tmp_path) as again:  # persisted
        assert again.get("a", "k2") == "two"
        again.keep_only("a", ["k2"])
        assert again.get_many("a", ["k1", "k2"]) == {"k2": "two"}
        assert again.get("b", "k1") == 3


def test_pruning_a_namespace_reads_its_keys_not_its_values(tmp_path: Path) -> None:
    """``keep_only`` counts and prunes through the keys' index: large stored versions are
    never read to do it (they were, and it cost a rebuild a fifth of a second)."""
    with Cache.open(tmp_path) as store:
        store.put_many("big", ((str(i), b"v" * 20_000) for i in range(50)))
        store.put_many("other", [("0", 1)])
        assert store._db is not None
        for sql in (
            "SELECT count(*) FROM entry WHERE ns = ?",
            "SELECT key FROM entry WHERE ns = ?",
        ):
            plan = " ".join(
                row[-1] for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql}", ("big",))
            )
            assert "COVERING INDEX entry_keys" in plan, plan
        store.keep_only("big", [str(i) for i in range(0, 50, 5)])
        assert sorted(store.get_many("big", [str(i) for i in range(50)]), key=int) == [
            str(i) for i in range(0, 50, 5)
        ]
        assert store.get("other", "0") == 1


def _written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of every entry stored from now on."""
    keys: list[str] = []
    real = Cache.put_many

    def put_many(self: Cache, namespace: str, items: Any) -> None:
        items = list(items)
        keys.extend(key for key, _ in items)
        real(self, namespace, items)

    monkeypatch.setattr(Cache, "put_many", put_many)
    return keys


def test_a_sharded_dict_rewrites_only_the_shards_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = {f"file-{i}.yaml": (i, "digest") for i in range(1000)}
    written = _written(monkeypatch)
    with Cache.open(tmp_path) as store:
        Sharded(store, "ns", "a").save(entries, extra={"build": 1})
        assert len(written) == SHARDS + 1  # every shard and the head
    with Cache.open(tmp_path) as store:
        again = Sharded(store, "ns", "a")
        assert again.complete and again.entries == entries and again.extra == {"build": 1}
        written.clear()
        again.save(dict(entries), extra={"build": 1})
        assert written == []  # nothing changed: nothing written
        changed = {**entries, "file-7.yaml": (7, "other")}
        del changed["file-8.yaml"]
        again.save(changed, extra={"build": 2})
        assert 2 <= len(written) <= 3 and "a" in written  # two shards at most, and the head
        other = Sharded(store, "ns", "b")  # another name in the namespace: its own dict
        assert (other.entries, other.complete) == ({}, False)
    with Cache.open(tmp_path) as store:
        last = Sharded(store, "ns", "a")
        assert last.complete and last.entries == changed and last.extra == {"build": 2}


def test_a_sharded_dict_missing_a_shard_is_incomplete(tmp_path: Path) -> None:
    entries = {str(i): i for i in range(500)}
    with Cache.open(tmp_path) as store:
        Sharded(store, "ns", "a").save(entries)
        assert store._db is not None
        with store._transaction() as db:
            db.execute("DELETE FROM entry WHERE key = 'a#5'")
        partial = Sharded(store, "ns", "a")
        assert not partial.complete
        assert partial.entries and set(partial.entries) < set(entries)  # the others, as stored
        partial.save(entries)  # made whole again
        assert Sharded(store, "ns", "a").complete
        # A shard from another save than the head names (a stale one) is not used either.
        store.put("ns", "a#5", ("not the token", {"5": 5}))
        assert not Sharded(store, "ns", "a").complete
    disabled = Sharded(Cache(None), "ns", "a")  # keeps nothing, and says it has nothing
    disabled.save(entries)
    assert (disabled.complete, disabled.entries) == (False, {})


def test_many_keys_in_chunks(tmp_path: Path) -> None:
    with Cache.open(tmp_path) as store:
        store.put_many("n", ((str(i), i) for i in range(2000)))
        found = store.get_many("n", [str(i) for i in range(2500)])
    assert len(found) == 2000 and found["1999"] == 1999


def test_many_keys_read_by_lookup_and_by_scan_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a namespace is scanned or its keys looked up, the same entries come back:
    only the wanted keys, only from that namespace, and unreadable ones left out."""
    from sitegen import cache as cache_module

    with Cache.open(tmp_path) as store:
        store.put_many("n", ((str(i), i) for i in range(3000)))
        store.put_many("other", ((str(i), -i) for i in range(3000)))
        assert store._db is not None
        store._db.execute("UPDATE entry SET value = x'00' WHERE ns = 'n' AND key = '7'")
        wanted = [str(i) for i in range(0, 4000, 2)]  # half of them, and some never stored
        answers = []
        for scan_min in (10**9, 1):  # look up keys, then scan the namespace
            monkeypatch.setattr(cache_module, "_SCAN_MIN", scan_min)
            answers.append(store.get_many("n", wanted))
    expected = {str(i): i for i in range(0, 3000, 2)}
    assert answers[0] == answers[1] == expected


def test_new_code_version_opens_a_new_store_and_removes_the_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Cache.open(tmp_path) as store:
        store.put("a", "k", 1)
        old = store.path
    assert old is not None and old.exists()
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "f" * 64)
    with Cache.open(tmp_path) as store:
        assert store.get("a", "k") is None
        assert store.path != old
    assert not old.exists()


def test_fingerprint_covers_the_package_source() -> None:
    fingerprint = code_fingerprint()
    assert len(fingerprint) == 64
    package = Path(cache_module.__file__).parent
    assert any(package.rglob("*.py"))  # what it digests


def test_corrupt_file_turns_the_cache_off_and_is_removed(tmp_path: Path) -> None:
    with Cache.open(tmp_path) as store:
        path = store.path
    assert path is not None
    path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Cache.open(tmp_path)
    assert store.get("a", "k") is None  # a miss, not an exception
    store.put("a", "k", 1)
    assert not store.enabled
    assert "cache off" in store.note
    assert not path.exists()
    with Cache.open(tmp_path) as fresh:  # the next build starts a good store
        fresh.put("a", "k", 1)
        assert fresh.get("a", "k") == 1


def test_a_store_busy_past_the_timeout_turns_the_cache_off_but_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "BUSY_SECONDS", 0.1)
    with Cache.open(tmp_path) as store:
        store.put("a", "k", 1)
        path = store.path
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, for longer than we wait
    try:
        busy = Cache.open(tmp_path)
        busy.put("a", "k2", 2)
        assert not busy.enabled and "locked" in busy.note
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert path.exists()
    with Cache.open(tmp_path) as again:  # the store and what it held are still there
        assert again.get("a", "k") == 1


def test_unwritable_folder_turns_the_cache_off(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = Cache.open(blocker / "cache")
    assert not store.enabled and "cache off" in store.note
    assert store.get_many("a", ["k"]) == {}


def test_location_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.setenv("SITEGEN_CACHE_DIR", "off")
    assert cache_dir() is None
    assert not Cache.open().enabled
    monkeypatch.delenv("SITEGEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "sitegen"


def test_digest_separates_parts() -> None:
    assert digest("ab", "c") != digest("a", "bc")
    assert digest(b"a") == digest("a")


_INHERITED: list[Cache] = []  # set before the worker forks, so it inherits the store


def _read_in_worker() -> tuple[bool, Any, bool]:
    store = _INHERITED[0]
    here = store.here()
    return here is not store, here.get("n", "k"), here.here() is here


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worker processes fork")
def test_a_forked_worker_gets_a_connection_of_its_own(tmp_path: Path) -> None:
    """``here`` is the store itself in the process that opened it, and one new connection
    (kept for later calls) in a forked worker, which reads the same entries."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with Cache.open(tmp_path) as store:
        store.put("n", "k", [1, 2])
        assert store.here() is store
        _INHERITED[:] = [store]
        try:
            with ProcessPoolExecutor(1, mp_context=get_context("fork")) as pool:
                assert pool.submit(_read_in_worker).result() == (True, [1, 2], True)
        finally:
            _INHERITED.clear()
