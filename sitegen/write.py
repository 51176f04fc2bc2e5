"""Write stage: stream files into a fresh folder, then swap it in whole.

A build that fails or is killed never leaves a half-written site: files go to a sibling
staging folder, and only a complete one replaces the output.  On Linux the swap is a single
``renameat2(RENAME_EXCHANGE)`` call, so at every instant the output path holds either the old
site or the new one; elsewhere it falls back to two renames (a window of a few microseconds).
The standard library has no atomic directory exchange, hence the small ctypes call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import shutil
import sys
from pathlib import Path
from types import TracebackType

from sitegen.diagnostics import OutputError

MARKER = ".sitegen-output"
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


class SiteWriter:
    """``with SiteWriter(out) as w: w.write(path, data)`` - replaced only on a clean exit."""

    def __init__(self, out: Path) -> None:
        self.out = out.resolve()
        self.staging = self.out.parent / f".{self.out.name}.tmp-{os.getpid()}"
        self.count = 0
        self.bytes = 0
        self._dirs: set[Path] = set()

    def __enter__(self) -> SiteWriter:
        _check_output(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.out.parent.glob(f".{self.out.name}.*-*"):
            if not _alive(stale.name.rsplit("-", 1)[-1]):
                shutil.rmtree(stale, ignore_errors=True)  # left by a killed build
        try:
            self.staging.mkdir()
            (self.staging / MARKER).write_text("built by sitegen; replaced whole on rebuild\n")
        except OSError as exc:
            raise OutputError(f"cannot create {self.staging}: {exc.strerror}") from None
        return self

    def write(self, path: str, data: bytes) -> None:
        if path.startswith("/") or ".." in path.split("/"):
            raise OutputError(f"refusing to write outside the output folder: {path}")
        target = self.staging / path
        parent = target.parent
        try:
            if parent not in self._dirs:
                parent.mkdir(parents=True, exist_ok=True)
                self._dirs.add(parent)
            target.write_bytes(data)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        self.count += 1
        self.bytes += len(data)

    def copy(self, path: str, source: Path) -> None:
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise OutputError(f"cannot read {source}: {exc.strerror}") from None
        self.write(path, data)

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
            self._swap()
        except OSError as error:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise OutputError(f"cannot replace {self.out}: {error.strerror}") from None

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
