"""The command line as a user runs it: exit codes, messages, defaults relative to the cwd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import CliRunner


def test_build_from_current_directory(tmp_path: Path, mini: Path, cli: CliRunner) -> None:
    result = cli()  # no arguments: build disclosures/ into _site/
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("built 2 disclosures, ")
    assert (tmp_path / "_site/index.html").exists()
    assert (tmp_path / "_site/en/algorithms/acme/feed/index.html").exists()


def test_build_subcommand_with_options(tmp_path: Path, mini: Path, cli: CliRunner) -> None:
    result = cli(
        "build",
        "--source",
        str(mini),
        "--out",
        "public",
        "--base-url",
        "https://mirror.example/registry",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    robots = (tmp_path / "public/robots.txt").read_text()
    assert "https://mirror.example/registry/sitemap.xml" in robots


def test_invalid_input_exits_1_with_positions_not_traceback(
    tmp_path: Path, mini: Path, cli: CliRunner
) -> None:
    (mini / "acme/feed.yaml").write_text("id: feed\nname: {zh: x\n", "utf-8")
    for args in (("validate",), ("build",)):
        result = cli(*args)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr + result.stdout
        assert "disclosures/acme/feed.yaml:3:1: error: YAML syntax" in result.stdout + result.stderr
    assert not (tmp_path / "_site").exists()


def test_validate_clean_exit_0(mini: Path, cli: CliRunner) -> None:
    result = cli("validate")
    assert result.returncode == 0
    assert "validate ok: 0 error(s)" in result.stderr


def test_validate_limits_output_to_named_files(mini: Path, cli: CliRunner) -> None:
    (mini / "acme/feed.yaml").write_text("id: feed\n", "utf-8")
    (mini / "acme/ranker.yaml").write_text("id: ranker\n", "utf-8")
    result = cli("validate", "disclosures/acme/ranker.yaml")
    assert result.returncode == 1
    assert "ranker.yaml" in result.stdout and "feed.yaml" not in result.stdout


def test_usage_errors_exit_2(cli: CliRunner) -> None:
    for args in (("frobnicate",), ("build", "--no-such-flag"), ("validate", "--format", "xml")):
        result = cli(*args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().startswith("error: sitegen")


def test_missing_source_folder(cli: CliRunner) -> None:
    result = cli("validate", "--source", "nowhere")
    assert result.returncode == 1
    assert "nowhere:1:1: error: source folder not found (pass --source DIR)" in result.stdout


def test_console_script_matches_build_py(tmp_path: Path, mini: Path) -> None:
    exe = shutil.which("sitegen")
    assert exe, "pip install -e . provides the sitegen command"
    result = subprocess.run([exe, "validate"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0
    assert "validate ok" in result.stderr


def test_the_command_ends_without_teardown_and_loses_no_output(tmp_path: Path, mini: Path) -> None:
    """The process ends as soon as the command returns (the interpreter's teardown freed a
    rebuild's objects one by one for nothing): exit handlers do not run, yet everything
    printed reaches a pipe, whole, and the exit code is the command's."""
    marker = tmp_path / "teardown-ran"
    script = (
        "import atexit, sys\n"
        "from pathlib import Path\n"
        "atexit.register(Path(sys.argv.pop(1)).write_text, 'ran')\n"
        "print('started')\n"  # left in the buffer of a pipe
        "from sitegen.cli import run\n"
        "run()\n"
    )

    # Output to a pipe is held in a buffer, as for most users (not with PYTHONUNBUFFERED).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}

    def command(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, str(marker), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = command("validate", "--source", str(mini), "--format", "json")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("started\n")
    assert json.loads(ok.stdout.removeprefix("started\n"))["errors"] == 0
    assert not marker.exists()
    (mini / "acme" / "broken.yaml").write_text("id: broken\nname: [unclosed\n", "utf-8")
    failed = command("validate", "--source", str(mini), "--format", "json")
    assert failed.returncode == 1
    assert json.loads(failed.stdout.removeprefix("started\n"))["errors"] >= 1
    assert not marker.exists()
    usage = command("frobnicate")
    assert usage.returncode == 2 and usage.stderr.startswith("error: sitegen")


def test_python_dash_m_runs_the_command(tmp_path: Path, mini: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sitegen", "validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "validate ok" in result.stderr


def test_help_lists_commands(cli: CliRunner) -> None:
    result = cli("--help")
    assert result.returncode == 0
    for name in ("build", "validate"):
        assert name in result.stdout


def test_validate_imports_none_of_the_build_stages(tmp_path: Path, mini: Path) -> None:
    """A pull request's check starts by importing: the rendering stages are not its cost."""
    script = (
        "import sys\n"
        "from sitegen.cli import main\n"
        "code = main(['validate'])\n"
        "print(' '.join(sorted(sys.modules)))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "validate ok" in result.stderr
    modules = set(result.stdout.split())
    assert {"sitegen.validate", "sitegen.quality", "sitegen.workers"} <= modules
    build_only = {"jinja2", "markdown_it", "lunr", "sitegen.render", "sitegen.history"}
    assert not modules & build_only
