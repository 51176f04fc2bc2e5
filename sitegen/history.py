"""Versions from git: every disclosure's published states, deletions kept as tombstones.

The registry lives in git and each merged change is a commit, so the first-parent log of the
registry folder is the list of publications.  One ``git log --raw`` pass gives every changed
file per commit (renames followed); the blobs are read through one ``cat-file --batch``,
parsed once each with the load stage's parser and validated with today's models
(``sitegen.content``).  A commit is a new version only when the validated content changed,
so re-indenting, comments, key order and reordered items never make one.  A historic file
that no longer validates is kept as raw text with the reason, never dropped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from sitegen.cache import Cache
from sitegen.content import Parsed, compare, parse_many, parsing_pool
from sitegen.diff import Diff
from sitegen.gitlog import BlobReader, Commit, Git, GitUnavailable, NotARepository
from sitegen.load import YamlProblem, decode, parse_yaml
from sitegen.model import Algorithm, FilingStatus, Provider
from sitegen.registry import Disclosure, Ending, Event, Registry, Version, sort_disclosures


def validation_context(registry: Registry) -> dict[str, Any]:
    return {
        "languages": list(registry.languages),
        "filing_pattern": registry.site.filing_number_pattern,
    }


def path_kind(prefix: str, path: str | None) -> str:
    """Whether a repository path is an "algorithm" or "provider" file ("" if neither).

    ``prefix`` is the registry folder inside the repository, with a trailing "/".
    """
    if path is None or not path.startswith(prefix):
        return ""
    parts = path[len(prefix) :].split("/")
    if len(parts) != 2 or not parts[1].endswith(".yaml") or parts[0].startswith("."):
        return ""
    return "provider" if parts[1] == "provider.yaml" else "algorithm"


@dataclass
class _Chain:
    """One disclosure's life through renames: its versions and, if deleted, its ending."""

    path: str
    versions: list[dict[str, Any]] = field(default_factory=list)
    ended: Ending | None = None
    paths: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        pure = PurePosixPath(self.path)
        return f"{pure.parent.name}/{pure.stem}"


@dataclass
class History:
    """What git says about the registry folder."""

    chains: list[_Chain]
    providers: dict[str, bytes]  # last provider.yaml of each provider no longer in the tree


class _Walker:
    """Turns the log into chains; blob contents are looked up once parsed."""

    def __init__(self, prefix: str, languages: list[str]) -> None:
        self.prefix = f"{prefix}/" if prefix else ""
        self.languages = languages
        self.active: dict[str, _Chain] = {}
        self.gone: dict[str, list[_Chain]] = {}
        self.chains: list[_Chain] = []

    def kind(self, path: str | None) -> str:
        return path_kind(self.prefix, path)

    def blobs(self, commits: list[Commit]) -> Iterator[tuple[str, str]]:
        """(blob, path) of every algorithm version the walk will need."""
        for commit in commits:
            for change in commit.changes:
                if change.status != "D" and self.kind(change.path) == "algorithm":
                    yield change.new_blob, change.path

    def provider_blobs(self, commits: list[Commit]) -> dict[str, str]:
        """The last provider.yaml blob of every provider that ever had one."""
        last: dict[str, str] = {}
        for commit in commits:
            for change in commit.changes:
                if change.status != "D" and self.kind(change.path) == "provider":
                    last[change.path.split("/")[-2]] = change.new_blob
        return last

    def walk(self, commits: list[Commit], parsed: dict[str, Parsed]) -> None:
        for order, commit in enumerate(commits):
            for change in sorted(commit.changes, key=lambda c: c.status != "D"):
                old_kind, new_kind = self.kind(change.old_path), self.kind(change.path)
                if change.status == "R" and old_kind == "algorithm":
                    chain = self.active.pop(change.old_path or "", None)
                    if new_kind != "algorithm":
                        if chain is not None:
                            self._end(chain, commit, order, change.old_path or "")
                        continue
                    if chain is not None:
                        chain.path = change.path
                        chain.paths.append(change.path)
                        self.active[change.path] = chain
                if new_kind != "algorithm":
                    continue
                if change.status == "D":
                    chain = self.active.pop(change.path, None)
                    if chain is not None:
                        self._end(chain, commit, order, change.path)
                    continue
                chain = self.active.get(change.path)
                if chain is None:
                    earlier = self.gone.get(change.path)
                    chain = earlier.pop() if earlier else None
                    if chain is None:
                        chain = _Chain(change.path, paths=[change.path])
                        self.chains.append(chain)
                    self.active[change.path] = chain
                self._version(chain, commit, order, parsed[f"{change.new_blob}:{change.path}"])

    def _end(self, chain: _Chain, commit: Commit, order: int, path: str) -> None:
        chain.ended = Ending(commit.sha, commit.date, path, commit.subject, order)
        self.gone.setdefault(path, []).append(chain)

    def _version(self, chain: _Chain, commit: Commit, order: int, parsed: Parsed) -> None:
        restored = chain.ended is not None
        chain.ended = None
        last = chain.versions[-1] if chain.versions else None
        diff = None
        if last is not None:
            diff = compare(last["parsed"], parsed, self.languages)
            if diff is None and not restored:
                return
        chain.versions.append(
            {
                "commit": commit,
                "order": order,
                "path": chain.path,
                "parsed": parsed,
                "restored": restored,
                "renamed": last is not None and last["path"] != chain.path,
                "diff": (last["parsed"], diff) if last else None,  # against the one before
            }
        )


def read_history(
    git: Git, folder: Path, context: dict[str, Any], known: dict[str, Any], providers: set[str]
) -> History:
    """One log pass and one blob batch.

    ``known`` maps the sha256 of each current file to its validated data, so the versions that
    are still current are not parsed twice; ``providers`` are the provider ids in the tree
    (the last provider.yaml of any other is read, for the tombstones of its disclosures).
    """
    prefix = git.prefix(folder)
    commits = git.log(prefix)
    walker = _Walker(prefix, list(context["languages"]))
    needed = list(dict.fromkeys(walker.blobs(commits)))
    by_blob: dict[str, list[str]] = {}
    for blob, path in needed:
        by_blob.setdefault(blob, []).append(path)
    gone_providers = {
        blob: pid for pid, blob in walker.provider_blobs(commits).items() if pid not in providers
    }
    provider_data: dict[str, bytes] = {}
    parsed: dict[str, Parsed] = {}

    def to_parse() -> Iterator[tuple[str, bytes, str]]:
        for blob, content in BlobReader(git).read([*by_blob, *gone_providers]):
            if blob in gone_providers and content is not None:
                provider_data[gone_providers[blob]] = content
            paths = by_blob.get(blob, [])
            if content is None:
                for path in paths:
                    parsed[f"{blob}:{path}"] = Parsed(None, None, "", "missing from git")
                continue
            current = known.get(hashlib.sha256(content).hexdigest())
            for path in paths:
                if current is not None and current.get("id") == PurePosixPath(path).stem:
                    parsed[f"{blob}:{path}"] = Parsed(current, None, "", "")  # still current
                else:
                    yield f"{blob}:{path}", content, path

    with parsing_pool(len(needed) - len(known)) as pool:
        parsed.update(parse_many(to_parse(), context, pool))
    walker.walk(commits, parsed)
    return History(walker.chains, provider_data)


# -- attaching history to the registry -------------------------------------------------------


def _date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _note(value: Any, default: str) -> dict[str, str] | None:
    if isinstance(value, str) and value.strip():
        return {default: value}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()} or None
    return None


def _status(data: dict[str, Any] | None) -> str:
    filing = (data or {}).get("filing")
    return str(filing.get("status", "")) if isinstance(filing, dict) else ""


def build_versions(chain: _Chain, languages: list[str]) -> list[Version]:
    """Numbered versions, each with its diff against the one before."""
    versions: list[Version] = []
    previous: Parsed | None = None
    for number, entry in enumerate(chain.versions, start=1):
        parsed: Parsed = entry["parsed"]
        commit: Commit = entry["commit"]
        content = parsed.content
        event = "added" if previous is None else "changed"
        diff = None
        if previous is not None:
            before = previous.content
            against, diff = entry.get("diff") or (None, None)
            if against is not previous or diff is None:  # chains were merged, or a restore
                diff = compare(previous, parsed, languages) or Diff()
            if entry["restored"]:
                event = "restored"
            elif entry["renamed"]:
                event = "renamed"
            elif _status(content) == FilingStatus.WITHDRAWN and _status(before) != "withdrawn":
                event = "withdrawn"
        elif _status(content) == FilingStatus.WITHDRAWN:
            event = "withdrawn"
        versions.append(
            Version(
                number=number,
                commit=commit.sha,
                date=commit.date,
                effective_date=_date(content.get("effective_date")),
                change_note=_note(content.get("change_note"), languages[0]),
                data=parsed.data,
                raw=parsed.raw,
                problem=parsed.problem,
                path=entry["path"],
                event=event,
                subject=commit.subject,
                order=entry["order"],
                diff=diff,
            )
        )
        previous = parsed
    return versions


def _provider_model(content: bytes, provider_id: str, context: dict[str, Any]) -> Provider | None:
    try:
        data = parse_yaml(decode(content))[0]
    except YamlProblem:
        return None
    if not isinstance(data, dict):
        return None
    data.setdefault("id", provider_id)
    try:
        return Provider.model_validate(data, context=context)
    except ValidationError:
        return None


def unavailable_reason(folder: Path) -> tuple[Git | None, str]:
    """The repository for ``folder``, or why its history cannot be read."""
    try:
        git = Git(folder)
        if git.is_shallow():
            return None, (
                "history unavailable: this is a shallow clone; fetch the full history "
                "(git fetch --unshallow, or actions/checkout with fetch-depth: 0) to show versions"
            )
        if not git.has_commits():
            return None, "history unavailable: the repository has no commits yet"
        git.prefix(folder)
    except NotARepository:
        # Said on public pages too, so without the build machine's paths.
        return (
            None,
            f"history unavailable: the registry folder {folder.name}/ is not in a git repository",
        )
    except GitUnavailable as exc:
        return None, f"history unavailable: {exc}"
    except ValueError:
        return None, f"history unavailable: {folder} is outside the repository"
    return git, ""


def attach_history(registry: Registry, folder: Path, cache: Cache | None = None) -> Registry:
    """Give every disclosure its versions, add tombstones for deleted ones, list all events.

    Without usable history the registry is unchanged except for ``history_note``, which says
    why; the build goes on with current versions only.
    """
    git, reason = unavailable_reason(folder)
    if git is None:
        registry.history_note = reason
        return registry
    context = validation_context(registry)
    known = {d.digest: d.algorithm.model_dump(mode="json") for d in registry.disclosures}
    try:
        history = read_history(git, folder, context, known, set(registry.providers))
    except GitUnavailable as exc:
        registry.history_note = f"history unavailable: {exc}"
        return registry
    current = {d.key: d for d in registry.disclosures}
    by_key: dict[str, list[_Chain]] = {}
    for chain in history.chains:
        by_key.setdefault(chain.key, []).append(chain)
    tombstones: list[Disclosure] = []
    for key, chains in sorted(by_key.items()):
        chain = _merge(chains)
        versions = build_versions(chain, registry.languages)
        previous = [_key(p) for p in chain.paths[:-1] if _key(p) != key]
        disclosure = current.get(key)
        if disclosure is None:
            if chain.ended is None:
                continue  # deleted or renamed in the working tree, not yet committed
            disclosure = _tombstone(registry, history, chain, versions, context)
            if disclosure is None:
                continue
            tombstones.append(disclosure)
        disclosure.versions = versions
        disclosure.ended = chain.ended if key not in current else None
        disclosure.previous_keys = list(dict.fromkeys(previous))
    registry.disclosures = sort_disclosures([*registry.disclosures, *tombstones])
    keys = {d.key for d in registry.disclosures}
    for disclosure in registry.disclosures:
        for old in disclosure.previous_keys:
            if old not in keys:
                registry.moved[old] = disclosure.key
    registry.events = _events(registry.disclosures)
    return registry


def _key(path: str) -> str:
    pure = PurePosixPath(path)
    return f"{pure.parent.name}/{pure.stem}"


def _merge(chains: list[_Chain]) -> _Chain:
    """Chains that ended at the same path are one page's history: join them in time order."""
    if len(chains) == 1:
        return chains[0]
    last = max(chains, key=lambda c: c.versions[-1]["order"] if c.versions else -1)
    versions = sorted((v for c in chains for v in c.versions), key=lambda v: v["order"])
    paths = list(dict.fromkeys(p for c in chains for p in c.paths))
    return dataclasses.replace(last, versions=versions, paths=paths)


def _tombstone(
    registry: Registry,
    history: History,
    chain: _Chain,
    versions: list[Version],
    context: dict[str, Any],
) -> Disclosure | None:
    """A deleted disclosure as it last validated; None when it never did under today's format."""
    last = next((v for v in reversed(versions) if v.data is not None), None)
    if last is None or last.data is None:
        return None
    algorithm = Algorithm.model_validate(last.data, context=context)
    provider_id = PurePosixPath(chain.path).parent.name
    provider = registry.providers.get(provider_id)
    if provider is None and provider_id in history.providers:
        provider = _provider_model(history.providers[provider_id], provider_id, context)
        if provider is not None:
            registry.providers[provider_id] = provider
            registry.providers = dict(sorted(registry.providers.items()))
    if provider is None:
        return None
    return Disclosure(provider, algorithm, chain.path, "", versions, chain.ended)


def _events(disclosures: list[Disclosure]) -> list[Event]:
    events: list[Event] = []
    for disclosure in disclosures:
        events.extend(Event(disclosure, v) for v in disclosure.versions)
        if disclosure.ended is not None:
            events.append(Event(disclosure, None))
    events.sort(key=lambda e: (-e.order, e.disclosure.key, -_rank(e)))
    return events


def _rank(event: Event) -> int:
    return event.version.number if event.version else 1 << 30


def version_record(disclosure: Disclosure, version: Version) -> dict[str, Any]:
    """One version as open data: the content, or the raw text and why it no longer validates."""
    record: dict[str, Any] = {
        "key": disclosure.key,
        "version": version.number,
        "commit": version.commit,
        "date": iso(version.date),
        "effective_date": version.effective_date.isoformat() if version.effective_date else None,
        "event": version.event,
        "path": version.path,
        "valid": version.data is not None,
    }
    if version.data is not None:
        record["data"] = version.data
    else:
        record["problem"] = version.problem
        record["raw"] = version.raw
    if version.diff is not None:
        record["diff"] = version.diff.as_json()
    return record


def iso(moment: dt.datetime) -> str:
    """UTC time as ``2024-05-01T09:30:00Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
