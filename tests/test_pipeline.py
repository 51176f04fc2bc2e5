"""The build pipeline's handling of the garbage collector, seen from inside a real build."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from sitegen import pipeline
from sitegen.cache import Cache
from sitegen.render import Renderer
from sitegen.theme import ThemeError

ROOT = Path(__file__).resolve().parent.parent


def test_the_registry_is_frozen_while_pages_are_made_and_the_collector_restored_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "disclosures"
    shutil.copytree(ROOT / "disclosures", source)
    seen: list[tuple[int, tuple[int, int, int]]] = []
    home = Renderer.home

    def spy(self: Renderer, lang: str) -> tuple[str, bytes]:
        seen.append((gc.get_freeze_count(), gc.get_threshold()))
        return home(self, lang)

    monkeypatch.setattr(Renderer, "home", spy)
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    pipeline.build_site(source, tmp_path / "site", cache=Cache(None), jobs=1)
    assert seen
    frozen, thresholds = seen[0]
    assert frozen > 0  # the registry, out of the collector's sight
    assert thresholds[0] == pipeline.YOUNG_OBJECTS
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    # A build that fails once the registry is frozen (its theme is missing) restores it too.
    with pytest.raises(ThemeError):
        pipeline.build_site(
            source, tmp_path / "site2", cache=Cache(None), jobs=1, theme_dir=tmp_path / "none"
        )
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
