"""Untrusted text: payloads in every text field render as text; hostile URLs never validate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from htmlcheck import html_files, soup

from sitegen.pipeline import build_site, check

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1)) [d](data:text/html;base64,PHNjcmlwdD4=) [p](//evil.example)",
    "&lt;script&gt;alert(1)&lt;/script&gt; &#106;avascript:alert(1)",
    "<style>body{display:none}</style><iframe src=//evil.example></iframe>",
    "![x](https://evil.example/track.png)",
]
# What a reader sees of each payload: proof it was rendered as text, not dropped.
VISIBLE = {
    p: "display:none" if "display:none" in p else "alert(1)" if "alert(1)" in p else "!x"
    for p in PAYLOADS
}


def poison(value: Any, payload: str, path: tuple[str, ...] = ()) -> Any:
    """Put the payload into every human-readable text of a disclosure."""
    if isinstance(value, dict):
        if set(value) <= {"zh", "en"} and all(isinstance(v, str) for v in value.values()):
            return {lang: f"{text} {payload}" for lang, text in value.items()}
        return {k: poison(v, payload, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, payload, path) for v in value]
    if isinstance(value, str) and path and path[-1] in ("mechanism", "target") and "@" not in value:
        if path[-1] == "target" and not value.startswith("设置"):
            return value
        return f"{value} {payload}"
    return value


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_every_text_field_stay_text(tmp_path: Path, mini: Path, payload: str) -> None:
    for name in ("acme/feed.yaml", "acme/ranker.yaml", "acme/provider.yaml", "site.yaml"):
        path = mini / name
        data = yaml.safe_load(path.read_text("utf-8"))
        path.write_text(yaml.safe_dump(poison(data, payload), allow_unicode=True), "utf-8")
    out = tmp_path / "site"
    build_site(mini, out)
    seen_payload_text = False
    for page in html_files(out):
        doc = soup(page)
        for tag in doc.find_all(["script", "iframe", "img", "style", "object", "embed"]):
            assert tag.name == "script" and tag.get("src", "").endswith(".js"), (page, tag)
        for tag in doc.find_all(True):
            assert not [a for a in tag.attrs if a.lower().startswith("on")], (page, tag)
            for attr in ("href", "src", "action"):
                value = str(tag.get(attr, "")).strip().lower()
                assert not value.startswith(("javascript:", "data:", "vbscript:")), (page, tag)
                assert not value.startswith("//"), (page, tag)
            # Nothing may load from another host by itself (a plain https link is fine).
            assert "evil.example" not in str(tag.get("src", "")), (page, tag)
        text = doc.get_text()
        if VISIBLE[payload] in text:
            seen_payload_text = True
    assert seen_payload_text  # the text is shown, as text


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/x",
        "http://plain.example",
        'https://ok.example/"onmouseover=alert(1)',
        "https://ok.example/<script>",
        "&#106;avascript:alert(1)",
        " https://leading.space",
    ],
)
def test_hostile_urls_do_not_validate(mini: Path, url: str) -> None:
    path = mini / "acme/feed.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["products"][0]["url"] = url
    data["complaint_channels"][1]["target"] = url
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    fields = sorted(d.field for d in check(mini).errors)
    assert fields == ["complaint_channels[1].target", "products[0].url"]
