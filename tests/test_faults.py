"""Faults: killed builds, full disks and permission errors never cost the previous site, and
the smallest registries build.

Everything here runs the real command line in separate processes: SIGKILL at random moments
(seeded, so a failure can be replayed), a real "No space left on device" from a small tmpfs in
a private mount namespace, and real "Permission denied" errors for root by dropping the
capabilities that let root ignore permission bits.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sitegen.linkcheck import check_links
from sitegen.pipeline import build_site

ROOT = Path(__file__).resolve().parent.parent
MINI = Path(__file__).resolve().parent / "fixtures" / "mini"
BUILD = [sys.executable, str(ROOT / "build.py"), "build", "--quiet"]
SEED = int(os.environ.get("SITEGEN_FAULT_SEED", "20240301"))


def digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def make_large_registry(target: Path, copies: int, title: str = "测试登记册") -> Path:
    """``copies`` providers like tests/fixtures/mini's acme, each with its two disclosures."""
    shutil.copytree(MINI, target)
    site = (target / "site.yaml").read_text("utf-8")
    (target / "site.yaml").write_text(site.replace("测试登记册", title), "utf-8")
    acme = target / "acme"
    for k in range(copies):
        folder = target / f"acme-{k:03d}"
        folder.mkdir()
        provider = (acme / "provider.yaml").read_text("utf-8")
        (folder / "provider.yaml").write_text(provider.replace("id: acme", ""), "utf-8")
        feed = (acme / "feed.yaml").read_text("utf-8")
        number = f"网信算备{k + 2:021d}号"
        (folder / "feed.yaml").write_text(
            feed.replace("网信算备110108000000000000001号", number), "utf-8"
        )
        shutil.copy(acme / "ranker.yaml", folder / "ranker.yaml")
    return target


def staging_dirs(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.*-*"))


# -- SIGKILL at random moments --------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_at_random_points_never_leaves_a_half_written_site(tmp_path: Path) -> None:
    old_source = make_large_registry(tmp_path / "old", 90, "旧登记册")
    new_source = make_large_registry(tmp_path / "new", 90, "新登记册")
    out = tmp_path / "_site"
    build_site(old_source, out)
    old = digest_tree(out)
    reference = tmp_path / "reference"
    build_site(new_source, reference)
    new = digest_tree(reference)
    assert len(old) > 500 and old != new

    # Timing runs (the faster of two, as the first may compile bytecode): how long a whole
    # build takes, and when writing starts.
    timings = []
    for run in range(2):
        check_out = tmp_path / f"timing-{run}" / "_site"
        started = time.monotonic()
        proc = subprocess.Popen(
            [*BUILD, "--source", str(new_source), "--out", str(check_out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seen = None
        while proc.poll() is None:
            if seen is None and staging_dirs(check_out):
                seen = time.monotonic() - started
            time.sleep(0.002)
        assert proc.returncode == 0
        assert seen is not None, "never saw the staging folder"
        timings.append((time.monotonic() - started, seen))
    total, writing_at = min(timings)
    assert total - writing_at > 0.2, f"writing took only {total - writing_at:.2f}s"

    rng = random.Random(SEED)
    killed_while_writing = 0
    for attempt in range(10):
        proc = subprocess.Popen(
            [*BUILD, "--source", str(new_source), "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        staging = out.parent / f".{out.name}.tmp-{proc.pid}"
        if attempt % 2 == 0:  # anywhere: start-up, loading, validating, rendering, writing
            time.sleep(rng.uniform(0, total * 0.9))
        else:  # somewhere while pages are being written
            deadline = time.monotonic() + 30
            while not staging.exists() and time.monotonic() < deadline:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, (total - writing_at) * 0.8))
        was_writing = staging.exists()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = digest_tree(out)
        if proc.returncode == 0:  # it finished before the signal: then the site is the new one
            assert now == new
            build_site(old_source, out)
            continue
        assert proc.returncode == -signal.SIGKILL
        assert now in (old, new), (
            f"attempt {attempt}: a killed build left a mixed site: "
            f"{sorted(k for k in now if now.get(k) != old.get(k))[:5]} differ from the old site, "
            f"{sorted(k for k in now if now.get(k) != new.get(k))[:5]} from the new, "
            f"{len(set(old) ^ set(now))} names differ"
        )
        if now == new:  # killed after the atomic swap, while it removed the old site
            build_site(old_source, out)
            continue
        killed_while_writing += was_writing
    assert killed_while_writing >= 4, killed_while_writing

    # The next normal build succeeds, clears every killed build's staging folder, and writes
    # exactly what a clean build writes.
    assert staging_dirs(out)
    result = subprocess.run(
        [*BUILD, "--source", str(new_source), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert staging_dirs(out) == []
    assert digest_tree(out) == new


# -- disk full -------------------------------------------------------------------------------------

DISK_FULL = r"""
import json, hashlib, subprocess, sys
from pathlib import Path

mount, small, large, size = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], check=True)
build = [sys.executable, sys.argv[5], "build", "--quiet"]
out = mount / "_site"

def digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}

def run(source):
    return subprocess.run(build + ["--source", source, "--out", str(out)],
                          capture_output=True, text=True)

first = run(small)
before = digest(out)
second = run(large)
after = digest(out)
left = sorted(p.name for p in mount.iterdir())
print(json.dumps({"first": first.returncode, "first_err": first.stderr, "code": second.returncode,
                  "stderr": second.stderr, "same": before == after, "files": len(before),
                  "left": left}))
"""


def _namespaces_work() -> bool:
    if not shutil.which("unshare") or os.geteuid() != 0:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "true"], capture_output=True, check=False
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _namespaces_work(), reason="needs root and unshare -m for a private tmpfs")
def test_disk_full_is_a_clear_message_and_keeps_the_previous_site(tmp_path: Path) -> None:
    """A real ENOSPC: a tmpfs big enough for the small site, not for the large one as well.

    (tests/test_write.py covers the same path with RLIMIT_FSIZE where mounts are not allowed.)
    """
    small = make_large_registry(tmp_path / "small", 0)
    large = make_large_registry(tmp_path / "large", 40)
    probe = tmp_path / "probe"
    size = build_site(small, probe).bytes
    mount = tmp_path / "mnt"
    mount.mkdir()
    # Room for the small site twice over (files take whole 4 KiB pages on tmpfs).
    limit = (len(digest_tree(probe)) * 4096 + size) * 2 + 64 * 1024
    proc = subprocess.run(
        [
            "unshare",
            "-m",
            "--propagation",
            "private",
            sys.executable,
            "-c",
            DISK_FULL,
            str(mount),
            str(small),
            str(large),
            str(limit),
            str(ROOT / "build.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["first"] == 0, result["first_err"]
    assert result["files"] > 20
    assert result["code"] == 1
    assert "No space left on device" in result["stderr"]
    assert "error: cannot " in result["stderr"]
    assert "Traceback" not in result["stderr"]
    assert result["same"], "the previous site changed"
    assert result["left"] == ["_site"], "the staging folder was not removed"


# -- permission errors, even for root --------------------------------------------------------------


def _as_unprivileged(args: list[str]) -> list[str]:
    """Run ``args`` without the capabilities that let root ignore file permissions."""
    if os.geteuid() != 0:
        return args
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if os.environ.get("CI"):
            pytest.fail("setpriv (util-linux) is needed to test permission errors as root")
        pytest.skip("setpriv (util-linux) is needed to test permission errors as root")
    drop = "-dac_override,-dac_read_search,-fowner,-chown"
    return [setpriv, f"--bounding-set={drop}", f"--inh-caps={drop}", *args]


def test_unwritable_output_folder_is_a_clear_message(tmp_path: Path) -> None:
    parent = tmp_path / "www"
    out = parent / "_site"
    build_site(MINI, out)
    before = digest_tree(out)
    parent.chmod(0o555)
    try:
        proc = subprocess.run(
            _as_unprivileged([*BUILD, "--source", str(MINI), "--out", str(out)]),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        parent.chmod(0o755)
    assert proc.returncode == 1
    assert "error: cannot create" in proc.stderr and "Permission denied" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert digest_tree(out) == before
    assert staging_dirs(out) == []


def test_refused_swap_after_writing_everything_keeps_the_previous_site(tmp_path: Path) -> None:
    """Permission fails at the last step: the new site is complete but may not replace the old.

    In a sticky folder (like /tmp) owned by someone else, only an entry's owner may rename it;
    the old site belongs to another user, so the exchange is refused after every page is written.
    """
    parent = tmp_path / "shared"
    out = parent / "_site"
    build_site(MINI, out)
    before = digest_tree(out)
    owner = 4242
    for path in [parent, *parent.rglob("*")]:
        os.chown(path, owner, owner)
    parent.chmod(0o1777)
    proc = subprocess.run(
        _as_unprivileged([*BUILD, "--source", str(MINI), "--out", str(out)]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error: cannot replace" in proc.stderr
    assert "Operation not permitted" in proc.stderr or "Permission denied" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert digest_tree(out) == before
    assert staging_dirs(out) == []


def test_unreadable_disclosure_is_reported_at_its_path(tmp_path: Path) -> None:
    source = tmp_path / "disclosures"
    shutil.copytree(MINI, source)
    (source / "acme/feed.yaml").chmod(0o000)
    proc = subprocess.run(
        _as_unprivileged(
            [*BUILD, "--source", str(source), "--out", str(tmp_path / "_site")],
        ),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1
    assert "disclosures/acme/feed.yaml:1:1: error: cannot read file: Permission denied" in (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "_site").exists()


def test_unreadable_theme_file_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "themes/default", theme)
    (theme / "static/css/site.css").chmod(0o000)
    out = tmp_path / "_site"
    build_site(MINI, out)
    before = digest_tree(out)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from sitegen.pipeline import build_site\n"
        "from sitegen.diagnostics import SitegenError\n"
        "try:\n"
        "    build_site(Path(sys.argv[1]), Path(sys.argv[2]), theme_dir=Path(sys.argv[3]))\n"
        "except SitegenError as exc:\n"
        "    print(f'error: {exc}', file=sys.stderr)\n"
        "    sys.exit(1)\n"
    )
    proc = subprocess.run(
        _as_unprivileged([sys.executable, "-c", script, str(MINI), str(out), str(theme)]),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "site.css: Permission denied" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert digest_tree(out) == before
    assert staging_dirs(out) == []


# -- the smallest registries -----------------------------------------------------------------------


def _only_site_yaml(root: Path) -> None:
    for child in root.iterdir():
        if child.is_dir():
            shutil.rmtree(child)


def _provider_without_disclosures(root: Path) -> None:
    (root / "acme/feed.yaml").unlink()
    (root / "acme/ranker.yaml").unlink()


def _one_disclosure(root: Path) -> None:
    (root / "acme/ranker.yaml").unlink()


@pytest.mark.parametrize(
    ("shape", "disclosures", "providers"),
    [(_only_site_yaml, 0, 0), (_provider_without_disclosures, 0, 1), (_one_disclosure, 1, 1)],
    ids=["empty-registry", "provider-without-disclosures", "one-disclosure"],
)
def test_smallest_registries_build_with_working_links(
    tmp_path: Path, shape: object, disclosures: int, providers: int
) -> None:
    source = tmp_path / "disclosures"
    shutil.copytree(MINI, source)
    shape(source)  # type: ignore[operator]
    out = tmp_path / "_site"
    proc = subprocess.run(
        [*BUILD[:-1], "--source", str(source), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"built {disclosures} disclosures, ")
    registry = json.loads((out / "api/registry.json").read_text("utf-8"))
    assert len(registry["disclosures"]) == disclosures
    assert len(registry["providers"]) == providers
    for page in ("index.html", "en/index.html", "filings/index.html", "providers/index.html"):
        assert (out / page).is_file()
    report = check_links(out)
    assert report.findings == [], [f.format_text() for f in report.findings]
