"""What the benchmark prints: the machine, our phases, the competitors, ratios and targets."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

# The targets, for 10,000 disclosures x 3 versions on the 2-core development machine.
TARGETS: list[tuple[str, str, float, str]] = [
    # (name, where in the report, limit, unit); "x" targets are minimums, the others maximums
    ("full build", "ours.full.wall", 30.0, "s"),
    ("validate only", "ours.validate.wall", 5.0, "s"),
    ("validate only, with the last build's cache", "ours.validate_warm.wall", 5.0, "s"),
    ("incremental rebuild", "ours.incremental.wall", 3.0, "s"),
    ("peak memory (full build)", "ours.full.peak", 1.5e9, "B"),
    ("search download before first result", "ours.search.first_result_gzip", 2e6, "B"),
    ("throughput over MkDocs", "ratios.mkdocs.throughput", 5.0, "x"),
]
PHASES = ("import", "load", "validate", "history", "render", "search", "export", "write")


def _get(report: dict[str, Any], dotted: str) -> Any:
    value: Any = report
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory = 0
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": list(load) if load else None,
    }


def commit(repo: Path) -> str:
    """The measured code's commit, marked ``-dirty`` when the package has local changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "sitegen", "themes"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, where, limit, unit in TARGETS:
        value = _get(report, where)
        met = None if value is None else (value >= limit if unit == "x" else value <= limit)
        rows.append({"target": name, "limit": limit, "unit": unit, "measured": value, "met": met})
    return rows


def _size(value: float | None) -> str:
    if value is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return ""


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "B":
        return _size(value)
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:.2f} s"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _rss(run: dict[str, Any]) -> str:
    return _size(run.get("peak"))


def _stick(run: dict[str, Any]) -> str:
    stick = run.get("yardstick_ms")
    return "—" if stick is None else f"{stick:.1f}"


def render(report: dict[str, Any]) -> str:
    params, m = report["params"], report["machine"]
    lines = [
        f"sitegen benchmark at {report['commit']}: {params['n']} disclosures, "
        f"{report['generate']['providers']} providers, {params['versions']} versions, "
        f"medians of {params['runs']} run(s)",
        f"machine: {m['cpus']} CPU(s) {m['cpu']}, {_size(m['memory'])} RAM, Python {m['python']}, "
        f"load average before {m['load_average']}"
        + ("" if report.get("byte_code", True) else "; sitegen could not be byte-compiled"),
        f"generated {report['generate']['files']} files ({_size(report['generate']['bytes'])}) "
        f"in {report['generate']['seconds']:.1f} s",
        "",
    ]
    ours = report["ours"]
    header = ["ours", "wall", "cpu", "peak RSS", *PHASES, "other", "yardstick"]
    rows = [header]
    for name in ("validate", "full", "incremental", "validate_warm"):
        if name not in ours:
            continue
        run = ours[name]
        phases = run.get("phases", {})
        cells = [f"{run['import']:.2f}"] + [
            f"{phases[p]:.2f}" if p in phases else "—" for p in PHASES[1:]
        ]
        rows.append(
            [
                name,
                f"{run['wall']:.2f}",
                f"{run['cpu']:.2f}",
                _rss(run),
                *cells,
                f"{run['other']:.2f}",
                _stick(run),
            ]
        )
    lines += _table(rows)
    lines.append(
        "yardstick: CPU ms of the same fixed Python work, measured before each run (median "
        "of the runs); more is a slower moment of the machine"
    )
    full = ours["full"]
    lines.append(
        f"full build: {full['pages']} pages, {full['pages_per_second']:.0f} pages/s, "
        f"{ours['output']['files']} files, {_size(ours['output']['bytes'])}; "
        f"walls {full['walls']}"
    )
    incremental = ours["incremental"]
    if "written" in incremental:
        how = "updated the output in place" if incremental.get("updated") else "replaced it"
        lines.append(
            f"incremental build: {how}, writing {incremental['written']} of "
            f"{incremental['files']} files; walls {incremental['walls']}"
        )
    search = ours.get("search")
    if search:
        lines.append(
            f"search index: {_size(search['raw'])} raw, {_size(search['gzip'])} gzipped; "
            f"{_size(search['first_result_gzip'])} gzipped to download before the first result"
        )
    else:
        lines.append("search index: none (the site has no search page)")
    if report["competitors"]:
        lines += ["", *_competitors(report)]
    lines += ["", "targets (10,000 x 3 on the 2-core machine):"]
    for row in report["targets"]:
        status = {True: "met", False: "MISSED", None: "not measured"}[row["met"]]
        bound = ">=" if row["unit"] == "x" else "<="
        lines.append(
            f"  {row['target']}: {_value(row['measured'], row['unit'])} "
            f"(target {bound} {_value(row['limit'], row['unit'])}) {status}"
        )
    if params["n"] != 10_000 or params["versions"] != 3:
        lines.append("  (this run is not at 10,000 x 3: the targets do not apply as such)")
    return "\n".join(lines) + "\n"


def _competitors(report: dict[str, Any]) -> list[str]:
    ours = report["ours"]
    rows = [
        [
            "tool",
            "pages",
            "wall",
            "cpu",
            "peak RSS",
            "pages/s",
            "output",
            "search (gz)",
            "ours/theirs time",
            "our throughput",
            "yardstick",
        ]
    ]
    rows.append(
        [
            "sitegen (ours)",
            str(ours["full"]["pages"]),
            f"{ours['full']['wall']:.2f}",
            f"{ours['full']['cpu']:.2f}",
            _rss(ours["full"]),
            f"{ours['full']['pages_per_second']:.0f}",
            _size(ours["output"]["bytes"]),
            _size((ours.get("search") or {}).get("gzip")),
            "1.00",
            "1.00x",
            _stick(ours["full"]),
        ]
    )
    notes = []
    for name, result in report["competitors"].items():
        label = {"mkdocs": "MkDocs + lunr.py", "hugo_pagefind": "Hugo + Pagefind"}.get(name, name)
        if not result.get("available"):
            notes.append(f"{label}: skipped, {result['reason']}")
            continue
        if "failed" in result:
            peak = _rss(result["failed_run"])
            notes.append(f"{label}: FAILED ({peak} peak), {result['failed']}")
            continue
        build, output, ratio = result["build"], result["output"], report["ratios"][name]
        rows.append(
            [
                label,
                str(output["html_pages"]),
                f"{build['wall']:.2f}",
                f"{build['cpu']:.2f}",
                _rss(build),
                f"{ratio['their_pages_per_second']:.0f}",
                _size(output["bytes"]),
                _size(output["search"]["gzip"]),
                f"{ratio['time']:.2f}",
                f"{ratio['throughput']:.2f}x",
                _stick(build),
            ]
        )
        if name == "hugo_pagefind":
            notes.append(
                f"Hugo + Pagefind: hugo {result['hugo']['wall']:.2f} s, "
                f"pagefind {result['pagefind']['wall']:.2f} s"
            )
    return _table(rows) + notes
