"""Themes: compiled templates kept in the build cache, and compiled again when edited."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, UndefinedError
from markupsafe import Markup, escape

from sitegen.cache import Cache
from sitegen.diagnostics import Report
from sitegen.pipeline import CSP, load_registry
from sitegen.render import Renderer
from sitegen.theme import DEFAULT_THEME, Theme, _escape_output, _escape_text

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


def page(theme: Theme, lang: str = "en") -> bytes:
    """The sample registry's 404 page in ``lang``, which extends the base template."""
    report = Report()
    registry = load_registry(ROOT / "disclosures", report)
    assert registry is not None and not report.has_errors()
    renderer = Renderer(registry, theme)
    renderer.extra_context.update({"csp": CSP, "extra_nav": []})
    return renderer.render("404.html", "404.html", lang, "Not found")


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


PROBE = (
    "{{ _('nav.home') }}|{{ _('probe.markup') }}|{{ _(key) }}|{{ _('version.short', n=2) }}"
    "|{{ _('nav.' ~ 'home') }}|{{ obj._('nav.home') }}|{{ _('probe.missing') }}\n"
)


class _Holder:
    def _(self, key: str) -> str:
        return f"attr:{key}"


def test_interface_strings_are_compiled_into_each_language(theme_dir: Path) -> None:
    """``_('key')`` alone is compiled as the string in the page's language, escaped as at run
    time; a call with values, a key made at run time, an attribute called ``_`` and a key the
    strings lack still go through the context's ``_``."""
    with (theme_dir / "strings.yaml").open("a", encoding="utf-8") as strings:
        strings.write('probe.markup: {zh: "<b>甲</b> & \\"乙\\"", en: "<b>A</b> & \\"B\\""}\n')
    (theme_dir / "templates" / "probe.html").write_text(PROBE, "utf-8")
    theme = Theme(theme_dir, Cache(None))
    for lang in ("zh", "en"):
        asked: list[str] = []

        def gettext(key: str, asked: list[str] = asked, lang: str = lang, **values: Any) -> str:
            asked.append(key)
            return "missing" if key == "probe.missing" else theme.gettext(key, lang, **values)

        shown = theme.render(
            "probe.html", lang, {"_": gettext, "key": "probe.markup", "obj": _Holder()}
        )
        home, markup, markup_at_run_time, *runtime = shown.split("|")
        assert home == theme.gettext("nav.home", lang)
        assert markup == markup_at_run_time  # the same escaping either way
        assert "&lt;b&gt;" in markup and "&#34;" in markup and "<b>" not in markup
        assert runtime == [
            theme.gettext("version.short", lang, n=2),
            theme.gettext("nav.home", lang),
            "attr:nav.home",
            "missing\n",
        ]
        assert asked == ["probe.markup", "version.short", "nav.home", "probe.missing"]
    assert theme.gettext("nav.home", "zh") != theme.gettext("nav.home", "en")


def test_an_edited_string_is_compiled_in_again(theme_dir: Path, tmp_path: Path) -> None:
    """Compiled templates hold the strings: after a string is edited the stored ones are not
    used, though no template changed, and the new text shows in its language only."""
    cache = tmp_path / "cache"
    first = {lang: page(Theme(theme_dir, Cache.open(cache)), lang) for lang in ("zh", "en")}
    strings = theme_dir / "strings.yaml"
    text = strings.read_text("utf-8")
    assert "en: Skip to content}" in text
    strings.write_text(text.replace("en: Skip to content}", "en: Skip to the text}"), "utf-8")
    again = Theme(theme_dir, Cache.open(cache))
    assert b">Skip to the text</a>" in page(again, "en")
    assert b">Skip to content</a>" in first["en"]
    assert page(again, "zh") == first["zh"]


# -- output escaping ---------------------------------------------------------------------------


class _Html:
    def __html__(self) -> str:
        return "<i>own</i>"


class _Shown:
    def __str__(self) -> str:
        return "<b>shown</b> & 'so'"


class _Text(str):
    """Text of another kind than ``str`` and ``Markup``: escaped like any other value."""


@given(st.text())
def test_output_escaping_gives_what_markupsafe_gives_for_any_text(text: str) -> None:
    assert _escape_output(text) == escape(text)
    assert _escape_output(Markup(text)) == escape(Markup(text)) == text
    assert _escape_text(text) == escape(text)  # without MarkupSafe's C function


@pytest.mark.parametrize(
    "value",
    [0, -3, 2.5, None, True, _Html(), _Shown(), _Text("<a href='x'>&</a>"), ["<a>"], {"k": "<v>"}],
)
def test_output_escaping_gives_what_markupsafe_gives_for_other_values(value: object) -> None:
    assert _escape_output(value) == escape(value)


PROBE_ESCAPING = """{% macro bold(x) %}<b>{{ x }}</b>{% endmacro -%}
{{ text }}|{{ bold(text) }}|{{ markup }}|{{ html }}|{{ shown }}|{{ number }}|{{ text|e }}|\
{% set kept %}<i>{{ text }}</i>{% endset %}{{ kept }}"""


def test_every_template_output_is_escaped_as_markupsafe_escapes(theme_dir: Path) -> None:
    """The theme's templates escape through ``_escape_output`` (the compiled code's own
    ``escape`` is replaced), with the bytes markupsafe's ``escape`` gives, on a first load and
    from stored compiled code; an undefined name still fails."""
    (theme_dir / "templates" / "escaping.html").write_text(PROBE_ESCAPING, "utf-8")
    hostile = "<script>alert('x')</script> & \"quoted\" 网信"
    context = {
        "text": hostile,
        "markup": Markup("<em>safe</em>"),
        "html": _Html(),
        "shown": _Shown(),
        "number": 42,
    }
    expected = Environment(autoescape=True).from_string(PROBE_ESCAPING).render(context)
    assert "&lt;script&gt;" in expected and "<script>" not in expected  # the reference escapes
    cache = Cache.open(theme_dir.parent / "cache")
    for attempt in ("compiled", "stored"):
        theme = Theme(theme_dir, cache)
        template = theme.environment("en").get_template("escaping.html")
        assert template.root_render_func.__globals__["escape"] is _escape_output, attempt
        assert theme.render("escaping.html", "en", context) == expected, attempt
        with pytest.raises(UndefinedError):
            theme.environment("en").from_string("{{ nowhere }}").render({})
