"""Plain string templates for disclosure YAML: fast, and shaped like the hand-written samples.

The generator writes tens of thousands of files, so it formats text directly instead of going
through a YAML emitter.  Values are emitted plain when that is unambiguous, JSON-quoted (valid
YAML) otherwise, and multi-paragraph text as ``|`` blocks, as providers write it.
"""

from __future__ import annotations

import json
from typing import Any

_BAD_START = frozenset("-?:,[]{}#&*!|>'\"%@`")
Pair = tuple[str, str]  # (zh, en)


def scalar(text: str) -> str:
    if (
        not text
        or text[0] in _BAD_START
        or text[-1] in " :"
        or text[0] == " "
        or ": " in text
        or " #" in text
        or "\n" in text
    ):
        return json.dumps(text, ensure_ascii=False)
    return text


def localized(key: str, pair: Pair, indent: str) -> str:
    """``key:`` then ``zh:``/``en:`` lines; multi-line text becomes a literal block."""
    out = [f"{indent}{key}:\n"]
    inner = indent + "  "
    for lang, text in zip(("zh", "en"), pair, strict=True):
        if "\n" in text:
            body = "".join(
                (inner + "  " + line if line else "") + "\n" for line in text.split("\n")
            )
            out.append(f"{inner}{lang}: |\n{body}")
        else:
            out.append(f"{inner}{lang}: {scalar(text)}\n")
    return "".join(out)


def provider_yaml(p: dict[str, Any]) -> str:
    return (
        "# yaml-language-server: $schema=../../schema/provider.schema.json\n"
        f"id: {p['id']}\n" + localized("name", p["name"], "") + f"credit_code: {p['credit_code']}\n"
        f"website: {p['website']}\n"
        f"maintainers: [{', '.join(p['maintainers'])}]\n"
        f"contact:\n  email: {p['email']}\n"
    )


def _items(key: str, items: list[dict[str, Any]]) -> str:
    out = [f"{key}:\n"]
    for item in items:
        out.append(f"  - id: {item['id']}\n")
        out.append(localized("name", item["name"], "    "))
        if "description" in item:
            out.append(localized("description", item["description"], "    "))
        if item.get("weight") is not None:
            out.append(f"    weight: {item['weight']}\n")
        if "personal" in item:
            out.append(f"    personal: {str(item['personal']).lower()}\n")
            out.append(f"    sensitive: {str(item['sensitive']).lower()}\n")
    return "".join(out)


def _control(key: str, control: dict[str, Any]) -> str:
    available = control["available"]
    text_key = "how" if available else "reason"
    return f"  {key}:\n    available: {str(available).lower()}\n" + localized(
        text_key, control[text_key], "    "
    )


def _channel(channel: dict[str, Any]) -> str:
    target = channel["target"]
    target = json.dumps(target) if channel["kind"] == "phone" else scalar(target)
    out = f"  - kind: {channel['kind']}\n    target: {target}\n"
    if "label" in channel:
        out += localized("label", channel["label"], "    ")
    if "hours" in channel:
        out += localized("hours", channel["hours"], "    ")
    if "response_days" in channel:
        out += f"    response_days: {channel['response_days']}\n"
    return out


def algorithm_yaml(a: dict[str, Any]) -> str:
    filing = a["filing"]
    out = [
        "# yaml-language-server: $schema=../../schema/algorithm.schema.json\n",
        f"id: {a['id']}\n",
        localized("name", a["name"], ""),
        localized("summary", a["summary"], ""),
        f"category: {a['category']}\nrole: {a['role']}\n",
        f"filing:\n  status: {filing['status']}\n",
    ]
    if filing.get("number"):
        out.append(f"  number: {filing['number']}\n")
    if filing.get("date"):
        out.append(f"  date: {filing['date']}\n")
    out.append(f"public_opinion_attributes: {str(a['public_opinion_attributes']).lower()}\n")
    out.append("products:\n")
    for product in a["products"]:
        out.append("  - " + localized("name", product["name"], "    ").lstrip())
        out.append(f"    url: {product['url']}\n")
        out.append(f"    platforms: [{', '.join(product['platforms'])}]\n")
    if a.get("scenarios"):
        out.append(localized("scenarios", a["scenarios"], ""))
    out.append(localized("principles", a["principles"], ""))
    if a.get("mechanism"):
        out.append(localized("mechanism", a["mechanism"], ""))
    out.append(_items("optimization_objectives", a["objectives"]))
    out.append(_items("decision_criteria", a["criteria"]))
    out.append(_items("data_inputs", a["inputs"]))
    out.append("user_controls:\n")
    for key in ("personalization_opt_out", "tag_management", "explanation"):
        out.append(_control(key, a["controls"][key]))
    out.append("complaint_channels:\n")
    out.extend(_channel(c) for c in a["channels"])
    out.append(f"effective_date: {a['effective_date']}\nlast_reviewed: {a['last_reviewed']}\n")
    if a.get("change_note"):
        out.append(localized("change_note", a["change_note"], ""))
    return "".join(out)


SITE_YAML = """\
# yaml-language-server: $schema=../schema/site.schema.json
# A synthetic registry written by `python -m sitegen.bench`; every name in it is invented.
title:
  zh: 算法备案信息公示平台
  en: Algorithm Transparency Registry
description:
  zh: |
    本平台集中公示各互联网信息服务提供者依照《互联网信息服务算法推荐管理规定》公开的算法信息，\
包括算法的基本原理、目的意图、主要运行机制，以及用户关闭个性化推荐、管理标签和投诉举报的方式。

    每一条公示内容均由提供者自行编写、自行维护，并以版本形式留存修改记录。
  en: |
    This registry brings together the algorithm disclosures that online service providers \
publish under China's Provisions on the Administration of Algorithmic Recommendation.

    Every disclosure is written and kept up to date by the provider itself, and each change \
is kept as a new version so you can see what was altered and when.
languages: [zh, en]
base_url: https://algorithms.example.org/
regulator_channels:
  - kind: phone
    target: "12377"
    label:
      zh: 违法和不良信息举报电话
      en: Illegal and harmful content reporting hotline
    hours:
      zh: 全天24小时
      en: 24 hours a day
  - kind: web
    target: https://www.jubao.example/algorithm
    label:
      zh: 算法问题在线举报
      en: Online report form for algorithm problems
    response_days: 15
admins: [registry-admin]
feedback_url: https://algorithms.example.org/feedback?provider={provider}&id={id}
"""
