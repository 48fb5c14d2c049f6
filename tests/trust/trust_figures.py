"""The figures the trust suites report (QUALITY F5, F6, R1, R2, B1, B2, O1, O2).

Every suite adds what it did with :func:`add` (``add("chaos", faults_injected=42,
pulls_run=7)``); ``tests/trust/conftest.py`` prints the totals at the end of
the session, one line per suite, so a CI log shows how hard each claim was
tested, not only that it passed.
"""

from __future__ import annotations

import threading
from collections import defaultdict

_lock = threading.Lock()
_figures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_notes: dict[str, list[str]] = defaultdict(list)


def add(suite: str, **counts: int) -> None:
    """Add ``counts`` to the suite's totals."""
    with _lock:
        for name, n in counts.items():
            _figures[suite][name] += int(n)


def note(suite: str, text: str) -> None:
    """A line of findings for the suite (printed under its figures)."""
    with _lock:
        if text not in _notes[suite]:
            _notes[suite].append(text)


def lines() -> list[str]:
    """The summary, one line per suite and one per note."""
    with _lock:
        out = []
        for suite in sorted(set(_figures) | set(_notes)):
            counts = ", ".join(f"{k} {v}" for k, v in sorted(_figures[suite].items()))
            out.append(f"{suite}: {counts}" if counts else f"{suite}:")
            out.extend(f"    {text}" for text in _notes[suite])
        return out
