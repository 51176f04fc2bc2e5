"""Themes are plain folders: ``templates/`` (Jinja2), ``static/`` (assets) and ``strings.yaml``.

The environment autoescapes everything and uses ``StrictUndefined`` so a typo in a template fails
the build instead of printing nothing.  Interface text belongs to the theme, so another theme can
word the portal differently without touching the package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache, Environment, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.bccache import Bucket

from sitegen.cache import Cache
from sitegen.diagnostics import SitegenError
from sitegen.load import YamlProblem, parse_yaml
from sitegen.markdown import render_markdown

DEFAULT_THEME = Path(__file__).resolve().parent.parent / "themes" / "default"


class ThemeError(SitegenError):
    code = 1


@dataclass(frozen=True)
class Shown:
    """A localized text as shown in one language, remembering when it fell back."""

    text: str
    lang: str
    missing: bool

    def __str__(self) -> str:
        return self.text


class StoredTemplates(BytecodeCache):
    """Compiled templates kept in the build cache.

    Compiling the theme's templates took a rebuild 0.12 s, as much as rendering the changed
    disclosure's pages.  Jinja2 finds an entry by the template's name and file and uses it
    only if the source's checksum matches (and the Python version, in its header), so an
    edited template is compiled again; the store's name digests Jinja2's version.
    """

    NAMESPACE = "template"

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def load_bytecode(self, bucket: Bucket) -> None:
        # ``here``: a forked worker compiling a template reads through its own connection.
        stored = self.cache.here().get(self.NAMESPACE, bucket.key)
        if isinstance(stored, bytes):
            bucket.bytecode_from_string(stored)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.cache.here().put(self.NAMESPACE, bucket.key, bucket.bytecode_to_string())


class Theme:
    def __init__(self, root: Path = DEFAULT_THEME, cache: Cache | None = None) -> None:
        if not (root / "templates").is_dir():
            raise ThemeError(f"theme folder {root} has no templates/ folder")
        self.root = root
        self.env = Environment(
            loader=FileSystemLoader(str(root / "templates")),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # A theme is loaded per build (``serve`` loads it again after a change), so its
            # templates never change under it: no file-date check on every render.
            auto_reload=False,
            bytecode_cache=StoredTemplates(cache) if cache is not None and cache.enabled else None,
        )
        self.env.filters["markdown"] = render_markdown
        strings_file = root / "strings.yaml"
        try:
            strings, _, _ = parse_yaml(strings_file.read_text("utf-8"))
        except OSError as exc:
            raise ThemeError(f"cannot read {strings_file}: {exc.strerror}") from None
        except YamlProblem as exc:
            raise ThemeError(f"{strings_file}:{exc.line}:{exc.col}: {exc.message}") from None
        self.strings: dict[str, dict[str, str]] = {str(k): v for k, v in strings.items()}

    def gettext(self, key: str, lang: str, **values: Any) -> str:
        try:
            entry = self.strings[key]
        except KeyError:
            raise ThemeError(f"theme string {key!r} is not defined in strings.yaml") from None
        text = str(entry.get(lang) or next(iter(entry.values())))
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def render(self, template: str, context: dict[str, Any]) -> str:
        try:
            return self.env.get_template(template).render(context)
        except TemplateError as exc:
            raise ThemeError(f"template {template}: {exc}") from None

    def macros(self, template: str, context: dict[str, Any]) -> Any:
        """A template's macros bound to a page's context, to lay out one row at a time."""
        try:
            return self.env.get_template(template).make_module(context)
        except TemplateError as exc:
            raise ThemeError(f"template {template}: {exc}") from None

    def static_files(self) -> Iterator[tuple[str, Path]]:
        """Every asset under ``static/`` as (output path, file), in a stable order."""
        base = self.root / "static"
        for path in sorted(base.rglob("*")):
            if path.is_file():
                yield "static/" + path.relative_to(base).as_posix(), path

    def fingerprint(self) -> str:
        """Changes whenever any template, string or asset changes (for caches)."""
        digest = hashlib.sha256()
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(self.root).as_posix().encode())
                try:
                    digest.update(path.read_bytes())
                except OSError as exc:
                    raise ThemeError(f"cannot read {path}: {exc.strerror}") from None
        return digest.hexdigest()


def localize(value: dict[str, str] | None, lang: str, default: str) -> Shown | None:
    if not value:
        return None
    if lang in value:
        return Shown(value[lang], lang, False)
    fallback = default if default in value else next(iter(value))
    return Shown(value[fallback], fallback, True)
