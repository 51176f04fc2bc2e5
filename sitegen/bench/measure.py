"""Run one command in a fresh process and measure it: wall clock, peak memory, exit status.

CPU time (user + system, from the same ``wait4``) is reported beside the wall clock because
a shared machine's load stretches wall-clock times far more than CPU time; a slow moment of
the host stretches CPU time too, which the yardstick (``sitegen.bench.yardstick``) shows.

Peak memory is reported two ways.  ``maxrss`` is the kernel's exact high-water mark of the
largest single process in the tree (``wait4``'s ``ru_maxrss``).  ``tree_rss`` is the largest
memory of the process and all its descendants together, sampled from ``/proc`` (Linux only;
None elsewhere): what a process pool really holds at once (shared pages counted once), but a
spike shorter than the sampling interval can be missed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.1
PSS_SAMPLE_SECONDS = 0.5
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class Measured:
    command: list[str]
    returncode: int
    seconds: float
    maxrss: int  # bytes, largest single process
    tree_rss: int | None  # bytes, largest sampled sum over the process tree
    cpu: float  # user + system seconds of the process and its reaped descendants
    stdout: str
    stderr: str
    timed_out: bool = False
    # CPU milliseconds of the yardstick (sitegen.bench.yardstick) measured just before the
    # run: how quick the machine was then.  None where it was not measured.
    yardstick_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def _tree(root: int) -> dict[int, int]:
    """``root`` and its descendants with their resident bytes, from one pass over /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2 :].split()  # the name may hold spaces
        pid, ppid = int(entry.name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * _PAGE
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        tree[pid] = rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return tree


def _pss(pid: int) -> int | None:
    """Proportional set size: a forked worker's pages shared with its parent count once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


class _Sampler(threading.Thread):
    """Samples the tree's memory: RSS while it is one process, PSS once it has several.

    Summing the RSS of forked workers would count the pages they share with their parent
    several times; PSS divides them.  Reading PSS costs the kernel a page-table walk (about
    10 ms for 1.5 GB), so it is sampled less often.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            tree = _tree(self.pid)
            if len(tree) == 1:
                self.peak = max(self.peak, sum(tree.values()))
                self.stop.wait(SAMPLE_SECONDS)
                continue
            total = 0
            for pid, rss in tree.items():
                pss = _pss(pid)
                total += rss if pss is None else pss
            self.peak = max(self.peak, total)
            self.stop.wait(PSS_SAMPLE_SECONDS)


def run(
    command: Sequence[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    memory_limit: int | None = None,
) -> Measured:
    """Run ``command`` to completion (or ``timeout`` seconds, then kill it) and measure it.

    ``memory_limit`` caps the process's address space (bytes), so a tool that would exhaust a
    shared machine's memory fails alone instead of waking the kernel's OOM killer.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
            preexec_fn=_limit(memory_limit) if memory_limit else None,
        )
        sampler = _Sampler(proc.pid) if os.path.exists("/proc/self/stat") else None
        if sampler is not None:
            sampler.start()
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer is not None:
            timer.start()
        # wait4 reaps the child and gives its own resource usage (its peak RSS, not the
        # running maximum over every child this process ever had).
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if timer is not None:
            timer.cancel()
        if sampler is not None:
            sampler.stop.set()
            sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return Measured(
        list(command),
        proc.returncode,
        seconds,
        usage.ru_maxrss * 1024,  # kilobytes on Linux
        sampler.peak if sampler is not None else None,
        usage.ru_utime + usage.ru_stime,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
        expired.is_set(),
    )


def _limit(size: int) -> Callable[[], None]:
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return apply


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
