"""Validate stage: loaded files become typed models, and every problem gets a position and a hint.

Pydantic reports errors by field location; this module maps each location back to the line and
column the load stage recorded, adds a hint the author can act on, and runs the checks that
span files (ids against paths, missing providers, duplicate filing numbers).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import pickle
import re
import types
import typing
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from sitegen.cache import Cache, digest
from sitegen.diagnostics import Report, Severity
from sitegen.load import (
    FieldPath,
    FileChanged,
    Kind,
    ReadProblem,
    Seen,
    SourceDoc,
    Sources,
    Status,
    YamlProblem,
    collector_paused,
    read_again,
    read_listed,
)
from sitegen.model import (
    DEFAULT_FILING_PATTERN,
    DEFAULT_LANGUAGES,
    ID_RE,
    PARTIAL_TEXTS,
    Algorithm,
    Provider,
    Site,
)
from sitegen.registry import Disclosure, Facts, Registry, sort_disclosures
from sitegen.workers import parsing_pool

MODELS: dict[Kind, type[BaseModel]] = {
    Kind.SITE: Site,
    Kind.PROVIDER: Provider,
    Kind.ALGORITHM: Algorithm,
}

# One mistake repeated in a long list should not bury the report (or take seconds to print).
MAX_ERRORS_PER_FILE = 50

_TYPE_HINTS = {
    "string_type": "write text; quote values that look like numbers or true/false",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "int_from_float": "write a whole number",
    "float_type": "write a number such as 0.25",
    "float_parsing": "write a number such as 0.25",
    "date_type": "write the date as YYYY-MM-DD",
    "date_parsing": "write the date as YYYY-MM-DD",
    "date_from_datetime_parsing": "write the date as YYYY-MM-DD",
    "date_from_datetime_inexact": "write the date as YYYY-MM-DD",
    "list_type": "write a list, one `- item` per line",
    "dict_type": "write `key: value` lines indented under this key",
    "model_type": "write `key: value` lines indented under this key",
    "model_attributes_type": "write `key: value` lines indented under this key",
    "too_short": "add at least one item",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
}


def field_path(loc: FieldPath) -> str:
    """``('products', 0, 'url')`` -> ``products[0].url``: how authors see the YAML."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _unwrap(annotation: Any) -> Any:
    """The model class inside ``X | None``, ``list[X]`` or ``Annotated[X, ...]``, if any."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType, list):
            inner = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(inner) != 1:
                return None
            annotation = inner[0]
        else:
            return annotation


def model_at(model: type[BaseModel], loc: FieldPath) -> type[BaseModel] | None:
    """The model that owns the keys at ``loc`` (for "did you mean" on unknown keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_VALIDATOR_STEP = re.compile(r"^[a-z][a-z-]*\[.*\]$")


def _clean_loc(doc: SourceDoc, loc: tuple[Any, ...]) -> FieldPath:
    """The location as a path in the file.

    Pydantic adds validator names such as "function-before[...]" to union locations; those are
    dropped, but a key that is really in the file is kept whatever characters it has.
    """
    out: list[str | int] = []
    current: Any = doc.data
    for part in loc:
        in_mapping = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_mapping or in_list:
            current = current[part]
        elif isinstance(part, str) and _VALIDATOR_STEP.match(part):
            continue
        else:
            current = None  # a missing key, or below a value of the wrong type
        out.append(part)
    return tuple(out)


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def report_validation_error(
    doc: SourceDoc, model: type[BaseModel], exc: ValidationError, report: Report
) -> None:
    errors = exc.errors(include_url=False)
    if len(errors) > MAX_ERRORS_PER_FILE:
        first = _clean_loc(doc, errors[MAX_ERRORS_PER_FILE]["loc"])
        line, col = doc.locate(first)
        more = len(errors) - MAX_ERRORS_PER_FILE
        report.add(
            doc.path,
            line,
            col,
            field_path(first),
            f"{more:,} more error(s) in this file not shown",
            "fix the errors above and run again",
        )
        errors = errors[:MAX_ERRORS_PER_FILE]
    for err in errors:
        loc = _clean_loc(doc, err["loc"])
        kind = err["type"]
        ctx: dict[str, Any] = dict(err.get("ctx") or {})
        message = err["msg"]
        hint = str(ctx.get("hint", ""))
        if ctx.get("at"):
            steps = str(ctx["at"]).split(".")
            loc = loc + tuple(int(p) if p.isascii() and p.isdigit() else p for p in steps)
        if kind == "missing":
            owner = model_at(model, loc[:-1])
            line, col = doc.locate(loc[:-1], key=True) if loc[:-1] else (1, 1)
            message = "required field is missing"
            description = ""
            if owner is not None and loc and loc[-1] in owner.model_fields:
                description = owner.model_fields[str(loc[-1])].description or ""
            hint = f"add `{loc[-1]}:`" + (f" ({description})" if description else "")
        elif kind == "extra_forbidden":
            owner = model_at(model, loc[:-1])
            known = sorted(owner.model_fields) if owner else []
            line, col = doc.locate(loc, key=True)
            message = f"unknown key '{loc[-1]}'"
            hint = _did_you_mean(str(loc[-1]), known) or (
                f"allowed keys here: {', '.join(known)}" if known else "remove it"
            )
        else:
            line, col = doc.locate(loc, key=bool(ctx.get("on_key")))
            if kind in ("literal_error", "enum") and "expected" in ctx:
                value = err.get("input")
                options = [
                    o.strip(" '") for o in str(ctx["expected"]).replace(" or ", ",").split(",")
                ]
                hint = (_did_you_mean(str(value), options) if isinstance(value, str) else "") or (
                    f"one of: {', '.join(o for o in options if o)}"
                )
            elif kind == "string_pattern_mismatch":
                last = loc[-1] if loc else ""
                if last == "id" or (len(loc) >= 2 and loc[-2] == "id"):
                    hint = "use lowercase a-z, digits and hyphens, starting with a letter or digit"
                elif "maintainers" in loc or "admins" in loc:
                    hint = "a code-host username: letters, digits and single hyphens"
                elif "languages" in loc:
                    hint = "a language code such as zh or en"
                message = "value does not have the expected form"
            elif not hint:
                hint = _TYPE_HINTS.get(kind, "")
        report.add(doc.path, line, col, field_path(loc), message, hint)


_ID = re.compile(ID_RE)


def _case_clash(doc: SourceDoc, name: str, siblings: list[str], what: str, report: Report) -> bool:
    """Refuse a name that differs from a sibling's only in letter case.

    Ids are lowercase, so the name with capitals is the one at fault; on a case-insensitive
    disk (Windows, macOS) the two would be one file and one page address.
    """
    if _ID.match(name):
        return False
    suffix = ".yaml" if what == "file" else ""
    for other in sorted(siblings):
        if other != name and other.casefold() == name.casefold():
            report.add(
                doc.path,
                1,
                1,
                "",
                f"{what} name '{name}{suffix}' differs from '{other}{suffix}' only in letter case",
                f"ids are lowercase: merge the two or rename '{name}{suffix}'; "
                "a case-insensitive disk would treat them as one",
            )
            return True
    return False


# line, col, severity, field, message, hint, rule: a diagnostic without its file's path
Finding = tuple[int, int, str, str, str, str, str]


def findings(report: Report) -> list[Finding]:
    """A report's diagnostics without their path: a cached file may be shown at another."""
    return [
        (d.line, d.col, str(d.severity), d.field, d.message, d.hint, d.rule) for d in report.items
    ]


def emit(report: Report, path: str, found: list[Finding]) -> None:
    for line, col, severity, where, message, hint, rule in found:
        report.add(path, line, col, where, message, hint, Severity(severity), rule)


@dataclass
class FileCheck:
    """Everything one file's own checks found: a function of its bytes, kind, provider id,
    file name and the validation context only, so it can be cached under a digest of them.

    Checks that span files (case clashes, missing providers, duplicate filing numbers) and
    the review-date warning (it depends on today) run on every build, from the facts kept
    here, so they never need the model.  An algorithm's model is stored apart from its check
    (``MODEL_NS``) and read only when something asks for it: a warm ``validate`` never does,
    and a rebuild asks for the few disclosures it renders.  Site and provider models are few
    and always needed, so they stay in the check.
    """

    loaded: bool = True  # False: not a YAML mapping, ``load`` says why
    load: list[Finding] = field(default_factory=list)
    id_problem: Finding | None = None  # the id disagrees with the path: not validated
    problems: list[Finding] = field(default_factory=list)  # validation errors
    quality: list[Finding] = field(default_factory=list)  # warnings that do not depend on today
    placeholders: list[Finding] = field(default_factory=list)
    id_placeholder: Finding | None = None  # when the id filled in from the path is a placeholder
    anchors: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    # Of a valid algorithm: what the cross-file checks and the review-date rule read.
    model_id: str = ""
    filing_number: str | None = None
    last_reviewed: dt.date | None = None
    facts: Facts | None = None  # of a valid algorithm: what lists read without the model
    valid: bool = False  # the file validated: it has a model, here or to be fetched
    apart: bool = False  # an algorithm's: its model is never pickled with the check
    model_stored: bool = False  # the model was stored in MODEL_NS when this check was
    _model: Any = None
    _model_pickle: bytes | None = None
    _fetch: Callable[[], Any] | None = None  # gives the model when neither of the above has it

    @property
    def model(self) -> Any:
        """The validated model, or None."""
        if self._model is None and self.valid:
            if self.apart:
                return _RECENT.model(self)
            if self._model_pickle is not None:  # a site's or provider's: few, and kept
                self._model, self._model_pickle = pickle.loads(self._model_pickle), None
        return self._model

    @model.setter
    def model(self, value: Any) -> None:
        self._model, self._model_pickle, self._fetch = value, None, None
        self.valid = value is not None

    def model_blob(self) -> bytes | None:
        """The pickled model, or None when this check has none at hand."""
        if self._model_pickle is not None:
            return self._model_pickle
        if self._model is not None:
            return pickle.dumps(self._model, pickle.HIGHEST_PROTOCOL)
        return None

    def __reduce__(self) -> tuple[Callable[..., FileCheck], tuple[Any, ...]]:
        # Stored as a flat tuple of plain values: unpickling a warm rebuild's 10,000 checks
        # took 0.29 s as objects with their fields by name, 0.12 s this way.
        reviewed, facts = self.last_reviewed, self.facts
        return _restored_check, (
            self.loaded,
            self.load,
            self.id_problem,
            self.problems,
            self.quality,
            self.placeholders,
            self.id_placeholder,
            self.anchors,
            self.model_id,
            self.filing_number,
            reviewed.toordinal() if reviewed is not None else None,
            facts.plain() if facts is not None else None,
            self.valid,
            self.apart,
            self.model_stored,
            None if self.apart else self.model_blob(),
        )


def _restored_check(*values: Any) -> FileCheck:
    """A check from :meth:`FileCheck.__reduce__`'s values (its fields, in order)."""
    (loaded, load, id_problem, problems, quality, placeholders, id_placeholder, anchors) = values[
        :8
    ]
    model_id, number, reviewed, facts, valid, apart, stored, model_pickle = values[8:]
    return FileCheck(
        loaded,
        load,
        id_problem,
        problems,
        quality,
        placeholders,
        id_placeholder,
        anchors,
        model_id,
        number,
        dt.date.fromordinal(reviewed) if reviewed is not None else None,
        Facts.from_plain(facts) if facts is not None else None,
        valid,
        apart,
        stored,
        None,
        model_pickle,
    )


class _Recent:
    """The models last read from their pickles or the store, and only those.

    A model takes about four times its pickle in memory (35 KB at 10,000 x 3).  History,
    the open data and each language's search index read every disclosure once, one after
    another, so keeping every model read would hold them all in the build process, and in
    each worker that renders pages: 350 MB apiece at 10,000.  Whatever reads one disclosure
    at a time (its pages, its rows) finds it here; a model read again after falling out is
    unpickled again (0.06 ms).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._models: OrderedDict[int, tuple[FileCheck, Any]] = OrderedDict()

    def model(self, check: FileCheck) -> Any:
        # Keyed by identity: the check is held here too, so its id is not reused meanwhile.
        found = self._models.get(id(check))
        if found is not None:
            self._models.move_to_end(id(check))
            return found[1]
        if check._model_pickle is not None:
            model = pickle.loads(check._model_pickle)
        elif check._fetch is not None:
            model = check._fetch()
        else:
            return None
        self._models[id(check)] = (check, model)
        if len(self._models) > self.size:
            self._models.popitem(last=False)
        return model


_RECENT = _Recent(64)


class StoredDisclosure(Disclosure):
    """A disclosure whose algorithm comes from a FileCheck's pickle or the store, read when
    it is asked for: a warm ``validate`` reads none, a rebuild the few it renders."""

    _check: FileCheck

    @classmethod
    def of(cls, provider: Provider, check: FileCheck, path: str, digest: str) -> Disclosure:
        made = cls.__new__(cls)
        made._check = check
        Disclosure.__init__(made, provider, None, path, digest)  # type: ignore[arg-type]
        return made

    @property
    def algorithm(self) -> Algorithm:
        model: Algorithm = self._check.model
        return model

    @algorithm.setter
    def algorithm(self, value: Algorithm | None) -> None:
        if value is None:
            return  # from ``of``: the check holds it
        check = FileCheck(model_id=value.id)  # assigned, or made by dataclasses.replace
        check.model = value
        self._check = check
        self.__dict__.pop("key", None)  # the cached key names the old model's id

    @cached_property
    def key(self) -> str:  # asked for thousands of times per build
        return f"{self.provider.id}/{self._check.model_id}"

    @property
    def facts(self) -> Facts:
        facts = self._check.facts
        return facts if facts is not None else Facts.of(self.algorithm)


EXPECTED_ID = {Kind.PROVIDER: "folder name", Kind.ALGORITHM: "file name"}
# The escapes of a double-quoted YAML text that can make a letter (hexadecimal ones) or join
# two lines into one word (a backslash before the line break); no other can help spell TODO.
_SPELLING_ESCAPE = re.compile(rb"\\[xuU\r\n]")
ANCHORS: tuple[FieldPath, ...] = (("filing", "number"), ("last_reviewed",))


def check_file(doc: SourceDoc, context: dict[str, Any]) -> FileCheck:
    """Parse (if not yet), check the id, validate and run the per-file quality rules."""
    from sitegen.quality import file_quality
    from sitegen.scaffold import PLACEHOLDER, placeholder_findings

    raw = doc.raw
    try:
        doc.parse()
    except YamlProblem as exc:
        return FileCheck(False, [(exc.line, exc.col, "error", "", exc.message, exc.hint, "")])
    # A value starting with TODO has it in the text, unless an escape spells a letter or a
    # backslash joins two lines of a quoted text: most files need no walk through every value
    # (a fifth of the benchmark's files escape a quotation mark, which can do neither).
    suspect = raw is None or PLACEHOLDER.encode() in raw or _SPELLING_ESCAPE.search(raw)
    check = FileCheck(placeholders=placeholder_findings(doc) if suspect else [])
    check.apart = doc.kind is Kind.ALGORITHM
    what = EXPECTED_ID.get(doc.kind)
    if what is not None:
        expected = doc.provider_id if doc.kind is Kind.PROVIDER else doc.stem
        given = doc.data.get("id")
        if given is None:
            doc.data["id"] = expected
            filled = placeholder_findings(doc, only=("id",))
            check.id_placeholder = filled[0] if filled else None
        elif given != expected:
            line, col = doc.locate(("id",))
            message = f"id '{given}' does not match the {what} '{expected}'"
            hint = f"set `id: {expected}` or rename the {what}"
            check.id_problem = (line, col, "error", "id", message, hint, "")
            return check
    model = MODELS[doc.kind]
    # An algorithm's texts say whether one lacks a language as they are validated: the
    # translation rule then need not walk every model (52 us of a file's 800).
    partial: list[str] | None = None
    if doc.kind is Kind.ALGORITHM and context.get("languages"):
        partial = []
        context = {**context, PARTIAL_TEXTS: partial}
    try:
        check.model = model.model_validate(doc.data, context=context)
    except ValidationError as exc:
        scratch = Report()
        report_validation_error(doc, model, exc, scratch)
        check.problems = findings(scratch)
        return check
    if doc.kind is Kind.ALGORITHM:
        check.anchors = {loc: doc.locate(loc) for loc in ANCHORS}
        check.model_id = check.model.id
        check.filing_number = check.model.filing.number
        check.last_reviewed = check.model.last_reviewed
        check.facts = Facts.of(check.model)
    languages = context.get("languages") or list(getattr(check.model, "languages", ()))
    translated = None if partial is None else not partial
    check.quality = file_quality(doc, check.model, list(languages), translated)
    return check


def context_key(context: dict[str, Any]) -> str:
    return json.dumps(context, sort_keys=True, ensure_ascii=False)


def _key_of(doc: SourceDoc, settings: str) -> str:
    """A doc's :func:`file_key`, or "" while it is pending (its digest is not known yet)."""
    return file_key(doc, settings) if doc.digest else ""


def file_key(doc: SourceDoc, settings: str) -> str:
    """Everything a FileCheck depends on (the code's version is in the store's name);
    ``settings`` is the validation context's :func:`context_key`, made once for all files."""
    return digest("file", doc.digest, doc.kind, doc.provider_id, doc.stem, settings)


CACHE_NS = "file"
MODEL_NS = "model"  # an algorithm's pickled model, under the key of its check
CHUNK = 100  # files per task: the last task's wait stays short next to the whole
STORE_BATCH = 1000  # checks stored at once while the workers go on
# The files a pool's workers read and check, and the store they look them up in, set before
# they are forked so that each inherits them instead of receiving them through a pipe.
_FORKED: list[SourceDoc] = []
_FORKED_CACHE: Cache | None = None

Stored = tuple[bytes, bytes | None]  # a pickled check, and its model when it is kept apart


def _stored(check: FileCheck, models: bool) -> Stored:
    """A check as it is sent and stored, with its model apart when ``models`` asks for it.

    ``validate`` alone never reads an algorithm's model, so without ``models`` it is neither
    pickled nor written: that was a tenth of each worker's time and nine tenths of the bytes.
    """
    check.model_stored = models and check.apart and check.valid
    blob = pickle.dumps(check, protocol=pickle.HIGHEST_PROTOCOL)
    return blob, check.model_blob() if check.model_stored else None


def _usable(check: FileCheck, models: bool) -> bool:
    """A stored check serves, unless a build needs the model a check alone left out."""
    return not (models and check.apart and check.valid and not check.model_stored)


class _Settled(NamedTuple):
    """What reading, looking up and checking one file gave, as sent back by a worker.

    ``digest``, ``key``, ``status`` and ``read_at`` are set when the file was read here (it
    was pending);
    ``stored`` is the check as stored (found, or made: then ``made``), or None with
    ``problem`` when the file could not be read.
    """

    digest: str = ""
    key: str = ""  # the cache key the digest gives
    status: Status | None = None
    read_at: int = 0
    stored: Stored | None = None
    made: bool = False
    problem: ReadProblem | None = None


def _settle(
    docs: list[SourceDoc], settings: str, context: dict[str, Any], models: bool, cache: Cache | None
) -> list[_Settled]:
    """Each doc read (if pending), looked up (if it had no digest before) and checked (if
    not found), in this process; safe in a forked worker (``cache``: the parent's store,
    used on this process's own connection).

    A doc whose digest was known is read only to be checked, and must still have it
    (:class:`FileChanged` otherwise).  Each file is checked on a fresh doc, so its parsed
    data dies with it instead of piling up for the collector to scan.
    """
    store = cache.here() if cache is not None else None
    # Each doc: the fresh doc to check (None: nothing to check), its digest and status when
    # read here, and its key when it is to be looked up.
    read: list[tuple[SourceDoc | None, _Settled]] = []
    lookup: dict[str, int] = {}  # cache key of a pending doc -> its index
    for doc in docs:
        if not doc.pending:
            read.append((doc.unparsed(), _Settled()))
            continue
        assert doc.unread is not None
        got = read_listed(doc.unread)
        if isinstance(got, ReadProblem):
            read.append((None, _Settled(problem=got)))
            continue
        found = hashlib.sha256(got.raw).hexdigest()
        copy = SourceDoc(doc.path, doc.kind, doc.provider_id, doc.stem, digest=found, raw=got.raw)
        key = file_key(copy, settings)
        lookup[key] = len(read)
        read.append((copy, _Settled(found, key, got.status, got.at)))
    hits: dict[int, bytes] = {}
    stored = store.get_many(CACHE_NS, lookup) if store is not None and lookup else {}
    for key, blob in stored.items():
        if isinstance(blob, bytes):
            try:
                if _usable(pickle.loads(blob), models):
                    hits[lookup[key]] = blob
            except Exception:  # an unreadable entry is only a miss
                continue
    settled: list[_Settled] = []
    for i, (fresh, found_read) in enumerate(read):
        if fresh is None:
            settled.append(found_read)
        elif i in hits:
            settled.append(found_read._replace(stored=(hits[i], None)))
        else:
            made = _stored(check_file(fresh, context), models)
            settled.append(found_read._replace(stored=made, made=True))
    return settled


def _settle_range(
    start: int, stop: int, settings: str, context: dict[str, Any], models: bool
) -> list[_Settled]:
    """In a worker: :func:`_settle` for ``_FORKED[start:stop]``."""
    with collector_paused():
        return _settle(_FORKED[start:stop], settings, context, models, _FORKED_CACHE)


@dataclass(frozen=True)
class _ModelSource:
    """Where an algorithm's model comes from when it is first asked for: the store, else
    the file validated again, provided its bytes are still those the check was made from.
    Asked in whichever process renders the disclosure, on that process's own connection."""

    cache: Cache | None
    key: str
    root: Path  # the source folder: the file is ``root/provider_id/stem.yaml``
    shown: str  # its path as the user sees it
    provider_id: str
    stem: str
    digest: str
    context: dict[str, Any]

    def __call__(self) -> Any:
        store = self.cache.here() if self.cache is not None else None
        if store is not None and store.enabled:
            blob = store.get(MODEL_NS, self.key)
            if isinstance(blob, bytes):
                try:
                    return pickle.loads(blob)
                except Exception:  # an unreadable entry is only a miss
                    pass
        raw = read_again(
            self.root / self.provider_id / f"{self.stem}.yaml", self.shown, self.digest
        )
        doc = SourceDoc(self.shown, Kind.ALGORITHM, self.provider_id, self.stem, self.digest)
        doc.raw = raw
        model = check_file(doc, self.context).model
        if model is None:  # the same bytes, context and code cannot give another result
            raise FileChanged(f"{self.shown} no longer validates; build again")
        return model


def check_files(
    docs: list[SourceDoc],
    keys: list[str],
    settings: str,
    context: dict[str, Any],
    cache: Cache | None,
    root: Path,
    models: bool = True,
    seen: Seen | None = None,
) -> list[FileCheck]:
    """Each doc's FileCheck, from the cache or computed (in worker processes when many).

    ``keys`` holds each doc's cache key, or "" for a pending doc (not yet read): such a doc
    is read here, on the workers when there are many, gets its digest and its key (filled
    in), and is looked up then; what its read found goes to ``seen``.  A file that cannot
    be read gets a check that says why.  ``settings``: the context's :func:`context_key`.

    ``models``: the caller will read the algorithms' models, so workers send them and they
    are stored; without it they are remade from the file if ever asked for.  Entries are
    stored pickled by this module, so what a worker sends back goes into the cache as it is
    and is unpickled once.  Results keep the docs' order, so the report and the registry
    are the same whichever way they were made.
    """

    def source(i: int) -> _ModelSource:
        d = docs[i]
        return _ModelSource(cache, keys[i], root, d.path, d.provider_id, d.stem, d.digest, context)

    def restored(i: int, blob: bytes, model: bytes | None) -> FileCheck:
        check: FileCheck = pickle.loads(blob)
        if check.apart and check.valid:
            if model is not None:
                check._model_pickle = model
            else:
                check._fetch = source(i)
        return check

    keep = cache is not None and cache.enabled  # else the blobs are only memory

    def store(done: list[tuple[int, Stored]]) -> None:
        if keep and cache is not None:
            # Models first: a check that says its model is stored is written after it.
            cache.put_many(MODEL_NS, ((keys[i], m) for i, (_, m) in done if m is not None))
            cache.put_many(CACHE_NS, ((keys[i], blob) for i, (blob, _) in done))

    checks: list[FileCheck | None] = [None] * len(docs)

    def apply(i: int, result: _Settled) -> tuple[int, Stored] | None:
        """Take one settled doc's result; what must be stored, if anything."""
        doc = docs[i]
        if result.problem is not None:
            problem = (1, 1, "error", "", result.problem.message, result.problem.hint, "")
            checks[i] = FileCheck(False, [problem])
            return None
        if result.digest:
            doc.digest, keys[i] = result.digest, result.key
            if seen is not None and result.status is not None and doc.unread is not None:
                seen.record(doc.unread, result.status, result.digest, result.read_at)
        assert result.stored is not None
        blob, model = result.stored
        checks[i] = restored(i, blob, model)
        return (i, result.stored) if result.made else None

    found = cache.get_many(CACHE_NS, [k for k in keys if k]) if cache is not None else {}
    for i, key in enumerate(keys):
        blob = found.get(key) if key else None
        if isinstance(blob, bytes):
            try:
                check = restored(i, blob, None)
            except Exception:  # an unreadable entry is only a miss
                continue
            # A check stored by ``validate`` alone left its model out: a build needs it.
            if _usable(check, models):
                checks[i] = check
    missing = [i for i, check in enumerate(checks) if check is None]
    # Parsed docs (read without a cache) are checked here; the others are read on workers.
    readable = [i for i in missing if not docs[i].parsed]
    global _FORKED, _FORKED_CACHE
    _FORKED, _FORKED_CACHE = [docs[i] for i in readable], cache
    unstored: list[tuple[int, Stored]] = []
    try:
        with parsing_pool(len(_FORKED)) as pool:
            if pool is not None:
                futures = [
                    pool.submit(_settle_range, start, start + CHUNK, settings, context, models)
                    for start in range(0, len(readable), CHUNK)
                ]
                with collector_paused():
                    starts = range(0, len(readable), CHUNK)
                    for start, future in zip(starts, futures, strict=True):
                        chunk = readable[start : start + CHUNK]
                        for i, result in zip(chunk, future.result(), strict=True):
                            made = apply(i, result)
                            if made is not None:
                                unstored.append(made)
                            if result.digest and cache is not None:  # looked up there
                                if result.made:
                                    cache.misses += 1
                                else:
                                    cache.hits += 1
                        # Stored while the workers check the next files, not all at the
                        # end: writing 10,000 entries took a second with both cores idle.
                        # A thousand at a time: a write of 100 costs half as much again
                        # per entry (0.5 s against 0.3 s for 10,000).
                        if len(unstored) >= STORE_BATCH:
                            store(unstored)
                            unstored = []
    except (BrokenProcessPool, OSError):
        pass  # a worker died (out of memory?): what is left is checked here
    finally:
        _FORKED, _FORKED_CACHE = [], None
    store(unstored)
    fresh: list[tuple[int, Stored]] = []
    with collector_paused():
        rest = [i for i in readable if checks[i] is None]
        settled = _settle([docs[i] for i in rest], settings, context, models, cache)
        for i, result in zip(rest, settled, strict=True):
            made = apply(i, result)
            if made is not None:
                fresh.append(made)
        for i in missing:
            if checks[i] is None:  # parsed already
                check = check_file(docs[i], context)
                checks[i] = check
                if keep:
                    fresh.append((i, _stored(check, models)))
    store(fresh)
    return [check for check in checks if check is not None]


def _resolve(
    docs: list[SourceDoc],
    keys: list[str],
    settings: str,
    context: dict[str, Any],
    cache: Cache | None,
    report: Report,
    root: Path,
    models: bool,
    seen: Seen | None,
) -> list[SourceDoc]:
    """Give each doc its FileCheck (and each pending one its key in ``keys``); report and
    drop those that could not be read or did not parse."""
    kept = []
    checks = check_files(docs, keys, settings, context, cache, root, models, seen)
    for doc, check in zip(docs, checks, strict=True):
        doc.check = check
        if check.loaded:
            kept.append(doc)
        else:
            emit(report, doc.path, check.load)
    return kept


def _apply_id(doc: SourceDoc, report: Report) -> FileCheck | None:
    """Report the file's id and validation problems; its check if it is valid, else None."""
    check: FileCheck = doc.check
    if check.id_problem is not None:
        emit(report, doc.path, [check.id_problem])
        return None
    doc.id_checked = True
    emit(report, doc.path, check.problems)
    return check if check.valid else None


def validate(
    sources: Sources, report: Report, cache: Cache | None = None, models: bool = True
) -> Registry | None:
    """Build the registry from everything valid; None when site.yaml itself is unusable.

    ``cache`` (default: the one ``discover`` was given) holds each file's own results; the
    checks that span files run every time.  ``models=False`` says nothing will read the
    algorithms' models (a check that builds nothing), so they are not kept.
    """
    cache = cache if cache is not None else sources.cache
    site: Site | None = None
    root, seen = sources.root, sources.seen
    used: list[str] = []  # cache keys of every file, found or made
    if sources.site is not None:
        plain = context_key({})
        keys = [_key_of(sources.site, plain)]
        kept = _resolve([sources.site], keys, plain, {}, cache, report, root, models, seen)
        used += keys
        sources.site = kept[0] if kept else None
    if sources.site is not None:
        site_check = _apply_id(sources.site, report)
        site = site_check.model if site_check is not None else None
    context: dict[str, Any] = {
        "languages": list(site.languages) if site else list(DEFAULT_LANGUAGES),
        "filing_pattern": site.filing_number_pattern if site else DEFAULT_FILING_PATTERN,
    }
    provider_docs = sorted(sources.providers.items())
    algorithm_docs = list(sources.algorithms)
    files = [doc for _, doc in provider_docs] + algorithm_docs
    settings = context_key(context)
    keys = [_key_of(doc, settings) for doc in files]
    resolved = _resolve(files, keys, settings, context, cache, report, root, models, seen)
    used += keys
    if seen is not None:
        seen.store()  # every file is read or vouched for now
    alive = {id(doc) for doc in resolved}
    sources.providers = {pid: doc for pid, doc in sources.providers.items() if id(doc) in alive}
    sources.algorithms = [doc for doc in algorithm_docs if id(doc) in alive]
    if cache is not None and cache.enabled:
        used = [key for key in used if key]  # files that could not be read have none
        cache.keep_only(CACHE_NS, used)  # entries of files that no longer exist
        cache.keep_only(MODEL_NS, used)

    providers: dict[str, Provider] = {}
    for provider_id, doc in sorted(sources.providers.items()):
        if _case_clash(doc, provider_id, sources.provider_dirs, "folder", report):
            continue
        checked = _apply_id(doc, report)
        if checked is not None:
            providers[provider_id] = checked.model

    missing_provider_reported: set[str] = set()
    disclosures: list[Disclosure] = []
    numbers: dict[str, SourceDoc] = {}
    stems: dict[str, list[str]] = {}
    for doc in sources.algorithms:
        _check_provider_folder(doc, sources, report, missing_provider_reported)
        if doc.provider_id not in stems:
            stems[doc.provider_id] = _stems(sources, doc.provider_id)
        if _case_clash(doc, doc.stem, stems[doc.provider_id], "file", report):
            continue
        check = _apply_id(doc, report)
        if check is None:
            continue
        number = check.filing_number
        if number:
            first = numbers.get(number)
            if first is not None:
                line, col = doc.check.anchors[("filing", "number")]
                first_line = first.check.anchors[("filing", "number")][0]
                report.add(
                    doc.path,
                    line,
                    col,
                    "filing.number",
                    f"filing number {number} is already used",
                    f"{first.path}:{first_line} has it; each algorithm has its own number",
                )
                continue
            numbers[number] = doc
        provider = providers.get(doc.provider_id)
        if provider is None:
            continue  # reported against provider.yaml or above
        if check._model is not None:
            disclosures.append(Disclosure(provider, check.model, doc.path, doc.digest))
        else:  # from the cache: unpickled only if something asks for it
            disclosures.append(StoredDisclosure.of(provider, check, doc.path, doc.digest))

    for folder in sources.provider_dirs:
        if (sources.root / folder / "provider.yaml").exists():
            continue  # present; if it failed to load, that error is already reported
        if folder not in missing_provider_reported:
            path = sources.root / folder / "provider.yaml"
            report.add(str(path), 1, 1, "", "provider folder has no provider.yaml", "create it")

    if site is None:
        return None
    return Registry(
        root=sources.root,
        site=site,
        providers=dict(sorted(providers.items())),
        disclosures=sort_disclosures(disclosures),
        report=report,
    )


def _stems(sources: Sources, provider_id: str) -> list[str]:
    """The names of a provider folder's YAML files, without the extension, as the load
    stage listed them (listing 400 folders again took 0.02-0.05 s of a rebuild)."""
    names = sources.listed.get(provider_id)
    if names is None:
        names = [entry.name for entry in (sources.root / provider_id).iterdir()]
    return [name[:-5] for name in names if name.endswith(".yaml") and name != ".yaml"]


def _check_provider_folder(
    doc: SourceDoc, sources: Sources, report: Report, reported: set[str]
) -> None:
    if doc.provider_id in sources.providers or doc.provider_id in reported:
        return
    folder = sources.root / doc.provider_id
    if (folder / "provider.yaml").exists():
        return  # it exists but failed to load; that error is already reported
    reported.add(doc.provider_id)
    report.add(
        doc.path,
        1,
        1,
        "",
        f"provider '{doc.provider_id}' has no provider.yaml",
        f"create {folder}/provider.yaml (see docs/format.md)",
    )
