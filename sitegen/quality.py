"""Quality warnings: a disclosure can be valid and still fail the people who read it.

Each rule names what it serves (an article of the Provisions on the Administration of
Algorithmic Recommendation, or a registry rule in docs/providers.md) so authors know why it
matters.  They are warnings: the build goes on, and ``--strict`` turns them into errors.  The
thresholds are documented in docs/providers.md; change both together.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel

from sitegen.diagnostics import Report, Severity
from sitegen.load import FieldPath, Kind, SourceDoc, Sources
from sitegen.model import Category, FilingStatus
from sitegen.registry import Registry
from sitegen.validate import Finding, emit, field_path, findings

ART_8 = "Provisions Art. 8"  # regular review of the algorithm
ART_16 = "Provisions Art. 16"  # publish principles, purpose and main mechanism
ART_17 = "Provisions Art. 17"  # option to switch off personalization
ART_22 = "Provisions Art. 22"  # complaint handling with a response time
ART_24 = "Provisions Art. 24"  # filing for public-opinion attributes
ART_26 = "Provisions Art. 26"  # de-registration when a service ends
RULE_LANGUAGES = "Registry rule: every language"
RULE_WEIGHTS = "Registry rule: weights are shares"

# "Too short": fewer than this many letters/digits in a CJK text, or words elsewhere.
MIN_CJK_CHARS = 10
MIN_WORDS = 6
CJK_LANGUAGES = ("zh", "ja", "ko")
# "Vague": once these stock phrases are removed, too little is left to inform anyone.
VAGUE_PHRASES = (
    "提升用户体验",
    "优化用户体验",
    "改善用户体验",
    "提升体验",
    "优化体验",
    "改善体验",
    "用户体验",
    "提高效率",
    "提升效率",
    "优化效果",
    "提升效果",
    "满足用户需求",
    "满足需求",
    "提供更好的服务",
    "更好的服务",
    "提升服务质量",
    "提高质量",
    "个性化推荐",
    "智能推荐",
    "improve the user experience",
    "improve user experience",
    "improve experience",
    "better user experience",
    "better experience",
    "user experience",
    "improve efficiency",
    "increase efficiency",
    "meet user needs",
    "better service",
    "improve quality",
    "optimize results",
    "optimise results",
    "personalized recommendations",
    "personalised recommendations",
)
_STOPWORDS = frozenset(
    (
        *("a", "an", "and", "the", "to", "of", "for", "in", "on", "our", "its", "it", "we"),
        *("us", "better", "more", "improve", "improves", "optimize", "optimise", "optimizes"),
        *("optimises", "enhance", "enhances", "provide", "provides", "users", "user's", "user"),
    )
)
_CJK_FILLER = "的了和与及并为让使更好进行提升优化我们用户"


def _in_a_year_before(today: dt.date) -> dt.date:
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


# Everything but letters and digits: ``[^\W_]`` is exactly Unicode categories L* and N*
# (tests/test_quality.py checks every code point), and a regular expression finds them
# twenty times faster than asking unicodedata about each character.
_NOT_LETTER = re.compile(r"[\W_]+")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_FILLER = re.compile(f"[{_CJK_FILLER}]")  # counted, not deleted: five times faster
_ASCII_PHRASES = tuple(phrase for phrase in VAGUE_PHRASES if phrase.isascii())
# Most texts hold no stock phrase: one search says so, where removing each took longer.
_ANY_PHRASE = re.compile("|".join(map(re.escape, VAGUE_PHRASES)))
_ANY_ASCII_PHRASE = re.compile("|".join(map(re.escape, _ASCII_PHRASES)))


def _letters(text: str) -> str:
    """The letters and digits of ``text`` (Unicode categories L and N), in order."""
    return _NOT_LETTER.sub("", text)


def informative(text: str, lang: str) -> bool:
    """Whether ``text`` says enough to inform a reader (see docs/providers.md)."""
    lowered = whole = text.lower()
    # Text without other characters cannot hold the Chinese phrases; the rest keep their order.
    ascii_only = lowered.isascii()
    cjk = lang.split("-")[0] in CJK_LANGUAGES
    vague = (_ANY_ASCII_PHRASE if ascii_only else _ANY_PHRASE).search(lowered) is not None
    if vague:
        for phrase in _ASCII_PHRASES if ascii_only else VAGUE_PHRASES:
            lowered = lowered.replace(phrase, " ")
    elif ascii_only and not cjk:
        # The usual English text: lowering kept its words, so counting may stop as soon as
        # both thresholds are passed, which a sentence usually does in its first few words.
        enough = 0
        for total, match in enumerate(_WORD.finditer(lowered), 1):
            enough += match.group() not in _STOPWORDS
            if total >= MIN_WORDS and enough >= MIN_WORDS // 2:
                return True
        return False
    # Most texts hold no vague phrase, and then the count of the text's own letters or words
    # is the one just made (a third of the time here, in every file).  Only for ASCII does
    # lowering keep every word as it was; elsewhere it can split one (U+0130 gains a mark).
    if cjk:
        letters = _letters(lowered)
        kept = len(letters) - len(_FILLER.findall(letters))
        count = len(letters) if lowered == text else len(_letters(text))
        return count >= MIN_CJK_CHARS and kept >= MIN_CJK_CHARS // 2
    words = _WORD.findall(lowered)
    meaningful = [w for w in words if w not in _STOPWORDS]
    same = lowered == whole and ascii_only
    total = len(words) if same else len(_WORD.findall(text))
    return total >= MIN_WORDS and len(meaningful) >= MIN_WORDS // 2


class _Checker:
    def __init__(self, doc: SourceDoc, report: Report) -> None:
        self.doc, self.report = doc, report

    def warn(self, loc: FieldPath, message: str, hint: str, rule: str, key: bool = False) -> None:
        self.warn_at(self.doc.locate(loc, key=key), loc, message, hint, rule)

    def warn_at(
        self, at: tuple[int, int], loc: FieldPath, message: str, hint: str, rule: str
    ) -> None:
        line, col = at
        self.report.add(
            self.doc.path, line, col, field_path(loc), message, hint, Severity.WARNING, rule
        )


def _texts(model: BaseModel, loc: FieldPath) -> list[tuple[FieldPath, dict[str, str]]]:
    """Every localized text inside a model, with its field path (models store them as maps)."""
    found: list[tuple[FieldPath, dict[str, str]]] = []
    _collect_texts(model, loc, found)
    return found


def _collect_texts(
    value: BaseModel | list[Any], loc: FieldPath, found: list[tuple[FieldPath, dict[str, str]]]
) -> None:
    """Depth first, fields in their declared order (a model's ``__dict__`` keeps it); scalars
    are passed over with one test, since most fields are text or plain values.  A text is
    taken where it is met rather than in a call of its own: this walk runs for every file."""
    items = value.__dict__.items() if isinstance(value, BaseModel) else enumerate(value)
    for name, item in items:
        if isinstance(item, dict):
            if _is_text(item):
                found.append(((*loc, name), item))
        elif isinstance(item, _CONTAINERS):
            _collect_texts(item, (*loc, name), found)


def _is_text(value: dict[Any, Any]) -> bool:
    """A localized text: a map of strings."""
    if not value:
        return False
    for text in value.values():  # noqa: SIM110  (120 ns a map; all() over a generator: 270)
        if not isinstance(text, str):
            return False
    return True


_CONTAINERS = (BaseModel, list)


def check_translations(model: BaseModel, languages: list[str], checker: _Checker) -> None:
    for loc, text in _texts(model, ()):
        missing = [lang for lang in languages if lang not in text]
        if not missing:
            continue
        names = ", ".join(missing)
        checker.warn(
            loc,
            f"no {names} translation",
            f"add `{missing[0]}: …` beside `{next(iter(text))}:`; readers in {names} "
            "otherwise see the other language",
            RULE_LANGUAGES,
        )


def check_algorithm(
    doc: SourceDoc, algorithm: Any, languages: list[str], today: dt.date, report: Report
) -> None:
    """Every quality rule for one algorithm file."""
    checker = _Checker(doc, report)
    _algorithm_rules(checker, algorithm, languages)
    check_review(doc.locate(("last_reviewed",)), algorithm.last_reviewed, today, checker)


def check_review(
    at: tuple[int, int], last_reviewed: dt.date, today: dt.date, checker: _Checker
) -> None:
    """The one rule that depends on today's date, so it is never cached; ``at`` is where
    ``last_reviewed`` stands."""
    if last_reviewed < _in_a_year_before(today):
        checker.warn_at(
            at,
            ("last_reviewed",),
            f"last reviewed on {last_reviewed.isoformat()}, more than a year ago",
            "check the disclosure still describes the algorithm, then update `last_reviewed`",
            ART_8,
        )
    elif last_reviewed > today:
        checker.warn_at(
            at,
            ("last_reviewed",),
            f"last_reviewed {last_reviewed.isoformat()} is in the future",
            "write the date the review actually happened",
            ART_8,
        )


def _algorithm_rules(
    checker: _Checker, algorithm: Any, languages: list[str], translated: bool | None = None
) -> None:
    """The rules that depend on the file and the languages only; ``translated``: every text
    is known to have every language (None: not known, so the texts are looked at)."""
    a = algorithm
    opt_out = a.user_controls.personalization_opt_out
    if a.category is Category.PERSONALIZED_PUSH and not opt_out.available:
        checker.warn(
            ("user_controls", "personalization_opt_out", "available"),
            "a personalized-push algorithm offers no way to switch personalization off",
            "the Provisions require an option not based on personal traits or to turn "
            "recommendations off; offer one and say `how`",
            ART_17,
        )
    if all(channel.response_days is None for channel in a.complaint_channels):
        checker.warn(
            ("complaint_channels",),
            "no complaint channel gives a response time",
            "add `response_days:` to the channels that answer in writing: the number of days "
            "a complainant waits for an answer",
            ART_22,
            key=True,
        )
    if a.public_opinion_attributes and a.filing.status is FilingStatus.PENDING:
        checker.warn(
            ("filing", "status"),
            "an algorithm with public-opinion attributes is not filed",
            "such algorithms must be filed within ten working days of going live; "
            "add the filing number once it is issued",
            ART_24,
        )
    if a.filing.status is FilingStatus.WITHDRAWN and not a.change_note:
        checker.warn(
            ("filing", "status"),
            "the filing is withdrawn but there is no change note",
            "add `change_note:` saying why and from when the algorithm is no longer used",
            ART_26,
        )
    for group in ("optimization_objectives", "decision_criteria"):
        for index, item in enumerate(getattr(a, group)):
            vague = [lang for lang, text in item.description.items() if not informative(text, lang)]
            if vague:
                checker.warn(
                    (group, index, "description"),
                    f"description is too short or vague to inform anyone ({', '.join(vague)})",
                    "say concretely what is measured or preferred and how it changes the "
                    "result (see docs/providers.md, 'Too short or vague')",
                    ART_16,
                )
    weights = [o.weight for o in a.optimization_objectives if o.weight is not None]
    if sum(weights) > 1 + 1e-9:
        checker.warn(
            ("optimization_objectives",),
            f"objective weights add up to {sum(weights):g}, more than 1",
            "weights are shares of the whole; scale them so they sum to at most 1",
            RULE_WEIGHTS,
            key=True,
        )
    if not translated:
        check_translations(algorithm, languages, checker)


def file_quality(
    doc: SourceDoc, model: Any, languages: list[str], translated: bool | None = None
) -> list[Finding]:
    """The warnings of one validated file that do not depend on today or on other files;
    ``translated`` as for :func:`_algorithm_rules`."""
    scratch = Report()
    checker = _Checker(doc, scratch)
    if doc.kind is Kind.ALGORITHM:
        _algorithm_rules(checker, model, languages, translated)
    else:
        check_translations(model, languages, checker)
    return findings(scratch)


def check_quality(
    registry: Registry, sources: Sources, report: Report, today: dt.date | None = None
) -> None:
    """Add quality warnings for every file that validated; ``today`` is a parameter for tests.

    Files the validate stage checked carry their warnings (``doc.check``, perhaps from the
    cache); only the review-date rule is evaluated here.
    """
    today = today or dt.date.today()
    languages = registry.languages
    if sources.site is not None:
        _file_warnings(sources.site, registry.site, languages, report)
    for provider_id, provider in registry.providers.items():
        doc = sources.providers.get(provider_id)
        if doc is not None:
            _file_warnings(doc, provider, languages, report)
    by_path = {doc.path: doc for doc in sources.algorithms}
    for disclosure in registry.disclosures:
        doc = by_path.get(disclosure.source_path)
        if doc is None or disclosure.ended is not None:
            continue
        check = doc.check
        if check is None:  # not from the validate stage: no facts kept
            check_algorithm(doc, disclosure.algorithm, languages, today, report)
            continue
        emit(report, doc.path, check.quality)
        at, last_reviewed = check.anchors[("last_reviewed",)], check.last_reviewed
        check_review(at, last_reviewed, today, _Checker(doc, report))


def _file_warnings(doc: SourceDoc, model: Any, languages: list[str], report: Report) -> None:
    found = doc.check.quality if doc.check is not None else file_quality(doc, model, languages)
    emit(report, doc.path, found)
