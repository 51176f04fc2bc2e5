"""The per-file cache of parse and validate results, and the history cache of parsed versions.

A cache may make a build faster, never different: every test compares a run with a cache
(cold, then warm) against the plain path (``discover`` without a cache, as before there was
one) on real files, and checks that hits really skip the work and that any change to a file or
to the settings it was checked under is a miss.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import hashlib
import os
import pickle
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo, Scenario, scenario
from test_hostile import CASES, make_registry

import sitegen.content
import sitegen.history
import sitegen.load
import sitegen.pipeline
import sitegen.validate
import sitegen.workers
from sitegen.cache import SHARDS, Cache
from sitegen.diagnostics import Report
from sitegen.history import attach_history, version_record
from sitegen.load import discover
from sitegen.model import DEFAULT_FILING_PATTERN, Algorithm
from sitegen.pipeline import build_site
from sitegen.quality import check_quality
from sitegen.registry import Registry
from sitegen.scaffold import report_placeholders
from sitegen.validate import check_file, validate

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "disclosures"
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"
TODAY = dt.date(2026, 6, 1)


def load(
    source: Path, cache: Cache | None, today: dt.date = TODAY
) -> tuple[Registry | None, Report]:
    """What ``pipeline.load_registry`` does; ``cache=None`` is the path without a cache."""
    report = Report()
    sources = discover(source, report) if cache is None else discover(source, report, cache=cache)
    registry = validate(sources, report)
    if registry is not None:
        check_quality(registry, sources, report, today)
    report_placeholders(sources, report)
    return registry, report


def outputs(report: Report) -> tuple[str, str, str]:
    return report.render("text"), report.render("json"), report.render("github")


def registry_state(registry: Registry | None) -> Any:
    if registry is None:
        return None
    return (
        registry.site.model_dump(mode="json"),
        {pid: p.model_dump(mode="json") for pid, p in registry.providers.items()},
        [
            (d.key, d.source_path, d.digest, d.algorithm.model_dump(mode="json"))
            for d in registry.disclosures
        ],
    )


def same_every_way(source: Path, folder: Path, today: dt.date = TODAY) -> Report:
    """Plain, with a disabled cache, cold and warm: one report and one registry."""
    plain_registry, plain = load(source, None, today)
    expected = outputs(plain), registry_state(plain_registry)
    registry, report = load(source, Cache(None), today)
    assert (outputs(report), registry_state(registry)) == expected
    with Cache.open(folder) as cache:
        registry, report = load(source, cache, today)
        assert (outputs(report), registry_state(registry)) == expected
    with Cache.open(folder) as cache:
        registry, report = load(source, cache, today)
        assert (outputs(report), registry_state(registry)) == expected
        assert cache.misses == 0 and cache.hits > 0
    return plain


def test_samples_warm_and_cold_agree(tmp_path: Path) -> None:
    same_every_way(SAMPLES, tmp_path / "cache")


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_corpus_warm_and_cold_agree(name: str, tmp_path: Path) -> None:
    root = make_registry(CASES[name], tmp_path)
    same_every_way(root, tmp_path / "cache")


def _broken_registry(base: Path) -> Path:
    """The mini registry with every kind of per-file and cross-file problem at once."""
    root = base / "disclosures"
    shutil.copytree(MINI, root)
    feed = (root / "acme/feed.yaml").read_text("utf-8")
    ranker = (root / "acme/ranker.yaml").read_text("utf-8")
    assert "id: feed\n" in feed and "last_reviewed: 2026-01-01" in ranker
    files = {
        "acme/copy.yaml": feed.replace("id: feed", "id: copy"),  # the same filing number
        "acme/wrong.yaml": feed.replace("id: feed", "id: other"),  # id against file name
        "acme/extra.yaml": ranker + "colour: blue\n",  # an unknown key
        "acme/stale.yaml": ranker.replace("2026-01-01", "2020-01-01"),  # an old review
        "acme/Ranker.yaml": ranker,  # differs from ranker.yaml in letter case only
        "acme/placeholder.yaml": ranker.replace("Orders search results.", "'TODO: in English'"),
        # Escapes spell these: no "TODO" in the bytes.
        "acme/escaped.yaml": ranker.replace("Orders search results.", '"\\x54ODO: in English"'),
        "acme/escaped4.yaml": ranker.replace("Orders search results.", '"\\u0054ODO: in English"'),
        "acme/escaped8.yaml": ranker.replace("Orders search results.", '"\\U00000054ODO: x"'),
        "acme/joined.yaml": ranker.replace("Orders search results.", '"TO\\\n  DO: in English"'),
        "acme/broken.yaml": "name: [unclosed\n",
        "acme/list.yaml": "- a\n- b\n",
        "orphan/alone.yaml": ranker,  # a provider folder without provider.yaml
    }
    for name, text in files.items():
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text(text, "utf-8")
    return root


def test_cross_file_problems_agree(tmp_path: Path) -> None:
    root = _broken_registry(tmp_path)
    report = same_every_way(root, tmp_path / "cache")
    text = report.render("text")
    unfilled = [line for line in text.splitlines() if "placeholder not filled in" in line]
    named = ("placeholder", "escaped", "escaped4", "escaped8", "joined")
    assert sorted(line.split(":")[0].rsplit("/", 1)[1] for line in unfilled) == sorted(
        f"{name}.yaml" for name in named
    )
    for expected in (
        "placeholder not filled in",
        "must be a mapping",
        "is already used",
        "does not match the file name",
        "unknown key 'colour'",
        "differs from 'ranker.yaml' only in letter case",
        "has no provider.yaml",
        "YAML syntax",
    ):
        assert expected in text, expected
    # The review date is checked against today on every run, never taken from the cache.
    later = same_every_way(root, tmp_path / "cache", today=TODAY + dt.timedelta(days=3650))
    assert later.render("text") != text
    assert "more than a year ago" in later.render("text")


def test_placeholder_id_from_path(tmp_path: Path) -> None:
    """An omitted id filled in from a TODO file name is a placeholder, unless a case clash
    stops the id check (as without a cache)."""
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)
    ranker = (root / "acme/ranker.yaml").read_text("utf-8").replace("id: ranker\n", "")
    (root / "acme/TODO.yaml").write_text(ranker, "utf-8")
    first = same_every_way(root, tmp_path / "cache")
    (root / "acme/todo.yaml").write_text(ranker, "utf-8")
    second = same_every_way(root, tmp_path / "cache")
    assert first.render("text") != second.render("text")


# -- files not read again -------------------------------------------------------------------


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source files read from disk (by name)."""
    names: list[str] = []
    real = sitegen.load._read_regular

    def counting(path: Path, *rest: Any) -> bytes:
        names.append(path.name)
        return real(path, *rest)

    monkeypatch.setattr(sitegen.load, "_read_regular", counting)
    return names


def recorded_later(monkeypatch: pytest.MonkeyPatch, seconds: float = 10.0) -> None:
    """Record the files' status as if some seconds after they were written: a status taken
    within seconds of a change is not trusted (the clock's tick may hide a second change)."""
    real = time.time_ns
    later = int(seconds * 1e9)
    monkeypatch.setattr(time, "time_ns", lambda: real() + later)


def test_a_stored_check_comes_back_with_every_field(tmp_path: Path) -> None:
    """Checks are stored as flat tuples of plain values: each field comes back as it was,
    for a valid algorithm (facts, dates), a provider (its model kept with it) and files
    with problems, warnings and placeholders."""
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)
    feed = root / "acme/feed.yaml"
    (root / "acme/broken.yaml").write_text(
        feed.read_text("utf-8")
        .replace("id: feed", "id: broken")
        .replace("category:", "x: 1\ncategory:"),
        "utf-8",
    )
    sources = discover(root, Report(), cache=Cache(None))
    context = {"languages": ["zh", "en"], "filing_pattern": DEFAULT_FILING_PATTERN}
    docs = [*sources.providers.values(), *sources.algorithms]
    checks = [check_file(doc, context) for doc in docs]
    assert any(c.facts for c in checks) and any(c.problems for c in checks)
    for check in checks:
        again = pickle.loads(pickle.dumps(check))
        for name in (f.name for f in dataclasses.fields(check)):
            if name not in ("_model", "_model_pickle", "_fetch"):
                assert getattr(again, name) == getattr(check, name), name
        if not check.apart:  # a provider's model travels with it
            assert again.model == check.model


def test_a_file_whose_status_is_unchanged_is_not_read_again(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)
    count = len(list(root.rglob("*.yaml")))
    plain_registry, plain = load(root, None)
    recorded_later(monkeypatch)
    with Cache.open(tmp_path / "cache") as cache:
        load(root, cache)
    reads.clear()
    with Cache.open(tmp_path / "cache") as cache:
        registry, report = load(root, cache)
        state = registry_state(registry)  # the models, from the store
    assert reads == []
    assert (outputs(report), state) == (outputs(plain), registry_state(plain_registry))
    # Edited, even to the same size: read, checked again, and shown.
    feed = root / "acme/feed.yaml"
    text = feed.read_text("utf-8")
    assert "en: Acme feed recommendation}" in text
    feed.write_text(text.replace("recommendation}", "Recommendation}"), "utf-8")
    with Cache.open(tmp_path / "cache") as cache:
        registry, report = load(root, cache)
        state = registry_state(registry)
    assert reads == ["feed.yaml"]
    plain_registry, plain = load(root, None)
    assert (outputs(report), state) == (outputs(plain), registry_state(plain_registry))
    assert "Acme feed Recommendation" in str(state)
    assert count > 2


def test_a_status_taken_right_after_a_change_is_not_trusted(
    tmp_path: Path, reads: list[str]
) -> None:
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)
    with Cache.open(tmp_path / "cache") as cache:
        load(root, cache)
    first = len(reads)
    with Cache.open(tmp_path / "cache") as cache:
        load(root, cache)
    # The files were written moments before they were recorded: all of them read again.
    assert len(reads) == 2 * first and first > 2


def test_a_record_that_no_longer_holds_stops_the_build_by_name(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the record vouched for is read when its check is not stored; bytes that are
    not the recorded ones (the file changed within the clock's tick) stop the build."""
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)
    recorded_later(monkeypatch)
    with Cache.open(tmp_path / "cache") as cache:
        load(root, cache)
        seen = sitegen.load.Seen(cache, root)
        name = str(root / "acme" / "feed.yaml")
        status, _, when = seen.old[name]
        seen.stored.save({**seen.old, name: (status, "0" * 64, when)})
        with cache._transaction() as db:
            db.execute("DELETE FROM entry WHERE ns = 'file'")
    with (
        Cache.open(tmp_path / "cache") as cache,
        pytest.raises(sitegen.load.FileChanged, match=r"acme/feed\.yaml changed during the build"),
    ):
        load(root, cache)


def test_changed_file_is_checked_again(tmp_path: Path) -> None:
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)
    folder = tmp_path / "cache"
    same_every_way(root, folder)
    feed = root / "acme/feed.yaml"
    feed.write_text(feed.read_text("utf-8").replace("category:", "category: nonsense\nx:"), "utf-8")
    with Cache.open(folder) as cache:
        _, report = load(root, cache)
        assert cache.misses == 1
    assert "acme/feed.yaml" in report.render("text")
    assert outputs(report) == outputs(load(root, None)[1])


@pytest.mark.parametrize(
    "edit",
    [
        ("languages: [zh, en]", "languages: [en, zh]"),
        ("languages: [zh, en]", "languages: [zh, en]\nfiling_number_pattern: '^F-[0-9]+$'"),
    ],
    ids=["languages", "filing-pattern"],
)
def test_site_settings_invalidate(tmp_path: Path, edit: tuple[str, str]) -> None:
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)
    site = root / "site.yaml"
    folder = tmp_path / "cache"
    same_every_way(root, folder)
    site.write_text(site.read_text("utf-8").replace(*edit), "utf-8")
    with Cache.open(folder) as cache:
        _, report = load(root, cache)
        # The files' status records (a head and its shards): no file's check, nor site.yaml's.
        assert cache.hits == 1 + SHARDS
    assert outputs(report) == outputs(load(root, None)[1])
    if "filing" in edit[1]:
        assert "filing.number" in report.render("text")


def _counting_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = sitegen.load.parse_yaml

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sitegen.load, "parse_yaml", counting)
    return calls


def test_hit_skips_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cache"
    same_every_way(SAMPLES, folder)
    calls = _counting_parses(monkeypatch)
    with Cache.open(folder) as cache:
        load(SAMPLES, cache)
    assert calls == []
    load(SAMPLES, Cache(None))
    assert len(calls) == len(list(SAMPLES.glob("*/*.yaml"))) + 1


def test_corrupt_cache_does_not_fail(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    expected = outputs(same_every_way(SAMPLES, folder))
    with Cache.open(folder) as cache:
        assert cache.path is not None
        db = sqlite3.connect(cache.path)
        db.execute("UPDATE entry SET value = ?", (b"not a pickle",))
        db.commit()
        db.close()
        assert outputs(load(SAMPLES, cache)[1]) == expected  # unreadable entries: misses
    with Cache.open(folder) as cache:
        assert cache.path is not None
        db = sqlite3.connect(cache.path)
        db.execute("UPDATE entry SET value = ?", (sitegen.content.pickle.dumps(b"\x80garbage"),))
        db.commit()
        db.close()
        assert outputs(load(SAMPLES, cache)[1]) == expected  # pickled, but not a FileCheck
        path = cache.path
    path.write_bytes(b"this is not a database" * 100)
    with Cache.open(folder) as cache:
        assert outputs(load(SAMPLES, cache)[1]) == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worker processes fork")
def test_worker_processes_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked in forked workers (as with many files), the results and their order are the same."""
    root = _broken_registry(tmp_path)
    plain = outputs(load(root, None)[1])
    monkeypatch.setattr(sitegen.workers, "PARALLEL_MIN", 1)
    monkeypatch.setattr(sitegen.workers, "worker_count", lambda: 2)
    monkeypatch.setattr("sitegen.validate.CHUNK", 2)
    assert outputs(load(root, Cache(None))[1]) == plain
    with Cache.open(tmp_path / "cache") as cache:
        assert outputs(load(root, cache)[1]) == plain
    with Cache.open(tmp_path / "cache") as cache:
        assert outputs(load(root, cache)[1]) == plain
        assert cache.misses == 0


def _stored_count(cache: Cache, namespace: str) -> int:
    assert cache.path is not None
    db = sqlite3.connect(cache.path)
    try:
        (count,) = db.execute("SELECT count(*) FROM entry WHERE ns = ?", (namespace,)).fetchone()
    finally:
        db.close()
    return int(count)


def test_check_alone_stores_no_models_and_a_build_makes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``check`` never reads an algorithm's model, so it stores none; a build that finds
    those checks validates the algorithms again to have their models, then stores them."""
    plain_registry, plain = load(SAMPLES, None)
    expected = outputs(plain), registry_state(plain_registry)
    algorithms = len([p for p in SAMPLES.glob("*/*.yaml") if p.name != "provider.yaml"])
    folder = tmp_path / "cache"
    with Cache.open(folder) as cache:
        assert outputs(sitegen.pipeline.check(SAMPLES, TODAY, cache)) == expected[0]
        assert _stored_count(cache, "file") == len(list(SAMPLES.glob("**/*.yaml")))
        assert _stored_count(cache, "model") == 0
    calls = _counting_parses(monkeypatch)
    with Cache.open(folder) as cache:
        assert outputs(sitegen.pipeline.check(SAMPLES, TODAY, cache)) == expected[0]
        assert calls == [] and cache.misses == 0  # the stored checks serve a check
    with Cache.open(folder) as cache:
        registry, report = load(SAMPLES, cache)
        assert (outputs(report), registry_state(registry)) == expected
        assert len(calls) == algorithms  # the providers' and the site's models were kept
        assert _stored_count(cache, "model") == algorithms
    calls.clear()
    with Cache.open(folder) as cache:
        registry, report = load(SAMPLES, cache)
        assert (outputs(report), registry_state(registry)) == expected
        assert calls == []


def test_models_are_read_when_asked_for(tmp_path: Path) -> None:
    """A warm load reads no model until a disclosure's algorithm is asked for, then only that
    one; each comes from the store, equal to the model validated from the file."""
    folder = tmp_path / "cache"
    same_every_way(SAMPLES, folder)
    plain_registry, _ = load(SAMPLES, None)
    assert plain_registry is not None
    asked: list[str] = []
    with Cache.open(folder) as cache:
        real = cache.get_many

        def spying(namespace: str, keys: Any) -> dict[str, Any]:
            keys = list(keys)
            asked.extend(namespace for _ in keys)
            return real(namespace, keys)

        cache.get_many = spying  # type: ignore[method-assign]
        registry, _ = load(SAMPLES, cache)
        assert registry is not None and "model" not in asked
        first, plain_first = registry.disclosures[0], plain_registry.disclosures[0]
        assert first.algorithm == plain_first.algorithm
        assert asked.count("model") == 1
        assert first.algorithm is first.algorithm  # read once, then kept
        assert asked.count("model") == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worker processes fork")
@pytest.mark.parametrize("run", ["cold, checked in workers", "warm, from the store"])
def test_a_pass_over_every_disclosure_keeps_only_the_last_models(
    run: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """History, the open data and the search indexes each read every disclosure in turn; the
    models they read do not all stay in memory, and each reads the same model again."""
    plain_registry, _ = load(SAMPLES, None)
    assert plain_registry is not None
    expected = [d.algorithm.model_dump(mode="json") for d in plain_registry.disclosures]
    del plain_registry
    folder = tmp_path / "cache"
    monkeypatch.setattr(sitegen.workers, "PARALLEL_MIN", 1)
    monkeypatch.setattr(sitegen.workers, "worker_count", lambda: 2)
    if run.startswith("warm"):
        with Cache.open(folder) as cache:
            load(SAMPLES, cache)
    monkeypatch.setattr(sitegen.validate, "_RECENT", sitegen.validate._Recent(2))

    def alive() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is Algorithm)

    before = alive()  # other tests' models, which this one does not touch
    with Cache.open(folder) as cache:
        registry, _ = load(SAMPLES, cache)
        assert registry is not None and len(registry.disclosures) > 4
        assert alive() == before
        for _ in range(2):
            assert [d.algorithm.model_dump(mode="json") for d in registry.disclosures] == expected
            assert alive() == before + 2


def test_a_model_the_store_lost_is_validated_again_from_its_file(tmp_path: Path) -> None:
    root = tmp_path / "disclosures"
    shutil.copytree(SAMPLES, root)
    plain_registry, _ = load(root, None)
    expected = registry_state(plain_registry)
    folder = tmp_path / "cache"
    with Cache.open(folder) as cache:
        load(root, cache)
        assert cache.path is not None
        db = sqlite3.connect(cache.path)
        db.execute("DELETE FROM entry WHERE ns = 'model'")
        db.commit()
        db.close()
    with Cache.open(folder) as cache:
        registry, _ = load(root, cache)
        assert registry_state(registry) == expected
    # Edited after it was validated and before its model was read: the build stops, and
    # says which file and what to do, instead of showing a model of other bytes.
    with Cache.open(folder) as cache:
        registry, _ = load(root, cache)
        assert registry is not None
        disclosure = registry.disclosures[0]
        path = root / disclosure.source_path.split("disclosures/", 1)[1]
        assert path.is_file()
        path.write_text(path.read_text("utf-8") + "# edited\n", "utf-8")
        with cache._transaction() as db:
            db.execute("DELETE FROM entry WHERE ns = 'model'")
        with pytest.raises(sitegen.load.FileChanged, match="changed during the build"):
            disclosure.algorithm  # noqa: B018


# -- history ------------------------------------------------------------------------------------


def history_state(registry: Registry) -> Any:
    return (
        [
            (d.key, d.ended, d.previous_keys, [version_record(d, v) for v in d.versions])
            for d in registry.disclosures
        ],
        [(e.disclosure.key, e.kind, e.order) for e in registry.events],
        dict(registry.moved),
        registry.history_note,
    )


def with_history(source: Path, cache: Cache) -> Any:
    registry, _ = load(source, None)
    assert registry is not None
    return history_state(attach_history(registry, source, cache=cache))


def test_history_with_cache_agrees(
    scen: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = with_history(scen.source, Cache(None))
    with Cache.open(tmp_path / "cache") as cache:
        assert with_history(scen.source, cache) == expected
    work: list[str] = []
    for module, name in ((sitegen.content, "parse_algorithm"), (sitegen.history, "compare")):
        real = getattr(module, name)

        def counting(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            work.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)
    with Cache.open(tmp_path / "cache") as cache:
        assert with_history(scen.source, cache) == expected
        assert cache.hits > 0
    assert work == []  # no version parsed, no diff computed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worker processes fork")
def test_history_workers_with_cache_agree(
    scen: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = with_history(scen.source, Cache(None))
    monkeypatch.setattr(sitegen.workers, "PARALLEL_MIN", 1)
    monkeypatch.setattr(sitegen.workers, "worker_count", lambda: 2)
    monkeypatch.setattr(sitegen.content, "CHUNK", 3)
    with Cache.open(tmp_path / "cache") as cache:
        assert with_history(scen.source, cache) == expected
    with Cache.open(tmp_path / "cache") as cache:
        assert with_history(scen.source, cache) == expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worker processes fork")
@pytest.mark.parametrize("cached", [False, True])
def test_history_compares_versions_in_the_workers(
    scen: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    """With parsing workers, consecutive versions are compared there before the walk, not
    one by one in the build process, and every version, event and diff is the same."""
    import os

    def diffs(registry: Registry) -> list[Any]:
        return [
            (d.key, v.number, v.diff.as_json() if v.diff else None)
            for d in registry.disclosures
            for v in d.versions
        ]

    plain_registry, _ = load(scen.source, None)
    assert plain_registry is not None
    plain = attach_history(plain_registry, scen.source, cache=Cache(None))
    expected, expected_diffs = history_state(plain), diffs(plain)
    monkeypatch.setattr(sitegen.workers, "PARALLEL_MIN", 1)
    monkeypatch.setattr(sitegen.workers, "worker_count", lambda: 2)
    monkeypatch.setattr(sitegen.content, "CHUNK", 3)
    compare = sitegen.content.compare

    def counted(*args: Any) -> Any:
        (tmp_path / f"compared-in-{os.getpid()}-{len(list(tmp_path.iterdir()))}").touch()
        return compare(*args)

    monkeypatch.setattr(sitegen.content, "compare", counted)
    monkeypatch.setattr(sitegen.history, "compare", counted)
    cache = Cache.open(tmp_path / "cache") if cached else Cache(None)
    with cache:
        registry, _ = load(scen.source, None)
        assert registry is not None
        attach_history(registry, scen.source, cache=cache)
        assert history_state(registry) == expected
        assert diffs(registry) == expected_diffs
    pids = [int(p.name.split("-")[2]) for p in tmp_path.glob("compared-in-*")]
    here = pids.count(os.getpid())
    # Only the pairs no log order foretells (the scenario's rename and restore) are left
    # to the walk: 2 of 11.
    assert len(pids) - here > 3 * here


def two_commits(tmp_path: Path) -> tuple[Repo, Path, Path]:
    """A repository of the mini registry whose feed changed in a second commit."""
    repo = Repo(tmp_path / "repo")
    source = repo.root / "disclosures"
    shutil.copytree(MINI, source)
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "first")
    feed = source / "acme/feed.yaml"
    feed.write_text(feed.read_text("utf-8").replace("category:", "# edited\ncategory:"), "utf-8")
    repo.git("commit", "-q", "-am", "second", date="2025-02-01T00:00:00Z")
    return repo, source, feed


def blob_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The blobs history reads from git from now on."""
    asked: list[str] = []
    real_read = sitegen.history.BlobReader.read

    def read(self: Any, blobs: Any) -> Any:
        wanted = list(blobs)
        asked.extend(wanted)
        return real_read(self, wanted)

    monkeypatch.setattr(sitegen.history.BlobReader, "read", read)
    return asked


def test_history_hit_skips_git_and_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached version is not read from git; a new commit's version is (and only it)."""
    repo, source, feed = two_commits(tmp_path)
    folder = tmp_path / "cache"
    expected = with_history(source, Cache(None))
    with Cache.open(folder) as cache:
        assert with_history(source, cache) == expected

    asked = blob_reads(monkeypatch)
    with Cache.open(folder) as cache:
        assert with_history(source, cache) == expected
    assert asked == []
    feed.write_text(feed.read_text("utf-8").replace("# edited\n", ""), "utf-8")
    ranker = source / "acme/ranker.yaml"
    ranker.write_text(ranker.read_text("utf-8") + "# a comment\n", "utf-8")
    repo.git("commit", "-q", "-am", "third", date="2025-03-01T00:00:00Z")
    expected = with_history(source, Cache(None))
    asked.clear()
    with Cache.open(folder) as cache:
        assert with_history(source, cache) == expected
    new_blob = repo.git("rev-parse", "HEAD:disclosures/acme/ranker.yaml").strip()
    assert asked == [new_blob]  # the feed's blob is the first commit's again: a hit


def test_history_facts_come_from_one_ledger_and_are_remade_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A walk of the whole log reads the versions' facts and the steps' flags in one query
    each; without them the versions are read from git again, with the same history, and the
    ledgers made again."""
    repo, source, feed = two_commits(tmp_path)
    feed.write_text(feed.read_text("utf-8").replace("Acme feed", "Acme video feed"), "utf-8")
    repo.git("commit", "-q", "-am", "third", date="2025-03-01T00:00:00Z")
    folder = tmp_path / "cache"
    expected = with_history(source, Cache(None))
    with Cache.open(folder) as cache:
        assert with_history(source, cache) == expected
    forget_walks(folder)

    asked = blob_reads(monkeypatch)
    looked_up: list[str] = []
    real_get_many = Cache.get_many

    def get_many(self: Cache, namespace: str, keys: Any) -> Any:
        looked_up.append(namespace)
        return real_get_many(self, namespace, keys)

    monkeypatch.setattr(Cache, "get_many", get_many)
    with Cache.open(folder) as cache:
        assert with_history(source, cache) == expected
    assert asked == []
    assert looked_up.count("history-meta") == 1 and looked_up.count("history-step") == 1
    with Cache.open(folder) as cache, cache._transaction() as db:
        db.execute("DELETE FROM entry WHERE ns IN ('history-meta', 'history-step')")
    forget_walks(folder)
    with Cache.open(folder) as cache:
        assert with_history(source, cache) == expected
    assert asked  # read and parsed again for their facts
    asked.clear()
    forget_walks(folder)
    with Cache.open(folder) as cache:
        assert with_history(source, cache) == expected
    assert asked == []


def forget_walks(folder: Path) -> None:
    """Drop the stored walks of the log: the next walk goes over all of it."""
    with Cache.open(folder) as cache, cache._transaction() as db:
        db.execute("DELETE FROM entry WHERE ns = ?", (sitegen.history.WALK_NS,))


def walk_starts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(position in the log, commits) of every walk from now on: 0 for a whole walk."""
    starts: list[tuple[int, int]] = []
    real = sitegen.history._Walker.walk

    def walk(self: Any, commits: list[Any], start: int = 0) -> None:
        starts.append((start, len(commits)))
        real(self, commits, start)

    monkeypatch.setattr(sitegen.history._Walker, "walk", walk)
    return starts


def test_a_walk_resumes_commit_by_commit_through_the_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built at each commit of a year of changes in turn (edits, a version that no longer
    validates, a rename, deletions, a withdrawal), the history with the last build's walk,
    which walks only the new commits, is the history made from the whole log."""
    scen = scenario(tmp_path / "repo")
    shas = scen.repo.git("rev-list", "--first-parent", "--reverse", "main").split()
    folder = tmp_path / "cache"
    starts = walk_starts(monkeypatch)
    walked = 0  # commits of the log walked so far
    for number, sha in enumerate(shas):
        scen.repo.git("checkout", "-q", "--detach", sha)
        starts.clear()
        expected = with_history(scen.source, Cache(None))
        [(first, log)] = starts  # the whole log, up to this commit
        assert first == 0
        starts.clear()
        with Cache.open(folder) as cache:
            assert with_history(scen.source, cache) == expected, sha
        assert starts == [(walked, log - walked)] if number else [(0, log)], sha
        walked = log
    assert walked > 8
    starts.clear()
    with Cache.open(folder) as cache:  # nothing new: nothing to walk
        assert with_history(scen.source, cache) == expected
    assert starts == [(walked, 0)]
    # Then a deleted file restored, one deleted and put back as it was, and a rename.
    repo = scen.repo
    repo.git("checkout", "-q", "main")
    before_delete = scen.commits["delete"] + "~1"
    feed = repo.read("disclosures/acme/feed.yaml")
    steps = [
        lambda: repo.git("checkout", before_delete, "--", "disclosures/acme/legacy.yaml"),
        lambda: repo.git("rm", "-q", "disclosures/acme/feed.yaml"),
        lambda: repo.write("disclosures/acme/feed.yaml", feed),
        lambda: repo.git("mv", "disclosures/beta/picker.yaml", "disclosures/beta/selector.yaml"),
    ]
    for number, step in enumerate(steps):
        step()
        repo.commit(f"step {number}", f"2025-11-0{number + 1}T10:00:00Z")
        expected = with_history(scen.source, Cache(None))
        starts.clear()
        with Cache.open(folder) as cache:
            assert with_history(scen.source, cache) == expected, number
        assert starts == [(walked, 1)], number
        walked += 1
    kinds = [kind for _, kind, _ in expected[1]]
    assert "restored" in kinds and "renamed" in kinds and "deleted" in kinds


def test_a_rewritten_or_merged_branch_walks_the_whole_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last walk is resumed only from a commit on the first-parent line of the one built:
    after a reset to an earlier commit, or when the last build was of a branch since merged
    (its commits are not the first-parent log's), the whole log is walked."""
    repo, source, feed = two_commits(tmp_path)
    folder = tmp_path / "cache"
    starts = walk_starts(monkeypatch)
    with Cache.open(folder) as cache:
        with_history(source, cache)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    feed.write_text(feed.read_text("utf-8").replace("Acme feed", "Acme video feed"), "utf-8")
    repo.git("commit", "-q", "-am", "rewritten", date="2025-03-01T00:00:00Z")
    starts.clear()
    with Cache.open(folder) as cache:
        assert with_history(source, cache) == with_history(source, Cache(None))
    assert starts == [(0, 2), (0, 2)]
    repo.git("checkout", "-q", "-b", "side")
    ranker = source / "acme/ranker.yaml"
    ranker.write_text(ranker.read_text("utf-8").replace("category:", "# side\ncategory:"), "utf-8")
    repo.git("commit", "-q", "-am", "on the side", date="2025-04-01T00:00:00Z")
    with Cache.open(folder) as cache:
        with_history(source, cache)  # a walk that stopped on the side branch
    repo.git("checkout", "-q", "main")
    feed.write_text(feed.read_text("utf-8").replace("category:", "# main\ncategory:"), "utf-8")
    repo.git("commit", "-q", "-am", "on main", date="2025-04-02T00:00:00Z")
    repo.git("merge", "-q", "--no-ff", "-m", "merge the side", "side", date="2025-04-03T00:00:00Z")
    starts.clear()
    with Cache.open(folder) as cache:
        assert with_history(source, cache) == with_history(source, Cache(None))
    assert starts[0][0] == 0


def test_built_site_is_identical(
    scen: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole builds: without a cache, then with one cold and warm (files read through the
    cache as ``load_registry`` does with ``discover(..., cache=cache)``)."""

    def tree(out: Path) -> dict[str, str]:
        return {
            p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*"))
            if p.is_file()
        }

    build_site(scen.source, tmp_path / "plain", cache=Cache(None))
    expected = tree(tmp_path / "plain")
    for run in ("cold", "warm"):
        with Cache.open(tmp_path / "cache") as cache:

            def cached(source: Path, report: Report, cache: Any = None, _c: Cache = cache) -> Any:
                return discover(source, report, cache=_c)

            monkeypatch.setattr(sitegen.pipeline, "discover", cached)
            build_site(scen.source, tmp_path / run, cache=cache)
        assert tree(tmp_path / run) == expected, run


def test_history_loads_a_version_only_when_it_is_read(
    scen: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a warm cache, attaching history reads no version's content; reading one version
    loads that version alone."""
    expected = with_history(scen.source, Cache(None))
    with Cache.open(tmp_path / "cache") as cache:
        assert with_history(scen.source, cache) == expected
    loaded: list[bytes] = []
    real = sitegen.history.decode_parsed

    def counting(blob: bytes) -> Any:
        loaded.append(blob)
        return real(blob)

    monkeypatch.setattr(sitegen.history, "decode_parsed", counting)
    with Cache.open(tmp_path / "cache") as cache:
        registry, _ = load(scen.source, None)
        assert registry is not None
        attach_history(registry, scen.source, cache=cache)
        # Only a deleted disclosure's last version is read: its page shows that content.
        ended = {d.algorithm.id for d in registry.disclosures if d.ended is not None}
        ids = {parsed.data["id"] for parsed in map(real, loaded) if parsed and parsed.data}
        assert ended and ids <= ended and len(loaded) <= len(ended)
        loaded.clear()
        versioned = [d for d in registry.disclosures if len(d.versions) > 1]
        first = versioned[0].versions[0]
        assert first.data is not None and first.data["id"] == versioned[0].algorithm.id
        assert len(loaded) <= 1  # one entry (none when still current in memory)
        assert history_state(registry) == expected  # everything else loads on demand too


def test_history_without_stored_contents_reads_git_again(scen: Scenario, tmp_path: Path) -> None:
    """A cache that lost versions' contents and diffs (damaged, shared, pruned) while keeping
    what the log needs gives the same history: each version is read from git on demand."""
    expected = with_history(scen.source, Cache(None))
    with Cache.open(tmp_path / "cache") as cache:
        assert with_history(scen.source, cache) == expected
        path = cache.path
    assert path is not None
    with sqlite3.connect(path) as db:
        removed = db.execute(
            "DELETE FROM entry WHERE ns IN (?, ?)",
            (sitegen.history.HISTORY_NS, sitegen.history.DIFF_NS),
        ).rowcount
    assert removed > 0
    with Cache.open(tmp_path / "cache") as cache:
        assert with_history(scen.source, cache) == expected
    with Cache.open(tmp_path / "cache") as cache:  # a cache turned off half way
        registry, _ = load(scen.source, None)
        assert registry is not None
        attach_history(registry, scen.source, cache=cache)
        cache.close()
        assert history_state(registry) == expected


def _unreadable_registry(base: Path) -> Path:
    """The mini registry with files that cannot be read: a pipe and one over the size limit."""
    root = base / "disclosures"
    shutil.copytree(MINI, root)
    os.mkfifo(root / "acme/pipe.yaml")  # reading it would block forever
    (root / "acme/big.yaml").write_bytes(b"a: '" + b"x" * sitegen.load.MAX_FILE_BYTES + b"'\n")
    return root


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="worker processes fork")
def test_workers_read_the_files_and_report_what_cannot_be_read(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With many files the workers read them, not the build process (which then holds none
    of their bytes), and a file that cannot be read is reported as without them; a warm
    run that reads them again looks each one up and finds it."""
    root = _unreadable_registry(tmp_path)
    count = len(list(root.rglob("*.yaml")))
    readable = count - 2
    plain = outputs(load(root, None)[1])
    assert "pipe.yaml:1:1: error: not a regular file" in plain[0]
    size = (root / "acme/big.yaml").stat().st_size
    assert f"big.yaml:1:1: error: file is {size:,} bytes, over the" in plain[0]
    assert len(reads) == count  # read here, without a cache
    monkeypatch.setattr(sitegen.workers, "PARALLEL_MIN", 1)
    monkeypatch.setattr(sitegen.workers, "worker_count", lambda: 2)
    monkeypatch.setattr("sitegen.validate.CHUNK", 2)
    for run in ("cold", "warm"):  # the status records are too new to vouch for a file
        reads.clear()
        with Cache.open(tmp_path / "cache") as cache:
            registry, report = load(root, cache)
            assert outputs(report) == plain
            assert reads == []  # each file was read by a worker
            # Each readable file was looked up there (and the status records here): none
            # was found cold, each one warm.
            looked_up = readable + 1 + SHARDS
            found = looked_up if run == "warm" else 0
            assert (cache.hits, cache.misses) == (found, looked_up - found)
    assert registry is not None and registry.disclosures[0].algorithm  # its model is fetched


def test_one_changed_file_is_read_here_and_the_rest_vouched_for(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild's few pending files are read in the build process, looked up, and checked
    if new; the files the status records vouch for are not read at all."""
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)
    recorded_later(monkeypatch)
    with Cache.open(tmp_path / "cache") as cache:
        load(root, cache)
    feed = root / "acme/feed.yaml"
    feed.write_text(feed.read_text("utf-8").replace("last_reviewed:", "# new\nlast_reviewed:"))
    plain_registry, plain = load(root, None)
    expected = outputs(plain), registry_state(plain_registry)
    calls = _counting_parses(monkeypatch)
    reads.clear()
    with Cache.open(tmp_path / "cache") as cache:
        registry, report = load(root, cache)
        assert (outputs(report), registry_state(registry)) == expected
        assert reads == ["feed.yaml"] and len(calls) == 1
        assert cache.misses == 1


def test_a_record_keeps_the_time_its_file_was_read_not_when_the_check_ended(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A status record vouches only for a file that had not changed for seconds before it
    was read: a check that takes long after reading must not make files changed just
    before they were read look settled (a change in the same clock tick keeps the times)."""
    root = tmp_path / "disclosures"
    shutil.copytree(MINI, root)  # every file changed just now
    count = len(list(root.rglob("*.yaml")))
    real_clock, real_check = time.time_ns, sitegen.validate.check_file
    offset = [0]

    def slow_check(*args: Any) -> Any:
        offset[0] += 2_000_000_000  # each check "takes" two seconds
        return real_check(*args)

    monkeypatch.setattr(time, "time_ns", lambda: real_clock() + offset[0])
    monkeypatch.setattr(sitegen.validate, "check_file", slow_check)
    with Cache.open(tmp_path / "cache") as cache:
        load(root, cache)
    assert offset[0] > 3 * 2_000_000_000  # the check ended seconds after the reads
    monkeypatch.setattr(time, "time_ns", real_clock)
    monkeypatch.setattr(sitegen.validate, "check_file", real_check)
    reads.clear()
    with Cache.open(tmp_path / "cache") as cache:
        load(root, cache)
    assert len(reads) == count  # none was vouched for: each is read again
