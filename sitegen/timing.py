"""Optional per-phase wall-clock timing of a build, for the benchmark (``sitegen.bench``).

Stages mark their work with ``with phase("render"):`` or wrap a streamed iterator in
``timed(pages, "render")``.  Nothing is recorded unless a caller opened ``recording()``, so
the marks cost a context-variable lookup in a normal build.  Times are *self* times: while a
nested phase runs, the enclosing one is paused, so the phases of one build add up to its
wall-clock time and writing is not charged for the rendering it streams.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


class Timings:
    """Seconds per phase name, in the order phases first ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[str] = []
        self._since = 0.0

    def _switch(self, now: float) -> None:
        if self._stack:
            name = self._stack[-1]
            self.seconds[name] = self.seconds.get(name, 0.0) + now - self._since
        self._since = now

    def enter(self, name: str) -> None:
        self._switch(time.perf_counter())
        self.seconds.setdefault(name, 0.0)
        self._stack.append(name)

    def leave(self) -> None:
        self._switch(time.perf_counter())
        self._stack.pop()


_active: ContextVar[Timings | None] = ContextVar("sitegen_timings", default=None)


@contextmanager
def recording() -> Iterator[Timings]:
    """Record the phases run inside the block."""
    timings = Timings()
    token = _active.set(timings)
    try:
        yield timings
    finally:
        _active.reset(token)


@contextmanager
def phase(name: str) -> Iterator[None]:
    timings = _active.get()
    if timings is None:
        yield
        return
    timings.enter(name)
    try:
        yield
    finally:
        timings.leave()


def timed(items: Iterable[T], name: str) -> Iterator[T]:
    """Yield from ``items``, charging the time spent producing each item to ``name``."""
    timings = _active.get()
    if timings is None:
        yield from items
        return
    iterator = iter(items)
    while True:
        timings.enter(name)
        try:
            item = next(iterator)
        except StopIteration:
            return
        finally:
            timings.leave()
        yield item
