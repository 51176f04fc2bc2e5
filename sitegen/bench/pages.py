"""The registry's pages as Markdown, for building the same site with MkDocs and with Hugo.

The page set mirrors ours, per language: home, about, the filings list, the providers list,
one page per provider and per category, and for every disclosure its current page, its
history page and one page per version; plus one permanent-link page per filing number in the
default language.  The text comes from the same generator that wrote the YAML, so each tool
gets the same words.  Links are made by the tool's ``Linker``, because MkDocs wants relative
links to ``.md`` files and Hugo wants site paths.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sitegen.bench.generate import Synthetic

LANGUAGES = ("zh", "en")
CATEGORIES = (
    "generation_synthesis",
    "personalized_push",
    "sorting_selection",
    "search_filtering",
    "scheduling_decision",
)
NEWEST_ON_HOME = 8
Linker = Callable[[str, str, str], str]  # (from path, to path, language) -> href

_LABELS: dict[str, tuple[str, str]] = {
    "site": ("算法备案信息公示平台", "Algorithm Transparency Registry"),
    "about": ("关于", "About"),
    "filings": ("备案编号一览", "Filing numbers"),
    "providers": ("提供者", "Providers"),
    "history": ("历史版本", "History"),
    "version": ("第 {n} 版", "Version {n}"),
    "status": ("备案状态", "Filing status"),
    "number": ("备案编号", "Filing number"),
    "date": ("备案日期", "Filing date"),
    "category": ("算法类型", "Category"),
    "role": ("主体角色", "Role"),
    "effective": ("生效日期", "Effective date"),
    "reviewed": ("最近复核", "Last reviewed"),
    "complaints": ("投诉举报", "Complaints"),
    "products": ("应用产品", "Products"),
    "scenarios": ("应用场景", "Where it is used"),
    "principles": ("基本原理", "Principles"),
    "mechanism": ("运行机制", "How it works"),
    "objectives": ("优化目标", "Optimisation objectives"),
    "criteria": ("决策标准", "Decision criteria"),
    "inputs": ("使用的数据", "Data used"),
    "controls": ("用户控制", "User controls"),
    "change_note": ("变更说明", "What changed"),
    "weight": ("权重", "weight"),
    "personal": ("个人信息", "personal"),
    "sensitive": ("敏感个人信息", "sensitive"),
    "personalization_opt_out": ("关闭个性化推荐", "Switch off personalisation"),
    "tag_management": ("管理兴趣标签", "Manage interest tags"),
    "explanation": ("推荐原因说明", "Why am I seeing this"),
}


@dataclass(frozen=True)
class Page:
    lang: str
    path: str  # "" for home, "x/" for a list page, "x/y" for a leaf page
    title: str
    body: str
    search: bool = False  # what our search indexes: each disclosure's current page


def label(key: str, lang: str, **values: Any) -> str:
    text = _LABELS[key][LANGUAGES.index(lang)]
    return text.format(**values) if values else text


def _t(pair: tuple[str, str] | None, lang: str) -> str:
    return "" if pair is None else pair[LANGUAGES.index(lang)]


class MarkdownSite:
    """Pages of a :class:`Synthetic` registry, written as Markdown with the tool's links."""

    def __init__(self, content: Synthetic, link: Linker) -> None:
        self.content, self.link = content, link

    def key(self, i: int) -> str:
        return self.content.path(i).removesuffix(".yaml")

    def pages(self) -> Iterator[Page]:
        """Every page; each disclosure's versions are generated once, for both languages."""
        current: list[dict[str, Any]] = []
        for i in range(self.content.n):
            key, versions = self.key(i), []
            for data in self.content.published(i):
                versions.append(copy.deepcopy(data))
            current.append(versions[-1])
            for lang in LANGUAGES:
                yield from self.disclosure_pages(lang, key, versions)
        for lang in LANGUAGES:
            yield from self.list_pages(lang, current)
        for i, a in enumerate(current):
            number = a["filing"].get("number")
            if number:
                path = f"f/{number}"
                target = self.link(path, f"algorithms/{self.key(i)}", "zh")
                yield Page("zh", path, number, f"[{_t(a['name'], 'zh')}]({target})\n")

    def disclosure_pages(
        self, lang: str, key: str, versions: list[dict[str, Any]]
    ) -> Iterator[Page]:
        base = f"algorithms/{key}"
        last = versions[-1]
        title = _t(last["name"], lang)
        yield Page(lang, base, title, self.body(lang, base, key, last), search=True)
        rows = []
        for n, data in enumerate(versions, 1):
            path = f"{base}/v{n}"
            title = f"{_t(data['name'], lang)} — {label('version', lang, n=n)}"
            yield Page(lang, path, title, self.body(lang, path, key, data))
            note = _t(data.get("change_note"), lang)
            href = self.link(f"{base}/history", path, lang)
            rows.append(
                f"- [{label('version', lang, n=n)}]({href}) {data['effective_date']} {note}"
            )
        title = f"{_t(last['name'], lang)} — {label('history', lang)}"
        yield Page(lang, f"{base}/history", title, "\n".join(reversed(rows)) + "\n")

    def body(self, lang: str, path: str, key: str, a: dict[str, Any]) -> str:
        provider_id = key.split("/")[0]
        provider = next(p for p in self.content.providers if p["id"] == provider_id)
        filing = a["filing"]
        out = [
            f"[{_t(provider['name'], lang)}]({self.link(path, f'providers/{provider_id}', lang)})",
            _t(a["summary"], lang),
            f"- **{label('status', lang)}**: {filing['status']}",
        ]
        if filing.get("number"):
            href = self.link(path, f"f/{filing['number']}", "zh")
            out[-1] += f"\n- **{label('number', lang)}**: [{filing['number']}]({href})"
        if filing.get("date"):
            out[-1] += f"\n- **{label('date', lang)}**: {filing['date']}"
        category = self.link(path, f"categories/{a['category']}", lang)
        out[-1] += (
            f"\n- **{label('category', lang)}**: [{a['category']}]({category})"
            f"\n- **{label('role', lang)}**: {a['role']}"
            f"\n- **{label('effective', lang)}**: {a['effective_date']}"
            f"\n- **{label('reviewed', lang)}**: {a['last_reviewed']}"
        )
        channels = []
        for c in a["channels"]:
            extra = ", ".join(_t(c[k], lang) for k in ("label", "hours") if k in c)
            days = f" ({c['response_days']} d)" if "response_days" in c else ""
            channels.append(f"- {c['kind']}: {c['target']} {extra}{days}")
        out += [f"## {label('complaints', lang)}", "\n".join(channels)]
        products = [
            f"- [{_t(p['name'], lang)}]({p['url']}) {', '.join(p['platforms'])}"
            for p in a["products"]
        ]
        out += [f"## {label('products', lang)}", "\n".join(products)]
        for field in ("scenarios", "principles", "mechanism"):
            if a.get(field):
                out += [f"## {label(field, lang)}", _t(a[field], lang)]
        for group in ("objectives", "criteria"):
            out.append(f"## {label(group, lang)}")
            for item in a[group]:
                weight = item.get("weight")
                suffix = f" ({label('weight', lang)} {weight})" if weight is not None else ""
                out += [f"### {_t(item['name'], lang)}{suffix}", _t(item["description"], lang)]
        inputs = []
        for item in a["inputs"]:
            flags = [label(k, lang) for k in ("personal", "sensitive") if item[k]]
            inputs.append(f"- {_t(item['name'], lang)} {' / '.join(flags)}")
        out += [f"## {label('inputs', lang)}", "\n".join(inputs), f"## {label('controls', lang)}"]
        for name, control in a["controls"].items():
            out += [f"### {label(name, lang)}", _t(control.get("how") or control["reason"], lang)]
        if a.get("change_note"):
            out += [f"## {label('change_note', lang)}", _t(a["change_note"], lang)]
        history = self.link(path, f"algorithms/{key}/history", lang)
        out.append(f"[{label('history', lang)}]({history})")
        return "\n\n".join(out) + "\n"

    def list_pages(self, lang: str, current: list[dict[str, Any]]) -> Iterator[Page]:
        content, link = self.content, self.link

        def item(path: str, i: int) -> str:
            a = current[i]
            href = link(path, f"algorithms/{self.key(i)}", lang)
            return f"- [{_t(a['name'], lang)}]({href}) {_t(a['summary'], lang)}"

        newest = sorted(
            range(len(current)), key=lambda i: (current[i]["effective_date"], i), reverse=True
        )
        home = [f"{len(current)} / {len(content.providers)}"]
        home += [item("", i) for i in newest[:NEWEST_ON_HOME]]
        yield Page(lang, "", label("site", lang), "\n".join(home) + "\n")
        yield Page(lang, "about/", label("about", lang), label("site", lang) + "\n")
        filed = sorted(
            (a["filing"]["number"], i) for i, a in enumerate(current) if a["filing"].get("number")
        )
        rows = [f"{number} {item('filings/', i)[2:]}" for number, i in filed]
        yield Page(lang, "filings/", label("filings", lang), "\n".join(f"- {r}" for r in rows))
        by_provider: dict[int, list[int]] = {}
        for i in range(len(current)):
            by_provider.setdefault(content.meta[i].provider, []).append(i)
        rows = []
        for k, provider in enumerate(content.providers):
            path = f"providers/{provider['id']}"
            rows.append(
                f"- [{_t(provider['name'], lang)}]({link('providers/', path, lang)}) "
                f"{len(by_provider.get(k, []))}"
            )
            listed = [item(path, i) for i in by_provider.get(k, [])]
            body = f"{provider['website']}\n\n" + "\n".join(listed) + "\n"
            yield Page(lang, path, _t(provider["name"], lang), body)
        yield Page(lang, "providers/", label("providers", lang), "\n".join(rows) + "\n")
        for category in CATEGORIES:
            path = f"categories/{category}"
            listed = [item(path, i) for i, a in enumerate(current) if a["category"] == category]
            yield Page(lang, path, category, "\n".join(listed) + "\n")
