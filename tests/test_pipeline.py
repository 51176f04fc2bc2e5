"""The build pipeline's handling of the garbage collector, seen from inside a real build."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from sitegen import history, pipeline
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
    # No collection between the end of history and the freeze: it would scan the whole
    # registry, made while the collector was paused, once more.
    history_done: list[bool] = []
    attach_history = history.attach_history

    def attach(*args: object, **kwargs: object) -> object:
        result = attach_history(*args, **kwargs)  # type: ignore[arg-type]
        history_done.append(True)
        return result

    monkeypatch.setattr(history, "attach_history", attach)  # imported by the build
    unfrozen_after_history: list[int] = []

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and history_done and gc.get_freeze_count() == 0:
            unfrozen_after_history.append(info["generation"])

    usual = gc.get_threshold()
    gc.set_threshold(1, 1, 1)  # any chance to collect is taken
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    gc.callbacks.append(on_collection)
    try:
        pipeline.build_site(source, tmp_path / "site", cache=Cache(None), jobs=1)
        restored = gc.get_threshold()
    finally:
        gc.callbacks.remove(on_collection)
        gc.set_threshold(*usual)
    assert history_done and unfrozen_after_history == []
    assert seen
    frozen, thresholds = seen[0]
    assert frozen > 0  # the registry, out of the collector's sight
    assert thresholds[0] == pipeline.YOUNG_OBJECTS
    assert gc.get_freeze_count() == 0 and restored == before
    # A build that fails once the registry is frozen (its theme is missing) restores it too.
    with pytest.raises(ThemeError):
        pipeline.build_site(
            source, tmp_path / "site2", cache=Cache(None), jobs=1, theme_dir=tmp_path / "none"
        )
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == usual
