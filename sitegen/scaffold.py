"""``new``: scaffold a commented disclosure (and provider.yaml for a new provider).

Every value the author must supply is a ``TODO`` placeholder.  Placeholders are errors, so a
scaffolded file cannot be published half-filled; :func:`report_placeholders` replaces the
model's complaint about such a value (wrong type, bad pattern) with one clear message.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sitegen.diagnostics import Report, UsageError
from sitegen.load import FieldPath, Kind, SourceDoc, Sources
from sitegen.model import ID_RE, USERNAME_RE, Category
from sitegen.schema import FIELDS, SCHEMA_DIR
from sitegen.validate import MODELS, Finding, emit, field_path, model_at

PLACEHOLDER = "TODO"


def _q(text: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _help(model: str, field: str, indent: str = "") -> str:
    en_title, zh_title, en_desc, zh_desc = FIELDS[(model, field)]
    return f"{indent}# {en_title} / {zh_title}: {en_desc} / {zh_desc}\n"


def _text(key: str, en: str, zh: str, indent: str = "") -> str:
    return (
        f"{indent}{key}:\n"
        f"{indent}  zh: {_q(f'{PLACEHOLDER}: {zh}')}\n"
        f"{indent}  en: {_q(f'{PLACEHOLDER}: {en}')}\n"
    )


def _todo(hint: str) -> str:
    return _q(f"{PLACEHOLDER}: {hint}")


def schema_comment(target: Path, schema_dir: Path, stem: str) -> str:
    """The editor hint line, with a path relative to the file so it works offline."""
    rel = os.path.relpath(schema_dir / f"{stem}.schema.json", target.parent)
    return f"# yaml-language-server: $schema={Path(rel).as_posix()}\n"


def _header(title: str, comment: str) -> str:
    return (
        comment
        + f"# {title}\n"
        + "# Replace every value that starts with TODO;"
        + " `python build.py validate` lists those left.\n"
        + "# 请替换所有以 TODO 开头的值；运行 `python build.py validate` 可查看尚未填写的项。\n"
        + "# Guide / 填写指南: docs/providers.md\n"
    )


def provider_yaml(provider: str, maintainer: str | None, comment: str) -> str:
    who = maintainer or f"{PLACEHOLDER}-your-username"
    return (
        _header(f"Provider / 算法服务提供者: {provider}", comment)
        + "\n"
        + _help("Provider", "id")
        + f"id: {provider}\n\n"
        + _help("Provider", "name")
        + _text("name", "company name", "企业名称")
        + "\n"
        + _help("Provider", "credit_code")
        + f"credit_code: {_todo('18-character unified social credit code / 统一社会信用代码')}\n\n"
        + _help("Provider", "website")
        + f"website: {_todo('https://www.example.com')}\n\n"
        + _help("Provider", "maintainers")
        + f"maintainers:\n  - {_q(who) if not maintainer else who}\n\n"
        + _help("Provider", "contact")
        + "contact:\n"
        + _help("Contact", "email", "  ")
        + f"  email: {_todo('name@example.com')}\n"
    )


def algorithm_yaml(provider: str, algorithm: str, category: str | None, comment: str) -> str:
    cat = category or _todo(", ".join(c.value for c in Category))
    return (
        _header(f"Algorithm disclosure / 算法公示: {provider}/{algorithm}", comment)
        + "\n"
        + _help("Algorithm", "id")
        + f"id: {algorithm}\n\n"
        + _help("Algorithm", "name")
        + _text("name", "algorithm name", "算法名称")
        + "\n"
        + _help("Algorithm", "summary")
        + _text("summary", "what it does for users, in a sentence or two", "一两句话说明它做什么")
        + "\n"
        + _help("Algorithm", "category")
        + f"category: {cat}\n\n"
        + _help("Algorithm", "role")
        + f"role: {_todo('service_provider or technical_supporter')}\n\n"
        + _help("Algorithm", "filing")
        + "filing:\n"
        + _help("Filing", "status", "  ")
        + "  status: pending\n"
        + _help("Filing", "number", "  ")
        + "  # number: 网信算备110108000000000000001号\n"
        + _help("Filing", "date", "  ")
        + "  # date: 2025-01-31\n\n"
        + _help("Algorithm", "public_opinion_attributes")
        + f"public_opinion_attributes: {_todo('true or false')}\n\n"
        + _help("Algorithm", "products")
        + "products:\n"
        + _help("Product", "name", "  ")
        + "  - "
        + _text("name", "product name", "产品名称", "    ")[4:]
        + _help("Product", "url", "    ")
        + f"    url: {_todo('https://www.example.com/app')}\n"
        + _help("Product", "platforms", "    ")
        + f"    platforms: [{_todo('web, android, ios, mini_program or other')}]\n\n"
        + _help("Algorithm", "scenarios")
        + _text("scenarios", "where users meet it", "用户在哪些页面或功能中接触到它")
        + "\n"
        + _help("Algorithm", "principles")
        + _text("principles", "the basic principles", "基本原理")
        + "\n"
        + _help("Algorithm", "mechanism")
        + _text("mechanism", "how it works, step by step", "主要运行机制，分步骤说明")
        + "\n"
        + _help("Algorithm", "optimization_objectives")
        + "optimization_objectives:\n"
        + _list_item("Objective", "objective")
        + _help("Objective", "weight", "    ")
        + "    # weight: 0.5\n\n"
        + _help("Algorithm", "decision_criteria")
        + "decision_criteria:\n"
        + _list_item("Criterion", "criterion")
        + "\n"
        + _help("Algorithm", "data_inputs")
        + "# Write `data_inputs: []` if it uses no data about users."
        + " / 不使用用户数据时写 `data_inputs: []`。\n"
        + "data_inputs:\n"
        + f"  - id: {_todo('data-id')}\n"
        + _help("DataInput", "name", "    ")
        + _text("name", "what the data is", "数据名称", "    ")
        + _help("DataInput", "personal", "    ")
        + f"    personal: {_todo('true or false')}\n"
        + _help("DataInput", "sensitive", "    ")
        + f"    sensitive: {_todo('true or false')}\n\n"
        + _help("Algorithm", "user_controls")
        + "user_controls:\n"
        + _control("personalization_opt_out")
        + _control("tag_management")
        + _control("explanation")
        + "\n"
        + _help("Algorithm", "complaint_channels")
        + "complaint_channels:\n"
        + _help("Channel", "kind", "  ")
        + "  - kind: web\n"
        + _help("Channel", "target", "    ")
        + f"    target: {_todo('https://www.example.com/complaints')}\n"
        + _help("Channel", "response_days", "    ")
        + f"    response_days: {_todo('number of days')}\n\n"
        + _help("Algorithm", "effective_date")
        + f"effective_date: {_todo('YYYY-MM-DD')}\n\n"
        + _help("Algorithm", "last_reviewed")
        + f"last_reviewed: {_todo('YYYY-MM-DD')}\n\n"
        + _help("Algorithm", "change_note")
        + "# change_note:\n#   zh: 首次公示。\n#   en: First published.\n"
    )


def _list_item(model: str, what: str) -> str:
    return (
        _help(model, "id", "  ")
        + f"  - id: {_todo(f'{what}-id, lowercase letters, digits and hyphens')}\n"
        + _help(model, "name", "    ")
        + _text("name", f"{what} name", "名称", "    ")
        + _help(model, "description", "    ")
        + _text(
            "description",
            "what it measures or prefers and how that changes the result",
            "具体说明衡量或偏好什么，以及如何影响结果",
            "    ",
        )
    )


def _control(name: str) -> str:
    return (
        _help("UserControls", name, "  ")
        + f"  {name}:\n"
        + _help("Control", "available", "    ")
        + f"    available: {_todo('true or false')}\n"
        + _help("Control", "how", "    ")
        + _text("how", "where users find it", "用户在哪里找到它", "    ")
        + "    # reason:   # instead of `how` when available is false / 不提供时改写原因\n"
    )


def scaffold(
    source: Path,
    provider: str,
    algorithm: str,
    category: str | None = None,
    maintainer: str | None = None,
    schema_dir: Path | None = None,
) -> list[Path]:
    """Write the new files and return them; refuse bad ids and never overwrite."""
    for value, what in ((provider, "PROVIDER"), (algorithm, "ALGORITHM")):
        if not re.match(ID_RE, value):
            raise UsageError(
                f"{what} '{value}' is not a valid id: use lowercase a-z, digits and hyphens, "
                "starting with a letter or digit (at most 63 characters)"
            )
    if algorithm == "provider":
        raise UsageError("ALGORITHM may not be 'provider' (provider.yaml is the provider's file)")
    if category is not None and category not in {c.value for c in Category}:
        raise UsageError(f"unknown category '{category}'; one of: {', '.join(Category)}")
    if maintainer is not None and not re.match(USERNAME_RE, maintainer):
        raise UsageError(f"'{maintainer}' is not a code-host username")
    if not source.is_dir():
        raise UsageError(f"source folder {source} not found (pass --source DIR)")
    schema_dir = schema_dir or source.resolve().parent / SCHEMA_DIR
    folder = source / provider
    target = folder / f"{algorithm}.yaml"
    if target.exists():
        raise UsageError(f"{target} already exists; edit it instead")
    written: list[Path] = []
    folder.mkdir(exist_ok=True)
    provider_file = folder / "provider.yaml"
    if not provider_file.exists():
        comment = schema_comment(provider_file, schema_dir, "provider")
        provider_file.write_text(provider_yaml(provider, maintainer, comment), encoding="utf-8")
        written.append(provider_file)
    comment = schema_comment(target, schema_dir, "algorithm")
    target.write_text(algorithm_yaml(provider, algorithm, category, comment), encoding="utf-8")
    written.append(target)
    return written


# -- placeholders in any file --------------------------------------------------------------


def _placeholders(value: Any, loc: FieldPath) -> Iterator[FieldPath]:
    if isinstance(value, str) and value.lstrip().startswith(PLACEHOLDER):
        yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholders(item, (*loc, index))


def _what(model: type[BaseModel], loc: FieldPath) -> str:
    """What the field at ``loc`` wants, from the same bilingual table as the scaffold."""
    for end in range(len(loc), 0, -1):
        name = loc[end - 1]
        if isinstance(name, int):
            continue
        owner = model_at(model, loc[: end - 1])
        if owner is not None and (owner.__name__, name) in FIELDS:
            en_title, zh_title, en_desc, zh_desc = FIELDS[(owner.__name__, str(name))]
            return f"{en_title}: {en_desc} / {zh_title}：{zh_desc}"
    return ""


def placeholder_findings(doc: SourceDoc, only: FieldPath | None = None) -> list[Finding]:
    """One error per ``TODO`` value in the file (or at ``only``), without the file's path."""
    found = [only] if only is not None else list(_placeholders(doc.data, ()))
    if only is not None and not list(_placeholders(doc.data.get(only[0]), only)):
        return []
    model = MODELS[doc.kind] if doc.kind in MODELS else MODELS[Kind.ALGORITHM]
    out: list[Finding] = []
    for loc in found:
        line, col = doc.locate(loc)
        what = _what(model, loc)
        hint = f"replace the TODO value — {what}" if what else "replace the TODO value"
        out.append((line, col, "error", field_path(loc), "placeholder not filled in", hint, ""))
    return out


def report_placeholders(sources: Sources, report: Report) -> None:
    """Report each ``TODO`` value as one clear error, replacing diagnostics about that value."""
    docs: list[SourceDoc] = [*([sources.site] if sources.site else [])]
    docs += list(sources.providers.values()) + list(sources.algorithms)
    for doc in docs:
        if doc.check is None:
            found = placeholder_findings(doc)
        else:  # found by the validate stage, perhaps in the cache
            found = list(doc.check.placeholders)
            if doc.id_checked and doc.check.id_placeholder is not None:
                found.append(doc.check.id_placeholder)  # the id it filled in from the path
        if not found:
            continue
        spots = {(doc.path, line, col) for line, col, *_ in found}
        report.items = [d for d in report.items if (d.path, d.line, d.col) not in spots]
        emit(report, doc.path, found)
