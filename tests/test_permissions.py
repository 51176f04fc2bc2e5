"""check-changes against real temporary git repositories, and codeowners."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, ROOT, CliRunner

from sitegen.load import parse_yaml
from sitegen.permissions import check_changes, codeowners

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}

PROVIDER = """\
id: {id}
name: {{zh: 测试公司, en: Test Co}}
credit_code: 91110108MA01ABCD1E
website: https://www.{id}.example
maintainers: [{maintainers}]
contact:
  email: algo@{id}.example
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout


class Repo:
    """A registry repository with a ``main`` branch and a pull-request branch ``pr``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        shutil.copytree(FIXTURES / "mini", root / "disclosures")
        self.write(
            "disclosures/site.yaml",
            self.read("disclosures/site.yaml").replace("admins: [admin-user]", "admins: [Boss]"),
        )
        self.write(
            "disclosures/acme/provider.yaml", PROVIDER.format(id="acme", maintainers="acme-dev")
        )
        self.write(
            "disclosures/beta/provider.yaml", PROVIDER.format(id="beta", maintainers="beta-dev")
        )
        self.write("README.md", "registry\n")
        self.commit("base")
        git(root, "checkout", "-q", "-b", "pr")

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read(self, rel: str) -> str:
        return self.path(rel).read_text("utf-8")

    def write(self, rel: str, text: str) -> None:
        self.path(rel).parent.mkdir(parents=True, exist_ok=True)
        self.path(rel).write_text(text, "utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        text = self.read(rel)
        assert old in text, (rel, old)
        self.write(rel, text.replace(old, new, 1))

    def commit(self, message: str = "change") -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)

    def refused(self, author: str) -> list[tuple[str, str]]:
        return check_changes(self.root, "main", author).refused


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "registry")


def test_maintainer_edits_own_folder(repo: Repo) -> None:
    repo.edit(
        "disclosures/acme/feed.yaml", "last_reviewed: 2026-06-01", "last_reviewed: 2026-11-01"
    )
    repo.write("disclosures/acme/new-one.yaml", "name: x\n")
    repo.path("disclosures/acme/ranker.yaml").unlink()
    repo.edit("disclosures/acme/provider.yaml", "https://www.acme.example", "https://acme.example")
    repo.commit()
    verdict = check_changes(repo.root, "main", "acme-dev")
    assert verdict.ok, verdict.render()
    assert [c.describe() for c in verdict.changes] == [
        "M disclosures/acme/feed.yaml",
        "A disclosures/acme/new-one.yaml",
        "M disclosures/acme/provider.yaml",
        "D disclosures/acme/ranker.yaml",
    ]
    # Logins are case-insensitive on the code host, and may be given with an @.
    assert check_changes(repo.root, "main", "@ACME-Dev").ok


def test_stranger_and_other_maintainer_are_refused(repo: Repo) -> None:
    repo.edit(
        "disclosures/acme/feed.yaml", "last_reviewed: 2026-06-01", "last_reviewed: 2026-11-01"
    )
    repo.commit()
    assert repo.refused("mallory") == [
        (
            "disclosures/acme/feed.yaml",
            "mallory is not a maintainer of 'acme' (as recorded at the base)",
        )
    ]
    assert [path for path, _ in repo.refused("beta-dev")] == ["disclosures/acme/feed.yaml"]


def test_adding_yourself_to_maintainers_is_refused(repo: Repo) -> None:
    repo.edit(
        "disclosures/acme/provider.yaml",
        "maintainers: [acme-dev]",
        "maintainers: [acme-dev, mallory]",
    )
    repo.edit(
        "disclosures/acme/feed.yaml", "last_reviewed: 2026-06-01", "last_reviewed: 2026-11-01"
    )
    repo.commit()
    refused = dict(repo.refused("mallory"))
    assert set(refused) == {"disclosures/acme/provider.yaml", "disclosures/acme/feed.yaml"}
    # Even a real maintainer may not change the list: only admins may.
    assert repo.refused("acme-dev") == [
        (
            "disclosures/acme/provider.yaml",
            "changes the maintainers list (or removes it); only admins may",
        )
    ]
    assert repo.refused("boss") == []


def test_pull_request_cannot_make_its_author_an_admin(repo: Repo) -> None:
    repo.edit("disclosures/site.yaml", "admins: [Boss]", "admins: [Boss, mallory]")
    repo.edit(
        "disclosures/acme/feed.yaml", "last_reviewed: 2026-06-01", "last_reviewed: 2026-11-01"
    )
    repo.commit()
    assert dict(repo.refused("mallory")) == {
        "disclosures/site.yaml": "only admins may change site.yaml",
        "disclosures/acme/feed.yaml": NOT_ACME,
    }


NOT_ACME = "mallory is not a maintainer of 'acme' (as recorded at the base)"


def test_admin_may_change_anything(repo: Repo) -> None:
    repo.edit("disclosures/site.yaml", "Test Registry", "Registry")
    repo.edit(
        "disclosures/acme/provider.yaml",
        "maintainers: [acme-dev]",
        "maintainers: [acme-dev, new-dev]",
    )
    repo.write("disclosures/gamma/provider.yaml", PROVIDER.format(id="gamma", maintainers="g"))
    repo.write(".github/CODEOWNERS", "* @boss\n")
    repo.edit("README.md", "registry", "the registry")
    repo.commit()
    assert repo.refused("boss") == []


def test_only_admins_touch_site_new_folders_and_other_files(repo: Repo) -> None:
    repo.edit("disclosures/site.yaml", "Test Registry", "Registry")
    repo.write(
        "disclosures/gamma/provider.yaml", PROVIDER.format(id="gamma", maintainers="acme-dev")
    )
    repo.write(".github/workflows/pr.yml", "on: push\n")
    repo.edit("README.md", "registry", "the registry")
    repo.write("disclosures/stray.yaml", "x: 1\n")
    repo.commit()
    assert dict(repo.refused("acme-dev")) == {
        ".github/workflows/pr.yml": "outside disclosures/; only admins may change it",
        "README.md": "outside disclosures/; only admins may change it",
        "disclosures/gamma/provider.yaml": (
            "creates provider folder 'gamma'; only admins may add providers"
        ),
        "disclosures/site.yaml": "only admins may change site.yaml",
        "disclosures/stray.yaml": (
            "not in a provider folder; only admins may change disclosures/ itself"
        ),
    }


def test_rename_to_another_provider_is_refused(repo: Repo) -> None:
    git(repo.root, "mv", "disclosures/acme/feed.yaml", "disclosures/beta/feed.yaml")
    repo.commit()
    verdict = check_changes(repo.root, "main", "acme-dev")
    assert [c.describe() for c in verdict.changes] == [
        "R disclosures/acme/feed.yaml -> disclosures/beta/feed.yaml"
    ]
    assert [path for path, _ in verdict.refused] == ["disclosures/beta/feed.yaml"]
    # The other side is refused too: beta's maintainer may not take acme's file.
    assert [path for path, _ in repo.refused("beta-dev")] == ["disclosures/acme/feed.yaml"]
    assert repo.refused("boss") == []


def test_removing_provider_yaml_is_refused(repo: Repo) -> None:
    repo.path("disclosures/acme/provider.yaml").unlink()
    repo.commit()
    assert [path for path, _ in repo.refused("acme-dev")] == ["disclosures/acme/provider.yaml"]


def test_unreadable_base_fails_closed(repo: Repo) -> None:
    git(repo.root, "checkout", "-q", "main")
    repo.write("disclosures/acme/provider.yaml", "maintainers: [acme-dev\n")
    repo.commit("broken")
    git(repo.root, "checkout", "-q", "pr")
    git(repo.root, "reset", "-q", "--hard", "main")
    repo.write("disclosures/acme/provider.yaml", PROVIDER.format(id="acme", maintainers="acme-dev"))
    repo.edit(
        "disclosures/acme/feed.yaml", "last_reviewed: 2026-06-01", "last_reviewed: 2026-11-01"
    )
    repo.commit("fix")
    assert {path for path, _ in repo.refused("acme-dev")} == {
        "disclosures/acme/provider.yaml",
        "disclosures/acme/feed.yaml",
    }
    assert repo.refused("boss") == []


def test_cli_exit_codes_and_output(repo: Repo, cli: CliRunner) -> None:
    repo.edit(
        "disclosures/acme/feed.yaml", "last_reviewed: 2026-06-01", "last_reviewed: 2026-11-01"
    )
    repo.commit()
    ok = cli("check-changes", "--base", "main", "--author", "acme-dev", cwd=repo.root)
    assert ok.returncode == 0, ok.stderr
    assert "M disclosures/acme/feed.yaml" in ok.stdout
    assert "ok: acme-dev may make all of these changes" in ok.stdout
    refused = cli("check-changes", "--base", "main", "--author", "beta-dev", cwd=repo.root)
    assert refused.returncode == 1
    assert "refused: beta-dev may not change 1 file(s):" in refused.stdout
    assert "  disclosures/acme/feed.yaml: beta-dev is not a maintainer of 'acme'" in refused.stdout
    bad = cli("check-changes", "--base", "no-such-branch", "--author", "x", cwd=repo.root)
    assert bad.returncode == 2
    assert "git rev-parse failed" in bad.stderr and "Traceback" not in bad.stderr
    missing = cli("check-changes", "--author", "x", cwd=repo.root)
    assert missing.returncode == 2 and "--base" in missing.stderr


def test_not_a_repository_is_exit_2(cli: CliRunner, tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "mini", tmp_path / "plain" / "disclosures")
    done = cli("check-changes", "--base", "main", "--author", "x", cwd=tmp_path / "plain")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_codeowners_text() -> None:
    text = codeowners("disclosures", ["boss"], {"acme": ["acme-dev"], "beta": ["b1", "boss"]})
    rules = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert rules == [
        "* @boss",
        "/disclosures/site.yaml @boss",
        "/disclosures/acme/ @acme-dev @boss",
        "/disclosures/beta/ @b1 @boss",
    ]


def test_codeowners_command(repo: Repo, cli: CliRunner) -> None:
    assert cli("codeowners", "--check", cwd=repo.root).returncode == 1
    done = cli("codeowners", cwd=repo.root)
    assert done.returncode == 0, done.stderr
    text = repo.read(".github/CODEOWNERS")
    assert "/disclosures/acme/ @acme-dev @Boss" in text
    assert "/disclosures/beta/ @beta-dev @Boss" in text
    assert cli("codeowners", "--check", cwd=repo.root).returncode == 0


# -- the shipped workflows and hooks ------------------------------------------------------------


def workflow(name: str) -> dict[str, Any]:
    data = parse_yaml((ROOT / ".github" / "workflows" / name).read_text("utf-8"))[0]
    assert isinstance(data, dict)
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(job))


def test_pull_request_workflow_runs_every_check() -> None:
    flow = workflow("pr.yml")
    assert set(flow["on"]) == {"pull_request"}  # never pull_request_target
    code = [line for line in (ROOT / ".github/workflows/pr.yml").open() if not line.startswith("#")]
    assert not any("pull_request_target" in line for line in code)
    assert flow["permissions"] == {"contents": "read"}
    (job,) = flow["jobs"].values()
    checkout = steps(job)[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0
    assert any(s.get("uses", "").startswith("actions/setup-python@") for s in steps(job))
    commands = runs(job)
    assert "python build.py validate --format github" in commands
    assert "python build.py build" in commands
    check = next(s for s in steps(job) if "check-changes" in str(s.get("run", "")))
    assert '--base "origin/$BASE_REF" --author "$AUTHOR"' in check["run"]
    assert check["env"] == {
        "BASE_REF": "${{ github.base_ref }}",
        "AUTHOR": "${{ github.event.pull_request.user.login }}",
    }
    # The check runs the base branch's code, installed before the pull request's own.
    trusted = next(s for s in steps(job) if s.get("with", {}).get("path") == ".trusted")
    assert trusted["with"]["ref"] == "${{ github.base_ref }}"
    order = [str(s.get("run", "")) for s in steps(job)]
    assert order.index(check["run"]) < next(i for i, r in enumerate(order) if "-e ." in r)


def test_publish_workflow_builds_and_deploys_from_main() -> None:
    flow = workflow("publish.yml")
    assert flow["on"]["push"]["branches"] == ["main"]
    assert flow["permissions"] == {"contents": "read"}
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    assert "python build.py build" in runs(build)
    upload = next(s for s in steps(build) if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_site"
    # The last site comes back with the cache, before the build, so a publish is a rebuild.
    cache = next(s for s in steps(build) if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"].split() == ["~/.cache/sitegen", "_site"]
    order = [str(s.get("run", "")) for s in steps(build)]
    assert steps(build).index(cache) < order.index("python build.py build")
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any("actions/deploy-pages@" in s.get("uses", "") for s in steps(deploy))


def test_pre_commit_hook_validates_disclosures() -> None:
    hooks = parse_yaml((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))[0]
    hook = next(h for h in hooks if h["id"] == "sitegen-validate")
    assert hook["entry"] == "sitegen validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["files"] == "^disclosures/"


def test_committed_codeowners_is_current(cli: CliRunner) -> None:
    done = cli("codeowners", "--check", cwd=ROOT)
    assert done.returncode == 0, "run `python build.py codeowners`: " + done.stderr
