"""Real temporary git repositories for history tests, independent of the user's git config.

``scenario()`` builds the registry history the history, diff, feed and CLI tests share: a
year of commits with a weight change, a criterion added, a historic version that no longer
validates, items reordered, a whitespace-only edit, a rename, deletions and a withdrawal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def git_env(date: str = "2025-01-01T00:00:00Z") -> dict[str, str]:
    """Author, committer and dates fixed; global and system config ignored."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIT_") and key not in ("HOME", "XDG_CONFIG_HOME")
    }
    env.update(
        {
            "GIT_AUTHOR_NAME": "Registry Bot",
            "GIT_AUTHOR_EMAIL": "bot@registry.example.org",
            "GIT_COMMITTER_NAME": "Registry Bot",
            "GIT_COMMITTER_EMAIL": "bot@registry.example.org",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "HOME": os.devnull,
            "LC_ALL": "C",
        }
    )
    return env


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, date: str = "2025-01-01T00:00:00Z") -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env=git_env(date),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> str:
        return self.path(rel).read_text("utf-8")

    def write(self, rel: str, text: str) -> None:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")

    def replace(self, rel: str, old: str, new: str) -> None:
        text = self.read(rel)
        assert old in text, (rel, old)
        self.write(rel, text.replace(old, new, 1))

    def commit(self, message: str, date: str) -> str:
        self.git("add", "--all", ".", date=date)
        self.git("commit", "-q", "-m", message, date=date)
        return self.git("rev-parse", "HEAD").strip()


@dataclass
class Scenario:
    repo: Repo
    commits: dict[str, str] = field(default_factory=dict)  # label -> sha

    @property
    def source(self) -> Path:
        return self.repo.path("disclosures")


PICKER = """\
name: {zh: 乙方精选, en: Beta picker}
summary: {zh: 精选商品。, en: Picks products.}
category: sorting_selection
role: service_provider
filing:
  status: filed
  number: 网信算备310115000000000000002号
  date: 2024-05-01
public_opinion_attributes: false
products:
  - name: {zh: 乙方商城, en: Beta Mall}
    url: https://mall.beta.example
    platforms: [web]
principles: {zh: 按销量和评分精选商品。, en: Picks products by sales and ratings.}
optimization_objectives:
  - id: sales
    name: {zh: 销量, en: Sales}
    description: {zh: 商品近三十天的销量。, en: Units sold in the last thirty days.}
decision_criteria:
  - id: rating
    name: {zh: 评分, en: Rating}
    description: {zh: 用户评分越高越靠前。, en: Higher-rated products rank higher.}
user_controls:
  personalization_opt_out: {available: false, reason: {zh: 不使用个人信息。, en: No personal data.}}
  tag_management: {available: false, reason: {zh: 不使用标签。, en: No tags.}}
  explanation: {available: false, reason: {zh: 暂不提供。, en: Not offered yet.}}
complaint_channels:
  - kind: email
    target: help@beta.example
    response_days: 7
effective_date: 2024-05-01
last_reviewed: 2025-01-01
"""


def _provider(pid: str, name_zh: str, name_en: str, code: str) -> str:
    return (
        f"name: {{zh: {name_zh}, en: {name_en}}}\n"
        f"credit_code: {code}\n"
        f"website: https://www.{pid}.example\n"
        f"maintainers: [{pid}-dev]\n"
        f"contact:\n  email: algo@{pid}.example\n"
    )


def scenario(root: Path) -> Scenario:
    """Twelve commits over 2025; labels name them in ``Scenario.commits``."""
    repo = Repo(root)
    s = Scenario(repo)
    shutil.copytree(FIXTURES / "mini", repo.path("disclosures"))
    feed = "disclosures/acme/feed.yaml"
    repo.write(
        "disclosures/acme/legacy.yaml",
        repo.read("disclosures/acme/ranker.yaml")
        .replace("示例搜索排序", "旧版排序")
        .replace("Acme search ranking", "Acme legacy ranking"),
    )
    repo.write(
        "disclosures/beta/provider.yaml",
        _provider("beta", "乙方公司", "Beta Ltd", "91310115MA1K4BT90E"),
    )
    repo.write("disclosures/beta/picker.yaml", PICKER)
    repo.write(
        "disclosures/gamma/provider.yaml",
        _provider("gamma", "丙方公司", "Gamma Ltd", "91330106MA2CQ8G313"),
    )
    repo.write(
        "disclosures/gamma/tagger.yaml",
        PICKER.replace("乙方精选", "丙方标注")
        .replace("Beta picker", "Gamma tagger")
        .replace("310115000000000000002", "330106000000000000003"),
    )
    repo.write("README.md", "not part of the registry\n")
    s.commits["initial"] = repo.commit("Initial registry", "2025-01-10T09:00:00Z")

    repo.replace(feed, "weight: 0.6", "weight: 0.5")
    repo.replace(feed, "effective_date: 2024-03-01", "effective_date: 2025-02-01")
    repo.replace(
        feed,
        "last_reviewed: 2026-06-01",
        "last_reviewed: 2026-06-01\n"
        "change_note: {zh: 下调观看时长权重。, en: Lower watch-time weight.}",
    )
    s.commits["weight"] = repo.commit("Lower the watch-time weight", "2025-02-01T10:00:00Z")

    repo.replace(
        feed,
        "decision_criteria:\n",
        "decision_criteria:\n"
        "  - id: freshness\n"
        "    name: {zh: 新鲜度, en: Freshness}\n"
        "    description:\n"
        "      zh: 发布时间越近的视频排序越靠前。\n"
        "      en: Recently published videos rank higher.\n",
    )
    s.commits["criterion"] = repo.commit("Add a freshness criterion", "2025-03-01T10:00:00Z")

    repo.replace(
        feed,
        "public_opinion_attributes: true",
        "public_opinion_attributes: true\nalgorithm_owner: 张三",
    )
    s.commits["invalid"] = repo.commit("Name the owner", "2025-03-15T10:00:00Z")

    repo.replace(
        feed,
        "public_opinion_attributes: true\nalgorithm_owner: 张三",
        "public_opinion_attributes: true",
    )
    s.commits["fixed"] = repo.commit("Drop the owner key", "2025-03-20T10:00:00Z")

    text = repo.read(feed)
    email = "  - kind: email\n    target: algo@acme.example\n    response_days: 10\n"
    web = "  - kind: web\n    target: https://help.acme.example/algorithm\n"
    assert email + web in text
    repo.write(
        feed, text.replace(email + web, web + email).replace("[android, ios]", "[ios, android]")
    )
    s.commits["reorder"] = repo.commit("Reorder channels", "2025-04-01T10:00:00Z")

    text = repo.read(feed)
    text = "# Acme's feed disclosure\n" + text.replace("role: service_provider\n", "").replace(
        "category: personalized_push\n", "category:   personalized_push\nrole: service_provider\n"
    )
    repo.write(feed, text)
    s.commits["whitespace"] = repo.commit("Tidy comments and spacing", "2025-05-01T10:00:00Z")

    repo.git("mv", "disclosures/acme/ranker.yaml", "disclosures/acme/search-ranker.yaml")
    s.commits["rename"] = repo.commit("Rename ranker to search-ranker", "2025-06-01T10:00:00Z")

    repo.git("rm", "-q", "disclosures/acme/legacy.yaml")
    repo.git("rm", "-q", "-r", "disclosures/gamma")
    s.commits["delete"] = repo.commit(
        "Remove the legacy ranking: product discontinued", "2025-07-01T10:00:00Z"
    )

    repo.replace("disclosures/beta/picker.yaml", "status: filed", "status: withdrawn")
    repo.replace(
        "disclosures/beta/picker.yaml",
        "last_reviewed: 2025-01-01",
        "last_reviewed: 2025-08-01\n"
        "change_note: {zh: 该算法已停用。, en: The algorithm is no longer used.}",
    )
    s.commits["withdraw"] = repo.commit("Withdraw the picker", "2025-08-01T10:00:00Z")

    repo.replace(
        feed,
        "We recommend videos based on watch time and interactions.",
        "We recommend videos based on how long people watch and how they interact.",
    )
    s.commits["translation"] = repo.commit("Reword the English principles", "2025-09-01T10:00:00Z")

    repo.write("README.md", "still not part of the registry\n")
    s.commits["outside"] = repo.commit("Edit the README", "2025-10-01T10:00:00Z")
    return s
