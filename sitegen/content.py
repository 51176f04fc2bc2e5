"""A disclosure file's content at one commit: parsed, validated and compared as the build would.

History and ``diff`` read files from git, not from disk, so this module runs the load stage's
parser and the format's models on bytes.  A file that no longer validates keeps its text, its
parsed YAML and the reason.  Parsing is the expensive part of reading a long history, so a
large batch is spread over worker processes.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, TypeVar

from pydantic import ValidationError

from sitegen.diagnostics import Report
from sitegen.diff import Diff, diff_disclosures
from sitegen.load import Kind, SourceDoc, YamlProblem, decode, parse_yaml
from sitegen.model import Algorithm
from sitegen.validate import report_validation_error
from sitegen.workers import worker_count

T = TypeVar("T")

CHUNK = 250


@dataclass
class Parsed:
    """One file's content read under today's format."""

    data: dict[str, Any] | None  # validated, JSON-ready; None when it does not validate
    plain: Any  # the parsed YAML, for a best-effort diff of an invalid version
    raw: str  # the text, kept only when ``data`` is None
    problem: str  # why it does not validate

    @property
    def content(self) -> dict[str, Any]:
        """What is compared: the validated data, else the parsed YAML (else nothing)."""
        value = self.data if self.data is not None else self.plain
        return value if isinstance(value, dict) else {}


def compare(before: Parsed, after: Parsed, languages: list[str]) -> Diff | None:
    """The diff between two contents, or None when they are the same version.

    Equal data is the common case and costs one comparison; otherwise the semantic diff
    decides, so a reordering or a re-indented file is not a new version.
    """
    if before.data is not None and after.data is not None:
        if before.data == after.data:
            return None
        diff = diff_disclosures(before.data, after.data, languages)
        return diff if diff.changes else None
    if before.data is None and after.data is None and before.plain is None and after.plain is None:
        if before.raw == after.raw:
            return None
        return Diff(migration=True)  # two unparsable texts: only the text changed
    diff = diff_disclosures(before.content, after.content, languages, migration=True)
    both_invalid = before.data is None and after.data is None
    return None if both_invalid and not diff.changes else diff


def _first_problem(report: Report) -> str:
    items = list(report)
    if not items:
        return "does not validate"
    first = items[0]
    where = f"line {first.line}: " if first.line > 1 else ""
    what = f"{first.field}: {first.message}" if first.field else first.message
    more = f" (and {len(items) - 1} more)" if len(items) > 1 else ""
    return f"{where}{what}{more}"


def parse_algorithm(
    raw: bytes | str, path: str, context: dict[str, Any], plain: Any = None
) -> Parsed:
    """Parse and validate one algorithm file's content as the build would, without a disk."""
    pure = PurePosixPath(path)
    stem, provider_id = pure.stem, pure.parent.name
    positions: dict[Any, tuple[int, int]] = {}
    key_positions: dict[Any, tuple[int, int]] = {}
    try:
        text = decode(raw) if isinstance(raw, bytes) else raw
        if plain is None:
            plain, positions, key_positions = parse_yaml(text)
    except YamlProblem as exc:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        problem = f"line {exc.line}: {exc.message}" if exc.line > 1 else exc.message
        return Parsed(None, None, text, problem)
    if not isinstance(plain, dict):
        return Parsed(None, plain, text, "the file is not a mapping")
    data = dict(plain)
    given = data.setdefault("id", stem)
    problem = ""
    if given != stem:
        problem = f"id: id '{given}' does not match the file name '{stem}'"
    else:
        doc = SourceDoc(path, Kind.ALGORITHM, provider_id, stem, data, "", positions, key_positions)
        try:
            model = Algorithm.model_validate(data, context=context)
            dump = model.model_dump(mode="json")
            return Parsed(dump, None, "", "")
        except ValidationError as exc:
            report = Report()
            report_validation_error(doc, Algorithm, exc, report)
            problem = _first_problem(report)
    return Parsed(None, plain, text, problem)


def _parse_chunk(items: list[tuple[bytes, str]], context: dict[str, Any]) -> list[Parsed]:
    return [parse_algorithm(raw, path, context) for raw, path in items]


def encode(parsed: Parsed) -> bytes:
    """``parsed`` as bytes for the build cache: JSON, which loads about twice as fast as a
    pickle of the same plain data.

    Validated data is a JSON-mode dump, so JSON keeps it exactly; anything else (parsed YAML
    of an invalid version, which is rare) is checked to survive the round trip, else pickled.
    """
    fields = [parsed.data, parsed.plain, parsed.raw, parsed.problem]
    try:
        text = json.dumps(fields, ensure_ascii=False, allow_nan=False)
        if parsed.plain is None or json.loads(text) == fields:
            return b"J" + text.encode()
    except (TypeError, ValueError):
        pass
    return b"P" + pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL)


def decode_parsed(blob: bytes) -> Parsed | None:
    """What :func:`encode` wrote, or None for anything else (a stale or damaged entry)."""
    try:
        if blob[:1] == b"J":
            fields = json.loads(blob[1:])
        elif blob[:1] == b"P":
            fields = pickle.loads(blob[1:])
        else:
            return None
        data, plain, raw, problem = fields
    except Exception:  # a damaged entry is only a miss
        return None
    if not (isinstance(raw, str) and isinstance(problem, str)):
        return None
    return Parsed(data if isinstance(data, dict) else None, plain, raw, problem)


def _parse_chunk_encoded(
    items: list[tuple[bytes, str]], job: tuple[dict[str, Any], Callable[[Parsed], Any]]
) -> list[tuple[Any, bytes]]:
    context, summary = job
    out = []
    for raw, path in items:
        parsed = parse_algorithm(raw, path, context)
        out.append((summary(parsed), encode(parsed)))
    return out


def parse_many(
    items: Iterable[tuple[str, bytes, str]],
    context: dict[str, Any],
    pool: ProcessPoolExecutor | None,
) -> Iterator[tuple[str, Parsed]]:
    """(key, content, path) -> (key, Parsed), in chunks across ``pool`` when there is one.

    Chunks are submitted as the contents arrive, with a bounded number in flight, so a long
    history is never held in memory whole.
    """
    if pool is None:
        for key, raw, path in items:
            yield key, parse_algorithm(raw, path, context)
        return
    yield from _in_chunks(items, _parse_chunk, context, pool)


def _in_chunks(
    items: Iterable[tuple[str, bytes, str]],
    worker: Callable[[list[tuple[bytes, str]], Any], list[T]],
    context: Any,
    pool: ProcessPoolExecutor,
) -> Iterator[tuple[str, T]]:
    """(key, content, path) -> (key, ``worker``'s result for it), in order, ``CHUNK`` files
    per task and a bounded number of tasks in flight."""
    limit = 2 * worker_count()
    pending: list[tuple[list[str], Future[list[T]]]] = []
    keys: list[str] = []
    chunk: list[tuple[bytes, str]] = []
    for key, raw, path in items:
        keys.append(key)
        chunk.append((raw, path))
        if len(chunk) == CHUNK:
            pending.append((keys, pool.submit(worker, chunk, context)))
            keys, chunk = [], []
            while len(pending) > limit:
                done_keys, future = pending.pop(0)
                yield from zip(done_keys, future.result(), strict=True)
    if chunk:
        pending.append((keys, pool.submit(worker, chunk, context)))
    for done_keys, future in pending:
        yield from zip(done_keys, future.result(), strict=True)


def _compare_chunk(
    pairs: list[tuple[bytes | Parsed, bytes | Parsed]], languages: list[str]
) -> list[Diff | None]:
    return [compare(_decoded(before), _decoded(after), languages) for before, after in pairs]


def _decoded(version: bytes | Parsed) -> Parsed:
    if isinstance(version, Parsed):
        return version
    decoded = decode_parsed(version)
    assert decoded is not None  # written by encode() in this build
    return decoded


def compare_many(
    pairs: list[tuple[bytes | Parsed, bytes | Parsed]],
    languages: list[str],
    pool: ProcessPoolExecutor,
) -> list[Diff | None]:
    """:func:`compare` for each pair of versions (encoded or parsed), in the pool's workers.

    A cold history compares every version with the one before it, 20,000 pairs at registry
    scale; a walk asking one by one kept a core busy for seconds while the other waited.
    """
    out: list[Diff | None] = []
    limit = 2 * worker_count()  # tasks in flight: each holds its versions' bytes in a pipe
    pending: list[Future[list[Diff | None]]] = []
    for start in range(0, len(pairs), CHUNK):
        pending.append(pool.submit(_compare_chunk, pairs[start : start + CHUNK], languages))
        while len(pending) > limit:
            out += pending.pop(0).result()
    for future in pending:
        out += future.result()
    return out


def parse_many_encoded(
    items: Iterable[tuple[str, bytes, str]],
    context: dict[str, Any],
    pool: ProcessPoolExecutor | None,
    summary: Callable[[Parsed], T],
) -> Iterator[tuple[str, T, bytes]]:
    """Like :func:`parse_many`, each result :func:`encode`-d for the build cache and with
    ``summary`` of it (a picklable function) in its place.

    Workers send the encoded form and the summary back; the parent stores the encoding as
    it is and never decodes it: what the log walk needs of a version is in the summary, and
    decoding 30,000 versions again took the build process a second.
    """
    if pool is None:
        for key, raw, path in items:
            parsed = parse_algorithm(raw, path, context)
            yield key, summary(parsed), encode(parsed)
        return
    for key, (summarised, blob) in _in_chunks(
        items, _parse_chunk_encoded, (context, summary), pool
    ):
        yield key, summarised, blob
