"""``python build.py diff`` as a regulator runs it: revisions, dates, snapshots, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from conftest import CliRunner
from gitrepo import Scenario, git_env

from sitegen.pipeline import build_site


def run(cli: CliRunner, scen: Scenario, *args: str) -> subprocess.CompletedProcess[str]:
    result = cli("diff", *args, cwd=scen.repo.root)
    assert "Traceback" not in result.stderr
    return result


def as_json(cli: CliRunner, scen: Scenario, *args: str) -> dict[str, Any]:
    result = run(cli, scen, *args, "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def summary(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["change"], d["key"]) for d in data["disclosures"]]


def test_two_revisions_text(cli: CliRunner, scen: Scenario) -> None:
    c = scen.commits
    result = run(cli, scen, c["initial"], c["weight"])
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"From: {c['initial']} ({c['initial'][:12]})"
    assert lines[2] == "1 disclosure(s) differ: 1 changed"
    assert "Changed   acme/feed  示例推荐算法 / Acme feed recommendation  [substantive]" in lines
    assert (
        "  Changed  optimization_objectives[watch-time].weight  (substantive): 0.6 -> 0.5" in lines
    )
    assert "  Added    change_note  (editorial: descriptive field)" in lines
    assert any(line.startswith("  Unchanged: ") for line in lines)


def test_word_diff_in_text(cli: CliRunner, scen: Scenario) -> None:
    result = run(cli, scen, scen.commits["withdraw"], scen.commits["translation"])
    assert result.returncode == 1
    assert "  Changed  principles.en  (editorial: translation wording)" in result.stdout
    assert "    diff: We recommend videos based on {+how long people +}watch[- time-]" in (
        result.stdout
    )


def test_reorder_and_whitespace_edits_are_no_difference(cli: CliRunner, scen: Scenario) -> None:
    c = scen.commits
    result = run(cli, scen, c["fixed"], c["whitespace"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[2] == "no differences"
    assert run(cli, scen, c["translation"], "HEAD").returncode == 0  # README only


def test_since_collects_every_change(cli: CliRunner, scen: Scenario) -> None:
    data = as_json(cli, scen, "--since", "2025-06-01")
    assert data["to"]["commit"] == scen.commits["outside"]
    assert data["from"]["commit"] == scen.commits["whitespace"]
    assert data["summary"] == {"changed": 1, "removed": 2, "renamed": 1, "withdrawn": 1}
    assert summary(data) == [
        ("changed", "acme/feed"),
        ("removed", "acme/legacy"),
        ("renamed", "acme/search-ranker"),
        ("withdrawn", "beta/picker"),
        ("removed", "gamma/tagger"),
    ]
    renamed = data["disclosures"][2]
    assert renamed["old_key"] == "acme/ranker" and renamed["substantive"] is False
    withdrawn = data["disclosures"][3]
    assert withdrawn["substantive"] is True
    paths = {c["path"]: c for c in withdrawn["diff"]["changes"]}
    assert paths["filing.status"]["old"] == "filed" and paths["filing.status"]["new"] == "withdrawn"


def test_since_until_and_dates(cli: CliRunner, scen: Scenario) -> None:
    data = as_json(cli, scen, "--since", "2025-06-01", "--until", "2025-07-31")
    assert summary(data) == [
        ("removed", "acme/legacy"),
        ("renamed", "acme/search-ranker"),
        ("removed", "gamma/tagger"),
    ]
    data = as_json(cli, scen, "2025-01-31", "2025-02-01")  # the state at the end of each day
    assert summary(data) == [("changed", "acme/feed")]
    assert data["from"]["commit"] == scen.commits["initial"]
    assert data["to"]["commit"] == scen.commits["weight"]
    data = as_json(cli, scen, "--since", "2024-01-01", "--until", "2025-01-10")
    assert data["from"]["label"].endswith("before the first commit")
    assert {change for change, _ in summary(data)} == {"added"}
    assert len(data["disclosures"]) == 5
    result = run(cli, scen, "--since", "2026-01-01")
    assert result.returncode == 0


def test_filters(cli: CliRunner, scen: Scenario) -> None:
    data = as_json(cli, scen, "--since", "2025-01-01", "--provider", "beta")
    assert summary(data) == [("added", "beta/picker")]
    data = as_json(cli, scen, "--since", "2025-05-01", "--category", "search_filtering")
    assert summary(data) == [("removed", "acme/legacy"), ("renamed", "acme/search-ranker")]
    result = run(cli, scen, "--since", "2025-09-01", "--provider", "beta")
    assert result.returncode == 0 and "no differences" in result.stdout


def test_a_historic_version_that_no_longer_validates(cli: CliRunner, scen: Scenario) -> None:
    c = scen.commits
    data = as_json(cli, scen, c["criterion"], c["invalid"])
    (feed,) = data["disclosures"]
    assert feed["diff"]["migration"] is True
    assert feed["diff"]["changes"] == [
        {
            "path": "algorithm_owner",
            "parts": ["algorithm_owner"],
            "change": "added",
            "substantive": False,
            "editorial_reason": "migration",
            "new": "张三",
        }
    ]


def test_markdown(cli: CliRunner, scen: Scenario) -> None:
    c = scen.commits
    result = run(cli, scen, c["initial"], c["criterion"], "--format", "markdown")
    assert result.returncode == 1
    out = result.stdout
    assert out.startswith("# Registry changes\n")
    assert "## Changed: acme/feed" in out
    assert "| Change | Field | Nature | Before | After |" in out
    assert (
        "| Changed | `optimization_objectives[watch-time].weight` | substantive | 0.6 | 0.5 |"
        in out
    )
    assert "<details><summary>Unchanged fields (" in out


def test_html(cli: CliRunner, scen: Scenario) -> None:
    result = run(cli, scen, "--since", "2025-08-15", "--format", "html")
    assert result.returncode == 1
    doc = BeautifulSoup(result.stdout, "html.parser")
    assert doc.html["lang"] == "en" and doc.find("script") is None and doc.find("style") is None
    assert doc.h2.get_text() == "Changed: acme/feed"
    table = doc.find("table")
    assert table.caption.get_text() == "Changes to acme/feed"
    row = [cell.get_text(strip=True) for cell in table.tbody.tr.find_all(["th", "td"])]
    assert row[:2] == ["principles.en", "Changed (editorial: translation wording)"]
    assert [i.get_text() for i in table.find_all("ins")] == [
        "how long people ",
        "how they interact",
    ]
    assert table.tbody.tr.find_all("td")[1]["lang"] == "en"
    assert doc.find("details").summary.get_text().startswith("Unchanged fields")


# -- published snapshots ----------------------------------------------------------------------


def snapshot_at(scen: Scenario, rev: str, tmp: Path) -> Path:
    clone = tmp / f"clone-{rev[:8]}"
    subprocess.run(
        ["git", "clone", "-q", str(scen.repo.root), str(clone)], env=git_env(), check=True
    )
    subprocess.run(["git", "checkout", "-q", rev], cwd=clone, env=git_env(), check=True)
    out = tmp / f"site-{rev[:8]}"
    build_site(clone / "disclosures", out)
    target = tmp / f"registry-{rev[:8]}.json"
    shutil.copy(out / "api/registry.json", target)
    return target


@pytest.fixture(scope="module")
def snapshots(scen: Scenario, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("snapshots")
    return snapshot_at(scen, scen.commits["criterion"], tmp), snapshot_at(scen, "HEAD", tmp)


def test_two_published_snapshots(
    cli: CliRunner, scen: Scenario, snapshots: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = snapshots
    result = cli("diff", str(old), str(new), "--format", "json", cwd=tmp_path)  # no repository
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["from"]["label"] == f"snapshot {old}"
    assert summary(data) == [
        ("changed", "acme/feed"),
        ("removed", "acme/legacy"),
        ("renamed", "acme/search-ranker"),
        ("withdrawn", "beta/picker"),
        ("removed", "gamma/tagger"),
    ]
    feed = data["disclosures"][0]["diff"]["changes"]
    assert [c["path"] for c in feed] == ["principles.en"]
    same = cli("diff", str(new), str(new), cwd=tmp_path)
    assert same.returncode == 0 and "no differences" in same.stdout


# -- trouble is exit status 2 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no-such-rev", "HEAD"), "unknown revision 'no-such-rev'"),
        (("--since", "2025-02-30"), "--since: not a YYYY-MM-DD date"),
        (("--until", "2025-01-01"), "--until needs --since"),
        (("HEAD",), "diff needs A and B"),
        (("--since", "2025-01-01", "HEAD"), "not both"),
        (("--since", "2025-03-01", "--until", "2025-02-01"), "is before --since"),
        (("--since", "2025-01-01", "--category", "ranking"), "is not a category"),
        (("README.md", "HEAD"), "compare two snapshot files"),
        (("--format", "pdf", "--since", "2025-01-01"), "invalid choice"),
    ],
)
def test_usage_errors(cli: CliRunner, scen: Scenario, args: tuple[str, ...], message: str) -> None:
    result = run(cli, scen, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_not_a_repository_and_bad_snapshots(cli: CliRunner, tmp_path: Path, mini: Path) -> None:
    result = cli("diff", "--since", "2025-01-01")
    assert result.returncode == 2 and "is not in a git repository" in result.stderr
    (tmp_path / "a.json").write_text("{not json", "utf-8")
    (tmp_path / "b.json").write_text('{"disclosures": []}', "utf-8")
    result = cli("diff", "a.json", "b.json")
    assert result.returncode == 2 and "a.json is not a JSON file" in result.stderr
    (tmp_path / "c.json").write_text('{"providers": []}', "utf-8")
    result = cli("diff", "b.json", "c.json")
    assert result.returncode == 2 and "not an api/registry.json snapshot" in result.stderr
    assert "Traceback" not in result.stderr
