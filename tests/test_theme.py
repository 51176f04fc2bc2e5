"""Themes: compiled templates kept in the build cache, and compiled again when edited."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment

from sitegen.cache import Cache
from sitegen.diagnostics import Report
from sitegen.pipeline import CSP, load_registry
from sitegen.render import Renderer
from sitegen.theme import DEFAULT_THEME, Theme

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def theme_dir(tmp_path: Path) -> Path:
    root = tmp_path / "theme"
    shutil.copytree(DEFAULT_THEME, root)
    return root


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja2 compiles from source."""
    names: list[str] = []
    real = Environment.compile

    def counting(self: Environment, source: str, name: str | None = None, *rest: Any) -> Any:
        names.append(str(name))
        return real(self, source, name, *rest)

    monkeypatch.setattr(Environment, "compile", counting)
    return names


def page(theme: Theme) -> bytes:
    """The sample registry's 404 page, which extends the base template."""
    report = Report()
    registry = load_registry(ROOT / "disclosures", report)
    assert registry is not None and not report.has_errors()
    renderer = Renderer(registry, theme)
    renderer.extra_context.update({"csp": CSP, "extra_nav": []})
    return renderer.render("404.html", "404.html", "en", "Not found")


def test_a_theme_loaded_again_compiles_nothing(
    theme_dir: Path, tmp_path: Path, compiled: list[str]
) -> None:
    first = page(Theme(theme_dir, Cache.open(tmp_path / "cache")))
    assert {"404.html", "base.html"} <= set(compiled)
    compiled.clear()
    again = page(Theme(theme_dir, Cache.open(tmp_path / "cache")))
    assert compiled == []
    assert again == first


def test_an_edited_template_is_compiled_again(
    theme_dir: Path, tmp_path: Path, compiled: list[str]
) -> None:
    page(Theme(theme_dir, Cache.open(tmp_path / "cache")))
    base = theme_dir / "templates" / "base.html"
    text = base.read_text("utf-8")
    assert "</body>" in text
    base.write_text(text.replace("</body>", "<p>edited-base</p></body>", 1), "utf-8")
    compiled.clear()
    shown = page(Theme(theme_dir, Cache.open(tmp_path / "cache")))
    assert compiled == ["base.html"]  # the page itself was kept
    assert b"<p>edited-base</p>" in shown


def test_without_a_cache_every_load_compiles(
    theme_dir: Path, tmp_path: Path, compiled: list[str]
) -> None:
    page(Theme(theme_dir, Cache(None)))
    compiled.clear()
    page(Theme(theme_dir, Cache(None)))
    assert {"404.html", "base.html"} <= set(compiled)
