"""The semantic diff: paths, item matching, per-language text, substantive versus editorial."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from sitegen.diff import diff_disclosures
from sitegen.inline import highlight, inline_diff, tokens, word_diff_text
from sitegen.load import parse_yaml
from sitegen.model import Algorithm

LANGS = ["zh", "en"]
FEED = Path(__file__).parent / "fixtures/mini/acme/feed.yaml"


@pytest.fixture
def base() -> dict[str, Any]:
    data = parse_yaml(FEED.read_text("utf-8"))[0]
    dump: dict[str, Any] = Algorithm.model_validate(data, context={"languages": LANGS}).model_dump(
        mode="json"
    )
    return dump


def _json(old: dict[str, Any], new: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    return [c.as_json() for c in diff_disclosures(old, new, LANGS, **kw).changes]


def test_identical_disclosures_have_no_changes(base: dict[str, Any]) -> None:
    diff = diff_disclosures(base, copy.deepcopy(base), LANGS)
    assert diff.changes == [] and not diff.substantive
    # Fields that are null on both sides are not listed as unchanged either.
    assert "scenarios" not in diff.unchanged and "principles" in diff.unchanged


def test_changed_weight_by_item_id(base: dict[str, Any]) -> None:
    new = copy.deepcopy(base)
    new["optimization_objectives"][0]["weight"] = 0.45
    assert _json(base, new) == [
        {
            "path": "optimization_objectives[watch-time].weight",
            "parts": ["optimization_objectives", "watch-time", "weight"],
            "change": "changed",
            "substantive": True,
            "old": 0.6,
            "new": 0.45,
        }
    ]


def test_added_and_removed_items(base: dict[str, Any]) -> None:
    new = copy.deepcopy(base)
    item = {"id": "fresh", "name": {"zh": "新鲜度"}, "description": {"zh": "越新越前。"}}
    new["decision_criteria"].insert(0, item)
    new["data_inputs"] = []
    changes = _json(base, new)
    assert [(c["path"], c["change"], c["substantive"]) for c in changes] == [
        ("decision_criteria[fresh]", "added", True),
        ("data_inputs[history]", "removed", True),
    ]
    assert changes[0]["new"] == item and "old" not in changes[0]
    assert changes[1]["old"]["name"] == {"zh": "观看记录", "en": "Watch history"}


def test_reordering_is_not_a_change(base: dict[str, Any]) -> None:
    new = copy.deepcopy(base)
    new["complaint_channels"].reverse()
    new["products"][0]["platforms"].reverse()
    new["decision_criteria"].append(
        {"id": "b", "name": {"zh": "乙"}, "description": {"zh": "乙。"}}
    )
    again = copy.deepcopy(new)
    again["decision_criteria"].reverse()
    assert diff_disclosures(new, again, LANGS).changes == []
    assert _json(base, new)[0]["path"] == "decision_criteria[b]"


def test_channels_match_by_target_and_platforms_as_a_set(base: dict[str, Any]) -> None:
    new = copy.deepcopy(base)
    new["complaint_channels"][0]["response_days"] = 5
    new["products"][0]["platforms"] = ["ios", "web"]
    assert [(c["path"], c["change"]) for c in _json(base, new)] == [
        ("products[https://video.acme.example].platforms[android]", "removed"),
        ("products[https://video.acme.example].platforms[web]", "added"),
        ("complaint_channels[algo@acme.example].response_days", "changed"),
    ]


def test_localized_text_is_compared_per_language(base: dict[str, Any]) -> None:
    new = copy.deepcopy(base)
    new["principles"] = {"zh": "我们根据观看时长推荐。", "en": base["principles"]["en"]}
    new["summary"] = {"zh": base["summary"]["zh"]}  # the English translation removed
    changes = _json(base, new)
    assert [(c["path"], c["change"], c.get("lang"), c["substantive"]) for c in changes] == [
        ("summary.en", "removed", "en", False),
        ("principles.zh", "changed", "zh", True),
    ]
    assert changes[0]["editorial_reason"] == "descriptive"


def test_editorial_reasons(base: dict[str, Any]) -> None:
    new = copy.deepcopy(base)
    new["principles"]["en"] = "We recommend videos from watch time and interactions."
    new["principles"]["zh"] = "我们根据用户的 **观看时长** 和互动行为\n进行个性化推荐。"
    new["name"]["en"] = "Acme feed"
    new["last_reviewed"] = "2026-07-01"
    reasons = {c["path"]: c.get("editorial_reason") for c in _json(base, new)}
    assert reasons == {
        "name.en": "descriptive",
        "principles.zh": "formatting",  # emphasis and a line break: the same words
        "principles.en": "translation",
        "last_reviewed": "descriptive",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "search_filtering"),
        ("role", "technical_supporter"),
        ("public_opinion_attributes", False),
    ],
)
def test_substantive_fields(base: dict[str, Any], field: str, value: Any) -> None:
    new = copy.deepcopy(base)
    new[field] = value
    assert [(c["path"], c["substantive"]) for c in _json(base, new)] == [(field, True)]


def test_controls_and_filing_are_substantive(base: dict[str, Any]) -> None:
    new = copy.deepcopy(base)
    new["user_controls"]["tag_management"] = {
        "available": True,
        "how": {"zh": "在设置中管理。"},
        "reason": None,
    }
    new["filing"]["status"] = "withdrawn"
    changes = _json(base, new)
    assert [(c["path"], c["change"], c["substantive"]) for c in changes] == [
        ("filing.status", "changed", True),
        ("user_controls.tag_management.available", "changed", True),
        ("user_controls.tag_management.how", "added", True),
        ("user_controls.tag_management.reason", "removed", True),
    ]


def test_an_old_format_version_is_compared_leniently(base: dict[str, Any]) -> None:
    # A file that no longer validates: plain text where the format now stores a mapping,
    # a number written as text, and a key the format does not have.
    old = copy.deepcopy(base)
    old["mechanism"] = "仅中文的运行机制说明。\n"
    old["optimization_objectives"][0]["weight"] = "0.6"
    old["owner"] = "张三"
    old["scenarios"] = None
    del old["change_note"]
    changes = _json(old, base, migration=True)
    assert [(c["path"], c["change"], c.get("editorial_reason")) for c in changes] == [
        ("optimization_objectives[watch-time].weight", "changed", "migration"),
        ("owner", "removed", "migration"),
    ]
    # A real change made in the same edit is still substantive.
    new = copy.deepcopy(base)
    new["optimization_objectives"][0]["weight"] = 0.3
    changes = _json(old, new, migration=True)
    assert changes[0]["substantive"] is True and changes[0]["new"] == 0.3


def test_tokens_are_words_for_english_and_characters_for_chinese() -> None:
    assert tokens("Watch time, 2x") == ["Watch", " ", "time", ",", " ", "2x"]
    assert tokens("观看时长ABC") == ["观", "看", "时", "长", "ABC"]


def test_inline_diff_english_words() -> None:
    segments = inline_diff("Ranks by watch time.", "Ranks by total watch time.")
    assert [(op, text.strip()) for op, text in segments] == [
        ("=", "Ranks by"),
        ("+", "total"),
        ("=", "watch time."),
    ]
    assert word_diff_text(segments).replace(" ", "") == "Ranksby{+total+}watchtime."
    segments = inline_diff("Uses age and city.", "Uses city.")
    assert word_diff_text(segments).replace(" ", "") == "Uses[-ageand-]city."


def test_inline_diff_chinese_characters() -> None:
    segments = inline_diff("根据观看时长推荐", "根据观看时长和点赞推荐")
    assert segments == [("=", "根据观看时长"), ("+", "和点赞"), ("=", "推荐")]


def test_a_rewrite_is_shown_whole() -> None:
    assert inline_diff("alpha beta", "gamma delta") == [("-", "alpha beta"), ("+", "gamma delta")]


def test_highlight_escapes_before_marking() -> None:
    segments = inline_diff("a <b>x</b> & c", "a <script>alert(1)</script> & c")
    new = str(highlight(segments, "new"))
    old = str(highlight(segments, "old"))
    for html in (new, old):
        doc = BeautifulSoup(html, "html.parser")
        assert {tag.name for tag in doc.find_all(True)} <= {"ins", "del"}
    new_doc = BeautifulSoup(new, "html.parser")
    assert new_doc.get_text() == "a <script>alert(1)</script> & c"
    assert "script" in "".join(t.get_text() for t in new_doc.find_all("ins"))
    assert "<del>" not in new and "<ins>" not in old
    assert BeautifulSoup(old, "html.parser").get_text() == "a <b>x</b> & c"


def test_labels_mark_fallback_languages_and_escape_names(base: dict[str, Any]) -> None:
    from sitegen.changelabels import Labels
    from sitegen.theme import Theme

    theme = Theme()

    def gettext(key: str, lang: str | None = None, **values: Any) -> str:
        return theme.gettext(key, lang or "en", **values)

    new = copy.deepcopy(base)
    hostile = {
        "id": "x",
        "name": {"zh": "<img src=x onerror=alert(1)>"},
        "description": {"zh": "说明。"},
    }
    new["decision_criteria"].append(hostile)
    new["decision_criteria"][0]["description"]["en"] = "Closer <b>matches</b> rank higher."
    diff = diff_disclosures(base, new, LANGS)
    view = Labels(gettext, "en", LANGS).diff(diff, base, new)
    labels = [str(row.label) for row in view.rows]
    assert labels == [
        "Decision criteria › Interest match › Description › English",
        'Decision criteria › <span lang="zh">&lt;img src=x onerror=alert(1)&gt;</span>',
    ]
    added = str(view.rows[1].new)
    assert "<img" not in added and "&lt;img src=x onerror=alert(1)&gt;" in added
    assert "<b>" not in str(view.rows[0].new) and "&lt;b&gt;" in str(view.rows[0].new)
    assert [label for label, _ in view.unchanged][:2] == ["Identifier", "Name"]


def test_inline_diff_is_remembered_but_each_caller_gets_its_own_list() -> None:
    """The same change is shown in every language: matched once, and a caller that changes
    the segments it got does not change what the next caller gets."""
    old, new = "The model ranks by watch time.", "The model ranks by completion rate."
    first = inline_diff(old, new)
    assert ("-", "watch") in first and ("+", "completion") in first
    first.clear()
    assert inline_diff(old, new) == inline_diff(old, new) != []


def test_unchanged_values_are_laid_out_once_and_never_confused() -> None:
    """A disclosure's versions repeat their unchanged fields: each value is laid out once per
    language, and values that only look alike (1, 1.0, True; None and "None") stay apart."""
    from sitegen.changelabels import Labels
    from sitegen.theme import Theme

    theme = Theme()

    def gettext(key: str, lang: str | None = None, **values: Any) -> str:
        return theme.gettext(key, lang or "en", **values)

    labels = Labels(gettext, "en", LANGS)
    values = [1, 1.0, True, "1", None, "None", [1], "[1]", {"zh": "一", "en": "one"}]
    for value in values:  # each after the others are remembered: no key is shared
        assert labels.kept(value, "weight") == labels.value(value, "weight")
    principles = {"zh": "原则。", "en": "Principles."}
    shown = labels.kept(principles, "principles")
    assert labels.kept(dict(principles), "principles") is shown
    assert labels.kept(principles, "scenarios") is not shown
