"""Words and HTML for changes, in one language: shared by history pages, feeds and reports.

A diff speaks in dotted paths (``decision_criteria[freshness].name.en``); readers need
"Decision criteria › Freshness › Name › English".  Field names come from the theme's strings,
item names from the disclosure itself, and every value is escaped before it becomes HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from sitegen.diff import CHANGED, Diff, FieldChange
from sitegen.inline import highlight, inline_diff
from sitegen.theme import ThemeError

# Top-level field -> theme string (the disclosure page's own headings where there is one).
FIELD_STRINGS = {
    "id": "diff.field.id",
    "name": "diff.field.name",
    "summary": "field.summary",
    "category": "field.category",
    "role": "field.role",
    "filing": "diff.field.filing",
    "public_opinion_attributes": "field.public_opinion",
    "products": "field.products",
    "scenarios": "field.scenarios",
    "principles": "field.principles",
    "mechanism": "field.mechanism",
    "optimization_objectives": "field.objectives",
    "decision_criteria": "field.criteria",
    "data_inputs": "field.data_inputs",
    "user_controls": "field.controls",
    "complaint_channels": "diff.field.complaint_channels",
    "effective_date": "field.effective_date",
    "last_reviewed": "field.last_reviewed",
    "change_note": "field.change_note",
}
SUB_KEYS = {
    "id",
    "name",
    "description",
    "weight",
    "personal",
    "sensitive",
    "available",
    "how",
    "reason",
    "kind",
    "target",
    "label",
    "hours",
    "response_days",
    "url",
    "platforms",
    "status",
    "number",
    "date",
}
# Values that have their own words in the theme: (field name, value) -> string key.
ENUMS: dict[str, str] = {
    "category": "category.",
    "role": "role.",
    "status": "status.",
    "kind": "channel.",
    "platforms": "platform.",
}


@dataclass(frozen=True)
class Row:
    """One change as shown in a table."""

    kind: str
    kind_label: str
    label: Markup  # item names in another language carry their lang attribute
    path: str
    old: Markup
    new: Markup
    substantive: bool
    nature: str  # "Substantive" or "Editorial (translation wording)"
    lang: str


@dataclass(frozen=True)
class DiffView:
    rows: list[Row]
    unchanged: list[tuple[str, Markup]]
    migration: bool
    substantive: bool


class Labels:
    """Labels for one page language."""

    def __init__(
        self,
        gettext: Callable[..., str],
        lang: str,
        languages: Sequence[str],
    ) -> None:
        self._ = gettext
        self.lang = lang
        self.languages = list(languages)
        # A version's rows appear on its history page and in its feed entries: made once.
        # Keyed by the diff's identity (kept alive by the entry); use one Labels per unit of
        # work so this stays small.
        self._rows: dict[int, tuple[Diff, list[Row]]] = {}
        # The values of unchanged fields, by field and ``repr`` of the value: a disclosure's
        # versions repeat most of them (a third of the time making its history page's diff
        # views went into them).
        self._kept: dict[tuple[str, str], Markup] = {}

    def text(self, value: Any) -> str:
        """A localized value in this language (falling back to the default)."""
        if isinstance(value, dict):
            for lang in (self.lang, *self.languages, *value):
                if isinstance(value.get(lang), str):
                    return str(value[lang])
            return ""
        return "" if value is None else str(value)

    def field(self, name: str) -> str:
        key = FIELD_STRINGS.get(name)
        return self._(key) if key else name

    def sub(self, name: str) -> str:
        if name in SUB_KEYS:
            return self._(f"diff.sub.{name}")
        if name in (
            "personalization_opt_out",
            "tag_management",
            "explanation",
        ):
            return self._(f"field.control.{name}")
        return name

    def enum(self, name: str, value: Any) -> str | None:
        prefix = ENUMS.get(name)
        if prefix is None or not isinstance(value, str):
            return None
        try:
            return self._(prefix + value)
        except ThemeError:  # an unknown value (an old format) is shown as written
            return None

    def kind(self, kind: str) -> str:
        return self._(f"diff.{kind}")

    def event(self, kind: str) -> str:
        return self._(f"event.{kind}")

    def nature(self, change: FieldChange) -> str:
        if change.substantive:
            return self._("diff.substantive")
        return f"{self._('diff.editorial')} ({self._('diff.reason.' + change.reason)})"

    def shown(self, value: Any) -> Markup:
        """A localized value as HTML, marked with its language when it is a fallback."""
        if isinstance(value, dict):
            for lang in (self.lang, *self.languages, *value):
                text = value.get(lang)
                if isinstance(text, str):
                    if lang == self.lang:
                        return Markup(escape(text))
                    return Markup(f'<span lang="{escape(lang)}">{escape(text)}</span>')
        return Markup(escape(self.text(value)))

    def path(self, change: FieldChange, old: dict[str, Any], new: dict[str, Any]) -> Markup:
        """``Decision criteria › Freshness › Name › English``."""
        out: list[str | Markup] = [self.field(change.parts[0])]
        containers: list[Any] = [old.get(change.parts[0]), new.get(change.parts[0])]
        for index, part in enumerate(change.parts[1:], start=1):
            parent = change.parts[index - 1]
            if change.keyed[index]:
                item = _find_item(containers, part)
                out.append(self._item_label(parent, part, item))
                containers = [item]
            elif change.lang and index == len(change.parts) - 1:
                out.append(
                    self._("lang.name", change.lang) if change.lang in self.languages else part
                )
            else:
                out.append(self.sub(part))
                containers = [c.get(part) if isinstance(c, dict) else None for c in containers]
        return Markup(" › ").join(out)

    def _item_label(self, parent: str, key: str, item: Any) -> str | Markup:
        if not isinstance(item, dict):
            return self.enum(parent, key) or key
        for field in ("name", "label"):
            if self.text(item.get(field)):
                return self.shown(item.get(field))
        return key

    # -- values ----------------------------------------------------------------------------

    def value(self, value: Any, name: str = "") -> Markup:
        """Any JSON value as compact HTML; text is escaped, never treated as markup."""
        if value is None:
            return Markup("—")
        if isinstance(value, bool):
            return Markup(escape(self._("yes") if value else self._("no")))
        if isinstance(value, str):
            shown = self.enum(name, value)
            if shown:
                return Markup(f"{escape(shown)} <code>{escape(value)}</code>")
            return Markup(escape(value))
        if isinstance(value, int | float):
            return Markup(escape(str(value)))
        if isinstance(value, dict):
            if value and all(k in self.languages and isinstance(v, str) for k, v in value.items()):
                return self._localized(value)
            items = "".join(
                f"<dt>{escape(self.sub(str(k)))}</dt><dd>{self.value(v, str(k))}</dd>"
                for k, v in value.items()
                if v is not None
            )
            return Markup(f'<dl class="value">{items}</dl>')
        if isinstance(value, list):
            items = "".join(f"<li>{self.value(v, name)}</li>" for v in value)
            return Markup(f'<ul class="value">{items}</ul>')
        return Markup(escape(str(value)))

    def kept(self, value: Any, name: str = "") -> Markup:
        """:meth:`value`, remembered: ``repr`` tells apart every value a disclosure holds
        (``1``, ``1.0`` and ``True``; a date and its text) and is much cheaper to make."""
        key = (name, repr(value))
        shown = self._kept.get(key)
        if shown is None:
            shown = self._kept[key] = self.value(value, name)
        return shown

    def _localized(self, value: dict[str, str]) -> Markup:
        parts = []
        for lang in self.languages:
            if lang in value:
                label = escape(self._("lang.name", lang))
                parts.append(
                    f'<li><span class="lang-code">{label}</span> '
                    f'<span lang="{escape(lang)}">{escape(value[lang])}</span></li>'
                )
        return Markup(f'<ul class="value localized">{"".join(parts)}</ul>')

    def cells(self, change: FieldChange) -> tuple[Markup, Markup]:
        """Before and after: inline highlighting for changed text, whole values otherwise."""
        name = change.parts[-1] if not change.lang else change.parts[-2]
        if change.keyed[-1]:
            name = change.parts[-2]
        texts = isinstance(change.old, str) and isinstance(change.new, str)
        if change.kind == CHANGED and texts and not self.enum(name, change.old):
            segments = inline_diff(change.old, change.new)
            return highlight(segments, "old"), highlight(segments, "new")
        old = self.value(change.old, name) if change.kind != "added" else Markup("")
        new = self.value(change.new, name) if change.kind != "removed" else Markup("")
        return old, new

    def diff(self, diff: Diff, old: Any, new: Any, unchanged: bool = True) -> DiffView:
        """Rows for the changes; with ``unchanged``, the other fields' values too."""
        old = old if isinstance(old, dict) else {}
        new = new if isinstance(new, dict) else {}
        same = []
        if unchanged:
            same = [(self.field(name), self.kept(new.get(name), name)) for name in diff.unchanged]
        known = self._rows.get(id(diff))
        if known is not None and known[0] is diff:
            return DiffView(known[1], same, diff.migration, diff.substantive)
        rows = []
        for change in diff.changes:
            before, after = self.cells(change)
            rows.append(
                Row(
                    change.kind,
                    self.kind(change.kind),
                    self.path(change, old, new),
                    change.path,
                    before,
                    after,
                    change.substantive,
                    self.nature(change),
                    change.lang,
                )
            )
        self._rows[id(diff)] = (diff, rows)
        return DiffView(rows, same, diff.migration, diff.substantive)


def _find_item(containers: list[Any], key: str) -> Any:
    base = key.split("#", 1)[0]
    for container in reversed(containers):  # prefer the newer version's item
        if isinstance(container, list):
            for item in container:
                if isinstance(item, dict) and base in (
                    item.get("id"),
                    item.get("target"),
                    item.get("url"),
                ):
                    return item
            if base in container:
                return base
    return None
