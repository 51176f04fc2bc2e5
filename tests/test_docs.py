"""Docs that cannot drift: every format field is documented and every example validates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from sitegen.load import parse_yaml
from sitegen.model import Algorithm, Provider, Site
from sitegen.validate import _unwrap

ROOT = Path(__file__).resolve().parent.parent
FORMAT = (ROOT / "docs/format.md").read_text("utf-8")


def field_names(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    seen = seen or set()
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        inner = _unwrap(info.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in seen:
            seen.add(inner)
            names |= field_names(inner, seen)
    return names


@pytest.mark.parametrize("model", [Site, Provider, Algorithm])
def test_every_field_is_documented(model: type[BaseModel]) -> None:
    documented = set(re.findall(r"`([a-z_.]+)`", FORMAT))
    documented |= {part for name in documented for part in name.split(".")}
    assert field_names(model) - documented == set()


def examples() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", FORMAT, flags=re.S)


def test_examples_validate() -> None:
    blocks = examples()
    assert len(blocks) == 4
    kinds = {"title": Site, "credit_code": Provider, "category": Algorithm}
    checked = 0
    for block in blocks:
        data, _, _ = parse_yaml(block)
        model = next((m for key, m in kinds.items() if key in data), None)
        if model is None:
            continue  # the localized-text snippet
        if model is not Site:
            data.setdefault("id", "example")
        model.model_validate(data, context={"languages": ["zh", "en"]})
        checked += 1
    assert checked == 3


def test_readme_mentions_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "make site" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text("utf-8")
    assert re.search(r"^site:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci/run").read_text("utf-8")


def test_readme_lists_every_command() -> None:
    from sitegen.cli import COMMANDS, build_parser

    build_parser()
    readme = (ROOT / "README.md").read_text("utf-8")
    for name in COMMANDS:
        assert f"python build.py {name}" in readme, name
