"""Command line: parse arguments, call one pipeline function, turn failures into exit codes.

Exit codes: 0 success, 1 invalid input or failed output, 2 usage error.  Commands import their
modules lazily so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from sitegen.diagnostics import SitegenError, UsageError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str) -> Callable[[Callable[[argparse.Namespace], int]], Callable[..., int]]:
    def register(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = fn
        return fn

    return register


class _Parser(argparse.ArgumentParser):
    """Usage errors become :class:`UsageError` so every exit path goes through ``main``."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _source(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        type=Path,
        default=Path("disclosures"),
        help="registry folder (default: disclosures/)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sitegen",
        description="Validate algorithm disclosures and build the transparency portal.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("build", help="validate and build the static site (the default)")
    _source(p)
    p.add_argument(
        "--out", type=Path, default=Path("_site"), help="output folder (default: _site/)"
    )
    p.add_argument("--base-url", help="override site.yaml's base_url")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--quiet", "-q", action="store_true", help="print only problems")

    p = sub.add_parser("validate", help="check the registry and report every problem")
    _source(p)
    p.add_argument("paths", nargs="*", type=Path, help="report only on these files")
    p.add_argument(
        "--format",
        choices=("text", "github", "json"),
        default="text",
        help="text (default), GitHub workflow annotations, or JSON",
    )
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    return parser


@command("build")
def _build(args: argparse.Namespace) -> int:
    from sitegen.pipeline import build_site

    started = time.perf_counter()
    result = build_site(args.source, args.out, base_url=args.base_url, strict=args.strict)
    for diagnostic in result.report.warnings:
        print(diagnostic.format_text(), file=sys.stderr)
    if not args.quiet:
        elapsed = time.perf_counter() - started
        print(result.summary(elapsed))
    return 0


@command("validate")
def _validate(args: argparse.Namespace) -> int:
    from sitegen.pipeline import check

    report = check(args.source)
    if args.paths:
        from sitegen.load import display_path

        wanted = {display_path(p) for p in args.paths}
        report.items = [d for d in report.items if d.path in wanted]
    output = report.render(args.format)
    if output:
        print(output)
    failed = report.has_errors(strict=args.strict)
    if args.format == "text":
        errors, warnings = len(report.errors), len(report.warnings)
        status = "failed" if failed else "ok"
        print(f"validate {status}: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "build")
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            args = build_parser().parse_args(["build", *argv])
        return COMMANDS[args.command](args)
    except SitegenError as exc:
        report = getattr(exc, "report", None)
        if report is not None:
            text = report.render("text")
            if text:
                print(text, file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted; the previous output is unchanged", file=sys.stderr)
        return 130
