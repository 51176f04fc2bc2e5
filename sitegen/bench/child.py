"""One measured run of our own pipeline, in a fresh process: ``check`` or ``build``.

``python -m sitegen.bench.child check SOURCE`` or ``... build SOURCE OUT`` runs the real
pipeline functions with phase timing on (``sitegen.timing``) and prints one JSON object: the
seconds spent importing, each phase's seconds, the time left outside any phase, and what
was built.  The parent measures the wall clock and memory of this process from outside, to
its exit, which comes as the command line's does (``sitegen.cli.exit_now``).
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()

import json  # noqa: E402  (the import time of the pipeline is itself measured)
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def main(argv: list[str]) -> int:
    from sitegen.diagnostics import SitegenError

    try:
        return _measured(argv)
    except SitegenError as exc:  # a full disk, an output path that is a file: said, not traced
        print(f"error: {exc}", file=sys.stderr)
        return exc.code


def _measured(argv: list[str]) -> int:
    from sitegen.diagnostics import InvalidInput
    from sitegen.pipeline import build_site, check
    from sitegen.timing import recording

    imported = time.perf_counter()
    action, source = argv[0], Path(argv[1])
    result: dict[str, Any] = {"action": action, "import": imported - _STARTED}
    with recording() as timings:
        if action == "check":
            report = check(source)
        elif action == "build":
            try:
                built = build_site(source, Path(argv[2]))
            except InvalidInput as exc:
                report = exc.report
                result["failed"] = True
            else:
                report = built.report
                result.update(pages=built.pages, files=built.files, bytes=built.bytes)
                result.update(written=built.written, updated=built.updated)
                result["notes"] = built.notes
        else:
            print(f"unknown action {action!r}", file=sys.stderr)
            return 2
    finished = time.perf_counter()
    phases = dict(timings.seconds)
    result["run"] = finished - imported
    result["phases"] = phases
    result["other"] = max(0.0, result["run"] - sum(phases.values()))
    result["errors"] = len(report.errors)
    result["warnings"] = len(report.warnings)
    result["first_errors"] = [d.format_text() for d in report.errors[:5]]
    print(json.dumps(result))
    return 1 if result["errors"] or result.get("failed") else 0


if __name__ == "__main__":
    from sitegen.cli import exit_now

    exit_now(main(sys.argv[1:]))  # as the command line ends: without freeing, object by object
