"""Diagnostics: every problem found in the input is a value, not an exception.

Each stage appends :class:`Diagnostic` records to a shared :class:`Report`, so one run reports
every problem at once; the front ends (text, GitHub annotations, JSON, the dev server's page)
only format them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


# Echoed file content (an id, a key, a file name) must not start a new line that looks like
# another diagnostic, send terminal escape sequences, or reorder the text around it.
_UNSAFE_IN_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
)


def _shown(text: str) -> str:
    return _UNSAFE_IN_LINE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem, anchored where the reader should look in the source file."""

    path: str
    line: int
    col: int
    severity: Severity
    field: str
    message: str
    hint: str = ""
    rule: str = ""

    def format_text(self) -> str:
        """One line; control and direction characters that came from a file are escaped."""
        where = f"{_shown(self.path)}:{self.line}:{self.col}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        hint = f" ({self.hint})" if self.hint else ""
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{where}: {self.severity}: {_shown(what)}{_shown(hint)}{rule}"

    def format_github(self) -> str:
        # Workflow commands need %, CR and LF escaped in both properties and message.
        def esc(text: str, prop: bool = False) -> str:
            text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            return text.replace(":", "%3A").replace(",", "%2C") if prop else text

        what = f"{self.field}: {self.message}" if self.field else self.message
        if self.hint:
            what += f" ({self.hint})"
        if self.rule:
            what += f" [{self.rule}]"
        props = f"file={esc(self.path, True)},line={self.line},col={self.col}"
        return f"::{self.severity} {props}::{esc(what)}"

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data


@dataclass
class Report:
    """Collects diagnostics from every stage; sorted output keeps runs comparable."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        path: str,
        line: int,
        col: int,
        field_path: str,
        message: str,
        hint: str = "",
        severity: Severity = Severity.ERROR,
        rule: str = "",
    ) -> None:
        self.items.append(Diagnostic(path, line, col, severity, field_path, message, hint, rule))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(sorted(set(self.items)))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self if d.severity is Severity.WARNING]

    def has_errors(self, strict: bool = False) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))

    def errors_for(self, path: str) -> list[Diagnostic]:
        return [d for d in self.items if d.path == path and d.severity is Severity.ERROR]

    def render(self, fmt: str) -> str:
        items = list(self)
        if fmt == "json":
            return json.dumps(
                {
                    "errors": sum(d.severity is Severity.ERROR for d in items),
                    "warnings": sum(d.severity is Severity.WARNING for d in items),
                    "diagnostics": [d.as_dict() for d in items],
                },
                ensure_ascii=False,
                indent=2,
            )
        if fmt == "github":
            return "\n".join(d.format_github() for d in items)
        return "\n".join(d.format_text() for d in items)


class SitegenError(Exception):
    """A failure the user can act on; the CLI prints the message and exits with ``code``."""

    code = 1


class UsageError(SitegenError):
    code = 2


class InvalidInput(SitegenError):
    """The registry has errors; the report holds them."""

    code = 1

    def __init__(self, report: Report) -> None:
        super().__init__(f"{len(report.errors)} error(s) in the registry")
        self.report = report


class OutputError(SitegenError):
    """Writing the site failed (disk full, permissions); the previous output is intact."""

    code = 1
