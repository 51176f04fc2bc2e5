"""Git plumbing for history and diffs: one ``git log`` pass and one ``cat-file --batch`` reader.

A registry with ten thousand disclosures and a few years of history must not start a process
per file per commit, so the log is read once (raw diffs, NUL-separated, renames detected) and
every blob goes through a single long-lived ``git cat-file --batch``.  Git runs with fixed
options (C locale, no quoting, no colour, no pager, full hashes) so the user's configuration
cannot change what is parsed.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sitegen.diagnostics import SitegenError

# Options that neutralise user configuration that would change log or diff output.
_CONFIG = (
    "-c",
    "core.quotepath=off",
    "-c",
    "color.ui=false",
    "-c",
    "log.showSignature=false",
    "-c",
    "diff.noprefix=false",
    "-c",
    "i18n.logOutputEncoding=UTF-8",
)


class GitUnavailable(SitegenError):
    """Git cannot answer for this folder; the message says why in words a user can act on."""

    code = 2


class NotARepository(GitUnavailable):
    pass


def _env() -> dict[str, str]:
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_EXTERNAL_DIFF", "GIT_PAGER"):
        env.pop(name, None)
    return env


@dataclass(frozen=True)
class RawChange:
    """One line of ``git log --raw``: a file changed by a commit."""

    status: str  # A, M, D, T, R, C (score dropped)
    old_blob: str
    new_blob: str
    path: str
    old_path: str | None = None


@dataclass(frozen=True)
class Commit:
    sha: str
    date: dt.datetime  # committer date, UTC
    subject: str
    changes: tuple[RawChange, ...]


class Git:
    """A repository found from any folder inside it."""

    def __init__(self, start: Path) -> None:
        self.start = start
        result = self.run("rev-parse", "--show-toplevel", cwd=start, check=False)
        if result.returncode != 0:
            text = result.stderr.decode("utf-8", "replace").strip()
            if "not a git repository" in text.lower():
                raise NotARepository(f"{start} is not in a git repository")
            raise GitUnavailable(f"git cannot read {start}: {_last_line(text)}")
        self.top = Path(result.stdout.decode("utf-8", "surrogateescape").strip())

    def run(
        self, *args: str, cwd: Path | None = None, check: bool = True, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        command = ["git", *_CONFIG, "--no-pager", *args]
        try:
            result = subprocess.run(
                command,
                cwd=cwd or self.top,
                env=_env(),
                input=stdin,
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            raise GitUnavailable(f"cannot run git: {exc.strerror}") from None
        if check and result.returncode != 0:
            text = result.stderr.decode("utf-8", "replace").strip()
            raise GitUnavailable(f"git {args[0]} failed: {_last_line(text)}")
        return result

    def prefix(self, folder: Path) -> str:
        """``folder`` as a path inside the repository ("" for its root)."""
        rel = folder.resolve().relative_to(self.top.resolve()).as_posix()
        return "" if rel == "." else rel

    def is_shallow(self) -> bool:
        out = self.run("rev-parse", "--is-shallow-repository").stdout.decode().strip()
        return out == "true"

    def has_commits(self) -> bool:
        return self.run("rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0

    def resolve(self, rev: str) -> str:
        """The commit a revision names; GitUnavailable when it names none."""
        if rev.startswith("-"):
            raise GitUnavailable(f"not a revision: {rev!r}")
        result = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if result.returncode != 0:
            raise GitUnavailable(f"unknown revision {rev!r}")
        return result.stdout.decode().strip()

    def continues(self, old: str, new: str) -> bool:
        """Whether commit ``new`` is ``old`` or descends from it along first parents, so
        that the first-parent log of ``new`` is that of ``old`` and then ``old..new``'s."""
        if old == new:
            return True
        if self.run("merge-base", "--is-ancestor", old, new, check=False).returncode != 0:
            return False
        listed = self.run("rev-list", "--first-parent", "--parents", f"{old}..{new}")
        lines = listed.stdout.decode().split("\n")
        oldest = next((line.split() for line in reversed(lines) if line.strip()), [])
        return len(oldest) >= 2 and oldest[1] == old

    def commit_before(self, moment: dt.datetime, head: str = "HEAD") -> str | None:
        """The last first-parent commit of ``head`` made before ``moment`` (None if none)."""
        stamp = str(int(moment.timestamp()) - 1)
        out = self.run(
            "rev-list", "-1", "--first-parent", f"--before={stamp}", head, "--"
        ).stdout.decode()
        return out.strip() or None

    def empty_tree(self) -> str:
        return self.run("hash-object", "-t", "tree", "--stdin", stdin=b"").stdout.decode().strip()

    def log(self, prefix: str, rev: str = "HEAD") -> list[Commit]:
        """Every first-parent commit that touched ``prefix``, oldest first, with raw changes."""
        return self.start_log(prefix, rev).result()

    def start_log(self, prefix: str, rev: str = "HEAD") -> PendingLog:
        """:meth:`log`, started now and read later: git works out the changes (a fifth of a
        second at 10,000 disclosures) while the caller does something else."""
        spec = f"{prefix}/" if prefix else "."
        return PendingLog(
            self,
            "log",
            "-z",
            "--raw",
            "-M",
            "--no-abbrev",
            "--no-decorate",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--first-parent",
            "-m",
            "--reverse",
            "--format=%x01%H%x00%ct%x00%s",
            rev,
            "--",
            spec,
        )

    def diff(self, old: str, new: str, prefix: str) -> list[RawChange]:
        """Files under ``prefix`` that differ between two trees, renames detected."""
        spec = f"{prefix}/" if prefix else "."
        out = self.run(
            "diff",
            "--raw",
            "-z",
            "-M",
            "--no-abbrev",
            "--no-ext-diff",
            "--no-textconv",
            old,
            new,
            "--",
            spec,
        ).stdout
        fields = out.decode("utf-8", "surrogateescape").split("\0")
        changes, _ = _raw_entries(fields, 0)
        return changes

    def tree_blob(self, rev: str, path: str) -> str | None:
        """The blob id of ``path`` at ``rev``, or None."""
        result = self.run("rev-parse", "--verify", "--quiet", f"{rev}:{path}", check=False)
        return result.stdout.decode().strip() or None if result.returncode == 0 else None


class PendingLog:
    """A ``git log`` running in the background.

    Its output goes to a temporary file rather than a pipe, so git runs to the end without
    anyone reading, and no thread is needed (the build forks worker processes meanwhile).
    """

    def __init__(self, git: Git, *args: str) -> None:
        self.args = args
        # Open until ``close``, which ``result`` calls: the object's own lifetime.
        self.out = tempfile.TemporaryFile()  # noqa: SIM115
        self.err = tempfile.TemporaryFile()  # noqa: SIM115
        command = ["git", *_CONFIG, "--no-pager", *args]
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command, cwd=git.top, env=_env(), stdout=self.out, stderr=self.err
            )
        except OSError as exc:
            self.close()
            raise GitUnavailable(f"cannot run git: {exc.strerror}") from None

    def result(self) -> list[Commit]:
        try:
            assert self.process is not None
            if self.process.wait() != 0:
                self.err.seek(0)
                text = self.err.read().decode("utf-8", "replace").strip()
                raise GitUnavailable(f"git {self.args[0]} failed: {_last_line(text)}")
            self.out.seek(0)
            return list(parse_log(self.out.read()))
        finally:
            self.close()

    def close(self) -> None:
        """Stop git if it still runs (a build that failed first) and drop its output."""
        process, self.process = getattr(self, "process", None), None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self.out.close()
        self.err.close()


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _raw_entries(fields: list[str], i: int) -> tuple[list[RawChange], int]:
    """Raw diff entries from position ``i`` until a commit header or the end."""
    changes: list[RawChange] = []
    while i < len(fields):
        head = fields[i].lstrip("\n")
        if not head.startswith(":"):
            break
        parts = head[1:].split(" ")
        old_blob, new_blob, status = parts[2], parts[3], parts[4][:1]
        if status in ("R", "C"):
            changes.append(RawChange(status, old_blob, new_blob, fields[i + 2], fields[i + 1]))
            i += 3
        else:
            changes.append(RawChange(status, old_blob, new_blob, fields[i + 1]))
            i += 2
    return changes, i


def parse_log(out: bytes) -> Iterator[Commit]:
    """Parse ``--format=%x01%H%x00%ct%x00%s -z --raw`` output (paths are positional)."""
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    i = 0
    while i < len(fields):
        head = fields[i].lstrip("\n")
        if not head.startswith("\x01"):
            i += 1  # the trailing empty field
            continue
        sha, stamp, subject = head[1:], fields[i + 1], fields[i + 2]
        changes, i = _raw_entries(fields, i + 3)
        when = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
        yield Commit(sha, when, subject.strip(), tuple(changes))


class BlobReader:
    """``git cat-file --batch`` for many blobs through one process, streamed.

    A writer thread feeds the ids while the caller reads, so neither side can fill a pipe
    and wait on the other.
    """

    def __init__(self, git: Git) -> None:
        self.git = git

    def read(self, blobs: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
        wanted = list(dict.fromkeys(blobs))
        if not wanted:
            return
        command = ["git", *_CONFIG, "cat-file", "--batch"]
        try:
            proc = subprocess.Popen(
                command,
                cwd=self.git.top,
                env=_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise GitUnavailable(f"cannot run git: {exc.strerror}") from None
        assert proc.stdin is not None and proc.stdout is not None
        stdin, stdout = proc.stdin, proc.stdout

        def feed() -> None:
            try:
                for blob in wanted:
                    stdin.write(blob.encode() + b"\n")
                stdin.close()
            except (BrokenPipeError, ValueError):
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:
            for blob in wanted:
                header = stdout.readline().decode("ascii", "replace").split()
                if len(header) < 2:
                    raise GitUnavailable("git cat-file stopped unexpectedly")
                if header[1] == "missing" or len(header) < 3:
                    yield blob, None
                    continue
                size = int(header[2])
                data = stdout.read(size)
                stdout.read(1)  # the newline after the content
                yield blob, data if header[1] == "blob" else None
        finally:
            writer.join(timeout=5)
            stdout.close()
            proc.wait()
