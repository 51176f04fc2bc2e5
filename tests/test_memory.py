"""Freed memory handed back to the system, measured in this process's resident set."""

from __future__ import annotations

import gc
import shutil
import sys
from pathlib import Path

import pytest

from sitegen import export, memory, pipeline
from sitegen.cache import Cache
from sitegen.units import Units

ROOT = Path(__file__).resolve().parent.parent


def resident() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(memory._trim() is None, reason="needs glibc's malloc_trim")
def test_freed_blocks_in_the_middle_of_the_heap_leave_the_resident_set() -> None:
    # 2 KB blocks come from the C heap, not from mmap or Python's small-object arenas.
    blocks = [bytes(2048) for _ in range(20_000)]  # 40 MB, made resident by the zeroing
    keep = bytes(2048)  # above them: the heap cannot simply shrink at its top
    del blocks
    before = resident()
    assert memory.release_free_memory()
    after = resident()
    assert before - after > 20 * 2**20, (before, after)
    assert len(keep) == 2048


def test_elsewhere_it_asks_for_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    memory._trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert memory._trim() is None
        assert not memory.release_free_memory()
    finally:
        memory._trim.cache_clear()


def test_a_build_releases_what_it_freed_once_the_registry_is_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "disclosures"
    shutil.copytree(ROOT / "disclosures", source)
    calls: list[str] = []

    def release() -> bool:
        calls.append(f"release, frozen {gc.get_freeze_count() > 0}")
        return True

    start = Units.start

    def units_start(self: Units, *args: object, **kwargs: object) -> object:
        calls.append("units")
        return start(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(memory, "release_free_memory", release)  # imported by the build
    monkeypatch.setattr(Units, "start", units_start)
    pipeline.build_site(source, tmp_path / "site", cache=Cache(None), jobs=1)
    assert calls == ["release, frozen True", "units"]  # before the workers fork


def test_the_build_process_releases_the_registry_json_once_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "disclosures"
    shutil.copytree(ROOT / "disclosures", source)
    staged: list[str] = []
    stage = export.Export.stage

    def spy_stage(self: export.Export, sink: object) -> object:
        staged.append("staged")
        return stage(self, sink)  # type: ignore[arg-type]

    monkeypatch.setattr(export.Export, "stage", spy_stage)
    monkeypatch.setattr(export, "release_free_memory", lambda: staged.append("released"))
    pipeline.build_site(source, tmp_path / "site", cache=Cache(None), jobs=1)
    assert staged == ["staged", "released"]
    assert (tmp_path / "site" / "api" / "registry.json").stat().st_size > 0
