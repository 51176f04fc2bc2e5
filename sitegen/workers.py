"""Worker processes over the cores: how many are worth forking, and the pool that parses files.

Apart from the stages that use it (validate, history, compare) so that a check imports
only what it runs: the history's content and diff modules cost a quarter of its imports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context

PARALLEL_MIN = 1000  # files; below this, starting worker processes costs more than it saves


def cores() -> int:
    """The cores this process may run on (a container or ``taskset`` may allow fewer than
    the machine has): how many worker processes are worth forking."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count() -> int:
    """Processes in a parsing pool."""
    return min(cores(), 4)


def _ready() -> None:
    """Nothing: submitted once so every worker process exists before git starts."""


@contextmanager
def parsing_pool(total: int) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for parsing ``total`` files, or None when one process is better.

    The workers are forked here, before any git process or thread exists, so they inherit
    no pipe (a copy of ``cat-file``'s stdin would keep it from ever seeing the end) and no
    lock held by another thread.  Only Linux forks safely this way; elsewhere parsing stays
    in this process.
    """
    workers = worker_count()
    if total < PARALLEL_MIN or workers < 2 or not sys.platform.startswith("linux"):
        yield None
        return
    try:
        pool = ProcessPoolExecutor(workers, mp_context=get_context("fork"))
        pool.submit(_ready).result()
    except (OSError, BrokenProcessPool):
        yield None
        return
    with pool:
        yield pool
