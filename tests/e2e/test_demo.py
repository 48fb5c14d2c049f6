"""Issue 9: the demo's steps, run against a temporary directory, with its
summary checked against the simulators' ground truth."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from makersync.clients import demo

pytestmark = pytest.mark.e2e


def test_demo_summary_equals_the_simulators_ground_truth(tmp_path: Path) -> None:
    """make demo: every order and refund of the three shops reaches the books
    (R14), matching shows products shared across channels (R9), the same manual
    pull changes nothing (R14), and the hidden Etsy refund is found by the
    automatic pull (R5); the daemon exits cleanly."""
    result = demo.run(tmp_path / ".demo")
    figures = result["figures"]
    assert set(result["initial_states"].values()) == {"PULL_STATE_SUCCEEDED"}
    for channel, sim in result["sims"].items():
        orders = sim.truth()[0]
        # the refund the demo adds later is not in the initial figures
        want_refunded = sum((o.refunded for o in orders), Decimal(0)) - (Decimal("7.50") if channel == "etsy" else 0)
        assert figures[channel]["orders"] == len(orders), channel
        assert figures[channel]["lines"] == sum(len(o.lines) for o in orders), channel
        assert figures[channel]["refunded"] == want_refunded, channel
    want_fees = sum((f.amount for sim in result["sims"].values() for f in sim.truth()[2]), Decimal(0))
    assert figures["_fees"]["total"] == want_fees
    assert figures["_products"]["shared"] > 0 and figures["_products"].get("sku", 0) > 0
    manual = result["manual_counts"]
    assert manual.orders_created == manual.orders_updated == 0 and manual.orders_unchanged > 0
    before, after = result["refund_found"]
    assert Decimal(after) == Decimal(before or "0") + Decimal("7.50")
    assert result["daemon_exit"] == 0
    db_file = tmp_path / ".demo" / "data" / "makersync.db"
    assert db_file.exists()
    import sqlite3

    with sqlite3.connect(db_file) as books:
        # the shops are gone after the demo: a daemon started on its books pulls nothing on a schedule
        assert books.execute("SELECT count(*) FROM integrations WHERE automatic_updates").fetchone()[0] == 0
