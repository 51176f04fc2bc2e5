"""Write stage: stream files into a staging folder, then put them in place.

A build that fails or is killed never leaves a half-written site: files go to a sibling
staging folder first.  Two ways to finish:

* **swap** (a first build, or whenever the previous output cannot be trusted): the staging
  folder holds the whole site and replaces the output.  On Linux the swap is a single
  ``renameat2(RENAME_EXCHANGE)`` call, so at every instant the output path holds either the
  old site or the new one; elsewhere it falls back to two renames (a window of a few
  microseconds).  The standard library has no atomic directory exchange, hence the small
  ctypes call.
* **update** (a rebuild into a folder this code made, whose file list the cache holds): the
  staging folder holds only new and changed files; each is renamed over its old version (an
  atomic replacement per file), then files the new site no longer has are deleted.  Nothing
  in the output is touched until every file is ready, so a failed build leaves the old site.
  The marker file says "updating" while files move; if the build is killed in those
  milliseconds, the next build sees it and rewrites the whole site by a swap.

Which files belong to which provider's unit (``sitegen.units``), with the units' keys and a
digest of every other file, is the *manifest*; the pipeline keeps it in the cache, keyed by
the output folder, and the marker names the build it describes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

from sitegen.diagnostics import OutputError

MARKER = ".sitegen-output"
MARKER_TEXT = "built by sitegen; replaced or updated whole on rebuild\n"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories; False when the platform cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), ctypes.c_uint(_RENAME_EXCHANGE)
    )
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _alive(pid: str) -> bool:
    """Whether the build that owns a staging folder is still running."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return int(pid) != os.getpid()


def _check_output(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise OutputError(
            f"output folder {out} exists and was not made by sitegen; "
            "refusing to replace it (choose another --out or remove it)"
        )


Part = bytes | memoryview  # of a file written in parts (``Sink.put_parts``)


def marker_build(out: Path) -> str | None:
    """The build id a finished build wrote into the marker (None while updating or unknown)."""
    try:
        lines = (out / MARKER).read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        if line.startswith("build "):
            return line.removeprefix("build ").strip() or None
    return None


@dataclass
class UnitFiles:
    """The files of one unit (``sitegen.units``) in the finished site, as the manifest keeps
    them: the paths as one string, their number and how many are pages.

    A rebuild carries 10,000 units over from the last build and changes a few: splitting and
    joining 170,000 paths again took it a tenth of a second.  The list of paths is made only
    when asked for (the deleted files are looked for among the units that changed, and a
    sitemap is made again for the providers whose units changed).
    """

    key: str
    listing: str  # the paths, joined by NULs (no path holds one)
    count: int  # files
    pages: int  # HTML pages among them
    written: int = 0  # files written by this build (0 when the unit was kept as it was)
    bytes: int = 0  # their total size (when kept: as last written)

    @classmethod
    def of(cls, key: str, paths: list[str], written: int = 0, size: int = 0) -> UnitFiles:
        pages = sum(1 for p in paths if p.endswith(".html"))
        return cls(key, "\0".join(paths), len(paths), pages, written, size)

    @cached_property
    def paths(self) -> list[str]:
        return self.listing.split("\0") if self.listing else []


@dataclass
class Manifest:
    """What a finished output folder holds: units by name, other files by digest."""

    build: str
    units: dict[str, UnitFiles] = field(default_factory=dict)
    shared: dict[str, tuple[str, int]] = field(default_factory=dict)  # path -> (digest, size)

    def to_data(self) -> tuple[dict[str, tuple[str, str, int, int, int]], dict[str, Any]]:
        """The units' entries, by name, and the rest: stored apart (``sitegen.cache.Sharded``),
        so a rebuild rewrites the entries of the few units that changed."""
        units = {
            pid: (u.key, u.listing, u.count, u.pages, u.bytes) for pid, u in self.units.items()
        }
        return units, {"build": self.build, "shared": self.shared}

    @classmethod
    def from_data(cls, units: Any, rest: Any) -> Manifest | None:
        """None when the data is not a manifest's (then the output is replaced)."""
        if not isinstance(units, dict) or not isinstance(rest, dict):
            return None
        try:
            files: dict[str, UnitFiles] = {}
            for pid, (key, listing, count, pages, size) in units.items():
                if not (isinstance(key, str) and isinstance(listing, str)):
                    return None
                files[pid] = UnitFiles(key, listing, int(count), int(pages), 0, int(size))
            return cls(str(rest["build"]), files, dict(rest["shared"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def _safe(path: str) -> None:
    if path.startswith("/") or ".." in path.split("/") or not path or "\0" in path:
        raise OutputError(f"refusing to write outside the output folder: {path!r}")


class Sink:
    """Writes files under a staging folder (in the build process or a forked worker)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written = 0
        self.bytes_written = 0
        self._dirs: set[Path] = set()

    def fresh(self) -> Sink:
        """A sink on the same folder with its own counts (one per unit)."""
        return Sink(self.root)

    def put(self, path: str, data: bytes) -> str:
        return self.put_parts(path, [data])

    def put_parts(self, path: str, parts: Sequence[Part]) -> str:
        """Write a file from its parts in turn (a large file is never joined in memory)."""
        _safe(path)
        target = self.root / path
        parent = target.parent
        try:
            if parent not in self._dirs:
                parent.mkdir(parents=True, exist_ok=True)
                self._dirs.add(parent)
            with open(target, "wb") as file:
                for part in parts:
                    file.write(part)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        self.written += 1
        self.bytes_written += sum(len(part) for part in parts)
        return path


class SiteWriter:
    """``with SiteWriter(out) as w: w.write(path, data)`` - put in place only on a clean exit.

    With ``previous`` (the manifest of the build that made ``out``, when the marker agrees),
    the writer updates: unchanged units are kept (``reuse``) and unchanged files not written.
    """

    def __init__(self, out: Path, previous: Manifest | None = None) -> None:
        self.out = out.resolve()
        self.staging = self.out.parent / f".{self.out.name}.tmp-{os.getpid()}"
        self.previous = previous
        self.sink = Sink(self.staging)
        self.units: dict[str, UnitFiles] = {}
        self.shared: dict[str, tuple[str, int]] = {}
        self.build = ""  # set by the pipeline before the writer finishes (see ``finish``)
        self.elsewhere = 0  # files other than units' written by other processes

    @property
    def updating(self) -> bool:
        return self.previous is not None

    @property
    def count(self) -> int:
        return len(self.shared) + sum(u.count for u in self.units.values())

    @property
    def size(self) -> int:
        return sum(size for _, size in self.shared.values()) + sum(
            u.bytes for u in self.units.values()
        )

    @property
    def written(self) -> int:
        return self.sink.written + self.elsewhere + sum(u.written for u in self.units.values())

    def __enter__(self) -> SiteWriter:
        _check_output(self.out)
        if self.previous is not None and (
            not self.out.is_dir() or marker_build(self.out) != self.previous.build
        ):
            self.previous = None  # the folder is not what the manifest describes
        self.out.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.out.parent.glob(f".{self.out.name}.*-*"):
            if not _alive(stale.name.rsplit("-", 1)[-1]):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed build
        try:
            self.staging.mkdir()
        except OSError as exc:
            raise OutputError(f"cannot create {self.staging}: {exc.strerror}") from None
        return self

    def write(self, path: str, data: bytes) -> None:
        """A file outside the units; in an update, written only when its bytes changed."""
        path, digest, size, _ = self.stage(path, data, self.sink)  # ``sink`` counts it
        self.record(path, digest, size)

    def stage(self, path: str, data: bytes, sink: Sink) -> tuple[str, str, int, int]:
        """Put a file outside the units into the staging folder through ``sink`` (a forked
        worker's own), unless the previous site has the same bytes; (path, digest, size,
        files written) for :meth:`record` in the build process."""
        return self.stage_parts(path, [data], sink)

    def stage_parts(
        self, path: str, parts: Sequence[Part], sink: Sink
    ) -> tuple[str, str, int, int]:
        """:meth:`stage` for a file given in parts, in order."""
        _safe(path)
        hasher = hashlib.blake2b(digest_size=16)
        for part in parts:
            hasher.update(part)
        digest, size = hasher.hexdigest(), sum(len(part) for part in parts)
        if self.previous is not None and self.previous.shared.get(path, ("",))[0] == digest:
            return path, digest, size, 0
        sink.put_parts(path, parts)
        return path, digest, size, 1

    def record(self, path: str, digest: str, size: int, written_elsewhere: int = 0) -> None:
        """A file :meth:`stage` put in place; ``written_elsewhere``: by another process."""
        self.shared[path] = (digest, size)
        self.elsewhere += written_elsewhere

    def copy(self, path: str, source: Path) -> None:
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise OutputError(f"cannot read {source}: {exc.strerror}") from None
        self.write(path, data)

    def keep(self, path: str) -> bool:
        """Keep a file outside the units as the previous site has it, without its bytes
        (whoever calls knows they would be the same); False if there is none to keep."""
        found = self.previous.shared.get(path) if self.previous is not None else None
        if found is None:
            return False
        self.shared[path] = found
        return True

    def reuse(self, name: str, key: str) -> UnitFiles | None:
        """The unit's files as the previous build left them, if its key is unchanged."""
        if self.previous is None:
            return None
        old = self.previous.units.get(name)
        if old is None or old.key != key:
            return None
        return replace(old, written=0)

    def add_unit(self, name: str, files: UnitFiles) -> None:
        self.units[name] = files

    def manifest(self) -> Manifest:
        return Manifest(self.build, dict(self.units), dict(self.shared))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            return
        try:
            if self.previous is not None:
                self._update(self.previous)
            else:
                self._write_marker(self.staging, self.build)
                self._swap()
        except OSError as error:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise OutputError(f"cannot replace {self.out}: {error.strerror}") from None

    @staticmethod
    def _write_marker(folder: Path, build: str) -> None:
        text = MARKER_TEXT + (f"build {build}\n" if build else "updating\n")
        (folder / MARKER).write_text(text, "utf-8")

    def _update(self, previous: Manifest) -> None:
        """Move the staged files over the old ones, then delete what the site no longer has."""
        self._write_marker(self.out, "")
        made: set[Path] = set()
        staged = sorted(
            (p for p in self.staging.rglob("*") if not p.is_dir()),
            key=lambda p: (p.suffix == ".html", p.as_posix()),  # pages last: their links exist
        )
        for source in staged:
            target = self.out / source.relative_to(self.staging)
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            os.replace(source, target)
        gone = sorted(self._gone(previous), reverse=True)
        for path in gone:
            (self.out / path).unlink(missing_ok=True)
        for folder in sorted({(self.out / p).parent for p in gone}, reverse=True):
            while folder != self.out:
                try:
                    folder.rmdir()  # only if empty
                except OSError:
                    break
                folder = folder.parent
        self._write_marker(self.out, self.build)
        shutil.rmtree(self.staging, ignore_errors=True)

    def _gone(self, previous: Manifest) -> set[str]:
        """The previous site's files this one no longer has.

        A kept unit (same key) has the same files as before, so only the files of units that
        changed or went, and the other files, can be gone; a file one changed unit lost may
        have moved to another.  (Comparing every path of both sites took a rebuild 0.1 s.)
        """
        was: set[str] = set(previous.shared)
        now: set[str] = set(self.shared)
        for name, before in previous.units.items():
            after = self.units.get(name)
            if after is None or after.key != before.key:
                was.update(before.paths)
        for name, after in self.units.items():
            found = previous.units.get(name)
            if found is None or after.key != found.key:
                now.update(after.paths)
        return was - now

    def _swap(self) -> None:
        if not self.out.exists():
            os.rename(self.staging, self.out)
            return
        if _exchange(self.staging, self.out):
            shutil.rmtree(self.staging, ignore_errors=True)  # now holds the old site
            return
        old = self.out.parent / f".{self.out.name}.old-{os.getpid()}"
        os.rename(self.out, old)
        os.rename(self.staging, self.out)
        shutil.rmtree(old, ignore_errors=True)
