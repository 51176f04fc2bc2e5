"""``python -m sitegen.bench``: generate a registry, time our build and theirs, print a table.

    python -m sitegen.bench [--n 10000] [--providers P] [--versions 3] [--runs 3]
                            [--competitors mkdocs,hugo | --skip-competitors]
                            [--json out.json] [--keep DIR]

Without ``--keep`` everything is written to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sitegen.bench.report import commit, machine, render, targets
from sitegen.bench.runner import COMPETITORS, Bench, BenchError, Options

PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sitegen.bench",
        description="Benchmark the build on a synthetic registry, beside MkDocs and Hugo.",
    )
    p.add_argument("--n", type=int, default=10_000, help="disclosures (default 10000)")
    p.add_argument("--providers", type=int, help="providers (default n/25)")
    p.add_argument(
        "--versions", type=int, default=3, help="versions of each disclosure (default 3)"
    )
    p.add_argument("--runs", type=int, default=3, help="runs of each measurement (default 3)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    p.add_argument(
        "--competitors",
        type=_competitors,
        default=COMPETITORS,
        metavar="NAMES",
        help="which to run, comma-separated: mkdocs, hugo (with Pagefind), or none "
        "(default: both); at 10,000 disclosures MkDocs runs out of memory after 17 minutes",
    )
    p.add_argument(
        "--skip-competitors",
        dest="competitors",
        action="store_const",
        const=(),
        help="run neither (same as --competitors none)",
    )
    p.add_argument("--competitor-runs", type=int, help="runs of each competitor (default: --runs)")
    p.add_argument(
        "--memory-limit",
        type=float,
        default=12,
        help="GB of address space allowed to each competitor process (default 12; 0: none)",
    )
    p.add_argument(
        "--timeout", type=float, default=3600, help="seconds allowed per run (default 3600)"
    )
    p.add_argument("--json", type=Path, help="also write the full report as JSON here")
    p.add_argument("--keep", type=Path, help="work in this (new) folder and keep it")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the report")
    return p


def _competitors(value: str) -> tuple[str, ...]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if names == ["none"]:
        return ()
    unknown = [name for name in names if name not in COMPETITORS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{', '.join(unknown) or 'nothing'}: name mkdocs, hugo, both (mkdocs,hugo) or none"
        )
    return tuple(name for name in COMPETITORS if name in names)  # always in the same order


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.n < 1 or args.versions < 1 or args.runs < 1:
        parser().error("--n, --versions and --runs must be at least 1")
    options = Options(
        n=args.n,
        providers=args.providers,
        versions=args.versions,
        runs=args.runs,
        seed=args.seed,
        competitors=args.competitors,
        competitor_runs=args.competitor_runs,
        memory_limit=int(args.memory_limit * 10**9) or None,
        timeout=args.timeout,
    )
    if args.keep is not None:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser().error(f"--keep {args.keep}: the folder is not empty")
        work = args.keep.resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="sitegen-bench-"))

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    report: dict[str, Any] = {
        "commit": commit(PACKAGE_ROOT),
        "machine": machine(),
        "params": {
            **vars(options),
            "workdir": str(work),
            "command": " ".join(["python -m sitegen.bench", *(argv or sys.argv[1:])]),
        },
    }
    started = time.perf_counter()
    try:
        report.update(Bench(options, work, log).run())
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            log(f"removing {work}")
            shutil.rmtree(work, ignore_errors=True)
    report["seconds"] = time.perf_counter() - started
    report["targets"] = targets(report)
    print(render(report), end="")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
