"""Run the JavaScript halves of the search in Node, for tests that compare both sides."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest


def node_exe() -> str:
    exe = shutil.which("node") or ("/usr/bin/node" if Path("/usr/bin/node").exists() else None)
    if exe is None:
        pytest.fail("node is not installed: the lunr.js half of the search cannot be tested")
    return exe


def run_node(runner: Path, *args: str | Path) -> Any:
    """Run a runner script and return the JSON it prints."""
    proc = subprocess.run(
        [node_exe(), str(runner), *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"node runner failed:\n{proc.stderr}"
    return json.loads(proc.stdout)
