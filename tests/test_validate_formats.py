"""`validate --format text|github|json`: one set of diagnostics for people, PRs and tools."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import CliRunner

from sitegen.diagnostics import Diagnostic, Severity

TODAY = ("--today", "2026-11-29")


def break_fixture(mini: Path) -> None:
    """One error (bad category); ranker.yaml's warning stays (feed.yaml's goes with the file)."""
    feed = mini / "acme" / "feed.yaml"
    feed.write_text(feed.read_text("utf-8").replace("personalized_push", "personalised_push"))


def test_github_format_annotates_lines(mini: Path, cli: CliRunner) -> None:
    break_fixture(mini)
    done = cli("validate", "--source", "disclosures", "--format", "github", *TODAY, cwd=mini.parent)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    pattern = re.compile(r"^::(error|warning) file=([^,]+),line=(\d+),col=(\d+)::(.+)$")
    parsed = [pattern.match(line) for line in lines]
    assert all(parsed), lines
    found = {(m[1], m[2], m[3], m[4]) for m in parsed if m}
    assert ("error", "disclosures/acme/feed.yaml", "4", "11") in found
    assert ("warning", "disclosures/acme/ranker.yaml", "25", "1") in found
    error = next(m for m in parsed if m and m[1] == "error")
    assert "category: " in error[5] and "did you mean 'personalized_push'?" in error[5]
    warning = next(m for m in parsed if m and m[1] == "warning" and "ranker" in m[2])
    assert warning[5].endswith("[Provisions Art. 22]")
    # Workflow commands are machine-read: no summary line on stdout.
    assert not any(line.startswith("validate ") for line in lines)


def test_github_format_escapes_newlines_and_property_separators() -> None:
    item = Diagnostic(
        "a,b:c.yaml", 3, 4, Severity.ERROR, "name", "line one\nline two 100%", "fix, please"
    )
    text = item.format_github()
    assert text.startswith("::error file=a%2Cb%3Ac.yaml,line=3,col=4::")
    assert "\n" not in text and "%0A" in text and "100%25" in text


def test_json_format_for_tools(mini: Path, cli: CliRunner) -> None:
    break_fixture(mini)
    done = cli("validate", "--source", "disclosures", "--format", "json", *TODAY, cwd=mini.parent)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert (data["errors"], data["warnings"]) == (1, 1)
    keys = {"path", "line", "col", "severity", "field", "message", "hint", "rule"}
    assert all(set(d) == keys for d in data["diagnostics"])
    error = next(d for d in data["diagnostics"] if d["severity"] == "error")
    assert (error["path"], error["line"], error["col"], error["field"]) == (
        "disclosures/acme/feed.yaml",
        4,
        11,
        "category",
    )
    rules = sorted(d["rule"] for d in data["diagnostics"] if d["severity"] == "warning")
    assert rules == ["Provisions Art. 22"]


def test_json_is_valid_even_when_clean(cli: CliRunner) -> None:
    from conftest import FIXTURES

    done = cli("validate", "--source", str(FIXTURES / "mini"), "--format", "json", *TODAY)
    assert done.returncode == 0
    assert json.loads(done.stdout)["errors"] == 0


def test_text_format_ends_with_a_summary(mini: Path, cli: CliRunner) -> None:
    break_fixture(mini)
    done = cli("validate", "--source", "disclosures", *TODAY, cwd=mini.parent)
    assert done.returncode == 1
    assert "disclosures/acme/feed.yaml:4:11: error: category:" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "validate failed: 1 error(s), 1 warning(s)"


def test_strict_applies_to_every_format(mini: Path, cli: CliRunner) -> None:
    for fmt in ("text", "github", "json"):
        relaxed = cli("validate", "--source", str(mini), "--format", fmt, *TODAY)
        strict = cli("validate", "--source", str(mini), "--format", fmt, "--strict", *TODAY)
        assert (relaxed.returncode, strict.returncode) == (0, 1), fmt


def test_unknown_format_is_a_usage_error(cli: CliRunner) -> None:
    done = cli("validate", "--format", "xml")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
    assert "Traceback" not in done.stderr


def test_build_progress_only_on_a_terminal(mini: Path, tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    from conftest import ROOT

    def build(*extra: str, tty: bool) -> tuple[str, str]:
        command = [sys.executable, str(ROOT / "build.py"), "build", "--source", str(mini)]
        command += ["--out", str(tmp_path / "_site"), *extra]
        if not tty:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
            return done.stdout, done.stderr
        leader, follower = pty.openpty()
        try:
            done = subprocess.run(
                command, stdout=subprocess.PIPE, stderr=follower, text=True, timeout=120
            )
            os.close(follower)
            chunks = []
            while True:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(leader)
        return done.stdout, b"".join(chunks).decode("utf-8", "replace")

    stdout, stderr = build(tty=False)
    assert "rendering pages" not in stderr
    assert stdout.count("\n") == 1 and re.match(r"built 2 disclosures, \d+ pages", stdout)
    assert "warning(s) in" in stdout
    _, terminal = build(tty=True)
    assert "\rrendering pages… " in terminal
    stdout, terminal = build("--quiet", tty=True)
    assert "rendering pages" not in terminal and stdout == ""
