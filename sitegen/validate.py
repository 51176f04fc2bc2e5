"""Validate stage: loaded files become typed models, and every problem gets a position and a hint.

Pydantic reports errors by field location; this module maps each location back to the line and
column the load stage recorded, adds a hint the author can act on, and runs the checks that
span files (ids against paths, missing providers, duplicate filing numbers).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from sitegen.diagnostics import Report
from sitegen.load import FieldPath, Kind, SourceDoc, Sources
from sitegen.model import (
    DEFAULT_FILING_PATTERN,
    DEFAULT_LANGUAGES,
    ID_RE,
    Algorithm,
    Provider,
    Site,
)
from sitegen.registry import Disclosure, Registry, sort_disclosures

MODELS: dict[Kind, type[BaseModel]] = {
    Kind.SITE: Site,
    Kind.PROVIDER: Provider,
    Kind.ALGORITHM: Algorithm,
}

# One mistake repeated in a long list should not bury the report (or take seconds to print).
MAX_ERRORS_PER_FILE = 50

_TYPE_HINTS = {
    "string_type": "write text; quote values that look like numbers or true/false",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "int_from_float": "write a whole number",
    "float_type": "write a number such as 0.25",
    "float_parsing": "write a number such as 0.25",
    "date_type": "write the date as YYYY-MM-DD",
    "date_parsing": "write the date as YYYY-MM-DD",
    "date_from_datetime_parsing": "write the date as YYYY-MM-DD",
    "date_from_datetime_inexact": "write the date as YYYY-MM-DD",
    "list_type": "write a list, one `- item` per line",
    "dict_type": "write `key: value` lines indented under this key",
    "model_type": "write `key: value` lines indented under this key",
    "model_attributes_type": "write `key: value` lines indented under this key",
    "too_short": "add at least one item",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
}


def field_path(loc: FieldPath) -> str:
    """``('products', 0, 'url')`` -> ``products[0].url``: how authors see the YAML."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _unwrap(annotation: Any) -> Any:
    """The model class inside ``X | None``, ``list[X]`` or ``Annotated[X, ...]``, if any."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType, list):
            inner = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(inner) != 1:
                return None
            annotation = inner[0]
        else:
            return annotation


def model_at(model: type[BaseModel], loc: FieldPath) -> type[BaseModel] | None:
    """The model that owns the keys at ``loc`` (for "did you mean" on unknown keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_VALIDATOR_STEP = re.compile(r"^[a-z][a-z-]*\[.*\]$")


def _clean_loc(doc: SourceDoc, loc: tuple[Any, ...]) -> FieldPath:
    """The location as a path in the file.

    Pydantic adds validator names such as "function-before[...]" to union locations; those are
    dropped, but a key that is really in the file is kept whatever characters it has.
    """
    out: list[str | int] = []
    current: Any = doc.data
    for part in loc:
        in_mapping = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_mapping or in_list:
            current = current[part]
        elif isinstance(part, str) and _VALIDATOR_STEP.match(part):
            continue
        else:
            current = None  # a missing key, or below a value of the wrong type
        out.append(part)
    return tuple(out)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def report_validation_error(
    doc: SourceDoc, model: type[BaseModel], exc: ValidationError, report: Report
) -> None:
    errors = exc.errors(include_url=False)
    if len(errors) > MAX_ERRORS_PER_FILE:
        first = _clean_loc(doc, errors[MAX_ERRORS_PER_FILE]["loc"])
        line, col = doc.locate(first)
        more = len(errors) - MAX_ERRORS_PER_FILE
        report.add(
            doc.path,
            line,
            col,
            field_path(first),
            f"{more:,} more error(s) in this file not shown",
            "fix the errors above and run again",
        )
        errors = errors[:MAX_ERRORS_PER_FILE]
    for err in errors:
        loc = _clean_loc(doc, err["loc"])
        kind = err["type"]
        ctx: dict[str, Any] = dict(err.get("ctx") or {})
        message = err["msg"]
        hint = str(ctx.get("hint", ""))
        if ctx.get("at"):
            steps = str(ctx["at"]).split(".")
            loc = loc + tuple(int(p) if p.isascii() and p.isdigit() else p for p in steps)
        if kind == "missing":
            owner = model_at(model, loc[:-1])
            line, col = doc.locate(loc[:-1], key=True) if loc[:-1] else (1, 1)
            message = "required field is missing"
            description = ""
            if owner is not None and loc and loc[-1] in owner.model_fields:
                description = owner.model_fields[str(loc[-1])].description or ""
            hint = f"add `{loc[-1]}:`" + (f" ({description})" if description else "")
        elif kind == "extra_forbidden":
            owner = model_at(model, loc[:-1])
            known = sorted(owner.model_fields) if owner else []
            line, col = doc.locate(loc, key=True)
            message = f"unknown key '{loc[-1]}'"
            hint = _did_you_mean(str(loc[-1]), known) or (
                f"allowed keys here: {', '.join(known)}" if known else "remove it"
            )
        else:
            line, col = doc.locate(loc, key=bool(ctx.get("on_key")))
            if kind in ("literal_error", "enum") and "expected" in ctx:
                value = err.get("input")
                options = [
                    o.strip(" '") for o in str(ctx["expected"]).replace(" or ", ",").split(",")
                ]
                hint = (_did_you_mean(str(value), options) if isinstance(value, str) else "") or (
                    f"one of: {', '.join(o for o in options if o)}"
                )
            elif kind == "string_pattern_mismatch":
                last = loc[-1] if loc else ""
                if last == "id" or (len(loc) >= 2 and loc[-2] == "id"):
                    hint = "use lowercase a-z, digits and hyphens, starting with a letter or digit"
                elif "maintainers" in loc or "admins" in loc:
                    hint = "a code-host username: letters, digits and single hyphens"
                elif "languages" in loc:
                    hint = "a language code such as zh or en"
                message = "value does not have the expected form"
            elif not hint:
                hint = _TYPE_HINTS.get(kind, "")
        report.add(doc.path, line, col, field_path(loc), message, hint)


def _check_id(doc: SourceDoc, expected: str, what: str, report: Report) -> bool:
    """Fill an omitted id from the path; refuse one that disagrees with it."""
    given = doc.data.get("id")
    if given is None:
        doc.data["id"] = expected
        return True
    if given != expected:
        line, col = doc.locate(("id",))
        report.add(
            doc.path,
            line,
            col,
            "id",
            f"id '{given}' does not match the {what} '{expected}'",
            f"set `id: {expected}` or rename the {what}",
        )
        return False
    return True


def _case_clash(doc: SourceDoc, name: str, siblings: list[str], what: str, report: Report) -> bool:
    """Refuse a name that differs from a sibling's only in letter case.

    Ids are lowercase, so the name with capitals is the one at fault; on a case-insensitive
    disk (Windows, macOS) the two would be one file and one page address.
    """
    if re.match(ID_RE, name):
        return False
    suffix = ".yaml" if what == "file" else ""
    for other in sorted(siblings):
        if other != name and other.casefold() == name.casefold():
            report.add(
                doc.path,
                1,
                1,
                "",
                f"{what} name '{name}{suffix}' differs from '{other}{suffix}' only in letter case",
                f"ids are lowercase: merge the two or rename '{name}{suffix}'; "
                "a case-insensitive disk would treat them as one",
            )
            return True
    return False


def _validate(doc: SourceDoc, context: dict[str, Any], report: Report) -> Any:
    model = MODELS[doc.kind]
    try:
        return model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        report_validation_error(doc, model, exc, report)
        return None


def validate(sources: Sources, report: Report) -> Registry | None:
    """Build the registry from everything valid; None when site.yaml itself is unusable."""
    site: Site | None = None
    if sources.site is not None:
        site = _validate(sources.site, {}, report)
    context: dict[str, Any] = {
        "languages": list(site.languages) if site else list(DEFAULT_LANGUAGES),
        "filing_pattern": site.filing_number_pattern if site else DEFAULT_FILING_PATTERN,
    }

    providers: dict[str, Provider] = {}
    for provider_id, doc in sorted(sources.providers.items()):
        if _case_clash(doc, provider_id, sources.provider_dirs, "folder", report):
            continue
        if not _check_id(doc, provider_id, "folder name", report):
            continue
        provider = _validate(doc, context, report)
        if provider is not None:
            providers[provider_id] = provider

    missing_provider_reported: set[str] = set()
    disclosures: list[Disclosure] = []
    numbers: dict[str, SourceDoc] = {}
    stems: dict[str, list[str]] = {}
    for doc in sources.algorithms:
        _check_provider_folder(doc, sources, report, missing_provider_reported)
        if doc.provider_id not in stems:
            directory = sources.root / doc.provider_id
            stems[doc.provider_id] = [p.stem for p in directory.iterdir() if p.suffix == ".yaml"]
        if _case_clash(doc, doc.stem, stems[doc.provider_id], "file", report):
            continue
        if not _check_id(doc, doc.stem, "file name", report):
            continue
        algorithm = _validate(doc, context, report)
        if algorithm is None:
            continue
        number = algorithm.filing.number
        if number:
            first = numbers.get(number)
            if first is not None:
                line, col = doc.locate(("filing", "number"))
                first_line = first.locate(("filing", "number"))[0]
                report.add(
                    doc.path,
                    line,
                    col,
                    "filing.number",
                    f"filing number {number} is already used",
                    f"{first.path}:{first_line} has it; each algorithm has its own number",
                )
                continue
            numbers[number] = doc
        provider = providers.get(doc.provider_id)
        if provider is None:
            continue  # reported against provider.yaml or above
        disclosures.append(Disclosure(provider, algorithm, doc.path, doc.digest))

    for folder in sources.provider_dirs:
        if (sources.root / folder / "provider.yaml").exists():
            continue  # present; if it failed to load, that error is already reported
        if folder not in missing_provider_reported:
            path = sources.root / folder / "provider.yaml"
            report.add(str(path), 1, 1, "", "provider folder has no provider.yaml", "create it")

    if site is None:
        return None
    return Registry(
        root=sources.root,
        site=site,
        providers=dict(sorted(providers.items())),
        disclosures=sort_disclosures(disclosures),
        report=report,
    )


def _check_provider_folder(
    doc: SourceDoc, sources: Sources, report: Report, reported: set[str]
) -> None:
    if doc.provider_id in sources.providers or doc.provider_id in reported:
        return
    folder = sources.root / doc.provider_id
    if (folder / "provider.yaml").exists():
        return  # it exists but failed to load; that error is already reported
    reported.add(doc.provider_id)
    report.add(
        doc.path,
        1,
        1,
        "",
        f"provider '{doc.provider_id}' has no provider.yaml",
        f"create {folder}/provider.yaml (see docs/format.md)",
    )
