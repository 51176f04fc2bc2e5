"""Validation: every problem is reported at file:line:col with the field path and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.diagnostics import Report
from sitegen.model import DataInput, credit_check_char
from sitegen.pipeline import check, load_registry


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def lines(report: Report) -> list[str]:
    """Errors only: quality warnings have their own tests."""
    return [d.format_text() for d in report.errors]


def only_error(source: Path) -> str:
    report = check(source)
    found = lines(report)
    assert len(found) == 1, found
    return found[0]


def test_fixture_is_valid(mini: Path) -> None:
    report = Report()
    registry = load_registry(mini, report)
    assert lines(report) == []
    assert registry is not None
    assert [d.key for d in registry.disclosures] == ["acme/feed", "acme/ranker"]
    # The id omitted in ranker.yaml is taken from the file name.
    assert registry.disclosures[1].algorithm.id == "ranker"


def test_unknown_key_suggests_the_close_one(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "principles:", "principels:")
    report = check(mini)
    text = lines(report)
    assert any(
        t.endswith(
            "acme/feed.yaml:15:1: error: principels: unknown key 'principels' "
            "(did you mean 'principles'?)"
        )
        for t in text
    ), text
    assert any(": principles: required field is missing (add `principles:`" in t for t in text)


def test_wrong_enum_value_points_at_the_value(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "category: personalized_push", "category: personalised_push")
    assert only_error(mini).endswith(
        "acme/feed.yaml:4:11: error: category: Input should be 'generation_synthesis', "
        "'personalized_push', 'sorting_selection', 'search_filtering' or 'scheduling_decision' "
        "(did you mean 'personalized_push'?)"
    )


def test_missing_nested_key_points_at_the_parent(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "  status: filed\n", "")
    error = only_error(mini)
    assert "acme/feed.yaml:6:1: error: filing.status: required field is missing" in error
    assert "(add `status:`" in error


def test_list_item_field_path_and_hint(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "    weight: 0.6", "    weight: 1.6")
    error = only_error(mini)
    assert "acme/feed.yaml:22:13: error: optimization_objectives[0].weight:" in error
    assert "less than or equal to 1" in error


def test_credit_code_check_digit(mini: Path) -> None:
    edit(mini / "acme/provider.yaml", "91110108MA01ABCD1E", "91110108MA01ABCD1X")
    error = only_error(mini)
    assert "acme/provider.yaml:3:14: error: credit_code: check digit is 'X'" in error
    assert "give 'E'" in error


def test_credit_check_char_matches_a_published_code() -> None:
    # The example code printed in GB 32100-2015 guidance material.
    assert credit_check_char("91350100M000100Y4") == "3"


def test_filing_number_must_match_the_pattern(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "网信算备110108000000000000001号", "网信算备1101号")
    error = only_error(mini)
    assert "acme/feed.yaml:8:11: error: filing.number: filing number '网信算备1101号'" in error


def test_filed_without_number(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "  number: 网信算备110108000000000000001号\n", "")
    error = only_error(mini)
    assert "filing.status: a filed filing needs its number" in error


def test_duplicate_filing_numbers_across_files(mini: Path) -> None:
    edit(
        mini / "acme/ranker.yaml",
        "  status: pending",
        "  status: filed\n  number: 网信算备110108000000000000001号",
    )
    error = only_error(mini)
    assert (
        "acme/ranker.yaml:7:11: error: filing.number: "
        "filing number 网信算备110108000000000000001号 is already used" in error
    )
    assert "acme/feed.yaml:8 has it" in error


def test_channel_target_must_fit_kind(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "target: algo@acme.example", "target: not-an-address")
    error = only_error(mini)
    assert "complaint_channels[0].target: not an email address" in error
    assert ":44:13:" in error


def test_javascript_url_is_refused(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "url: https://video.acme.example", "url: javascript:alert(1)")
    assert "products[0].url: not an https URL" in only_error(mini)


def test_id_must_match_file_name(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "id: feed", "id: other")
    error = only_error(mini)
    assert error.endswith(
        "acme/feed.yaml:1:5: error: id: id 'other' does not match the file name 'feed' "
        "(set `id: feed` or rename the file name)"
    )


def test_bad_id_characters(mini: Path) -> None:
    (mini / "acme/feed.yaml").rename(mini / "acme/Feed_1.yaml")
    edit(mini / "acme/Feed_1.yaml", "id: feed", "id: Feed_1")
    error = only_error(mini)
    assert "id: value does not have the expected form (use lowercase a-z" in error


def test_missing_provider_yaml(mini: Path) -> None:
    (mini / "other").mkdir()
    (mini / "acme/ranker.yaml").rename(mini / "other/ranker.yaml")
    error = only_error(mini)
    assert "other/ranker.yaml:1:1: error: provider 'other' has no provider.yaml" in error


def test_unknown_language_and_missing_default(mini: Path) -> None:
    edit(
        mini / "acme/feed.yaml",
        "name: {zh: 示例推荐算法, en: Acme feed recommendation}",
        "name: {fr: Algorithme, en: Acme feed recommendation}",
    )
    error = only_error(mini)
    assert "name.fr: unknown language 'fr'" in error
    assert ":2:8:" in error  # the key, not its value


def test_control_character_in_name(mini: Path) -> None:
    edit(mini / "acme/provider.yaml", "示例科技有限公司", "示例\u202e科技")
    error = only_error(mini)
    assert "acme/provider.yaml:2:12: error: text contains U+202E RIGHT-TO-LEFT OVERRIDE" in error


def test_every_problem_in_one_run_sorted(mini: Path) -> None:
    edit(mini / "acme/feed.yaml", "role: service_provider", "role: operator")
    edit(mini / "acme/ranker.yaml", "platforms: [web]", "platforms: [desktop]")
    edit(
        mini / "acme/provider.yaml",
        "website: https://www.acme.example",
        "website: http://www.acme.example",
    )
    text = lines(check(mini))
    assert len(text) == 3
    assert text == sorted(text)
    assert [t.split(":")[0].rsplit("/", 1)[-1] for t in text] == [
        "feed.yaml",
        "provider.yaml",
        "ranker.yaml",
    ]


def test_quoted_numbers_hint(mini: Path) -> None:
    edit(mini / "site.yaml", 'target: "12377"', "target: 12377")
    assert "(write text; quote values that look like numbers" in only_error(mini)


def test_site_yaml_missing(mini: Path) -> None:
    (mini / "site.yaml").unlink()
    assert "site.yaml is missing" in only_error(mini)


@pytest.mark.parametrize("field", ["feedback_url"])
def test_feedback_url_needs_placeholders(mini: Path, field: str) -> None:
    edit(mini / "site.yaml", "provider={provider}&", "")
    assert f"{field}: feedback_url must contain {{provider}} and {{id}}" in only_error(mini)


def test_texts_keep_the_site_language_order_and_are_never_the_input_mapping() -> None:
    """Output is the same whatever order a file wrote its languages in; a text that was
    already in order is not shared with the parsed file's data."""
    context = {"languages": ["zh", "en"]}
    for text in ({"en": "Watch time", "zh": "观看时长"}, {"zh": "观看时长", "en": "Watch time"}):
        given = {"id": "watch", "name": text, "personal": True, "sensitive": False}
        item = DataInput.model_validate(given, context=context)
        assert list(item.name.items()) == [("zh", "观看时长"), ("en", "Watch time")]
        assert item.name is not text
        text["zh"] = "changed"
        assert item.name["zh"] == "观看时长"
