"""The synthetic registry as a git repository, written in one ``git fast-import`` stream.

Every version of every file goes into the stream as a blob and each version becomes one commit
with a fixed date and author, so the repository is the same on every run and takes seconds
even at 10,000 disclosures x 3 versions (no working-tree churn, no loose objects).  Only the
last version is written to the working tree, where the build reads it.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sitegen.bench.generate import LAST_VERSION, Synthetic, provider_count
from sitegen.bench.yamltext import SITE_YAML, algorithm_yaml, provider_yaml

SOURCE = "disclosures"  # the registry folder inside the generated repository
AUTHOR = "Registry Bot <bot@algorithms.example.org>"
CHINA = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Generated:
    repo: Path
    source: Path
    disclosures: int
    providers: int
    versions: int
    commits: int
    files: int  # in the working tree: site.yaml, provider.yaml files and disclosures
    bytes: int  # of the working tree's YAML (the last version)
    seconds: float


def git_env() -> dict[str, str]:
    """Git without the user's or the system's configuration, and with a fixed identity."""
    name, email = AUTHOR[: AUTHOR.index(" <")], AUTHOR[AUTHOR.index("<") + 1 : -1]
    return {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }


def git(repo: Path, *args: str, date: dt.date | None = None) -> str:
    env = git_env()
    if date is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = _stamp(date)
    done = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _stamp(date: dt.date) -> str:
    moment = dt.datetime.combine(date, dt.time(10), CHINA)
    return f"{int(moment.timestamp())} +0800"


class _Stream:
    """Writes the fast-import commands; blobs get numbered marks."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.marks = 0

    def blob(self, data: bytes) -> int:
        self.marks += 1
        self.out.write(b"blob\nmark :%d\ndata %d\n%b\n" % (self.marks, len(data), data))
        return self.marks

    def commit(self, message: str, date: dt.date, files: list[tuple[str, int]]) -> None:
        text = message.encode()
        stamp = _stamp(date).encode()
        head = b"commit refs/heads/main\nauthor %b %b\ncommitter %b %b\ndata %d\n%b\n" % (
            AUTHOR.encode(),
            stamp,
            AUTHOR.encode(),
            stamp,
            len(text),
            text,
        )
        self.out.write(head)
        self.out.write(b"".join(b"M 100644 :%d %b\n" % (m, p.encode()) for p, m in files))
        self.out.write(b"\n")


def generate(
    repo: Path, n: int = 10_000, providers: int | None = None, versions: int = 3, seed: int = 1
) -> Generated:
    """Write the registry into a new git repository at ``repo`` (which must not exist)."""
    if n < 1 or versions < 1:
        raise ValueError("need at least one disclosure and one version")
    started = time.perf_counter()
    providers = provider_count(n, providers)
    source = repo / SOURCE
    source.mkdir(parents=True)  # refuses an existing folder: nothing is ever overwritten
    git(repo, "init", "-q", "-b", "main")
    content = Synthetic(n, providers, versions, seed)
    changed: list[list[tuple[str, int]]] = [[] for _ in range(versions)]
    size, files = 0, 0
    importer = subprocess.Popen(
        ["git", "-C", str(repo), "fast-import", "--quiet", "--done"],
        stdin=subprocess.PIPE,
        env=git_env(),
    )
    assert importer.stdin is not None
    stream = _Stream(importer.stdin)
    try:

        def put(path: str, data: bytes, version: int, last: bool) -> None:
            nonlocal size, files
            changed[version].append((f"{SOURCE}/{path}", stream.blob(data)))
            if last:
                (source / path).write_bytes(data)
                size, files = size + len(data), files + 1

        put("site.yaml", SITE_YAML.encode(), 0, True)
        for provider in content.providers:
            (source / provider["id"]).mkdir()
            put(f"{provider['id']}/provider.yaml", provider_yaml(provider).encode(), 0, True)
        for i in range(n):
            path = content.path(i)
            for version, data in enumerate(content.published(i)):
                put(path, algorithm_yaml(data).encode(), version, version == versions - 1)
        for version, date in enumerate(content.dates):
            stream.commit(
                f"Publish version {version + 1} of every disclosure", date, changed[version]
            )
        importer.stdin.write(b"done\n")
    finally:
        importer.stdin.close()  # on an error too: fast-import then stops instead of waiting
        status = importer.wait()
    if status != 0:
        raise RuntimeError(f"git fast-import failed with status {status}")
    git(repo, "reset", "-q")  # the index matches the working tree we wrote
    seconds = time.perf_counter() - started
    return Generated(repo, source, n, providers, versions, versions, files, size, seconds)


def change_one(source: Path, run: int) -> Path:
    """Change one disclosure the way a provider's pull request would, and commit it.

    The first algorithm file in path order gets a new change note; ``run`` makes each call's
    change distinct, so every incremental build sees new content.
    """
    repo = source.parent
    first = min(p for p in source.glob("*/*.yaml") if p.name != "provider.yaml")
    text = first.read_text("utf-8")
    head, sep, _old = text.partition("change_note:\n")  # the generator writes it last
    note = (
        f"change_note:\n  zh: 第 {run} 次修订：更正了运行机制说明中的错别字。\n"
        f'  en: "Revision {run}: corrected a typo in the description of the mechanism."\n'
    )
    first.write_text(head + note if sep else text + note, "utf-8")
    git(repo, "add", "--", str(first.relative_to(repo)))
    message = f"Revise {first.relative_to(source)} ({run})"
    git(
        repo,
        "commit",
        "-q",
        "--no-verify",
        "-m",
        message,
        date=LAST_VERSION + dt.timedelta(days=1 + run),
    )
    return first
