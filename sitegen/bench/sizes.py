"""Sizes of built sites: the whole output, and what a reader downloads to search it."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path
from typing import Any

GZIP_LEVEL = 6  # zlib's default, and what most servers use for on-the-fly compression
_SCRIPT = re.compile(rb"<script[^>]*\bsrc=\"([^\"]+)\"")


def tree_size(root: Path, gzipped: bool = False) -> tuple[int, int]:
    """(files, bytes) under ``root``; with ``gzipped``, the bytes are each file gzipped."""
    files = total = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if gzipped:
                with open(path, "rb") as handle:
                    total += len(gzip.compress(handle.read(), GZIP_LEVEL))
            else:
                total += os.stat(path).st_size
            files += 1
    return files, total


def _sizes(path: Path) -> dict[str, int]:
    data = path.read_bytes()
    return {"raw": len(data), "gzip": len(gzip.compress(data, GZIP_LEVEL))}


def search_sizes(site: Path) -> dict[str, Any] | None:
    """Our search download, per search page: its index files and the scripts it loads.

    Every ``search/index.html`` (one per language) is read for its ``<script src>``; the JSON
    files beside it are its index.  "first result" is what a reader of that language fetches
    before the first result appears: the page, its index and its scripts, gzipped.  None when the
    site has no search page.
    """
    pages = sorted(site.glob("search/index.html")) + sorted(site.glob("*/search/index.html"))
    if not pages:
        return None
    result: dict[str, Any] = {"pages": {}, "raw": 0, "gzip": 0}
    counted: set[Path] = set()
    for page in pages:
        folder = page.parent
        files = sorted(folder.glob("*.json"))
        scripts = [
            (folder / src.decode()).resolve()
            for src in _SCRIPT.findall(page.read_bytes())
            if not src.startswith((b"http:", b"https:", b"//"))
        ]
        entry: dict[str, Any] = {
            "page": _sizes(page),
            "index": {},
            "scripts": {"raw": 0, "gzip": 0},
        }
        for path in files:
            entry["index"][path.name] = _sizes(path)
        for script in scripts:
            if script.is_file():
                sizes = _sizes(script)
                entry["scripts"]["raw"] += sizes["raw"]
                entry["scripts"]["gzip"] += sizes["gzip"]
        index_gz = sum(s["gzip"] for s in entry["index"].values())
        first = entry["page"]["gzip"] + index_gz + entry["scripts"]["gzip"]
        entry["first_result_gzip"] = first
        result["pages"][str(page.relative_to(site))] = entry
        for path in files:
            if path not in counted:
                counted.add(path)
                result["raw"] += entry["index"][path.name]["raw"]
                result["gzip"] += entry["index"][path.name]["gzip"]
    result["first_result_gzip"] = max(e["first_result_gzip"] for e in result["pages"].values())
    return result
