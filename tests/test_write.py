"""Writing: identical output for identical input, and an old site that survives any failure."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.diagnostics import InvalidInput, OutputError
from sitegen.pipeline import build_site
from sitegen.write import MARKER, Manifest, SiteWriter, UnitFiles


def digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_two_builds_are_byte_identical(tmp_path: Path, mini: Path) -> None:
    build_site(mini, tmp_path / "a")
    build_site(mini, tmp_path / "b")
    a, b = digest_tree(tmp_path / "a"), digest_tree(tmp_path / "b")
    assert len(a) > 20
    assert a == b


def test_failed_build_leaves_the_previous_site(tmp_path: Path, mini: Path) -> None:
    out = tmp_path / "_site"
    build_site(mini, out)
    before = digest_tree(out)
    (mini / "acme/feed.yaml").write_text("name: [unclosed\n", "utf-8")
    with pytest.raises(InvalidInput):
        build_site(mini, out)
    assert digest_tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_error_while_writing_keeps_the_old_site_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    with SiteWriter(out) as writer:
        writer.write("index.html", b"old")
    with pytest.raises(RuntimeError), SiteWriter(out) as writer:
        writer.write("index.html", b"new")
        raise RuntimeError("render failed half way")
    assert (out / "index.html").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]


def test_rebuild_replaces_whole_site(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    with SiteWriter(out) as writer:
        writer.write("gone.html", b"x")
    with SiteWriter(out) as writer:
        writer.write("index.html", b"y")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "index.html"]


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path: Path, mini: Path) -> None:
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not made by sitegen"):
        build_site(mini, precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_refuses_paths_outside_the_output(tmp_path: Path) -> None:
    with pytest.raises(OutputError), SiteWriter(tmp_path / "_site") as writer:
        writer.write("../evil.html", b"x")
    assert not (tmp_path / "evil.html").exists()
    with pytest.raises(OutputError, match="outside"), SiteWriter(tmp_path / "_site") as writer:
        writer.write("a\0b.html", b"x")  # a NUL separates paths in the stored manifest


def test_a_manifest_comes_back_as_it_was_stored() -> None:
    paths = ["algorithms/p/a/index.html", "en/algorithms/p/a/index.html", "api/p/a.json"]
    units = {"d:p/a": UnitFiles.of("k1", paths, 0, 9), "c:1": UnitFiles.of("k2", [])}
    manifest = Manifest("b1", units, {"index.html": ("d", 4)})
    again = Manifest.from_data(*manifest.to_data())
    assert again == manifest
    assert again is not None and again.units["d:p/a"].paths == paths
    assert again.units["c:1"].paths == []
    assert (again.units["d:p/a"].count, again.units["d:p/a"].pages) == (3, 2)
    assert Manifest.from_data({"x": ("k", 3, 1, 0, 0)}, {"build": "b", "shared": {}}) is None
    assert Manifest.from_data({"x": ("k", "a", 1)}, {"build": "b", "shared": {}}) is None
    assert Manifest.from_data({}, None) is None


def test_write_failure_is_a_clear_message_and_keeps_the_old_site(
    tmp_path: Path, mini: Path
) -> None:
    """A file-size limit makes writes fail as a full disk would, even for root."""
    out = tmp_path / "_site"
    build_site(mini, out)
    before = digest_tree(out)
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))\n"
        "from sitegen.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "build", "--source", str(mini), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "error: cannot write" in proc.stderr and "File too large" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert digest_tree(out) == before
    assert not any(p.name.startswith("._site.") for p in tmp_path.iterdir())


def test_killed_build_leaves_previous_output(tmp_path: Path, mini: Path) -> None:
    """SIGKILL mid-write: the old site stays whole and the next build cleans the staging."""
    out = tmp_path / "_site"
    build_site(mini, out)
    before = digest_tree(out)
    script = (
        "import os, sys, signal\n"
        "from pathlib import Path\n"
        "from sitegen.write import SiteWriter\n"
        "with SiteWriter(Path(sys.argv[1])) as w:\n"
        "    w.write('index.html', b'partial')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(out)], check=False)
    assert proc.returncode == -9
    assert digest_tree(out) == before
    assert any(p.name.startswith("._site.tmp-") for p in tmp_path.iterdir())
    build_site(mini, out)
    assert not any(p.name.startswith("._site.") for p in tmp_path.iterdir())


def _site(
    out: Path, previous: Manifest | None, units: dict[str, tuple[str, list[str]]]
) -> Manifest:
    """Write units (name -> key, paths) as the pipeline does, keeping what ``reuse`` keeps."""
    with SiteWriter(out, previous) as writer:
        for name, (key, paths) in units.items():
            kept = writer.reuse(name, key)
            if kept is None:
                sink = writer.sink.fresh()
                written = [sink.put(p, f"{name} {key}".encode()) for p in paths]
                kept = UnitFiles.of(key, written)
            writer.add_unit(name, kept)
        writer.write("index.html", b"home")
        writer.build = f"build {len(units)} {sorted(units.items())}"
        manifest = writer.manifest()
    return manifest


def test_an_update_deletes_what_units_lost_but_not_what_moved_to_another(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    first = _site(
        out,
        None,
        {
            "a": ("a1", ["a/index.html", "f/1/index.html"]),
            "b": ("b1", ["b/index.html"]),
            "c": ("c1", ["c/index.html", "c/feed.xml"]),
            "d": ("d1", ["d/index.html"]),
        },
    )
    # a's filing-number page moves to b; c goes; d is kept as it was; e is new.
    _site(
        out,
        first,
        {
            "a": ("a2", ["a/index.html"]),
            "b": ("b2", ["b/index.html", "f/1/index.html"]),
            "d": ("d1", ["d/index.html"]),
            "e": ("e1", ["e/index.html"]),
        },
    )
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    kept = ["a/index.html", "b/index.html", "f/1/index.html", "d/index.html", "e/index.html"]
    assert files == sorted([MARKER, "index.html", *kept])
    assert (out / "f/1/index.html").read_bytes() == b"b b2"
    assert (out / "d/index.html").read_bytes() == b"d d1"  # kept, not written again
    assert not (out / "c").exists()
