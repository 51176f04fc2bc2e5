"""Quality warnings: each rule fires where it should, cites its rule, and --strict fails on it."""

from __future__ import annotations

import copy
import datetime as dt
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sitegen.diagnostics import Diagnostic, Severity
from sitegen.load import Kind, SourceDoc
from sitegen.model import DEFAULT_FILING_PATTERN
from sitegen.pipeline import check
from sitegen.quality import (
    _CJK_FILLER,
    _STOPWORDS,
    CJK_LANGUAGES,
    MIN_CJK_CHARS,
    MIN_WORDS,
    VAGUE_PHRASES,
    _letters,
    _texts,
    informative,
)
from sitegen.validate import MODELS, check_file, field_path

TODAY = dt.date(2026, 11, 29)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def line_of(path: Path, needle: str) -> int:
    """The 1-based line where ``needle`` first appears, so tests survive fixture edits."""
    text = path.read_text("utf-8")
    assert needle in text, needle
    return text[: text.index(needle)].count("\n") + 1


def warnings(source: Path, today: dt.date = TODAY) -> list[Diagnostic]:
    report = check(source, today)
    assert report.errors == [], [d.format_text() for d in report.errors]
    return report.warnings


def rules(source: Path, today: dt.date = TODAY) -> dict[str, list[Diagnostic]]:
    found: dict[str, list[Diagnostic]] = {}
    for item in warnings(source, today):
        found.setdefault(item.rule, []).append(item)
    return found


def only(source: Path, rule: str) -> Diagnostic:
    hits = [d for d in rules(source).get(rule, []) if d.path.endswith("feed.yaml")]
    assert len(hits) == 1, hits
    assert hits[0].severity is Severity.WARNING
    return hits[0]


@pytest.fixture
def clean(mini: Path) -> Path:
    """The mini fixture with its two deliberate quality gaps filled: no warnings at all."""
    edit(
        mini / "acme/feed.yaml", "  仅中文的运行机制说明。\n", "  zh: 中文说明。\n  en: English.\n"
    )
    edit(mini / "acme/feed.yaml", "mechanism: |\n", "mechanism:\n")
    edit(
        mini / "acme/ranker.yaml",
        "    target: 设置 > 反馈\n",
        "    target: 设置 > 反馈\n    response_days: 5\n",
    )
    assert warnings(mini) == []
    return mini


def test_fixture_warnings_cite_rules_at_their_lines(mini: Path) -> None:
    found = {(Path(d.path).name, d.line, d.field, d.rule) for d in warnings(mini)}
    assert found == {
        ("feed.yaml", 16, "mechanism", "Registry rule: every language"),
        ("ranker.yaml", 25, "complaint_channels", "Provisions Art. 22"),
    }


def test_personalized_push_without_opt_out(clean: Path) -> None:
    edit(
        clean / "acme/feed.yaml",
        "  personalization_opt_out:\n    available: true\n"
        "    how: {zh: 在“设置 > 隐私”中关闭个性化推荐。, "
        "en: Turn it off under Settings > Privacy.}",
        "  personalization_opt_out:\n    available: false\n    reason: {zh: 无, en: None}",
    )
    hit = only(clean, "Provisions Art. 17")
    assert hit.field == "user_controls.personalization_opt_out.available"
    assert hit.line == line_of(clean / "acme/feed.yaml", "available: false\n    reason: {zh: 无")
    assert "switch personalization off" in hit.message


def test_opt_out_is_not_required_of_other_categories(clean: Path) -> None:
    edit(clean / "acme/feed.yaml", "category: personalized_push", "category: sorting_selection")
    edit(
        clean / "acme/feed.yaml",
        "available: true\n    how: {zh: 在",
        "available: false\n    reason: {zh: 在",
    )
    assert "Provisions Art. 17" not in rules(clean)


def test_complaint_channels_without_a_response_time(clean: Path) -> None:
    edit(clean / "acme/feed.yaml", "    response_days: 10\n", "")
    hit = only(clean, "Provisions Art. 22")
    assert (hit.field, hit.col) == ("complaint_channels", 1)
    assert hit.line == line_of(clean / "acme/feed.yaml", "complaint_channels:")
    assert "response_days" in hit.hint


def test_public_opinion_attributes_but_not_filed(clean: Path) -> None:
    edit(
        clean / "acme/feed.yaml",
        "  status: filed\n  number: 网信算备110108000000000000001号\n  date: 2024-03-01\n",
        "  status: pending\n",
    )
    hit = only(clean, "Provisions Art. 24")
    assert hit.field == "filing.status"
    assert hit.line == line_of(clean / "acme/feed.yaml", "status: pending")
    # The same algorithm without public-opinion attributes may wait for its number.
    edit(
        clean / "acme/feed.yaml",
        "public_opinion_attributes: true",
        "public_opinion_attributes: false",
    )
    assert "Provisions Art. 24" not in rules(clean)


def test_withdrawn_filing_without_change_note(clean: Path) -> None:
    edit(clean / "acme/feed.yaml", "status: filed", "status: withdrawn")
    hit = only(clean, "Provisions Art. 26")
    assert hit.field == "filing.status"
    with (clean / "acme/feed.yaml").open("a", encoding="utf-8") as f:
        f.write("change_note: {zh: 2026年起停止使用。, en: No longer used from 2026.}\n")
    assert "Provisions Art. 26" not in rules(clean)


def reviews(source: Path, today: dt.date) -> list[tuple[str, str]]:
    return [
        (Path(d.path).name, d.message)
        for d in warnings(source, today)
        if d.rule == "Provisions Art. 8"
    ]


def test_last_reviewed_more_than_a_year_ago(clean: Path) -> None:
    # feed.yaml was reviewed on 2026-06-01 and ranker.yaml on 2026-01-01.
    assert reviews(clean, dt.date(2026, 12, 31)) == []
    assert [name for name, _ in reviews(clean, dt.date(2027, 1, 2))] == ["ranker.yaml"]
    assert [name for name, _ in reviews(clean, dt.date(2027, 6, 1))] == ["ranker.yaml"]
    late = reviews(clean, dt.date(2027, 6, 2))
    assert [name for name, _ in late] == ["feed.yaml", "ranker.yaml"]
    assert "last reviewed on 2026-06-01, more than a year ago" in late[0][1]
    hit = [d for d in warnings(clean, dt.date(2027, 6, 2)) if d.path.endswith("feed.yaml")]
    assert (hit[0].field, hit[0].line) == (
        "last_reviewed",
        line_of(clean / "acme/feed.yaml", "last_reviewed:"),
    )


def test_last_reviewed_in_the_future(clean: Path) -> None:
    future = reviews(clean, dt.date(2026, 5, 1))
    assert [name for name, _ in future] == ["feed.yaml"]
    assert "in the future" in future[0][1]


def test_leap_day_today_is_handled(clean: Path) -> None:
    edit(clean / "acme/feed.yaml", "last_reviewed: 2026-06-01", "last_reviewed: 2027-02-28")
    edit(clean / "acme/ranker.yaml", "last_reviewed: 2026-01-01", "last_reviewed: 2027-02-27")
    assert [name for name, _ in reviews(clean, dt.date(2028, 2, 29))] == ["ranker.yaml"]


def test_missing_translation(clean: Path) -> None:
    edit(clean / "acme/provider.yaml", 'en: "Acme Technology Co., Ltd."', 'fr: "Acme"')
    # An unknown language is an error, so drop the English instead.
    edit(clean / "acme/provider.yaml", ', fr: "Acme"', "")
    edit(
        clean / "acme/feed.yaml",
        "summary: {zh: 根据用户的观看时长和互动行为推荐内容。, "
        "en: Recommends content from watch time and interactions.}",
        "summary: 根据用户的观看时长和互动行为推荐内容。",
    )
    found = rules(clean)["Registry rule: every language"]
    assert sorted((Path(d.path).name, d.field) for d in found) == [
        ("feed.yaml", "summary"),
        ("provider.yaml", "name"),
    ]
    assert all("no en translation" in d.message for d in found)


OBJECTIVE = "{zh: 预测用户看完视频的可能性。, en: Predicts how likely a user is to finish a video.}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            OBJECTIVE,
            "{zh: 优化体验, en: Predicts how likely a user is to finish a video.}",
        ),
        (
            OBJECTIVE,
            "{zh: 预测用户看完视频的可能性。, en: Improve the user experience for our users.}",
        ),
        (
            OBJECTIVE,
            "{zh: 预测完播。, en: Completion.}",
        ),
    ],
    ids=["vague-zh", "vague-en", "too-short"],
)
def test_vague_or_short_objective(clean: Path, old: str, new: str) -> None:
    edit(clean / "acme/feed.yaml", old, new)
    hit = only(clean, "Provisions Art. 16")
    assert hit.field == "optimization_objectives[0].description"
    assert hit.line == line_of(clean / "acme/feed.yaml", new)


def test_vague_criterion(clean: Path) -> None:
    edit(
        clean / "acme/ranker.yaml",
        "description: {zh: 标题和正文包含查询词的程度。",
        "description: {zh: 提升用户体验，满足用户需求。",
    )
    hits = rules(clean)["Provisions Art. 16"]
    assert [(Path(d.path).name, d.field) for d in hits] == [
        ("ranker.yaml", "decision_criteria[0].description")
    ]
    assert "(zh)" in hits[0].message


def test_informative_thresholds() -> None:
    assert informative("预测用户看完视频的可能性。", "zh")
    assert not informative("优化体验，提升用户体验，满足用户需求。", "zh")
    assert not informative("视频完播率", "zh")
    assert informative("How well a result matches the query.", "en")
    assert not informative("Improve user experience.", "en")
    assert not informative("Better personalised recommendations for users", "en")


def _informative_by_character(text: str, lang: str) -> bool:
    """The rule as first written, one unicodedata look-up per character: the reference."""

    def letters(value: str) -> str:
        return "".join(c for c in value if unicodedata.category(c)[0] in "LN")

    lowered = text.lower()
    for phrase in VAGUE_PHRASES:
        lowered = lowered.replace(phrase, " ")
    if lang.split("-")[0] in CJK_LANGUAGES:
        kept = "".join(c for c in letters(lowered) if c not in _CJK_FILLER)
        return len(letters(text)) >= MIN_CJK_CHARS and len(kept) >= MIN_CJK_CHARS // 2
    words = re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", lowered)
    meaningful = [w for w in words if w not in _STOPWORDS]
    total = len(re.findall(r"[^\W_]+(?:['’-][^\W_]+)*", text))
    return total >= MIN_WORDS and len(meaningful) >= MIN_WORDS // 2


def test_letters_are_exactly_unicode_categories_l_and_n() -> None:
    everything = "".join(chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i < 0xE000)
    expected = "".join(c for c in everything if unicodedata.category(c)[0] in "LN")
    assert _letters(everything) == expected


# Capitals and letters whose lower case is longer or not a letter (U+0130 becomes "i" and a
# combining dot) check the shortcut taken when lowering and the phrases change nothing.
_CASED = ["Improve User Experience", "The", "A", "İstanbul", "ǅ", "ΣΑΣ", "ẞ", "Ⅻ", "ＡＢ"]
_PHRASE_PIECES = st.sampled_from(
    [*VAGUE_PHRASES, *_STOPWORDS, *_CJK_FILLER, *_CASED, " ", "，", "-", "’"]
)
_TEXTS = st.lists(st.one_of(_PHRASE_PIECES, st.text(max_size=8)), max_size=14).map("".join)


@given(_TEXTS, st.sampled_from(["zh", "en", "ja", "zh-Hant", "fr", "ko-KR"]))
@settings(max_examples=1500, deadline=None)
def test_informative_agrees_with_the_character_by_character_rule(text: str, lang: str) -> None:
    assert informative(text, lang) == _informative_by_character(text, lang)


def _translation_warnings(raw: bytes) -> list[str]:
    doc = SourceDoc("a/x.yaml", Kind.ALGORITHM, "a", "x", digest="d", raw=raw)
    context = {"languages": ["zh", "en"], "filing_pattern": DEFAULT_FILING_PATTERN}
    check = check_file(doc, context)
    assert check.model is not None, check.problems
    return [field for _, _, _, field, message, _, _ in check.quality if "translation" in message]


def test_each_text_without_its_english_is_warned_about_where_it_is() -> None:
    """Validation notes a text that lacks a language, so the rule looks only then: with the
    English of any one text of a real disclosure taken out, the warning names that text."""
    sample = Path(__file__).parents[1] / "disclosures/haibei-mall/product-recommendation.yaml"
    data = yaml.safe_load(sample.read_text("utf-8"))
    data["id"] = "x"

    def dump(value: Any) -> bytes:
        return yaml.safe_dump(value, allow_unicode=True, sort_keys=False).encode()

    assert _translation_warnings(dump(data)) == []
    context = {"languages": ["zh", "en"], "filing_pattern": DEFAULT_FILING_PATTERN}
    model = MODELS[Kind.ALGORITHM].model_validate(data, context=context)
    paths = [loc for loc, _ in _texts(model, ())]
    assert len(paths) > 20
    for loc in paths:
        changed = copy.deepcopy(data)
        parent = changed
        for step in loc[:-1]:
            parent = parent[step]
        parent[loc[-1]] = {"zh": parent[loc[-1]]["zh"]}
        assert _translation_warnings(dump(changed)) == [field_path(loc)], loc


def test_the_translation_rule_sees_every_text_and_nothing_else() -> None:
    """Texts are maps of strings, found in field order through models and lists."""

    class Item(BaseModel):
        name: dict[str, str]
        counts: dict[str, int] = {}  # a map, not a text

    class Doc(BaseModel):
        title: dict[str, str]
        empty: dict[str, str] = {}
        items: list[Item] = []
        tags: list[str] = []
        note: dict[str, str] | None = None

    doc = Doc(
        title={"zh": "标题"},
        items=[Item(name={"en": "first"}, counts={"a": 1}), Item(name={"zh": "第二"})],
        tags=["a"],
        note={"en": "last"},
    )
    assert _texts(doc, ("root",)) == [
        (("root", "title"), {"zh": "标题"}),
        (("root", "items", 0, "name"), {"en": "first"}),
        (("root", "items", 1, "name"), {"zh": "第二"}),
        (("root", "note"), {"en": "last"}),
    ]


def test_weights_sum_above_one(clean: Path) -> None:
    edit(
        clean / "acme/feed.yaml",
        "    weight: 0.6\n",
        "    weight: 0.6\n  - id: freshness\n    name: {zh: 新鲜度, en: Freshness}\n"
        "    description: {zh: 发布时间越近的视频得分越高，旧视频逐渐下沉。, "
        "en: The more recently a video was posted the higher it scores.}\n    weight: 0.5\n",
    )
    hit = only(clean, "Registry rule: weights are shares")
    assert (hit.field, hit.col) == ("optimization_objectives", 1)
    assert hit.line == line_of(clean / "acme/feed.yaml", "optimization_objectives:")
    assert "1.1" in hit.message


def test_weights_summing_to_exactly_one_pass(clean: Path) -> None:
    edit(
        clean / "acme/feed.yaml",
        "    weight: 0.6\n",
        "    weight: 0.7\n  - id: freshness\n    name: {zh: 新鲜度, en: Freshness}\n"
        "    description: {zh: 发布时间越近的视频得分越高，旧视频逐渐下沉。, "
        "en: The more recently a video was posted the higher it scores.}\n    weight: 0.3\n",
    )
    assert "Registry rule: weights are shares" not in rules(clean)


def test_strict_turns_warnings_into_errors(mini: Path, cli: CliRunner) -> None:
    relaxed = cli("validate", "--source", str(mini), "--today", "2026-11-29")
    assert relaxed.returncode == 0, relaxed.stderr
    assert "warning:" in relaxed.stdout and "[Provisions Art. 22]" in relaxed.stdout
    strict = cli("validate", "--source", str(mini), "--today", "2026-11-29", "--strict")
    assert strict.returncode == 1
    assert "validate failed: 0 error(s), 2 warning(s)" in strict.stderr
    build = cli("build", "--source", str(mini), "--out", str(mini.parent / "_site"), "--strict")
    assert build.returncode == 1
    assert "warning:" in build.stderr


def test_build_reports_warnings_and_goes_on(mini: Path, cli: CliRunner) -> None:
    done = cli("build", "--source", str(mini), "--out", str(mini.parent / "_site"))
    assert done.returncode == 0, done.stderr
    assert "[Registry rule: every language]" in done.stderr
    assert "2 warning(s)" in done.stdout


def test_provider_guide_documents_every_rule_and_threshold() -> None:
    from conftest import ROOT

    from sitegen import quality

    guide = (ROOT / "docs" / "providers.md").read_text("utf-8")
    cited = {value for name, value in vars(quality).items() if name.startswith(("ART_", "RULE_"))}
    assert len(cited) == 8
    for rule in cited:
        assert f"`{rule}`" in guide, rule
    assert f"at least **{quality.MIN_CJK_CHARS}** letters" in guide
    assert f"at least **{quality.MIN_CJK_CHARS // 2}** once" in guide
    assert f"at least **{quality.MIN_WORDS}** words" in guide
    assert f"at least **{quality.MIN_WORDS // 2}** once" in guide
    assert quality._CJK_FILLER in guide
