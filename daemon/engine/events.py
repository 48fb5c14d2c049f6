"""Pull change notifications, so ``WatchPull`` streams without busy polling."""

from __future__ import annotations

import threading


class PullEvents:
    """A counter per pull bumped on every saved change; waiters wake on it."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._versions: dict[int, int] = {}

    def bump(self, pull_id: int) -> None:
        with self._cond:
            self._versions[pull_id] = self._versions.get(pull_id, 0) + 1
            self._cond.notify_all()

    def version(self, pull_id: int) -> int:
        with self._cond:
            return self._versions.get(pull_id, 0)

    def wait(self, pull_id: int, seen: int, timeout_s: float) -> int:
        """Wait until the pull's version passes ``seen`` or ``timeout_s`` ends; returns the version."""
        with self._cond:
            self._cond.wait_for(lambda: self._versions.get(pull_id, 0) != seen, timeout=timeout_s)
            return self._versions.get(pull_id, 0)
