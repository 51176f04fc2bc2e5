"""`new`: the scaffold explains each field and fails validation until every TODO is filled in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, CliRunner
from jsonschema import Draft202012Validator

from sitegen.diagnostics import UsageError
from sitegen.load import parse_yaml
from sitegen.pipeline import check
from sitegen.scaffold import PLACEHOLDER, scaffold

# What an author would write for each placeholder, by key.
FILLED: dict[str, Any] = {
    "zh": "本算法按照用户最近的观看记录和点赞行为推荐短视频内容。",
    "en": "Recommends short videos from the viewer's recent watch history and likes.",
    "credit_code": "91110108MA01ABCD1E",
    "website": "https://www.newco.example",
    "url": "https://www.newco.example/app",
    "email": "algo@newco.example",
    "target": "https://help.newco.example/complaints",
    "role": "service_provider",
    "category": "personalized_push",
    "public_opinion_attributes": False,
    "personal": True,
    "sensitive": False,
    "available": True,
    "response_days": 15,
    "effective_date": "2026-11-01",
    "last_reviewed": "2026-11-20",
    "maintainers": "newco-dev",
    "platforms": "android",
    "id": "watch-time",
}


def fill(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: fill(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, key) for v in value]
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        assert key in FILLED, f"no sample value for {key}"
        return FILLED[key]
    return value


def fill_file(path: Path) -> None:
    data = parse_yaml(path.read_text("utf-8"))[0]
    path.write_text(yaml.safe_dump(fill(data), allow_unicode=True, sort_keys=False), "utf-8")


def test_new_provider_and_algorithm_fail_until_filled(mini: Path, cli: CliRunner) -> None:
    done = cli("new", "newco", "feed", "--category", "personalized_push", "--source", str(mini))
    assert done.returncode == 0, done.stderr
    provider, algorithm = mini / "newco" / "provider.yaml", mini / "newco" / "feed.yaml"
    assert f"created {provider}" in done.stdout and f"created {algorithm}" in done.stdout

    report = check(mini)
    errors = report.errors
    assert errors, "a fresh scaffold must not validate"
    assert {Path(d.path).name for d in errors} == {"provider.yaml", "feed.yaml"}
    assert all(d.message == "placeholder not filled in" for d in errors), [
        d.format_text() for d in errors if d.message != "placeholder not filled in"
    ]
    # Each placeholder error points at its line and says what belongs there.
    role = next(d for d in errors if d.field == "role")
    assert 'role: "TODO' in algorithm.read_text("utf-8").splitlines()[role.line - 1]
    assert "service_provider or technical_supporter" in role.hint
    assert any(d.field == "credit_code" and "营业执照" in d.hint for d in errors)

    fill_file(provider)
    fill_file(algorithm)
    after = check(mini)
    assert after.errors == [], [d.format_text() for d in after.errors]
    assert validate_ok(cli, mini)


def validate_ok(cli: CliRunner, source: Path) -> bool:
    return cli("validate", "--source", str(source)).returncode == 0


def test_one_placeholder_left_still_fails(mini: Path) -> None:
    scaffold(mini, "acme", "second", "search_filtering")
    path = mini / "acme" / "second.yaml"
    assert not (mini / "acme" / "provider.yaml").read_text("utf-8").startswith("# yaml-language")
    text = path.read_text("utf-8")
    fill_file(path)
    data = parse_yaml(path.read_text("utf-8"))[0]
    data["summary"]["en"] = "TODO: what it does"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    errors = check(mini).errors
    assert [(d.field, d.message) for d in errors] == [("summary.en", "placeholder not filled in")]
    assert "# Summary / 概述" in text  # the scaffold explained the field


def test_scaffold_explains_every_field_and_points_at_the_schema(mini: Path) -> None:
    written = scaffold(mini, "newco", "feed")
    text = written[1].read_text("utf-8")
    first = text.splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schema/algorithm.schema.json"
    assert written[0].read_text("utf-8").splitlines()[0].endswith("provider.schema.json")
    from sitegen.model import Algorithm
    from sitegen.schema import FIELDS

    for name in Algorithm.model_fields:
        assert f"\n{name}:" in text or f"\n# {name}:" in text, name
        en, zh, _, _ = FIELDS[("Algorithm", name)]
        assert f"# {en} / {zh}: " in text, name
    # Without --category the category is a placeholder too.
    assert 'category: "TODO' in text


def test_filled_scaffold_passes_the_json_schema(mini: Path) -> None:
    written = scaffold(mini, "newco", "feed", "personalized_push")
    schema = json.loads((ROOT / "schema" / "algorithm.schema.json").read_text("utf-8"))
    validator = Draft202012Validator(schema)
    raw = parse_yaml(written[1].read_text("utf-8"))[0]
    assert list(validator.iter_errors(raw)), "placeholders should fail the schema as well"
    assert not list(validator.iter_errors(fill(raw)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad_Provider", "feed"], "is not a valid id"),
        (["acme", "feed"], "already exists"),
        (["acme", "provider"], "may not be 'provider'"),
        (["acme", "x", "--category", "news"], "unknown category"),
        (["acme", "x", "--maintainer", "not a login"], "code-host username"),
    ],
)
def test_bad_arguments_are_usage_errors(
    mini: Path, cli: CliRunner, args: list[str], message: str
) -> None:
    done = cli("new", *args, "--source", str(mini))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_missing_source_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        scaffold(tmp_path / "nowhere", "acme", "feed")


def test_maintainer_option_fills_the_list(mini: Path) -> None:
    scaffold(mini, "newco", "feed", maintainer="newco-dev")
    text = (mini / "newco" / "provider.yaml").read_text("utf-8")
    assert "maintainers:\n  - newco-dev\n" in text
