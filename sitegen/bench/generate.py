"""The content of a synthetic registry: N disclosures across P providers, each in V versions.

Everything is derived from a seed, so the same arguments always give the same files (and,
through :mod:`sitegen.bench.repo`, the same commits).  Each disclosure draws from its own
generator (seeded with the seed and its number), so changing N keeps the first disclosures.
Each version is one commit over the whole registry: version 1 is the first publication, and
every later version changes a few fields of every disclosure (a weight, a new criterion or
data input, the mechanism, the filing status, always the dates and a change note).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sitegen.bench import text as bank
from sitegen.bench.yamltext import Pair
from sitegen.model import CREDIT_ALPHABET, credit_check_char

LAST_VERSION = dt.date(2026, 9, 1)
VERSION_STEP = dt.timedelta(days=180)
CATEGORY_WEIGHTS = {
    "personalized_push": 35,
    "sorting_selection": 20,
    "search_filtering": 20,
    "scheduling_decision": 15,
    "generation_synthesis": 10,
}
EDITIONS = [("", ""), ("极速版", " Lite"), ("专业版", " Pro"), ("国际版", " Global")]


@dataclass(frozen=True)
class _Meta:
    """What must be known about a disclosure before its text: where it lives and its filing."""

    provider: int
    id: str
    category: str
    domain: bank.Domain
    number: str
    first_status: str  # pending, filed
    filed_at: int | None  # version index at which a pending filing gets its number
    withdrawn_at: int | None  # version index at which it is withdrawn


def provider_count(n: int, providers: int | None) -> int:
    """``providers``, or one provider per 25 disclosures; at least one, at most ``n``."""
    return max(1, min(n, providers or n // 25))


def version_dates(versions: int) -> list[dt.date]:
    return [LAST_VERSION - VERSION_STEP * (versions - 1 - v) for v in range(versions)]


class _Filler:
    """Fills a (zh, en) template's slots; ``{n}`` is a fresh small number each time."""

    def __init__(self, rng: random.Random, slots: dict[str, Pair]) -> None:
        self.rng = rng
        self.zh = {key: value[0] for key, value in slots.items()}
        self.en = {key: value[1] for key, value in slots.items()}

    def __call__(self, pair: Pair, **extra: Pair) -> Pair:
        n = str(self.rng.randint(2, 9))
        zh, en = self.zh, self.en
        zh["n"] = en["n"] = n
        for key, (value_zh, value_en) in extra.items():
            zh[key], en[key] = value_zh, value_en
        return pair[0].format_map(zh), pair[1].format_map(en)


def _join(parts: list[Pair], sep_zh: str = "", sep_en: str = " ") -> Pair:
    return sep_zh.join(p[0] for p in parts), sep_en.join(p[1] for p in parts)


class Synthetic:
    """The content of a synthetic registry; files and commits are :mod:`sitegen.bench.repo`'s."""

    def __init__(self, n: int, providers: int, versions: int, seed: int) -> None:
        self.n, self.p, self.versions, self.seed = n, providers, versions, seed
        self.dates = version_dates(versions)
        self.providers = [self._provider(k) for k in range(providers)]
        self.meta = self._metas()

    def _provider(self, k: int) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}/provider/{k}")
        syllables = rng.sample(bank.SYLLABLES, 2)
        brand_zh = "".join(s[0] for s in syllables)
        brand_en = "".join(s[1] for s in syllables).capitalize()
        city_zh, city_en, region = bank.CITIES[k % len(bank.CITIES)]
        industry_zh, industry_en = rng.choice(bank.INDUSTRIES)
        slug = brand_en.lower().replace("'", "")
        first17 = "91" + region + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
        people = [f"{rng.choice(bank.SURNAMES)}-{rng.choice(bank.GIVEN)}" for _ in range(2)]
        return {
            "id": f"{slug}-{k:04d}",
            "name": (
                f"{city_zh}{brand_zh}{industry_zh}有限公司",
                f"{city_en} {brand_en} {industry_en} Co., Ltd.",
            ),
            "brand": (brand_zh, brand_en),
            "region": region,
            "credit_code": first17 + credit_check_char(first17),
            "website": f"https://www.{slug}{k}.example",
            "host": f"{slug}{k}.example",
            "maintainers": sorted(set(people)),
            "email": f"compliance@{slug}{k}.example",
        }

    def _metas(self) -> list[_Meta]:
        categories = list(CATEGORY_WEIGHTS)
        weights = list(CATEGORY_WEIGHTS.values())
        used: set[tuple[int, str]] = set()
        metas = []
        for i in range(self.n):
            rng = random.Random(f"{self.seed}/{i}/meta")
            provider = i % self.p
            category = rng.choices(categories, weights)[0]
            domain = rng.choice(bank.DOMAINS[category])
            base = f"{domain.slug}-{category.split('_')[0]}"
            ident, suffix = base, 2
            while (provider, ident) in used:
                ident, suffix = f"{base}-{suffix}", suffix + 1
            used.add((provider, ident))
            region = self.providers[provider]["region"]
            number = f"网信算备{region}{rng.randrange(10**6, 10**7)}{i:08d}号"
            roll = rng.random()
            first = "pending" if roll < 0.25 else "filed"
            # Half of the pending filings get their number in the second version.
            filed_at = 1 if roll < 0.125 and self.versions > 1 else None
            withdraw = rng.random() < 0.08 and self.versions > 1 and first == "filed"
            withdrawn = self.versions - 1 if withdraw else None
            metas.append(
                _Meta(provider, ident, category, domain, number, first, filed_at, withdrawn)
            )
        return metas

    # -- one disclosure ----------------------------------------------------------------------

    def base(self, i: int) -> tuple[dict[str, Any], _Filler]:
        meta = self.meta[i]
        provider = self.providers[meta.provider]
        rng = random.Random(f"{self.seed}/{i}")
        d = meta.domain
        edition_zh, edition_en = rng.choice(EDITIONS)
        product = (provider["brand"][0] + edition_zh, provider["brand"][1] + edition_en)
        signals = rng.sample(bank.SIGNALS, 6)
        slots = {
            "item": (d.item_zh, d.item_en),
            "items": (d.item_zh, d.item_en),
            "Items": (d.item_zh, d.item_en.capitalize()),
            "surface": (d.surface_zh, d.surface_en),
            "service": product,
            "signal": (signals[0].zh, signals[0].en),
            "signal2": (signals[1].zh, signals[1].en),
            "days": (str(rng.choice([7, 14, 30, 90])),) * 2,
        }

        fill = _Filler(rng, slots)

        kind_zh, kind_en = bank.KIND[meta.category]
        summary = [fill(rng.choice(bank.SUMMARY))]
        if rng.random() < 0.5:
            summary.append(fill(rng.choice(bank.SUMMARY_TAIL)))
        paragraphs = [
            _join([fill(s) for s in rng.sample(bank.PRINCIPLES, rng.randint(2, 3))])
            for _ in range(rng.randint(2, 3))
        ]
        steps = sorted(rng.sample(range(len(bank.MECHANISM)), rng.randint(3, 6)))
        scenarios = None
        if rng.random() < 0.7:
            bullets = [fill(s) for s in rng.sample(bank.SCENARIOS, rng.randint(2, 4))]
            scenarios = (
                "；\n".join(f"- {b[0]}" for b in bullets) + "。",
                ";\n".join(f"- {b[1]}" for b in bullets) + ".",
            )
        a: dict[str, Any] = {
            "id": meta.id,
            "name": (f"{product[0]}{d.item_zh}{kind_zh}", f"{product[1]} {d.item_en} {kind_en}"),
            "summary": _join(summary),
            "category": meta.category,
            "role": "technical_supporter" if rng.random() < 0.15 else "service_provider",
            "filing": {"status": meta.first_status},
            "public_opinion_attributes": meta.first_status == "filed" and rng.random() < 0.4,
            "products": [
                {
                    "name": product,
                    "url": f"https://app.{provider['host']}/{d.slug}",
                    "platforms": sorted(rng.sample(["android", "ios", "web", "mini_program"], 2)),
                }
            ],
            "scenarios": scenarios,
            "principles": _join(paragraphs, "\n\n", "\n\n"),
            "mechanism": self._mechanism(steps, fill) if rng.random() < 0.85 else None,
            "objectives": self._objectives(rng, rng.randint(3, 5), fill),
            "criteria": self._criteria(rng, rng.randint(3, 5), fill, []),
            "inputs": [self._input(s) for s in signals[: rng.randint(3, 5)]],
            "controls": self._controls(rng, meta.category, fill),
            "channels": self._channels(rng, provider),
        }
        if meta.first_status == "filed":
            self._file(a, meta, self.dates[0] - dt.timedelta(days=rng.randint(30, 400)))
        return a, fill

    @staticmethod
    def _mechanism(steps: list[int], fill: _Filler) -> Pair:
        lines = []
        for number, index in enumerate(steps, 1):
            title_zh, title_en, zh, en = bank.MECHANISM[index]
            body_zh, body_en = fill((zh, en))
            lines.append(
                (f"{number}. **{title_zh}**：{body_zh}", f"{number}. **{title_en}**: {body_en}")
            )
        return _join(lines, "\n", "\n")

    @staticmethod
    def _objectives(rng: random.Random, count: int, fill: _Filler) -> list[dict[str, Any]]:
        chosen = rng.sample(bank.OBJECTIVES, count)
        shares = [rng.randint(1, 6) for _ in chosen]
        total = sum(shares)
        return [
            {
                "id": o.slug,
                "name": (o.name_zh, o.name_en),
                "description": fill((o.zh, o.en)),
                "weight": round(s / total - 0.005, 2) if rng.random() < 0.8 else None,
            }
            for o, s in zip(chosen, shares, strict=True)
        ]

    @staticmethod
    def _criteria(
        rng: random.Random, count: int, fill: _Filler, have: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        taken = {c["id"] for c in have}
        pool = [c for c in bank.CRITERIA if c.slug not in taken]
        return [
            {"id": c.slug, "name": (c.name_zh, c.name_en), "description": fill((c.zh, c.en))}
            for c in rng.sample(pool, count)
        ]

    @staticmethod
    def _input(s: bank.Signal) -> dict[str, Any]:
        return {
            "id": s.slug,
            "name": (s.zh, s.en[0].upper() + s.en[1:]),
            "personal": s.personal,
            "sensitive": s.sensitive,
        }

    @staticmethod
    def _controls(rng: random.Random, category: str, fill: _Filler) -> dict[str, Any]:
        controls = {}
        keys = ("personalization_opt_out", "tag_management", "explanation")
        for index, key in enumerate(keys):
            # Personalized push must offer an opt-out (Art. 17); others often have none.
            available = category == "personalized_push" or rng.random() < 0.5
            if index == 0 and category == "personalized_push":
                available = True
            if available:
                feature = bank.FEATURES[index]
                how = fill(bank.CONTROL_HOW[index], feature=feature)
                controls[key] = {"available": True, "how": how}
            else:
                controls[key] = {"available": False, "reason": bank.CONTROL_REASON[index]}
        return controls

    @staticmethod
    def _channels(rng: random.Random, provider: dict[str, Any]) -> list[dict[str, Any]]:
        host = provider["host"]
        channels: list[dict[str, Any]] = [
            {
                "kind": "in_app",
                "target": "我 > 设置 > 反馈与帮助 > 算法问题",
                "label": ("应用内反馈", "In-app feedback"),
                "response_days": rng.choice([3, 5, 7]),
            },
            {
                "kind": "email",
                "target": f"algorithm@{host}",
                "label": ("算法问题邮箱", "Algorithm issues mailbox"),
                "response_days": rng.choice([7, 10, 15]),
            },
        ]
        if rng.random() < 0.6:
            channels.append(
                {
                    "kind": "phone",
                    "target": f"400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                    "hours": ("每天 9:00–21:00", "Daily 9:00 to 21:00"),
                }
            )
        if rng.random() < 0.4:
            channels.append({"kind": "web", "target": f"https://www.{host}/feedback"})
        return channels

    @staticmethod
    def _file(a: dict[str, Any], meta: _Meta, date: dt.date) -> None:
        a["filing"] = {"status": "filed", "number": meta.number, "date": date.isoformat()}

    def published(self, i: int) -> Iterator[dict[str, Any]]:
        """Disclosure ``i`` as published at each version: the base, then one change each."""
        a, fill = self.base(i)
        meta, rng = self.meta[i], fill.rng
        for v, date in enumerate(self.dates):
            if v:
                a["change_note"] = self._change(a, meta, v, date, fill)
            a["effective_date"] = date.isoformat()
            reviewed = min(date + dt.timedelta(days=rng.randint(0, 20)), LAST_VERSION)
            a["last_reviewed"] = reviewed.isoformat()
            yield a

    def _change(self, a: dict[str, Any], meta: _Meta, v: int, date: dt.date, fill: _Filler) -> Pair:
        """Change a few fields of ``a`` in place, as a provider would; return the change note."""
        rng = fill.rng
        notes: list[Pair] = []
        objective = rng.choice(a["objectives"])
        if objective["weight"] is not None and objective["weight"] >= 0.1:
            objective["weight"] = round(objective["weight"] - 0.05, 2)
            notes.append(fill(bank.CHANGE_NOTES["weights"], name=objective["name"]))
        if len(a["criteria"]) < 5 and rng.random() < 0.5:
            added = self._criteria(rng, 1, fill, a["criteria"])[0]
            a["criteria"].append(added)
            notes.append(fill(bank.CHANGE_NOTES["criterion"], name=added["name"]))
        if len(a["inputs"]) < 6 and rng.random() < 0.3:
            have = {x["id"] for x in a["inputs"]}
            signal = next(s for s in rng.sample(bank.SIGNALS, 10) if s.slug not in have)
            a["inputs"].append(self._input(signal))
            notes.append(fill(bank.CHANGE_NOTES["input"], name=(signal.zh, signal.en)))
        if rng.random() < 0.3:
            steps = sorted(rng.sample(range(len(bank.MECHANISM)), rng.randint(3, 6)))
            a["mechanism"] = self._mechanism(steps, fill)
            notes.append(bank.CHANGE_NOTES["mechanism"])
        if meta.filed_at == v:
            self._file(a, meta, date - dt.timedelta(days=rng.randint(10, 60)))
            notes.append(bank.CHANGE_NOTES["filed"])
        if meta.withdrawn_at == v:
            a["filing"]["status"] = "withdrawn"
            notes = [bank.CHANGE_NOTES["withdrawn"]]
        return _join(notes or [bank.CHANGE_NOTES["mechanism"]])

    def path(self, i: int) -> str:
        meta = self.meta[i]
        return f"{self.providers[meta.provider]['id']}/{meta.id}.yaml"
