"""Themes are plain folders: ``templates/`` (Jinja2), ``static/`` (assets) and ``strings.yaml``.

The environment autoescapes everything and uses ``StrictUndefined`` so a typo in a template fails
the build instead of printing nothing.  Interface text belongs to the theme, so another theme can
word the portal differently without touching the package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

import markupsafe
from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
)
from jinja2.bccache import Bucket
from jinja2.ext import Extension
from jinja2.lexer import (
    TOKEN_DOT,
    TOKEN_LPAREN,
    TOKEN_NAME,
    TOKEN_RPAREN,
    TOKEN_STRING,
    Token,
    TokenStream,
)
from markupsafe import Markup, escape

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
    edited template is compiled again; the store's name digests Jinja2's version.  A
    template is compiled once per language with that language's interface strings in it
    (:class:`FoldedStrings`), so ``salt`` names the language and digests its strings: an
    edited string is compiled in again although no template changed.
    """

    NAMESPACE = "template"

    def __init__(self, cache: Cache, salt: str = "") -> None:
        self.cache = cache
        self.salt = salt

    def load_bytecode(self, bucket: Bucket) -> None:
        # ``here``: a forked worker compiling a template reads through its own connection.
        stored = self.cache.here().get(self.NAMESPACE, self.salt + bucket.key)
        if isinstance(stored, bytes):
            bucket.bytecode_from_string(stored)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.cache.here().put(self.NAMESPACE, self.salt + bucket.key, bucket.bytecode_to_string())


class FoldedStrings(Extension):
    """``_('key')`` with a literal key and nothing else is compiled as the string itself.

    Each language has its own environment, so its templates are compiled with its interface
    strings in place: Jinja2 then escapes them once, at compile time, and writes them as
    template text.  A 10,000 x 3 build made 7.6 million such calls in the disclosures'
    pages, each through Jinja2's call machinery, the theme's lookup and escaping.  A call
    with values (``_('key', n=3)``), with a key made at run time, or with a key the strings
    do not define is left as it is, to run (and fail) as before.  Jinja2's own i18n
    extension translates at run time, which is what this avoids.
    """

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        strings: dict[str, str] = getattr(self.environment, "folded_strings", {})
        tokens = list(stream)
        index, end = 0, len(tokens)
        while index < end:
            token = tokens[index]
            if (
                token.type == TOKEN_NAME
                and token.value == "_"
                and index + 3 < end
                and tokens[index + 1].type == TOKEN_LPAREN
                and tokens[index + 2].type == TOKEN_STRING
                and tokens[index + 3].type == TOKEN_RPAREN
                and tokens[index + 2].value in strings
                and (index == 0 or tokens[index - 1].type != TOKEN_DOT)  # not ``x._('k')``
            ):
                yield Token(token.lineno, TOKEN_STRING, strings[tokens[index + 2].value])
                index += 4
                continue
            yield token
            index += 1


def _escape_text(text: str) -> str:
    """Escaped plain text through ``markupsafe.escape``: for a MarkupSafe without the C
    function below (before 3.0, where ``escape`` is C throughout)."""
    return str(escape(text))


# The C function ``markupsafe.escape`` (3.0 and later) wraps: it returns the escaped text as
# plain ``str``.  Chosen once here, not on each of the millions of calls below.
_ESCAPE_TEXT: Callable[[str], str] = getattr(markupsafe, "_escape_inner", _escape_text)


def _escape_output(value: object) -> str:
    """What ``markupsafe.escape`` gives, for a template's ``{{ … }}`` only.

    Compiled templates call ``escape`` on every value they output (about 2,000 times for
    one disclosure's pages), and only to join the result into the page: Jinja2's code
    generator emits the call nowhere else.  ``escape`` wraps the text in a new ``Markup``
    through two Python-level ``__html__`` lookups, which is most of its 0.4 us, and copies
    text that is ``Markup`` already the same way (0.5 us); here they take 0.08 us.  Plain
    text goes to markupsafe's own escaper, ``Markup`` is safe as it is, and anything else
    (numbers, a theme's ``__html__`` objects, ``StrictUndefined``, which must still fail)
    goes through ``escape`` itself.
    """
    if type(value) is str:
        return _ESCAPE_TEXT(value)
    if type(value) is Markup:
        return value
    return escape(value)


class _Template(Template):
    """A template whose output is escaped by :func:`_escape_output`."""

    @classmethod
    def from_code(
        cls,
        environment: Environment,
        code: CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> Template:
        template = super().from_code(environment, code, globals, uptodate)
        # The namespace the compiled code runs in, where it looks ``escape`` up.
        namespace = template.root_render_func.__globals__
        if namespace.get("escape") is escape:
            namespace["escape"] = _escape_output
        return template


class Theme:
    def __init__(self, root: Path = DEFAULT_THEME, cache: Cache | None = None) -> None:
        if not (root / "templates").is_dir():
            raise ThemeError(f"theme folder {root} has no templates/ folder")
        self.root = root
        self.cache = cache if cache is not None and cache.enabled else None
        strings_file = root / "strings.yaml"
        try:
            source = strings_file.read_text("utf-8")
            strings, _, _ = parse_yaml(source)
        except OSError as exc:
            raise ThemeError(f"cannot read {strings_file}: {exc.strerror}") from None
        except YamlProblem as exc:
            raise ThemeError(f"{strings_file}:{exc.line}:{exc.col}: {exc.message}") from None
        self.strings: dict[str, dict[str, str]] = {str(k): v for k, v in strings.items()}
        self._strings_digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
        self._environments: dict[str, Environment] = {}

    def environment(self, lang: str) -> Environment:
        """The templates as compiled for ``lang``: its interface strings are folded in."""
        env = self._environments.get(lang)
        if env is None:
            stored = None
            if self.cache is not None:
                stored = StoredTemplates(self.cache, f"{lang}:{self._strings_digest}:")
            env = Environment(
                loader=FileSystemLoader(str(self.root / "templates")),
                autoescape=True,
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
                # A theme is loaded per build (``serve`` loads it again after a change), so
                # its templates never change under it: no file-date check on every render.
                auto_reload=False,
                bytecode_cache=stored,
                extensions=[FoldedStrings],
            )
            env.template_class = _Template
            env.filters["markdown"] = render_markdown
            folded = {
                key: self.gettext(key, lang)
                for key, entry in self.strings.items()
                if isinstance(entry, dict) and entry  # others fail where they are used
            }
            env.extend(folded_strings=folded)
            self._environments[lang] = env
        return env

    def gettext(self, key: str, lang: str, **values: Any) -> str:
        try:
            entry = self.strings[key]
        except KeyError:
            raise ThemeError(f"theme string {key!r} is not defined in strings.yaml") from None
        text = str(entry.get(lang) or next(iter(entry.values())))
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def render(self, template: str, lang: str, context: dict[str, Any]) -> str:
        """``template`` in ``lang``: ``context``'s ``_`` must translate into ``lang`` too."""
        try:
            return self.environment(lang).get_template(template).render(context)
        except TemplateError as exc:
            raise ThemeError(f"template {template}: {exc}") from None

    def macros(self, template: str, lang: str, context: dict[str, Any]) -> Any:
        """A template's macros bound to a page's context, to lay out one row at a time."""
        try:
            return self.environment(lang).get_template(template).make_module(context)
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
