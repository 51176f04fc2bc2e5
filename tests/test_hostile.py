"""The hostile corpus (tests/hostile/cases.toml): every bad file gets its own clear error, fast,
with no traceback and no output written; payloads in text are accepted and stay inert.

Every case runs in process: the validation call is timed, ``build_site`` must not even create
the output folder, and the command line's ``main`` must exit 1 with the expected lines and leave
an existing site byte-identical.  A representative case of every kind also runs as a real
``python build.py build`` process (in parallel, as cold starts cost a third of a second each).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from htmlcheck import html_files, soup

from sitegen.cli import main
from sitegen.diagnostics import InvalidInput
from sitegen.pipeline import build_site, check

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "hostile"
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"
TABLE = tomllib.loads((CORPUS / "cases.toml").read_text("utf-8"))["case"]
CASES = {case["name"]: case for case in TABLE}
LIMIT_SECONDS = 1.0


# -- generated cases: too big to commit, or not representable in git --------------------------


def _size_50mb(root: Path, outside: Path) -> None:
    (root / "acme/feed.yaml").write_bytes(b"# x\n" * (50 * 1024 * 1024 // 4))


def _folder_name_traversal(root: Path, outside: Path) -> None:
    folder = root / "evil%2F..%2F..%2Fetc"
    folder.mkdir()
    text = (MINI / "acme/provider.yaml").read_text("utf-8")
    (folder / "provider.yaml").write_text(text.replace("id: acme\n", ""), "utf-8")


def _folder_name_lookalike(root: Path, outside: Path) -> None:
    folder = root / "\u0430cme"  # CYRILLIC SMALL LETTER A, then "cme"
    folder.mkdir()
    text = (MINI / "acme/provider.yaml").read_text("utf-8")
    (folder / "provider.yaml").write_text(text.replace("id: acme", "id: \u0430cme"), "utf-8")


def _case_fold_folders(root: Path, outside: Path) -> None:
    (root / "ACME").mkdir()
    shutil.copy(MINI / "acme/provider.yaml", root / "ACME/provider.yaml")
    shutil.copy(MINI / "acme/ranker.yaml", root / "ACME/ranker.yaml")


def _case_fold_files(root: Path, outside: Path) -> None:
    shutil.copy(MINI / "acme/feed.yaml", root / "acme/Feed.yaml")


def _symlink_file_outside(root: Path, outside: Path) -> None:
    shutil.copy(MINI / "acme/feed.yaml", outside / "feed.yaml")  # valid: only the link is wrong
    (root / "acme/feed.yaml").unlink()
    os.symlink(outside / "feed.yaml", root / "acme/feed.yaml")


def _symlink_folder_outside(root: Path, outside: Path) -> None:
    shutil.copytree(MINI / "acme", outside / "evil")
    (outside / "evil/provider.yaml").write_text(
        (MINI / "acme/provider.yaml").read_text("utf-8").replace("id: acme", "id: evil"), "utf-8"
    )
    os.symlink(outside / "evil", root / "evil")


def _symlink_site_yaml(root: Path, outside: Path) -> None:
    shutil.move(root / "site.yaml", outside / "site.yaml")
    os.symlink(outside / "site.yaml", root / "site.yaml")


def _symlink_provider_yaml(root: Path, outside: Path) -> None:
    shutil.move(root / "acme/provider.yaml", outside / "provider.yaml")
    os.symlink(outside / "provider.yaml", root / "acme/provider.yaml")


def _symlink_device(root: Path, outside: Path) -> None:
    os.symlink("/dev/zero", root / "acme/zero.yaml")


def _symlink_folder_in_provider(root: Path, outside: Path) -> None:
    (outside / "etc").mkdir()
    (outside / "etc/passwd.yaml").write_text("root: x\n", "utf-8")
    os.symlink(outside / "etc", root / "acme/etc")


def _fifo(root: Path, outside: Path) -> None:
    os.mkfifo(root / "acme/pipe.yaml")  # reading it would block forever


GENERATORS: dict[str, Callable[[Path, Path], None]] = {
    "size-50mb": _size_50mb,
    "folder-name-traversal": _folder_name_traversal,
    "folder-name-lookalike": _folder_name_lookalike,
    "case-fold-folders": _case_fold_folders,
    "case-fold-files": _case_fold_files,
    "symlink-file-outside": _symlink_file_outside,
    "symlink-folder-outside": _symlink_folder_outside,
    "symlink-site-yaml": _symlink_site_yaml,
    "symlink-provider-yaml": _symlink_provider_yaml,
    "symlink-device": _symlink_device,
    "symlink-folder-in-provider": _symlink_folder_in_provider,
    "fifo": _fifo,
}


def make_registry(case: dict[str, Any], base: Path) -> Path:
    """``base/disclosures``: the mini registry with the case's hostile files put in."""
    root = base / "disclosures"
    outside = base / "outside"
    shutil.copytree(MINI, root)
    outside.mkdir()
    for target, name in case.get("files", {}).items():
        shutil.copy(CORPUS / name, root / target)
    if "generate" in case:
        GENERATORS[case["generate"]](root, outside)
    return root


def digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- the command line ----------------------------------------------------------------------------


@dataclass
class CliRun:
    base: Path
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)


# One case of every kind, run as a separate process.
SUBPROCESS = [
    "url-javascript",
    "url-entity-encoded",
    "channel-injection",
    "text-payloads",
    "id-path-traversal",
    "filing-number-traversal",
    "case-fold-folders",
    "symlink-file-outside",
    "symlink-folder-outside",
    "fifo",
    "alias-bomb",
    "duplicate-key",
    "deep-nesting-flow",
    "tag-python-object",
    "many-errors",
    "size-50mb",
    "binary-png",
    "encoding-gbk",
    "byte-order-mark",
    "nul-byte",
    "bidi-override",
    "terminal-escape",
]


@pytest.fixture(scope="module")
def previous_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    previous = tmp_path_factory.mktemp("previous") / "_site"
    build_site(MINI, previous)
    return previous


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory, previous_site: Path) -> dict[str, CliRun]:
    """The SUBPROCESS cases through ``python build.py build``, over a previously built site."""
    previous = previous_site
    runs: dict[str, CliRun] = {}
    for name in SUBPROCESS:
        case = CASES[name]
        base = tmp_path_factory.mktemp(name)
        make_registry(case, base)
        if case.get("expect") != "accept":
            shutil.copytree(previous, base / "_site")
        runs[name] = CliRun(base, before=digest_tree(base / "_site"))

    def run(name: str) -> None:
        entry = runs[name]
        proc = subprocess.run(
            [sys.executable, str(ROOT / "build.py"), "build", "--source", "disclosures"],
            cwd=entry.base,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        entry.returncode, entry.stdout, entry.stderr = proc.returncode, proc.stdout, proc.stderr
        entry.after = digest_tree(entry.base / "_site") if (entry.base / "_site").exists() else {}
        entry.leftovers = sorted(p.name for p in entry.base.iterdir() if p.name.startswith("."))

    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) * 2) as pool:
        list(pool.map(run, runs))
    return runs


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if ": error: " in line]


REFUSED = [name for name, case in CASES.items() if case.get("expect") != "accept"]
ACCEPTED = [name for name, case in CASES.items() if case.get("expect") == "accept"]


@pytest.mark.parametrize("name", [n for n in SUBPROCESS if n in REFUSED])
def test_cli_refuses_with_a_clear_error_and_keeps_the_site(
    name: str, cli_runs: dict[str, CliRun]
) -> None:
    case, run = CASES[name], cli_runs[name]
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "Traceback" not in output
    errors = error_lines(run.stderr)
    for expected in case["errors"]:
        assert any(expected in line for line in errors), (expected, errors)
    assert len(errors) == case.get("count", len(case["errors"])), errors
    assert f"error: {len(errors)} error(s) in the registry" in run.stderr
    assert run.after == run.before  # the previous site, byte for byte
    assert run.leftovers == []  # no staging folder was even started


@pytest.mark.parametrize("name", REFUSED)
def test_in_process_refusal_is_fast_and_writes_nothing(
    name: str, tmp_path: Path, previous_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    source = make_registry(case, tmp_path)
    expected_count = case.get("count", len(case["errors"]))
    started = time.perf_counter()
    report = check(source)
    elapsed = time.perf_counter() - started
    assert elapsed < LIMIT_SECONDS, f"validation took {elapsed:.2f}s"
    errors = [d.format_text() for d in report.errors]
    for expected in case["errors"]:
        assert any(expected in line for line in errors), (expected, errors)
    assert len(errors) == expected_count, errors
    out = tmp_path / "_site"
    with pytest.raises(InvalidInput):
        build_site(source, out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disclosures", "outside"]
    # The command line's own error path, over an existing site.
    shutil.copytree(previous_site, out)
    before = digest_tree(out)
    capsys.readouterr()
    assert main(["build", "--source", str(source), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert len(error_lines(captured.err)) == expected_count
    assert f"error: {expected_count} error(s) in the registry" in captured.err
    assert digest_tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site", "disclosures", "outside"]


# -- payloads in text: accepted, and inert in every page ----------------------------------------


def assert_inert(site: Path) -> str:
    """No active content from the files in any page; returns the text of all pages."""
    text = []
    for page in html_files(site):
        doc = soup(page)
        for tag in doc.find_all(
            ["script", "iframe", "img", "style", "object", "embed", "svg", "math", "base", "form"]
        ):
            if tag.name == "script":
                assert tag.get("src", "").endswith(".js") and not tag.string, (page, tag)
                assert "//" not in tag["src"], (page, tag)
            elif tag.name == "form":
                assert tag.get("role") == "search", (page, tag)  # the site's own search box
            else:
                raise AssertionError(f"{page}: <{tag.name}> from input")
        for tag in doc.find_all(True):
            assert not [a for a in tag.attrs if a.lower().startswith("on")], (page, tag)
            for attr in ("href", "src", "action", "formaction", "poster", "data"):
                value = str(tag.get(attr, "")).strip().lower()
                assert not value.startswith(("javascript:", "data:", "vbscript:")), (page, tag)
                assert not value.startswith(("//", "\\\\")), (page, tag)
        refresh = doc.find("meta", attrs={"http-equiv": "refresh"})
        if refresh is not None:
            assert "://" not in refresh["content"] and "javascript" not in refresh["content"]
        text.append(doc.get_text())
    return "\n".join(text)


@pytest.mark.parametrize("name", ACCEPTED)
def test_text_payloads_build_and_stay_text(
    name: str, tmp_path: Path, cli_runs: dict[str, CliRun]
) -> None:
    if name in cli_runs:
        run = cli_runs[name]
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
        site = run.base / "_site"
    else:
        site = tmp_path / "_site"
        build_site(make_registry(CASES[name], tmp_path), site)
    shown = assert_inert(site)
    # The payloads are there, as text a reader can see.
    assert "<script>alert(1)</script>" in shown
    assert "{{ 7*7 }}" in shown and "{% raw %}" in shown


# -- the table itself --------------------------------------------------------------------------


def test_every_corpus_file_has_a_case() -> None:
    used = {name for case in TABLE for name in case.get("files", {}).values()}
    present = {p.name for p in CORPUS.iterdir() if p.name != "cases.toml"}
    assert present == used
    assert set(GENERATORS) == {case["generate"] for case in TABLE if "generate" in case}
    assert set(SUBPROCESS) <= set(CASES)
    assert len(CASES) == len(TABLE)  # names are unique


def test_corpus_covers_the_issue() -> None:
    """The kinds of hostile input the registry promises to handle, each with a case."""
    names = set(CASES)
    for kind in (
        "url-javascript",
        "url-data",
        "url-protocol-relative",
        "url-entity-encoded",
        "text-payloads",
        "alias-bomb",
        "duplicate-key",
        "deep-nesting-flow",
        "size-50mb",
        "binary-png",
        "encoding-gbk",
        "byte-order-mark",
        "nul-byte",
        "bidi-override",
        "zero-width-space",
        "id-path-traversal",
        "symlink-file-outside",
        "symlink-folder-outside",
        "case-fold-folders",
        "case-fold-files",
    ):
        assert kind in names


def test_security_doc_states_the_real_limits() -> None:
    """docs/security.md quotes the limits and the policy; they must be the ones in force."""
    from sitegen.load import MAX_DEPTH, MAX_FILE_BYTES, MAX_INT_DIGITS, MAX_NODES
    from sitegen.pipeline import CSP
    from sitegen.validate import MAX_ERRORS_PER_FILE

    doc = " ".join((ROOT / "docs/security.md").read_text("utf-8").split())
    assert f"At most {MAX_FILE_BYTES:,} bytes per file" in doc
    assert f"nesting at most {MAX_DEPTH} levels" in doc
    assert f"at most {MAX_NODES:,} keys and values" in doc
    assert f"integers at most {MAX_INT_DIGITS:,} digits" in doc
    assert f"At most {MAX_ERRORS_PER_FILE} errors are listed per file" in doc
    assert CSP in doc
