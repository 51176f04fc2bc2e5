"""Versions read from a real git history; the history, version and changes pages built on them."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from gitrepo import Repo, Scenario, git_env
from htmlcheck import soup

from sitegen import historypages
from sitegen.cache import Cache
from sitegen.diagnostics import Report
from sitegen.pipeline import build_site, load_registry
from sitegen.registry import Registry


@pytest.fixture(scope="module")
def site(history_site: Path) -> Path:
    return history_site


@pytest.fixture(scope="module")
def registry(scen: Scenario, site: Path) -> Registry:
    from sitegen.history import attach_history

    loaded = load_registry(scen.source, Report())
    assert loaded is not None
    return attach_history(loaded, scen.source)


def _by_key(registry: Registry) -> dict[str, object]:
    return {d.key: d for d in registry.disclosures}


def _history_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if "history" in n]


# -- versions --------------------------------------------------------------------------------


def test_versions_are_commits_that_changed_validated_content(
    scen: Scenario, registry: Registry
) -> None:
    feed = next(d for d in registry.disclosures if d.key == "acme/feed")
    c = scen.commits
    assert [(v.number, v.commit) for v in feed.versions] == [
        (1, c["initial"]),
        (2, c["weight"]),
        (3, c["criterion"]),
        (4, c["invalid"]),
        (5, c["fixed"]),
        (6, c["translation"]),
    ]
    # The reorder, the whitespace/comment/key-order edit and the README commit are not versions.
    commits = {v.commit for v in feed.versions}
    assert not commits & {c["reorder"], c["whitespace"], c["outside"]}
    v2 = feed.versions[1]
    assert v2.date.isoformat() == "2025-02-01T10:00:00+00:00"
    assert str(v2.effective_date) == "2025-02-01"
    assert v2.change_note == {"zh": "下调观看时长权重。", "en": "Lower watch-time weight."}
    assert str(feed.versions[0].effective_date) == "2024-03-01"
    assert feed.versions[0].change_note is None


def test_diffs_between_versions(registry: Registry) -> None:
    feed = next(d for d in registry.disclosures if d.key == "acme/feed")
    v2, v3, v6 = feed.versions[1], feed.versions[2], feed.versions[5]
    assert v2.diff is not None and v3.diff is not None and v6.diff is not None
    weight = v2.diff.changes[0].as_json()
    assert weight == {
        "path": "optimization_objectives[watch-time].weight",
        "parts": ["optimization_objectives", "watch-time", "weight"],
        "change": "changed",
        "substantive": True,
        "old": 0.6,
        "new": 0.5,
    }
    assert [c.path for c in v3.diff.changes] == ["decision_criteria[freshness]"]
    assert v3.diff.changes[0].kind == "added" and v3.diff.substantive
    assert [(c.path, c.reason) for c in v6.diff.changes] == [("principles.en", "translation")]
    assert not v6.diff.substantive


def test_a_version_that_no_longer_validates_is_kept_as_raw_text(registry: Registry) -> None:
    feed = next(d for d in registry.disclosures if d.key == "acme/feed")
    v4, v5 = feed.versions[3], feed.versions[4]
    assert v4.data is None
    assert "algorithm_owner: 张三" in v4.raw
    assert "unknown key 'algorithm_owner'" in v4.problem
    assert v4.diff is not None and v4.diff.migration
    assert [(c.path, c.kind, c.reason) for c in v4.diff.changes] == [
        ("algorithm_owner", "added", "migration")
    ]
    assert v5.data is not None and v5.diff is not None
    assert [(c.path, c.kind, c.substantive) for c in v5.diff.changes] == [
        ("algorithm_owner", "removed", False)
    ]


def test_renames_are_followed(scen: Scenario, registry: Registry) -> None:
    disclosures = _by_key(registry)
    assert "acme/ranker" not in disclosures
    ranker = next(d for d in registry.disclosures if d.key == "acme/search-ranker")
    assert [(v.number, v.event, v.path) for v in ranker.versions] == [
        (1, "added", "disclosures/acme/ranker.yaml"),
        (2, "renamed", "disclosures/acme/search-ranker.yaml"),
    ]
    assert ranker.previous_keys == ["acme/ranker"]
    assert registry.moved == {"acme/ranker": "acme/search-ranker"}


def test_deleted_disclosures_stay_as_tombstones(scen: Scenario, registry: Registry) -> None:
    legacy = next(d for d in registry.disclosures if d.key == "acme/legacy")
    assert legacy.ended is not None
    assert legacy.ended.commit == scen.commits["delete"]
    assert legacy.ended.subject == "Remove the legacy ranking: product discontinued"
    assert legacy.ended.last_path == "disclosures/acme/legacy.yaml"
    assert legacy.algorithm.name["en"] == "Acme legacy ranking"
    assert not legacy.current
    # A whole provider folder deleted: its provider is read back from history too.
    gamma = next(d for d in registry.disclosures if d.key == "gamma/tagger")
    assert gamma.ended is not None and gamma.provider.name["en"] == "Gamma Ltd"


def test_withdrawal_is_an_event(scen: Scenario, registry: Registry) -> None:
    picker = next(d for d in registry.disclosures if d.key == "beta/picker")
    assert picker.withdrawn
    assert [v.event for v in picker.versions] == ["added", "withdrawn"]
    kinds = [(e.disclosure.key, e.kind, e.date.date().isoformat()) for e in registry.events]
    assert kinds[:5] == [
        ("acme/feed", "changed", "2025-09-01"),
        ("beta/picker", "withdrawn", "2025-08-01"),
        ("acme/legacy", "deleted", "2025-07-01"),
        ("gamma/tagger", "deleted", "2025-07-01"),
        ("acme/search-ranker", "renamed", "2025-06-01"),
    ]
    assert len(registry.events) == 14


def test_registry_json_keeps_every_disclosure_with_versions(scen: Scenario, site: Path) -> None:
    data = json.loads((site / "api/registry.json").read_text("utf-8"))
    records = {r["key"]: r for r in data["disclosures"]}
    assert set(records) == {
        "acme/feed",
        "acme/legacy",
        "acme/search-ranker",
        "beta/picker",
        "gamma/tagger",
    }
    assert records["acme/legacy"]["status"] == "deleted"
    assert records["acme/legacy"]["ended"] == {
        "commit": scen.commits["delete"],
        "date": "2025-07-01T10:00:00Z",
        "reason": "Remove the legacy ranking: product discontinued",
    }
    assert records["beta/picker"]["status"] == "withdrawn"
    feed = records["acme/feed"]
    assert feed["history_url"] == "algorithms/acme/feed/history/"
    assert feed["versions"][1] == {
        "version": 2,
        "commit": scen.commits["weight"],
        "date": "2025-02-01T10:00:00Z",
        "effective_date": "2025-02-01",
        "json_url": "api/disclosures/acme/feed/v2.json",
    }
    assert records["acme/search-ranker"]["previous_keys"] == ["acme/ranker"]
    v4 = json.loads((site / "api/disclosures/acme/feed/v4.json").read_text("utf-8"))
    assert v4["valid"] is False and "algorithm_owner" in v4["raw"] and "data" not in v4
    v1 = json.loads((site / "api/disclosures/acme/feed/v1.json").read_text("utf-8"))
    assert v1["data"]["optimization_objectives"][0]["weight"] == 0.6


# -- pages --------------------------------------------------------------------------------


def test_disclosure_page_links_to_its_history(site: Path) -> None:
    page = soup(site / "en/algorithms/acme/feed/index.html")
    link = page.find("a", href="history/index.html")
    assert link is not None and link.get_text(strip=True) == "Version history and changes"
    feeds = page.find_all("link", rel="alternate", type="application/atom+xml")
    assert [f["href"] for f in feeds] == [
        "../../../feeds/changes.xml",
        "../../../feeds/acme/feed/changes.xml",
        "../../../feeds/acme/changes.xml",
    ]


def test_history_page_shows_a_timeline_with_diffs(site: Path) -> None:
    page = soup(site / "en/algorithms/acme/feed/history/index.html")
    versions = page.select("ol.timeline > li.version")
    assert [li["id"] for li in versions] == ["v6", "v5", "v4", "v3", "v2", "v1"]
    v2 = page.find(id="v2")
    assert v2.h2.get_text(" ", strip=True).startswith("Version 2 · 2025-02-01")
    facts = dict(
        zip(
            [dt.get_text(strip=True) for dt in v2.select("dl.facts dt")],
            [dd.get_text(" ", strip=True) for dd in v2.select("dl.facts dd")],
            strict=True,
        )
    )
    assert facts["Effective date"] == "2025-02-01"
    assert facts["Nature of the change"] == "Substantive"
    rows = v2.select("table.diff tbody tr")
    first = [cell.get_text(" ", strip=True) for cell in rows[0].find_all(["th", "td"])]
    assert first == [
        "Optimisation objectives › Watch time › Weight optimization_objectives[watch-time].weight",
        "Changed Substantive",
        "0.6",
        "0.5",
    ]
    assert v2.find("table").caption.get_text(strip=True) == "Changes from version 1"
    assert (
        v2.find("details", class_="unchanged")
        .summary.get_text(strip=True)
        .startswith("Unchanged fields (")
    )
    assert v2.find("a", href="../../../../../api/disclosures/acme/feed/v2.json") is not None
    assert v2.find("a", href="../v2/index.html") is not None
    # English text changes are highlighted word by word.
    v6 = page.find(id="v6")
    assert [d.get_text() for d in v6.select("td.old del")] == [" time", "interactions"]
    inserted = [i.get_text() for i in v6.select("td.new ins")]
    assert inserted == ["how long people ", "how they interact"]
    assert v6.select_one("td.new")["lang"] == "en"
    assert "Editorial (translation wording)" in v6.get_text()
    # A change note carried over unchanged from the version before is not repeated.
    notes = [
        h.find_parent("li")["id"]
        for h in page.find_all("h3", string="What changed in this version")
    ]
    assert notes == ["v2"]
    assert "Lower watch-time weight." in v2.get_text()
    # The invalid version says why, and its diff is a migration.
    v4 = page.find(id="v4")
    assert "does not validate under the current disclosure format" in v4.get_text()
    assert "Editorial (format migration)" in v4.get_text()
    assert page.find(id="v1").get_text(" ", strip=True).endswith("First published version.")


def test_chinese_history_page(site: Path) -> None:
    page = soup(site / "algorithms/acme/feed/history/index.html")
    assert page.html["lang"] == "zh"
    assert page.h1.get_text(strip=True) == "历史版本: 示例推荐算法"
    assert "实质性变更" in page.find(id="v3").get_text()
    headings = [int(h.name[1]) for h in page.find("main").find_all(["h1", "h2", "h3", "h4"])]
    assert headings[0] == 1 and all(b - a <= 1 for a, b in itertools.pairwise(headings))


def test_version_pages_show_the_disclosure_as_it_stood(site: Path) -> None:
    v1 = soup(site / "en/algorithms/acme/feed/v1/index.html")
    assert "You are viewing version 1 of 6, published on 2025-01-10" in v1.get_text()
    weight = v1.find(id="objective-watch-time").find(class_="weight").get_text(strip=True)
    assert weight == "Weight 0.6"
    assert v1.find(id="criterion-freshness") is None
    v3 = soup(site / "en/algorithms/acme/feed/v3/index.html")
    assert v3.find(id="criterion-freshness") is not None
    raw = soup(site / "en/algorithms/acme/feed/v4/index.html")
    assert "algorithm_owner: 张三" in raw.find("pre").get_text()


def test_tombstone_pages(site: Path) -> None:
    page = soup(site / "en/algorithms/acme/legacy/index.html")
    notice = page.find(class_="notice-ended").get_text(" ", strip=True)
    assert "removed from the registry" in notice and "Removed on 2025-07-01" in notice
    history = soup(site / "en/algorithms/acme/legacy/history/index.html")
    ended = history.find(id="ended").get_text(" ", strip=True)
    assert "Remove the legacy ranking: product discontinued" in ended
    assert "disclosures/acme/legacy.yaml" in ended
    assert (site / "en/providers/gamma/index.html").is_file()
    moved = soup(site / "en/algorithms/acme/ranker/index.html")
    assert moved.find("a", href="../search-ranker/index.html") is not None


def test_changes_page_newest_first_with_a_stable_archive(
    scen: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(historypages, "CHANGES_PER_PAGE", 5)
    out = tmp_path / "_site"
    build_site(scen.source, out)
    first = soup(out / "en/changes/index.html")
    rows = first.select("table.changes tbody tr")
    assert len(rows) == 5
    cells = [td.get_text(" ", strip=True) for td in rows[0].find_all(["td", "th"])]
    assert cells[0] == "2025-09-01" and cells[1] == "Acme feed recommendation v6"
    assert cells[3] == "Changed Editorial"
    assert cells[4] == "Basic principles"
    assert rows[2].find("a")["href"] == "../algorithms/acme/legacy/history/index.html#ended"
    # 14 changes: archive pages of 5 counted from the oldest, listed newest first.
    archive = first.find("nav", class_="pagination")
    assert [a["href"] for a in archive.find_all("a")] == [f"page/{n}/index.html" for n in (3, 2, 1)]
    oldest = soup(out / "en/changes/page/1/index.html")
    oldest_rows = oldest.select("table.changes tbody tr")
    assert len(oldest_rows) == 5
    assert oldest.find("a", rel="prev")["href"] == "../2/index.html"
    assert oldest.find("a", rel="next") is None
    newest = soup(out / "en/changes/page/3/index.html")
    newest_rows = newest.select("table.changes tbody tr")
    assert len(newest_rows) == 4  # the partial page is the newest one
    assert newest.find("a", rel="prev")["href"] == "../../index.html"
    assert newest.find("a", rel="next")["href"] == "../2/index.html"
    # Newest first within a page; the latest page starts where the newest archive page does.
    dates = [r.find("time")["datetime"] for r in newest_rows]
    assert dates == sorted(dates, reverse=True)
    assert rows[0].get_text(" ", strip=True) == newest_rows[0].get_text(" ", strip=True)
    every = [
        r.get_text(" ", strip=True)
        for n in (3, 2, 1)
        for r in soup(out / f"en/changes/page/{n}/index.html").select("table.changes tbody tr")
    ]
    assert len(every) == len(set(every)) == 14
    home = soup(out / "en/index.html")
    latest = home.find(id="latest-changes").find_parent("section")
    assert len(latest.select("tbody tr")) == historypages.LATEST_ON_HOME
    assert latest.find("a", href="changes/index.html") is not None
    nav_links = [a.get_text(strip=True) for a in home.select("nav.main-nav a")]
    assert "Changes" in nav_links


def test_same_history_gives_the_same_site(scen: Scenario, site: Path, tmp_path: Path) -> None:
    again = tmp_path / "_site"
    build_site(scen.source, again)
    for rel in (
        "feeds/changes.xml",
        "en/algorithms/acme/feed/history/index.html",
        "changes/index.html",
        "api/registry.json",
    ):
        assert (again / rel).read_bytes() == (site / rel).read_bytes(), rel


# -- no usable history ----------------------------------------------------------------------


def test_not_a_git_repository(tmp_path: Path) -> None:
    source = tmp_path / "disclosures"
    shutil.copytree(Path(__file__).parent / "fixtures/mini", source)
    result = build_site(source, tmp_path / "_site")
    notes = _history_notes(result.notes)
    assert len(notes) == 1
    assert notes[0].startswith("history unavailable: ")
    assert "not in a git repository" in notes[0]
    assert all(d.versions == [] for d in result.registry.disclosures)
    page = soup(tmp_path / "_site/en/algorithms/acme/feed/history/index.html")
    assert "Version history could not be read" in page.get_text()
    assert "No published version is recorded yet." in page.get_text()


def test_shallow_clone_says_it_needs_full_history(scen: Scenario, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{scen.repo.root}", str(clone)],
        env=git_env(),
        check=True,
    )
    result = build_site(clone / "disclosures", tmp_path / "_site")
    notes = _history_notes(result.notes)
    assert len(notes) == 1 and "shallow clone" in notes[0]
    assert "fetch" in notes[0] and "--unshallow" in notes[0]
    assert all(d.versions == [] for d in result.registry.disclosures)
    assert result.registry.events == []


def test_registry_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    shutil.copytree(Path(__file__).parent / "fixtures/mini", repo.path("data/registry"))
    repo.commit("Add the registry", "2025-01-01T00:00:00Z")
    repo.replace("data/registry/acme/feed.yaml", "weight: 0.6", "weight: 0.7")
    repo.commit("Raise the weight", "2025-02-01T00:00:00Z")
    result = build_site(repo.path("data/registry"), tmp_path / "_site")
    assert _history_notes(result.notes) == []
    feed = next(d for d in result.registry.disclosures if d.key == "acme/feed")
    assert [v.path for v in feed.versions] == ["data/registry/acme/feed.yaml"] * 2


def test_parsing_in_worker_processes_gives_the_same_versions(
    scen: Scenario, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen import content, workers
    from sitegen.history import attach_history

    monkeypatch.setattr(workers, "PARALLEL_MIN", 0)
    monkeypatch.setattr(content, "CHUNK", 2)
    loaded = load_registry(scen.source, Report())
    assert loaded is not None
    parallel = attach_history(loaded, scen.source)

    def summary(reg: Registry) -> list[tuple[str, int, str, str]]:
        return [(d.key, v.number, v.commit, v.problem) for d in reg.disclosures for v in d.versions]

    assert summary(parallel) == summary(registry)
    assert len(summary(parallel)) == 12


def test_a_merged_pull_request_is_one_version(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    shutil.copytree(Path(__file__).parent / "fixtures/mini", repo.path("disclosures"))
    repo.commit("Add the registry", "2025-01-01T00:00:00Z")
    repo.git("checkout", "-q", "-b", "pr")
    repo.replace("disclosures/acme/feed.yaml", "weight: 0.6", "weight: 0.4")
    repo.commit("Lower the weight", "2025-02-01T00:00:00Z")
    repo.replace("disclosures/acme/feed.yaml", "response_days: 10", "response_days: 5")
    repo.commit("Answer faster", "2025-02-02T00:00:00Z")
    repo.git("checkout", "-q", "main")
    repo.git(
        "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "pr", date="2025-02-10T00:00:00Z"
    )
    merge = repo.git("rev-parse", "HEAD").strip()
    result = build_site(repo.path("disclosures"), tmp_path / "_site")
    feed = next(d for d in result.registry.disclosures if d.key == "acme/feed")
    assert [(v.number, v.commit) for v in feed.versions][1:] == [(2, merge)]
    v2 = feed.versions[1]
    assert v2.date.isoformat() == "2025-02-10T00:00:00+00:00"
    assert v2.diff is not None
    assert [c.path for c in v2.diff.changes] == [
        "optimization_objectives[watch-time].weight",
        "complaint_channels[algo@acme.example].response_days",
    ]


# -- the log, read while the files are checked ---------------------------------------------


def test_the_log_read_ahead_gives_the_same_history(scen: Scenario, registry: Registry) -> None:
    from sitegen.history import LogAhead, attach_history

    loaded = load_registry(scen.source, Report())
    assert loaded is not None
    ahead = LogAhead(scen.source)
    assert ahead.log is not None and ahead.log.process is not None
    attach_history(loaded, scen.source, ahead=ahead)
    assert ahead.log.process is None  # read and done with
    versions = {
        d.key: [(v.number, v.commit, v.event) for v in d.versions] for d in loaded.disclosures
    }
    expected = {
        d.key: [(v.number, v.commit, v.event) for v in d.versions] for d in registry.disclosures
    }
    assert versions == expected and any(versions.values())


def test_a_build_that_fails_first_stops_the_log(
    scen: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen import gitlog, pipeline
    from sitegen.diagnostics import InvalidInput

    started: list[gitlog.PendingLog] = []
    start_log = gitlog.Git.start_log

    def kept(self: gitlog.Git, prefix: str, rev: str = "HEAD") -> gitlog.PendingLog:
        pending = start_log(self, prefix, rev)
        started.append(pending)
        return pending

    monkeypatch.setattr(gitlog.Git, "start_log", kept)
    source = tmp_path / "disclosures"
    shutil.copytree(scen.source, source)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x"],
        cwd=tmp_path,
        check=True,
    )
    (source / "site.yaml").write_text("languages: [", "utf-8")
    with pytest.raises(InvalidInput):
        pipeline.build_site(source, tmp_path / "site")
    assert len(started) == 1
    assert started[0].process is None and started[0].out.closed


def test_a_log_that_git_refuses_is_reported_as_history_unavailable(
    scen: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitegen import gitlog

    start_log = gitlog.Git.start_log

    def refused(self: gitlog.Git, prefix: str, rev: str = "HEAD") -> gitlog.PendingLog:
        return start_log(self, prefix, "no-such-revision")

    monkeypatch.setattr(gitlog.Git, "start_log", refused)
    # Without a cache: a cached walk of the same commit would not need the log at all.
    result = build_site(scen.source, tmp_path / "site", cache=Cache(None))
    notes = _history_notes(result.notes)
    assert notes == [notes[0]] and notes[0].startswith("history unavailable: git log failed: ")
    assert all(d.versions == [] for d in result.registry.disclosures)


@pytest.mark.parametrize(
    "path",
    [
        "disclosures/acme/feed.yaml",
        "acme/feed.yaml",
        "feed.yaml",
        "registry/acme/feed.v2.yaml",
        "registry/acme/.hidden",
        "registry/acme/trailing.",
        "registry/acme/no-extension",
        "registry/.acme/feed.yaml",
    ],
)
def test_a_chain_is_keyed_by_its_folder_and_stem_as_paths_name_them(path: str) -> None:
    """Keys are made with string operations, not path objects; they must name what
    ``PurePosixPath`` names."""
    from pathlib import PurePosixPath

    from sitegen.history import _key

    pure = PurePosixPath(path)
    assert _key(path) == f"{pure.parent.name}/{pure.stem}"
