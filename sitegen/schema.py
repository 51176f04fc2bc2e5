"""JSON Schema export: editors complete and check disclosure files as people type.

The schemas are generated from the format v1 models, then adjusted where pydantic cannot see
the rules: a localized text becomes "string or {language: string}", ids filled in from the path
stop being required, and the conditional rules (a filed filing needs a number, an available
control needs ``how``) become ``if``/``then``.  Titles and descriptions are bilingual so an
editor's hover text helps both zh and en authors.  The model stays the authority: the schema
catches most mistakes early, ``validate`` catches all of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema

from sitegen.model import (
    CREDIT_ALPHABET,
    DEFAULT_FILING_PATTERN,
    DEFAULT_LANGUAGES,
    Algorithm,
    Provider,
    Site,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = "schema"

# File name stem -> (model, English title, Chinese title).
DOCUMENTS: dict[str, tuple[type[BaseModel], str, str]] = {
    "site": (Site, "Registry settings (site.yaml)", "登记平台设置（site.yaml）"),
    "provider": (Provider, "Provider (provider.yaml)", "算法服务提供者（provider.yaml）"),
    "algorithm": (Algorithm, "Algorithm disclosure", "算法公示"),
}

LANGUAGE_NAMES = {"zh": ("Chinese", "中文"), "en": ("English", "英文")}

# (model name, field) -> (title en, title zh, description en, description zh).  A description
# set on the model itself wins; these fill the gaps so every key explains itself in both
# languages.  The scaffold (``new``) writes its comments from the same table.
FIELDS: dict[tuple[str, str], tuple[str, str, str, str]] = {
    ("Site", "title"): ("Portal title", "平台名称", "Shown in every page header", "显示在每页页头"),
    ("Site", "description"): (
        "Portal description",
        "平台简介",
        "Shown on the About page (Markdown)",
        "显示在“关于”页（Markdown）",
    ),
    ("Site", "languages"): (
        "Languages",
        "语言",
        "Site languages; the first is the default every text must have",
        "站点语言；第一个为默认语言，每段文字都必须有",
    ),
    ("Site", "base_url"): (
        "Base URL",
        "站点地址",
        "Where the site is published, e.g. https://algorithms.example.org/",
        "站点发布地址，例如 https://algorithms.example.org/",
    ),
    ("Site", "regulator_channels"): (
        "Regulator channels",
        "监管举报渠道",
        "Where the public can report to the regulator",
        "公众向监管部门举报的渠道",
    ),
    ("Site", "filing_number_pattern"): (
        "Filing number pattern",
        "备案编号格式",
        "Regular expression every filing number must match",
        "备案编号须匹配的正则表达式",
    ),
    ("Site", "admins"): (
        "Administrators",
        "管理员",
        "Code-host usernames who may change site.yaml, add providers and change maintainers",
        "可修改 site.yaml、新增提供者和变更维护人的账号",
    ),
    ("Site", "feedback_url"): (
        "Feedback URL",
        "反馈地址",
        "https URL template with {provider} and {id}",
        "包含 {provider} 和 {id} 的 https 地址模板",
    ),
    ("Provider", "id"): (
        "Provider id",
        "提供者标识",
        "Equal to the folder name; may be omitted",
        "与文件夹名相同；可省略",
    ),
    ("Provider", "name"): ("Name", "名称", "Legal or trading name", "企业名称或商号"),
    ("Provider", "credit_code"): (
        "Credit code",
        "统一社会信用代码",
        "18 characters, as on the business licence",
        "18 位，以营业执照为准",
    ),
    ("Provider", "website"): ("Website", "官方网站", "Public website (https)", "官方网站（https）"),
    ("Provider", "maintainers"): (
        "Maintainers",
        "维护人",
        "Code-host usernames allowed to change this folder; only admins may change this list",
        "可修改本文件夹的账号；只有管理员可以修改此列表",
    ),
    ("Provider", "contact"): (
        "Contact",
        "联系方式",
        "How the registry reaches you",
        "平台联系您的方式",
    ),
    ("Contact", "email"): ("Email", "邮箱", "Contact email", "联系邮箱"),
    ("Channel", "kind"): (
        "Kind",
        "类型",
        "web, email, phone, in_app or postal",
        "web（网页）、email（邮箱）、phone（电话）、in_app（应用内）或 postal（邮寄）",
    ),
    ("Channel", "target"): (
        "Target",
        "地址",
        "https URL, email address, phone number, or in-app/postal directions",
        "网址、邮箱、电话号码，或应用内/邮寄指引",
    ),
    ("Channel", "label"): ("Label", "名称", "Short label", "简短名称"),
    ("Channel", "hours"): ("Hours", "受理时间", "When it is staffed", "受理时间"),
    ("Channel", "response_days"): (
        "Response time (days)",
        "答复时限（天）",
        "Promised response time in days (Provisions Art. 22)",
        "承诺的答复时限，单位为天（《规定》第二十二条）",
    ),
    ("Algorithm", "id"): (
        "Algorithm id",
        "算法标识",
        "Equal to the file name without .yaml; may be omitted",
        "与文件名（不含 .yaml）相同；可省略",
    ),
    ("Algorithm", "name"): ("Name", "算法名称", "The algorithm's name", "算法名称"),
    ("Algorithm", "summary"): (
        "Summary",
        "概述",
        "One or two plain sentences on what it does for users",
        "用一两句话说明算法为用户做什么",
    ),
    ("Algorithm", "category"): (
        "Category",
        "算法类别",
        "generation_synthesis, personalized_push, sorting_selection, search_filtering "
        "or scheduling_decision",
        "生成合成类、个性化推送类、排序精选类、检索过滤类或调度决策类",
    ),
    ("Algorithm", "role"): (
        "Role",
        "主体角色",
        "service_provider or technical_supporter",
        "服务提供者（service_provider）或技术支持者（technical_supporter）",
    ),
    ("Algorithm", "filing"): ("Filing", "备案", "Filing with the regulator", "算法备案信息"),
    ("Algorithm", "public_opinion_attributes"): (
        "Public-opinion attributes",
        "舆论属性或社会动员能力",
        "Whether it has public-opinion attributes or social mobilisation capacity "
        "(Provisions Art. 24)",
        "是否具有舆论属性或者社会动员能力（《规定》第二十四条）",
    ),
    ("Algorithm", "products"): (
        "Products",
        "应用产品",
        "Apps and sites that use it",
        "使用该算法的应用或网站",
    ),
    ("Algorithm", "scenarios"): (
        "Scenarios",
        "应用场景",
        "Where users meet it",
        "用户在哪里接触到它",
    ),
    ("Algorithm", "principles"): (
        "Basic principles",
        "基本原理",
        "The basic principles (Provisions Art. 16)",
        "算法的基本原理（《规定》第十六条）",
    ),
    ("Algorithm", "mechanism"): (
        "Main mechanism",
        "主要运行机制",
        "How it broadly works (Markdown)",
        "主要运行机制（Markdown）",
    ),
    ("Algorithm", "optimization_objectives"): (
        "Optimization objectives",
        "优化目标",
        "What it optimizes for, with optional weights summing to at most 1",
        "算法追求的目标，可附权重，合计不超过 1",
    ),
    ("Algorithm", "decision_criteria"): (
        "Decision criteria",
        "决策标准",
        "What decides the outcome for an item",
        "决定结果的主要因素",
    ),
    ("Algorithm", "data_inputs"): (
        "Data inputs",
        "数据输入",
        "Data the algorithm uses",
        "算法使用的数据",
    ),
    ("Algorithm", "user_controls"): (
        "User controls",
        "用户选择权",
        "What users can switch off or adjust (Provisions Art. 17)",
        "用户可以关闭或调整的选项（《规定》第十七条）",
    ),
    ("Algorithm", "complaint_channels"): (
        "Complaint channels",
        "投诉渠道",
        "Where users complain about it (Provisions Art. 22)",
        "用户申诉和投诉的渠道（《规定》第二十二条）",
    ),
    ("Algorithm", "effective_date"): (
        "Effective date",
        "生效日期",
        "When this version of the disclosure took effect (YYYY-MM-DD)",
        "本版公示的生效日期（YYYY-MM-DD）",
    ),
    ("Algorithm", "last_reviewed"): (
        "Last reviewed",
        "最近审核日期",
        "When the provider last checked the disclosure still holds (YYYY-MM-DD)",
        "提供者最近一次核对公示内容的日期（YYYY-MM-DD）",
    ),
    ("Algorithm", "change_note"): (
        "Change note",
        "变更说明",
        "What changed in this version and why",
        "本版改了什么、为什么改",
    ),
    ("Filing", "status"): (
        "Status",
        "备案状态",
        "pending, filed or withdrawn",
        "pending（待备案）、filed（已备案）或 withdrawn（已注销）",
    ),
    ("Filing", "number"): (
        "Filing number",
        "备案编号",
        "As on the filing certificate; required unless pending",
        "以备案证明为准；待备案时可省略",
    ),
    ("Filing", "date"): ("Filing date", "备案日期", "YYYY-MM-DD", "YYYY-MM-DD"),
    ("Product", "name"): ("Product name", "产品名称", "App or site name", "应用或网站名称"),
    ("Product", "url"): ("Product URL", "产品地址", "https address", "https 地址"),
    ("Product", "platforms"): (
        "Platforms",
        "平台",
        "web, android, ios, mini_program or other",
        "web、android、ios、mini_program（小程序）或 other",
    ),
    ("Objective", "id"): (
        "Id",
        "标识",
        "Stable id used to track changes",
        "用于跟踪变更的固定标识",
    ),
    ("Objective", "name"): ("Name", "名称", "Short name of the objective", "目标名称"),
    ("Objective", "description"): (
        "Description",
        "说明",
        "What it measures and why, in concrete terms",
        "具体说明衡量什么、为什么",
    ),
    ("Objective", "weight"): (
        "Weight",
        "权重",
        "Share between 0 and 1; all weights sum to at most 1",
        "0 到 1 之间的占比；合计不超过 1",
    ),
    ("Criterion", "id"): (
        "Id",
        "标识",
        "Stable id used to track changes",
        "用于跟踪变更的固定标识",
    ),
    ("Criterion", "name"): ("Name", "名称", "Short name of the criterion", "标准名称"),
    ("Criterion", "description"): (
        "Description",
        "说明",
        "How it moves an item up or down, in concrete terms",
        "具体说明它如何影响结果",
    ),
    ("DataInput", "id"): (
        "Id",
        "标识",
        "Stable id used to track changes",
        "用于跟踪变更的固定标识",
    ),
    ("DataInput", "name"): ("Name", "名称", "What the data is", "数据名称"),
    ("DataInput", "personal"): (
        "Personal information",
        "个人信息",
        "Whether it is personal information",
        "是否属于个人信息",
    ),
    ("DataInput", "sensitive"): (
        "Sensitive",
        "敏感个人信息",
        "Whether it is sensitive personal information",
        "是否属于敏感个人信息",
    ),
    ("Control", "available"): ("Available", "是否提供", "true or false", "true 或 false"),
    ("Control", "how"): (
        "How",
        "使用方法",
        "Where users find it; required when available",
        "用户在哪里找到它；提供时必填",
    ),
    ("Control", "reason"): (
        "Reason",
        "原因",
        "Why it is not offered; required when not available",
        "不提供的原因；不提供时必填",
    ),
    ("UserControls", "personalization_opt_out"): (
        "Personalization opt-out",
        "关闭个性化推荐",
        "Switching off recommendations based on personal traits",
        "关闭针对个人特征的推荐",
    ),
    ("UserControls", "tag_management"): (
        "Tag management",
        "用户标签管理",
        "Choosing or deleting the user tags the algorithm uses",
        "选择或删除算法使用的用户标签",
    ),
    ("UserControls", "explanation"): (
        "Explanation",
        "推荐理由说明",
        "Telling users why they see an item",
        "向用户说明为何看到某项内容",
    ),
}

MODEL_TITLES: dict[str, tuple[str, str]] = {
    "Channel": ("Channel", "渠道"),
    "Contact": ("Contact", "联系方式"),
    "Filing": ("Filing", "备案"),
    "Product": ("Product", "应用产品"),
    "Objective": ("Optimization objective", "优化目标"),
    "Criterion": ("Decision criterion", "决策标准"),
    "DataInput": ("Data input", "数据输入"),
    "Control": ("User control", "用户选择项"),
    "UserControls": ("User controls", "用户选择权"),
    "Category": ("Category", "算法类别"),
    "Role": ("Role", "主体角色"),
    "FilingStatus": ("Filing status", "备案状态"),
}

# Where a plain ``str`` in the model is really a URL or code with a known shape.
_HTTPS_PATTERN = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][^\s<>\"'`\\]*)?$"
_CREDIT = "".join(sorted(set(CREDIT_ALPHABET + CREDIT_ALPHABET.lower())))
_STRING_SHAPES: dict[tuple[str, str], dict[str, Any]] = {
    ("Provider", "website"): {"pattern": _HTTPS_PATTERN, "format": "uri"},
    ("Provider", "credit_code"): {"pattern": f"^[{_CREDIT}]{{18}}$"},
    ("Product", "url"): {"pattern": _HTTPS_PATTERN, "format": "uri"},
    ("Site", "base_url"): {"pattern": r"^https?://", "format": "uri"},
    ("Site", "feedback_url"): {
        "pattern": r"^https://.*\{provider\}.*\{id\}|^https://.*\{id\}.*\{provider\}"
    },
    ("Contact", "email"): {"format": "email", "pattern": r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"},
}


def bilingual(en: str, zh: str) -> str:
    return f"{en} / {zh}"


class _Generator(GenerateJsonSchema):
    """Names the dialect: pydantic emits 2020-12 but leaves ``$schema`` out."""

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        result = super().generate(schema, mode)
        return {"$schema": DIALECT, **result}


def _localized_text(languages: tuple[str, ...]) -> dict[str, Any]:
    default = languages[0]
    text = {"type": "string", "minLength": 1, "pattern": r"\S"}
    names = [LANGUAGE_NAMES.get(lang, (lang, lang)) for lang in languages]
    return {
        "title": "Localized text / 多语言文本",
        "description": bilingual(
            f"Text in {names[0][0]}, or a mapping such as {{{', '.join(languages)}}}",
            f"{names[0][1]}文字，或按语言分别填写，如 {{{', '.join(languages)}}}",
        ),
        "anyOf": [
            {**text, "description": bilingual(f"{names[0][0]} text", f"{names[0][1]}文字")},
            {
                "type": "object",
                "properties": {
                    lang: {**text, "description": bilingual(f"{en} text", f"{zh}文字")}
                    for lang, (en, zh) in zip(languages, names, strict=True)
                },
                "required": [default],
                "additionalProperties": False,
            },
        ],
    }


def _is_text(node: Any) -> bool:
    """pydantic's rendering of ``Text``: string or string map (what the models accept)."""
    return isinstance(node, dict) and node.get("anyOf", [None])[:2] == [
        {"type": "string"},
        {"type": "object", "additionalProperties": {"type": "string"}},
    ]


def _replace_text(node: Any) -> Any:
    ref = {"$ref": "#/$defs/LocalizedText"}
    if isinstance(node, list):
        return [_replace_text(item) for item in node]
    if not isinstance(node, dict):
        return node
    if _is_text(node):
        rest = node["anyOf"][2:]
        extra = {k: v for k, v in node.items() if k != "anyOf"}
        if rest:  # ``Text | None``
            return {**extra, "anyOf": [ref, *rest]}
        return {**extra, **ref}
    return {key: _replace_text(value) for key, value in node.items()}


def _describe(name: str, node: dict[str, Any], model_docs: dict[str, str]) -> None:
    if name in MODEL_TITLES:
        node["title"] = bilingual(*MODEL_TITLES[name])
    for field, prop in node.get("properties", {}).items():
        docs = FIELDS.get((name, field))
        if docs:
            prop["title"] = bilingual(docs[0], docs[1])
            prop["description"] = model_docs.get(field) or bilingual(docs[2], docs[3])
        shape = _STRING_SHAPES.get((name, field))
        if shape:
            target = next((s for s in prop.get("anyOf", []) if s.get("type") == "string"), prop)
            target.update(shape)


def _field_docs(model: type[BaseModel]) -> dict[str, str]:
    return {name: info.description for name, info in model.model_fields.items() if info.description}


def _conditionals(defs: dict[str, Any]) -> None:
    """Rules the models enforce in validators, as far as JSON Schema can say them."""
    if "Filing" in defs:
        defs["Filing"]["if"] = {
            "properties": {"status": {"enum": ["filed", "withdrawn"]}},
            "required": ["status"],
        }
        defs["Filing"]["then"] = {"required": ["number"]}
    if "Control" in defs:
        defs["Control"]["allOf"] = [
            {
                "if": {"properties": {"available": {"const": True}}, "required": ["available"]},
                "then": {"required": ["how"]},
                "else": {"required": ["reason"]},
            }
        ]
    if "Channel" in defs:
        defs["Channel"]["allOf"] = [
            {
                "if": {"properties": {"kind": {"const": "web"}}, "required": ["kind"]},
                "then": {"properties": {"target": {"pattern": _HTTPS_PATTERN}}},
            },
            {
                "if": {"properties": {"kind": {"const": "email"}}, "required": ["kind"]},
                "then": {"properties": {"target": {"pattern": r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"}}},
            },
            {
                "if": {"properties": {"kind": {"const": "phone"}}, "required": ["kind"]},
                "then": {"properties": {"target": {"pattern": r"^\+?[0-9][0-9 -]{2,30}[0-9]$"}}},
            },
        ]


def document_schema(
    stem: str,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    base_url: str | None = None,
    filing_pattern: str = DEFAULT_FILING_PATTERN,
) -> dict[str, Any]:
    """The JSON Schema for one kind of file (``site``, ``provider`` or ``algorithm``)."""
    model, title_en, title_zh = DOCUMENTS[stem]
    raw = model.model_json_schema(schema_generator=_Generator)
    schema: dict[str, Any] = _replace_text(raw)
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    defs["LocalizedText"] = _localized_text(languages)
    _describe(model.__name__, schema, _field_docs(model))
    for name, node in defs.items():
        owner = _find_model(model, name)
        _describe(name, node, _field_docs(owner) if owner else {})
    _conditionals(defs)
    if "Filing" in defs:
        defs["Filing"]["properties"]["number"]["anyOf"][0]["pattern"] = filing_pattern
    if stem in ("provider", "algorithm"):
        # validate fills an omitted id from the folder or file name.
        schema["required"] = [f for f in schema.get("required", []) if f != "id"]
    if stem == "algorithm":
        category = defs.get("Category")
        if category is not None:
            category["description"] = bilingual(
                "generation_synthesis, personalized_push, sorting_selection, "
                "search_filtering, scheduling_decision",
                "生成合成类、个性化推送类、排序精选类、检索过滤类、调度决策类",
            )
    name = f"{stem}.schema.json"
    schema_id = f"{base_url}{SCHEMA_DIR}/{name}" if base_url else f"urn:sitegen:format-1:{stem}"
    head = {"$schema": DIALECT, "$id": schema_id, "title": bilingual(title_en, title_zh)}
    if model.__doc__:
        head["description"] = " ".join(model.__doc__.split())
    body = {k: v for k, v in schema.items() if k not in ("$schema", "title", "description")}
    return {**head, **body}


def _find_model(root: type[BaseModel], name: str) -> type[BaseModel] | None:
    """The nested model class called ``name`` reachable from ``root``."""
    from sitegen.validate import _unwrap

    seen: set[type[BaseModel]] = set()
    todo = [root]
    while todo:
        current = todo.pop()
        if current.__name__ == name:
            return current
        seen.add(current)
        for info in current.model_fields.values():
            inner = _unwrap(info.annotation)
            if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in seen:
                todo.append(inner)
    return None


def schema_files(
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
    base_url: str | None = None,
    filing_pattern: str = DEFAULT_FILING_PATTERN,
) -> Iterator[tuple[str, bytes]]:
    """``(schema/<stem>.schema.json, bytes)`` for every kind of file, stable byte for byte."""
    for stem in DOCUMENTS:
        schema = document_schema(stem, languages, base_url, filing_pattern)
        text = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
        yield f"{SCHEMA_DIR}/{stem}.schema.json", text.encode("utf-8")


def site_settings(source: Path) -> tuple[tuple[str, ...], str]:
    """Languages and filing pattern from ``site.yaml`` when it reads cleanly, else defaults."""
    from sitegen.load import YamlProblem, decode, parse_yaml

    try:
        data, _, _ = parse_yaml(decode((source / "site.yaml").read_bytes()))
    except (OSError, YamlProblem):
        return DEFAULT_LANGUAGES, DEFAULT_FILING_PATTERN
    if not isinstance(data, dict):
        return DEFAULT_LANGUAGES, DEFAULT_FILING_PATTERN
    languages = data.get("languages")
    pattern = data.get("filing_number_pattern")
    if not (
        isinstance(languages, list) and languages and all(isinstance(x, str) for x in languages)
    ):
        languages = list(DEFAULT_LANGUAGES)
    if not (isinstance(pattern, str) and pattern):
        pattern = DEFAULT_FILING_PATTERN
    return tuple(languages), pattern
