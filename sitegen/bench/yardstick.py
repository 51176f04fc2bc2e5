"""A fixed workload, timed before each measured run: how quick the machine was at the time.

On a shared machine the same code's times move by a fifth or more from one hour to the next,
CPU time included (other guests on the host, frequency scaling).  The benchmark records the
CPU time of one unchanging piece of work beside each run's figures, so runs made at
different moments can be told apart: a run whose yardstick took much longer fell on a
slower moment, whatever the code did.  The yardstick moves from second to second too, so it
places a run; it does not correct its figures.

The work is plain Python of the kind the pipeline does (building strings, dictionaries,
regular-expression scans, sorting), with nothing from this package, so that a change to
the package cannot move the yardstick.
"""

from __future__ import annotations

import gc
import re
import statistics
import time

REPEATS = 9
_SIZE = 20_000
_WORDS = re.compile(r"[a-z]+\d+")


def workload(size: int = _SIZE) -> int:
    """One round of the fixed work; its result only keeps the work from being skipped."""
    words = [f"w{i % 997:x}q{i}" for i in range(size)]
    counts: dict[str, int] = {}
    for word in words:
        head = word[:4]
        counts[head] = counts.get(head, 0) + 1
    text = " ".join(words)
    found = _WORDS.findall(text)
    ordered = sorted(found, key=lambda w: (len(w), w[::-1]))
    return len(counts) + len(ordered) + len(ordered[-1])


def measure(repeats: int = REPEATS, size: int = _SIZE) -> float:
    """The median CPU milliseconds of ``repeats`` rounds.

    The cyclic collector is paused meanwhile: when its passes fall depends on what the
    process allocated before, which made rounds differ by half (and the pipeline pauses it
    too while it checks files).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        workload(size)  # warm up: the first round pays for growing the heap the others reuse
        rounds: list[float] = []
        for _ in range(repeats):
            started = time.process_time()
            workload(size)
            rounds.append((time.process_time() - started) * 1000)
    finally:
        if collecting:
            gc.enable()
    return statistics.median(rounds)
