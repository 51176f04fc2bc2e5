"""Semantic diff of two disclosures: what a regulator needs to know changed, field by field.

A line diff of YAML says little (a reordered list looks like a rewrite, a reflowed paragraph
like new content), so this compares the validated data instead.  Lists of items are matched
by ``id`` (or ``target``/``url`` for channels and products) so reordering is not a change;
localized text is compared per language; and every change is labelled *substantive* (the
algorithm's objectives, criteria, data, controls, channels, category, filing or principles
changed) or *editorial* (wording of a translation, formatting, other descriptive fields, or a
format migration) so that tidying a page never reads as a change of the algorithm.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from sitegen.inline import inline_diff
from sitegen.markdown import plain_text
from sitegen.model import Algorithm

# Top-level fields whose change is a change of the algorithm or its legal standing.
SUBSTANTIVE = frozenset(
    {
        "optimization_objectives",
        "decision_criteria",
        "data_inputs",
        "user_controls",
        "complaint_channels",
        "category",
        "filing",
        "principles",
        "mechanism",
        "role",
        "public_opinion_attributes",
    }
)
# The order fields are reported in (the format's order); unknown fields follow alphabetically.
FIELD_ORDER = (
    "id",
    "name",
    "summary",
    "category",
    "role",
    "filing",
    "public_opinion_attributes",
    "products",
    "scenarios",
    "principles",
    "mechanism",
    "optimization_objectives",
    "decision_criteria",
    "data_inputs",
    "user_controls",
    "complaint_channels",
    "effective_date",
    "last_reviewed",
    "change_note",
)
# How items of a list are recognised across versions, tried in order.
ITEM_KEYS = ("id", "target", "url")

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
# Why a change is editorial.
TRANSLATION, FORMATTING, DESCRIPTIVE, MIGRATION = (
    "translation",
    "formatting",
    "descriptive",
    "migration",
)


@dataclass(frozen=True)
class FieldChange:
    """One added, removed or changed value, at a path such as ``decision_criteria[x].name.en``."""

    path: str
    parts: tuple[str, ...]
    kind: str
    old: Any
    new: Any
    substantive: bool
    reason: str = ""  # why it is editorial; "" when substantive
    lang: str = ""  # the language of a localized text
    keyed: tuple[bool, ...] = ()  # which parts name a list item (by id, target or url)

    @property
    def field(self) -> str:
        return self.parts[0]

    def inline(self) -> list[tuple[str, str]]:
        """Word (or, for Chinese, character) segments: ("=", "-" or "+", text)."""
        if isinstance(self.old, str) and isinstance(self.new, str):
            return inline_diff(self.old, self.new)
        return []

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "parts": list(self.parts),
            "change": self.kind,
            "substantive": self.substantive,
        }
        if self.reason:
            data["editorial_reason"] = self.reason
        if self.lang:
            data["lang"] = self.lang
        if self.kind != ADDED:
            data["old"] = self.old
        if self.kind != REMOVED:
            data["new"] = self.new
        return data


@dataclass
class Diff:
    """All changes between two versions, plus the top-level fields that stayed the same."""

    changes: list[FieldChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    migration: bool = False

    @property
    def substantive(self) -> bool:
        return any(c.substantive for c in self.changes)

    def fields(self) -> list[str]:
        """Top-level fields that changed, in the format's order."""
        return list(dict.fromkeys(c.field for c in self.changes))

    def by_field(self) -> list[tuple[str, list[FieldChange]]]:
        groups: dict[str, list[FieldChange]] = {}
        for change in self.changes:
            groups.setdefault(change.field, []).append(change)
        return list(groups.items())

    def as_json(self) -> dict[str, Any]:
        return {
            "substantive": self.substantive,
            "migration": self.migration,
            "changes": [c.as_json() for c in self.changes],
            "unchanged": self.unchanged,
        }


def _field_rank(name: str) -> tuple[int, str]:
    try:
        return FIELD_ORDER.index(name), name
    except ValueError:
        return len(FIELD_ORDER), name


def diff_disclosures(
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    languages: Sequence[str],
    migration: bool = False,
) -> Diff:
    """Compare two disclosures' JSON-ready data (``Algorithm.model_dump(mode="json")``).

    ``migration`` marks that one side does not validate under the current format: changes
    that only come from how that file was written (keys the format no longer has, a number
    written as text) are labelled editorial; changes of content are classified as usual.
    """
    old, new = old or {}, new or {}
    result = Diff(migration=migration)
    languages = tuple(languages)
    for name in sorted(set(old) | set(new), key=_field_rank):
        if old.get(name) == new.get(name) and (name in old) == (name in new):
            if old.get(name) is not None:
                result.unchanged.append(name)
            continue
        path = _Path((name,), name)
        for change in _compare(old.get(name, _MISSING), new.get(name, _MISSING), path, languages):
            result.changes.append(_classify(change, languages, migration))
    return result


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


@dataclass(frozen=True)
class _Path:
    parts: tuple[str, ...]
    text: str
    keyed: tuple[bool, ...] = (False,)

    def key(self, name: str) -> _Path:
        return _Path((*self.parts, name), f"{self.text}.{name}", (*self.keyed, False))

    def item(self, key: str) -> _Path:
        return _Path((*self.parts, key), f"{self.text}[{key}]", (*self.keyed, True))


def _is_localized(value: Any, languages: tuple[str, ...]) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(k in languages and isinstance(v, str) for k, v in value.items())
    )


# (kind, path, old, new, language of a localized text)
_Change = tuple[str, _Path, Any, Any, str]


def _compare(old: Any, new: Any, path: _Path, languages: tuple[str, ...]) -> Iterator[_Change]:
    # The format's own equivalences: null is absent, and plain text is the default language.
    old = _MISSING if old is None else old
    new = _MISSING if new is None else new
    if old is _MISSING and new is _MISSING:
        return
    if languages and isinstance(old, str) and _is_localized(new, languages):
        old = {languages[0]: old}
    elif languages and isinstance(new, str) and _is_localized(old, languages):
        new = {languages[0]: new}
    if old is _MISSING:
        yield (ADDED, path, None, new, "")
        return
    if new is _MISSING:
        yield (REMOVED, path, old, None, "")
        return
    if old == new:
        return
    if _is_localized(old, languages) and _is_localized(new, languages):
        for lang in [*languages, *sorted((set(old) | set(new)) - set(languages))]:
            if lang not in old and lang not in new:
                continue
            before, after = old.get(lang, _MISSING), new.get(lang, _MISSING)
            for kind, at, a, b, _ in _compare(before, after, path.key(lang), ()):
                yield kind, at, a, b, lang
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for name in sorted(set(old) | set(new), key=lambda n: (n not in old, _field_rank(n))):
            yield from _compare(
                old.get(name, _MISSING), new.get(name, _MISSING), path.key(name), languages
            )
        return
    if isinstance(old, list) and isinstance(new, list):
        yield from _compare_lists(old, new, path, languages)
        return
    yield (CHANGED, path, old, new, "")


def _item_key(items: list[Any]) -> str | None:
    for key in ITEM_KEYS:
        if items and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
            return key
    return None


def _keyed(items: list[Any], key: str) -> dict[str, Any]:
    """Items by their key; a repeated key gets ``#2``, ``#3`` so nothing is lost."""
    out: dict[str, Any] = {}
    for item in items:
        name = item[key]
        label, n = name, 1
        while label in out:
            n += 1
            label = f"{name}#{n}"
        out[label] = item
    return out


def _scalar_key(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _compare_lists(
    old: list[Any], new: list[Any], path: _Path, languages: tuple[str, ...]
) -> Iterator[_Change]:
    key = _item_key(old + new) if (old or new) else None
    if key is not None:
        before, after = _keyed(old, key), _keyed(new, key)
        for name in [*before, *(n for n in after if n not in before)]:
            yield from _compare(
                before.get(name, _MISSING), after.get(name, _MISSING), path.item(name), languages
            )
        return
    if all(not isinstance(v, dict | list) for v in old + new):
        # A list of plain values (platforms): a set, so order does not matter.
        old_keys = {_scalar_key(v): v for v in old}
        new_keys = {_scalar_key(v): v for v in new}
        for name, value in old_keys.items():
            if name not in new_keys:
                yield (REMOVED, path.item(name), value, None, "")
        for name, value in new_keys.items():
            if name not in old_keys:
                yield (ADDED, path.item(name), None, value, "")
        return
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else _MISSING
        after = new[index] if index < len(new) else _MISSING
        yield from _compare(before, after, path.item(str(index)), languages)


_SPACE = re.compile(r"\s+")


def _same_words(old: Any, new: Any) -> bool:
    """Equal once Markdown markup and spacing are set aside (a reflow or emphasis change)."""
    if not (isinstance(old, str) and isinstance(new, str)):
        return False

    def words(text: str) -> str:
        return _SPACE.sub("", plain_text(text))

    return words(old) == words(new)


def _format_keys() -> frozenset[str]:
    """Every key the current format knows, at any depth."""
    keys: set[str] = set()
    seen: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = [Algorithm]
    while pending:
        model = pending.pop()
        seen.add(model)
        for name, info in model.model_fields.items():
            keys.add(name)
            pending.extend(m for m in _models_in(info.annotation) if m not in seen)
    return frozenset(keys)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


FORMAT_KEYS = _format_keys()


def _from_migration(path: _Path, old: Any, new: Any, languages: tuple[str, ...]) -> bool:
    """Whether a change between an old-format and a current file is only how it was written."""
    for part, keyed in zip(path.parts, path.keyed, strict=True):
        if not keyed and part not in FORMAT_KEYS and part not in languages:
            return True  # a key the format no longer has (renamed or dropped)
    if old is not None and new is not None and type(old) is not type(new):
        return str(old) == str(new)  # "0.5" written as text, now a number
    return False


def _classify(raw: _Change, languages: tuple[str, ...], migration: bool) -> FieldChange:
    kind, path, old, new, lang = raw
    top = path.parts[0]
    default = languages[0] if languages else ""
    reason = ""
    if migration and _from_migration(path, old, new, languages):
        reason = MIGRATION
    elif top not in SUBSTANTIVE:
        reason = DESCRIPTIVE
    elif lang and lang != default:
        reason = TRANSLATION
    elif kind == CHANGED and _same_words(old, new):
        reason = FORMATTING
    return FieldChange(path.text, path.parts, kind, old, new, not reason, reason, lang, path.keyed)
