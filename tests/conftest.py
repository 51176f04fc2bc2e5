"""Shared fixtures: small real registries copied to a temporary folder, the real CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from gitrepo import Scenario, scenario

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = ROOT / "disclosures"


@pytest.fixture(autouse=True, scope="session")
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Builds in tests (and the CLI they start) use a cache folder of the test session's own,
    never the user's; tests about the cache point SITEGEN_CACHE_DIR elsewhere themselves."""
    import os

    os.environ["SITEGEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("sitegen-cache"))


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A writable copy of the small valid registry in tests/fixtures/mini."""
    target = tmp_path / "disclosures"
    shutil.copytree(FIXTURES / "mini", target)
    return target


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    """Run ``python build.py ARGS`` as a user would, from ``cwd`` (default: tmp_path)."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "build.py"), *args],
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample registry, built once per test session."""
    from sitegen.pipeline import build_site

    out = tmp_path_factory.mktemp("sample") / "_site"
    build_site(SAMPLES, out)
    return out


@pytest.fixture(scope="session")
def scen(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """A git repository with a year of commits covering every kind of change (read-only)."""
    return scenario(tmp_path_factory.mktemp("history") / "repo")


@pytest.fixture(scope="session")
def history_site(scen: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from ``scen``, shared by the history and feed tests."""
    from sitegen.pipeline import build_site

    out = tmp_path_factory.mktemp("history-site") / "_site"
    build_site(scen.source, out)
    return out
