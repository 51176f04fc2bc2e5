"""What changed across the registry between two points: revisions, dates or published snapshots.

This is the engine of ``python build.py diff``.  Between two git revisions only the files git
reports as changed are read (one ``git diff --raw`` and one blob batch), each is validated as
the build would, and disclosures whose validated content is equal are dropped, so a
re-indented file is no difference.  Two ``api/registry.json`` snapshots from published builds
are compared record by record, which needs no repository at all.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sitegen.content import Parsed, compare, parse_many
from sitegen.diagnostics import UsageError
from sitegen.diff import Diff, diff_disclosures
from sitegen.gitlog import BlobReader, Git, GitUnavailable
from sitegen.history import path_kind
from sitegen.workers import parsing_pool

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NULL_BLOB = re.compile(r"^0+$")
# Keys a snapshot record adds around the disclosure's own fields.
SNAPSHOT_META = frozenset(
    {"key", "provider", "url", "json_url", "history_url", "status", "versions", "ended"}
    | {"previous_keys"}
)


@dataclass(frozen=True)
class Side:
    """One end of a comparison, as the report names it."""

    label: str  # e.g. "3f2a1b9c0d1e (2025-01-31)" or "snapshot old.json"
    commit: str = ""
    date: str = ""


@dataclass
class DisclosureChange:
    key: str
    provider: str
    category: str
    name: dict[str, str]
    change: str  # added, removed, withdrawn, restored, renamed, changed
    diff: Diff | None = None
    old_key: str = ""

    @property
    def substantive(self) -> bool:
        if self.change in ("added", "removed", "withdrawn", "restored"):
            return True
        return self.diff is not None and self.diff.substantive

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "provider": self.provider,
            "category": self.category,
            "name": self.name,
            "change": self.change,
            "substantive": self.substantive,
        }
        if self.old_key:
            data["old_key"] = self.old_key
        if self.diff is not None:
            data["diff"] = self.diff.as_json()
        return data


@dataclass
class DiffReport:
    old: Side
    new: Side
    languages: list[str]
    changes: list[DisclosureChange] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for change in self.changes:
            out[change.change] = out.get(change.change, 0) + 1
        return dict(sorted(out.items()))

    def filter(self, providers: list[str], categories: list[str]) -> DiffReport:
        kept = [
            c
            for c in self.changes
            if (not providers or c.provider in providers)
            and (not categories or c.category in categories)
        ]
        return DiffReport(self.old, self.new, self.languages, kept)

    def as_json(self) -> dict[str, Any]:
        return {
            "from": vars(self.old),
            "to": vars(self.new),
            "summary": self.counts(),
            "disclosures": [c.as_json() for c in self.changes],
        }


def _status(data: Any) -> str:
    filing = data.get("filing") if isinstance(data, dict) else None
    return str(filing.get("status", "")) if isinstance(filing, dict) else ""


def _content(parsed: Parsed) -> dict[str, Any]:
    value = parsed.data if parsed.data is not None else parsed.plain
    return value if isinstance(value, dict) else {}


def _localized(value: Any, default: str) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {default: str(value)} if value is not None else {}


def _change(
    key: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    languages: list[str],
    migration: bool = False,
    old_key: str = "",
) -> DisclosureChange | None:
    """Classify one disclosure's difference; None when its content is the same."""
    current = new if new is not None else old or {}
    provider = key.split("/", 1)[0]
    name = _localized(current.get("name"), languages[0])
    category = str(current.get("category", ""))
    if old is None:
        return DisclosureChange(key, provider, category, name, "added")
    if new is None:
        return DisclosureChange(key, provider, category, name, "removed")
    diff = diff_disclosures(old, new, languages, migration)
    if not diff.changes and not old_key:
        return None
    kind = "changed"
    if _status(new) == "withdrawn" and _status(old) != "withdrawn":
        kind = "withdrawn"
    elif old_key:
        kind = "renamed"
    return DisclosureChange(key, provider, category, name, kind, diff, old_key)


# -- git revisions and dates -------------------------------------------------------------------


def parse_day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: not a YYYY-MM-DD date: {text!r}") from None


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


class GitComparer:
    """Compares the registry folder at two commits of its repository."""

    def __init__(self, source: Path, context: dict[str, Any]) -> None:
        if not source.is_dir():
            raise UsageError(f"source folder {source} not found (pass --source DIR)")
        try:
            self.git = Git(source)
            if self.git.is_shallow():
                raise UsageError(
                    "this is a shallow clone: fetch the full history first (git fetch --unshallow)"
                )
            self.prefix = self.git.prefix(source)
        except GitUnavailable as exc:
            raise UsageError(str(exc)) from None
        self.context = context
        self.languages: list[str] = list(context["languages"])

    def side(self, rev: str) -> Side:
        """A revision or a YYYY-MM-DD date (the state at the end of that day, UTC)."""
        if _DATE.match(rev):
            day = parse_day(rev, "date")
            return self.at(_start_of(day + dt.timedelta(days=1)), f"end of {day}")
        try:
            sha = self.git.resolve(rev)
        except GitUnavailable as exc:
            raise UsageError(str(exc)) from None
        return Side(f"{rev} ({sha[:12]})", sha, self._date(sha))

    def at(self, moment: dt.datetime, what: str) -> Side:
        """The registry as it stood just before ``moment`` (empty before the first commit)."""
        try:
            sha = self.git.commit_before(moment)
            if sha is None:
                return Side(f"{what}: before the first commit", self.git.empty_tree(), "")
        except GitUnavailable as exc:
            raise UsageError(str(exc)) from None
        return Side(f"{what} ({sha[:12]})", sha, self._date(sha))

    def since(self, since: dt.date, until: dt.date | None) -> tuple[Side, Side]:
        old = self.at(_start_of(since), f"start of {since}")
        if until is None:
            return old, self.side("HEAD")
        if until < since:
            raise UsageError(f"--until {until} is before --since {since}")
        return old, self.at(_start_of(until + dt.timedelta(days=1)), f"end of {until}")

    def _date(self, sha: str) -> str:
        out = self.git.run("show", "-s", "--format=%ct", sha).stdout.decode().strip()
        return dt.datetime.fromtimestamp(int(out), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def compare(self, old: Side, new: Side) -> DiffReport:
        try:
            raw = self.git.diff(old.commit, new.commit, self.prefix)
        except GitUnavailable as exc:
            raise UsageError(str(exc)) from None
        prefix = f"{self.prefix}/" if self.prefix else ""
        wanted: dict[str, list[str]] = {}
        pairs: list[tuple[str, str | None, str, str | None]] = []
        for entry in raw:
            old_path = entry.old_path or entry.path
            old_ok = path_kind(prefix, old_path) == "algorithm"
            new_ok = path_kind(prefix, entry.path) == "algorithm"
            old_ok = old_ok and not _NULL_BLOB.match(entry.old_blob)
            new_ok = new_ok and not _NULL_BLOB.match(entry.new_blob)
            if not (old_ok or new_ok):
                continue
            if entry.status == "D":
                new_ok = False
            if entry.status in ("A", "C"):
                old_ok = False
            old_blob = entry.old_blob if old_ok else None
            new_blob = entry.new_blob if new_ok else None
            for blob, path in ((old_blob, old_path), (new_blob, entry.path)):
                if blob is not None:
                    wanted.setdefault(blob, []).append(path)
            pairs.append(
                (old_path if old_ok else "", old_blob, entry.path if new_ok else "", new_blob)
            )
        parsed: dict[str, Parsed] = {}

        def contents() -> Iterator[tuple[str, bytes, str]]:
            for blob, content in BlobReader(self.git).read(wanted):
                for path in wanted[blob]:
                    if content is None:
                        raise UsageError(f"git cannot read {path} ({blob[:12]})")
                    yield f"{blob}:{path}", content, path

        with parsing_pool(sum(len(paths) for paths in wanted.values())) as pool:
            parsed.update(parse_many(contents(), self.context, pool))
        report = DiffReport(old, new, self.languages)
        for old_path, old_blob, new_path, new_blob in pairs:
            before = parsed[f"{old_blob}:{old_path}"] if old_blob else None
            after = parsed[f"{new_blob}:{new_path}"] if new_blob else None
            if (
                before is not None
                and after is not None
                and compare(before, after, self.languages) is None
            ):
                continue
            old_key, new_key = _key(old_path), _key(new_path)
            migration = (before is not None and before.data is None) or (
                after is not None and after.data is None
            )
            renamed = old_key if old_path and new_path and old_key != new_key else ""
            change = _change(
                new_key or old_key,
                _content(before) if before else None,
                _content(after) if after else None,
                self.languages,
                migration,
                renamed,
            )
            if change is not None:
                report.changes.append(change)
        report.changes.sort(key=lambda c: c.key)
        return report


def _key(path: str) -> str:
    if not path:
        return ""
    pure = PurePosixPath(path)
    return f"{pure.parent.name}/{pure.stem}"


# -- published snapshots -------------------------------------------------------------------------


def load_snapshot(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path} is not a JSON file: {exc}") from None
    records = data.get("disclosures") if isinstance(data, dict) else None
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and isinstance(r.get("key"), str) for r in records
    ):
        raise UsageError(f"{path} is not an api/registry.json snapshot (no disclosures list)")
    return dict(data)


def _records(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in snapshot["disclosures"]}


def _fields(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in SNAPSHOT_META}


def _snapshot_languages(snapshot: dict[str, Any]) -> list[str]:
    site = snapshot.get("site")
    languages = site.get("languages") if isinstance(site, dict) else None
    if isinstance(languages, list) and languages and all(isinstance(x, str) for x in languages):
        return list(languages)
    return ["zh", "en"]


def compare_snapshots(old_path: Path, new_path: Path) -> DiffReport:
    old, new = load_snapshot(old_path), load_snapshot(new_path)
    languages = _snapshot_languages(new)
    migration = old.get("format_version") != new.get("format_version")
    before, after = _records(old), _records(new)
    report = DiffReport(Side(f"snapshot {old_path}"), Side(f"snapshot {new_path}"), languages)
    renamed_from: dict[str, str] = {}
    for key, record in after.items():
        for previous in record.get("previous_keys") or []:
            if previous in before and previous not in after:
                renamed_from[key] = previous
    taken = set(renamed_from.values())
    for key in sorted(set(before) | set(after)):
        if key in taken:
            continue
        a = before.get(renamed_from.get(key, key))
        b = after.get(key)
        a_live = a is not None and a.get("status") != "deleted"
        b_live = b is not None and b.get("status") != "deleted"
        if not a_live and not b_live:
            continue
        if a_live and not b_live:
            assert a is not None
            change = _change(key, _fields(a), None, languages)
        elif b_live and not a_live:
            assert b is not None
            change = _change(key, None, _fields(b), languages)
            if change is not None and a is not None:
                change.change = "restored"
        else:
            assert a is not None and b is not None
            change = _change(
                key, _fields(a), _fields(b), languages, migration, renamed_from.get(key, "")
            )
        if change is not None:
            report.changes.append(change)
    return report
