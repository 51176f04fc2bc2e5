"""Units and rebuilds: worker processes and kept units give the same bytes as a clean build.

Every test builds the sample registry from a real git repository (two commits, so history
pages and feeds exist) and compares whole output trees byte for byte with a build that used
no cache and one process.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gitrepo import Repo

from sitegen import cache as cache_module
from sitegen import export as export_module
from sitegen import historypages
from sitegen import units as units_module
from sitegen.cache import Cache
from sitegen.diagnostics import SitegenError
from sitegen.pipeline import BuildResult, build_site
from sitegen.theme import DEFAULT_THEME
from sitegen.write import MARKER, marker_build

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "disclosures/haibei-mall/product-search.yaml"
OTHER = "disclosures/liuguang-video/video-feed.yaml"


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    shutil.copytree(ROOT / "disclosures", repo.path("disclosures"))
    repo.commit("Publish the registry", "2025-01-10T00:00:00Z")
    edit_summary(repo, "2025-01-11T00:00:00Z", OTHER)
    return repo


def build(repo: Repo, out: Path, cache: Cache, **options: object) -> BuildResult:
    return build_site(repo.path("disclosures"), out, cache=cache, **options)  # type: ignore[arg-type]


def clean(repo: Repo, tmp_path: Path, name: str = "clean", **options: object) -> dict[str, bytes]:
    out = tmp_path / name
    build(repo, out, Cache(None), jobs=1, **options)
    return tree(out)


def edit_summary(repo: Repo, date: str = "2025-02-01T00:00:00Z", path: str = SAMPLE) -> None:
    text = repo.read(path)
    marker = "summary:\n  zh: "
    assert marker in text
    repo.write(path, text.replace(marker, marker + "（修订）", 1))
    repo.commit(f"Revise the summary of {path}", date)


def test_workers_give_the_same_site(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(units_module, "PARALLEL_MIN", 0)  # the samples are small
    result = build(repo, tmp_path / "parallel", Cache(None), jobs=2)
    assert tree(tmp_path / "parallel") == clean(repo, tmp_path)
    assert result.files == len(tree(tmp_path / "parallel")) - 1  # all but the marker


def test_search_indexes_go_first_on_the_units_workers(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When units are rendered by workers, both languages' indexes are made on those same
    workers (not in a second pool, and not in the build process), and the site is the same."""
    from sitegen import search

    monkeypatch.setattr(units_module, "PARALLEL_MIN", 0)
    monkeypatch.setattr(search, "PARALLEL_MIN", 10**9)  # too small for a pool of its own
    analyse = search.analyse

    def counted(document: dict[str, str]) -> search.Analysis:
        (tmp_path / f"analysed-by-{os.getpid()}").touch()  # seen from any process
        return analyse(document)

    monkeypatch.setattr(search, "analyse", counted)
    pools: list[Any] = []
    start = search.SearchStage.start

    def spy(stage: search.SearchStage, pool: Any = None) -> None:
        start(stage, pool)
        pools.append((pool, stage._pool))

    monkeypatch.setattr(search.SearchStage, "start", spy)
    result = build(repo, tmp_path / "site", Cache(None), jobs=2)
    pids = {int(p.name.rsplit("-", 1)[1]) for p in tmp_path.glob("analysed-by-*")}
    assert pids and os.getpid() not in pids  # analysed in workers only
    assert pools[0][0] is not None and pools[0][1] is None  # the units' pool, none of its own
    assert not result.updated
    assert tree(tmp_path / "site") == clean(repo, tmp_path)


def test_a_rebuilds_few_units_and_open_data_go_to_the_workers_the_search_forks_anyway(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too few changed units for a pool of their own, but the search indexes fork workers
    in any case: the units are rendered there, not in the build process, and the site is
    the same.  Without workers for the search, they stay in the build process."""
    from sitegen import search

    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    monkeypatch.setattr(units_module, "PARALLEL_MIN", 10**9)
    render = units_module.Units.render

    def marked(self: Any, unit: Any, sink: Any) -> Any:
        (tmp_path / f"rendered-by-{os.getpid()}").touch()  # seen from any process
        return render(self, unit, sink)

    monkeypatch.setattr(units_module.Units, "render", marked)
    registry_json_parts = export_module.registry_json_parts

    def exported(*args: Any) -> Any:
        (tmp_path / f"exported-by-{os.getpid()}").touch()
        return registry_json_parts(*args)

    monkeypatch.setattr(export_module, "registry_json_parts", exported)

    def renderers(what: str = "rendered") -> set[int]:
        found = {int(p.name.rsplit("-", 1)[1]) for p in tmp_path.glob(f"{what}-by-*")}
        for p in tmp_path.glob(f"{what}-by-*"):
            p.unlink()
        return found

    monkeypatch.setattr(search, "PARALLEL_MIN", 0)  # the search forks its workers
    edit_summary(repo)
    result = build(repo, out, Cache.open(tmp_path / "cache"), jobs=2)
    assert result.updated
    pids = renderers()
    assert pids and os.getpid() not in pids
    # So is api/registry.json, which they have time for.
    exporters = renderers("exported")
    assert len(exporters) == 1 and os.getpid() not in exporters
    assert tree(out) == clean(repo, tmp_path)
    monkeypatch.setattr(search, "PARALLEL_MIN", 10**9)  # the search stays in this process
    edit_summary(repo, "2025-03-01T00:00:00Z")
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=2)
    assert renderers() == {os.getpid()}
    assert renderers("exported") == {os.getpid()}
    assert tree(out) == clean(repo, tmp_path, "clean2")


def test_open_data_that_fails_on_a_worker_fails_the_build_and_keeps_the_old_site(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen import search

    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    before = tree(out)
    monkeypatch.setattr(units_module, "PARALLEL_MIN", 10**9)
    monkeypatch.setattr(search, "PARALLEL_MIN", 0)  # the search forks its workers

    def broken(*args: Any) -> bytes:
        if os.getpid() == parent:
            raise AssertionError("expected on a worker")
        raise SitegenError("registry.json: broken on purpose")

    parent = os.getpid()
    monkeypatch.setattr(export_module, "registry_json_parts", broken)
    edit_summary(repo)
    with pytest.raises(SitegenError, match="broken on purpose"):
        build(repo, out, Cache.open(tmp_path / "cache"), jobs=2)
    assert tree(out) == before
    assert not list(tmp_path.glob(".site.tmp-*"))


def test_rebuild_renders_only_the_category_page_of_the_changed_disclosure(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A category's page is a unit: kept while its disclosures are unchanged and listed in
    the same order, rendered again (in every language) when one of them changes."""
    from sitegen.render import Renderer

    out, store = tmp_path / "site", Cache.open(tmp_path / "cache")
    build(repo, out, store)
    rendered: list[tuple[str, str]] = []
    category = Renderer.category

    def counted(self: Renderer, lang: str, which: Any, listed: Any) -> tuple[str, bytes]:
        rendered.append((lang, str(which)))
        return category(self, lang, which, listed)

    monkeypatch.setattr(Renderer, "category", counted)
    edit_summary(repo)  # product-search, a search_filtering algorithm
    second = build(repo, out, Cache.open(tmp_path / "cache"))
    assert second.updated
    assert sorted(rendered) == [("en", "search_filtering"), ("zh", "search_filtering")]
    assert tree(out) == clean(repo, tmp_path)
    rendered.clear()
    build(repo, out, Cache.open(tmp_path / "cache"))
    assert rendered == []


def test_a_failed_build_stops_the_units_workers(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that fails while the workers render units drops their queued work and waits
    for what they are writing before it removes its staging folder: nothing is left behind
    and no worker goes on rendering for a build that is over."""
    import time

    from sitegen.render import Renderer
    from sitegen.theme import ThemeError

    monkeypatch.setattr(units_module, "PARALLEL_MIN", 0)
    done = tmp_path / "rendered"
    done.mkdir()
    render = units_module.Units.render

    def slow(self: units_module.Units, unit: units_module.Unit, sink: Any) -> Any:
        time.sleep(0.05)
        (done / f"{os.getpid()}-{len(list(done.iterdir()))}-{unit.name.replace('/', '_')}").touch()
        return render(self, unit, sink)

    def broken(self: Renderer) -> Any:
        time.sleep(0.1)  # the workers are busy by now
        raise ThemeError("template home.html: broken on purpose")
        yield  # a generator, as the real one

    submitted: list[units_module.Unit] = []
    submit = units_module.Pending.submit

    def counted(self: units_module.Pending, todo: list[units_module.Unit], *rest: Any) -> None:
        submitted.extend(todo)
        submit(self, todo, *rest)

    monkeypatch.setattr(units_module.Pending, "submit", counted)
    monkeypatch.setattr(units_module.Units, "render", slow)
    monkeypatch.setattr(Renderer, "shared_pages", broken)
    out = tmp_path / "site"
    with pytest.raises(ThemeError):
        build(repo, out, Cache(None), jobs=2)
    time.sleep(2.0)  # were the workers still going, they would finish every unit by now
    rendered = len(list(done.iterdir()))
    assert rendered < len(submitted) / 2, (rendered, len(submitted))
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site")] == []


def test_workers_load_versions_from_a_warm_cache(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new output folder with the last build's cache (a publish job restores the cache,
    not the site): every version's content is loaded by the forked workers, each on its own
    connection to the cache."""
    monkeypatch.setattr(units_module, "PARALLEL_MIN", 0)
    build(repo, tmp_path / "first", Cache.open(tmp_path / "cache"))
    with Cache.open(tmp_path / "cache") as store:
        result = build(repo, tmp_path / "second", store, jobs=2)
    assert not result.updated
    assert tree(tmp_path / "second") == clean(repo, tmp_path)


def test_rebuild_after_one_change_updates_only_what_changed(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(historypages, "CHANGES_PER_PAGE", 4)  # an archive of several pages
    out, store = tmp_path / "site", Cache.open(tmp_path / "cache")
    first = build(repo, out, store)
    assert not first.updated and first.written == first.files
    changed = out / "algorithms/haibei-mall/product-search/index.html"
    sibling = out / "algorithms/haibei-mall/product-recommendation/index.html"
    elsewhere = out / "algorithms/liuguang-video/video-feed/history/index.html"
    archived = out / "changes/page/1/index.html"  # the oldest changes: a full page
    other_sitemap = out / "sitemaps/providers/liuguang-video.xml"
    own_sitemap = out / "sitemaps/providers/haibei-mall.xml"
    kept = (changed, sibling, elsewhere, archived, other_sitemap, own_sitemap)
    inodes = {page: page.stat().st_ino for page in kept}
    edit_summary(repo)
    second = build(repo, out, Cache.open(tmp_path / "cache"))
    assert second.updated
    assert 0 < second.written < first.files / 3, second.written
    assert changed.stat().st_ino != inodes[changed]  # replaced
    assert sibling.stat().st_ino == inodes[sibling]  # same provider, other disclosure: kept
    assert elsewhere.stat().st_ino == inodes[elsewhere]
    assert archived.stat().st_ino == inodes[archived]
    assert other_sitemap.stat().st_ino == inodes[other_sitemap]  # kept, not made again
    assert own_sitemap.stat().st_ino != inodes[own_sitemap]  # the new version's page is in it
    assert tree(out) == clean(repo, tmp_path)
    # Nothing changed: nothing is written but the marker's neighbours stay as they are.
    third = build(repo, out, Cache.open(tmp_path / "cache"))
    assert third.updated and third.written == 0
    assert tree(out) == clean(repo, tmp_path, "clean2")


def test_rebuild_removes_the_files_of_a_deleted_disclosure(repo: Repo, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    repo.path("disclosures/lubiao-maps/route-eta.yaml").unlink()
    repo.commit("Remove the route ETA disclosure", "2025-03-01T00:00:00Z")
    result = build(repo, out, Cache.open(tmp_path / "cache"))
    assert result.updated
    assert tree(out) == clean(repo, tmp_path)


@pytest.mark.parametrize("what", ["template", "strings", "asset"])
def test_a_theme_change_renders_every_unit_again(repo: Repo, tmp_path: Path, what: str) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(DEFAULT_THEME, theme)
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"), theme_dir=theme)
    if what == "template":
        page = theme / "templates" / "history.html"
        page.write_text(page.read_text("utf-8").replace("</h1>", " ·</h1>", 1), "utf-8")
    elif what == "strings":
        strings = theme / "strings.yaml"
        text = strings.read_text("utf-8")
        strings.write_text(text.replace("history.title:", "history.title:", 1) + "\n", "utf-8")
        page = theme / "templates" / "disclosure.html"
        page.write_text(page.read_text("utf-8") + "{# changed #}\n", "utf-8")
    else:
        css = theme / "static" / "css" / "site.css"
        css.write_text(css.read_text("utf-8") + "\n/* changed */\n", "utf-8")
    result = build(repo, out, Cache.open(tmp_path / "cache"), theme_dir=theme)
    assert result.updated
    pages = [p for p in tree(out) if p.endswith(".html") and "/history/" in p]
    assert pages
    expected = clean(repo, tmp_path, theme_dir=theme)
    assert tree(out) == expected
    if what == "template":
        assert result.written >= len(pages)


def test_a_site_change_renders_every_unit_again(repo: Repo, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    result = build(repo, out, Cache.open(tmp_path / "cache"), base_url="https://other.example/")
    assert result.updated
    assert tree(out) == clean(repo, tmp_path, base_url="https://other.example/")


def test_new_code_version_rebuilds_from_scratch(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    monkeypatch.setattr(cache_module, "code_fingerprint", lambda: "0" * 64)
    monkeypatch.setattr(units_module, "code_fingerprint", lambda: "0" * 64)
    result = build(repo, out, Cache.open(tmp_path / "cache"))
    assert not result.updated and result.written == result.files


def test_interrupted_update_is_followed_by_a_full_swap(repo: Repo, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    text = (out / MARKER).read_text("utf-8")
    (out / MARKER).write_text(text.rsplit("build ", 1)[0] + "updating\n", "utf-8")
    (out / "index.html").write_text("half-updated", "utf-8")
    assert marker_build(out) is None
    result = build(repo, out, Cache.open(tmp_path / "cache"))
    assert not result.updated
    assert tree(out) == clean(repo, tmp_path)


def test_an_incomplete_file_list_replaces_the_output(repo: Repo, tmp_path: Path) -> None:
    """The output's file list is stored in parts; without one of them the build cannot know
    which files the site no longer has, so it writes a new folder rather than update."""
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    repo.path("disclosures/lubiao-maps/route-eta.yaml").unlink()
    repo.commit("Remove the route ETA disclosure", "2025-03-01T00:00:00Z")
    with Cache.open(tmp_path / "cache") as store, store._transaction() as db:
        db.execute("DELETE FROM entry WHERE ns = 'output' AND key LIKE '%#3'")
    result = build(repo, out, Cache.open(tmp_path / "cache"))
    assert not result.updated
    assert tree(out) == clean(repo, tmp_path)
    again = build(repo, out, Cache.open(tmp_path / "cache"))  # the list is whole again
    assert again.updated and again.written == 0


def test_output_replaced_by_another_build_is_not_trusted(repo: Repo, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    edit_summary(repo)
    build(repo, out, Cache(None))  # the cache's file list no longer describes the folder
    edit_summary(repo, "2025-03-01T00:00:00Z")
    result = build(repo, out, Cache.open(tmp_path / "cache"))
    assert not result.updated
    assert tree(out) == clean(repo, tmp_path)


def test_worker_failure_is_an_error_and_keeps_the_old_site(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(units_module, "PARALLEL_MIN", 0)
    theme = tmp_path / "theme"
    shutil.copytree(DEFAULT_THEME, theme)
    out = tmp_path / "site"
    build(repo, out, Cache(None), jobs=2, theme_dir=theme)
    before = tree(out)
    page = theme / "templates" / "history.html"  # rendered only inside the units
    text = page.read_text("utf-8")
    assert "</h1>" in text
    page.write_text(text.replace("</h1>", "{{ no_such_value }}</h1>", 1), "utf-8")
    with pytest.raises(SitegenError, match=r"history\.html"):
        build(repo, out, Cache(None), jobs=2, theme_dir=theme)
    assert tree(out) == before
    assert not list(tmp_path.glob(".site.tmp-*"))


def test_worker_death_is_an_error_and_keeps_the_old_site(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    build(repo, out, Cache(None), jobs=1)
    before = tree(out)
    monkeypatch.setattr(units_module, "PARALLEL_MIN", 0)

    def die(self: object, unit: object, sink: object) -> None:
        os._exit(3)  # as the kernel's out-of-memory killer would end a worker

    monkeypatch.setattr(units_module.Units, "render", die)
    with pytest.raises(SitegenError, match="worker process died"):
        build(repo, out, Cache(None), jobs=2)
    assert tree(out) == before


def test_rebuild_lays_out_only_the_changed_disclosure_in_shared_files(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry-wide files (lists, api/registry.json, CSV, search index) reuse every other
    disclosure's row from the cache, and still equal a clean build's."""
    from sitegen import export, search

    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    edit_summary(repo)
    made: list[str] = []
    makers = ((export, "disclosure_record"), (export, "_csv_row"), (search, "store_row"))
    for module, name in makers:
        real = getattr(module, name)

        def counting(d: Any, *args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            made.append(f"{_name} {d.key}")
            return _real(d, *args, **kw)

        monkeypatch.setattr(module, name, counting)
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    key = "haibei-mall/product-search"
    # The record twice: its row of registry.json and its own JSON file; a store row per language.
    assert sorted(made) == sorted(
        [f"disclosure_record {key}"] * 2 + [f"_csv_row {key}"] + [f"store_row {key}"] * 2
    )
    assert tree(out) == clean(repo, tmp_path)


def test_the_registry_feed_makes_again_only_the_changed_disclosures_entries(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen.feeds import Feeds

    made: list[tuple[str, str]] = []
    inside: list[bool] = []
    shared_files, content = Feeds.shared_files, Feeds.content

    def spy_shared(self: Feeds) -> Any:
        inside.append(True)
        try:
            yield from shared_files(self)
        finally:
            inside.clear()

    def spy_content(self: Feeds, event: Any, lang: str, *args: Any) -> Any:
        if inside:  # the registry's feed, not a unit's
            made.append((event.disclosure.key, lang))
        return content(self, event, lang, *args)

    monkeypatch.setattr(Feeds, "shared_files", spy_shared)
    monkeypatch.setattr(Feeds, "content", spy_content)
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    assert len({key for key, _ in made}) > 2  # every entry, in a first build
    made.clear()
    edit_summary(repo)
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    key = "haibei-mall/product-search"
    assert made and {k for k, _ in made} == {key}
    assert {lang for _, lang in made} == {"zh", "en"}
    assert tree(out) == clean(repo, tmp_path)
    # The provider's new name is in each of its entries, old ones included.
    made.clear()
    provider = "disclosures/haibei-mall/provider.yaml"
    repo.write(provider, repo.read(provider).replace("Select E-commerce", "Select Retail"))
    repo.commit("Rename the provider", "2025-02-02T00:00:00Z")
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    assert {k.partition("/")[0] for k, _ in made} == {"haibei-mall"}
    assert tree(out) == clean(repo, tmp_path, "clean2")
    assert b"Select Retail" in (out / "en/feeds/changes.xml").read_bytes()


def test_the_search_index_is_assembled_again_only_when_searchable_text_changes(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inverted index is kept while every disclosure's analysis is the same: a change to
    text the index does not hold (the mechanism) keeps it, a summary's change does not."""
    from sitegen import search

    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"))
    assembled: list[int] = []
    real = search.index_of

    def counting(analyses: Any) -> Any:
        assembled.append(len(analyses))
        return real(analyses)

    monkeypatch.setattr(search, "index_of", counting)
    text = repo.read(SAMPLE)
    assert "  zh: |\n    1. **" in text
    repo.write(SAMPLE, text.replace("  zh: |\n    1. **", "  zh: |\n    1. （修订）**", 1))
    repo.commit("Revise the mechanism", "2025-02-01T00:00:00Z")
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    assert assembled == []
    assert tree(out) == clean(repo, tmp_path)
    edit_summary(repo, "2025-03-01T00:00:00Z")  # its Chinese text
    assembled.clear()
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    assert len(assembled) == 1  # the Chinese index; the English one is kept
    assert tree(out) == clean(repo, tmp_path, "clean2")


def test_registry_json_from_rows_equals_the_snapshot(repo: Repo, tmp_path: Path) -> None:
    from sitegen.diagnostics import Report
    from sitegen.export import dumps, registry_json, registry_snapshot
    from sitegen.pipeline import load_registry
    from sitegen.urls import Urls

    registry = load_registry(repo.path("disclosures"), Report())
    assert registry is not None
    urls = Urls(registry.languages)
    assert registry_json(registry, urls) == dumps(registry_snapshot(registry, urls))


def _records_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """Counts the records made from their disclosures, in any process: the returned
    function gives the keys made since it was last called."""
    made = tmp_path / "made"
    made.mkdir(exist_ok=True)
    record = export_module.disclosure_record

    def counted(disclosure: Any, urls: Any) -> Any:
        (made / f"{os.getpid()}-{len(list(made.iterdir()))}").write_text(disclosure.key)
        return record(disclosure, urls)

    monkeypatch.setattr(export_module, "disclosure_record", counted)

    def keys() -> list[str]:
        found = sorted(p.read_text() for p in made.iterdir())
        for p in made.iterdir():
            p.unlink()
        return found

    return keys


def test_a_rebuild_copies_unchanged_records_from_the_last_registry_json(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """api/registry.json after one change: the changed disclosure's record is made, every
    other is copied from the file the last build left in the output folder (the records
    kept in the build cache are not read), and the file equals a clean build's."""
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    made = _records_made(tmp_path, monkeypatch)
    made()  # the per-disclosure JSON files made their records too
    rows = export_module.Fragments.rows

    def rows_but_records(self: Any, what: str, *args: Any, **kwargs: Any) -> Any:
        assert what != "record-utf8", "read the kept records"
        return rows(self, what, *args, **kwargs)

    monkeypatch.setattr(export_module.Fragments, "rows", rows_but_records)
    edit_summary(repo)
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    changed = "haibei-mall/product-search"
    assert made() == [changed, changed]  # its record, and its own JSON file
    monkeypatch.undo()
    expected = clean(repo, tmp_path)
    assert tree(out) == expected


@pytest.mark.parametrize("change", ["same size", "shorter", "removed"])
def test_a_registry_json_changed_in_the_output_folder_is_not_copied_from(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """The last file is trusted only with the size and time it was written with: edited
    in place (even to the same size), cut short or removed, it is made again whole and the
    site still equals a clean build's."""
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    target = out / "api/registry.json"
    data = target.read_bytes()
    if change == "same size":
        target.write_bytes(data.replace(b'"status":"filed"', b'"status":"FILED"', 1))
        assert target.stat().st_size == len(data)
    elif change == "shorter":
        target.write_bytes(data[: len(data) // 2])
    else:
        target.unlink()
    edit_summary(repo)
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1)
    assert tree(out) == clean(repo, tmp_path)


def test_records_copied_after_a_new_theme_keep_being_copied(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new template changes every unit key but not api/registry.json's bytes: the file
    is kept, and where its records lie is kept under the new keys, so the next rebuild
    still copies the unchanged records instead of making them all."""
    theme = tmp_path / "theme"
    shutil.copytree(DEFAULT_THEME, theme)
    out = tmp_path / "site"
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1, theme_dir=theme)
    base = theme / "templates" / "base.html"
    base.write_text(base.read_text("utf-8") + "{# a new template #}\n", "utf-8")
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1, theme_dir=theme)
    made = _records_made(tmp_path, monkeypatch)
    edit_summary(repo)
    build(repo, out, Cache.open(tmp_path / "cache"), jobs=1, theme_dir=theme)
    changed = "haibei-mall/product-search"
    assert made() == [changed, changed]  # its record, and its own JSON file
    monkeypatch.undo()
    assert tree(out) == clean(repo, tmp_path, theme_dir=theme)
