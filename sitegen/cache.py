"""The build cache: results keyed by what they were computed from, so a rebuild skips them.

Every entry is found by a key that digests *all* of its inputs (file bytes, the settings it
was computed with), so a stale entry is never found rather than found and distrusted.  What
no key can see - the code and library versions - is folded into the store's own name
(:func:`code_fingerprint`): a new version of sitegen, of pydantic or of Python opens a new,
empty store and removes the old ones.

The store is one SQLite file (the standard library's ``sqlite3``): many small entries read in
one query, writes that are atomic and safe while another build reads, and nothing half-written
after a crash.  Values are pickled, so the cache folder must be trusted like the code itself
(it is the user's own cache folder; see docs/security.md).  Any problem with it - a corrupt
file, a read-only disk - turns the cache off for the build with a note, and the build goes on
from scratch: a cache may make a build faster, never different or failed.

Where: ``$SITEGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/sitegen``, else ``~/.cache/sitegen``;
``SITEGEN_CACHE_DIR=off`` (or ``--no-cache``) disables it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sqlite3
import sys
import zlib
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

SCHEMA = 1
# Libraries whose behaviour shapes cached results; their versions are part of the fingerprint.
LIBRARIES = (
    "pydantic",
    "pydantic-core",
    "PyYAML",
    "Jinja2",
    "MarkupSafe",
    "markdown-it-py",
    "lunr",
)
_CHUNK = 500  # keys per SQL query (SQLite allows 32,766 parameters)
_SCAN_MIN = 2000  # keys wanted at once from which a namespace is read whole and filtered


def cache_dir() -> Path | None:
    """The cache folder from the environment, or None when caching is turned off."""
    chosen = os.environ.get("SITEGEN_CACHE_DIR")
    if chosen is not None:
        if chosen.strip().lower() in ("", "off", "0", "none"):
            return None
        return Path(chosen)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "sitegen"


@cache
def code_fingerprint() -> str:
    """Digest of sitegen's own source, the Python version and the libraries' versions."""
    digest = hashlib.sha256(f"schema {SCHEMA}\n{sys.version}\n".encode())
    for name in LIBRARIES:
        try:
            digest.update(f"{name} {metadata.version(name)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} -\n".encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def digest(*parts: str | bytes) -> str:
    """A key from several parts; each is length-prefixed, so no two part lists collide."""
    out = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        out.update(b"%d:" % len(data))
        out.update(data)
    return out.hexdigest()


# How long a write waits for another process's (the build's workers share the store).
BUSY_SECONDS = 30.0


class Cache:
    """A key-value store in namespaces (``parse``, ``search``, ``pages`` …).

    ``Cache.open()`` returns a working store or a disabled one (``enabled`` False) whose reads
    find nothing and whose writes do nothing; ``note`` says why it is disabled, if it is not by
    choice.
    """

    def __init__(self, path: Path | None, note: str = "") -> None:
        self.path = path
        self.note = note
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._forked: Cache | None = None  # this store on a forked worker's own connection
        if path is not None:
            self._connect(path)

    @classmethod
    def open(cls, folder: Path | None = None, enabled: bool = True) -> Cache:
        if not enabled:
            return cls(None)
        folder = folder if folder is not None else cache_dir()
        if folder is None:
            return cls(None)
        name = f"cache-{code_fingerprint()[:20]}.sqlite"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("cache-*.sqlite*"):
                if not old.name.startswith(name):
                    old.unlink(missing_ok=True)  # written by another version of the code
        except OSError as exc:
            return cls(None, f"cache off: cannot use {folder}: {exc.strerror}")
        return cls(folder / name)

    def _connect(self, path: Path) -> None:
        try:
            db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS entry ("
                "ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, "
                "PRIMARY KEY (ns, key)) WITHOUT ROWID"
            )
            # The keys alone, for counting and pruning a namespace (``keep_only``): through
            # the table itself that reads every value, 0.18 s for 30,000 stored versions.
            db.execute("CREATE INDEX IF NOT EXISTS entry_keys ON entry (ns, key)")
            self._db = db
        except sqlite3.Error as exc:
            self._fail(exc)

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _fail(self, exc: Exception) -> None:
        """Turn the cache off for the rest of the build; a broken file is removed."""
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None
        self.note = f"cache off: {self.path}: {exc}"
        # A damaged file is removed; a busy one (another build holding a lock past the
        # timeout: OperationalError) is someone else's good store and is left alone.
        damaged = isinstance(exc, sqlite3.DatabaseError) and not isinstance(
            exc, sqlite3.OperationalError
        )
        if damaged and self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def get_many(self, namespace: str, keys: Iterable[str]) -> dict[str, Any]:
        """The entries found among ``keys`` (missing and unreadable ones are left out)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, Any] = {}
        if self._db is None or not wanted:
            self.misses += len(wanted)
            return found
        try:
            for rows in self._rows(namespace, wanted):
                for key, value in rows:
                    try:
                        found[key] = pickle.loads(value)
                    except Exception:  # an unreadable entry is only a miss
                        continue
        except sqlite3.Error as exc:
            self._fail(exc)
            return {}
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def _rows(self, namespace: str, wanted: list[str]) -> Iterator[Iterable[tuple[str, bytes]]]:
        """The stored rows among ``wanted``, a query at a time.

        Many keys are read in one pass over the namespace (the table is ordered by it) and
        filtered here: a build asks for nearly every row of a namespace at once, and one
        ordered scan takes a third less time than looking up 10,000 keys one by one.  (The
        namespaces asked for whole are pruned by ``keep_only`` on every build, so a scan
        does not wade through old entries.)
        """
        assert self._db is not None
        if len(wanted) >= _SCAN_MIN:
            keys = set(wanted)
            rows = self._db.execute("SELECT key, value FROM entry WHERE ns = ?", (namespace,))
            yield ((key, value) for key, value in rows if key in keys)
            return
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            yield self._db.execute(
                f"SELECT key, value FROM entry WHERE ns = ? AND key IN ({marks})",
                (namespace, *chunk),
            )

    def get(self, namespace: str, key: str) -> Any | None:
        return self.get_many(namespace, [key]).get(key)

    def put_many(self, namespace: str, items: Iterable[tuple[str, Any]]) -> None:
        if self._db is None:
            return
        rows = [
            (namespace, key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            for key, value in items
        ]
        if not rows:
            return
        try:
            with self._transaction() as db:
                db.executemany("INSERT OR REPLACE INTO entry VALUES (?, ?, ?)", rows)
        except sqlite3.Error as exc:
            self._fail(exc)

    def put(self, namespace: str, key: str, value: Any) -> None:
        self.put_many(namespace, [(key, value)])

    def keep_only(self, namespace: str, keys: Iterable[str]) -> None:
        """Drop a namespace's other entries (results for content that no longer exists)."""
        if self._db is None:
            return
        kept = set(keys)
        try:
            (count,) = self._db.execute(
                "SELECT count(*) FROM entry WHERE ns = ?", (namespace,)
            ).fetchone()
            if count <= len(kept):
                # The namespace holds no more entries than are kept, which were all just read
                # or written: nothing to drop, and a rebuild skips the work.  (Were some kept
                # key never stored, an unused entry would stay until the count shows it.)
                return
            with self._transaction() as db:
                db.execute("CREATE TEMP TABLE IF NOT EXISTS kept (key TEXT PRIMARY KEY)")
                db.execute("DELETE FROM kept")
                db.executemany("INSERT OR IGNORE INTO kept VALUES (?)", ((k,) for k in kept))
                db.execute(
                    "DELETE FROM entry WHERE ns = ? AND key NOT IN (SELECT key FROM kept)",
                    (namespace,),
                )
        except sqlite3.Error as exc:
            self._fail(exc)

    def _transaction(self) -> _Transaction:
        assert self._db is not None
        return _Transaction(self._db)

    def close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reopened(self) -> Cache:
        """The same store on a new connection, for a forked worker (connections do not
        survive a fork); a disabled cache stays disabled."""
        return Cache(self.path if self.enabled else None, self.note)

    def here(self) -> Cache:
        """This store as the calling process may use it: itself in the process that opened
        it, else (a forked worker) one new connection of the worker's own, kept for later
        calls."""
        if self._pid == os.getpid():
            return self
        if self._forked is None or self._forked._pid != os.getpid():
            self._forked = self.reopened()
        return self._forked


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


SHARDS = 64  # parts of a Sharded entry


class Sharded:
    """A large dict kept in a cache as ``SHARDS`` entries, each item in the one its key's
    CRC-32 picks, with a head entry naming the version of each.

    Builds keep a few dicts of 10,000 to 30,000 items (the source files' status records, the
    output's file list, the history ledgers) of which a rebuild changes a handful.  Pickled
    and written whole, they cost a rebuild a quarter of a second; now only the shards that
    changed are.  Loading reads every shard in one query.

    ``complete`` is True only when every shard the head names was found: a caller that must
    know the whole dict (the output's file list, to delete what a site no longer has) checks
    it; the others treat a missing item as work to do again.  ``extra`` is a small value kept
    in the head (written with the shards, in one transaction).
    """

    def __init__(self, cache: Cache | None, namespace: str, name: str) -> None:
        self.cache = cache if cache is not None and cache.enabled else None
        self.namespace, self.name = namespace, name
        self.entries: dict[str, Any] = {}
        self.extra: Any = None
        self.complete = False
        self._shards: list[dict[str, Any] | None] = [None] * SHARDS  # as stored; None: absent
        self._tokens: list[str] = [""] * SHARDS
        if self.cache is not None:
            self._load(self.cache)

    def _key(self, shard: int) -> str:
        return f"{self.name}#{shard}"

    def _load(self, cache: Cache) -> None:
        found = cache.get_many(self.namespace, [self.name, *map(self._key, range(SHARDS))])
        head = found.get(self.name)
        if not (isinstance(head, tuple) and len(head) == 2 and isinstance(head[0], tuple)):
            return
        tokens, self.extra = head
        if len(tokens) != SHARDS:
            return
        complete = True
        for shard, token in enumerate(tokens):
            stored = found.get(self._key(shard))
            match stored:
                case (str() as found_token, dict() as items) if found_token == token:
                    self._shards[shard], self._tokens[shard] = items, token
                    self.entries.update(items)
                case _:
                    complete = False
        self.complete = complete

    def save(self, entries: dict[str, Any], extra: Any = None) -> None:
        """Keep ``entries`` (and ``extra``), writing the shards that differ from what was
        loaded or last saved."""
        if self.cache is None:
            return
        shards: list[dict[str, Any]] = [{} for _ in range(SHARDS)]
        for key, value in entries.items():
            shards[zlib.crc32(key.encode("utf-8", "surrogateescape")) % SHARDS][key] = value
        changed: list[tuple[str, Any]] = []
        for shard, items in enumerate(shards):
            if items != self._shards[shard]:
                token = os.urandom(8).hex()
                changed.append((self._key(shard), (token, items)))
                self._shards[shard], self._tokens[shard] = items, token
        if changed or extra != self.extra or not self.complete:
            changed.append((self.name, (tuple(self._tokens), extra)))
            self.cache.put_many(self.namespace, changed)
        self.entries, self.extra, self.complete = dict(entries), extra, True
