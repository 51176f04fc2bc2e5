"""The disclosure format, version 1: the public contract providers write against.

Field names here are the YAML keys; renaming one breaks every provider's files, so changes
go through a new format version.  Validators raise :class:`PydanticCustomError` with a
``hint`` so the validate stage can tell the author how to fix the value.  The site's
languages and filing-number pattern arrive through the validation context.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

FORMAT_VERSION = 1
DEFAULT_FILING_PATTERN = r"^网信算备\d{21}号$"
DEFAULT_LANGUAGES = ("zh", "en")
ID_RE = r"^[a-z0-9][a-z0-9-]{0,62}$"
USERNAME_RE = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$"

Id = Annotated[str, StringConstraints(pattern=ID_RE)]
Username = Annotated[str, StringConstraints(pattern=USERNAME_RE)]


def _error(kind: str, message: str, hint: str = "", **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, {"hint": hint, **ctx})


# A list a caller may put in the validation context under this name: each text that lacks one
# of the site's languages adds its field name, so the translation rule (sitegen.quality)
# walks a model only when it has one to find.
PARTIAL_TEXTS = "partial_texts"


def _languages(info: ValidationInfo) -> tuple[str, ...]:
    context = info.context or {}
    return tuple(context.get("languages") or DEFAULT_LANGUAGES)


def _localize(value: Any, info: ValidationInfo) -> Any:
    """A plain string means the default language; a mapping must use the site's languages."""
    languages = _languages(info)
    if isinstance(value, str):
        value = {languages[0]: value}
    if not isinstance(value, dict):
        raise _error(
            "localized_type",
            "expected text or a mapping of language to text",
            f"write `text` or `{{{languages[0]}: …, {languages[-1]}: …}}`",
        )
    for lang, text in value.items():
        if lang not in languages:
            hint = f"use one of the site's languages: {', '.join(languages)}"
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", str(lang)):
                hint = "a comma inside {…} starts a new entry: put the text in quotes"
            raise _error(
                "localized_language",
                "unknown language '{lang}'",
                hint,
                lang=lang,
                at=str(lang),
                on_key=True,
            )
        if not isinstance(text, str):
            raise _error("localized_text", "the {lang} text must be text", "quote it", lang=lang)
        if not text.strip():
            raise _error(
                "localized_empty",
                "the {lang} text is empty",
                "write the text or remove the language",
                lang=lang,
            )
    if languages[0] not in value:
        raise _error(
            "localized_default",
            "the default language ({lang}) is missing",
            "every text needs the site's default language; translations may follow",
            lang=languages[0],
        )
    if len(value) < len(languages):
        partial = (info.context or {}).get(PARTIAL_TEXTS)
        if partial is not None:
            partial.append(info.field_name)
    # Keep the site's language order so output is stable whatever order the file used
    # (pydantic copies the mapping it is given, so one already in order is passed as it is).
    if tuple(value) == languages:
        return value
    return {lang: value[lang] for lang in languages if lang in value}


# A localized text: plain string (default language) or {lang: text}; stored as the mapping.
Text = Annotated[
    dict[str, str],
    BeforeValidator(_localize, json_schema_input_type=str | dict[str, str]),
]


def _desc(en: str, zh: str) -> str:
    return f"{en} / {zh}"


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently drop a disclosure's content."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(StrEnum):
    GENERATION_SYNTHESIS = "generation_synthesis"
    PERSONALIZED_PUSH = "personalized_push"
    SORTING_SELECTION = "sorting_selection"
    SEARCH_FILTERING = "search_filtering"
    SCHEDULING_DECISION = "scheduling_decision"


class Role(StrEnum):
    SERVICE_PROVIDER = "service_provider"
    TECHNICAL_SUPPORTER = "technical_supporter"


class FilingStatus(StrEnum):
    PENDING = "pending"
    FILED = "filed"
    WITHDRAWN = "withdrawn"


Platform = Literal["web", "android", "ios", "mini_program", "other"]
ChannelKind = Literal["web", "email", "phone", "in_app", "postal"]

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{2,30}[0-9]$")
_HTTPS = re.compile(r"^https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][^\s<>\"'`\\]*)?$")
_HTTP_ANY = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][^\s<>\"'`\\]*)?$")


def _https(value: str) -> str:
    if not _HTTPS.match(value):
        raise _error(
            "https_url",
            "not an https URL",
            "write a full address such as https://www.example.com/page",
        )
    return value


HttpsUrl = Annotated[str, BeforeValidator(lambda v: _https(v) if isinstance(v, str) else v)]


class Channel(Strict):
    """A complaint or reporting channel (Provisions Art. 22)."""

    kind: ChannelKind = Field(description=_desc("How the channel is reached", "渠道类型"))
    target: str = Field(
        description=_desc(
            "https URL, email address, phone number, or in-app/postal directions",
            "网址、邮箱、电话号码，或应用内/邮寄指引",
        )
    )
    label: Text | None = Field(None, description=_desc("Short label", "名称"))
    hours: Text | None = Field(None, description=_desc("When it is staffed", "受理时间"))
    response_days: int | None = Field(
        None, ge=0, le=365, description=_desc("Promised response time in days", "答复时限（天）")
    )

    @model_validator(mode="after")
    def _target_fits_kind(self) -> Channel:
        target = self.target
        if self.kind == "web" and not _HTTPS.match(target):
            raise _error(
                "https_url",
                "a web channel needs an https URL",
                "write a full address such as https://www.example.com/complaints",
                at="target",
            )
        if self.kind == "email" and not _EMAIL.match(target):
            raise _error(
                "email", "not an email address", "write it as name@example.com", at="target"
            )
        if self.kind == "phone" and not _PHONE.match(target):
            raise _error(
                "phone",
                "not a phone number",
                "use digits, spaces and hyphens with an optional leading +; quote it",
                at="target",
            )
        if not target:
            raise _error("empty", "target is empty", "say where to go", at="target")
        return self

    @property
    def href(self) -> str | None:
        """The link a reader can follow, or None for in-app and postal directions."""
        if self.kind == "web":
            return self.target
        if self.kind == "email":
            return f"mailto:{self.target}"
        if self.kind == "phone":
            return "tel:" + re.sub(r"[ -]", "", self.target)
        return None


class Contact(Strict):
    email: str = Field(description=_desc("Contact email", "联系邮箱"))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise _error("email", "not an email address", "write it as name@example.com")
        return value


CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_check_char(first17: str) -> str:
    """GB 32100-2015 check character for the first 17 characters of a credit code."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


class Provider(Strict):
    """A company that discloses algorithms; its folder is its namespace."""

    id: Id = Field(description=_desc("Provider id, equal to its folder name", "提供者标识"))
    name: Text = Field(description=_desc("Legal or trading name", "名称"))
    credit_code: str = Field(
        description=_desc("18-character unified social credit code", "统一社会信用代码")
    )
    website: HttpsUrl = Field(description=_desc("Public website (https)", "官方网站"))
    maintainers: list[Username] = Field(
        min_length=1,
        description=_desc("Code-host usernames allowed to change this folder", "维护人账号"),
    )
    contact: Contact

    @field_validator("credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        code = value.strip().upper()
        if len(code) != 18 or any(c not in CREDIT_ALPHABET for c in code):
            raise _error(
                "credit_code",
                "a credit code has 18 characters from 0-9 and A-Y (no I, O, S, V, Z)",
                "copy it from the business licence",
            )
        expected = credit_check_char(code[:17])
        if code[17] != expected:
            raise _error(
                "credit_code_check",
                "check digit is '{got}' but the first 17 characters give '{expected}'",
                "a character was probably mistyped; compare with the business licence",
                got=code[17],
                expected=expected,
            )
        return code


_UNSAFE_NUMBER = re.compile(r"[/\\?#%\s]")


class Filing(Strict):
    status: FilingStatus = Field(description=_desc("Filing status", "备案状态"))
    number: str | None = Field(None, description=_desc("Filing number", "备案编号"))
    date: dt.date | None = Field(None, description=_desc("Date of filing", "备案日期"))

    @model_validator(mode="after")
    def _number(self, info: ValidationInfo) -> Filing:
        if self.status is FilingStatus.PENDING:
            return self
        if not self.number:
            raise _error(
                "filing_number_missing",
                "a {status} filing needs its number",
                "add `number:` as shown on the filing certificate, or set `status: pending`",
                status=str(self.status),
                at="status",
            )
        pattern = (info.context or {}).get("filing_pattern") or DEFAULT_FILING_PATTERN
        if _UNSAFE_NUMBER.search(self.number) or self.number.startswith("."):
            # The number names its permanent page f/<number>/, whatever pattern site.yaml sets.
            raise _error(
                "filing_number_path",
                "filing number '{number}' cannot be part of a web address",
                "a filing number has no '/', '\\', '?', '#', '%' or spaces "
                "and does not start with '.'",
                number=self.number,
                at="number",
            )
        if not re.match(pattern, self.number):
            raise _error(
                "filing_number_pattern",
                "filing number '{number}' does not match {pattern}",
                "copy the number exactly, e.g. 网信算备110108000000000000001号",
                number=self.number,
                pattern=pattern,
                at="number",
            )
        return self


class Product(Strict):
    name: Text
    url: HttpsUrl
    platforms: list[Platform] = Field(min_length=1)


class Objective(Strict):
    id: Id
    name: Text
    description: Text
    weight: float | None = Field(None, ge=0, le=1)


class Criterion(Strict):
    id: Id
    name: Text
    description: Text


class DataInput(Strict):
    id: Id
    name: Text
    personal: bool
    sensitive: bool


class Control(Strict):
    """A user control (Provisions Art. 17): either how to use it or why it is absent."""

    available: bool
    how: Text | None = None
    reason: Text | None = None

    @model_validator(mode="after")
    def _explained(self) -> Control:
        if self.available and not self.how:
            raise _error(
                "control_how",
                "`how` is required when available",
                "tell users where to find it",
                at="available",
            )
        if not self.available and not self.reason:
            raise _error(
                "control_reason",
                "`reason` is required when not available",
                "say why users cannot have it",
                at="available",
            )
        return self


class UserControls(Strict):
    personalization_opt_out: Control
    tag_management: Control
    explanation: Control


def _unique_ids(items: list[Any], field_name: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            raise _error(
                "duplicate_id",
                "duplicate id '{id}'",
                "give each item its own id; ids let history match items across versions",
                id=item.id,
                at=f"{field_name}.{index}.id",
            )
        seen.add(item.id)


class Algorithm(Strict):
    """One disclosed algorithm, the unit readers, search and history work with."""

    id: Id
    name: Text
    summary: Text
    category: Category
    role: Role
    filing: Filing
    public_opinion_attributes: bool
    products: list[Product] = Field(min_length=1)
    scenarios: Text | None = None
    principles: Text
    mechanism: Text | None = None
    optimization_objectives: list[Objective] = Field(min_length=1)
    decision_criteria: list[Criterion] = Field(min_length=1)
    data_inputs: list[DataInput] = Field(default_factory=list)
    user_controls: UserControls
    complaint_channels: list[Channel] = Field(min_length=1)
    effective_date: dt.date
    last_reviewed: dt.date
    change_note: Text | None = None

    @model_validator(mode="after")
    def _ids_unique(self) -> Algorithm:
        _unique_ids(self.optimization_objectives, "optimization_objectives")
        _unique_ids(self.decision_criteria, "decision_criteria")
        _unique_ids(self.data_inputs, "data_inputs")
        return self


class Site(Strict):
    """Portal settings; read first because languages and patterns shape the other files."""

    title: Text
    description: Text | None = None
    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]] = (
        Field(min_length=1)
    )
    base_url: str
    regulator_channels: list[Channel] = Field(default_factory=list)
    filing_number_pattern: str = DEFAULT_FILING_PATTERN
    admins: list[Username] = Field(default_factory=list)
    feedback_url: str | None = None

    @field_validator("languages")
    @classmethod
    def _unique_languages(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise _error("duplicate_language", "a language is listed twice", "list each once")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not _HTTP_ANY.match(value):
            raise _error("base_url", "not an http(s) URL", "e.g. https://algorithms.example.org/")
        return value if value.endswith("/") else value + "/"

    @field_validator("filing_number_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise _error(
                "regex", "not a valid regular expression: {err}", "fix the pattern", err=str(exc)
            ) from None
        return value

    @field_validator("feedback_url")
    @classmethod
    def _feedback(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _https(value.replace("{provider}", "x").replace("{id}", "x"))
        if "{provider}" not in value or "{id}" not in value:
            raise _error(
                "feedback_url",
                "feedback_url must contain {provider} and {id}",
                "e.g. https://example.org/feedback?provider={provider}&id={id}",
            )
        return value
