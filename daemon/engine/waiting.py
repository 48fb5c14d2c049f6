"""Waiting inside a pull: interruptible, and shown on the pull.

A channel's paced client waits on the clock it is given (for its allowance,
a ``Retry-After``, a backoff); a plugin never sleeps by itself. The daemon
gives the channels and the shared limiters a :class:`PullClock`. On a worker
thread running a pull, its ``sleep``:

* wakes when the pull is asked to stop (shutdown) and raises
  :class:`StopRequested`, so a pull waiting for Etsy's daily quota does not
  hold a SIGTERM past its grace period; the pull then goes back to the queue
  with its last committed checkpoint;
* records a wait of :data:`WAIT_SHOWN_S` or more on the pull row
  (``waiting_reason``, shown by ``GetPull``/``WatchPull``) while it lasts
  (QUALITY R2: "the pull waits for the quota and says so in its status").

Anywhere else (the connect call, tests) it is the plain clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from makersync.plugins.clock import Clock

log = structlog.get_logger("makersync.engine")

WAIT_SHOWN_S = 5.0
SLICE_S = 0.25


class StopRequested(Exception):
    """The pull was asked to stop at its page boundary."""


@dataclass
class _PullWait:
    is_stopping: Callable[[], bool]
    report: Callable[[str], None]


class PullClock:
    """A clock whose sleeps, on a thread bound to a pull, stop with the pull
    and say that the pull is waiting."""

    def __init__(self, base: Clock) -> None:
        self.base = base
        self._local = threading.local()

    def now(self) -> datetime:
        return self.base.now()

    def monotonic(self) -> float:
        return self.base.monotonic()

    def sleep(self, seconds: float) -> None:
        wait: _PullWait | None = getattr(self._local, "wait", None)
        if wait is None or seconds <= 0:
            self.base.sleep(seconds)
            return
        shown = seconds >= WAIT_SHOWN_S
        if shown:
            until = self.base.now() + timedelta(seconds=seconds)
            self._report(wait, f"waiting for the channel's allowance (rate limit or quota) until "
                               f"{until:%Y-%m-%d %H:%M:%S} UTC ({seconds:.0f} s)")
        try:
            remaining = seconds
            while remaining > 0:
                if wait.is_stopping():
                    raise StopRequested
                step = min(remaining, SLICE_S)
                self.base.sleep(step)
                remaining -= step
        finally:
            if shown:
                self._report(wait, "")

    @staticmethod
    def _report(wait: _PullWait, reason: str) -> None:
        try:
            wait.report(reason)
        except Exception:  # showing the reason is best effort; the pull goes on
            log.warning("could not record why the pull waits", exc_info=True)

    @contextmanager
    def bound(self, is_stopping: Callable[[], bool], report: Callable[[str], None]) -> Iterator[None]:
        """Bind this thread's sleeps to one pull for the block."""
        previous = getattr(self._local, "wait", None)
        self._local.wait = _PullWait(is_stopping, report)
        try:
            yield
        finally:
            self._local.wait = previous
