"""Load stage: find the disclosure files and parse them safely, keeping every value's position.

PyYAML's own constructors lose source positions, silently keep the last of two duplicate keys,
expand aliases (the "billion laughs" bomb) and resolve YAML 1.1 booleans such as ``no``.  So
this module builds plain Python values straight from the parser's event stream (libyaml's C
parser when present), refusing anchors, aliases, duplicate keys, custom tags and deep nesting,
and recording the line and column of every key and value under its field path.

Walking the events in Python costs twice what libyaml's own C composer takes to build the
whole node tree, so an ordinary file is read from that tree instead (:func:`_read_nodes`),
which carries the same marks.  It gives up at the first thing it cannot vouch for (an anchor
or tag, a suspicious character, a duplicate key, too much of anything, any libyaml error)
and the event reader then decides, so both give the same values, positions and problems.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import stat
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from sitegen.cache import Cache, Sharded
from sitegen.diagnostics import Report, SitegenError

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 32
# Keys and values in one file: far above any real disclosure, low enough that the slowest
# 1 MB file (a flat list of one-character items) is refused in well under a second.
MAX_NODES = 20_000
# Levels of a parsed file whose positions are kept at first: what a valid file's checks ask
# for (``filing.number``, ``last_reviewed``); keeping every position costs a fifth of parsing.
SHALLOW = 2

try:  # libyaml is an optional C extension of PyYAML; the pure-Python parser gives the same events.
    _Parser: Any = yaml.CSafeLoader
    _CParser: Any = yaml.cyaml.CParser  # type: ignore[attr-defined]  # not in the stubs
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = yaml.SafeLoader
    _CParser = None

FieldPath = tuple[str | int, ...]

# YAML 1.2 core schema for plain scalars: only these become non-strings.  Everything else,
# dates included, stays text and the models parse it, so ``no`` or ``2024-01-01`` never
# change type behind the author's back.
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
# The words that are null or a boolean, looked up whole; only a scalar starting like a number
# is tried as one (about 30 scalars a file, mostly words and dates, went through three
# regular expressions each).
_WORDS: dict[str, bool | None] = {"~": None, "null": None, "Null": None, "NULL": None, "": None}
_WORDS.update(_BOOL)
_NOT_A_WORD = object()
_NUMBER_START = frozenset("+-.0123456789")
_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"

# Characters that can hide or reorder text: C0/C1 controls (except tab and newlines), the
# bidirectional marks, embeddings, overrides and isolates (U+061C too), zero-width and other
# invisible characters (soft hyphen, Hangul fillers, Mongolian separators, deprecated format
# controls, interlinear annotations) and the Unicode tag characters that can smuggle hidden text.
_DISGUISE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff"
    "\uffa0\ufff9-\ufffb\U000e0000-\U000e007f]"
)
# Python refuses to convert integers longer than this (sys.get_int_max_str_digits()).
MAX_INT_DIGITS = 4000


class Kind(StrEnum):
    SITE = "site"
    PROVIDER = "provider"
    ALGORITHM = "algorithm"


class SourceDoc:
    """One parsed file: plain data plus where each value and key stands in the text.

    A file listed for the build cache (``discover(..., cache=...)``) is *pending* (no digest)
    until the validate stage reads it; a file the cache's record of its status vouches for
    (:class:`Seen`) has its digest and is not read until ``raw`` is asked for.  A file read
    keeps its bytes in ``raw`` and is parsed only when its data or positions are first asked
    for: on a cache hit nothing asks, which is the point.

    Parsing keeps the positions of the first SHALLOW levels only, which is all a valid file
    needs; the first position asked for below them parses the file again for all of them.
    """

    def __init__(
        self,
        path: str,  # as shown to the user, relative to the working directory when possible
        kind: Kind,
        provider_id: str,
        stem: str,
        data: Any = None,
        digest: str = "",
        positions: dict[FieldPath, tuple[int, int]] | None = None,
        key_positions: dict[FieldPath, tuple[int, int]] | None = None,
        raw: bytes | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.provider_id = provider_id
        self.stem = stem
        self.digest = digest
        self._raw = raw  # set while the file is read but not parsed
        self.unread: Path | None = None  # where to read ``raw`` from when it is asked for
        self._data = data
        self._positions = positions if positions is not None else {}
        self._key_positions = key_positions if key_positions is not None else {}
        self.check: Any = None  # the validate stage's FileCheck, once it has one
        self.id_checked = False  # the id was checked against the path (no case clash first)
        self._shallow: bytes | None = None  # the bytes, while positions stop at SHALLOW

    @property
    def pending(self) -> bool:
        """Listed but not yet read: the validate stage reads it and gives it its digest."""
        return self.unread is not None and not self.digest

    @property
    def raw(self) -> bytes | None:
        """The bytes while the file is not parsed (read now if the load stage did not)."""
        if self.unread is None:
            return self._raw
        if self.digest:
            self._raw = read_again(self.unread, self.path, self.digest)
        else:  # pending: the validate stage settles these itself, and reports a problem
            got = read_listed(self.unread)
            if isinstance(got, ReadProblem):
                raise SitegenError(f"{self.path}: {got.message} ({got.hint})")
            self._raw, self.digest = got.raw, hashlib.sha256(got.raw).hexdigest()
        self.unread = None
        return self._raw

    @raw.setter
    def raw(self, value: bytes | None) -> None:
        self._raw, self.unread = value, None

    @property
    def parsed(self) -> bool:
        """Its bytes are gone: parsed (or never had: nothing to read them from)."""
        return self._raw is None and self.unread is None

    def __repr__(self) -> str:
        return f"SourceDoc({self.path!r}, {self.kind}, parsed={self.parsed})"

    def unparsed(self) -> SourceDoc:
        """A new doc for the same file, read but not yet parsed."""
        return SourceDoc(
            self.path, self.kind, self.provider_id, self.stem, digest=self.digest, raw=self.raw
        )

    def parse(self) -> None:
        """Parse ``raw`` now; raise YamlProblem if it is not a YAML mapping."""
        if self.raw is None:
            return
        self._data, self._positions, self._key_positions = parse_mapping(self.raw, SHALLOW)
        self._shallow, self.raw = self.raw, None

    def _deepen(self) -> None:
        """Parse and keep every position, not only the first SHALLOW levels'."""
        self.parse()
        if self._shallow is not None:
            _, self._positions, self._key_positions = parse_mapping(self._shallow)
            self._shallow = None

    @property
    def data(self) -> Any:
        self.parse()
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self.parse()
        self._data = value

    @property
    def positions(self) -> dict[FieldPath, tuple[int, int]]:
        self._deepen()
        return self._positions

    @property
    def key_positions(self) -> dict[FieldPath, tuple[int, int]]:
        self._deepen()
        return self._key_positions

    def locate(self, loc: FieldPath, key: bool = False) -> tuple[int, int]:
        """Position of ``loc``, or of its nearest ancestor that exists in the file."""
        self.parse()
        if len(loc) > SHALLOW:  # a shorter path and its ancestors are all known already
            self._deepen()
        positions, key_positions = self._positions, self._key_positions
        table = key_positions if key else positions
        probe = tuple(loc)
        while probe:
            if probe in table:
                return table[probe]
            if probe in key_positions:
                return key_positions[probe]
            probe = probe[:-1]
        return positions.get((), (1, 1))


class YamlProblem(Exception):
    def __init__(self, line: int, col: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.line, self.col, self.message, self.hint = line, col, message, hint


def display_path(path: Path, folders: dict[str, str | None] | None = None) -> str:
    """``path`` relative to the working directory when it is below it.

    Only the folder is resolved: a symbolic link is named as the link, not as its target.
    ``folders`` remembers how each folder below the working directory is shown (None for
    the others) across one walk, so a file there costs one look-up, by the folder's text
    (10,000 look-ups by the parent path object took 0.055 s, by its text 0.035 s).
    """
    name = path.name
    if name:
        memo = folders if folders is not None else {}
        parent = os.path.dirname(path)
        if parent in memo:
            prefix = memo[parent]
        else:
            try:
                shown = str(path.absolute().parent.resolve().relative_to(Path.cwd().resolve()))
                prefix = "" if shown == "." else shown + os.sep
            except ValueError:
                prefix = None
            memo[parent] = prefix
        if prefix is not None:
            return prefix + name
        # The folder is outside, so the path is too unless it is the working directory, whose
        # name (the kernel's, without links) it would end with: 10,000 files listed outside
        # took 0.4 s of resolving otherwise.
        if name != os.path.basename(os.getcwd()):
            return str(path)
    try:  # outside the working directory, unless it is the working directory itself
        cwd = Path.cwd().resolve()
        return str((path.absolute().parent.resolve() / name).relative_to(cwd))
    except ValueError:
        return str(path)


def _mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


def _scalar(event: Any) -> Any:
    value: str = event.value
    bad = _DISGUISE.search(value)
    if bad:
        line, col = _mark(event)
        code = f"U+{ord(bad.group()):04X}"
        name = unicodedata.name(bad.group(), "control character")
        raise YamlProblem(
            line,
            col,
            f"text contains {code} {name}",
            "remove invisible, control and direction-override characters",
        )
    if event.tag not in (None, "!", _STR_TAG):
        line, col = _mark(event)
        raise YamlProblem(line, col, f"YAML tag {event.tag!r} is not allowed", "remove the tag")
    if not event.implicit[0] or event.tag == _STR_TAG:
        return value  # quoted or block scalar, or explicitly a string
    if len(value) > MAX_INT_DIGITS and _INT.match(value):
        line, col = _mark(event)
        raise YamlProblem(line, col, f"number has {len(value):,} digits", "write a smaller number")
    return _plain(value)


Parsed = tuple[Any, dict[FieldPath, tuple[int, int]], dict[FieldPath, tuple[int, int]]]


def parse_yaml(text: str, parser: Any = None, depth: int = MAX_DEPTH) -> Parsed:
    """Parse one YAML document into plain values with positions; raise YamlProblem.

    Positions are kept for paths of at most ``depth`` steps (perhaps more).
    """
    if parser is None:
        parsed = _read_nodes(text, depth)
        if parsed is not None:
            return parsed
    return _read_events(text, parser)


# Scalars that can resolve to something other than text start with one of these (or are empty).
_NOT_TEXT_START = frozenset("~nNtTfF+-.0123456789")
# Longer documents go straight to the event reader, which refuses one of more than MAX_NODES
# nodes as soon as it gets there, where libyaml's composer would build every node first.
_FAST_MAX_CHARS = 100_000


class _Unsure(Exception):
    """The node reader cannot vouch for what it read: the event reader decides."""


if _CParser is not None:

    class _Composer(_CParser):  # type: ignore[misc]
        """libyaml's composer with the YAML 1.1 resolver left out: each node's tag is the
        implicit flags libyaml gave it (a string only for an explicit tag), from which
        :func:`_read_nodes` applies the YAML 1.2 core schema as :func:`_scalar` does."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            return implicit

        def descend_resolver(self, parent: Any, index: Any) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None


def _read_nodes(text: str, depth: int = MAX_DEPTH) -> Parsed | None:
    """What :func:`_read_events` would return, from libyaml's node tree; None when unsure.

    Positions are kept for paths of at most ``depth`` steps (every path by default).

    Only a file that has none of the characters the event reader refuses in text is read this
    way, so a value needs checking only if it is double-quoted and an escape could have made
    one.  A node that starts with an anchor or a tag (its mark points at the ``&`` or ``!``)
    gives up; aliases need an anchor; several documents, bad syntax and libyaml's own limits
    raise.
    """
    if _CParser is None or len(text) > _FAST_MAX_CHARS or _DISGUISE.search(text):
        return None
    with collector_paused():  # the tree has no cycles: reference counting frees it
        return _read_tree(text, depth)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block without the cyclic garbage collector.

    Reading and validating a file make thousands of objects that live until the file is done
    (a node tree, models, positions), and the collector scans them again and again: in a
    worker forked from a large process that made checking a file take a quarter longer.
    Cycles made meanwhile (an exception's traceback) are collected after the block.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _read_tree(text: str, depth: int) -> Parsed | None:
    try:
        loader = _Composer(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except Exception:  # whatever it is, the event reader reports it properly
        return None
    if type(root) is not yaml.MappingNode:
        return None
    tree = _Tree("&" in text or "!" in text, "\\" in text, depth)
    try:
        data = tree.value(root, (), 0, text)
    except (_Unsure, IndexError):  # IndexError: a mark at the very end (an empty last value)
        return None
    if tree.nodes > MAX_NODES:
        return None
    return data, tree.positions, tree.key_positions


class _Tree:
    """Reads a node tree into plain values and positions, checking what the event reader does.

    ``marked``: a node may start with ``&`` or ``!``; ``escapes``: a double-quoted scalar may
    hold an escaped character; ``depth``: the longest path whose positions are kept.
    """

    def __init__(self, marked: bool, escapes: bool, depth: int) -> None:
        self.marked, self.escapes, self.depth = marked, escapes, depth
        self.positions: dict[FieldPath, tuple[int, int]] = {}
        self.key_positions: dict[FieldPath, tuple[int, int]] = {}
        self.nodes = 1  # the root; each collection adds its own

    def value(self, node: Any, path: FieldPath, depth: int, text: str) -> Any:
        """One node's plain value; ``depth`` is the length of ``path``.

        Recursive: nesting is bounded by MAX_DEPTH before it could matter.
        """
        if self.marked and text[node.start_mark.index] in "&!":
            raise _Unsure
        if depth <= self.depth:
            mark = node.start_mark
            self.positions[path] = (mark.line + 1, mark.column + 1)
        if type(node) is yaml.ScalarNode:
            return self.scalar(node)
        return self.collection(node, path, depth, text)

    def scalar(self, node: Any) -> Any:
        implicit = node.tag
        if type(implicit) is not tuple:  # an explicit tag
            raise _Unsure
        value: str = node.value
        if self.escapes and node.style == '"' and _DISGUISE.search(value):
            raise _Unsure
        if not implicit[0]:  # quoted or block
            return value
        if not value:
            return None
        return _plain(value) if value[0] in _NOT_TEXT_START else value

    def collection(self, node: Any, path: FieldPath, depth: int, text: str) -> Any:
        if depth >= MAX_DEPTH or type(node.tag) is not bool:
            raise _Unsure
        depth += 1
        keep = depth <= self.depth  # the children's paths and positions
        # A scalar child whose position is not kept, in a file without anchors or tags, is
        # read without value()'s checks: most nodes are such, and the calls were a third of
        # the walk.
        direct = not keep and not self.marked
        scalar = yaml.ScalarNode
        items = node.value
        if type(node) is yaml.MappingNode:
            self.nodes += 2 * len(items)
            mapping: dict[str, Any] = {}
            for key_node, value_node in items:
                if type(key_node.tag) is not tuple or type(key_node) is not scalar:
                    raise _Unsure
                key: str = key_node.value
                if len(key) > MAX_INT_DIGITS or (
                    self.escapes and key_node.style == '"' and _DISGUISE.search(key)
                ):
                    raise _Unsure
                if direct:
                    if type(value_node) is scalar:
                        mapping[key] = self.scalar(value_node)
                    else:
                        mapping[key] = self.collection(value_node, path, depth, text)
                    continue
                key_mark = key_node.start_mark
                if self.marked and text[key_mark.index] in "&!":
                    raise _Unsure
                if keep:
                    child = (*path, key)
                    self.key_positions[child] = (key_mark.line + 1, key_mark.column + 1)
                    mapping[key] = self.value(value_node, child, depth, text)
                else:
                    mapping[key] = self.value(value_node, path, depth, text)
            if len(mapping) != len(items):  # a duplicate key
                raise _Unsure
            return mapping
        self.nodes += len(items)
        if direct:
            return [
                self.scalar(item)
                if type(item) is scalar
                else self.collection(item, path, depth, text)
                for item in items
            ]
        if keep:
            return [
                self.value(item, (*path, index), depth, text) for index, item in enumerate(items)
            ]
        return [self.value(item, path, depth, text) for item in items]


def _plain(value: str) -> Any:
    """A plain (unquoted, untagged) scalar under the YAML 1.2 core schema (both readers).

    A number too long to convert safely is left to the event reader, which says where."""
    word = _WORDS.get(value, _NOT_A_WORD)
    if word is not _NOT_A_WORD:
        return word
    if value[0] not in _NUMBER_START:  # not empty: that is a word
        return value
    if _INT.match(value):
        if len(value) > MAX_INT_DIGITS:
            raise _Unsure
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    return value


def _read_events(text: str, parser: Any = None) -> Parsed:
    """Parse from the event stream, checking every event; raise YamlProblem."""
    positions: dict[FieldPath, tuple[int, int]] = {}
    key_positions: dict[FieldPath, tuple[int, int]] = {}
    # Each frame: [container, path, pending key or None]; iterative so depth cannot blow the stack.
    stack: list[list[Any]] = []
    root: Any = None
    documents = nodes = 0
    try:
        for event in _events(text, parser or _Parser):
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    line, col = _mark(event)
                    raise YamlProblem(
                        line, col, "more than one YAML document", "keep one document per file"
                    )
                continue
            if isinstance(event, yaml.AliasEvent):
                line, col = _mark(event)
                raise YamlProblem(
                    line, col, "YAML aliases are not allowed", "write the value out in full"
                )
            if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
                line, col = _mark(event)
                raise YamlProblem(
                    line, col, "YAML anchors are not allowed", "remove the '&' anchor"
                )
            if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                value, _path, _key = stack.pop()
                root = _attach(stack, value, root)
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            nodes += 1
            if nodes > MAX_NODES:
                line, col = _mark(event)
                raise YamlProblem(
                    line,
                    col,
                    f"more than {MAX_NODES:,} keys and values in one file",
                    "a disclosure should stay readable; shorten it",
                )
            # A key of a mapping?
            if stack and isinstance(stack[-1][0], dict) and stack[-1][2] is None:
                if not isinstance(event, yaml.ScalarEvent):
                    line, col = _mark(event)
                    raise YamlProblem(
                        line, col, "a key must be plain text", "use a simple `name:` key"
                    )
                key = event.value
                _scalar(event)  # same character checks as values
                container, path, _ = stack[-1]
                if key in container:
                    line, col = _mark(event)
                    first = key_positions[(*path, key)][0]
                    raise YamlProblem(
                        line,
                        col,
                        f"duplicate key {key!r}",
                        f"it is already set at line {first}; keep one",
                    )
                key_positions[(*path, key)] = _mark(event)
                stack[-1][2] = key
                continue
            path = _child_path(stack)
            positions[path] = _mark(event)
            if isinstance(event, yaml.ScalarEvent):
                root = _attach(stack, _scalar(event), root)
            else:
                if len(stack) >= MAX_DEPTH:
                    line, col = _mark(event)
                    raise YamlProblem(
                        line, col, f"nested deeper than {MAX_DEPTH} levels", "flatten the structure"
                    )
                mapping = isinstance(event, yaml.MappingStartEvent)
                tag = getattr(event, "tag", None)
                if tag not in (None, "!", _MAP_TAG if mapping else _SEQ_TAG):
                    line, col = _mark(event)
                    raise YamlProblem(
                        line, col, f"YAML tag {tag!r} is not allowed", "remove the tag"
                    )
                new: Any = {} if mapping else []
                stack.append([new, path, None])
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem) and parser is None:
            # libyaml 0.2.5+ scans far ahead and stops at 1,000 levels before this function
            # sees the 33rd; the pure-Python parser gives the same answer in every version.
            return _read_events(text, yaml.SafeLoader)
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        hint = "check indentation, quotes and colons" if "\t" not in text else "replace tabs"
        raise YamlProblem(line, col, f"YAML syntax: {problem}", hint) from None
    except yaml.reader.ReaderError as exc:  # a character YAML forbids anywhere, comments too
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        # The first occurrence is the offending one (libyaml counts bytes, PyYAML characters).
        index = max(text.find(char), 0)
        line = text.count("\n", 0, index) + 1
        col = index - (text.rfind("\n", 0, index) + 1) + 1
        name = unicodedata.name(char, "control character")
        raise YamlProblem(
            line,
            col,
            f"text contains U+{ord(char):04X} {name}",
            "remove invisible, control and direction-override characters",
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, 1, f"YAML: {exc}", "save the file as plain UTF-8 text") from None
    return root, positions, key_positions


def _events(text: str, parser: Any) -> Iterator[Any]:
    loader = parser(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def _child_path(stack: list[list[Any]]) -> FieldPath:
    if not stack:
        return ()
    container, path, key = stack[-1]
    if isinstance(container, dict):
        return (*path, key)
    return (*path, len(container))


def _attach(stack: list[list[Any]], value: Any, root: Any) -> Any:
    if not stack:
        return value
    frame = stack[-1]
    if isinstance(frame[0], dict):
        frame[0][frame[2]] = value
        frame[2] = None
    else:
        frame[0].append(value)
    return root


def decode(raw: bytes) -> str:
    """Decode strict UTF-8 without BOM, or raise YamlProblem at the offending byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise YamlProblem(1, 1, "file starts with a byte-order mark", "save as UTF-8 without BOM")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlProblem(1, 1, "file is UTF-16", "save the file as UTF-8")
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        col = nul - (raw.rfind(b"\n", 0, nul) + 1) + 1
        raise YamlProblem(line, col, "file contains a NUL byte", "this looks like a binary file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        guess = ""
        try:
            raw.decode("gb18030")
            guess = " (it looks like GBK/GB18030)"
        except UnicodeDecodeError:
            pass
        raise YamlProblem(
            line, col, f"file is not valid UTF-8{guess}", "re-save the file with UTF-8 encoding"
        ) from None


class _NotRegular(Exception):
    pass


class _TooBig(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


def _read_regular(path: Path, status: list[os.stat_result] | None = None) -> bytes:
    """The bytes of a regular file, opened without following a link (a symlink swapped in
    after the check above fails here), without blocking on a FIFO, and never more than the
    size limit even if the file grows while it is read.

    ``status`` receives the file's status, taken before it is read: a change made while it
    is read shows in the next status, so the record (:class:`Seen`) never vouches for it.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if status is not None:
            status.append(info)
        if not stat.S_ISREG(info.st_mode):
            raise _NotRegular
        if info.st_size > MAX_FILE_BYTES:
            raise _TooBig(info.st_size)
        chunks: list[bytes] = []
        total = 0
        while total <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise _TooBig(total)
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse_mapping(
    raw: bytes, depth: int = MAX_DEPTH
) -> tuple[dict[str, Any], dict[FieldPath, tuple[int, int]], dict[FieldPath, tuple[int, int]]]:
    """Decode and parse one file's bytes; raise YamlProblem unless they hold a mapping.

    Positions are kept for paths of at most ``depth`` steps (perhaps more).
    """
    data, positions, key_positions = parse_yaml(decode(raw), depth=depth)
    if not isinstance(data, dict):
        raise YamlProblem(1, 1, "the file must be a mapping of `key: value` lines", "")
    return data, positions, key_positions


class ReadProblem(NamedTuple):
    """Why a listed file's bytes cannot be had, as the report says it (line 1, column 1)."""

    message: str
    hint: str


class Read(NamedTuple):
    """A file's bytes, its status before they were read, and the time just after (for
    :class:`Seen`)."""

    raw: bytes
    status: Status
    at: int  # time.time_ns()


def read_listed(path: Path) -> Read | ReadProblem:
    """The bytes of a file the listing says is no symbolic link, with its status; or why
    they cannot be read.  Safe in a worker process: it reports nothing itself."""
    status: list[os.stat_result] = []
    try:
        raw = _read_regular(path, status)
        return Read(raw, _status(status[0]), time.time_ns())
    except _NotRegular:
        return ReadProblem("not a regular file", "commit a plain text file")
    except _TooBig as big:
        return ReadProblem(
            f"file is {big.size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit",
            "shorten the text; a disclosure should stay readable",
        )
    except OSError as exc:
        return ReadProblem(f"cannot read file: {exc.strerror}", "check permissions")


def read_bytes(
    path: Path,
    shown: str,
    report: Report,
    link: bool | None = None,
    read: list[Read] | None = None,
) -> bytes | None:
    """A source file's bytes; a link, a special file or an oversized one goes to ``report``.

    ``link``: whether ``path`` is a symbolic link, when the caller's directory listing said.
    ``read`` receives the whole :class:`Read`.
    """
    try:
        linked = path.is_symlink() if link is None else link
    except OSError as exc:
        report.add(shown, 1, 1, "", f"cannot read file: {exc.strerror}", "check permissions")
        return None
    if linked:
        report.add(shown, 1, 1, "", "symbolic links are not allowed", "commit the file itself")
        return None
    got = read_listed(path)
    if isinstance(got, ReadProblem):
        report.add(shown, 1, 1, "", got.message, got.hint)
        return None
    if read is not None:
        read.append(got)
    return got.raw


def read_source(
    path: Path,
    kind: Kind,
    provider_id: str,
    report: Report,
    defer: bool = False,
    folders: dict[str, str | None] | None = None,
    link: bool | None = None,
    seen: Seen | None = None,
) -> SourceDoc | None:
    """Read and parse one file; problems go to ``report`` and give None.

    With ``defer`` the file is neither read nor parsed here: the validate stage reads it
    (on both cores when there are many), may find its result in the build cache, and
    reports its problems.  The doc is *pending* until then: no digest yet.  With ``seen``
    too, a file whose status it vouches for has its digest, and is not read until its
    bytes are asked for.  A symbolic link is reported here either way.
    """
    shown = display_path(path, folders)
    if defer and not link:
        known = seen.vouch(path) if seen is not None else None
        # Left pending only when the listing said it is no link (else it is asked here).
        if known is not None or link is False:
            doc = SourceDoc(shown, kind, provider_id, path.stem, digest=known or "")
            doc.unread = path
            return doc
    read: list[Read] = []
    raw = read_bytes(path, shown, report, link, read)
    if raw is None:
        return None
    doc = SourceDoc(shown, kind, provider_id, path.stem, digest=hashlib.sha256(raw).hexdigest())
    doc.raw = raw
    if seen is not None and read:
        seen.record(path, read[0].status, doc.digest, read[0].at)
    if not defer:
        try:
            doc.parse()
        except YamlProblem as exc:
            report.add(shown, exc.line, exc.col, "", exc.message, exc.hint)
            return None
    return doc


class FileChanged(SitegenError):
    """A file's bytes are no longer those it was checked from (edited during the build)."""


def read_again(path: Path, shown: str, digest: str) -> bytes:
    """The bytes of a file known by its digest, which they must still have."""
    try:
        raw = _read_regular(path)
    except (OSError, _NotRegular, _TooBig):
        raise FileChanged(f"{shown} changed during the build; build again") from None
    if hashlib.sha256(raw).hexdigest() != digest:
        raise FileChanged(f"{shown} changed during the build; build again")
    return raw


# A status younger than this, when it was recorded, may not show a later change: some file
# systems keep times to the second or two, and a change within the same tick keeps them.
_RACY_NS = 3_000_000_000

Status = tuple[int, int, int, int, int]  # device, inode, size, modified and changed (ns)


def _status(info: os.stat_result) -> Status:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class Seen:
    """The status and digest of each source file as the last build read it, kept in the
    build cache, so that an unchanged file is not read again (reading and hashing 10,000
    files took 0.35 s: a third of a pull-request check with the main branch's cache).

    As git's index does, a record vouches for a file only while its status (device, inode,
    size, modification and change times) is the same, and only if the file had not changed
    within a few seconds of being recorded (a change in the same clock tick keeps the
    times).  The change time is set by the system on any write and cannot be set back by
    tools that restore modification times.  A file a record vouched for is read when its
    bytes are needed, and a digest that does not match stops the build by name.
    """

    NAMESPACE = "seen"

    def __init__(self, cache: Cache, root: Path) -> None:
        # Each record: (status, digest, when it was stored); stored in shards, so a rebuild
        # rewrites the few that hold a changed file.
        self.stored = Sharded(cache, self.NAMESPACE, str(root.resolve()))
        self.old: dict[str, tuple[Status, str, int]] = self.stored.entries
        self.new: dict[str, tuple[Status, str, int]] = {}
        self._pending: list[tuple[str, Status, str, int]] = []  # recorded, not yet stored

    def vouch(self, path: Path) -> str | None:
        """The digest of ``path``'s bytes if the record still stands for them."""
        name = str(path)
        entry = self.old.get(name)
        if not (isinstance(entry, tuple) and len(entry) == 3):
            return None
        try:
            now = _status(os.lstat(path))
        except OSError:
            return None
        if now != entry[0] or max(now[3], now[4]) > entry[2] - _RACY_NS:
            return None
        self.new[name] = entry
        return entry[1]

    def record(self, path: Path, status: Status, digest: str, read_at: int) -> None:
        """Keep what a regular file's read found (a :class:`Read`'s status and time)."""
        self._pending.append((str(path), status, digest, read_at))

    def store(self) -> None:
        """Keep the records of the files found now.  A new record is stored with the time
        its file was read: later than its status, and not later, which would trust a
        change made in the same clock tick as the read once the build had taken a few
        seconds (files are read as the workers get to them).  One carried over keeps its
        own time, as it was vouched for: its file had not changed for seconds before."""
        for name, status, digest, read_at in self._pending:
            self.new[name] = (status, digest, read_at)
        self._pending.clear()
        self.stored.save(self.new)


@dataclass
class Sources:
    """Everything the load stage found under the source folder."""

    root: Path
    site: SourceDoc | None
    providers: dict[str, SourceDoc]
    algorithms: list[SourceDoc]
    provider_dirs: list[str]
    # Set by ``discover(..., cache=...)``: the files are listed, not read, and the validate
    # stage reads and parses (or finds in this cache) each one, and drops those it cannot.
    cache: Cache | None = None
    # Each provider folder's entry names, sorted, as the walk found them.
    listed: dict[str, list[str]] = field(default_factory=dict)
    # The files' status records (with a working cache): the validate stage records the files
    # it reads, then stores them.
    seen: Seen | None = None


def discover(root: Path, report: Report, cache: Cache | None = None) -> Sources:
    """Walk ``root`` in sorted order so the same tree always loads the same way.

    With a ``cache`` (even a disabled one) files are only listed here; the validate stage
    reads and parses them, or finds their results in the cache, on both cores when there
    are many.  Reading 10,000 files here took a second of a cold check, one core idle.
    """
    defer = cache is not None
    seen = Seen(cache, root) if cache is not None and cache.enabled else None
    folders: dict[str, str | None] = {}
    if not root.is_dir():
        report.add(display_path(root), 1, 1, "", "source folder not found", "pass --source DIR")
        return Sources(root, None, {}, [], [], cache)
    site_path = root / "site.yaml"
    site = None
    site_link = site_path.is_symlink()
    if site_link or site_path.exists():
        site = read_source(site_path, Kind.SITE, "", report, defer, folders, site_link, seen)
    else:
        report.add(
            display_path(site_path), 1, 1, "", "site.yaml is missing", "create it (docs/format.md)"
        )
    providers: dict[str, SourceDoc] = {}
    algorithms: list[SourceDoc] = []
    provider_dirs: list[str] = []
    listed: dict[str, list[str]] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name == "site.yaml":
            continue
        if entry.is_symlink():
            report.add(
                display_path(entry), 1, 1, "", "symbolic links are not allowed", "commit the folder"
            )
            continue
        if not entry.is_dir():
            if entry.suffix in (".yaml", ".yml"):
                report.add(
                    display_path(entry),
                    1,
                    1,
                    "",
                    "disclosures belong in a provider folder",
                    f"move it to {root.name}/<provider-id>/{entry.name}",
                )
            continue
        provider_dirs.append(entry.name)
        # The listing's names and file types: walking 10,000 files as sorted path objects
        # took 0.05 s, by their names 0.03 s.  Names sort as the paths do within one folder.
        # A link is still asked about through its path.
        with os.scandir(entry) as listing:
            types = {found.name: found for found in listing}
        listed[entry.name] = sorted(types)
        for name in listed[entry.name]:
            if name.startswith("."):
                continue
            item = entry / name
            suffix = name[name.rfind(".") :] if "." in name else ""
            if suffix == ".yml":
                report.add(
                    display_path(item, folders),
                    1,
                    1,
                    "",
                    "unexpected extension .yml",
                    "rename to .yaml",
                )
                continue
            found = types[name]
            link = found.is_symlink()
            is_dir = item.is_dir() if link else found.is_dir()
            if is_dir or suffix != ".yaml":
                if is_dir or link:
                    report.add(
                        display_path(item, folders),
                        1,
                        1,
                        "",
                        "unexpected entry in a provider folder",
                        "a provider folder holds provider.yaml and <algorithm-id>.yaml files only",
                    )
                continue
            kind = Kind.PROVIDER if name == "provider.yaml" else Kind.ALGORITHM
            doc = read_source(item, kind, entry.name, report, defer, folders, link, seen)
            if doc is None:
                continue
            if kind is Kind.PROVIDER:
                providers[entry.name] = doc
            else:
                algorithms.append(doc)
    return Sources(root, site, providers, algorithms, provider_dirs, cache, listed, seen)
