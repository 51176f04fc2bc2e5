"""Who may change what: the pull-request check (``check-changes``) and ``codeowners``.

Permissions are read from the base revision, never from the pull request itself, so nobody can
grant themselves access in the change that uses it.  A provider's maintainers may change that
provider's folder; only admins may change ``site.yaml``, create a provider folder, change a
``maintainers`` list, or touch anything outside the registry folder.  A rename is a change to
both of its paths.  Anything that cannot be read at the base counts as "nobody" (fail closed).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sitegen.diagnostics import SitegenError, UsageError
from sitegen.load import YamlProblem, decode, parse_yaml


class GitError(SitegenError):
    """git could not answer (bad revision, not a repository): exit 2 like a usage error."""

    code = 2


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    # Fixed options instead of the user's config: no pager, colour, external diff or quoting.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    command = ["git", "-c", "core.quotepath=false", "-c", "color.ui=false", "--no-pager", *args]
    try:
        result = subprocess.run(command, cwd=repo, env=env, capture_output=True, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from None
    if check and result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else 'no output'}")
    return result


@dataclass(frozen=True)
class Change:
    status: str  # A, M, D, R, C, T
    path: str
    old_path: str | None = None

    def paths(self) -> list[str]:
        return [p for p in (self.old_path, self.path) if p is not None]

    def describe(self) -> str:
        if self.old_path:
            return f"{self.status} {self.old_path} -> {self.path}"
        return f"{self.status} {self.path}"


def changed_files(repo: Path, base: str, head: str = "HEAD") -> list[Change]:
    """``git diff --name-status BASE...HEAD`` with renames detected, parsed from ``-z`` output."""
    out = _git(
        repo,
        "diff",
        "--name-status",
        "-z",
        "-M",
        "--no-ext-diff",
        "--no-textconv",
        f"{base}...{head}",
    ).stdout.decode("utf-8", "surrogateescape")
    fields = out.split("\0")
    changes: list[Change] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i][0]
        if status in ("R", "C"):
            changes.append(Change(status, fields[i + 2], fields[i + 1]))
            i += 3
        else:
            changes.append(Change(status, fields[i + 1]))
            i += 2
    return changes


def _show(repo: Path, rev: str, path: str) -> str | None:
    """A file's text at ``rev``, or None when it does not exist there."""
    result = _git(repo, "show", "--no-textconv", f"{rev}:{path}", check=False)
    if result.returncode != 0:
        return None
    try:
        return decode(result.stdout)
    except YamlProblem:
        return ""  # exists but unreadable


def _usernames(text: str | None, key: str) -> set[str] | None:
    """The ``key`` list of a YAML mapping, lowercased; None when it cannot be read."""
    if text is None:
        return None
    try:
        data: Any = parse_yaml(text)[0]
    except YamlProblem:
        return None
    if not isinstance(data, dict):
        return None
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return {v.strip().lower() for v in value}


@dataclass
class Verdict:
    author: str
    base: str
    changes: list[Change]
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    @property
    def ok(self) -> bool:
        return not self.refused

    def render(self) -> str:
        lines = [f"check-changes: {len(self.changes)} file(s) changed since {self.base}"]
        lines += [f"  {c.describe()}" for c in self.changes]
        if self.ok:
            lines.append(f"ok: {self.author} may make all of these changes")
        else:
            lines.append(f"refused: {self.author} may not change {len(self.refused)} file(s):")
            lines += [f"  {path}: {why}" for path, why in self.refused]
        return "\n".join(lines)


class Rules:
    """Maintainers and admins as recorded at the base revision."""

    def __init__(self, repo: Path, base: str, registry_dir: str) -> None:
        self.repo, self.base, self.dir = repo, base, registry_dir.strip("/")
        self.admins = _usernames(_show(repo, base, f"{self.dir}/site.yaml"), "admins") or set()
        self._maintainers: dict[str, set[str] | None] = {}
        self._folders: dict[str, bool] = {}

    def maintainers(self, provider: str) -> set[str]:
        if provider not in self._maintainers:
            text = _show(self.repo, self.base, f"{self.dir}/{provider}/provider.yaml")
            self._maintainers[provider] = _usernames(text, "maintainers")
        return self._maintainers[provider] or set()

    def folder_exists(self, provider: str) -> bool:
        if provider not in self._folders:
            out = _git(self.repo, "ls-tree", "--name-only", self.base, f"{self.dir}/{provider}/")
            self._folders[provider] = bool(out.stdout.strip())
        return self._folders[provider]

    def judge(self, path: str, author: str, head: str) -> str | None:
        """Why ``author`` may not change ``path``, or None when they may."""
        if author in self.admins:
            return None
        parts = PurePosixPath(path).parts
        if len(parts) < 2 or parts[0] != self.dir:
            return f"outside {self.dir}/; only admins may change it"
        if len(parts) == 2:
            if parts[1] == "site.yaml":
                return "only admins may change site.yaml"
            return f"not in a provider folder; only admins may change {self.dir}/ itself"
        provider = parts[1]
        if not self.folder_exists(provider):
            return f"creates provider folder '{provider}'; only admins may add providers"
        if author not in self.maintainers(provider):
            return f"{author} is not a maintainer of '{provider}' (as recorded at the base)"
        if len(parts) == 3 and parts[2] == "provider.yaml":
            before = _usernames(_show(self.repo, self.base, path), "maintainers")
            after = _usernames(_show(self.repo, head, path), "maintainers")
            if after is None or before != after:
                return "changes the maintainers list (or removes it); only admins may"
        return None


def check_changes(
    repo: Path, base: str, author: str, registry_dir: str = "disclosures", head: str = "HEAD"
) -> Verdict:
    author = author.strip().lstrip("@").lower()
    if not author:
        raise UsageError("--author is empty")
    _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    _git(repo, "rev-parse", "--verify", "--quiet", f"{head}^{{commit}}")
    changes = changed_files(repo, base, head)
    rules = Rules(repo, base, registry_dir)
    verdict = Verdict(author, base, changes)
    for change in changes:
        for path in change.paths():
            why = rules.judge(path, author, head)
            if why and (path, why) not in verdict.refused:
                verdict.refused.append((path, why))
    return verdict


def repo_root(start: Path) -> Path:
    out = _git(start, "rev-parse", "--show-toplevel").stdout.decode().strip()
    return Path(out)


def registry_dir_in_repo(repo: Path, source: Path) -> str:
    """``--source`` as a path inside the repository (``disclosures`` by default)."""
    try:
        rel = source.resolve().relative_to(repo.resolve())
    except ValueError:
        raise UsageError(f"{source} is not inside the git repository {repo}") from None
    text = rel.as_posix()
    if text in ("", "."):
        raise UsageError("--source must be a folder inside the repository, not its root")
    return text


# -- CODEOWNERS ------------------------------------------------------------------------------


def codeowners(registry_dir: str, admins: list[str], maintainers: dict[str, list[str]]) -> str:
    """GitHub CODEOWNERS text: the last matching line wins, so the general rules come first."""
    at = " ".join
    admin_owners = at(f"@{a}" for a in admins)
    lines = [
        "# Generated by `python build.py codeowners` from site.yaml (admins) and each",
        "# provider.yaml (maintainers). Do not edit by hand: change those files and regenerate.",
        "",
    ]
    if admin_owners:
        lines.append(f"* {admin_owners}")
    lines.append(f"/{registry_dir}/site.yaml {admin_owners}".rstrip())
    for provider, people in sorted(maintainers.items()):
        owners = list(dict.fromkeys([*people, *admins]))
        lines.append(f"/{registry_dir}/{provider}/ {at(f'@{o}' for o in owners)}".rstrip())
    return "\n".join(lines) + "\n"
