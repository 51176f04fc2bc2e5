"""``diff`` reports as text, Markdown, JSON or a standalone HTML page.

Every format reads without colour: each change says Added, Removed or Changed in words,
whether it is substantive or editorial, and shows the old value beside the new one; text
changes are marked word by word (character by character for Chinese) like
``git diff --word-diff``.  Unchanged fields are collapsed: counted in text (``--unchanged``
lists them), in a ``<details>`` element in Markdown and HTML.
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup, escape

from sitegen.compare import DiffReport, DisclosureChange
from sitegen.diff import ADDED, CHANGED, REMOVED, FieldChange
from sitegen.inline import highlight, word_diff_text

FORMATS = ("text", "markdown", "json", "html")
KIND = {ADDED: "Added", REMOVED: "Removed", CHANGED: "Changed"}
DISCLOSURE_KIND = {
    "added": "Added",
    "removed": "Removed",
    "withdrawn": "Withdrawn",
    "restored": "Restored",
    "renamed": "Renamed",
    "changed": "Changed",
}
REASONS = {
    "translation": "translation wording",
    "formatting": "formatting only",
    "descriptive": "descriptive field",
    "migration": "format migration",
}
SHORT = 60  # values up to this long sit on one line: old -> new


def nature(change: FieldChange) -> str:
    return "substantive" if change.substantive else f"editorial: {REASONS[change.reason]}"


def _name(change: DisclosureChange, languages: list[str]) -> str:
    names = [change.name[lang] for lang in languages if lang in change.name]
    return " / ".join(names)


def value_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


def _summary(report: DiffReport) -> str:
    counts = report.counts()
    total = len(report.changes)
    if not total:
        return "no differences"
    parts = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    return f"{total} disclosure(s) differ: {parts}"


def render(report: DiffReport, fmt: str, unchanged: bool = False) -> str:
    if fmt == "json":
        return json.dumps(report.as_json(), ensure_ascii=False, indent=2)
    if fmt == "markdown":
        return markdown(report)
    if fmt == "html":
        return html(report)
    return text(report, unchanged)


# -- text ------------------------------------------------------------------------------------


def text(report: DiffReport, unchanged: bool = False) -> str:
    lines = [f"From: {report.old.label}", f"To:   {report.new.label}", _summary(report)]
    for change in report.changes:
        lines.append("")
        head = f"{DISCLOSURE_KIND[change.change]:<9} {change.key}"
        if change.old_key:
            head += f" (was {change.old_key})"
        label = "substantive" if change.substantive else "editorial"
        lines.append(f"{head}  {_name(change, report.languages)}  [{label}]")
        if change.diff is None:
            continue
        if change.diff.migration:
            lines.append("  note: one version does not validate under the current format")
        for field in change.diff.changes:
            lines.extend(_text_field(field))
        if change.diff.unchanged:
            if unchanged:
                lines.append("  Unchanged: " + ", ".join(change.diff.unchanged))
            else:
                lines.append(
                    f"  Unchanged: {len(change.diff.unchanged)} field(s) (--unchanged lists them)"
                )
    return "\n".join(lines)


def _text_field(change: FieldChange) -> list[str]:
    head = f"  {KIND[change.kind]:<8} {change.path}  ({nature(change)})"
    old, new = value_text(change.old), value_text(change.new)
    if change.kind == ADDED:
        return [head, f"    now: {new}"]
    if change.kind == REMOVED:
        return [head, f"    was: {old}"]
    if len(old) + len(new) <= SHORT and "\n" not in old + new:
        return [f"{head}: {old} -> {new}"]
    out = [head, f"    was: {old}", f"    now: {new}"]
    segments = change.inline()
    if segments and any(op == "=" for op, _ in segments):
        out.append(f"    diff: {word_diff_text(segments)}")
    return out


# -- markdown ----------------------------------------------------------------------------------


def _cell(value: str) -> str:
    """Table cell text: pipes, newlines, HTML and Markdown markup made inert."""
    safe = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`*_[]~|":
        safe = safe.replace(char, "\\" + char)
    return safe.replace("\r\n", "<br>").replace("\n", "<br>")


def markdown(report: DiffReport) -> str:
    lines = [
        "# Registry changes",
        "",
        f"- From: {_cell(report.old.label)}",
        f"- To: {_cell(report.new.label)}",
        f"- {_summary(report)}",
    ]
    for change in report.changes:
        title = f"{DISCLOSURE_KIND[change.change]}: {change.key}"
        if change.old_key:
            title += f" (was {change.old_key})"
        label = "substantive" if change.substantive else "editorial"
        lines += [
            "",
            f"## {_cell(title)}",
            "",
            f"{_cell(_name(change, report.languages))} ({label})",
        ]
        if change.diff is None:
            continue
        if change.diff.migration:
            lines += ["", "> One version does not validate under the current format."]
        if change.diff.changes:
            lines += [
                "",
                "| Change | Field | Nature | Before | After |",
                "| --- | --- | --- | --- | --- |",
            ]
            for field in change.diff.changes:
                old = "" if field.kind == ADDED else value_text(field.old)
                new = "" if field.kind == REMOVED else value_text(field.new)
                lines.append(
                    f"| {KIND[field.kind]} | `{field.path.replace('`', '')}` | {nature(field)} "
                    f"| {_cell(old)} | {_cell(new)} |"
                )
        if change.diff.unchanged:
            lines += [
                "",
                f"<details><summary>Unchanged fields ({len(change.diff.unchanged)})</summary>",
                "",
                ", ".join(f"`{name}`" for name in change.diff.unchanged),
                "",
                "</details>",
            ]
    return "\n".join(lines)


# -- html ------------------------------------------------------------------------------------------


def _html_cells(change: FieldChange) -> tuple[Markup, Markup]:
    segments = change.inline()
    if change.kind == CHANGED and segments:
        return highlight(segments, "old"), highlight(segments, "new")
    old = "" if change.kind == ADDED else value_text(change.old)
    new = "" if change.kind == REMOVED else value_text(change.new)
    return Markup(escape(old)), Markup(escape(new))


def html(report: DiffReport) -> str:
    """A standalone page (no script, no style: del/ins and words carry the meaning)."""
    e = escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8"><title>Registry changes</title></head>',
        "<body>",
        "<main>",
        "<h1>Registry changes</h1>",
        f"<p>From: {e(report.old.label)}<br>To: {e(report.new.label)}</p>",
        f"<p>{e(_summary(report))}</p>",
    ]
    for index, change in enumerate(report.changes, start=1):
        title = f"{DISCLOSURE_KIND[change.change]}: {change.key}"
        if change.old_key:
            title += f" (was {change.old_key})"
        label = "substantive" if change.substantive else "editorial"
        names = " / ".join(
            f'<span lang="{e(lang)}">{e(change.name[lang])}</span>'
            for lang in report.languages
            if lang in change.name
        )
        out += [f'<section aria-labelledby="d{index}">', f'<h2 id="d{index}">{e(title)}</h2>']
        out.append(f"<p>{names} ({e(label)})</p>")
        diff = change.diff
        if diff is not None and diff.changes:
            out += [
                "<table>",
                f"<caption>Changes to {e(change.key)}</caption>",
                '<thead><tr><th scope="col">Field</th><th scope="col">Change</th>'
                '<th scope="col">Before</th><th scope="col">After</th></tr></thead>',
                "<tbody>",
            ]
            for field in diff.changes:
                old, new = _html_cells(field)
                lang = f' lang="{e(field.lang)}"' if field.lang else ""
                out.append(
                    f'<tr><th scope="row"><code>{e(field.path)}</code></th>'
                    f"<td>{e(KIND[field.kind])} ({e(nature(field))})</td>"
                    f"<td{lang}>{old}</td><td{lang}>{new}</td></tr>"
                )
            out += ["</tbody>", "</table>"]
        if diff is not None and diff.unchanged:
            items = "".join(f"<li><code>{e(name)}</code></li>" for name in diff.unchanged)
            out.append(
                f"<details><summary>Unchanged fields ({len(diff.unchanged)})</summary>"
                f"<ul>{items}</ul></details>"
            )
        out.append("</section>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out)
