"""JSON Schema export: sample files pass the exported schema, known-bad files fail it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, ROOT, SAMPLES, CliRunner
from jsonschema import Draft202012Validator

from sitegen.load import parse_yaml
from sitegen.schema import DIALECT, document_schema, schema_files, site_settings


def load(path: Path) -> Any:
    return parse_yaml(path.read_text("utf-8"))[0]


def validator(stem: str) -> Draft202012Validator:
    schema = json.loads((ROOT / "schema" / f"{stem}.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def stem_of(path: Path) -> str:
    return {"site.yaml": "site", "provider.yaml": "provider"}.get(path.name, "algorithm")


def sample_files() -> list[Path]:
    files = sorted(SAMPLES.rglob("*.yaml")) + sorted((FIXTURES / "mini").rglob("*.yaml"))
    assert len(files) > 5
    return files


def test_committed_schemas_equal_a_fresh_export() -> None:
    languages, pattern = site_settings(SAMPLES)
    for rel, data in schema_files(languages, None, pattern):
        committed = ROOT / rel
        assert committed.is_file(), f"{rel} missing; run `python build.py schema`"
        assert committed.read_bytes() == data, f"{rel} is stale; run `python build.py schema`"


def test_schema_header_and_bilingual_titles() -> None:
    schema = document_schema("algorithm")
    assert schema["$schema"] == DIALECT
    assert schema["$id"].startswith("urn:")
    assert " / " in schema["title"]
    for name, prop in schema["properties"].items():
        assert " / " in prop["title"], name
        assert " / " in prop["description"], name
    published = document_schema("algorithm", base_url="https://r.example/")
    assert published["$id"] == "https://r.example/schema/algorithm.schema.json"


def test_localized_text_is_string_or_language_map() -> None:
    schema = document_schema("algorithm")
    assert schema["properties"]["name"]["$ref"] == "#/$defs/LocalizedText"
    text = schema["$defs"]["LocalizedText"]
    kinds = [branch["type"] for branch in text["anyOf"]]
    assert kinds == ["string", "object"]
    assert set(text["anyOf"][1]["properties"]) == {"zh", "en"}
    assert text["anyOf"][1]["required"] == ["zh"]


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_sample_file_passes_the_schema(path: Path) -> None:
    errors = [e.message for e in validator(stem_of(path)).iter_errors(load(path))]
    assert errors == []


def test_sample_files_point_editors_at_the_schema() -> None:
    for path in sorted(SAMPLES.rglob("*.yaml")):
        first = path.read_text("utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target == (ROOT / "schema" / f"{stem_of(path)}.schema.json").resolve(), path


def mutate(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    node: Any = data
    *parents, last = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    for part in parents:
        node = node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()

BAD_ALGORITHMS = [
    ("unknown key", "principels", "x"),
    ("bad category", "category", "personalised_push"),
    ("missing summary", "summary", DELETE),
    ("empty text", "name", ""),
    ("unknown language", "name", {"zh": "名称", "fr": "nom"}),
    ("no default language", "name", {"en": "Name"}),
    ("filed without number", "filing", {"status": "filed"}),
    ("bad filing number", "filing.number", "备案123"),
    ("weight above one", "optimization_objectives.0.weight", 1.5),
    ("no objectives", "optimization_objectives", []),
    ("bad id", "optimization_objectives.0.id", "Watch Time"),
    ("control without how", "user_controls.explanation", {"available": True}),
    ("control without reason", "user_controls.tag_management", {"available": False}),
    ("http product url", "products.0.url", "http://video.acme.example"),
    ("web channel not https", "complaint_channels.1.target", "help.acme.example"),
    ("bad email channel", "complaint_channels.0.target", "algo-at-acme"),
    ("negative response days", "complaint_channels.0.response_days", -1),
    ("platform typo", "products.0.platforms", ["andriod"]),
    ("boolean as text", "public_opinion_attributes", "yes"),
]


@pytest.mark.parametrize(("label", "where", "value"), BAD_ALGORITHMS, ids=lambda x: str(x))
def test_known_bad_algorithm_files_fail_the_schema(label: str, where: str, value: Any) -> None:
    data = load(FIXTURES / "mini" / "acme" / "feed.yaml")
    assert not list(validator("algorithm").iter_errors(data))
    assert list(validator("algorithm").iter_errors(mutate(data, where, value))), label


def test_known_bad_provider_and_site_files_fail_the_schema() -> None:
    provider = load(FIXTURES / "mini" / "acme" / "provider.yaml")
    for where, value in [
        ("credit_code", "91110108MA01ABCD1"),
        ("maintainers", []),
        ("maintainers", ["not a login"]),
        ("website", "www.acme.example"),
        ("contact", {}),
    ]:
        bad = mutate(json.loads(json.dumps(provider)), where, value)
        assert list(validator("provider").iter_errors(bad)), where
    site = load(FIXTURES / "mini" / "site.yaml")
    for where, value in [("languages", []), ("base_url", "registry"), ("admins", ["a b"])]:
        bad = mutate(json.loads(json.dumps(site)), where, value)
        assert list(validator("site").iter_errors(bad)), where


def test_an_omitted_id_is_allowed_like_the_validator_allows_it() -> None:
    data = load(FIXTURES / "mini" / "acme" / "ranker.yaml")
    assert "id" not in data
    assert not list(validator("algorithm").iter_errors(data))


def test_schema_command_writes_and_checks(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    source = str(FIXTURES / "mini")
    assert cli("schema", "--source", source, "--out", str(out), "--check").returncode == 1
    done = cli("schema", "--source", source, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "algorithm.schema.json",
        "provider.schema.json",
        "site.schema.json",
    ]
    assert cli("schema", "--source", source, "--out", str(out), "--check").returncode == 0


def test_build_publishes_the_schemas(sample_site: Path) -> None:
    for stem in ("site", "provider", "algorithm"):
        published = json.loads((sample_site / "schema" / f"{stem}.schema.json").read_text())
        assert published["$id"].endswith(f"/schema/{stem}.schema.json")
        assert published["$schema"] == DIALECT
